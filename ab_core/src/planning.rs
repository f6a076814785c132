//! Planning an experiment: sample size, power, minimum detectable effect and duration
//! (formulas in `docs/statistics.md`).

use crate::alternative::Alternative;
use crate::dist::{normal_isf, normal_sf};
use crate::error::{check_at_least, check_open_unit, check_positive, InvalidArgument, Result};

/// The power a plan aims at when none is given.
pub const DEFAULT_POWER: f64 = 0.8;

/// The smallest `alpha` the planning arithmetic takes: below the smallest normal double,
/// alpha split among the comparisons and tails can round to 0, whose quantile is infinite.
pub const MIN_ALPHA: f64 = f64::MIN_POSITIVE;
/// The smallest `power`: below 2^-53, 1 − power rounds to 1, whose quantile is infinite.
pub const MIN_POWER: f64 = f64::EPSILON / 2.0;

/// `power` in [`MIN_POWER`, 1).
pub fn check_power(power: f64) -> Result<f64> {
    check_open_unit("power", power)?;
    if power < MIN_POWER {
        return Err(InvalidArgument::new("power", format!("must be at least {MIN_POWER:e}, got {power:e}")));
    }
    Ok(power)
}

/// What every planning function shares: alpha, power and how many comparisons split alpha.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Design {
    pub alpha: f64,
    pub alternative: Alternative,
    pub comparisons: i32,
}

impl Design {
    /// `alpha` in [`MIN_ALPHA`, 1).
    pub fn new(alpha: f64, alternative: &str, comparisons: i32) -> Result<Self> {
        check_open_unit("alpha", alpha)?;
        if alpha < MIN_ALPHA {
            return Err(InvalidArgument::new("alpha", format!("must be at least {MIN_ALPHA:e}, got {alpha:e}")));
        }
        if comparisons < 1 {
            return Err(InvalidArgument::new("comparisons", format!("must be at least 1, got {comparisons}")));
        }
        Ok(Self { alpha, alternative: Alternative::parse(alternative)?, comparisons })
    }

    /// `z_{1−α'}` with α' = alpha/comparisons, halved when two-sided.
    fn z_alpha(&self) -> f64 {
        normal_isf(self.alternative.tail_alpha(self.alpha / f64::from(self.comparisons)))
    }
}

/// The two rates compared: baseline and baseline moved by the effect.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatePair {
    baseline: f64,
    target: f64,
}

impl RatePair {
    /// `baseline·(1 + mde)` when `relative`, else `baseline + mde`.
    pub fn new(baseline: f64, mde: f64, relative: bool) -> Result<Self> {
        check_open_unit("baseline", baseline)?;
        if !(mde.is_finite() && mde != 0.0) {
            return Err(InvalidArgument::new("mde", format!("must be a finite non-zero effect, got {mde}")));
        }
        let target = if relative { baseline * (1.0 + mde) } else { baseline + mde };
        if !(target > 0.0 && target < 1.0) {
            return Err(InvalidArgument::new(
                "mde",
                format!("moves the baseline {baseline} to {target}, outside (0, 1)"),
            ));
        }
        Ok(Self { baseline, target })
    }

    fn variance_sum(&self) -> f64 {
        self.baseline * (1.0 - self.baseline) + self.target * (1.0 - self.target)
    }

    fn effect(&self) -> f64 {
        (self.target - self.baseline).abs()
    }
}

/// Units per variant to detect the rate change with the given power.
pub fn sample_size_prop(rates: RatePair, power: f64, design: Design) -> Result<i64> {
    let z_power = normal_isf(1.0 - check_power(power)?);
    let z = design.z_alpha() + z_power;
    ceil_to_count("mde", z * z * rates.variance_sum() / (rates.effect() * rates.effect()))
}

/// Units per variant to detect an absolute change `mde` of a mean with standard deviation `sd`.
pub fn sample_size_mean(sd: f64, mde: f64, power: f64, design: Design) -> Result<i64> {
    check_positive("sd", sd)?;
    let mde = check_nonzero_effect(mde)?;
    let z_power = normal_isf(1.0 - check_power(power)?);
    let z = design.z_alpha() + z_power;
    ceil_to_count("mde", 2.0 * z * z * sd * sd / (mde * mde))
}

fn check_nonzero_effect(mde: f64) -> Result<f64> {
    if mde.is_finite() && mde != 0.0 {
        Ok(mde)
    } else {
        Err(InvalidArgument::new("mde", format!("must be a finite non-zero effect, got {mde}")))
    }
}

fn ceil_to_count(argument: &'static str, n: f64) -> Result<i64> {
    let n = n.ceil();
    if n.is_finite() && n < i64::MAX as f64 {
        Ok(n as i64)
    } else {
        Err(InvalidArgument::new(argument, "is too small: the sample size does not fit in int8"))
    }
}

/// The power of a test of the rate change with `n` units per variant.
pub fn power_prop(rates: RatePair, n_per_variant: i64, design: Design) -> Result<f64> {
    let n = check_at_least("n_per_variant", n_per_variant, 1)? as f64;
    Ok(normal_sf(design.z_alpha() - rates.effect() * n.sqrt() / rates.variance_sum().sqrt()))
}

/// The power of a test of an absolute change `mde` of a mean with `n` units per variant.
pub fn power_mean(sd: f64, mde: f64, n_per_variant: i64, design: Design) -> Result<f64> {
    check_positive("sd", sd)?;
    let mde = check_nonzero_effect(mde)?;
    let n = check_at_least("n_per_variant", n_per_variant, 1)? as f64;
    Ok(normal_sf(design.z_alpha() - mde.abs() * (n / 2.0).sqrt() / sd))
}

/// Halvings of `mde_prop`'s bracket at most: the bracket (baseline, 1] is at most 1 wide and
/// a double has 1074 binary places below 1 (subnormals included), so it stops shrinking
/// before this; each step is a few flops, so the cap is microseconds. The other planning
/// functions are closed forms: no input makes them loop.
const MAX_BISECTION_STEPS: usize = 1100;

/// The smallest rate increase detectable with `n` units per variant, relative to the baseline
/// or absolute; `None` when no rate below 1 is detectable.
pub fn mde_prop(baseline: f64, n_per_variant: i64, power: f64, relative: bool, design: Design) -> Result<Option<f64>> {
    check_open_unit("baseline", baseline)?;
    let n = check_at_least("n_per_variant", n_per_variant, 1)? as f64;
    let z_power = normal_isf(1.0 - check_power(power)?);
    let z2 = (design.z_alpha() + z_power).powi(2);
    let base_var = baseline * (1.0 - baseline);
    // Positive while the target rate is too close to the baseline to be detected.
    let shortfall = |target: f64| z2 * (base_var + target * (1.0 - target)) - n * (target - baseline).powi(2);
    if shortfall(1.0) > 0.0 {
        return Ok(None);
    }
    let (mut undetected, mut detected) = (baseline, 1.0);
    // Bisection to the last bit: the loop ends when the bracket stops shrinking.
    for _ in 0..MAX_BISECTION_STEPS {
        let mid = 0.5 * (undetected + detected);
        if mid <= undetected || mid >= detected {
            break;
        }
        if shortfall(mid) > 0.0 { undetected = mid } else { detected = mid }
    }
    let effect = detected - baseline;
    Ok(Some(if relative { effect / baseline } else { effect }))
}

/// The smallest absolute change of a mean detectable with `n` units per variant.
pub fn mde_mean(sd: f64, n_per_variant: i64, power: f64, design: Design) -> Result<f64> {
    check_positive("sd", sd)?;
    let n = check_at_least("n_per_variant", n_per_variant, 1)? as f64;
    let z_power = normal_isf(1.0 - check_power(power)?);
    Ok((design.z_alpha() + z_power) * sd * (2.0 / n).sqrt())
}

/// Days to reach `n_per_variant` units in each of `variants` arms.
pub fn duration_days(n_per_variant: i64, variants: i32, daily_traffic: f64, traffic_fraction: f64) -> Result<i32> {
    let n = check_at_least("n_per_variant", n_per_variant, 1)? as f64;
    let variants = check_at_least("variants", i64::from(variants), 1)? as f64;
    check_positive("daily_traffic", daily_traffic)?;
    if !(traffic_fraction > 0.0 && traffic_fraction <= 1.0) {
        return Err(InvalidArgument::new(
            "traffic_fraction",
            format!("must be in (0, 1], got {traffic_fraction}"),
        ));
    }
    let days = (n * variants / (daily_traffic * traffic_fraction)).ceil();
    if days <= f64::from(i32::MAX) {
        Ok(days as i32)
    } else {
        Err(InvalidArgument::new("daily_traffic", "is too small: the duration does not fit in int4"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpha_and_power_below_their_bounds_are_bad_input_in_every_engine() {
        assert!(Design::new(MIN_ALPHA, "two-sided", 1).is_ok());
        assert_eq!(Design::new(MIN_ALPHA / 2.0, "two-sided", 1).unwrap_err().argument, "alpha");
        assert_eq!(check_power(MIN_POWER), Ok(MIN_POWER));
        assert_eq!(check_power(MIN_POWER / 2.0).unwrap_err().argument, "power");
        let design = Design::new(0.05, "two-sided", 1).unwrap();
        assert_eq!(sample_size_mean(1.0, 0.1, MIN_POWER / 2.0, design).unwrap_err().argument, "power");
    }
}
