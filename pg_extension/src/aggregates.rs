//! The aggregates, declared once each in the table below: `ab_ztest_agg`, `ab_ttest_agg`,
//! `ab_cuped_agg`, `ab_ratio_agg`, `ab_ratio_cuped_agg`, `ab_interaction_agg`, `ab_msprt_agg`
//! and `ab_seq_ttest_agg`. Everything they are in SQL is generated from the table
//! (aggregate_catalog.rs): each overload's `CREATE AGGREGATE`, the comments, and the transition,
//! final, combine, serial and deserial functions. What a version adds is a diff of the table.
//!
//! Each keeps one `ab_core` accumulator per arm in an `internal` state allocated in the
//! aggregate's memory context, plus the test settings of its rows. Combine, serialize and
//! deserialize functions make them `PARALLEL SAFE` with partial aggregation: the state is at
//! most a few hundred bytes and merges exactly (Chan's formula), so a parallel plan returns
//! the serial answer. Rows with a NULL argument are skipped, as docs/contract.md §4 asks.

use crate::aggregate_catalog::aggregate_catalog;
use crate::sequential::{msprt_push, msprt_result, seq_ttest_push, seq_ttest_result};
use crate::sql_glue::{finite, record, OrRaise};
use ab_core::aggregate::TestState;
use ab_core::compare::{self, TestSettings};
use ab_core::moments::{CoMomentMatrix, CoMoments, GroupState, Moments, Proportion, TwoGroups};
use ab_core::sequential::DEFAULT_TUNING_N;
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
    let state = TestState::<S>::from_bytes(bytes).unwrap_or_else(|| error!("pg_ab: corrupt aggregate state"));
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

fn interaction_push(state: &mut TestState<Cells>, a_is_treatment: bool, b_is_treatment: bool, value: f64, alpha: f64, alternative: &str) {
    state.use_settings(alpha, alternative).or_raise();
    state.groups.group_mut(a_is_treatment).group_mut(b_is_treatment).push(finite("value", value));
}

// The table. A state names its parallel support functions and the aggregates that share them.
// An aggregate's doc line is its SQL comment. Its arguments are the required ones, then, after
// `;`, the optional trailing ones, each with its default and what it adds to the comment.
// `returns T from f(g)`: the final function f builds the result type T with g from the state.
// `adds rows with p in "s": …`: the transition function s (SQL name) adds a row with p; one
// Rust function per overload, shortest first (`hot`: the C symbol of one in hot_paths.rs).
aggregate_catalog! {
    state Moments => ab_ttest_agg_combine, ab_ttest_agg_serialize, ab_ttest_agg_deserialize,
        for "ab_ttest_agg, ab_msprt_agg and ab_seq_ttest_agg";
    state Proportion => ab_ztest_agg_combine, ab_ztest_agg_serialize, ab_ztest_agg_deserialize, for "ab_ztest_agg";
    state CoMoments => ab_cuped_agg_combine, ab_cuped_agg_serialize, ab_cuped_agg_deserialize,
        for "ab_cuped_agg and ab_ratio_agg";
    state RatioCupedState => ab_ratio_cuped_agg_combine, ab_ratio_cuped_agg_serialize, ab_ratio_cuped_agg_deserialize,
        for "ab_ratio_cuped_agg";
    state Cells => ab_interaction_agg_combine, ab_interaction_agg_serialize, ab_interaction_agg_deserialize,
        for "ab_interaction_agg";

    /// Welch t-test of value, treatment vs control
    ab_ttest_agg(is_treatment: bool, value: f64;
        alpha: f64 = 0.05 => " at level alpha", alternative: &str = "two-sided" => " against the alternative")
        returns "ab_ttest_result" from ab_ttest_agg_final(at_settings(compare::ttest_of_groups)),
        keeps Moments, adds rows with ttest_push in "ab_ttest_agg_sfunc":
            (hot "ab_ttest_agg_sfunc_v1"), ab_ttest_agg_sfunc_alpha, ab_ttest_agg_sfunc_alternative;

    /// Two-proportion z-test of converted, treatment vs control
    ab_ztest_agg(is_treatment: bool, converted: bool;
        alpha: f64 = 0.05 => " at level alpha", alternative: &str = "two-sided" => " against the alternative")
        returns "ab_ztest_result" from ab_ztest_agg_final(at_settings(compare::ztest_of_groups)),
        keeps Proportion, adds rows with ztest_push in "ab_ztest_agg_sfunc":
            (hot "ab_ztest_agg_sfunc_v1"), ab_ztest_agg_sfunc_alpha, ab_ztest_agg_sfunc_alternative;

    /// CUPED-adjusted Welch t-test of value with a pre-period covariate
    ab_cuped_agg(is_treatment: bool, value: f64, covariate: f64;
        alpha: f64 = 0.05 => " at level alpha", alternative: &str = "two-sided" => " against the alternative")
        returns "ab_cuped_result" from ab_cuped_agg_final(at_settings(compare::cuped_of_groups)),
        keeps CoMoments, adds rows with cuped_push in "ab_cuped_agg_sfunc":
            (hot "ab_cuped_agg_sfunc_v1"), ab_cuped_agg_sfunc_alpha, ab_cuped_agg_sfunc_alternative;

    /// Ratio metric (sum of numerator / sum of denominator per arm, e.g. revenue per session) compared by the delta method (Deng et al. 2018)
    ab_ratio_agg(is_treatment: bool, numerator: f64, denominator: f64; alpha: f64 = 0.05, alternative: &str = "two-sided")
        returns "ab_ratio_result" from ab_ratio_agg_final(at_settings(compare::ratio_of_groups)),
        keeps CoMoments, adds rows with ratio_push in "ab_ratio_agg_sfunc":
            ab_ratio_agg_sfunc_plain, ab_ratio_agg_sfunc_alpha, ab_ratio_agg_sfunc_alternative;

    /// Ratio metric adjusted by the same ratio over the pre-period (CUPED for ratio metrics), delta method
    ab_ratio_cuped_agg(is_treatment: bool, numerator: f64, denominator: f64, pre_numerator: f64, pre_denominator: f64;
        alpha: f64 = 0.05 => " at level alpha", alternative: &str = "two-sided" => " against the alternative")
        returns "ab_ratio_cuped_result" from ab_ratio_cuped_agg_final(at_settings(compare::ratio_cuped_of_groups)),
        keeps RatioCupedState, adds rows with ratio_cuped_push in "ab_ratio_cuped_agg_sfunc":
            ab_ratio_cuped_agg_sfunc_plain, ab_ratio_cuped_agg_sfunc_alpha, ab_ratio_cuped_agg_sfunc_alternative;

    /// Interaction of two concurrent experiments: the 2x2 contrast (m11 - m10) - (m01 - m00) with Welch-Satterthwaite t-test
    ab_interaction_agg(a_is_treatment: bool, b_is_treatment: bool, value: f64;
        alpha: f64 = 0.05, alternative: &str = "two-sided" => " against the alternative")
        returns "ab_interaction_result" from ab_interaction_agg_final(at_settings(compare::interaction_of_groups)),
        keeps Cells, adds rows with interaction_push in "ab_interaction_agg_sfunc":
            ab_interaction_agg_sfunc_plain, ab_interaction_agg_sfunc_alpha, ab_interaction_agg_sfunc_alternative;

    /// Mixture SPRT of the difference of means with a N(0, tau2) mixture: always-valid p-value and confidence sequence
    ab_msprt_agg(is_treatment: bool, value: f64, tau2: f64; alpha: f64 = 0.05)
        returns "ab_sequential_result" from ab_msprt_agg_final(msprt_result),
        keeps Moments, adds rows with msprt_push in "ab_msprt_agg_sfunc": ab_msprt_agg_sfunc_plain, ab_msprt_agg_sfunc_alpha;

    /// Asymptotic confidence sequence of the difference of means (Waudby-Smith et al., tuning N* default 5000, as GrowthBook): always-valid p-value
    ab_seq_ttest_agg(is_treatment: bool, value: f64; alpha: f64 = 0.05, tuning_n: f64 = DEFAULT_TUNING_N)
        returns "ab_sequential_result" from ab_seq_ttest_agg_final(seq_ttest_result),
        keeps Moments, adds rows with seq_ttest_push in "ab_seq_ttest_agg_sfunc":
            ab_seq_ttest_agg_sfunc_plain, ab_seq_ttest_agg_sfunc_alpha, ab_seq_ttest_agg_sfunc_tuning;
}
