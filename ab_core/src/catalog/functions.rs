//! Every row and table function: its overloads, SQL comments, examples and the `ab_core`
//! call behind each. Shared arguments (alpha, power, …) are declared once below.

use super::DefaultValue::{Bool as BoolDefault, Float as FloatDefault, Int as IntDefault, Text as TextDefault};
use super::SqlType::{Bool, Float8, Float8Array, Int4, Int8, Int8Array, Text, TextArray};
use super::{optional, required, Args, Function, Overload, Param, Returns, Symbol, Value};
use crate::compare::verdict::{verdicts, ArmSummary, Horizon, Scale};
use crate::compare::margin::Margin;
use crate::compare::{self, TestSettings, DEFAULT_ALPHA};
use crate::records::{FieldValue, BAYES, CONTAMINATION, GST_BOUNDARY, MARGIN, QUANTILE, SEQUENTIAL, SRM, TTEST, VERDICT_ROW, ZTEST};
use crate::planning::{self, Design, RatePair, DEFAULT_POWER};
use crate::sequential::DEFAULT_TUNING_N;
use crate::srm::{self, Correction};
use crate::{assign, bayes, contamination, foreign_hash, group_sequential, outliers, quantile, sequential, InvalidArgument, Result};

const ALPHA: Param = optional("alpha", Float8, FloatDefault(DEFAULT_ALPHA));
const POWER: Param = optional("power", Float8, FloatDefault(DEFAULT_POWER));
const RELATIVE: Param = optional("relative", Bool, BoolDefault(true));
const ALTERNATIVE: Param = optional("alternative", Text, TextDefault("two-sided"));
const COMPARISONS: Param = optional("comparisons", Int4, IntDefault(1));
const TUNING_N: Param = optional("tuning_n", Float8, FloatDefault(DEFAULT_TUNING_N));
const SPENDING: Param = optional("spending", Text, TextDefault("obrien-fleming"));
const HIGHER_IS_BETTER: Param = optional("higher_is_better", Bool, BoolDefault(true));

/// A function of one overload through the generic adapter, whose C symbol is `<name>_wrapper`;
/// `added in "x.y.z"` for one added after 0.2.0.
macro_rules! function {
    ($name:literal, $comment:literal, example $example:literal, ($($param:expr),* $(,)?) -> $returns:expr, $body:expr) => {
        function!($name, added in None, $comment, example $example, ($($param),*) -> $returns, $body)
    };
    ($name:literal, added in $release:literal, $comment:literal, example $example:literal, ($($param:expr),* $(,)?) -> $returns:expr, $body:expr) => {
        function!($name, added in Some($release), $comment, example $example, ($($param),*) -> $returns, $body)
    };
    ($name:literal, added in $added_in:expr, $comment:literal, example $example:literal, ($($param:expr),* $(,)?) -> $returns:expr, $body:expr) => {
        Function {
            name: $name,
            added_in: $added_in,
            example: $example,
            overloads: &[Overload {
                params: &[$($param),*],
                returns: $returns,
                comment: $comment,
                symbol: Symbol::Adapter(concat!($name, "_wrapper")),
                body: $body,
            }],
        }
    };
}

fn settings(a: &dyn Args, alpha: usize, alternative: usize) -> Result<TestSettings> {
    TestSettings::new(a.float(alpha), a.text(alternative))
}

fn design(a: &dyn Args, alpha: usize, alternative: usize, comparisons: usize) -> Result<Design> {
    Design::new(a.float(alpha), a.text(alternative), a.int32(comparisons))
}

/// At most 2³¹ weights fit in a Postgres array, so the index fits in int4.
fn to_index(index: usize) -> Result<i32> {
    i32::try_from(index).map_err(|_| InvalidArgument::new("weights", "has more entries than int4 holds"))
}

/// The treatments' arrays have one length each; the error names the first array whose length
/// differs from the first one's.
fn same_length(arrays: &[(&'static str, usize)]) -> Result<()> {
    let Some(&(argument, _)) = arrays.iter().find(|(_, length)| *length != arrays[0].1) else { return Ok(()) };
    let names: Vec<&str> = arrays.iter().map(|(name, _)| *name).collect();
    let lengths: Vec<usize> = arrays.iter().map(|(_, length)| *length).collect();
    let names = format!("{} and {}", names[..names.len() - 1].join(", "), names[names.len() - 1]);
    Err(InvalidArgument::new(argument, format!("{names} must have the same length, got {lengths:?}")))
}

/// `ab_verdicts_prop`'s arms: `x_c, n_c, x_t[], n_t[]`.
fn proportion_arms(a: &dyn Args) -> Result<(ArmSummary, Vec<ArmSummary>)> {
    let (x_t, n_t) = (a.ints(2)?, a.ints(3)?);
    same_length(&[("x_t", x_t.len()), ("n_t", n_t.len())])?;
    let control = ArmSummary::proportion(a.int(0), a.int(1))?;
    Ok((control, x_t.iter().zip(&n_t).map(|(x, n)| ArmSummary::proportion(*x, *n)).collect::<Result<_>>()?))
}

/// `ab_verdicts_mean`'s arms: `mean_c, sd_c, n_c, mean_t[], sd_t[], n_t[]`.
fn mean_arms(a: &dyn Args) -> Result<(ArmSummary, Vec<ArmSummary>)> {
    let (mean_t, sd_t, n_t) = (a.floats(3)?, a.floats(4)?, a.ints(5)?);
    same_length(&[("mean_t", mean_t.len()), ("sd_t", sd_t.len()), ("n_t", n_t.len())])?;
    let control = ArmSummary::mean(a.float(0), Some(a.float(1)), a.int(2))?;
    let treatments = mean_t.iter().zip(&sd_t).zip(&n_t).map(|((mean, sd), n)| ArmSummary::mean(*mean, Some(*sd), *n));
    Ok((control, treatments.collect::<Result<_>>()?))
}

/// One row per treatment (1-based), in [`VERDICT_ROW`]'s order.
fn verdict_rows(scale: Scale, (control, treatments): (ArmSummary, Vec<ArmSummary>), settings: TestSettings, horizon: Horizon) -> Result<Value> {
    let rows = verdicts(scale, control, &treatments, settings, horizon)?
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let treatment = i32::try_from(i + 1).map_err(|_| InvalidArgument::new("x_t", "has more entries than int4 holds"))?;
            Ok(vec![
                FieldValue::Int(Some(treatment)),
                FieldValue::Float(v.diff),
                FieldValue::Float(v.rel_lift),
                FieldValue::Float(v.statistic),
                FieldValue::Float(v.df),
                FieldValue::Float(v.p_value),
                FieldValue::Float(Some(v.holm_p_value)),
                FieldValue::Float(v.level),
                FieldValue::Float(v.ci_low),
                FieldValue::Float(v.ci_high),
                FieldValue::Float(v.rel_ci_low),
                FieldValue::Float(v.rel_ci_high),
                FieldValue::Bool(Some(v.significant)),
            ])
        })
        .collect::<Result<_>>()?;
    Ok(Value::Rows(rows))
}

/// Every row and table function, in the order of the reference (docs/functions.md).
pub static FUNCTIONS: &[Function] = &[
    // Assignment (docs/contract.md §2).
    Function {
        added_in: None,
        name: "ab_hash",
        example: "ab_hash('user-1', 'checkout-redesign')",
        overloads: &[Overload {
            params: &[required("unit", Text), required("salt", Text)],
            returns: Returns::Scalar(Float8),
            comment: "Uniform draw in [0, 1) of a unit for a salt: (XXH3_64(salt || ':' || unit) >> 11) * 2^-53",
            symbol: Symbol::HandWritten("ab_hash_v1"),
            body: |a| Ok(Value::Float(assign::hash_unit(a.text(0), a.text(1)))),
        }],
    },
    Function {
        added_in: None,
        name: "ab_bucket",
        example: "ab_bucket('user-1', 'checkout-redesign', 100)",
        overloads: &[Overload {
            params: &[required("unit", Text), required("salt", Text), optional("buckets", Int4, IntDefault(10000))],
            returns: Returns::Scalar(Int4),
            comment: "floor(ab_hash(unit, salt) * buckets), in [0, buckets)",
            symbol: Symbol::HandWritten("ab_bucket_v1"),
            body: |a| assign::bucket(a.text(0), a.text(1), a.int32(2)).map(Value::Int32),
        }],
    },
    Function {
        added_in: None,
        name: "ab_assign",
        example: "ab_assign('user-1', 'checkout-redesign', ARRAY['control', 'treatment'], ARRAY[0.5, 0.5])",
        overloads: &[
            Overload {
                params: &[required("unit", Text), required("salt", Text), required("weights", Float8Array)],
                returns: Returns::Scalar(Int4),
                comment: "1-based index of the variant a unit is assigned to, by weights",
                symbol: Symbol::Adapter("ab_assign_index_wrapper"),
                body: |a| assign::assign_index(a.text(0), a.text(1), &a.floats(2)?).and_then(to_index).map(Value::Int32),
            },
            Overload {
                params: &[required("unit", Text), required("salt", Text), required("variants", TextArray), required("weights", Float8Array)],
                returns: Returns::Scalar(Text),
                comment: "Name of the variant a unit is assigned to, by weights",
                symbol: Symbol::Adapter("ab_assign_variant_wrapper"),
                body: |a| {
                    let (variants, weights) = (a.texts(2)?, a.floats(3)?);
                    assign::assign_variant(a.text(0), a.text(1), &variants, &weights).map(|v| Value::Text(v.to_owned()))
                },
            },
        ],
    },
    function!("ab_in_sample",
        "Whether a unit is in the experiment traffic: ab_hash(unit, salt || ':traffic:' ...) < fraction, independent of the variant draw",
        example "ab_in_sample('user-1', 'checkout-redesign', 0.2)",
        (required("unit", Text), required("salt", Text), required("fraction", Float8)) -> Returns::Scalar(Bool),
        |a| assign::in_sample(a.text(0), a.text(1), a.float(2)).map(Value::Bool)),
    function!("ab_in_layer",
        "Whether a unit falls in the layer range: lo <= ab_hash(unit, layer_salt) < hi",
        example "ab_in_layer('user-1', 'checkout-layer', 0.0, 0.5)",
        (required("unit", Text), required("layer_salt", Text), required("lo", Float8), required("hi", Float8)) -> Returns::Scalar(Bool),
        |a| assign::in_layer_range(a.text(0), a.text(1), a.float(2), a.float(3)).map(Value::Bool)),
    // Other platforms' bucketing, for migrations (ab_core::foreign_hash).
    function!("ab_hash_growthbook",
        "GrowthBook hash(seed, unit, version) in [0, 1): version 1 = (fnv1a32(unit || seed) % 1000) / 1000, version 2 = (fnv1a32(fnv1a32(seed || unit)::text) % 10000) / 10000",
        example "ab_hash_growthbook('user-1', 'checkout-redesign', 2)",
        (required("unit", Text), required("seed", Text), required("version", Int4)) -> Returns::Scalar(Float8),
        |a| foreign_hash::growthbook_hash(a.text(0), a.text(1), a.int32(2)).map(Value::Float)),
    function!("ab_bucket_unleash",
        "Unleash normalizedHash in 1..normalizer: murmur3_x86_32(group_id || ':' || unit, seed) % normalizer + 1 (rollouts: normalizer 100, seed 0; variants: total weight, seed 86028157)",
        example "ab_bucket_unleash('user-1', 'checkout-redesign')",
        (required("unit", Text), required("group_id", Text), optional("normalizer", Int8, IntDefault(100)), optional("seed", Int8, IntDefault(0)))
            -> Returns::Scalar(Int8),
        |a| foreign_hash::unleash_normalized_hash(a.text(0), a.text(1), a.int(2), a.int(3)).map(|b| Value::Int64(b.into()))),
    function!("ab_bucket_statsig",
        "Statsig bucket: first 8 bytes of SHA-256(salt || '.' || unit) as a big-endian unsigned integer, mod buckets (user_bucket: 1000; pass percentage: 10000 with salt config_salt.rule_salt)",
        example "ab_bucket_statsig('user-1', 'salt')",
        (required("unit", Text), required("salt", Text), optional("buckets", Int4, IntDefault(1000))) -> Returns::Scalar(Int4),
        |a| foreign_hash::statsig_bucket(a.text(0), a.text(1), a.int32(2)).map(Value::Int32)),
    function!("ab_bucket_optimizely",
        "Optimizely bucket value in [0, 10000): floor(murmur3_x86_32(user_id || parent_id, 1) / 2^32 * 10000); parent_id is the experiment id (or the mutual exclusion group id)",
        example "ab_bucket_optimizely('user-1', '12345')",
        (required("user_id", Text), required("parent_id", Text)) -> Returns::Scalar(Int4),
        |a| Ok(Value::Int32(foreign_hash::optimizely_bucket(a.text(0), a.text(1))))),
    function!("ab_shard_eppo",
        "Eppo shard in [0, total_shards): first 4 bytes of MD5(salt || '-' || subject) as a big-endian unsigned integer, mod total_shards",
        example "ab_shard_eppo('user-1', 'checkout-redesign')",
        (required("subject", Text), required("salt", Text), optional("total_shards", Int4, IntDefault(foreign_hash::EPPO_DEFAULT_SHARDS as i64)))
            -> Returns::Scalar(Int4),
        |a| foreign_hash::eppo_shard(a.text(0), a.text(1), a.int32(2)).map(Value::Int32)),
    // Two-sample tests from summary numbers.
    function!("ab_ztest",
        "Two-proportion z-test from counts (x_c, n_c, x_t, n_t), control first",
        example "ab_ztest(120, 1000, 150, 1000)",
        (required("x_c", Int8), required("n_c", Int8), required("x_t", Int8), required("n_t", Int8), ALPHA, ALTERNATIVE)
            -> Returns::Record(&ZTEST),
        |a| compare::ztest(a.int(0), a.int(1), a.int(2), a.int(3), settings(a, 4, 5)?).map(|r| Value::record(&r))),
    function!("ab_ttest",
        "Welch t-test from summary statistics (mean, sd, n), control first",
        example "ab_ttest(10.0, 4.0, 500, 10.6, 4.2, 500)",
        (
            required("mean_c", Float8), required("sd_c", Float8), required("n_c", Int8),
            required("mean_t", Float8), required("sd_t", Float8), required("n_t", Int8), ALPHA, ALTERNATIVE,
        ) -> Returns::Record(&TTEST),
        |a| {
            let (control, treatment) = ((a.float(0), a.float(1), a.int(2)), (a.float(3), a.float(4), a.int(5)));
            compare::ttest(control, treatment, settings(a, 6, 7)?).map(|r| Value::record(&r))
        }),
    // Tests against a margin (ab_core::compare::margin).
    function!("ab_noninferiority_ztest", added in "0.3.0",
        "Non-inferiority of a conversion rate by an absolute margin: one-sided Wald z-test of diff against -margin (+margin when lower is better), decided by the 1 - 2 alpha interval",
        example "ab_noninferiority_ztest(1200, 10000, 1190, 10000, 0.01)",
        (required("x_c", Int8), required("n_c", Int8), required("x_t", Int8), required("n_t", Int8), required("margin", Float8), ALPHA, HIGHER_IS_BETTER)
            -> Returns::Record(&MARGIN),
        |a| compare::margin::margin_ztest(a.int(0), a.int(1), a.int(2), a.int(3), Margin::new(a.float(4), a.float(5), a.bool(6))?)
            .map(|r| Value::record(&r))),
    function!("ab_noninferiority_ttest", added in "0.3.0",
        "Non-inferiority of a mean by an absolute margin: one-sided Welch t-test of diff against -margin (+margin when lower is better), decided by the 1 - 2 alpha interval",
        example "ab_noninferiority_ttest(10.0, 4.0, 5000, 9.9, 4.1, 5000, 0.5)",
        (
            required("mean_c", Float8), required("sd_c", Float8), required("n_c", Int8),
            required("mean_t", Float8), required("sd_t", Float8), required("n_t", Int8), required("margin", Float8), ALPHA, HIGHER_IS_BETTER,
        ) -> Returns::Record(&MARGIN),
        |a| {
            let (control, treatment) = ((a.float(0), a.float(1), a.int(2)), (a.float(3), a.float(4), a.int(5)));
            compare::margin::margin_ttest(control, treatment, Margin::new(a.float(6), a.float(7), a.bool(8))?).map(|r| Value::record(&r))
        }),
    // One verdict per treatment (ab_core::compare::verdict).
    function!("ab_verdicts_prop",
        "One verdict per treatment of a conversion metric: Wald z-test, Holm across the treatments, Wald and Fieller intervals at Holm's level (significant exactly when they exclude 0)",
        example "ab_verdicts_prop(120, 1000, ARRAY[150, 131], ARRAY[1000, 1000])",
        (required("x_c", Int8), required("n_c", Int8), required("x_t", Int8Array), required("n_t", Int8Array), ALPHA, ALTERNATIVE)
            -> Returns::Table(&VERDICT_ROW),
        |a| verdict_rows(Scale::Proportion, proportion_arms(a)?, settings(a, 4, 5)?, Horizon::Fixed)),
    function!("ab_verdicts_mean",
        "One verdict per treatment of a mean: Welch t-test, Holm across the treatments, Welch and Fieller intervals at Holm's level (significant exactly when they exclude 0)",
        example "ab_verdicts_mean(10.0, 4.0, 500, ARRAY[10.6, 10.1], ARRAY[4.2, 4.0], ARRAY[500, 500])",
        (
            required("mean_c", Float8), required("sd_c", Float8), required("n_c", Int8),
            required("mean_t", Float8Array), required("sd_t", Float8Array), required("n_t", Int8Array), ALPHA, ALTERNATIVE,
        ) -> Returns::Table(&VERDICT_ROW),
        |a| verdict_rows(Scale::Mean, mean_arms(a)?, settings(a, 6, 7)?, Horizon::Fixed)),
    function!("ab_seq_verdicts_prop",
        "ab_verdicts_prop at any look: always-valid p-value and asymptotic confidence sequence (N* = tuning_n), Holm across the treatments, significant exactly when the sequences exclude 0",
        example "ab_seq_verdicts_prop(120, 1000, ARRAY[150], ARRAY[1000])",
        (
            required("x_c", Int8), required("n_c", Int8), required("x_t", Int8Array), required("n_t", Int8Array),
            ALPHA, ALTERNATIVE, TUNING_N,
        ) -> Returns::Table(&VERDICT_ROW),
        |a| verdict_rows(Scale::Proportion, proportion_arms(a)?, settings(a, 4, 5)?, Horizon::Sequential { tuning_n: a.float(6) })),
    function!("ab_seq_verdicts_mean",
        "ab_verdicts_mean at any look: always-valid p-value and asymptotic confidence sequence (N* = tuning_n), Holm across the treatments, significant exactly when the sequences exclude 0",
        example "ab_seq_verdicts_mean(10.0, 4.0, 500, ARRAY[10.6], ARRAY[4.2], ARRAY[500])",
        (
            required("mean_c", Float8), required("sd_c", Float8), required("n_c", Int8),
            required("mean_t", Float8Array), required("sd_t", Float8Array), required("n_t", Int8Array), ALPHA, ALTERNATIVE, TUNING_N,
        ) -> Returns::Table(&VERDICT_ROW),
        |a| verdict_rows(Scale::Mean, mean_arms(a)?, settings(a, 6, 7)?, Horizon::Sequential { tuning_n: a.float(8) })),
    // Planning (ab_core::planning).
    function!("ab_sample_size_prop",
        "Units per variant to detect a change of a conversion rate",
        example "ab_sample_size_prop(0.10, 0.05)",
        (required("baseline", Float8), required("mde", Float8), ALPHA, POWER, RELATIVE, ALTERNATIVE, COMPARISONS) -> Returns::Scalar(Int8),
        |a| {
            let rates = RatePair::new(a.float(0), a.float(1), a.bool(4))?;
            planning::sample_size_prop(rates, a.float(3), design(a, 2, 5, 6)?).map(Value::Int64)
        }),
    function!("ab_sample_size_mean",
        "Units per variant to detect an absolute change of a mean",
        example "ab_sample_size_mean(4.0, 0.5)",
        (required("sd", Float8), required("mde", Float8), ALPHA, POWER, ALTERNATIVE, COMPARISONS) -> Returns::Scalar(Int8),
        |a| planning::sample_size_mean(a.float(0), a.float(1), a.float(3), design(a, 2, 4, 5)?).map(Value::Int64)),
    function!("ab_power_prop",
        "Power to detect a change of a conversion rate with n units per variant",
        example "ab_power_prop(0.10, 0.05, 50000)",
        (required("baseline", Float8), required("mde", Float8), required("n_per_variant", Int8), ALPHA, RELATIVE, ALTERNATIVE, COMPARISONS)
            -> Returns::Scalar(Float8),
        |a| {
            let rates = RatePair::new(a.float(0), a.float(1), a.bool(4))?;
            planning::power_prop(rates, a.int(2), design(a, 3, 5, 6)?).map(Value::Float)
        }),
    function!("ab_power_mean",
        "Power to detect an absolute change of a mean with n units per variant",
        example "ab_power_mean(4.0, 0.5, 1000)",
        (required("sd", Float8), required("mde", Float8), required("n_per_variant", Int8), ALPHA, ALTERNATIVE, COMPARISONS)
            -> Returns::Scalar(Float8),
        |a| planning::power_mean(a.float(0), a.float(1), a.int(2), design(a, 3, 4, 5)?).map(Value::Float)),
    function!("ab_mde_prop",
        "Smallest detectable increase of a conversion rate with n units per variant",
        example "ab_mde_prop(0.10, 50000)",
        (required("baseline", Float8), required("n_per_variant", Int8), ALPHA, POWER, RELATIVE, ALTERNATIVE, COMPARISONS)
            -> Returns::Scalar(Float8),
        |a| planning::mde_prop(a.float(0), a.int(1), a.float(3), a.bool(4), design(a, 2, 5, 6)?).map(Value::maybe_float)),
    function!("ab_mde_mean",
        "Smallest detectable absolute change of a mean with n units per variant",
        example "ab_mde_mean(4.0, 1000)",
        (required("sd", Float8), required("n_per_variant", Int8), ALPHA, POWER, ALTERNATIVE, COMPARISONS) -> Returns::Scalar(Float8),
        |a| planning::mde_mean(a.float(0), a.int(1), a.float(3), design(a, 2, 4, 5)?).map(Value::Float)),
    function!("ab_duration_days",
        "Days until every variant has n_per_variant units",
        example "ab_duration_days(15000, 2, 4000)",
        (required("n_per_variant", Int8), required("variants", Int4), required("daily_traffic", Float8), optional("traffic_fraction", Float8, FloatDefault(1.0)))
            -> Returns::Scalar(Int4),
        |a| planning::duration_days(a.int(0), a.int32(1), a.float(2), a.float(3)).map(Value::Int32)),
    // Health checks of an analysis (ab_core::srm, ab_core::contamination).
    function!("ab_srm",
        "Sample-ratio mismatch: chi-square test of observed counts against weights",
        example "ab_srm(ARRAY[5000, 5210], ARRAY[0.5, 0.5])",
        (required("observed", Int8Array), required("weights", Float8Array)) -> Returns::Record(&SRM),
        |a| srm::srm(&a.ints(0)?, &a.floats(1)?).map(|r| Value::record(&r))),
    function!("ab_adjust_pvalues",
        "Multiple-testing corrected p-values: bonferroni, holm or fdr_bh",
        example "ab_adjust_pvalues(ARRAY[0.01, 0.04, 0.03], 'holm')",
        (required("p", Float8Array), optional("method", Text, TextDefault("holm"))) -> Returns::Scalar(Float8Array),
        |a| srm::adjust_pvalues(&a.floats(0)?, Correction::parse(a.text(1))?).map(Value::Floats)),
    function!("ab_contamination",
        "Units exposed to more than one variant of an experiment, from exposure rows as arrays of units and variants, and their share",
        example "ab_contamination(ARRAY['u1', 'u2', 'u1'], ARRAY['control', 'control', 'treatment'])",
        (required("units", TextArray), required("variants", TextArray)) -> Returns::Record(&CONTAMINATION),
        |a| contamination::contamination(&a.texts(0)?, &a.texts(1)?).map(Value::maybe_record)),
    // Bayesian comparisons and bandits (ab_core::bayes).
    function!("ab_bayes_prop",
        "Beta-Binomial posteriors of two rates: P(treatment better) and expected losses by quadrature, 95% credible interval",
        example "ab_bayes_prop(120, 1000, 150, 1000)",
        (
            required("x_c", Int8), required("n_c", Int8), required("x_t", Int8), required("n_t", Int8),
            optional("prior_a", Float8, FloatDefault(1.0)), optional("prior_b", Float8, FloatDefault(1.0)),
        ) -> Returns::Record(&BAYES),
        |a| bayes::bayes_prop(a.int(0), a.int(1), a.int(2), a.int(3), a.float(4), a.float(5)).map(|r| Value::record(&r))),
    function!("ab_bayes_mean",
        "Normal approximation for two means: P(treatment better), expected losses, 95% credible interval",
        example "ab_bayes_mean(10.0, 4.0, 500, 10.6, 4.2, 500)",
        (
            required("mean_c", Float8), required("sd_c", Float8), required("n_c", Int8),
            required("mean_t", Float8), required("sd_t", Float8), required("n_t", Int8),
        ) -> Returns::Record(&BAYES),
        |a| bayes::bayes_mean((a.float(0), a.float(1), a.int(2)), (a.float(3), a.float(4), a.int(5))).map(Value::maybe_record)),
    function!("ab_thompson_weights",
        "Thompson-sampling weights: P(arm is best) under Beta(1+s, 1+f), by quadrature, with a floor per arm",
        example "ab_thompson_weights(ARRAY[120, 150], ARRAY[1000, 1000], 0.05)",
        (required("successes", Int8Array), required("trials", Int8Array), optional("floor", Float8, FloatDefault(0.0))) -> Returns::Scalar(Float8Array),
        |a| bayes::thompson_weights(&a.ints(0)?, &a.ints(1)?, a.float(2)).map(Value::Floats)),
    // Sequential tests, quantiles and outliers.
    function!("ab_msprt",
        "Mixture SPRT (normal mixture N(0, tau2)): always-valid p-value and confidence sequence of a difference",
        example "ab_msprt(0.6, 0.0676, 1.0)",
        (required("diff", Float8), required("variance", Float8), required("tau2", Float8), ALPHA) -> Returns::Record(&SEQUENTIAL),
        |a| sequential::msprt(a.float(0), a.float(1), a.float(2), a.float(3)).map(|r| Value::record(&r))),
    function!("ab_quantile_test",
        "Difference of the q-quantiles (median: 0.5) of two arms given as arrays, with Maritz-Jarrett standard errors, a normal CI and p-value",
        example "ab_quantile_test(ARRAY[1.0, 2.0, 3.0, 4.0, 5.0], ARRAY[2.0, 3.0, 4.0, 5.0, 6.0], 0.5)",
        (required("control", Float8Array), required("treatment", Float8Array), required("q", Float8), ALPHA) -> Returns::Record(&QUANTILE),
        |a| quantile::quantile_test(&a.floats(0)?, &a.floats(1)?, a.float(2), a.float(3)).map(|r| Value::record(&r))),
    // Group sequential designs (ab_core::group_sequential).
    function!("ab_gst_boundary", added in "0.3.0",
        "Boundary of a group sequential design's last look given the looks before it (information fractions of the planned maximum), by Lan-DeMets alpha spending: 'obrien-fleming', 'pocock' or 'power:rho'",
        example "ab_gst_boundary(ARRAY[0.25, 0.5, 0.75], 0.05, 'obrien-fleming')",
        (required("information", Float8Array), ALPHA, SPENDING, ALTERNATIVE) -> Returns::Record(&GST_BOUNDARY),
        |a| group_sequential::boundary(a.floats(0)?, a.float(1), a.text(2), a.text(3)).map(|r| Value::record(&r))),
    function!("ab_gst_inflation", added in "0.3.0",
        "Factor by which a group sequential design's maximum sample size exceeds the single-look test's for the same alpha and power (the last look at information 1)",
        example "ab_gst_inflation(ARRAY[0.25, 0.5, 0.75, 1.0], 0.05, 0.8, 'pocock')",
        (required("information", Float8Array), ALPHA, POWER, SPENDING, ALTERNATIVE) -> Returns::Scalar(Float8),
        |a| group_sequential::inflation(a.floats(0)?, a.float(1), a.float(2), a.text(3), a.text(4)).map(Value::Float)),
    function!("ab_winsorize",
        "The value capped to [lo, hi]",
        example "ab_winsorize(1250.0, 0.0, 500.0)",
        (required("value", Float8), required("lo", Float8), required("hi", Float8)) -> Returns::Scalar(Float8),
        |a| outliers::winsorize(a.float(0), a.float(1), a.float(2)).map(Value::Float)),
];
