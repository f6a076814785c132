//! Bayesian comparisons and bandit weights: Beta-Binomial posteriors for conversion rates
//! (probability that treatment beats control and the expected loss of each choice, by
//! quadrature, not Monte Carlo), a normal approximation for means, and Thompson-sampling
//! weights P(arm is best). Definitions: `docs/statistics.md`.

use crate::records::{FieldValue, ResultRecord};
use crate::dist::{beta_pdf, beta_tails_within, normal_isf, normal_sf, MAX_SHAPE};
use crate::error::{check_difference, check_finite, InvalidArgument, Result};
use crate::quadrature::integrate;
use crate::work::Work;

/// Absolute error target of the integrals (the contract is 1e-6 relative on results ≥ 1e-7).
const TOLERANCE: f64 = 1e-14;
/// Level of the credible intervals.
const CREDIBLE: f64 = 0.95;
/// Arms `thompson_weights` accepts. Each weight is an integral of a product of k − 1 cdfs, so
/// the work grows as k²; 100 arms is nine times the experiments' variant limit. Small arms
/// take milliseconds; 100 arms of a million trials each need more than the call's budget
/// and fail with "limit exceeded".
pub const MAX_ARMS: usize = 100;

/// `ab_bayes_prop`'s and `ab_bayes_mean`'s result. The expected loss of a choice is how
/// much is given up, on average over the posterior, if the other arm is in fact better.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bayes {
    pub prob_t_better: f64,
    pub expected_loss_t: f64,
    pub expected_loss_c: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

impl ResultRecord for Bayes {
    const RECORD: &'static crate::records::Record = &crate::records::BAYES;
    fn values(&self) -> Vec<FieldValue> {
        [self.prob_t_better, self.expected_loss_t, self.expected_loss_c, self.ci_low, self.ci_high]
            .into_iter()
            .map(|v| FieldValue::Float(Some(v)))
            .collect()
    }
}

/// A Beta(a, b) posterior.
struct BetaPosterior {
    a: f64,
    b: f64,
}

impl BetaPosterior {
    /// The posterior Beta(prior_a + x, prior_b + n − x): limit exceeded, naming `n_name`, when
    /// a shape is beyond [`MAX_SHAPE`] (the counts are valid, the Beta is out of reach).
    fn new(prior_a: f64, prior_b: f64, x: i64, n: i64, n_name: &'static str) -> Result<Self> {
        let (a, b) = (prior_a + x as f64, prior_b + (n - x) as f64);
        if a > MAX_SHAPE || b > MAX_SHAPE {
            return Err(InvalidArgument::limit_exceeded(
                n_name,
                format!("the posterior Beta({a:?}, {b:?}) has a shape above {MAX_SHAPE:e}, beyond what the quadrature computes"),
            ));
        }
        Ok(Self { a, b })
    }

    fn mean(&self) -> f64 {
        self.a / (self.a + self.b)
    }

    fn variance(&self) -> f64 {
        let total = self.a + self.b;
        self.a * self.b / (total * total * (total + 1.0))
    }

    fn pdf(&self, x: f64) -> f64 {
        beta_pdf(self.a, self.b, x)
    }

    fn cdf(&self, x: f64, work: &Work) -> Result<f64> {
        Ok(beta_tails_within(self.a, self.b, x, 1.0 - x, work)?.0)
    }

    /// ∫₀ˣ y f(y) dy = mean · I_x(a + 1, b).
    fn partial_mean(&self, x: f64, work: &Work) -> Result<f64> {
        Ok(self.mean() * beta_tails_within(self.a + 1.0, self.b, x, 1.0 - x, work)?.0)
    }

    /// Where the density changes fast: around the mean, out to 50 standard deviations.
    fn breakpoints(&self) -> Vec<f64> {
        let (mean, sd) = (self.mean(), self.variance().sqrt());
        [-50.0, -30.0, -20.0, -12.0, -8.0, -5.0, -3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 5.0, 8.0, 12.0, 20.0, 30.0, 50.0]
            .iter()
            .map(|k| mean + k * sd)
            .collect()
    }
}

fn check_counts(x_name: &'static str, x: i64, n_name: &'static str, n: i64) -> Result<()> {
    if n < 1 {
        return Err(InvalidArgument::new(n_name, format!("must be at least 1, got {n}")));
    }
    if !(0..=n).contains(&x) {
        return Err(InvalidArgument::new(x_name, format!("must be between 0 and {n_name} ({n}), got {x}")));
    }
    Ok(())
}

/// A prior shape: positive, and at most [`MAX_SHAPE`] (a larger one is a posterior the
/// quadrature cannot compute whatever the data; in practice a typo).
fn check_prior(name: &'static str, value: f64) -> Result<f64> {
    if value > 0.0 && value <= MAX_SHAPE {
        Ok(value)
    } else {
        Err(InvalidArgument::new(name, format!("must be a positive number at most {MAX_SHAPE:e}, got {value:?}")))
    }
}

/// The posteriors Beta(prior_a + x, prior_b + n − x) of both rates: P(rate_t > rate_c), the
/// expected losses, and a 95% credible interval of rate_t − rate_c (normal approximation of
/// the difference of the two Betas).
pub fn bayes_prop(x_c: i64, n_c: i64, x_t: i64, n_t: i64, prior_a: f64, prior_b: f64) -> Result<Bayes> {
    check_counts("x_c", x_c, "n_c", n_c)?;
    check_counts("x_t", x_t, "n_t", n_t)?;
    let (prior_a, prior_b) = (check_prior("prior_a", prior_a)?, check_prior("prior_b", prior_b)?);
    let control = BetaPosterior::new(prior_a, prior_b, x_c, n_c, "n_c")?;
    let treatment = BetaPosterior::new(prior_a, prior_b, x_t, n_t, "n_t")?;
    let marks: Vec<f64> = control.breakpoints().into_iter().chain(treatment.breakpoints()).collect();
    // One budget for the whole call; running out of it blames the larger arm.
    let work = Work::new(if n_t > n_c { "n_t" } else { "n_c" });
    // P(T > C) = ∫ f_T(x) F_C(x) dx.
    let prob_t_better =
        integrate(|x| Ok(treatment.pdf(x) * control.cdf(x, &work)?), 0.0, 1.0, &marks, TOLERANCE, &work)?.clamp(0.0, 1.0);
    // E[(C − T)⁺] = ∫ f_C(x) ∫₀ˣ (x − y) f_T(y) dy dx.
    let loss_t = integrate(
        |x| Ok(control.pdf(x) * (x * treatment.cdf(x, &work)? - treatment.partial_mean(x, &work)?)),
        0.0,
        1.0,
        &marks,
        TOLERANCE,
        &work,
    )?
    .max(0.0);
    // E[(T − C)⁺] − E[(C − T)⁺] = E[T] − E[C].
    let loss_c = (loss_t + treatment.mean() - control.mean()).max(0.0);
    let diff = treatment.mean() - control.mean();
    let half_width = normal_isf((1.0 - CREDIBLE) / 2.0) * (treatment.variance() + control.variance()).sqrt();
    Ok(Bayes { prob_t_better, expected_loss_t: loss_t, expected_loss_c: loss_c, ci_low: diff - half_width, ci_high: diff + half_width })
}

fn standard_normal_pdf(z: f64) -> f64 {
    (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Normal approximation for a difference of means with a flat prior: D ~ N(diff, se²),
/// se² = sd_t²/n_t + sd_c²/n_c. `None` when se is 0 (no uncertainty to speak of).
pub fn bayes_mean(control: (f64, f64, i64), treatment: (f64, f64, i64)) -> Result<Option<Bayes>> {
    let arm = |(mean, sd, n): (f64, f64, i64), names: [&'static str; 3]| -> Result<(f64, f64)> {
        check_finite(names[0], mean)?;
        if !(sd.is_finite() && sd >= 0.0) {
            return Err(InvalidArgument::new(names[1], format!("must be a finite non-negative number, got {sd}")));
        }
        if n < 1 {
            return Err(InvalidArgument::new(names[2], format!("must be at least 1, got {n}")));
        }
        Ok((mean, sd * sd / n as f64))
    };
    let (mean_c, var_c) = arm(control, ["mean_c", "sd_c", "n_c"])?;
    let (mean_t, var_t) = arm(treatment, ["mean_t", "sd_t", "n_t"])?;
    // Finite arguments whose difference or variance overflows double precision would give NaN
    // probabilities: outside the domain, named by the larger side.
    let (diff, se) = (check_difference(mean_t, mean_c)?, (var_t + var_c).sqrt());
    if !se.is_finite() {
        let name = if var_t >= var_c { "sd_t" } else { "sd_c" };
        return Err(InvalidArgument::new(name, "the variance of the difference overflows double precision"));
    }
    if se == 0.0 {
        return Ok(None);
    }
    let z = diff / se;
    let half_width = normal_isf((1.0 - CREDIBLE) / 2.0) * se;
    Ok(Some(Bayes {
        prob_t_better: normal_sf(-z),
        // E[(−D)⁺] and E[D⁺] for D ~ N(diff, se²).
        expected_loss_t: se * standard_normal_pdf(z) - diff * normal_sf(z),
        expected_loss_c: se * standard_normal_pdf(z) + diff * normal_sf(-z),
        ci_low: diff - half_width,
        ci_high: diff + half_width,
    }))
}

/// Thompson-sampling weights: P(arm i has the highest rate) under Beta(1 + s, 1 + trials − s)
/// posteriors, ∫ f_i(x) Π_{j≠i} F_j(x) dx. With `floor`, every arm gets at least `floor`
/// and the rest, 1 − k·floor, is split by those probabilities.
pub fn thompson_weights(successes: &[i64], trials: &[i64], floor: f64) -> Result<Vec<f64>> {
    if successes.len() != trials.len() {
        return Err(InvalidArgument::new(
            "successes",
            format!("has {} entries but trials has {}", successes.len(), trials.len()),
        ));
    }
    if successes.is_empty() {
        return Err(InvalidArgument::new("successes", "must not be empty"));
    }
    if successes.len() > MAX_ARMS {
        return Err(InvalidArgument::new("successes", format!("must have at most {MAX_ARMS} arms, got {}", successes.len())));
    }
    for (&s, &n) in successes.iter().zip(trials) {
        if n < 0 {
            return Err(InvalidArgument::new("trials", format!("must not be negative, got {n}")));
        }
        if !(0..=n).contains(&s) {
            return Err(InvalidArgument::new("successes", format!("must be between 0 and the arm's trials ({n}), got {s}")));
        }
    }
    let arms = successes.len() as f64;
    if !(floor.is_finite() && (0.0..=1.0 / arms).contains(&floor)) {
        return Err(InvalidArgument::new("floor", format!("must be between 0 and 1/arms ({}), got {floor}", 1.0 / arms)));
    }
    let posteriors: Vec<BetaPosterior> =
        successes.iter().zip(trials).map(|(&s, &n)| BetaPosterior::new(1.0, 1.0, s, n, "trials")).collect::<Result<_>>()?;
    let marks: Vec<f64> = posteriors.iter().flat_map(BetaPosterior::breakpoints).collect();
    let work = Work::new("trials");
    let best: Vec<f64> = (0..posteriors.len())
        .map(|i| {
            let others = |x: f64| -> Result<f64> {
                let mut product = 1.0;
                for (_, p) in posteriors.iter().enumerate().filter(|(j, _)| *j != i) {
                    product *= p.cdf(x, &work)?;
                }
                Ok(product)
            };
            Ok(integrate(|x| Ok(posteriors[i].pdf(x) * others(x)?), 0.0, 1.0, &marks, TOLERANCE, &work)?.max(0.0))
        })
        .collect::<Result<_>>()?;
    // The probabilities sum to 1 up to the quadrature error; make it exact.
    let total: f64 = best.iter().sum();
    Ok(best.iter().map(|p| floor + (1.0 - arms * floor) * p / total).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symmetric_arms_split_evenly_and_losses_balance() {
        let even = bayes_prop(100, 1000, 100, 1000, 1.0, 1.0).unwrap();
        assert!((even.prob_t_better - 0.5).abs() < 1e-12, "{even:?}");
        assert!((even.expected_loss_t - even.expected_loss_c).abs() < 1e-15);
        let weights = thompson_weights(&[5, 5, 5], &[50, 50, 50], 0.0).unwrap();
        assert!(weights.iter().all(|w| (w - 1.0 / 3.0).abs() < 1e-12), "{weights:?}");
        let floored = thompson_weights(&[0, 500], &[1000, 1000], 0.1).unwrap();
        assert!((floored[0] - 0.1).abs() < 1e-12 && (floored.iter().sum::<f64>() - 1.0).abs() < 1e-15);
    }

    #[test]
    fn bad_input_names_the_argument() {
        assert_eq!(bayes_prop(5, 0, 1, 10, 1.0, 1.0).unwrap_err().argument, "n_c");
        assert_eq!(bayes_prop(5, 10, 11, 10, 1.0, 1.0).unwrap_err().argument, "x_t");
        assert_eq!(bayes_prop(5, 10, 1, 10, 0.0, 1.0).unwrap_err().argument, "prior_a");
        assert_eq!(bayes_mean((1.0, -1.0, 10), (1.0, 1.0, 10)).unwrap_err().argument, "sd_c");
        assert_eq!(thompson_weights(&[1], &[1, 2], 0.0).unwrap_err().argument, "successes");
        assert_eq!(thompson_weights(&[3], &[2], 0.0).unwrap_err().argument, "successes");
        assert_eq!(thompson_weights(&[1, 1], &[2, 2], 0.6).unwrap_err().argument, "floor");
        assert!(bayes_mean((1.0, 0.0, 10), (2.0, 0.0, 10)).unwrap().is_none());
        // Finite but overflowing: an error, never NaN fields.
        assert_eq!(bayes_mean((1e308, 1e308, 1), (-1e308, 1e308, 1)).unwrap_err().argument, "mean_t");
        assert_eq!(bayes_mean((0.0, 1e200, 1), (1.0, 1.0, 1)).unwrap_err().argument, "sd_c");
    }

    /// Issue 27: a prior of 1e308 made every cdf run its continued fraction to its old
    /// budget of 1e7 terms, thousands of times, for hours. Now it is out of the domain, and
    /// the largest shapes in it still give the right answer.
    #[test]
    fn hostile_priors_are_rejected_at_once() {
        let start = std::time::Instant::now();
        let error = bayes_prop(100, 10000, 2, 10000, 123456789.123, 1e308).unwrap_err();
        assert_eq!((error.argument, error.kind), ("prior_b", crate::error::ErrorKind::Invalid), "{error}");
        for prior in [f64::NAN, f64::INFINITY, -1.0, 0.0, 1.0000001e13] {
            assert_eq!(bayes_prop(1, 10, 1, 10, prior, 1.0).unwrap_err().argument, "prior_a", "{prior}");
        }
        assert!(start.elapsed().as_secs_f64() < 0.1, "{:?}", start.elapsed());
        let edge = bayes_prop(1, 10, 1, 10, 1e-300, MAX_SHAPE - 9.0);
        // Symmetric arms: P = ½; at this extreme the contract (1e-6) holds, with 1e-8 to spare.
        assert!(edge.as_ref().is_ok_and(|r| (r.prob_t_better - 0.5).abs() < 1e-6), "{edge:?}");
        assert!(bayes_prop(1, 10, 1, 10, 1e-300, MAX_SHAPE - 8.0).unwrap_err().is_limit_exceeded());
    }

    /// Counts beyond the largest shape are valid input whose posterior is out of reach: a
    /// limit-exceeded error naming the count, at once.
    #[test]
    fn posteriors_beyond_the_largest_shape_are_out_of_reach() {
        let error = bayes_prop(5, 10, 1, 100_000_000_000_000, 1.0, 1.0).unwrap_err();
        assert!(error.is_limit_exceeded() && error.argument == "n_t", "{error}");
        let error = thompson_weights(&[1, 1], &[2, i64::MAX], 0.0).unwrap_err();
        assert!(error.is_limit_exceeded() && error.argument == "trials", "{error}");
        let error = thompson_weights(&[0; MAX_ARMS + 1], &[0; MAX_ARMS + 1], 0.0).unwrap_err();
        assert!(!error.is_limit_exceeded() && error.argument == "successes", "{error}");
    }

    /// Three arms converting at 8%, 12% and 9%: allocating each round's users by the
    /// weights moves the traffic to the 12% arm.
    #[test]
    fn thompson_weights_move_traffic_to_the_best_arm() {
        let rates = [0.08, 0.12, 0.09];
        let mut stream = crate::simulation::SplitMix64::new(20261125);
        let mut uniform = move || stream.uniform();
        let (mut successes, mut trials) = ([0i64; 3], [0i64; 3]);
        let mut history = Vec::new();
        for _round in 0..40 {
            let weights = thompson_weights(&successes, &trials, 0.0).unwrap();
            history.push(weights[1]);
            for _user in 0..500 {
                let draw = uniform();
                let arm = if draw < weights[0] { 0 } else if draw < weights[0] + weights[1] { 1 } else { 2 };
                trials[arm] += 1;
                successes[arm] += i64::from(uniform() < rates[arm]);
            }
        }
        let last = thompson_weights(&successes, &trials, 0.0).unwrap();
        assert!((history[0] - 1.0 / 3.0).abs() < 1e-12, "no data, equal weights");
        assert!(last[1] > 0.8, "the 12% arm should dominate: {last:?} after {trials:?}");
        assert!(trials[1] > trials[0] + trials[2], "{trials:?}");
    }
}
