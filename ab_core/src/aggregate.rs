//! The state of a two-arm test aggregate as every engine keeps it: one accumulator per arm
//! and the test settings its rows gave. Postgres stores it behind `internal` and ships it
//! between workers as [`TestState::to_bytes`]; DataFusion keeps one per group.

use crate::alternative::Alternative;
use crate::compare::TestSettings;
use crate::moments::{GroupState, TwoGroups};
use crate::Result;

/// The running state of one group of rows.
#[derive(Debug, Clone, Copy, Default)]
pub struct TestState<S> {
    pub groups: TwoGroups<S>,
    /// The first row's alpha and alternative; `None` until a row gives them.
    pub settings: Option<TestSettings>,
    /// The first row's parameter of the test, for those that take one (the mSPRT's τ², the
    /// confidence sequence's N*).
    pub parameter: Option<f64>,
}

/// Bytes after the groups: a presence flag, alpha, the alternative's code, a presence flag
/// and the parameter.
const SETTINGS_LEN: usize = 19;

impl<S: GroupState> TestState<S> {
    pub fn merge(&mut self, other: &Self) {
        self.groups.merge(&other.groups);
        self.settings = self.settings.or(other.settings);
        self.parameter = self.parameter.or(other.parameter);
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = self.groups.to_bytes();
        let settings = self.settings.unwrap_or_default();
        bytes.push(u8::from(self.settings.is_some()));
        bytes.extend_from_slice(&settings.alpha.to_le_bytes());
        bytes.push(match settings.alternative {
            Alternative::TwoSided => 0,
            Alternative::Larger => 1,
            Alternative::Smaller => 2,
        });
        bytes.push(u8::from(self.parameter.is_some()));
        bytes.extend_from_slice(&self.parameter.unwrap_or_default().to_le_bytes());
        bytes
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let split = bytes.len().checked_sub(SETTINGS_LEN)?;
        let (groups, settings) = bytes.split_at(split);
        let alternative = match settings[9] {
            0 => Alternative::TwoSided,
            1 => Alternative::Larger,
            2 => Alternative::Smaller,
            _ => return None,
        };
        let alpha = f64::from_le_bytes(settings[1..9].try_into().ok()?);
        let parameter = f64::from_le_bytes(settings[11..19].try_into().ok()?);
        Some(Self {
            groups: TwoGroups::from_bytes(groups)?,
            settings: (settings[0] == 1).then_some(TestSettings { alpha, alternative }),
            parameter: (settings[10] == 1).then_some(parameter),
        })
    }
}

impl<S> TestState<S> {
    /// Takes the first row's alpha and alternative; later rows of the group share them.
    pub fn use_settings(&mut self, alpha: f64, alternative: &str) -> Result<()> {
        if self.settings.is_none() {
            self.settings = Some(TestSettings::new(alpha, alternative)?);
        }
        Ok(())
    }

    /// Takes the first row's parameter, checked by `check`; later rows share it.
    pub fn use_parameter(&mut self, value: f64, check: impl Fn(f64) -> Result<f64>) -> Result<()> {
        if self.parameter.is_none() {
            self.parameter = Some(check(value)?);
        }
        Ok(())
    }

    /// The settings of the first row that gave any, else the defaults.
    pub fn settings_or_default(&self) -> TestSettings {
        self.settings.unwrap_or_default()
    }
}


#[cfg(test)]
mod tests {
    use super::*;
    use crate::moments::Moments;

    #[test]
    fn state_round_trips_through_bytes_with_and_without_settings() {
        let mut state = TestState::<Moments>::default();
        state.groups.group_mut(true).push(3.0);
        state.groups.group_mut(false).push(1.0);
        assert_eq!(TestState::<Moments>::from_bytes(&state.to_bytes()).map(|s| s.settings), Some(None));
        state.use_settings(0.01, "smaller").expect("valid settings");
        state.use_parameter(0.25, Ok).expect("valid parameter");
        let decoded = TestState::<Moments>::from_bytes(&state.to_bytes()).expect("decodes");
        assert_eq!(decoded.settings, state.settings);
        assert_eq!(decoded.parameter, Some(0.25));
        assert_eq!(decoded.groups, state.groups);
        assert!(TestState::<Moments>::from_bytes(&state.to_bytes()[1..]).is_none());
    }

    #[test]
    fn first_settings_win_and_bad_settings_are_rejected() {
        let mut state = TestState::<Moments>::default();
        assert_eq!(state.use_settings(0.2, "sideways").map_err(|e| e.argument), Err("alternative"));
        state.use_settings(0.1, "larger").expect("valid");
        state.use_settings(0.01, "smaller").expect("ignored");
        assert_eq!(state.settings_or_default(), TestSettings { alpha: 0.1, alternative: Alternative::Larger });
    }
}
