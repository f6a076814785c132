//! Sequential testing, so people can peek: the mixture sequential probability ratio test
//! (mSPRT) with a normal mixture N(0, τ²) over the difference (Johari et al. 2017), and the
//! asymptotic confidence sequences of Waudby-Smith et al. (arXiv 2103.06476) as GrowthBook
//! ships them. Their p-values and confidence sequences are valid at every look, whenever
//! one stops.

use crate::records::{FieldValue, ResultRecord};
use crate::error::{check_finite, check_open_unit, check_positive, Result};
use crate::moments::{Moments, TwoGroups};

/// The result of every sequential test: an always-valid p-value and confidence sequence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlwaysValid {
    pub p_value: f64,
    pub cs_low: f64,
    pub cs_high: f64,
}

impl ResultRecord for AlwaysValid {
    const RECORD: &'static crate::records::Record = &crate::records::SEQUENTIAL;
    fn values(&self) -> Vec<FieldValue> {
        [self.p_value, self.cs_low, self.cs_high].into_iter().map(|v| FieldValue::Float(Some(v))).collect()
    }
}

/// The mSPRT at one look, from the observed difference and its variance V:
/// Λ = √(V/(V+τ²)) · exp(τ² diff² / (2V(V+τ²))), p = min(1, 1/Λ), and the confidence
/// sequence diff ± √((V(V+τ²)/τ²) · (−2 ln α + ln((V+τ²)/V))), the diffs where Λ < 1/α.
/// A p-value that may be reported over looks is the running minimum of these.
pub fn msprt(diff: f64, variance: f64, tau2: f64, alpha: f64) -> Result<AlwaysValid> {
    check_finite("diff", diff)?;
    let v = check_positive("variance", variance)?;
    let tau2 = check_tau2(tau2)?;
    let alpha = check_open_unit("alpha", alpha)?;
    let ln_lambda = 0.5 * (v / (v + tau2)).ln() + tau2 * diff * diff / (2.0 * v * (v + tau2));
    let half_width = (v * (v + tau2) / tau2 * (-2.0 * alpha.ln() + ((v + tau2) / v).ln())).sqrt();
    Ok(AlwaysValid { p_value: (-ln_lambda.max(0.0)).exp(), cs_low: diff - half_width, cs_high: diff + half_width })
}

/// The mSPRT of the difference of means of two groups, with V = s_t²/n_t + s_c²/n_c.
/// `None` while V is undefined or 0 (fewer than two units in an arm, no variance).
pub fn msprt_of_groups(groups: &TwoGroups<Moments>, tau2: f64, alpha: f64) -> Result<Option<AlwaysValid>> {
    let arm = |m: &Moments| m.variance().map(|var| var / m.count() as f64);
    let variance = match (arm(&groups.control), arm(&groups.treatment)) {
        (Some(c), Some(t)) if c + t > 0.0 => c + t,
        _ => {
            check_tau2(tau2)?;
            check_open_unit("alpha", alpha)?;
            return Ok(None);
        }
    };
    msprt(Moments::mean_difference(&groups.control, &groups.treatment), variance, tau2, alpha).map(Some)
}

/// τ² of the mSPRT's mixture: a positive finite number.
pub fn check_tau2(tau2: f64) -> Result<f64> {
    check_positive("tau2", tau2)
}

/// N* of the asymptotic confidence sequence: a positive finite number.
pub fn check_tuning_n(tuning_n: f64) -> Result<f64> {
    check_positive("tuning_n", tuning_n)
}

/// The tuning parameter N* of [`seq_ttest_of_groups`] when none is given: the sample size
/// at which the confidence sequence is tightest (GrowthBook's default).
pub const DEFAULT_TUNING_N: f64 = 5000.0;

/// The asymptotic confidence sequence of Waudby-Smith et al. (eq. 9) in GrowthBook's
/// parameterisation, at `n` units in all, designed for `alpha` with tuning parameter N*:
/// ρ² = (−2 ln α + ln(1 − 2 ln α)) / N*. Over a statistic `t = diff/SE` it rejects at a
/// level α' when |t| ≥ [`critical`](Self::critical)(α'), and its always-valid p-value is
/// the smallest such α'. Both work for any difference whose estimate is asymptotically
/// normal: means, and conversion rates (means of 0/1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConfidenceSequence {
    n: f64,
    rho2: f64,
}

impl ConfidenceSequence {
    pub fn new(n: f64, alpha: f64, tuning_n: f64) -> Result<Self> {
        let alpha = check_open_unit("alpha", alpha)?;
        let tuning_n = check_tuning_n(tuning_n)?;
        Ok(Self { n, rho2: (-2.0 * alpha.ln() + (-2.0 * alpha.ln()).ln_1p()) / tuning_n })
    }

    /// nρ² + 1.
    fn spread(&self) -> f64 {
        self.n * self.rho2 + 1.0
    }

    /// The half-width of the sequence at level `level_alpha`, in standard errors:
    /// √(2(nρ² + 1) ln(√(nρ² + 1)/α') / (nρ²)).
    pub fn critical(&self, level_alpha: f64) -> f64 {
        let spread = self.spread();
        (2.0 * spread * (spread.sqrt() / level_alpha).ln() / (self.n * self.rho2)).sqrt()
    }

    /// The always-valid two-sided p-value of `t = diff/SE`: 1/e with
    /// ln e = ρ²·n·t² / (2(nρ² + 1)) − ½ ln(nρ² + 1), capped at 1.
    pub fn p_value(&self, t: f64) -> f64 {
        let spread = self.spread();
        let ln_e = self.rho2 * self.n * t * t / (2.0 * spread) - 0.5 * spread.ln();
        (-ln_e.max(0.0)).exp()
    }
}

/// Asymptotic confidence sequence for a difference of means (Waudby-Smith et al., eq. 9;
/// GrowthBook's parameterisation) with n = n_t + n_c and SE² = s_t²/n_t + s_c²/n_c: the
/// sequence diff ± SE·critical(α) and its p-value ([`ConfidenceSequence`]). `None` while SE
/// is undefined or 0.
pub fn seq_ttest_of_groups(groups: &TwoGroups<Moments>, alpha: f64, tuning_n: f64) -> Result<Option<AlwaysValid>> {
    let n = (groups.control.count() + groups.treatment.count()) as f64;
    let sequence = ConfidenceSequence::new(n, alpha, tuning_n)?;
    let arm = |m: &Moments| m.variance().map(|var| var / m.count() as f64);
    let se = match (arm(&groups.control), arm(&groups.treatment)) {
        (Some(c), Some(t)) if c + t > 0.0 => (c + t).sqrt(),
        _ => return Ok(None),
    };
    let diff = Moments::mean_difference(&groups.control, &groups.treatment);
    let half_width = se * sequence.critical(alpha);
    Ok(Some(AlwaysValid { p_value: sequence.p_value(diff / se), cs_low: diff - half_width, cs_high: diff + half_width }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{ttest_of_groups, TestSettings};
    use crate::simulation::SplitMix64;

    /// 500 A/A experiments, 20 looks of 100 users per arm each: the mSPRT and the asymptotic
    /// confidence sequence are ever significant at α = 0.05 in at most 5% (plus three
    /// standard errors) of them; the fixed-horizon Welch test, peeked at the same looks, is not.
    #[test]
    fn peeking_at_the_msprt_keeps_its_error_rate() {
        const EXPERIMENTS: usize = 500;
        let (alpha, tau2) = (0.05, 0.01);
        let mut stream = SplitMix64::new(20261125);
        let (mut msprt_rejections, mut sequence_rejections, mut peeking_rejections) = (0, 0, 0);
        for _ in 0..EXPERIMENTS {
            let mut groups = TwoGroups::<Moments>::default();
            let (mut msprt_rejected, mut confidence_sequence_rejected, mut peeking_rejected) = (false, false, false);
            for _look in 0..20 {
                for _ in 0..100 {
                    groups.control.push(stream.normal());
                    groups.treatment.push(stream.normal());
                }
                let sequential = msprt_of_groups(&groups, tau2, alpha).unwrap().unwrap();
                msprt_rejected |= sequential.p_value <= alpha;
                let asymptotic = seq_ttest_of_groups(&groups, alpha, DEFAULT_TUNING_N).unwrap().unwrap();
                confidence_sequence_rejected |= asymptotic.p_value <= alpha;
                // The p-value is the confidence sequence's dual: significant iff 0 is outside.
                assert_eq!(asymptotic.p_value <= alpha, asymptotic.cs_low > 0.0 || asymptotic.cs_high < 0.0);
                let fixed = ttest_of_groups(&groups, TestSettings::default()).unwrap();
                peeking_rejected |= fixed.p_value.unwrap() <= alpha;
            }
            msprt_rejections += usize::from(msprt_rejected);
            sequence_rejections += usize::from(confidence_sequence_rejected);
            peeking_rejections += usize::from(peeking_rejected);
        }
        let share = |count: usize| count as f64 / EXPERIMENTS as f64;
        let bound = alpha + 3.0 * (alpha * (1.0 - alpha) / EXPERIMENTS as f64).sqrt();
        assert!(share(msprt_rejections) <= bound, "mSPRT ever significant in {}", share(msprt_rejections));
        assert!(share(sequence_rejections) <= bound, "confidence sequence ever significant in {}", share(sequence_rejections));
        assert!(share(peeking_rejections) > 0.15, "peeking at a t-test should inflate: {}", share(peeking_rejections));
        eprintln!(
            "ever significant over 20 looks: mSPRT {}, asymptotic CS {}, peeking t-test {}",
            share(msprt_rejections),
            share(sequence_rejections),
            share(peeking_rejections)
        );
    }

    #[test]
    fn bad_input_names_the_argument() {
        assert_eq!(msprt(0.1, 0.0, 1.0, 0.05).unwrap_err().argument, "variance");
        assert_eq!(msprt(0.1, 1.0, -1.0, 0.05).unwrap_err().argument, "tau2");
        assert_eq!(msprt(0.1, 1.0, 1.0, 1.0).unwrap_err().argument, "alpha");
        assert_eq!(msprt(f64::NAN, 1.0, 1.0, 0.05).unwrap_err().argument, "diff");
        assert!(msprt_of_groups(&TwoGroups::default(), 1.0, 0.05).unwrap().is_none());
        assert_eq!(seq_ttest_of_groups(&TwoGroups::default(), 0.05, 0.0).unwrap_err().argument, "tuning_n");
        assert_eq!(seq_ttest_of_groups(&TwoGroups::default(), 1.5, 5000.0).unwrap_err().argument, "alpha");
        assert!(seq_ttest_of_groups(&TwoGroups::default(), 0.05, 5000.0).unwrap().is_none());
    }
}
