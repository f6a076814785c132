//! `pg_ab`: the Postgres face of `ab_core`. Every function here is glue: it checks nothing
//! and computes nothing that `ab_core` does not, and turns `ab_core`'s errors into
//! SQLSTATE 22023 (54000 at a work cap).

use pgrx::pg_sys::panic::CaughtError;
use pgrx::prelude::*;

mod aggregate_catalog;
mod aggregates;
mod assignment;
mod bayesian;
mod checks;
mod comparisons;
mod foreign_hash;
mod hot_paths;
mod planning;
mod sequential;
mod sql_glue;
mod verdicts;

pgrx::pg_module_magic!();

/// Runs when a backend loads the library: long computations in `ab_core` poll this hook every
/// few thousand steps, so `statement_timeout`, `pg_cancel_backend` and
/// `pg_terminate_backend` end them. `CHECK_FOR_INTERRUPTS()` raises its `ERROR` through
/// pgrx's guard, which unwinds the Rust frames to the SQL function's boundary and hands the
/// error to Postgres there (`ab_core` holds no lock across the hook).
#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    ab_core::interrupt::set_hook(check_for_interrupts);
}

/// `CHECK_FOR_INTERRUPTS()`. Its ERROR (57014 for a timeout or cancel) is caught and raised
/// again from Rust with the same code and message: pgrx attaches a Rust backtrace as the DETAIL
/// of an error it catches at the FFI boundary when the server runs with `RUST_BACKTRACE`, and
/// users should not see our stack frames. (A terminate is FATAL and exits the backend there.)
fn check_for_interrupts() {
    PgTryBuilder::new(|| {
        pgrx::check_for_interrupts!();
    })
        .catch_others(|caught| match caught {
            CaughtError::PostgresError(report) => {
                ereport!(PgLogLevel::ERROR, report.sql_error_code(), report.message().to_owned());
                unreachable!("ereport(ERROR) does not return")
            }
            other => other.rethrow(),
        })
        .execute()
}

extension_sql!(
    r#"
CREATE TYPE ab_ztest_result AS (
    rate_c float8, rate_t float8, diff float8, rel_lift float8, z float8, p_value float8,
    ci_low float8, ci_high float8, rel_ci_low float8, rel_ci_high float8, significant boolean
);
CREATE TYPE ab_ttest_result AS (
    mean_c float8, mean_t float8, diff float8, rel_lift float8, t float8, df float8, p_value float8,
    ci_low float8, ci_high float8, rel_ci_low float8, rel_ci_high float8, significant boolean
);
CREATE TYPE ab_cuped_result AS (
    theta float8, diff float8, rel_lift float8, t float8, df float8, p_value float8,
    ci_low float8, ci_high float8, variance_reduction float8, significant boolean
);
CREATE TYPE ab_srm_result AS (chi2 float8, df int4, p_value float8);
CREATE TYPE ab_bayes_result AS (
    prob_t_better float8, expected_loss_t float8, expected_loss_c float8, ci_low float8, ci_high float8
);
CREATE TYPE ab_sequential_result AS (p_value float8, cs_low float8, cs_high float8);
CREATE TYPE ab_contamination_result AS (units int8, contaminated_units int8, share float8);
CREATE TYPE ab_quantile_result AS (
    quantile_c float8, quantile_t float8, diff float8, ci_low float8, ci_high float8, p_value float8, significant boolean
);
CREATE TYPE ab_interaction_result AS (
    contrast float8, se float8, t float8, df float8, p_value float8, ci_low float8, ci_high float8, significant boolean
);
CREATE TYPE ab_ratio_cuped_result AS (
    ratio_c float8, ratio_t float8, theta float8, diff float8, rel_lift float8, z float8, p_value float8,
    ci_low float8, ci_high float8, variance_reduction float8, significant boolean
);
CREATE TYPE ab_ratio_result AS (
    ratio_c float8, ratio_t float8, diff float8, rel_lift float8, z float8, p_value float8,
    ci_low float8, ci_high float8, rel_ci_low float8, rel_ci_high float8, significant boolean
);
COMMENT ON TYPE ab_ztest_result IS 'Result of ab_ztest and ab_ztest_agg: two-proportion z-test, control first';
COMMENT ON TYPE ab_ttest_result IS 'Result of ab_ttest and ab_ttest_agg: Welch t-test, control first';
COMMENT ON TYPE ab_cuped_result IS 'Result of ab_cuped_agg: Welch t-test on the CUPED-adjusted metric';
COMMENT ON TYPE ab_srm_result IS 'Result of ab_srm: chi-square test of the observed split';
COMMENT ON TYPE ab_bayes_result IS 'Result of ab_bayes_prop and ab_bayes_mean: P(treatment better), expected loss of each choice, 95% credible interval of the difference';
COMMENT ON TYPE ab_ratio_result IS 'Result of ab_ratio_agg: ratio metric per arm compared by the delta method';
COMMENT ON TYPE ab_ratio_cuped_result IS 'Result of ab_ratio_cuped_agg: ratio metric adjusted by its pre-period ratio (CUPED), delta method';
COMMENT ON TYPE ab_interaction_result IS 'Result of ab_interaction_agg: the 2x2 interaction contrast of two experiments';
COMMENT ON TYPE ab_quantile_result IS 'Result of ab_quantile_test: difference of a quantile between arms with a Maritz-Jarrett CI';
COMMENT ON TYPE ab_contamination_result IS 'Result of ab_contamination: units exposed to more than one variant';
COMMENT ON TYPE ab_sequential_result IS 'Result of ab_msprt, ab_msprt_agg and ab_seq_ttest_agg: always-valid p-value and confidence sequence';
"#,
    name = "result_types",
    bootstrap
);

/// The hot scalar functions of hot_paths.rs (its transition functions are declared with their
/// aggregates).
const HOT_PATH_FUNCTIONS: &str = r#"
CREATE FUNCTION ab_hash(unit text, salt text) RETURNS float8
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'ab_hash_v1';
CREATE FUNCTION ab_bucket(unit text, salt text, buckets int4 DEFAULT 10000) RETURNS int4
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'ab_bucket_v1';
"#;

/// Comments on the functions that are not part of an aggregate.
const FUNCTION_COMMENTS: &str = r#"
COMMENT ON FUNCTION ab_hash(text, text) IS 'Uniform draw in [0, 1) of a unit for a salt: (XXH3_64(salt || '':'' || unit) >> 11) * 2^-53';
COMMENT ON FUNCTION ab_bucket(text, text, integer) IS 'floor(ab_hash(unit, salt) * buckets), in [0, buckets)';
COMMENT ON FUNCTION ab_assign(text, text, float8[]) IS '1-based index of the variant a unit is assigned to, by weights';
COMMENT ON FUNCTION ab_assign(text, text, text[], float8[]) IS 'Name of the variant a unit is assigned to, by weights';
COMMENT ON FUNCTION ab_in_sample(text, text, float8) IS 'Whether a unit is in the experiment traffic: ab_hash(unit, salt || '':traffic:'' ...) < fraction, independent of the variant draw';
COMMENT ON FUNCTION ab_in_layer(text, text, float8, float8) IS 'Whether a unit falls in the layer range: lo <= ab_hash(unit, layer_salt) < hi';
COMMENT ON FUNCTION ab_ztest(bigint, bigint, bigint, bigint, float8, text) IS 'Two-proportion z-test from counts (x_c, n_c, x_t, n_t), control first';
COMMENT ON FUNCTION ab_ttest(float8, float8, bigint, float8, float8, bigint, float8, text) IS 'Welch t-test from summary statistics (mean, sd, n), control first';
COMMENT ON FUNCTION ab_sample_size_prop(float8, float8, float8, float8, boolean, text, integer) IS 'Units per variant to detect a change of a conversion rate';
COMMENT ON FUNCTION ab_sample_size_mean(float8, float8, float8, float8, text, integer) IS 'Units per variant to detect an absolute change of a mean';
COMMENT ON FUNCTION ab_power_prop(float8, float8, bigint, float8, boolean, text, integer) IS 'Power to detect a change of a conversion rate with n units per variant';
COMMENT ON FUNCTION ab_power_mean(float8, float8, bigint, float8, text, integer) IS 'Power to detect an absolute change of a mean with n units per variant';
COMMENT ON FUNCTION ab_mde_prop(float8, bigint, float8, float8, boolean, text, integer) IS 'Smallest detectable increase of a conversion rate with n units per variant';
COMMENT ON FUNCTION ab_mde_mean(float8, bigint, float8, float8, text, integer) IS 'Smallest detectable absolute change of a mean with n units per variant';
COMMENT ON FUNCTION ab_duration_days(bigint, integer, float8, float8) IS 'Days until every variant has n_per_variant units';
COMMENT ON FUNCTION ab_srm(bigint[], float8[]) IS 'Sample-ratio mismatch: chi-square test of observed counts against weights';
COMMENT ON FUNCTION ab_adjust_pvalues(float8[], text) IS 'Multiple-testing corrected p-values: bonferroni, holm or fdr_bh';
COMMENT ON FUNCTION ab_bayes_prop(bigint, bigint, bigint, bigint, float8, float8) IS 'Beta-Binomial posteriors of two rates: P(treatment better) and expected losses by quadrature, 95% credible interval';
COMMENT ON FUNCTION ab_bayes_mean(float8, float8, bigint, float8, float8, bigint) IS 'Normal approximation for two means: P(treatment better), expected losses, 95% credible interval';
COMMENT ON FUNCTION ab_thompson_weights(bigint[], bigint[], float8) IS 'Thompson-sampling weights: P(arm is best) under Beta(1+s, 1+f), by quadrature, with a floor per arm';
COMMENT ON FUNCTION ab_msprt(float8, float8, float8, float8) IS 'Mixture SPRT (normal mixture N(0, tau2)): always-valid p-value and confidence sequence of a difference';
COMMENT ON FUNCTION ab_winsorize(float8, float8, float8) IS 'The value capped to [lo, hi]';
COMMENT ON FUNCTION ab_contamination(text[], text[]) IS 'Units exposed to more than one variant of an experiment, from exposure rows as arrays of units and variants, and their share';
COMMENT ON FUNCTION ab_quantile_test(float8[], float8[], float8, float8) IS 'Difference of the q-quantiles (median: 0.5) of two arms given as arrays, with Maritz-Jarrett standard errors, a normal CI and p-value';
"#;

// The aggregates need their support functions, so they come last; so do the comments,
// which name every function of the extension. The aggregates' SQL is generated from their
// table (aggregates.rs) at compile time, hence a constant rather than `extension_sql!`'s literal.
const FINALIZE_SQL: aggregate_catalog::SqlText<{ finalize_sql::<0>().byte_count() }> = finalize_sql();

const fn finalize_sql<const N: usize>() -> aggregate_catalog::SqlText<N> {
    aggregate_catalog::render(HOT_PATH_FUNCTIONS, aggregates::AGGREGATES, aggregates::STATES, FUNCTION_COMMENTS)
}

aggregate_catalog::extension_sql_finalize!(
    __pgrx_schema_sql_aggregates_and_comments,
    name = "aggregates_and_comments",
    FINALIZE_SQL.as_str()
);

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {}

/// Required by `cargo pgrx test`.
#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {}
    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec![]
    }
}
