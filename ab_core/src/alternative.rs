//! The alternative hypothesis of a test and what it changes: p-values and interval bounds.

use crate::error::{InvalidArgument, Result};

/// Which difference the test looks for, with `diff = treatment − control`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Alternative {
    #[default]
    TwoSided,
    /// Treatment is larger than control.
    Larger,
    /// Treatment is smaller than control.
    Smaller,
}

impl Alternative {
    /// Parses the SQL spelling. scipy's `greater`/`less` are accepted as synonyms
    /// because analysts arrive from scipy as often as from statsmodels.
    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "two-sided" | "two_sided" => Ok(Self::TwoSided),
            "larger" | "greater" => Ok(Self::Larger),
            "smaller" | "less" => Ok(Self::Smaller),
            other => Err(InvalidArgument::new(
                "alternative",
                format!("must be 'two-sided', 'larger' or 'smaller', got '{other}'"),
            )),
        }
    }

    /// The tail probability for `alpha` of the critical value: two-sided tests
    /// split alpha over both tails.
    pub(crate) fn tail_alpha(self, alpha: f64) -> f64 {
        match self {
            Self::TwoSided => alpha / 2.0,
            Self::Larger | Self::Smaller => alpha,
        }
    }

    /// The p-value of `statistic` under a symmetric distribution with survival function `sf`.
    pub(crate) fn p_value(self, statistic: f64, sf: impl Fn(f64) -> f64) -> f64 {
        match self {
            Self::TwoSided => (2.0 * sf(statistic.abs())).min(1.0),
            Self::Larger => sf(statistic),
            Self::Smaller => sf(-statistic),
        }
    }

    /// The confidence interval `estimate ± critical·se`, open on one side for one-sided tests
    /// (scipy's convention).
    pub(crate) fn interval(self, estimate: f64, critical: f64, se: f64) -> (f64, f64) {
        let half_width = critical * se;
        match self {
            Self::TwoSided => (estimate - half_width, estimate + half_width),
            Self::Larger => (estimate - half_width, f64::INFINITY),
            Self::Smaller => (f64::NEG_INFINITY, estimate + half_width),
        }
    }
}
