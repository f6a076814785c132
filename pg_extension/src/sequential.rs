//! Sequential testing, quantiles and outlier capping: `ab_msprt`, `ab_msprt_agg`,
//! `ab_seq_ttest_agg`, `ab_quantile_test`, `ab_winsorize`.

use crate::sql_glue::{elements, record, OrRaise};
use ab_core::{outliers, quantile, sequential};
use pgrx::pg_sys;
use pgrx::prelude::*;

/// Mixture SPRT at one look: always-valid p-value and confidence sequence of a difference
/// with variance `variance`, mixing over N(0, tau2).
#[pg_extern(immutable, strict, parallel_safe)]
fn ab_msprt(
    diff: f64,
    variance: f64,
    tau2: f64,
    alpha: default!(f64, 0.05),
    fcinfo: pg_sys::FunctionCallInfo,
) -> pgrx::composite_type!('static, "ab_sequential_result") {
    record("ab_sequential_result", fcinfo, &sequential::msprt(diff, variance, tau2, alpha).or_raise())
}

/// The difference of the q-quantiles (median: 0.5) of two arms, with an order-statistic CI;
/// give the arms as arrays (`array_agg(value) FILTER (WHERE NOT is_treatment)`, …).
#[pg_extern(immutable, strict, parallel_safe)]
fn ab_quantile_test(
    control: Array<f64>,
    treatment: Array<f64>,
    q: f64,
    alpha: default!(f64, 0.05),
    fcinfo: pg_sys::FunctionCallInfo,
) -> pgrx::composite_type!('static, "ab_quantile_result") {
    let (control, treatment) = (elements("control", &control), elements("treatment", &treatment));
    record("ab_quantile_result", fcinfo, &quantile::quantile_test(&control, &treatment, q, alpha).or_raise())
}

/// `value` capped to [lo, hi].
#[pg_extern(immutable, strict, parallel_safe)]
fn ab_winsorize(value: f64, lo: f64, hi: f64) -> f64 {
    outliers::winsorize(value, lo, hi).or_raise()
}

// ---- ab_msprt_agg(is_treatment, value, tau2 [, alpha]) and
//      ab_seq_ttest_agg(is_treatment, value [, alpha [, tuning_n]]) ----
//
// Declared in the table of aggregates.rs. Both keep ab_ttest_agg's state (moments per arm), so
// its combine, serialize and deserialize functions serve them; the first row's tau2 or tuning_n
// is kept with alpha in the state.

use crate::sql_glue::finite;
use ab_core::aggregate::TestState;
use ab_core::moments::Moments;
use ab_core::sequential::AlwaysValid;

fn push_row(
    state: &mut TestState<Moments>,
    is_treatment: bool,
    value: f64,
    alpha: f64,
    (parameter, check): (f64, fn(f64) -> ab_core::Result<f64>),
) {
    state.use_settings(alpha, "two-sided").or_raise();
    state.use_parameter(parameter, check).or_raise();
    state.groups.group_mut(is_treatment).push(finite("value", value));
}

pub(crate) fn msprt_push(state: &mut TestState<Moments>, is_treatment: bool, value: f64, tau2: f64, alpha: f64) {
    push_row(state, is_treatment, value, alpha, (tau2, sequential::check_tau2));
}

pub(crate) fn msprt_result(state: &TestState<Moments>) -> Option<AlwaysValid> {
    sequential::msprt_of_groups(&state.groups, state.parameter?, state.settings_or_default().alpha).or_raise()
}

pub(crate) fn seq_ttest_push(state: &mut TestState<Moments>, is_treatment: bool, value: f64, alpha: f64, tuning_n: f64) {
    push_row(state, is_treatment, value, alpha, (tuning_n, sequential::check_tuning_n));
}

pub(crate) fn seq_ttest_result(state: &TestState<Moments>) -> Option<AlwaysValid> {
    let tuning_n = state.parameter.unwrap_or(sequential::DEFAULT_TUNING_N);
    sequential::seq_ttest_of_groups(&state.groups, state.settings_or_default().alpha, tuning_n).or_raise()
}
