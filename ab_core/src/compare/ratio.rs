//! Ratio metrics by the delta method (`ab_ratio_agg`) and their CUPED form
//! (`ab_ratio_cuped_agg`).

use super::welch::welch_variance;
use super::{Arm, RelativeLift};
use crate::dist::{normal_isf, normal_sf};
use crate::moments::{CoMomentMatrix, CoMoments, TwoGroups};
use crate::compare::TestSettings;
use crate::records::{FieldValue, ResultRecord};
use FieldValue::{Bool as BoolValue, Float as FloatValue};

/// `ab_ratio_agg`'s result: a ratio metric (Σ numerator / Σ denominator per arm, such as
/// revenue per session) compared by the delta method (Deng et al. 2018) with a z-test on
/// the difference of the two independent ratio estimates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatioTest {
    pub ratio_c: f64,
    pub ratio_t: f64,
    pub diff: f64,
    pub rel_lift: Option<f64>,
    pub z: Option<f64>,
    pub p_value: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub rel_ci_low: Option<f64>,
    pub rel_ci_high: Option<f64>,
    pub significant: Option<bool>,
}

/// An arm of a ratio metric: the ratio of means and `n · Var(ratio)` by the delta method,
/// Var(R) = (1/n)(s_N²/μ_D² − 2 μ_N s_ND/μ_D³ + μ_N² s_D²/μ_D⁴) with (co)variances over
/// n − 1; the state keeps the denominator as `x` and the numerator as `y`.
fn ratio_arm(group: &CoMoments) -> Option<Arm> {
    let (mean_d, mean_n) = (group.x.mean(), group.y.mean());
    if group.x.count() == 0 || mean_d == 0.0 {
        return None;
    }
    let var = match (group.x.variance(), group.y.variance()) {
        (Some(var_d), Some(var_n)) => {
            let cov = group.comoment() / (group.x.count() - 1) as f64;
            var_n / mean_d.powi(2) - 2.0 * mean_n * cov / mean_d.powi(3) + mean_n.powi(2) * var_d / mean_d.powi(4)
        }
        _ => f64::NAN,
    };
    Some(Arm { n: group.x.count() as f64, mean: mean_n / mean_d, var })
}

/// A z-test of `diff` with standard error `se` (delta-method statistics); the fields are
/// `None` unless `se` is finite and positive. `critical` is the normal quantile of the CI.
struct NormalTest {
    z: Option<f64>,
    p_value: Option<f64>,
    critical: f64,
    ci_low: Option<f64>,
    ci_high: Option<f64>,
}

impl NormalTest {
    fn new(diff: f64, se: f64, settings: TestSettings) -> Self {
        let z = (se.is_finite() && se > 0.0).then(|| diff / se);
        let critical = normal_isf(settings.alternative.tail_alpha(settings.alpha));
        let ci = z.map(|_| settings.alternative.interval(diff, critical, se));
        Self {
            z,
            p_value: z.map(|z| settings.alternative.p_value(z, normal_sf)),
            critical,
            ci_low: ci.map(|ci| ci.0),
            ci_high: ci.map(|ci| ci.1),
        }
    }
}

/// The delta-method test of a ratio metric; `None` when an arm is empty or its denominators
/// average 0 (the ratio is undefined). With one unit in an arm only the ratios are defined.
pub fn ratio_of_groups(groups: &TwoGroups<CoMoments>, settings: TestSettings) -> Option<RatioTest> {
    let (control, treatment) = (ratio_arm(&groups.control)?, ratio_arm(&groups.treatment)?);
    let diff = treatment.mean - control.mean;
    let se = welch_variance(control, treatment).sqrt();
    let NormalTest { z, p_value, critical, ci_low, ci_high } = NormalTest::new(diff, se, settings);
    let relative = RelativeLift::new(control, treatment, diff);
    let (rel_ci_low, rel_ci_high) = if z.is_some() { relative.interval(settings, critical) } else { (None, None) };
    Some(RatioTest {
        ratio_c: control.mean,
        ratio_t: treatment.mean,
        diff,
        rel_lift: relative.lift,
        z,
        p_value,
        ci_low,
        ci_high,
        rel_ci_low,
        rel_ci_high,
        significant: p_value.map(|p| p < settings.alpha),
    })
}

/// `ab_ratio_cuped_agg`'s result: a ratio metric adjusted by the same ratio over the
/// pre-period (CUPED for ratio metrics), by the delta method.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatioCuped {
    pub ratio_c: f64,
    pub ratio_t: f64,
    pub theta: Option<f64>,
    pub diff: f64,
    pub rel_lift: Option<f64>,
    pub z: Option<f64>,
    pub p_value: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub variance_reduction: Option<f64>,
    pub significant: Option<bool>,
}

/// The order of the variables in a [`RatioCuped`] arm's state.
pub const NUMERATOR: usize = 0;
pub const DENOMINATOR: usize = 1;
pub const PRE_NUMERATOR: usize = 2;
pub const PRE_DENOMINATOR: usize = 3;

/// One arm of a pre-period-adjusted ratio: the metric's ratio R, the covariate's ratio C
/// (NaN when the pre-period denominators average 0), and the delta-method Var(R), Var(C)
/// and Cov(R, C): gᵀΣg/n with Σ the arm's 4×4 sample covariance and g the gradients
/// (1/μ_D, −μ_N/μ_D²) of each ratio in its two means.
struct RatioArm {
    n: f64,
    ratio: f64,
    covariate: f64,
    /// Means of the pre-period numerator and denominator.
    pre_means: (f64, f64),
    var_ratio: f64,
    var_covariate: f64,
    cov: f64,
}

fn ratio_cuped_arm(group: &CoMomentMatrix<4>) -> Option<RatioArm> {
    let mean = |k: usize| group.marginals[k].mean();
    if group.count() == 0 || mean(DENOMINATOR) == 0.0 {
        return None;
    }
    let gradient = |numerator: usize, denominator: usize| {
        let mut g = [0.0; 4];
        g[numerator] = 1.0 / mean(denominator);
        g[denominator] = -mean(numerator) / (mean(denominator) * mean(denominator));
        g
    };
    let (g_ratio, g_covariate) = (gradient(NUMERATOR, DENOMINATOR), gradient(PRE_NUMERATOR, PRE_DENOMINATOR));
    let n = group.count() as f64;
    let quadratic = |a: &[f64; 4], b: &[f64; 4]| -> f64 {
        // Zero entries are skipped, so an undefined mean elsewhere cannot turn 0·∞ into NaN.
        let nonzero = |g: &[f64; 4]| g.iter().copied().enumerate().filter(|(_, v)| *v != 0.0).collect::<Vec<_>>();
        let (a, b) = (nonzero(a), nonzero(b));
        let sum: f64 = a.iter().flat_map(|&(i, ai)| b.iter().map(move |&(j, bj)| (i, j, ai * bj))).map(|(i, j, w)| {
            w * group.covariance(i, j).unwrap_or(f64::NAN)
        }).sum();
        sum / n
    };
    Some(RatioArm {
        n,
        ratio: mean(NUMERATOR) / mean(DENOMINATOR),
        covariate: mean(PRE_NUMERATOR) / mean(PRE_DENOMINATOR),
        pre_means: (mean(PRE_NUMERATOR), mean(PRE_DENOMINATOR)),
        var_ratio: quadratic(&g_ratio, &g_ratio),
        var_covariate: quadratic(&g_covariate, &g_covariate),
        cov: quadratic(&g_ratio, &g_covariate),
    })
}

/// CUPED for ratio metrics: `diff = (R_t − R_c) − θ(C_t − C_c)` with the variance-minimising
/// `θ = ΣCov(R, C)/ΣVar(C)` over both arms, a z-test on
/// `Var = Σ(Var R − 2θ Cov(R, C) + θ² Var C)`, `rel_lift = diff / (R_c − θ(C_c − C̄))` with C̄
/// the pooled pre-period ratio, and `variance_reduction = 1 − Var/ΣVar(R)`. `None` when an
/// arm is empty or its denominators average 0; θ is NULL (no adjustment) when the
/// covariate has no variance or its pre-period denominators average 0.
pub fn ratio_cuped_of_groups(groups: &TwoGroups<CoMomentMatrix<4>>, settings: TestSettings) -> Option<RatioCuped> {
    let (control, treatment) = (ratio_cuped_arm(&groups.control)?, ratio_cuped_arm(&groups.treatment)?);
    let arms = [&control, &treatment];
    let var_covariate: f64 = arms.iter().map(|a| a.var_covariate).sum();
    let theta = (var_covariate.is_finite() && var_covariate > 0.0)
        .then(|| arms.iter().map(|a| a.cov).sum::<f64>() / var_covariate)
        .filter(|theta| theta.is_finite());
    let slope = theta.unwrap_or(0.0);
    let adjustment = theta.map_or(0.0, |theta| theta * (treatment.covariate - control.covariate));
    let diff = (treatment.ratio - control.ratio) - adjustment;
    let raw_variance: f64 = arms.iter().map(|a| a.var_ratio).sum();
    // Without a usable covariate the test is the plain delta-method one.
    let variance = if theta.is_some() {
        arms.iter().map(|a| a.var_ratio - 2.0 * slope * a.cov + slope * slope * a.var_covariate).sum()
    } else {
        raw_variance
    };
    let se = variance.sqrt();
    let NormalTest { z, p_value, ci_low, ci_high, .. } = NormalTest::new(diff, se, settings);
    let pooled_covariate = arms.iter().map(|a| a.n * a.pre_means.0).sum::<f64>() / arms.iter().map(|a| a.n * a.pre_means.1).sum::<f64>();
    let adjusted_control =
        if theta.is_some() { control.ratio - slope * (control.covariate - pooled_covariate) } else { control.ratio };
    Some(RatioCuped {
        ratio_c: control.ratio,
        ratio_t: treatment.ratio,
        theta,
        diff,
        rel_lift: (adjusted_control.is_finite() && adjusted_control != 0.0).then(|| diff / adjusted_control),
        z,
        p_value,
        ci_low,
        ci_high,
        variance_reduction: (z.is_some() && raw_variance > 0.0).then(|| 1.0 - variance / raw_variance),
        significant: p_value.map(|p| p < settings.alpha),
    })
}

impl ResultRecord for RatioTest {
    const RECORD: &'static crate::records::Record = &crate::records::RATIO;
    fn values(&self) -> Vec<FieldValue> {
        vec![
            FloatValue(Some(self.ratio_c)), FloatValue(Some(self.ratio_t)), FloatValue(Some(self.diff)),
            FloatValue(self.rel_lift), FloatValue(self.z), FloatValue(self.p_value), FloatValue(self.ci_low),
            FloatValue(self.ci_high), FloatValue(self.rel_ci_low), FloatValue(self.rel_ci_high), BoolValue(self.significant),
        ]
    }
}

impl ResultRecord for RatioCuped {
    const RECORD: &'static crate::records::Record = &crate::records::RATIO_CUPED;
    fn values(&self) -> Vec<FieldValue> {
        vec![
            FloatValue(Some(self.ratio_c)), FloatValue(Some(self.ratio_t)), FloatValue(self.theta), FloatValue(Some(self.diff)),
            FloatValue(self.rel_lift), FloatValue(self.z), FloatValue(self.p_value), FloatValue(self.ci_low),
            FloatValue(self.ci_high), FloatValue(self.variance_reduction), BoolValue(self.significant),
        ]
    }
}
