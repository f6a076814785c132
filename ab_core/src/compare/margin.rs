//! Tests against a margin (docs/statistics.md, "Tests against a margin"): is the treatment no
//! worse than the control by `margin` or more (non-inferior), or worse by more than that
//! (inferior)? Both are read from one interval: the one-sided test at `alpha` rejects "worse by
//! the margin or more" exactly when the two-sided `1 − 2·alpha` interval of the difference lies
//! wholly on the good side of the margin's bound, so the decision and the interval drawn agree.

use super::welch::{arm_from_stats, welch_df, welch_variance};
use super::ztest::proportion;
use crate::records::{FieldValue, ResultRecord};
use crate::dist::{normal_isf, normal_sf, t_isf, t_sf};
use crate::error::{check_difference, check_finite, InvalidArgument, Result};

/// `ab_noninferiority_*`'s result. `None` marks what the data leave undefined (no variance).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MarginTest {
    /// `mean_t − mean_c` (or `rate_t − rate_c`).
    pub diff: f64,
    /// The difference at the edge of "worse by the margin": `−margin` when higher is better,
    /// `+margin` when lower is better.
    pub bound: f64,
    /// `(diff − bound) / se`.
    pub statistic: Option<f64>,
    /// Welch–Satterthwaite degrees of freedom; `None` for the z-test.
    pub df: Option<f64>,
    /// One-sided p-value of "worse by the margin or more".
    pub p_value: Option<f64>,
    /// The two-sided `1 − 2·alpha` interval of `diff`.
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    /// The interval lies wholly on the good side of `bound`.
    pub non_inferior: Option<bool>,
    /// The interval lies wholly on the bad side of `bound`.
    pub inferior: Option<bool>,
}

impl ResultRecord for MarginTest {
    const RECORD: &'static crate::records::Record = &crate::records::MARGIN;
    fn values(&self) -> Vec<FieldValue> {
        use FieldValue::{Bool, Float};
        vec![
            Float(Some(self.diff)), Float(Some(self.bound)), Float(self.statistic), Float(self.df), Float(self.p_value),
            Float(self.ci_low), Float(self.ci_high), Bool(self.non_inferior), Bool(self.inferior),
        ]
    }
}

/// The margin, the level and which way is better.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Margin {
    margin: f64,
    alpha: f64,
    higher_is_better: bool,
}

impl Margin {
    /// `margin`: how much worse (in the metric's units, > 0) still counts as not inferior.
    pub fn new(margin: f64, alpha: f64, higher_is_better: bool) -> Result<Self> {
        if !(check_finite("margin", margin)? > 0.0) {
            return Err(InvalidArgument::new("margin", format!("must be > 0 (how much worse still counts as not inferior), got {margin}")));
        }
        if !(alpha > 0.0 && alpha < 0.5) {
            return Err(InvalidArgument::new(
                "alpha",
                format!("must be between 0 and 0.5 exclusive (a one-sided test, read from a 1 - 2 alpha interval), got {alpha}"),
            ));
        }
        Ok(Self { margin, alpha, higher_is_better })
    }

    fn bound(&self) -> f64 {
        if self.higher_is_better { -self.margin } else { self.margin }
    }

    /// The difference alone, where the data give no variance to test it with.
    fn undefined(&self, diff: f64) -> MarginTest {
        let bound = self.bound();
        MarginTest { diff, bound, statistic: None, df: None, p_value: None, ci_low: None, ci_high: None, non_inferior: None, inferior: None }
    }

    /// The test of `diff` with standard error `se` against the bound, under the reference
    /// distribution's upper tail `sf` and its inverse `isf`; undefined without variance.
    fn test(&self, diff: f64, se: f64, df: Option<f64>, sf: impl Fn(f64) -> f64, isf: impl Fn(f64) -> f64) -> MarginTest {
        let bound = self.bound();
        if !(se > 0.0 && se.is_finite()) {
            return self.undefined(diff);
        }
        let statistic = (diff - bound) / se;
        let p_value = if self.higher_is_better { sf(statistic) } else { sf(-statistic) };
        let critical = isf(self.alpha);
        let (low, high) = (diff - critical * se, diff + critical * se);
        let (non_inferior, inferior) = if self.higher_is_better { (low > bound, high < bound) } else { (high < bound, low > bound) };
        MarginTest {
            diff,
            bound,
            statistic: Some(statistic),
            df,
            p_value: Some(p_value),
            ci_low: Some(low),
            ci_high: Some(high),
            non_inferior: Some(non_inferior),
            inferior: Some(inferior),
        }
    }
}

/// Means from summary statistics, control first: Welch's t-test of `diff − bound` (scipy's
/// `ttest_ind_from_stats(equal_var=False)` with the treatment's mean moved by the margin).
pub fn margin_ttest(control: (f64, f64, i64), treatment: (f64, f64, i64), margin: Margin) -> Result<MarginTest> {
    let c = arm_from_stats(("mean_c", control.0), ("sd_c", control.1), ("n_c", control.2))?;
    let t = arm_from_stats(("mean_t", treatment.0), ("sd_t", treatment.1), ("n_t", treatment.2))?;
    let diff = check_difference(t.mean, c.mean)?;
    let se2 = welch_variance(c, t);
    let df = welch_df(se2, c.var / c.n, c.n, t.var / t.n, t.n);
    if !(df.is_finite() && df > 0.0) {
        return Ok(margin.undefined(diff));
    }
    Ok(margin.test(diff, se2.sqrt(), Some(df), |x| t_sf(x, df), |a| t_isf(a, df)))
}

/// Conversion counts, control first: the Wald z-test of `diff − bound` with unpooled variances
/// (statsmodels' `test_proportions_2indep(method='wald', compare='diff', value=bound)`).
pub fn margin_ztest(x_c: i64, n_c: i64, x_t: i64, n_t: i64, margin: Margin) -> Result<MarginTest> {
    let c = proportion("x_c", x_c, "n_c", n_c)?;
    let t = proportion("x_t", x_t, "n_t", n_t)?;
    let (rate_c, rate_t) = (c.successes as f64 / c.trials as f64, t.successes as f64 / t.trials as f64);
    let se2 = rate_c * (1.0 - rate_c) / c.trials as f64 + rate_t * (1.0 - rate_t) / t.trials as f64;
    Ok(margin.test(rate_t - rate_c, se2.sqrt(), None, normal_sf, normal_isf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_decision_is_the_interval_against_the_bound_in_either_direction() {
        let higher = Margin::new(1.0, 0.05, true).unwrap();
        let close = margin_ttest((10.0, 4.0, 500), (9.9, 4.0, 500), higher).unwrap();
        assert_eq!((close.bound, close.non_inferior, close.inferior), (-1.0, Some(true), Some(false)));
        assert!(close.p_value.unwrap() < 0.05 && close.ci_low.unwrap() > -1.0);
        let worse = margin_ttest((10.0, 4.0, 500), (8.0, 4.0, 500), higher).unwrap();
        assert_eq!((worse.non_inferior, worse.inferior), (Some(false), Some(true)));
        let lower = Margin::new(1.0, 0.05, false).unwrap();
        let faster = margin_ttest((10.0, 4.0, 500), (9.9, 4.0, 500), lower).unwrap();
        assert_eq!((faster.bound, faster.non_inferior, faster.inferior), (1.0, Some(true), Some(false)));
    }

    #[test]
    fn no_variance_leaves_the_test_undefined_and_bad_settings_name_their_argument() {
        let margin = Margin::new(0.01, 0.05, true).unwrap();
        let flat = margin_ztest(0, 100, 0, 100, margin).unwrap();
        assert_eq!((flat.diff, flat.p_value, flat.non_inferior), (0.0, None, None));
        assert_eq!(Margin::new(0.0, 0.05, true).unwrap_err().argument, "margin");
        assert_eq!(Margin::new(f64::NAN, 0.05, true).unwrap_err().argument, "margin");
        assert_eq!(Margin::new(0.1, 0.5, true).unwrap_err().argument, "alpha");
    }
}
