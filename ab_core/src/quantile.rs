//! Quantile metrics: the difference in a quantile (median, p95) between arms, with a CI.
//!
//! Each arm's quantile is the linear interpolation between order statistics (Postgres'
//! `percentile_cont`, numpy's default). Its standard error comes from the distribution-free
//! order-statistic interval: the ranks `n·q ∓ z·√(n·q·(1 − q))` (binomial), rounded outwards
//! and clipped to [1, n], bracket the quantile with probability ≈ 1 − α, so
//! `SE ≈ (x_(U) − x_(L)) / (2z)`, `z = z_{1−α/2}`. The difference of the two independent
//! estimates is compared with the normal: `diff ± z·√(SE_c² + SE_t²)`, two-sided p-value.

use crate::compare::{FieldKind, FieldValue, ResultRecord};
use crate::dist::{normal_isf, normal_sf};
use crate::error::{check_finite, check_open_unit, InvalidArgument, Result};

/// `ab_quantile_test`'s result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuantileTest {
    pub quantile_c: f64,
    pub quantile_t: f64,
    pub diff: f64,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub p_value: Option<f64>,
    pub significant: Option<bool>,
}

impl ResultRecord for QuantileTest {
    const FIELDS: &'static [(&'static str, FieldKind)] = &[
        ("quantile_c", FieldKind::Float), ("quantile_t", FieldKind::Float), ("diff", FieldKind::Float),
        ("ci_low", FieldKind::Float), ("ci_high", FieldKind::Float), ("p_value", FieldKind::Float),
        ("significant", FieldKind::Bool),
    ];
    fn values(&self) -> Vec<FieldValue> {
        vec![
            FieldValue::Float(Some(self.quantile_c)), FieldValue::Float(Some(self.quantile_t)), FieldValue::Float(Some(self.diff)),
            FieldValue::Float(self.ci_low), FieldValue::Float(self.ci_high), FieldValue::Float(self.p_value),
            FieldValue::Bool(self.significant),
        ]
    }
}

/// The q-quantile of sorted values by linear interpolation at rank (n − 1)·q.
fn interpolated(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let below = h.floor() as usize;
    let above = (below + 1).min(sorted.len() - 1);
    sorted[below] + (h - below as f64) * (sorted[above] - sorted[below])
}

/// The arm's quantile and the SE from its order-statistic interval.
fn arm(argument: &'static str, values: &[f64], q: f64, z: f64) -> Result<(f64, f64)> {
    if values.is_empty() {
        return Err(InvalidArgument::new(argument, "must not be empty"));
    }
    if let Some(bad) = values.iter().find(|v| !v.is_finite()) {
        return Err(InvalidArgument::new(argument, format!("must hold finite numbers, got {bad}")));
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len() as f64;
    let spread = z * (n * q * (1.0 - q)).sqrt();
    let lower = ((n * q - spread).floor().max(1.0) as usize).min(sorted.len());
    let upper = ((n * q + spread).ceil().max(1.0) as usize).min(sorted.len());
    Ok((interpolated(&sorted, q), (sorted[upper - 1] - sorted[lower - 1]) / (2.0 * z)))
}

/// The difference `quantile_t − quantile_c` of the q-quantiles, with its CI and p-value;
/// the test fields are NULL when neither arm's interval has width (constant data).
pub fn quantile_test(control: &[f64], treatment: &[f64], q: f64, alpha: f64) -> Result<QuantileTest> {
    let q = check_open_unit("q", check_finite("q", q)?)?;
    let alpha = check_open_unit("alpha", alpha)?;
    let z = normal_isf(alpha / 2.0);
    let (quantile_c, se_c) = arm("control", control, q, z)?;
    let (quantile_t, se_t) = arm("treatment", treatment, q, z)?;
    let diff = quantile_t - quantile_c;
    let se = (se_c * se_c + se_t * se_t).sqrt();
    let defined = se > 0.0;
    let p_value = defined.then(|| (2.0 * normal_sf((diff / se).abs())).min(1.0));
    Ok(QuantileTest {
        quantile_c,
        quantile_t,
        diff,
        ci_low: defined.then(|| diff - z * se),
        ci_high: defined.then(|| diff + z * se),
        p_value,
        significant: p_value.map(|p| p < alpha),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulation::SplitMix64;

    /// Same skewed (exponential) distribution in both arms, 400 experiments of 500 units per
    /// arm: the 95% interval of the median difference and of the p95 difference covers 0 at
    /// least 95% of the time, minus three standard errors.
    #[test]
    fn intervals_cover_the_true_difference() {
        let mut stream = SplitMix64::new(7);
        for q in [0.5, 0.95] {
            let mut covered = 0;
            for _ in 0..400 {
                let mut draw = |n: usize| (0..n).map(|_| -stream.uniform().ln()).collect::<Vec<f64>>();
                let (control, treatment) = (draw(500), draw(500));
                let test = quantile_test(&control, &treatment, q, 0.05).unwrap();
                covered += usize::from(test.ci_low.unwrap() <= 0.0 && 0.0 <= test.ci_high.unwrap());
            }
            let coverage = covered as f64 / 400.0;
            assert!(coverage >= 0.95 - 3.0 * (0.95f64 * 0.05 / 400.0).sqrt(), "q = {q}: coverage {coverage}");
            eprintln!("coverage of the 95% interval of the q = {q} difference: {coverage}");
        }
    }

    #[test]
    fn bad_input_names_the_argument() {
        assert_eq!(quantile_test(&[], &[1.0], 0.5, 0.05).unwrap_err().argument, "control");
        assert_eq!(quantile_test(&[1.0], &[f64::NAN], 0.5, 0.05).unwrap_err().argument, "treatment");
        assert_eq!(quantile_test(&[1.0], &[1.0], 1.0, 0.05).unwrap_err().argument, "q");
        assert_eq!(quantile_test(&[1.0], &[1.0], 0.5, 0.0).unwrap_err().argument, "alpha");
        assert_eq!(quantile_test(&[2.0, 2.0], &[2.0], 0.5, 0.05).unwrap().p_value, None);
    }
}
