//! Welch's t-test: `ab_ttest` and `ab_ttest_agg`, and the Welch core CUPED and the margin
//! tests share.

use super::{Arm, RelativeLift};
use crate::dist::{t_isf, t_sf};
use crate::error::{check_difference, check_finite, InvalidArgument, Result};
use crate::moments::{Moments, TwoGroups};
use crate::compare::TestSettings;
use crate::records::{FieldValue, ResultRecord};
use FieldValue::{Bool as BoolValue, Float as FloatValue};

/// `ab_ttest`'s result (also `ab_ttest_agg`'s).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TTest {
    pub mean_c: f64,
    pub mean_t: f64,
    pub diff: f64,
    pub rel_lift: Option<f64>,
    pub t: Option<f64>,
    pub df: Option<f64>,
    pub p_value: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub rel_ci_low: Option<f64>,
    pub rel_ci_high: Option<f64>,
    pub significant: Option<bool>,
}

/// Welch's t-test from summary statistics (scipy's `ttest_ind_from_stats(equal_var=False)`).
pub fn ttest(
    (mean_c, sd_c, n_c): (f64, f64, i64),
    (mean_t, sd_t, n_t): (f64, f64, i64),
    settings: TestSettings,
) -> Result<TTest> {
    let control = arm_from_stats(("mean_c", mean_c), ("sd_c", sd_c), ("n_c", n_c))?;
    let treatment = arm_from_stats(("mean_t", mean_t), ("sd_t", sd_t), ("n_t", n_t))?;
    Ok(welch(control, treatment, check_difference(mean_t, mean_c)?, settings))
}

pub(super) fn arm_from_stats(
    (mean_name, mean): (&'static str, f64),
    (sd_name, sd): (&'static str, f64),
    (n_name, n): (&'static str, i64),
) -> Result<Arm> {
    check_finite(mean_name, mean)?;
    if !(sd.is_finite() && sd >= 0.0) {
        return Err(InvalidArgument::new(sd_name, format!("must be a finite number >= 0, got {sd}")));
    }
    if n < 1 {
        return Err(InvalidArgument::new(n_name, format!("must be at least 1, got {n}")));
    }
    Ok(Arm { n: n as f64, mean, var: sd * sd })
}

/// Welch's t-test on accumulated values (scipy's `ttest_ind(equal_var=False)`); `None` when a
/// group is empty.
pub fn ttest_of_groups(groups: &TwoGroups<Moments>, settings: TestSettings) -> Option<TTest> {
    let control = arm_of(&groups.control)?;
    let treatment = arm_of(&groups.treatment)?;
    Some(welch(control, treatment, Moments::mean_difference(&groups.control, &groups.treatment), settings))
}

pub(super) fn arm_of(moments: &Moments) -> Option<Arm> {
    (moments.count() > 0).then(|| Arm {
        n: moments.count() as f64,
        mean: moments.mean(),
        // One value has no variance; NaN here makes every statistic that needs it undefined.
        var: moments.variance().unwrap_or(f64::NAN),
    })
}

/// The Welch test itself. `diff` comes in separately so accumulators can give it at the
/// precision of their deviations rather than of their means.
fn welch(control: Arm, treatment: Arm, diff: f64, settings: TestSettings) -> TTest {
    let test = WelchCore::new(control, treatment, diff, settings);
    let relative = RelativeLift::new(control, treatment, diff);
    let (rel_ci_low, rel_ci_high) = match test.critical {
        Some(critical) => relative.interval(settings, critical),
        None => (None, None),
    };
    TTest {
        mean_c: control.mean,
        mean_t: treatment.mean,
        diff,
        rel_lift: relative.lift,
        t: test.t,
        df: test.df,
        p_value: test.p_value,
        ci_low: test.ci.map(|ci| ci.0),
        ci_high: test.ci.map(|ci| ci.1),
        rel_ci_low,
        rel_ci_high,
        significant: test.p_value.map(|p| p < settings.alpha),
    }
}

/// t, df, p-value and the interval of `diff`; all `None` when undefined (a group of one,
/// or no variance at all).
pub(super) struct WelchCore {
    pub(super) se2: f64,
    pub(super) t: Option<f64>,
    pub(super) df: Option<f64>,
    pub(super) p_value: Option<f64>,
    pub(super) critical: Option<f64>,
    pub(super) ci: Option<(f64, f64)>,
}

impl WelchCore {
    pub(super) fn new(control: Arm, treatment: Arm, diff: f64, settings: TestSettings) -> Self {
        let vn_c = control.var / control.n;
        let vn_t = treatment.var / treatment.n;
        let se2 = welch_variance(control, treatment);
        let df = welch_df(se2, vn_c, control.n, vn_t, treatment.n);
        if !(se2 > 0.0 && se2.is_finite() && df.is_finite() && df > 0.0) {
            return Self { se2, t: None, df: None, p_value: None, critical: None, ci: None };
        }
        let se = se2.sqrt();
        let t = diff / se;
        let critical = t_isf(settings.alternative.tail_alpha(settings.alpha), df);
        Self {
            se2,
            t: Some(t),
            df: Some(df),
            p_value: Some(settings.alternative.p_value(t, |x| t_sf(x, df))),
            critical: Some(critical),
            ci: Some(settings.alternative.interval(diff, critical, se)),
        }
    }
}

/// Welch–Satterthwaite degrees of freedom of `se2 = vn_c + vn_t` (`vn = var / n` per arm).
pub(super) fn welch_df(se2: f64, vn_c: f64, n_c: f64, vn_t: f64, n_t: f64) -> f64 {
    se2 * se2 / (vn_t * vn_t / (n_t - 1.0) + vn_c * vn_c / (n_c - 1.0))
}

/// The variance of the difference in means, `v_t/n_t + v_c/n_c`.
pub(super) fn welch_variance(control: Arm, treatment: Arm) -> f64 {
    treatment.var / treatment.n + control.var / control.n
}

impl ResultRecord for TTest {
    const RECORD: &'static crate::records::Record = &crate::records::TTEST;
    fn values(&self) -> Vec<FieldValue> {
        vec![
            FloatValue(Some(self.mean_c)), FloatValue(Some(self.mean_t)), FloatValue(Some(self.diff)),
            FloatValue(self.rel_lift), FloatValue(self.t), FloatValue(self.df), FloatValue(self.p_value),
            FloatValue(self.ci_low), FloatValue(self.ci_high),
            FloatValue(self.rel_ci_low), FloatValue(self.rel_ci_high), BoolValue(self.significant),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn means_whose_difference_overflows_are_bad_input() {
        let error = ttest((-1e308, 1.0, 10), (1e308, 1.0, 10), TestSettings::default()).unwrap_err();
        assert_eq!(error.argument, "mean_t");
        assert!(ttest((-1e307, 1.0, 10), (1e307, 1.0, 10), TestSettings::default()).unwrap().diff.is_finite());
    }
}
