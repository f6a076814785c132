//! The aggregates `ab_ztest_agg`, `ab_ttest_agg`, `ab_cuped_agg`, `ab_ratio_agg`,
//! `ab_ratio_cuped_agg` and `ab_interaction_agg`.
//!
//! Each keeps one `ab_core` accumulator per arm in an `internal` state allocated in the
//! aggregate's memory context, plus the test settings of its rows. Combine, serialize and
//! deserialize functions make them `PARALLEL SAFE` with partial aggregation: the state is at
//! most a few hundred bytes and merges exactly (Chan's formula), so a parallel plan returns
//! the serial answer. Rows with a NULL argument are skipped, as SPEC §4 asks.

use crate::comparisons::{cuped_row, ttest_row, ztest_row};
use crate::sql_glue::record;
use crate::sql_glue::OrRaise;
use ab_core::aggregate::TestState;
use ab_core::compare;
use ab_core::moments::{CoMomentMatrix, CoMoments, GroupState, Moments, Proportion, TwoGroups};
use ab_core::error::check_finite;
use pgrx::pg_sys::FunctionCallInfo;
use pgrx::prelude::*;
use pgrx::{pg_sys, Internal};

/// The state behind `internal`, allocated in the aggregate's memory context on first use
/// (the per-row context the function runs in is reset after every row).
pub(crate) fn state_mut<S: GroupState>(state: &mut Internal, fcinfo: FunctionCallInfo) -> &mut TestState<S> {
    // SAFETY: every `internal` this module receives was made by this function or by
    // `deserialize` for the same aggregate, so it points to an `TestState<S>`.
    unsafe {
        if !state.initialized() {
            let mut aggregate_context = std::ptr::null_mut();
            if pg_sys::AggCheckCallContext(fcinfo, &mut aggregate_context) == 0 {
                error!("pg_ab: aggregate support function called outside an aggregate");
            }
            let memory = pg_sys::MemoryContextAlloc(aggregate_context, std::mem::size_of::<TestState<S>>())
                .cast::<TestState<S>>();
            memory.write(TestState::default());
            *state = Internal::from(Some(pg_sys::Datum::from(memory)));
        }
        state.get_mut::<TestState<S>>().unwrap_or_else(|| error!("pg_ab: aggregate state is missing"))
    }
}

pub(crate) fn state_ref<S: GroupState>(state: &Internal) -> Option<&TestState<S>> {
    // SAFETY: as in `state_mut`.
    unsafe { state.get::<TestState<S>>() }
}

/// A value that must be finite: NaN or infinity in a metric is bad data, not a statistic.
pub(crate) fn finite(argument: &'static str, value: f64) -> f64 {
    check_finite(argument, value).or_raise()
}

fn combine<S: GroupState>(mut left: Internal, right: Internal, fcinfo: FunctionCallInfo) -> Internal {
    let Some(right) = state_ref::<S>(&right).copied() else { return left };
    state_mut::<S>(&mut left, fcinfo).merge(&right);
    left
}

fn serialize<S: GroupState>(state: Internal) -> Vec<u8> {
    state_ref::<S>(&state).map(TestState::to_bytes).unwrap_or_default()
}

fn deserialize<S: GroupState>(bytes: &[u8]) -> Internal {
    let state = TestState::<S>::from_bytes(bytes).unwrap_or_else(|| error!("pg_ab: corrupt aggregate state"));
    Internal::new(state)
}


// ---- ab_ttest_agg(is_treatment, value [, alpha [, alternative]]) ----

// The two-argument transition function is in hot_paths.rs.

#[pg_extern(immutable, parallel_safe, name = "ab_ttest_agg_sfunc")]
fn ab_ttest_agg_sfunc_alpha(
    state: Internal,
    is_treatment: Option<bool>,
    value: Option<f64>,
    alpha: Option<f64>,
    fcinfo: FunctionCallInfo,
) -> Internal {
    ab_ttest_agg_sfunc_alternative(state, is_treatment, value, alpha, Some("two-sided"), fcinfo)
}

#[pg_extern(immutable, parallel_safe, name = "ab_ttest_agg_sfunc")]
fn ab_ttest_agg_sfunc_alternative(
    mut state: Internal,
    is_treatment: Option<bool>,
    value: Option<f64>,
    alpha: Option<f64>,
    alternative: Option<&str>,
    fcinfo: FunctionCallInfo,
) -> Internal {
    let (Some(is_treatment), Some(value), Some(alpha), Some(alternative)) = (is_treatment, value, alpha, alternative) else {
        return state;
    };
    let current = state_mut::<Moments>(&mut state, fcinfo);
    current.use_settings(alpha, alternative).or_raise();
    current.groups.group_mut(is_treatment).push(finite("value", value));
    state
}

#[pg_extern(immutable, parallel_safe)]
fn ab_ttest_agg_final(state: Internal, fcinfo: FunctionCallInfo) -> Option<pgrx::composite_type!('static, "ab_ttest_result")> {
    let state = state_ref::<Moments>(&state)?;
    compare::ttest_of_groups(&state.groups, state.settings_or_default()).map(|r| ttest_row(fcinfo, &r))
}

#[pg_extern(immutable, parallel_safe)]
fn ab_ttest_agg_combine(left: Internal, right: Internal, fcinfo: FunctionCallInfo) -> Internal {
    combine::<Moments>(left, right, fcinfo)
}

#[pg_extern(immutable, strict, parallel_safe)]
fn ab_ttest_agg_serialize(state: Internal) -> Vec<u8> {
    serialize::<Moments>(state)
}

#[pg_extern(immutable, strict, parallel_safe)]
fn ab_ttest_agg_deserialize(bytes: &[u8], _unused: Internal) -> Internal {
    deserialize::<Moments>(bytes)
}

// ---- ab_ztest_agg(is_treatment, converted [, alpha [, alternative]]) ----

// The two-argument transition function is in hot_paths.rs.

#[pg_extern(immutable, parallel_safe, name = "ab_ztest_agg_sfunc")]
fn ab_ztest_agg_sfunc_alpha(
    state: Internal,
    is_treatment: Option<bool>,
    converted: Option<bool>,
    alpha: Option<f64>,
    fcinfo: FunctionCallInfo,
) -> Internal {
    ab_ztest_agg_sfunc_alternative(state, is_treatment, converted, alpha, Some("two-sided"), fcinfo)
}

#[pg_extern(immutable, parallel_safe, name = "ab_ztest_agg_sfunc")]
fn ab_ztest_agg_sfunc_alternative(
    mut state: Internal,
    is_treatment: Option<bool>,
    converted: Option<bool>,
    alpha: Option<f64>,
    alternative: Option<&str>,
    fcinfo: FunctionCallInfo,
) -> Internal {
    let (Some(is_treatment), Some(converted), Some(alpha), Some(alternative)) = (is_treatment, converted, alpha, alternative) else {
        return state;
    };
    let current = state_mut::<Proportion>(&mut state, fcinfo);
    current.use_settings(alpha, alternative).or_raise();
    current.groups.group_mut(is_treatment).push(converted);
    state
}

#[pg_extern(immutable, parallel_safe)]
fn ab_ztest_agg_final(state: Internal, fcinfo: FunctionCallInfo) -> Option<pgrx::composite_type!('static, "ab_ztest_result")> {
    let state = state_ref::<Proportion>(&state)?;
    compare::ztest_of_groups(&state.groups, state.settings_or_default()).map(|r| ztest_row(fcinfo, &r))
}

#[pg_extern(immutable, parallel_safe)]
fn ab_ztest_agg_combine(left: Internal, right: Internal, fcinfo: FunctionCallInfo) -> Internal {
    combine::<Proportion>(left, right, fcinfo)
}

#[pg_extern(immutable, strict, parallel_safe)]
fn ab_ztest_agg_serialize(state: Internal) -> Vec<u8> {
    serialize::<Proportion>(state)
}

#[pg_extern(immutable, strict, parallel_safe)]
fn ab_ztest_agg_deserialize(bytes: &[u8], _unused: Internal) -> Internal {
    deserialize::<Proportion>(bytes)
}

// ---- ab_cuped_agg(is_treatment, value, covariate [, alpha [, alternative]]) ----

// The three-argument transition function is in hot_paths.rs.

#[pg_extern(immutable, parallel_safe, name = "ab_cuped_agg_sfunc")]
fn ab_cuped_agg_sfunc_alpha(
    state: Internal,
    is_treatment: Option<bool>,
    value: Option<f64>,
    covariate: Option<f64>,
    alpha: Option<f64>,
    fcinfo: FunctionCallInfo,
) -> Internal {
    ab_cuped_agg_sfunc_alternative(state, is_treatment, value, covariate, alpha, Some("two-sided"), fcinfo)
}

#[pg_extern(immutable, parallel_safe, name = "ab_cuped_agg_sfunc")]
fn ab_cuped_agg_sfunc_alternative(
    mut state: Internal,
    is_treatment: Option<bool>,
    value: Option<f64>,
    covariate: Option<f64>,
    alpha: Option<f64>,
    alternative: Option<&str>,
    fcinfo: FunctionCallInfo,
) -> Internal {
    let (Some(is_treatment), Some(value), Some(covariate), Some(alpha), Some(alternative)) =
        (is_treatment, value, covariate, alpha, alternative)
    else {
        return state;
    };
    let current = state_mut::<CoMoments>(&mut state, fcinfo);
    current.use_settings(alpha, alternative).or_raise();
    current.groups.group_mut(is_treatment).push(finite("covariate", covariate), finite("value", value));
    state
}

#[pg_extern(immutable, parallel_safe)]
fn ab_cuped_agg_final(state: Internal, fcinfo: FunctionCallInfo) -> Option<pgrx::composite_type!('static, "ab_cuped_result")> {
    let state = state_ref::<CoMoments>(&state)?;
    compare::cuped_of_groups(&state.groups, state.settings_or_default()).map(|r| cuped_row(fcinfo, &r))
}

#[pg_extern(immutable, parallel_safe)]
fn ab_cuped_agg_combine(left: Internal, right: Internal, fcinfo: FunctionCallInfo) -> Internal {
    combine::<CoMoments>(left, right, fcinfo)
}

#[pg_extern(immutable, strict, parallel_safe)]
fn ab_cuped_agg_serialize(state: Internal) -> Vec<u8> {
    serialize::<CoMoments>(state)
}

#[pg_extern(immutable, strict, parallel_safe)]
fn ab_cuped_agg_deserialize(bytes: &[u8], _unused: Internal) -> Internal {
    deserialize::<CoMoments>(bytes)
}

// ---- ab_ratio_agg(is_treatment, numerator, denominator [, alpha [, alternative]]) ----

// The state is CUPED's (co-moments of a pair per arm), so the combine, serialize and
// deserialize functions are ab_cuped_agg's; only the transitions (argument names) and the
// final function differ.

#[pg_extern(immutable, parallel_safe, name = "ab_ratio_agg_sfunc")]
fn ab_ratio_agg_sfunc_plain(
    state: Internal,
    is_treatment: Option<bool>,
    numerator: Option<f64>,
    denominator: Option<f64>,
    fcinfo: FunctionCallInfo,
) -> Internal {
    ab_ratio_agg_sfunc_alternative(state, is_treatment, numerator, denominator, Some(0.05), Some("two-sided"), fcinfo)
}

#[pg_extern(immutable, parallel_safe, name = "ab_ratio_agg_sfunc")]
fn ab_ratio_agg_sfunc_alpha(
    state: Internal,
    is_treatment: Option<bool>,
    numerator: Option<f64>,
    denominator: Option<f64>,
    alpha: Option<f64>,
    fcinfo: FunctionCallInfo,
) -> Internal {
    ab_ratio_agg_sfunc_alternative(state, is_treatment, numerator, denominator, alpha, Some("two-sided"), fcinfo)
}

#[pg_extern(immutable, parallel_safe, name = "ab_ratio_agg_sfunc")]
fn ab_ratio_agg_sfunc_alternative(
    mut state: Internal,
    is_treatment: Option<bool>,
    numerator: Option<f64>,
    denominator: Option<f64>,
    alpha: Option<f64>,
    alternative: Option<&str>,
    fcinfo: FunctionCallInfo,
) -> Internal {
    let (Some(is_treatment), Some(numerator), Some(denominator), Some(alpha), Some(alternative)) =
        (is_treatment, numerator, denominator, alpha, alternative)
    else {
        return state;
    };
    let current = state_mut::<CoMoments>(&mut state, fcinfo);
    current.use_settings(alpha, alternative).or_raise();
    current.groups.group_mut(is_treatment).push(finite("denominator", denominator), finite("numerator", numerator));
    state
}

#[pg_extern(immutable, parallel_safe)]
fn ab_ratio_agg_final(state: Internal, fcinfo: FunctionCallInfo) -> Option<pgrx::composite_type!('static, "ab_ratio_result")> {
    let state = state_ref::<CoMoments>(&state)?;
    compare::ratio_of_groups(&state.groups, state.settings_or_default()).map(|r| record("ab_ratio_result", fcinfo, &r))
}

// ---- ab_ratio_cuped_agg(is_treatment, numerator, denominator, pre_numerator, pre_denominator
//      [, alpha [, alternative]]) ----

/// Per arm, the co-moments of (numerator, denominator, pre_numerator, pre_denominator).
type RatioCupedState = CoMomentMatrix<4>;

#[pg_extern(immutable, parallel_safe, name = "ab_ratio_cuped_agg_sfunc")]
fn ab_ratio_cuped_agg_sfunc_plain(
    state: Internal,
    is_treatment: Option<bool>,
    numerator: Option<f64>,
    denominator: Option<f64>,
    pre_numerator: Option<f64>,
    pre_denominator: Option<f64>,
    fcinfo: FunctionCallInfo,
) -> Internal {
    ab_ratio_cuped_agg_sfunc_alternative(
        state, is_treatment, numerator, denominator, pre_numerator, pre_denominator, Some(0.05), Some("two-sided"), fcinfo,
    )
}

#[pg_extern(immutable, parallel_safe, name = "ab_ratio_cuped_agg_sfunc")]
#[allow(clippy::too_many_arguments)]
fn ab_ratio_cuped_agg_sfunc_alpha(
    state: Internal,
    is_treatment: Option<bool>,
    numerator: Option<f64>,
    denominator: Option<f64>,
    pre_numerator: Option<f64>,
    pre_denominator: Option<f64>,
    alpha: Option<f64>,
    fcinfo: FunctionCallInfo,
) -> Internal {
    ab_ratio_cuped_agg_sfunc_alternative(
        state, is_treatment, numerator, denominator, pre_numerator, pre_denominator, alpha, Some("two-sided"), fcinfo,
    )
}

#[pg_extern(immutable, parallel_safe, name = "ab_ratio_cuped_agg_sfunc")]
#[allow(clippy::too_many_arguments)]
fn ab_ratio_cuped_agg_sfunc_alternative(
    mut state: Internal,
    is_treatment: Option<bool>,
    numerator: Option<f64>,
    denominator: Option<f64>,
    pre_numerator: Option<f64>,
    pre_denominator: Option<f64>,
    alpha: Option<f64>,
    alternative: Option<&str>,
    fcinfo: FunctionCallInfo,
) -> Internal {
    let (Some(is_treatment), Some(numerator), Some(denominator), Some(pre_numerator), Some(pre_denominator), Some(alpha), Some(alternative)) =
        (is_treatment, numerator, denominator, pre_numerator, pre_denominator, alpha, alternative)
    else {
        return state;
    };
    let current = state_mut::<RatioCupedState>(&mut state, fcinfo);
    current.use_settings(alpha, alternative).or_raise();
    current.groups.group_mut(is_treatment).push([
        finite("numerator", numerator),
        finite("denominator", denominator),
        finite("pre_numerator", pre_numerator),
        finite("pre_denominator", pre_denominator),
    ]);
    state
}

#[pg_extern(immutable, parallel_safe)]
fn ab_ratio_cuped_agg_final(
    state: Internal,
    fcinfo: FunctionCallInfo,
) -> Option<pgrx::composite_type!('static, "ab_ratio_cuped_result")> {
    let state = state_ref::<RatioCupedState>(&state)?;
    compare::ratio_cuped_of_groups(&state.groups, state.settings_or_default()).map(|r| record("ab_ratio_cuped_result", fcinfo, &r))
}

#[pg_extern(immutable, parallel_safe)]
fn ab_ratio_cuped_agg_combine(left: Internal, right: Internal, fcinfo: FunctionCallInfo) -> Internal {
    combine::<RatioCupedState>(left, right, fcinfo)
}

#[pg_extern(immutable, strict, parallel_safe)]
fn ab_ratio_cuped_agg_serialize(state: Internal) -> Vec<u8> {
    serialize::<RatioCupedState>(state)
}

#[pg_extern(immutable, strict, parallel_safe)]
fn ab_ratio_cuped_agg_deserialize(bytes: &[u8], _unused: Internal) -> Internal {
    deserialize::<RatioCupedState>(bytes)
}

// ---- ab_interaction_agg(a_is_treatment, b_is_treatment, value [, alpha [, alternative]]) ----

/// Experiment A's arms, each split by experiment B's: the four cells of the 2×2.
type Cells = TwoGroups<Moments>;

#[pg_extern(immutable, parallel_safe, name = "ab_interaction_agg_sfunc")]
fn ab_interaction_agg_sfunc_plain(
    state: Internal,
    a_is_treatment: Option<bool>,
    b_is_treatment: Option<bool>,
    value: Option<f64>,
    fcinfo: FunctionCallInfo,
) -> Internal {
    ab_interaction_agg_sfunc_alternative(state, a_is_treatment, b_is_treatment, value, Some(0.05), Some("two-sided"), fcinfo)
}

#[pg_extern(immutable, parallel_safe, name = "ab_interaction_agg_sfunc")]
fn ab_interaction_agg_sfunc_alpha(
    state: Internal,
    a_is_treatment: Option<bool>,
    b_is_treatment: Option<bool>,
    value: Option<f64>,
    alpha: Option<f64>,
    fcinfo: FunctionCallInfo,
) -> Internal {
    ab_interaction_agg_sfunc_alternative(state, a_is_treatment, b_is_treatment, value, alpha, Some("two-sided"), fcinfo)
}

#[pg_extern(immutable, parallel_safe, name = "ab_interaction_agg_sfunc")]
fn ab_interaction_agg_sfunc_alternative(
    mut state: Internal,
    a_is_treatment: Option<bool>,
    b_is_treatment: Option<bool>,
    value: Option<f64>,
    alpha: Option<f64>,
    alternative: Option<&str>,
    fcinfo: FunctionCallInfo,
) -> Internal {
    let (Some(a), Some(b), Some(value), Some(alpha), Some(alternative)) = (a_is_treatment, b_is_treatment, value, alpha, alternative) else {
        return state;
    };
    let current = state_mut::<Cells>(&mut state, fcinfo);
    current.use_settings(alpha, alternative).or_raise();
    current.groups.group_mut(a).group_mut(b).push(finite("value", value));
    state
}

#[pg_extern(immutable, parallel_safe)]
fn ab_interaction_agg_final(state: Internal, fcinfo: FunctionCallInfo) -> Option<pgrx::composite_type!('static, "ab_interaction_result")> {
    let state = state_ref::<Cells>(&state)?;
    compare::interaction_of_groups(&state.groups, state.settings_or_default()).map(|r| record("ab_interaction_result", fcinfo, &r))
}

#[pg_extern(immutable, parallel_safe)]
fn ab_interaction_agg_combine(left: Internal, right: Internal, fcinfo: FunctionCallInfo) -> Internal {
    combine::<Cells>(left, right, fcinfo)
}

#[pg_extern(immutable, strict, parallel_safe)]
fn ab_interaction_agg_serialize(state: Internal) -> Vec<u8> {
    serialize::<Cells>(state)
}

#[pg_extern(immutable, strict, parallel_safe)]
fn ab_interaction_agg_deserialize(bytes: &[u8], _unused: Internal) -> Internal {
    deserialize::<Cells>(bytes)
}
