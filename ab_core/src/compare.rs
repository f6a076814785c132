//! Two-sample comparisons: the z-test for proportions, Welch's t-test for means and CUPED.
//! Definitions and their references: `docs/statistics.md`.

use crate::alternative::Alternative;
use crate::dist::{normal_isf, normal_sf, t_isf, t_sf};
use crate::error::{check_finite, check_open_unit, InvalidArgument, Result};
use crate::moments::{CoMomentMatrix, CoMoments, Moments, Proportion, TwoGroups};

pub mod margin;
pub mod verdict;

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

/// `ab_ztest`'s result. `None` marks a statistic that is undefined for the data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ZTest {
    pub rate_c: f64,
    pub rate_t: f64,
    pub diff: f64,
    pub rel_lift: Option<f64>,
    pub z: Option<f64>,
    pub p_value: Option<f64>,
    pub ci_low: f64,
    pub ci_high: f64,
    pub rel_ci_low: Option<f64>,
    pub rel_ci_high: Option<f64>,
    pub significant: Option<bool>,
}

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

/// `ab_cuped_agg`'s result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cuped {
    pub theta: Option<f64>,
    pub diff: f64,
    pub rel_lift: Option<f64>,
    pub t: Option<f64>,
    pub df: Option<f64>,
    pub p_value: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub variance_reduction: Option<f64>,
    pub significant: Option<bool>,
}

/// Two-proportion z-test from counts (statsmodels' `proportions_ztest`, pooled SE), with a
/// Wald interval of the difference (unpooled SE) and a delta-method interval of the lift.
pub fn ztest(x_c: i64, n_c: i64, x_t: i64, n_t: i64, settings: TestSettings) -> Result<ZTest> {
    let control = proportion("x_c", x_c, "n_c", n_c)?;
    let treatment = proportion("x_t", x_t, "n_t", n_t)?;
    Ok(ztest_of(&TwoGroups { control, treatment }, settings))
}

fn proportion(x_name: &'static str, x: i64, n_name: &'static str, n: i64) -> Result<Proportion> {
    if n < 1 {
        return Err(InvalidArgument::new(n_name, format!("must be at least 1, got {n}")));
    }
    if !(0..=n).contains(&x) {
        return Err(InvalidArgument::new(x_name, format!("must be between 0 and {n_name} ({n}), got {x}")));
    }
    Ok(Proportion { trials: n, successes: x })
}

/// [`ztest`] on accumulated groups; `None` when a group is empty.
pub fn ztest_of_groups(groups: &TwoGroups<Proportion>, settings: TestSettings) -> Option<ZTest> {
    (groups.control.trials > 0 && groups.treatment.trials > 0).then(|| ztest_of(groups, settings))
}

fn ztest_of(groups: &TwoGroups<Proportion>, settings: TestSettings) -> ZTest {
    let (c, t) = (&groups.control, &groups.treatment);
    let (n_c, n_t) = (c.trials as f64, t.trials as f64);
    let rate_c = c.successes as f64 / n_c;
    let rate_t = t.successes as f64 / n_t;
    let diff = rate_t - rate_c;
    // Integer sums first, as statsmodels does: exact up to 2⁶³.
    let pooled = (c.successes + t.successes) as f64 / (c.trials + t.trials) as f64;
    let pooled_se = (pooled * (1.0 - pooled) * (1.0 / n_t + 1.0 / n_c)).sqrt();
    let z = (pooled_se > 0.0).then(|| diff / pooled_se);
    let p_value = z.map(|z| settings.alternative.p_value(z, normal_sf));
    let critical = normal_isf(settings.alternative.tail_alpha(settings.alpha));
    let var_c = rate_c * (1.0 - rate_c);
    let var_t = rate_t * (1.0 - rate_t);
    let se = (var_t / n_t + var_c / n_c).sqrt();
    let (ci_low, ci_high) = settings.alternative.interval(diff, critical, se);
    let relative = RelativeLift::new(Arm { n: n_c, mean: rate_c, var: var_c }, Arm { n: n_t, mean: rate_t, var: var_t }, diff);
    let (rel_ci_low, rel_ci_high) = relative.interval(settings, critical);
    ZTest {
        rate_c,
        rate_t,
        diff,
        rel_lift: relative.lift,
        z,
        p_value,
        ci_low,
        ci_high,
        rel_ci_low,
        rel_ci_high,
        significant: p_value.map(|p| p < settings.alpha),
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

/// Welch's t-test from summary statistics (scipy's `ttest_ind_from_stats(equal_var=False)`).
pub fn ttest(
    (mean_c, sd_c, n_c): (f64, f64, i64),
    (mean_t, sd_t, n_t): (f64, f64, i64),
    settings: TestSettings,
) -> Result<TTest> {
    let control = arm_from_stats(("mean_c", mean_c), ("sd_c", sd_c), ("n_c", n_c))?;
    let treatment = arm_from_stats(("mean_t", mean_t), ("sd_t", sd_t), ("n_t", n_t))?;
    Ok(welch(control, treatment, mean_t - mean_c, settings))
}

fn arm_from_stats(
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

fn arm_of(moments: &Moments) -> Option<Arm> {
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
struct WelchCore {
    se2: f64,
    t: Option<f64>,
    df: Option<f64>,
    p_value: Option<f64>,
    critical: Option<f64>,
    ci: Option<(f64, f64)>,
}

impl WelchCore {
    fn new(control: Arm, treatment: Arm, diff: f64, settings: TestSettings) -> Self {
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
fn welch_df(se2: f64, vn_c: f64, n_c: f64, vn_t: f64, n_t: f64) -> f64 {
    se2 * se2 / (vn_t * vn_t / (n_t - 1.0) + vn_c * vn_c / (n_c - 1.0))
}

/// The variance of the difference in means, `v_t/n_t + v_c/n_c`.
fn welch_variance(control: Arm, treatment: Arm) -> f64 {
    treatment.var / treatment.n + control.var / control.n
}

/// CUPED (Deng et al. 2013): Welch's test on `Y' = Y − θ(X − mean(X))`, θ and mean(X) pooled
/// over both groups. `None` when a group is empty.
pub fn cuped_of_groups(groups: &TwoGroups<CoMoments>, settings: TestSettings) -> Option<Cuped> {
    let (c, t) = (&groups.control, &groups.treatment);
    if c.x.count() == 0 || t.x.count() == 0 {
        return None;
    }
    let mut pooled = *c;
    pooled.merge(t);
    let theta = (pooled.x.m2() > 0.0).then(|| pooled.comoment() / pooled.x.m2());
    let slope = theta.unwrap_or(0.0);
    let adjusted = |group: &CoMoments| Arm {
        n: group.x.count() as f64,
        mean: group.y.mean() - slope * Moments::mean_difference(&pooled.x, &group.x),
        var: if group.x.count() >= 2 {
            (group.y.m2() - 2.0 * slope * group.comoment() + slope * slope * group.x.m2()) / (group.x.count() - 1) as f64
        } else {
            f64::NAN
        },
    };
    let (control, treatment) = (adjusted(c), adjusted(t));
    let diff = Moments::mean_difference(&c.y, &t.y) - slope * Moments::mean_difference(&c.x, &t.x);
    let test = WelchCore::new(control, treatment, diff, settings);
    let raw_se2 = welch_variance(arm_of(&c.y)?, arm_of(&t.y)?);
    let variance_reduction = (test.se2.is_finite() && raw_se2 > 0.0).then(|| 1.0 - test.se2 / raw_se2);
    Some(Cuped {
        theta,
        diff,
        rel_lift: (control.mean != 0.0).then(|| diff / control.mean),
        t: test.t,
        df: test.df,
        p_value: test.p_value,
        ci_low: test.ci.map(|ci| ci.0),
        ci_high: test.ci.map(|ci| ci.1),
        variance_reduction,
        significant: test.p_value.map(|p| p < settings.alpha),
    })
}

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

/// `ab_interaction_agg`'s result: do two concurrent experiments interact? The 2×2 contrast
/// `(μ11 − μ10) − (μ01 − μ00)` (first index: experiment A's arm, second: B's), its standard
/// error `√Σ s²/n` over the four cells, and a t-test with Welch–Satterthwaite degrees of
/// freedom `(Σ vᵢ)² / Σ vᵢ²/(nᵢ − 1)`, `vᵢ = sᵢ²/nᵢ`, against the alternative
/// (`larger`: the treatments reinforce each other).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InteractionTest {
    pub contrast: f64,
    pub se: Option<f64>,
    pub t: Option<f64>,
    pub df: Option<f64>,
    pub p_value: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub significant: Option<bool>,
}

/// The interaction contrast of the four cells (`groups` by A's arm, each by B's arm).
/// `None` when a cell is empty; the test fields are NULL when a cell has fewer than two
/// units or no cell varies.
pub fn interaction_of_groups(groups: &TwoGroups<TwoGroups<Moments>>, settings: TestSettings) -> Option<InteractionTest> {
    let cells = [&groups.control.control, &groups.control.treatment, &groups.treatment.control, &groups.treatment.treatment];
    if cells.iter().any(|c| c.count() == 0) {
        return None;
    }
    // Differences of means from the accumulators keep full precision on offset data.
    let contrast = Moments::mean_difference(&groups.treatment.control, &groups.treatment.treatment)
        - Moments::mean_difference(&groups.control.control, &groups.control.treatment);
    let variances: Option<Vec<(f64, f64)>> =
        cells.iter().map(|c| c.variance().map(|var| (var / c.count() as f64, (c.count() - 1) as f64))).collect();
    let test = variances.and_then(|cells| {
        let total: f64 = cells.iter().map(|(v, _)| v).sum();
        let denominator: f64 = cells.iter().map(|(v, dof)| v * v / dof).sum();
        (total > 0.0).then(|| {
            let (se, df) = (total.sqrt(), total * total / denominator);
            let t = contrast / se;
            let p_value = settings.alternative.p_value(t, |x| t_sf(x, df));
            let critical = t_isf(settings.alternative.tail_alpha(settings.alpha), df);
            let ci = settings.alternative.interval(contrast, critical, se);
            (se, t, df, p_value, ci)
        })
    });
    Some(InteractionTest {
        contrast,
        se: test.map(|t| t.0),
        t: test.map(|t| t.1),
        df: test.map(|t| t.2),
        p_value: test.map(|t| t.3),
        ci_low: test.map(|t| t.4 .0),
        ci_high: test.map(|t| t.4 .1),
        significant: test.map(|t| t.3 < settings.alpha),
    })
}

/// One field of a result record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldValue {
    Float(Option<f64>),
    Bool(Option<bool>),
    Int(Option<i32>),
    BigInt(Option<i64>),
}

/// The type of a field of a result record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Float,
    Bool,
    Int,
    /// A count (int8 / Int64).
    BigInt,
}

/// A result as every engine shows it: its columns are declared once, in the catalog
/// (`crate::catalog::records`, docs/contract.md §3).
pub trait ResultRecord {
    const RECORD: &'static crate::catalog::Record;
    /// The values, in the order of the record's fields.
    fn values(&self) -> Vec<FieldValue>;
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

use FieldValue::{Bool as BoolValue, Float as FloatValue};

impl ResultRecord for ZTest {
    const RECORD: &'static crate::catalog::Record = &crate::catalog::records::ZTEST;
    fn values(&self) -> Vec<FieldValue> {
        vec![
            FloatValue(Some(self.rate_c)), FloatValue(Some(self.rate_t)), FloatValue(Some(self.diff)),
            FloatValue(self.rel_lift), FloatValue(self.z), FloatValue(self.p_value),
            FloatValue(Some(self.ci_low)), FloatValue(Some(self.ci_high)),
            FloatValue(self.rel_ci_low), FloatValue(self.rel_ci_high), BoolValue(self.significant),
        ]
    }
}

impl ResultRecord for RatioTest {
    const RECORD: &'static crate::catalog::Record = &crate::catalog::records::RATIO;
    fn values(&self) -> Vec<FieldValue> {
        vec![
            FloatValue(Some(self.ratio_c)), FloatValue(Some(self.ratio_t)), FloatValue(Some(self.diff)),
            FloatValue(self.rel_lift), FloatValue(self.z), FloatValue(self.p_value), FloatValue(self.ci_low),
            FloatValue(self.ci_high), FloatValue(self.rel_ci_low), FloatValue(self.rel_ci_high), BoolValue(self.significant),
        ]
    }
}

impl ResultRecord for RatioCuped {
    const RECORD: &'static crate::catalog::Record = &crate::catalog::records::RATIO_CUPED;
    fn values(&self) -> Vec<FieldValue> {
        vec![
            FloatValue(Some(self.ratio_c)), FloatValue(Some(self.ratio_t)), FloatValue(self.theta), FloatValue(Some(self.diff)),
            FloatValue(self.rel_lift), FloatValue(self.z), FloatValue(self.p_value), FloatValue(self.ci_low),
            FloatValue(self.ci_high), FloatValue(self.variance_reduction), BoolValue(self.significant),
        ]
    }
}

impl ResultRecord for InteractionTest {
    const RECORD: &'static crate::catalog::Record = &crate::catalog::records::INTERACTION;
    fn values(&self) -> Vec<FieldValue> {
        vec![
            FloatValue(Some(self.contrast)), FloatValue(self.se), FloatValue(self.t), FloatValue(self.df),
            FloatValue(self.p_value), FloatValue(self.ci_low), FloatValue(self.ci_high), BoolValue(self.significant),
        ]
    }
}

impl ResultRecord for TTest {
    const RECORD: &'static crate::catalog::Record = &crate::catalog::records::TTEST;
    fn values(&self) -> Vec<FieldValue> {
        vec![
            FloatValue(Some(self.mean_c)), FloatValue(Some(self.mean_t)), FloatValue(Some(self.diff)),
            FloatValue(self.rel_lift), FloatValue(self.t), FloatValue(self.df), FloatValue(self.p_value),
            FloatValue(self.ci_low), FloatValue(self.ci_high),
            FloatValue(self.rel_ci_low), FloatValue(self.rel_ci_high), BoolValue(self.significant),
        ]
    }
}

impl ResultRecord for Cuped {
    const RECORD: &'static crate::catalog::Record = &crate::catalog::records::CUPED;
    fn values(&self) -> Vec<FieldValue> {
        vec![
            FloatValue(self.theta), FloatValue(Some(self.diff)), FloatValue(self.rel_lift), FloatValue(self.t),
            FloatValue(self.df), FloatValue(self.p_value), FloatValue(self.ci_low), FloatValue(self.ci_high),
            FloatValue(self.variance_reduction), BoolValue(self.significant),
        ]
    }
}
