//! Two-sample comparisons, one file per test: the z-test for proportions ([`ztest`]), Welch's
//! t-test for means ([`welch`]), CUPED ([`cuped`]), ratio metrics ([`ratio`]), the interaction
//! of two experiments ([`interaction`]), tests against a margin ([`margin`]), and one verdict
//! per comparison ([`verdict`]). Definitions and their
//! references: `docs/statistics.md`.

use crate::alternative::Alternative;
use crate::error::{check_open_unit, Result};

pub mod cuped;
pub mod interaction;
pub mod margin;
pub mod ratio;
pub mod verdict;
pub mod welch;
pub mod ztest;

pub use cuped::{cuped_of_groups, Cuped};
pub use interaction::{interaction_of_groups, InteractionTest};
pub use ratio::{ratio_cuped_of_groups, ratio_of_groups, RatioCuped, RatioTest, DENOMINATOR, NUMERATOR, PRE_DENOMINATOR, PRE_NUMERATOR};
pub use welch::{ttest, ttest_of_groups, TTest};
pub use ztest::{ztest, ztest_of_groups, ZTest};

/// The settings every test takes: significance level and alternative.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TestSettings {
    pub alpha: f64,
    pub alternative: Alternative,
}

impl TestSettings {
    pub fn new(alpha: f64, alternative: &str) -> Result<Self> {
        Ok(Self { alpha: check_open_unit("alpha", alpha)?, alternative: Alternative::parse(alternative)? })
    }
}

/// The significance level a call gets when it gives none (docs/contract.md §3).
pub const DEFAULT_ALPHA: f64 = 0.05;

impl Default for TestSettings {
    fn default() -> Self {
        Self { alpha: DEFAULT_ALPHA, alternative: Alternative::TwoSided }
    }
}

/// One arm summarised: size, mean and per-unit variance.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Arm {
    n: f64,
    mean: f64,
    var: f64,
}

/// `diff / mean_c` with its delta-method standard error.
struct RelativeLift {
    lift: Option<f64>,
    se: Option<f64>,
}

impl RelativeLift {
    fn new(control: Arm, treatment: Arm, diff: f64) -> Self {
        if control.mean == 0.0 {
            return Self { lift: None, se: None };
        }
        let mc2 = control.mean * control.mean;
        let variance = treatment.var / (treatment.n * mc2)
            + control.var * treatment.mean * treatment.mean / (control.n * mc2 * mc2);
        Self { lift: Some(diff / control.mean), se: variance.is_finite().then(|| variance.sqrt()) }
    }

    fn interval(&self, settings: TestSettings, critical: f64) -> (Option<f64>, Option<f64>) {
        match (self.lift, self.se) {
            (Some(lift), Some(se)) => {
                let (low, high) = settings.alternative.interval(lift, critical, se);
                (Some(low), Some(high))
            }
            _ => (None, None),
        }
    }
}
