//! Bayesian comparisons and bandit weights: `ab_bayes_prop`, `ab_bayes_mean`,
//! `ab_thompson_weights`.

use crate::sql_glue::{elements, record, OrRaise};
use ab_core::bayes;
use pgrx::pg_sys;
use pgrx::prelude::*;

/// Beta-Binomial posteriors of two conversion rates, control first: P(treatment better),
/// the expected loss of each choice (by quadrature) and a 95% credible interval of the
/// difference.
#[pg_extern(immutable, strict, parallel_safe)]
fn ab_bayes_prop(
    x_c: i64,
    n_c: i64,
    x_t: i64,
    n_t: i64,
    prior_a: default!(f64, 1.0),
    prior_b: default!(f64, 1.0),
    fcinfo: pg_sys::FunctionCallInfo,
) -> pgrx::composite_type!('static, "ab_bayes_result") {
    record("ab_bayes_result", fcinfo, &bayes::bayes_prop(x_c, n_c, x_t, n_t, prior_a, prior_b).or_raise())
}

/// Normal approximation (flat prior) for a difference of means, control first; NULL when
/// both standard deviations are 0.
#[pg_extern(immutable, strict, parallel_safe)]
fn ab_bayes_mean(
    mean_c: f64,
    sd_c: f64,
    n_c: i64,
    mean_t: f64,
    sd_t: f64,
    n_t: i64,
    fcinfo: pg_sys::FunctionCallInfo,
) -> Option<pgrx::composite_type!('static, "ab_bayes_result")> {
    bayes::bayes_mean((mean_c, sd_c, n_c), (mean_t, sd_t, n_t)).or_raise().map(|r| record("ab_bayes_result", fcinfo, &r))
}

/// P(arm is best) under Beta(1 + s, 1 + trials − s), by quadrature; every arm gets at
/// least `floor`.
#[pg_extern(immutable, strict, parallel_safe)]
fn ab_thompson_weights(successes: Array<i64>, trials: Array<i64>, floor: default!(f64, 0.0)) -> Vec<f64> {
    bayes::thompson_weights(&elements("successes", &successes), &elements("trials", &trials), floor).or_raise()
}
