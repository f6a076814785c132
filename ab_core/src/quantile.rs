//! Quantile metrics: the difference in a quantile (median, p95) between arms, with a CI.
//!
//! Each arm's quantile is the linear interpolation between order statistics (Postgres'
//! `percentile_cont`, numpy's default). Its standard error is Maritz and Jarrett's (1978),
//! distribution-free: the sample quantile is near the order statistic X_(m), m = ⌊q·n + ½⌋,
//! whose law is that of F⁻¹ of a Beta(m − 1, n − m) variable, so weighting the sorted
//! values by that Beta's mass on each ((i − 1)/n, i/n] gives the first two moments of
//! X_(m), and `SE = √(Σ wᵢ·(x_(i) − Σ wⱼ·x_(j))²)` (scipy's `mstats.mjci`). It needs
//! 2 ≤ m < n: otherwise, or when both arms' SE are 0 (constant data), the test is NULL. The
//! difference of the two independent estimates is compared with the normal:
//! `diff ± z·√(SE_c² + SE_t²)`, two-sided p-value.

use crate::records::{FieldValue, ResultRecord};
use crate::dist::{beta_tails_within, normal_isf, normal_sf};
use crate::error::{check_finite, check_open_unit, InvalidArgument, Result};
use crate::work::Work;

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
    const RECORD: &'static crate::records::Record = &crate::records::QUANTILE;
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

/// Beta masses below this are left out of the Maritz–Jarrett sum: the rest of the tail
/// weighs less than that in total.
const NEGLIGIBLE_MASS: f64 = 1e-300;

/// Maritz–Jarrett's SE of the q-quantile of sorted values; `None` unless 2 ≤ ⌊q·n + ½⌋ < n.
/// The cells are walked outwards from the Beta's mean until the tail left is negligible, so
/// a million values cost tens of thousands of cdf evaluations, not a million. Each cell and
/// each continued-fraction term is charged to `work`, which bounds the walk and polls for
/// cancellation.
fn maritz_jarrett_se(sorted: &[f64], q: f64, work: &Work) -> Result<Option<f64>> {
    let n = sorted.len();
    let m = (q * n as f64 + 0.5).floor() as usize;
    if m < 2 || m >= n {
        return Ok(None);
    }
    let (a, b, cells) = ((m - 1) as f64, (n - m) as f64, n as f64);
    // Boundary j sits at j/n; its lower and upper tails, each accurate where it is small.
    let tails = |j: usize| {
        work.charge(1)?;
        beta_tails_within(a, b, j as f64 / cells, (n - j) as f64 / cells, work)
    };
    // Cell i covers ((i − 1)/n, i/n] and weighs x_(i). Split at the boundary nearest the mean.
    let split = ((a / (a + b)) * cells).round() as usize;
    // Lower tail at the cell's upper boundary going down, upper tail at its lower one going up.
    let (mut lower_edge, mut upper_edge) = tails(split)?;
    let mut weighted: Vec<(f64, f64)> = Vec::new();
    for i in (1..=split).rev() {
        let below = tails(i - 1)?.0;
        weighted.push((lower_edge - below, sorted[i - 1]));
        if below < NEGLIGIBLE_MASS {
            break;
        }
        lower_edge = below;
    }
    for i in split + 1..=n {
        let above = tails(i)?.1;
        weighted.push((upper_edge - above, sorted[i - 1]));
        if above < NEGLIGIBLE_MASS {
            break;
        }
        upper_edge = above;
    }
    // Deviations from X_(m): constant data then gives exactly 0, not a rounding residue.
    let reference = sorted[m - 1];
    let total: f64 = weighted.iter().map(|(w, _)| w).sum();
    let mean = weighted.iter().map(|(w, x)| w * (x - reference)).sum::<f64>() / total;
    let variance = weighted.iter().map(|(w, x)| w * (x - reference - mean).powi(2)).sum::<f64>() / total;
    Ok(Some(variance.sqrt()))
}

/// The arm's quantile and its Maritz–Jarrett SE.
fn arm(argument: &'static str, values: &[f64], q: f64, work: &Work) -> Result<(f64, Option<f64>)> {
    if values.is_empty() {
        return Err(InvalidArgument::new(argument, "must not be empty"));
    }
    if let Some(bad) = values.iter().find(|v| !v.is_finite()) {
        return Err(InvalidArgument::new(argument, format!("must hold finite numbers, got {bad}")));
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    Ok((interpolated(&sorted, q), maritz_jarrett_se(&sorted, q, work)?))
}

/// The difference `quantile_t − quantile_c` of the q-quantiles, with its CI and p-value;
/// the test fields are NULL when an arm is too small for its SE or both SEs are 0.
pub fn quantile_test(control: &[f64], treatment: &[f64], q: f64, alpha: f64) -> Result<QuantileTest> {
    let q = check_open_unit("q", check_finite("q", q)?)?;
    let alpha = check_open_unit("alpha", alpha)?;
    let z = normal_isf(alpha / 2.0);
    let (quantile_c, se_c) = arm("control", control, q, &Work::new("control"))?;
    let (quantile_t, se_t) = arm("treatment", treatment, q, &Work::new("treatment"))?;
    let diff = quantile_t - quantile_c;
    let se = se_c.zip(se_t).map_or(0.0, |(se_c, se_t)| se_c.hypot(se_t));
    let defined = se > 0.0;
    let p_value = defined.then(|| (2.0 * normal_sf((diff / se).abs())).min(1.0));
    Ok(QuantileTest {
        quantile_c,
        quantile_t,
        diff,
        ci_low: defined.then_some(diff - z * se),
        ci_high: defined.then_some(diff + z * se),
        p_value,
        significant: p_value.map(|p| p < alpha),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulation::SplitMix64;

    /// Same skewed (exponential) distribution in both arms, 1000 experiments of 500 units per
    /// arm: the 95% interval of the median difference and of the p95 difference covers 0 in
    /// 95% of them, give or take three standard errors (too narrow and too wide both fail).
    #[test]
    fn intervals_cover_the_true_difference() {
        let mut stream = SplitMix64::new(7);
        let experiments = 1000;
        let slack = 3.0 * (0.95f64 * 0.05 / experiments as f64).sqrt();
        for q in [0.5, 0.95] {
            let mut covered = 0;
            for _ in 0..experiments {
                let mut draw = |n: usize| (0..n).map(|_| -stream.uniform().ln()).collect::<Vec<f64>>();
                let (control, treatment) = (draw(500), draw(500));
                let test = quantile_test(&control, &treatment, q, 0.05).unwrap();
                covered += usize::from(test.ci_low.unwrap() <= 0.0 && 0.0 <= test.ci_high.unwrap());
            }
            let coverage = covered as f64 / experiments as f64;
            eprintln!("coverage of the 95% interval of the q = {q} difference: {coverage}");
            assert!((coverage - 0.95).abs() <= slack, "q = {q}: coverage {coverage}");
        }
    }

    /// The Beta weights of a million values are walked over a window, in well under a
    /// second, and give the asymptotic SE √(q(1 − q)/n)/f(F⁻¹(q)) of uniform data, 1/(2√n).
    #[test]
    fn a_million_values_take_a_window_of_weights() {
        let mut stream = SplitMix64::new(11);
        let values: Vec<f64> = (0..1_000_000).map(|_| stream.uniform()).collect();
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        let se = maritz_jarrett_se(&sorted, 0.5, &Work::new("control")).unwrap().unwrap();
        assert!((se / 0.0005 - 1.0).abs() < 0.05, "SE {se}");
    }

    #[test]
    fn bad_input_names_the_argument() {
        assert_eq!(quantile_test(&[], &[1.0], 0.5, 0.05).unwrap_err().argument, "control");
        assert_eq!(quantile_test(&[1.0], &[f64::NAN], 0.5, 0.05).unwrap_err().argument, "treatment");
        assert_eq!(quantile_test(&[1.0], &[1.0], 1.0, 0.05).unwrap_err().argument, "q");
        assert_eq!(quantile_test(&[1.0], &[1.0], 0.5, 0.0).unwrap_err().argument, "alpha");
        assert_eq!(quantile_test(&[2.0, 2.0, 2.0], &[2.0, 2.0, 2.0], 0.5, 0.05).unwrap().p_value, None);
        // 0.1 and 0.2 are not exact in binary: constant arms must still have no SE.
        assert_eq!(quantile_test(&[0.1; 10], &[0.2; 10], 0.5, 0.05).unwrap().significant, None);
        // p95 of 20 values: m = 19, so the Beta is defined; of 10, m = n and the test is NULL.
        let ramp = |n: usize| (0..n).map(|i| i as f64).collect::<Vec<f64>>();
        assert!(quantile_test(&ramp(20), &ramp(20), 0.95, 0.05).unwrap().p_value.is_some());
        assert_eq!(quantile_test(&ramp(10), &ramp(20), 0.95, 0.05).unwrap().p_value, None);
    }
}
