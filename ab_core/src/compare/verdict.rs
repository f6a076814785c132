//! One verdict per comparison: for every treatment of a metric against its control, the
//! test, its p-value, the Holm-adjusted p-value over the metric's treatments, and the
//! intervals of the difference and of the relative lift, all from one statistic. A
//! comparison is significant exactly when the intervals it shows exclude 0. A sequential
//! analysis swaps the fixed-horizon reference distribution for the asymptotic confidence
//! sequence, so the same holds at every look. Definitions: `docs/statistics.md`, "One
//! verdict per comparison".

use super::TestSettings;
use crate::alternative::Alternative;
use crate::dist::{normal_isf, normal_sf, t_isf, t_sf};
use crate::error::{check_finite, InvalidArgument, Result};
use crate::sequential::ConfidenceSequence;
use crate::srm::{adjust_pvalues, Correction};

/// What one arm contributes: its size, mean and per-unit variance (`None` when undefined,
/// as for a single unit). An arm of no units is allowed: its comparisons are undefined.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ArmSummary {
    n: f64,
    mean: f64,
    variance: Option<f64>,
}

/// The reference distribution of the statistic `diff / se`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Conversion rates: the Wald z-test, unpooled variances `p(1 − p)`.
    Proportion,
    /// Means: Welch's t-test with Welch–Satterthwaite degrees of freedom.
    Mean,
}

/// When the comparison may be read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Horizon {
    /// Once, at the planned sample size: the test's own p-value and confidence interval.
    Fixed,
    /// At every look: the always-valid p-value and confidence sequence of
    /// [`ConfidenceSequence`] designed for the settings' alpha with this N*.
    Sequential { tuning_n: f64 },
}

impl ArmSummary {
    /// An arm of a conversion metric: `x` of `n` units converted.
    pub fn proportion(x: i64, n: i64) -> Result<Self> {
        if n < 0 {
            return Err(InvalidArgument::new("n", format!("must be at least 0, got {n}")));
        }
        if !(0..=n).contains(&x) {
            return Err(InvalidArgument::new("x", format!("must be between 0 and n ({n}), got {x}")));
        }
        if n == 0 {
            return Ok(Self { n: 0.0, mean: f64::NAN, variance: None });
        }
        let rate = x as f64 / n as f64;
        Ok(Self { n: n as f64, mean: rate, variance: Some(rate * (1.0 - rate)) })
    }

    /// An arm of a continuous metric from its mean, sample standard deviation and size; the
    /// standard deviation of a single unit and the mean of none are not used.
    pub fn mean(mean: f64, sd: Option<f64>, n: i64) -> Result<Self> {
        check_finite("mean", mean)?;
        if n < 0 {
            return Err(InvalidArgument::new("n", format!("must be at least 0, got {n}")));
        }
        if let Some(sd) = sd.filter(|sd| !(sd.is_finite() && *sd >= 0.0)) {
            return Err(InvalidArgument::new("sd", format!("must be a finite number >= 0, got {sd}")));
        }
        Ok(Self { n: n as f64, mean, variance: sd.filter(|_| n >= 2).map(|sd| sd * sd) })
    }
}

/// One treatment against control. `None` marks what the data leave undefined.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verdict {
    /// `mean_t − mean_c`; `None` when an arm has no units.
    pub diff: Option<f64>,
    /// `diff / mean_c`.
    pub rel_lift: Option<f64>,
    /// `diff / se`, `se = √(v_t/n_t + v_c/n_c)`.
    pub statistic: Option<f64>,
    /// Welch–Satterthwaite degrees of freedom (means only).
    pub df: Option<f64>,
    pub p_value: Option<f64>,
    /// Holm over the metric's treatments (an undefined p-value counts as 1).
    pub holm_p_value: f64,
    /// The confidence level of the intervals: `1 − α·p/p_holm`, Holm's level for this comparison.
    pub level: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    /// Fieller's interval of the relative lift from the same statistic; `None` when the
    /// control mean is itself not distinguishable from 0 at the level (the set is unbounded).
    pub rel_ci_low: Option<f64>,
    pub rel_ci_high: Option<f64>,
    /// `holm_p_value < alpha`, equivalently: the intervals exclude 0.
    pub significant: bool,
}

/// The verdicts of every treatment of one metric against the control, in order.
/// Fails only on a sequential horizon with an invalid N*.
pub fn verdicts(scale: Scale, control: ArmSummary, treatments: &[ArmSummary], settings: TestSettings, horizon: Horizon) -> Result<Vec<Verdict>> {
    let reference = |treatment: &ArmSummary| match horizon {
        Horizon::Fixed => Ok(Reference::Fixed),
        Horizon::Sequential { tuning_n } => {
            ConfidenceSequence::new(control.n + treatment.n, settings.alpha, tuning_n).map(Reference::Sequence)
        }
    };
    let tests: Vec<Test> = treatments
        .iter()
        .map(|t| Ok(Test::new(scale, reference(t)?, control, *t, settings.alternative)))
        .collect::<Result<_>>()?;
    let p_values: Vec<f64> = tests.iter().map(|t| t.p_value.unwrap_or(1.0)).collect();
    let holm = adjust_pvalues(&p_values, Correction::Holm).expect("p-values computed here lie in [0, 1]");
    let m = treatments.len() as f64;
    Ok(tests
        .iter()
        .zip(holm)
        .map(|(test, holm_p_value)| {
            // The level at which Holm's step-down tests this comparison: α/(m − i + 1) for
            // the i-th smallest p-value unless an earlier step binds. At p = 0 (an underflow)
            // the ratio is 0/0 and Bonferroni's α/m, Holm's smallest level, stands in.
            let alpha = match test.p_value {
                Some(p) if holm_p_value > 0.0 => settings.alpha * p / holm_p_value,
                Some(_) => settings.alpha / m,
                None => settings.alpha,
            };
            test.verdict(control, alpha, holm_p_value, settings)
        })
        .collect())
}

/// What the statistic is referred to.
#[derive(Debug, Clone, Copy)]
enum Reference {
    /// z or Welch's t, by the scale.
    Fixed,
    Sequence(ConfidenceSequence),
}

/// The statistic of one comparison before the level of its intervals is known.
struct Test {
    scale: Scale,
    reference: Reference,
    treatment: ArmSummary,
    diff: Option<f64>,
    /// `(v_t/n_t, v_c/n_c)`.
    variances: Option<(f64, f64)>,
    statistic: Option<f64>,
    df: Option<f64>,
    p_value: Option<f64>,
}

impl Test {
    fn new(scale: Scale, reference: Reference, control: ArmSummary, treatment: ArmSummary, alternative: Alternative) -> Self {
        let diff = (control.n > 0.0 && treatment.n > 0.0).then_some(treatment.mean - control.mean);
        let variances = control.variance.zip(treatment.variance).map(|(v_c, v_t)| (v_t / treatment.n, v_c / control.n));
        let undefined = Self { scale, reference, treatment, diff, variances, statistic: None, df: None, p_value: None };
        let (Some(diff), Some((a, b))) = (diff, variances) else { return undefined };
        let se2 = a + b;
        if !(se2 > 0.0 && se2.is_finite()) {
            return undefined;
        }
        let statistic = diff / se2.sqrt();
        let (df, p_value) = match (reference, scale) {
            (Reference::Sequence(sequence), _) => (None, sequential_p_value(sequence, statistic, alternative)),
            (Reference::Fixed, Scale::Proportion) => (None, alternative.p_value(statistic, normal_sf)),
            (Reference::Fixed, Scale::Mean) => {
                let df = se2 * se2 / (a * a / (treatment.n - 1.0) + b * b / (control.n - 1.0));
                if !(df.is_finite() && df > 0.0) {
                    return undefined;
                }
                (Some(df), alternative.p_value(statistic, |x| t_sf(x, df)))
            }
        };
        Self { scale, reference, treatment, diff: Some(diff), variances, statistic: Some(statistic), df, p_value: Some(p_value) }
    }

    fn verdict(&self, control: ArmSummary, alpha: f64, holm_p_value: f64, settings: TestSettings) -> Verdict {
        let rel_lift = self.diff.filter(|_| control.mean != 0.0).map(|diff| diff / control.mean);
        let mut verdict = Verdict {
            diff: self.diff,
            rel_lift,
            statistic: self.statistic,
            df: self.df,
            p_value: self.p_value,
            holm_p_value,
            level: None,
            ci_low: None,
            ci_high: None,
            rel_ci_low: None,
            rel_ci_high: None,
            significant: holm_p_value < settings.alpha,
        };
        let (Some(_), Some(diff), Some((a, b))) = (self.statistic, self.diff, self.variances) else { return verdict };
        let tail = settings.alternative.tail_alpha(alpha);
        let critical = match (self.reference, self.scale, self.df) {
            // A one-sided bound is one side of the two-sided sequence at twice the level.
            (Reference::Sequence(sequence), _, _) => sequence.critical(2.0 * tail),
            (Reference::Fixed, Scale::Mean, Some(df)) => t_isf(tail, df),
            _ => normal_isf(tail),
        };
        let (low, high) = settings.alternative.interval(diff, critical, (a + b).sqrt());
        verdict.level = Some(1.0 - alpha);
        verdict.ci_low = Some(low);
        verdict.ci_high = Some(high);
        if let Some((low, high)) = fieller(control.mean, self.treatment.mean, a, b, critical, settings.alternative) {
            verdict.rel_ci_low = Some(low - 1.0);
            verdict.rel_ci_high = Some(high - 1.0);
        }
        verdict
    }
}

/// The always-valid p-value of the sequence, the dual of its bounds: two-sided as the
/// sequence gives it; one-sided, half of it in the alternative's direction and 1 against it.
fn sequential_p_value(sequence: ConfidenceSequence, statistic: f64, alternative: Alternative) -> f64 {
    let two_sided = sequence.p_value(statistic);
    match alternative {
        Alternative::TwoSided => two_sided,
        Alternative::Larger if statistic > 0.0 => two_sided / 2.0,
        Alternative::Smaller if statistic < 0.0 => two_sided / 2.0,
        Alternative::Larger | Alternative::Smaller => 1.0,
    }
}

/// Fieller's interval of `θ = μ_t/μ_c`: the θ that the statistic
/// `T(θ) = (m_t − θ·m_c)/√(a + θ²b)` does not reject at `critical` (`a = v_t/n_t`,
/// `b = v_c/n_c`). `T(1)` is the test's own statistic, so the interval excludes 1 exactly when
/// the test rejects. Bounded when `m_c² > critical²·b`; `None` otherwise.
fn fieller(m_c: f64, m_t: f64, a: f64, b: f64, critical: f64, alternative: Alternative) -> Option<(f64, f64)> {
    let c2 = critical * critical;
    // T(θ)² = c² ⇔ Aθ² − 2Bθ + C = 0.
    let big_a = m_c * m_c - c2 * b;
    if !(big_a > 0.0 && big_a.is_finite()) {
        return None;
    }
    let big_b = m_t * m_c;
    let big_c = m_t * m_t - c2 * a;
    // B² − AC rewritten without the cancellation: c²(aA + b·m_t²) ≥ 0.
    let root_d = (c2 * (a * big_a + b * m_t * m_t)).sqrt();
    // The numerically stable pair of roots: q/A and C/q.
    let q = if big_b >= 0.0 { big_b + root_d } else { big_b - root_d };
    let (r1, r2) = if q == 0.0 { (0.0, 0.0) } else { (q / big_a, big_c / q) };
    let (low, high) = (r1.min(r2), r1.max(r2));
    // With m_c > 0, T falls from above c to below −c: T(low) = c, T(high) = −c; reversed for m_c < 0.
    let rising = m_c < 0.0;
    Some(match (alternative, rising) {
        (Alternative::TwoSided, _) => (low, high),
        (Alternative::Larger, false) | (Alternative::Smaller, true) => (low, f64::INFINITY),
        (Alternative::Larger, true) | (Alternative::Smaller, false) => (f64::NEG_INFINITY, high),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(alternative: &str) -> TestSettings {
        TestSettings::new(0.05, alternative).unwrap()
    }

    fn excludes_zero(low: Option<f64>, high: Option<f64>) -> Option<bool> {
        Some(low? > 0.0 || high? < 0.0)
    }

    #[test]
    fn significance_and_every_interval_agree_over_a_grid() {
        let mut checked = 0;
        for (alternative, horizon) in ["two-sided", "larger", "smaller"]
            .into_iter()
            .flat_map(|a| [(a, Horizon::Fixed), (a, Horizon::Sequential { tuning_n: 5000.0 })])
        {
            for arms in 1..=4 {
                for n in [3, 40, 5000] {
                    for shift in [-0.3, -0.05, 0.0, 0.02, 0.08, 0.4] {
                        let control = ArmSummary::mean(10.0, Some(6.0), n).unwrap();
                        let treatments: Vec<_> = (0..arms)
                            .map(|i| ArmSummary::mean(10.0 * (1.0 + shift * (i + 1) as f64 / arms as f64), Some(7.0), n + i).unwrap())
                            .collect();
                        for v in verdicts(Scale::Mean, control, &treatments, settings(alternative), horizon).unwrap() {
                            assert_eq!(excludes_zero(v.ci_low, v.ci_high), Some(v.significant), "{v:?}");
                            if let Some(rel) = excludes_zero(v.rel_ci_low, v.rel_ci_high) {
                                assert_eq!(rel, v.significant, "{v:?}");
                                checked += 1;
                            }
                        }
                        let control = ArmSummary::proportion(n / 10, n).unwrap();
                        let treatments: Vec<_> =
                            (0..arms).map(|i| ArmSummary::proportion(((n as f64 / 10.0) * (1.0 + shift * i as f64)) as i64, n).unwrap()).collect();
                        for v in verdicts(Scale::Proportion, control, &treatments, settings(alternative), horizon).unwrap() {
                            assert_eq!(excludes_zero(v.ci_low, v.ci_high).unwrap_or(false), v.significant, "{v:?}");
                            if let Some(rel) = excludes_zero(v.rel_ci_low, v.rel_ci_high) {
                                assert_eq!(rel, v.significant, "{v:?}");
                            }
                        }
                    }
                }
            }
        }
        assert!(checked > 600, "{checked}");
    }

    /// The sequential verdict of two arms is the asymptotic confidence sequence itself, the
    /// one `ab_seq_ttest_agg` reports (whose golden vectors come from GrowthBook's formula).
    #[test]
    fn a_sequential_verdict_of_two_arms_is_the_confidence_sequence() {
        use crate::moments::{Moments, TwoGroups};
        use crate::sequential::seq_ttest_of_groups;
        let mut groups = TwoGroups::<Moments>::default();
        for i in 0..400 {
            groups.control.push((i % 17) as f64);
            groups.treatment.push((i % 13) as f64 + 0.9);
        }
        let sequence = seq_ttest_of_groups(&groups, 0.05, 5000.0).unwrap().unwrap();
        let arm = |m: &Moments| ArmSummary::mean(m.mean(), m.variance().map(f64::sqrt), m.count() as i64).unwrap();
        let horizon = Horizon::Sequential { tuning_n: 5000.0 };
        let v = verdicts(Scale::Mean, arm(&groups.control), &[arm(&groups.treatment)], settings("two-sided"), horizon).unwrap();
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs().max(1.0);
        assert!(close(v[0].p_value.unwrap(), sequence.p_value), "{v:?} {sequence:?}");
        assert!(close(v[0].ci_low.unwrap(), sequence.cs_low) && close(v[0].ci_high.unwrap(), sequence.cs_high), "{v:?} {sequence:?}");
        let fixed = verdicts(Scale::Mean, arm(&groups.control), &[arm(&groups.treatment)], settings("two-sided"), Horizon::Fixed).unwrap();
        assert!(fixed[0].p_value < v[0].p_value && fixed[0].ci_high < v[0].ci_high, "{fixed:?} {v:?}");
        let bad = verdicts(Scale::Mean, arm(&groups.control), &[arm(&groups.treatment)], settings("two-sided"), Horizon::Sequential { tuning_n: 0.0 });
        assert_eq!(bad.unwrap_err().argument, "tuning_n");
    }

    #[test]
    fn fieller_bounds_make_the_statistic_equal_the_critical_value() {
        let (m_c, m_t, a, b, c) = (2.0, 2.6, 0.04, 0.05, 1.96);
        let (low, high) = fieller(m_c, m_t, a, b, c, Alternative::TwoSided).unwrap();
        let t = |theta: f64| (m_t - theta * m_c) / (a + theta * theta * b).sqrt();
        assert!((t(low) - c).abs() < 1e-12 && (t(high) + c).abs() < 1e-12, "{low} {high}");
        assert_eq!(fieller(-m_c, -m_t, a, b, c, Alternative::Larger).unwrap().0, f64::NEG_INFINITY);
        // A control mean within noise of 0: any ratio is compatible.
        assert_eq!(fieller(0.1, 2.0, a, b, c, Alternative::TwoSided), None);
    }

    #[test]
    fn one_arm_of_one_unit_leaves_the_test_undefined_and_counts_as_p_1() {
        let control = ArmSummary::mean(1.0, None, 1).unwrap();
        let v = verdicts(Scale::Mean, control, &[ArmSummary::mean(2.0, Some(1.0), 5).unwrap()], settings("two-sided"), Horizon::Fixed).unwrap();
        assert_eq!((v[0].p_value, v[0].holm_p_value, v[0].ci_low, v[0].significant), (None, 1.0, None, false));
        assert!(ArmSummary::proportion(3, 2).is_err() && ArmSummary::mean(1.0, Some(-1.0), 3).is_err());
        let empty = verdicts(Scale::Proportion, ArmSummary::proportion(0, 0).unwrap(), &[ArmSummary::proportion(1, 4).unwrap()], settings("larger"), Horizon::Fixed)
            .unwrap();
        assert_eq!((empty[0].diff, empty[0].p_value, empty[0].holm_p_value), (None, None, 1.0));
    }
}
