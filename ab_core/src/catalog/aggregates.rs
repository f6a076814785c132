//! Every aggregate: its arguments (the optional ones with the defaults DataFusion applies and
//! the phrases Postgres' per-arity comments add), its result, and the names of the Postgres
//! support functions that pg_extension/src/aggregates.rs defines for it.

use crate::records::{CUPED, INTERACTION, RATIO, RATIO_CUPED, SEQUENTIAL, TTEST, ZTEST};
use super::DefaultValue::{Float as FloatDefault, Text as TextDefault};
use super::SqlType::{Bool, Float8, Text};
use super::{optional, required, Aggregate, AggregateState, OptionalArg};
use crate::compare::DEFAULT_ALPHA;
use crate::sequential::DEFAULT_TUNING_N;

const ALPHA: OptionalArg = OptionalArg { param: optional("alpha", Float8, FloatDefault(DEFAULT_ALPHA)), phrase: " at level alpha" };
const ALTERNATIVE: OptionalArg =
    OptionalArg { param: optional("alternative", Text, TextDefault("two-sided")), phrase: " against the alternative" };
/// Some overloads' comments do not mention the argument they add; rewording them would change
/// the 0.2.0 surface (docs/functions.md), so they stay as released.
const ALPHA_UNSAID: OptionalArg = OptionalArg { param: ALPHA.param, phrase: "" };
const ALTERNATIVE_UNSAID: OptionalArg = OptionalArg { param: ALTERNATIVE.param, phrase: "" };
const TUNING_N: OptionalArg = OptionalArg { param: optional("tuning_n", Float8, FloatDefault(DEFAULT_TUNING_N)), phrase: "" };

/// A state's support functions are named after the first aggregate that kept it.
macro_rules! state {
    ($first:literal, used by $users:literal) => {
        AggregateState {
            combine: concat!($first, "_combine"),
            serialize: concat!($first, "_serialize"),
            deserialize: concat!($first, "_deserialize"),
            users: $users,
        }
    };
}

static MOMENTS: AggregateState = state!("ab_ttest_agg", used by "ab_ttest_agg, ab_msprt_agg and ab_seq_ttest_agg");
static PROPORTION: AggregateState = state!("ab_ztest_agg", used by "ab_ztest_agg");
static CO_MOMENTS: AggregateState = state!("ab_cuped_agg", used by "ab_cuped_agg and ab_ratio_agg");
static RATIO_CUPED_STATE: AggregateState = state!("ab_ratio_cuped_agg", used by "ab_ratio_cuped_agg");
static CELLS: AggregateState = state!("ab_interaction_agg", used by "ab_interaction_agg");

/// Every aggregate, in the order of its SQL.
pub static AGGREGATES: &[Aggregate] = &[
    Aggregate {
        added_in: None,
        name: "ab_ttest_agg",
        required: &[required("is_treatment", Bool), required("value", Float8)],
        optional: &[ALPHA, ALTERNATIVE],
        returns: &TTEST,
        comment: "Welch t-test of value, treatment vs control",
        example: "ab_ttest_agg(is_treatment, revenue)",
        transition: "ab_ttest_agg_sfunc",
        hand_written_transition: Some("ab_ttest_agg_sfunc_v1"),
        final_function: "ab_ttest_agg_final",
        state: &MOMENTS,
    },
    Aggregate {
        added_in: None,
        name: "ab_ztest_agg",
        required: &[required("is_treatment", Bool), required("converted", Bool)],
        optional: &[ALPHA, ALTERNATIVE],
        returns: &ZTEST,
        comment: "Two-proportion z-test of converted, treatment vs control",
        example: "ab_ztest_agg(is_treatment, converted)",
        transition: "ab_ztest_agg_sfunc",
        hand_written_transition: Some("ab_ztest_agg_sfunc_v1"),
        final_function: "ab_ztest_agg_final",
        state: &PROPORTION,
    },
    Aggregate {
        added_in: None,
        name: "ab_cuped_agg",
        required: &[required("is_treatment", Bool), required("value", Float8), required("covariate", Float8)],
        optional: &[ALPHA, ALTERNATIVE],
        returns: &CUPED,
        comment: "CUPED-adjusted Welch t-test of value with a pre-period covariate",
        example: "ab_cuped_agg(is_treatment, revenue, revenue_before)",
        transition: "ab_cuped_agg_sfunc",
        hand_written_transition: Some("ab_cuped_agg_sfunc_v1"),
        final_function: "ab_cuped_agg_final",
        state: &CO_MOMENTS,
    },
    Aggregate {
        added_in: None,
        name: "ab_ratio_agg",
        required: &[required("is_treatment", Bool), required("numerator", Float8), required("denominator", Float8)],
        optional: &[ALPHA_UNSAID, ALTERNATIVE_UNSAID],
        returns: &RATIO,
        comment: "Ratio metric (sum of numerator / sum of denominator per arm, e.g. revenue per session) compared by the delta method (Deng et al. 2018)",
        example: "ab_ratio_agg(is_treatment, revenue, sessions)",
        transition: "ab_ratio_agg_sfunc",
        hand_written_transition: None,
        final_function: "ab_ratio_agg_final",
        state: &CO_MOMENTS,
    },
    Aggregate {
        added_in: None,
        name: "ab_ratio_cuped_agg",
        required: &[
            required("is_treatment", Bool), required("numerator", Float8), required("denominator", Float8),
            required("pre_numerator", Float8), required("pre_denominator", Float8),
        ],
        optional: &[ALPHA, ALTERNATIVE],
        returns: &RATIO_CUPED,
        comment: "Ratio metric adjusted by the same ratio over the pre-period (CUPED for ratio metrics), delta method",
        example: "ab_ratio_cuped_agg(is_treatment, revenue, sessions, revenue_before, sessions_before)",
        transition: "ab_ratio_cuped_agg_sfunc",
        hand_written_transition: None,
        final_function: "ab_ratio_cuped_agg_final",
        state: &RATIO_CUPED_STATE,
    },
    Aggregate {
        added_in: None,
        name: "ab_interaction_agg",
        required: &[required("a_is_treatment", Bool), required("b_is_treatment", Bool), required("value", Float8)],
        optional: &[ALPHA_UNSAID, ALTERNATIVE],
        returns: &INTERACTION,
        comment: "Interaction of two concurrent experiments: the 2x2 contrast (m11 - m10) - (m01 - m00) with Welch-Satterthwaite t-test",
        example: "ab_interaction_agg(is_treatment, in_second, revenue)",
        transition: "ab_interaction_agg_sfunc",
        hand_written_transition: None,
        final_function: "ab_interaction_agg_final",
        state: &CELLS,
    },
    Aggregate {
        added_in: None,
        name: "ab_msprt_agg",
        required: &[required("is_treatment", Bool), required("value", Float8), required("tau2", Float8)],
        optional: &[ALPHA_UNSAID],
        returns: &SEQUENTIAL,
        comment: "Mixture SPRT of the difference of means with a N(0, tau2) mixture: always-valid p-value and confidence sequence",
        example: "ab_msprt_agg(is_treatment, revenue, 1.0)",
        transition: "ab_msprt_agg_sfunc",
        hand_written_transition: None,
        final_function: "ab_msprt_agg_final",
        state: &MOMENTS,
    },
    Aggregate {
        added_in: None,
        name: "ab_seq_ttest_agg",
        required: &[required("is_treatment", Bool), required("value", Float8)],
        optional: &[ALPHA_UNSAID, TUNING_N],
        returns: &SEQUENTIAL,
        comment: "Asymptotic confidence sequence of the difference of means (Waudby-Smith et al., tuning N* default 5000, as GrowthBook): always-valid p-value",
        example: "ab_seq_ttest_agg(is_treatment, revenue)",
        transition: "ab_seq_ttest_agg_sfunc",
        hand_written_transition: None,
        final_function: "ab_seq_ttest_agg_final",
        state: &MOMENTS,
    },
];
