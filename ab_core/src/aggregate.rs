//! The state of a two-arm test aggregate as every engine keeps it: one accumulator per arm
//! and the test settings its rows gave. Postgres stores it behind `internal` and ships it
//! between workers as [`TestState::to_bytes`]; DataFusion keeps one per group.

use crate::alternative::Alternative;
use crate::compare::TestSettings;
use crate::moments::codec::{Reader, Writer};
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

/// The layout of [`TestState::to_bytes`], its first byte. A build reads only its own layout:
/// during a rolling upgrade of a Ballista cluster, executors of two builds refuse each other's
/// partial states with [`StateError::Format`] instead of misreading them. Raise it with any
/// change to the layout (codec.rs, or the fields below).
pub const STATE_FORMAT: u8 = 1;

/// Why bytes are not a state this build can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateError {
    /// Written by a build with another layout.
    Format(u8),
    /// Of the wrong length or with an impossible value.
    Corrupt,
}

impl std::fmt::Display for StateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Format(found) => write!(
                f,
                "aggregate state of format {found}, this build reads format {STATE_FORMAT}: every process of a query must run the same pg_ab build"
            ),
            Self::Corrupt => write!(f, "corrupt aggregate state"),
        }
    }
}

impl<S: GroupState> TestState<S> {
    pub fn merge(&mut self, other: &Self) {
        self.groups.merge(&other.groups);
        self.settings = self.settings.or(other.settings);
        self.parameter = self.parameter.or(other.parameter);
    }

    /// [`STATE_FORMAT`], the groups ([`GroupState`]), then whether settings were given, alpha,
    /// the alternative's code, whether a parameter was given, and the parameter.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Writer::with_capacity(1 + TwoGroups::<S>::ENCODED_LEN + 19);
        out.u8(STATE_FORMAT);
        self.groups.encode(&mut out);
        let settings = self.settings.unwrap_or_default();
        out.u8(u8::from(self.settings.is_some()));
        out.f64(settings.alpha);
        out.u8(match settings.alternative {
            Alternative::TwoSided => 0,
            Alternative::Larger => 1,
            Alternative::Smaller => 2,
        });
        out.u8(u8::from(self.parameter.is_some()));
        out.f64(self.parameter.unwrap_or_default());
        out.into_bytes()
    }

    pub fn from_bytes(bytes: &[u8]) -> std::result::Result<Self, StateError> {
        let mut input = Reader::new(bytes);
        match input.u8() {
            Some(STATE_FORMAT) => {}
            Some(other) => return Err(StateError::Format(other)),
            None => return Err(StateError::Corrupt),
        }
        Self::decode(input).ok_or(StateError::Corrupt)
    }

    fn decode(mut input: Reader<'_>) -> Option<Self> {
        let groups = TwoGroups::decode(&mut input)?;
        let has_settings = input.u8()? == 1;
        let alpha = input.f64()?;
        let alternative = match input.u8()? {
            0 => Alternative::TwoSided,
            1 => Alternative::Larger,
            2 => Alternative::Smaller,
            _ => return None,
        };
        let has_parameter = input.u8()? == 1;
        let parameter = input.f64()?;
        input.finish()?;
        Some(Self {
            groups,
            settings: has_settings.then_some(TestSettings { alpha, alternative }),
            parameter: has_parameter.then_some(parameter),
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
        assert_eq!(TestState::<Moments>::from_bytes(&state.to_bytes()).map(|s| s.settings), Ok(None));
        state.use_settings(0.01, "smaller").expect("valid settings");
        state.use_parameter(0.25, Ok).expect("valid parameter");
        let decoded = TestState::<Moments>::from_bytes(&state.to_bytes()).expect("decodes");
        assert_eq!(decoded.settings, state.settings);
        assert_eq!(decoded.parameter, Some(0.25));
        assert_eq!(decoded.groups, state.groups);
        assert_eq!(TestState::<Moments>::from_bytes(&state.to_bytes()[..40]).unwrap_err(), StateError::Corrupt);
        let mut other_build = state.to_bytes();
        other_build[0] = STATE_FORMAT + 1;
        assert_eq!(TestState::<Moments>::from_bytes(&other_build).unwrap_err(), StateError::Format(STATE_FORMAT + 1));
        assert!(TestState::<Moments>::from_bytes(&other_build).unwrap_err().to_string().contains("same pg_ab build"));
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
