//! Planning an experiment in SQL: sample size, power, minimum detectable effect, duration.

use crate::sql_glue::OrRaise;
use ab_core::planning::{self, Design, RatePair};
use pgrx::prelude::*;

/// Units per variant to detect a change of a conversion rate.
#[pg_extern(immutable, strict, parallel_safe)]
fn ab_sample_size_prop(
    baseline: f64,
    mde: f64,
    alpha: default!(f64, 0.05),
    power: default!(f64, 0.8),
    relative: default!(bool, true),
    alternative: default!(&str, "'two-sided'"),
    comparisons: default!(i32, 1),
) -> i64 {
    let rates = RatePair::new(baseline, mde, relative).or_raise();
    let design = Design::new(alpha, alternative, comparisons).or_raise();
    planning::sample_size_prop(rates, power, design).or_raise()
}

/// Units per variant to detect an absolute change `mde` of a mean.
#[pg_extern(immutable, strict, parallel_safe)]
fn ab_sample_size_mean(
    sd: f64,
    mde: f64,
    alpha: default!(f64, 0.05),
    power: default!(f64, 0.8),
    alternative: default!(&str, "'two-sided'"),
    comparisons: default!(i32, 1),
) -> i64 {
    let design = Design::new(alpha, alternative, comparisons).or_raise();
    planning::sample_size_mean(sd, mde, power, design).or_raise()
}

/// The power to detect a change of a conversion rate with n units per variant.
#[pg_extern(immutable, strict, parallel_safe)]
fn ab_power_prop(
    baseline: f64,
    mde: f64,
    n_per_variant: i64,
    alpha: default!(f64, 0.05),
    relative: default!(bool, true),
    alternative: default!(&str, "'two-sided'"),
    comparisons: default!(i32, 1),
) -> f64 {
    let rates = RatePair::new(baseline, mde, relative).or_raise();
    let design = Design::new(alpha, alternative, comparisons).or_raise();
    planning::power_prop(rates, n_per_variant, design).or_raise()
}

/// The power to detect an absolute change `mde` of a mean with n units per variant.
#[pg_extern(immutable, strict, parallel_safe)]
fn ab_power_mean(
    sd: f64,
    mde: f64,
    n_per_variant: i64,
    alpha: default!(f64, 0.05),
    alternative: default!(&str, "'two-sided'"),
    comparisons: default!(i32, 1),
) -> f64 {
    let design = Design::new(alpha, alternative, comparisons).or_raise();
    planning::power_mean(sd, mde, n_per_variant, design).or_raise()
}

/// The smallest detectable increase of a conversion rate with n units per variant.
#[pg_extern(immutable, strict, parallel_safe)]
fn ab_mde_prop(
    baseline: f64,
    n_per_variant: i64,
    alpha: default!(f64, 0.05),
    power: default!(f64, 0.8),
    relative: default!(bool, true),
    alternative: default!(&str, "'two-sided'"),
    comparisons: default!(i32, 1),
) -> Option<f64> {
    let design = Design::new(alpha, alternative, comparisons).or_raise();
    planning::mde_prop(baseline, n_per_variant, power, relative, design).or_raise()
}

/// The smallest detectable absolute change of a mean with n units per variant.
#[pg_extern(immutable, strict, parallel_safe)]
fn ab_mde_mean(
    sd: f64,
    n_per_variant: i64,
    alpha: default!(f64, 0.05),
    power: default!(f64, 0.8),
    alternative: default!(&str, "'two-sided'"),
    comparisons: default!(i32, 1),
) -> f64 {
    let design = Design::new(alpha, alternative, comparisons).or_raise();
    planning::mde_mean(sd, n_per_variant, power, design).or_raise()
}

/// Days until every variant has n units.
#[pg_extern(immutable, strict, parallel_safe)]
fn ab_duration_days(
    n_per_variant: i64,
    variants: i32,
    daily_traffic: f64,
    traffic_fraction: default!(f64, 1.0),
) -> i32 {
    planning::duration_days(n_per_variant, variants, daily_traffic, traffic_fraction).or_raise()
}
