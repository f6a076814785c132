//! The Rust side of the aggregates: `ab_ztest_agg`, `ab_ttest_agg`, `ab_cuped_agg`,
//! `ab_ratio_agg`, `ab_ratio_cuped_agg`, `ab_interaction_agg`, `ab_msprt_agg` and
//! `ab_seq_ttest_agg`. Their SQL (each overload's `CREATE AGGREGATE` and every comment) is
//! rendered from the catalog (`ab_core::catalog`); the table below makes the transition, final,
//! combine, serial and deserial functions that SQL names (aggregate_catalog.rs).
//!
//! Each keeps one `ab_core` accumulator per arm in an `internal` state allocated in the
//! aggregate's memory context, plus the test settings of its rows. Combine, serialize and
//! deserialize functions make them `PARALLEL SAFE` with partial aggregation: the state is at
//! most a few hundred bytes and merges exactly (Chan's formula), so a parallel plan returns
//! the serial answer. Rows with a NULL argument are skipped, as docs/contract.md §4 asks.

use crate::aggregate_catalog::aggregate_catalog;
use crate::sql_glue::{finite, record, OrRaise};
use ab_core::aggregate::TestState;
use ab_core::compare::{self, TestSettings, DEFAULT_ALPHA};
use ab_core::moments::{CoMomentMatrix, CoMoments, GroupState, Moments, Proportion, TwoGroups};
use ab_core::sequential::{self, AlwaysValid, DEFAULT_TUNING_N};
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

fn combine<S: GroupState>(mut left: Internal, right: Internal, fcinfo: FunctionCallInfo) -> Internal {
    let Some(right) = state_ref::<S>(&right).copied() else { return left };
    state_mut::<S>(&mut left, fcinfo).merge(&right);
    left
}

fn serialize<S: GroupState>(state: Internal) -> Vec<u8> {
    state_ref::<S>(&state).map(TestState::to_bytes).unwrap_or_default()
}

fn deserialize<S: GroupState>(bytes: &[u8]) -> Internal {
    let state = TestState::<S>::from_bytes(bytes).unwrap_or_else(|e| error!("pg_ab: {e}"));
    Internal::new(state)
}

/// An `ab_core` test of the two arms, at the settings of the state's first row.
fn at_settings<S, R>(test: fn(&TwoGroups<S>, TestSettings) -> Option<R>) -> impl Fn(&TestState<S>) -> Option<R> {
    move |state| test(&state.groups, state.settings_or_default())
}

/// Per arm, the co-moments of (numerator, denominator, pre_numerator, pre_denominator).
type RatioCupedState = CoMomentMatrix<4>;

/// Experiment A's arms, each split by experiment B's: the four cells of the 2×2.
type Cells = TwoGroups<Moments>;

// What a row adds to each state, once the row is known to have no NULLs.

fn ttest_push(state: &mut TestState<Moments>, is_treatment: bool, value: f64, alpha: f64, alternative: &str) {
    state.use_settings(alpha, alternative).or_raise();
    state.groups.group_mut(is_treatment).push(finite("value", value));
}

fn ztest_push(state: &mut TestState<Proportion>, is_treatment: bool, converted: bool, alpha: f64, alternative: &str) {
    state.use_settings(alpha, alternative).or_raise();
    state.groups.group_mut(is_treatment).push(converted);
}

fn cuped_push(state: &mut TestState<CoMoments>, is_treatment: bool, value: f64, covariate: f64, alpha: f64, alternative: &str) {
    state.use_settings(alpha, alternative).or_raise();
    state.groups.group_mut(is_treatment).push(finite("covariate", covariate), finite("value", value));
}

/// A ratio keeps CUPED's state (co-moments of a pair per arm), denominator first.
fn ratio_push(state: &mut TestState<CoMoments>, is_treatment: bool, numerator: f64, denominator: f64, alpha: f64, alternative: &str) {
    state.use_settings(alpha, alternative).or_raise();
    state.groups.group_mut(is_treatment).push(finite("denominator", denominator), finite("numerator", numerator));
}

#[allow(clippy::too_many_arguments)]
fn ratio_cuped_push(
    state: &mut TestState<RatioCupedState>,
    is_treatment: bool,
    numerator: f64,
    denominator: f64,
    pre_numerator: f64,
    pre_denominator: f64,
    alpha: f64,
    alternative: &str,
) {
    state.use_settings(alpha, alternative).or_raise();
    state.groups.group_mut(is_treatment).push([
        finite("numerator", numerator),
        finite("denominator", denominator),
        finite("pre_numerator", pre_numerator),
        finite("pre_denominator", pre_denominator),
    ]);
}

// ab_msprt_agg and ab_seq_ttest_agg keep ab_ttest_agg's state (moments per arm), with the first
// row's tau2 or tuning_n beside alpha.

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

fn msprt_push(state: &mut TestState<Moments>, is_treatment: bool, value: f64, tau2: f64, alpha: f64) {
    push_row(state, is_treatment, value, alpha, (tau2, sequential::check_tau2));
}

fn msprt_result(state: &TestState<Moments>) -> Option<AlwaysValid> {
    sequential::msprt_of_groups(&state.groups, state.parameter?, state.settings_or_default().alpha).or_raise()
}

fn seq_ttest_push(state: &mut TestState<Moments>, is_treatment: bool, value: f64, alpha: f64, tuning_n: f64) {
    push_row(state, is_treatment, value, alpha, (tuning_n, sequential::check_tuning_n));
}

fn seq_ttest_result(state: &TestState<Moments>) -> Option<AlwaysValid> {
    let tuning_n = state.parameter.unwrap_or(sequential::DEFAULT_TUNING_N);
    sequential::seq_ttest_of_groups(&state.groups, state.settings_or_default().alpha, tuning_n).or_raise()
}

fn interaction_push(state: &mut TestState<Cells>, a_is_treatment: bool, b_is_treatment: bool, value: f64, alpha: f64, alternative: &str) {
    state.use_settings(alpha, alternative).or_raise();
    state.groups.group_mut(a_is_treatment).group_mut(b_is_treatment).push(finite("value", value));
}

// The table: the Rust side of each aggregate the catalog declares (ab_core/src/catalog/aggregates.rs,
// which renders its SQL and comments). A state names its parallel support functions. An
// aggregate lists its arguments, the optional trailing ones with their defaults;
// `returns T from f(g)`: the final function f builds the result type T (pgrx declares f with
// it) with g from the state;
// `adds rows with p in "s": …`: the transition function s (SQL name) adds a row with p, one
// Rust function per arity, shortest first (`hot`: written by hand in hot_paths.rs).
aggregate_catalog! {
    state Moments => ab_ttest_agg_combine, ab_ttest_agg_serialize, ab_ttest_agg_deserialize;
    state Proportion => ab_ztest_agg_combine, ab_ztest_agg_serialize, ab_ztest_agg_deserialize;
    state CoMoments => ab_cuped_agg_combine, ab_cuped_agg_serialize, ab_cuped_agg_deserialize;
    state RatioCupedState => ab_ratio_cuped_agg_combine, ab_ratio_cuped_agg_serialize, ab_ratio_cuped_agg_deserialize;
    state Cells => ab_interaction_agg_combine, ab_interaction_agg_serialize, ab_interaction_agg_deserialize;

    aggregate ab_ttest_agg(is_treatment: bool, value: f64; alpha: f64 = DEFAULT_ALPHA, alternative: &str = "two-sided")
        returns "ab_ttest_result" from ab_ttest_agg_final(at_settings(compare::ttest_of_groups)),
        keeps Moments, adds rows with ttest_push in "ab_ttest_agg_sfunc":
            hot, ab_ttest_agg_sfunc_alpha, ab_ttest_agg_sfunc_alternative;

    aggregate ab_ztest_agg(is_treatment: bool, converted: bool; alpha: f64 = DEFAULT_ALPHA, alternative: &str = "two-sided")
        returns "ab_ztest_result" from ab_ztest_agg_final(at_settings(compare::ztest_of_groups)),
        keeps Proportion, adds rows with ztest_push in "ab_ztest_agg_sfunc":
            hot, ab_ztest_agg_sfunc_alpha, ab_ztest_agg_sfunc_alternative;

    aggregate ab_cuped_agg(is_treatment: bool, value: f64, covariate: f64; alpha: f64 = DEFAULT_ALPHA, alternative: &str = "two-sided")
        returns "ab_cuped_result" from ab_cuped_agg_final(at_settings(compare::cuped_of_groups)),
        keeps CoMoments, adds rows with cuped_push in "ab_cuped_agg_sfunc":
            hot, ab_cuped_agg_sfunc_alpha, ab_cuped_agg_sfunc_alternative;

    aggregate ab_ratio_agg(is_treatment: bool, numerator: f64, denominator: f64; alpha: f64 = DEFAULT_ALPHA, alternative: &str = "two-sided")
        returns "ab_ratio_result" from ab_ratio_agg_final(at_settings(compare::ratio_of_groups)),
        keeps CoMoments, adds rows with ratio_push in "ab_ratio_agg_sfunc":
            ab_ratio_agg_sfunc_plain, ab_ratio_agg_sfunc_alpha, ab_ratio_agg_sfunc_alternative;

    aggregate ab_ratio_cuped_agg(is_treatment: bool, numerator: f64, denominator: f64, pre_numerator: f64, pre_denominator: f64;
        alpha: f64 = DEFAULT_ALPHA, alternative: &str = "two-sided")
        returns "ab_ratio_cuped_result" from ab_ratio_cuped_agg_final(at_settings(compare::ratio_cuped_of_groups)),
        keeps RatioCupedState, adds rows with ratio_cuped_push in "ab_ratio_cuped_agg_sfunc":
            ab_ratio_cuped_agg_sfunc_plain, ab_ratio_cuped_agg_sfunc_alpha, ab_ratio_cuped_agg_sfunc_alternative;

    aggregate ab_interaction_agg(a_is_treatment: bool, b_is_treatment: bool, value: f64; alpha: f64 = DEFAULT_ALPHA, alternative: &str = "two-sided")
        returns "ab_interaction_result" from ab_interaction_agg_final(at_settings(compare::interaction_of_groups)),
        keeps Cells, adds rows with interaction_push in "ab_interaction_agg_sfunc":
            ab_interaction_agg_sfunc_plain, ab_interaction_agg_sfunc_alpha, ab_interaction_agg_sfunc_alternative;

    aggregate ab_msprt_agg(is_treatment: bool, value: f64, tau2: f64; alpha: f64 = DEFAULT_ALPHA)
        returns "ab_sequential_result" from ab_msprt_agg_final(msprt_result),
        keeps Moments, adds rows with msprt_push in "ab_msprt_agg_sfunc": ab_msprt_agg_sfunc_plain, ab_msprt_agg_sfunc_alpha;

    aggregate ab_seq_ttest_agg(is_treatment: bool, value: f64; alpha: f64 = DEFAULT_ALPHA, tuning_n: f64 = DEFAULT_TUNING_N)
        returns "ab_sequential_result" from ab_seq_ttest_agg_final(seq_ttest_result),
        keeps Moments, adds rows with seq_ttest_push in "ab_seq_ttest_agg_sfunc":
            ab_seq_ttest_agg_sfunc_plain, ab_seq_ttest_agg_sfunc_alpha, ab_seq_ttest_agg_sfunc_tuning;
}
