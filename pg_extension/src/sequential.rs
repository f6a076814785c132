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
// Both keep ab_ttest_agg's state (moments per arm), so its combine, serialize and deserialize
// functions serve them; the first row's tau2 or tuning_n is kept with alpha in the state.

use crate::aggregates::{finite, state_mut, state_ref};
use ab_core::moments::Moments;
use pgrx::pg_sys::FunctionCallInfo;
use pgrx::Internal;

fn push_row(
    state: &mut Internal,
    is_treatment: bool,
    value: f64,
    alpha: f64,
    (parameter, check): (f64, fn(f64) -> ab_core::Result<f64>),
    fcinfo: FunctionCallInfo,
) {
    let current = state_mut::<Moments>(state, fcinfo);
    current.use_settings(alpha, "two-sided").or_raise();
    current.use_parameter(parameter, check).or_raise();
    current.groups.group_mut(is_treatment).push(finite("value", value));
}

#[pg_extern(immutable, parallel_safe, name = "ab_msprt_agg_sfunc")]
fn ab_msprt_agg_sfunc_plain(
    state: Internal,
    is_treatment: Option<bool>,
    value: Option<f64>,
    tau2: Option<f64>,
    fcinfo: FunctionCallInfo,
) -> Internal {
    ab_msprt_agg_sfunc_alpha(state, is_treatment, value, tau2, Some(0.05), fcinfo)
}

#[pg_extern(immutable, parallel_safe, name = "ab_msprt_agg_sfunc")]
fn ab_msprt_agg_sfunc_alpha(
    mut state: Internal,
    is_treatment: Option<bool>,
    value: Option<f64>,
    tau2: Option<f64>,
    alpha: Option<f64>,
    fcinfo: FunctionCallInfo,
) -> Internal {
    if let (Some(is_treatment), Some(value), Some(tau2), Some(alpha)) = (is_treatment, value, tau2, alpha) {
        push_row(&mut state, is_treatment, value, alpha, (tau2, sequential::check_tau2), fcinfo);
    }
    state
}

#[pg_extern(immutable, parallel_safe)]
fn ab_msprt_agg_final(state: Internal, fcinfo: FunctionCallInfo) -> Option<pgrx::composite_type!('static, "ab_sequential_result")> {
    let state = state_ref::<Moments>(&state)?;
    let tau2 = state.parameter?;
    sequential::msprt_of_groups(&state.groups, tau2, state.settings_or_default().alpha)
        .or_raise()
        .map(|r| record("ab_sequential_result", fcinfo, &r))
}

#[pg_extern(immutable, parallel_safe, name = "ab_seq_ttest_agg_sfunc")]
fn ab_seq_ttest_agg_sfunc_plain(state: Internal, is_treatment: Option<bool>, value: Option<f64>, fcinfo: FunctionCallInfo) -> Internal {
    ab_seq_ttest_agg_sfunc_tuning(state, is_treatment, value, Some(0.05), Some(sequential::DEFAULT_TUNING_N), fcinfo)
}

#[pg_extern(immutable, parallel_safe, name = "ab_seq_ttest_agg_sfunc")]
fn ab_seq_ttest_agg_sfunc_alpha(
    state: Internal,
    is_treatment: Option<bool>,
    value: Option<f64>,
    alpha: Option<f64>,
    fcinfo: FunctionCallInfo,
) -> Internal {
    ab_seq_ttest_agg_sfunc_tuning(state, is_treatment, value, alpha, Some(sequential::DEFAULT_TUNING_N), fcinfo)
}

#[pg_extern(immutable, parallel_safe, name = "ab_seq_ttest_agg_sfunc")]
fn ab_seq_ttest_agg_sfunc_tuning(
    mut state: Internal,
    is_treatment: Option<bool>,
    value: Option<f64>,
    alpha: Option<f64>,
    tuning_n: Option<f64>,
    fcinfo: FunctionCallInfo,
) -> Internal {
    if let (Some(is_treatment), Some(value), Some(alpha), Some(tuning_n)) = (is_treatment, value, alpha, tuning_n) {
        push_row(&mut state, is_treatment, value, alpha, (tuning_n, sequential::check_tuning_n), fcinfo);
    }
    state
}

#[pg_extern(immutable, parallel_safe)]
fn ab_seq_ttest_agg_final(state: Internal, fcinfo: FunctionCallInfo) -> Option<pgrx::composite_type!('static, "ab_sequential_result")> {
    let state = state_ref::<Moments>(&state)?;
    let tuning_n = state.parameter.unwrap_or(sequential::DEFAULT_TUNING_N);
    sequential::seq_ttest_of_groups(&state.groups, state.settings_or_default().alpha, tuning_n)
        .or_raise()
        .map(|r| record("ab_sequential_result", fcinfo, &r))
}
