//! docs/contract.md §4: every invalid parameter raises SQLSTATE 22023 with a message naming the argument;
//! never a crash, never a Rust panic text. Undefined statistics are NULL.

use sql_integration::{connect, error_of};

/// (SQL, the argument the message must name)
const INVALID: &[(&str, &str)] = &[
    ("SELECT ab_bucket('u', 's', 0)", "buckets"),
    ("SELECT ab_bayes_prop(5, 0, 1, 10)", "n_c"),
    ("SELECT ab_bayes_prop(5, 10, 11, 10)", "x_t"),
    ("SELECT ab_bayes_prop(5, 10, 1, 10, prior_a => 0)", "prior_a"),
    ("SELECT ab_bayes_mean(1, -1, 10, 1, 1, 10)", "sd_c"),
    ("SELECT ab_bayes_mean(1e308, 1e308, 1, -1e308, 1e308, 1)", "mean_t"),
    ("SELECT ab_thompson_weights(ARRAY[1, 2], ARRAY[5])", "successes"),
    ("SELECT ab_thompson_weights(ARRAY[6], ARRAY[5])", "successes"),
    ("SELECT ab_thompson_weights(ARRAY[1, 1], ARRAY[5, -1])", "trials"),
    ("SELECT ab_thompson_weights(ARRAY[1, 1], ARRAY[5, 5], 0.6)", "floor"),
    ("SELECT ab_msprt(0.1, 0, 1)", "variance"),
    ("SELECT ab_msprt(0.1, 1, 0)", "tau2"),
    ("SELECT ab_msprt(0.1, 1, 1, 1)", "alpha"),
    ("SELECT ab_winsorize(1, 3, 2)", "lo"),
    ("SELECT ab_contamination(ARRAY['a', 'b'], ARRAY['x'])", "units"),
    ("SELECT ab_quantile_test('{}'::float8[], ARRAY[1.0], 0.5)", "control"),
    ("SELECT ab_quantile_test(ARRAY[1.0], ARRAY[1.0], 1.5)", "q"),
    ("SELECT ab_winsorize(1, 0, 'Infinity')", "hi"),
    ("SELECT ab_bucket('u', 's', -5)", "buckets"),
    ("SELECT ab_assign('u', 's', ARRAY[-1.0, 2.0])", "weights"),
    ("SELECT ab_assign('u', 's', ARRAY[0.0, 0.0])", "weights"),
    ("SELECT ab_assign('u', 's', ARRAY['NaN'::float8, 1.0])", "weights"),
    ("SELECT ab_assign('u', 's', '{}'::float8[])", "weights"),
    ("SELECT ab_assign('u', 's', ARRAY[1.0, NULL])", "weights"),
    ("SELECT ab_assign('u', 's', ARRAY['a', 'b', 'c'], ARRAY[1.0, 1.0])", "variants"),
    ("SELECT ab_in_sample('u', 's', 1.5)", "fraction"),
    ("SELECT ab_in_layer('u', 's', 0.5, 0.2)", "hi"),
    ("SELECT ab_ztest(10, 0, 10, 100)", "n_c"),
    ("SELECT ab_ztest(10, 100, 10, -1)", "n_t"),
    ("SELECT ab_ztest(101, 100, 10, 100)", "x_c"),
    ("SELECT ab_ztest(10, 100, -1, 100)", "x_t"),
    ("SELECT ab_ztest(10, 100, 12, 100, 0)", "alpha"),
    ("SELECT ab_ztest(10, 100, 12, 100, 1)", "alpha"),
    ("SELECT ab_ztest(10, 100, 12, 100, 0.05, 'bigger')", "alternative"),
    ("SELECT ab_ttest(1, 1, 0, 1, 1, 10)", "n_c"),
    ("SELECT ab_ttest(1, -1, 10, 1, 1, 10)", "sd_c"),
    ("SELECT ab_ttest(1, 1, 10, 'Infinity', 1, 10)", "mean_t"),
    ("SELECT ab_ttest(1, 1, 10, 1, 1, 10, 1.5)", "alpha"),
    ("SELECT ab_sample_size_prop(0, 0.1)", "baseline"),
    ("SELECT ab_sample_size_prop(0.1, 0)", "mde"),
    ("SELECT ab_sample_size_prop(0.6, 1.0)", "mde"),
    ("SELECT ab_sample_size_prop(0.1, 0.1, power => 1)", "power"),
    ("SELECT ab_sample_size_prop(0.1, 0.1, comparisons => 0)", "comparisons"),
    ("SELECT ab_sample_size_prop(0.1, 0.1, alternative => 'sideways')", "alternative"),
    ("SELECT ab_sample_size_mean(0, 1)", "sd"),
    ("SELECT ab_sample_size_mean(1, 1e-200)", "mde"),
    ("SELECT ab_power_prop(0.1, 0.1, 0)", "n_per_variant"),
    ("SELECT ab_mde_prop(0.1, 0)", "n_per_variant"),
    ("SELECT ab_mde_mean(1, 100, power => 0)", "power"),
    ("SELECT ab_duration_days(1000, 2, 0)", "daily_traffic"),
    ("SELECT ab_duration_days(1000, 2, 100, 0)", "traffic_fraction"),
    ("SELECT ab_duration_days(1000, 0, 100)", "variants"),
    ("SELECT ab_srm(ARRAY[10, 20]::int8[], ARRAY[1.0])", "weights"),
    ("SELECT * FROM ab_verdicts_prop(1, 10, ARRAY[1, 2]::int8[], ARRAY[10]::int8[])", "n_t"),
    ("SELECT * FROM ab_verdicts_mean(1, 1, 10, ARRAY[1.0, 2.0], ARRAY[1.0], ARRAY[10, 10]::int8[])", "sd_t"),
    ("SELECT * FROM ab_seq_verdicts_mean(1, 1, 10, ARRAY[1.0], ARRAY[1.0], ARRAY[10, 10]::int8[])", "n_t"),
    ("SELECT ab_srm(ARRAY[10, -20]::int8[], ARRAY[1.0, 1.0])", "observed"),
    ("SELECT ab_srm(ARRAY[10, 20]::int8[], ARRAY[1.0, 0.0])", "weights"),
    ("SELECT ab_srm(ARRAY[10]::int8[], ARRAY[1.0])", "observed"),
    ("SELECT ab_adjust_pvalues(ARRAY[0.01, 1.5])", "p"),
    ("SELECT ab_adjust_pvalues(ARRAY[0.01, NULL])", "p"),
    ("SELECT ab_adjust_pvalues(ARRAY[0.01, 0.02], 'sidak')", "method"),
    ("SELECT ab_ttest_agg(g, v, 2.0) FROM (VALUES (true, 1.0::float8), (false, 2.0)) d(g, v)", "alpha"),
    ("SELECT ab_ztest_agg(g, c, 0.05, 'up') FROM (VALUES (true, true), (false, false)) d(g, c)", "alternative"),
    ("SELECT ab_ttest_agg(g, v) FROM (VALUES (true, 'NaN'::float8), (false, 2.0)) d(g, v)", "value"),
    ("SELECT ab_cuped_agg(g, v, x) FROM (VALUES (true, 1.0::float8, 'Infinity'::float8)) d(g, v, x)", "covariate"),
    ("SELECT ab_ratio_agg(g, n, d) FROM (VALUES (true, 1.0::float8, 'NaN'::float8)) x(g, n, d)", "denominator"),
    ("SELECT ab_ratio_agg(g, n, d, 0.05, 'up') FROM (VALUES (true, 1.0::float8, 2.0::float8)) x(g, n, d)", "alternative"),
    ("SELECT ab_ratio_cuped_agg(g, n, d, pn, pd) FROM (VALUES (true, 1.0::float8, 2.0::float8, 'NaN'::float8, 1.0::float8)) x(g, n, d, pn, pd)", "pre_numerator"),
    ("SELECT ab_ratio_cuped_agg(g, n, d, pn, pd, 1.5) FROM (VALUES (true, 1.0::float8, 2.0::float8, 1.0::float8, 1.0::float8)) x(g, n, d, pn, pd)", "alpha"),
    ("SELECT ab_interaction_agg(a, b, v) FROM (VALUES (true, false, 'Infinity'::float8)) x(a, b, v)", "value"),
    ("SELECT ab_interaction_agg(a, b, v, 0) FROM (VALUES (true, false, 1.0::float8)) x(a, b, v)", "alpha"),
    ("SELECT ab_msprt_agg(t, v, 0) FROM (VALUES (true, 1.0::float8), (true, 2.0), (false, 1.0), (false, 3.0)) x(t, v)", "tau2"),
    ("SELECT ab_seq_ttest_agg(t, v, 0.05, -1) FROM (VALUES (true, 1.0::float8), (true, 2.0), (false, 1.0), (false, 3.0)) x(t, v)", "tuning_n"),
];

#[test]
fn invalid_parameters_raise_22023_naming_the_argument() {
    let mut client = connect();
    let mut failures = Vec::new();
    for (sql, argument) in INVALID {
        let (code, message) = error_of(&mut client, sql);
        let leaks_rust = ["panick", "unwrap", ".rs:", "RUST_BACKTRACE"].iter().any(|s| message.contains(s));
        // The argument named is the one at fault, not merely mentioned: "invalid n_t: …".
        if code != "22023" || !message.contains(&format!("invalid {argument}:")) || leaks_rust {
            failures.push(format!("{sql}\n    -> {code}: {message} (wanted 22023 naming {argument})"));
        }
    }
    assert!(failures.is_empty(), "{} of {} bad inputs mishandled:\n{}", failures.len(), INVALID.len(), failures.join("\n"));
}

#[test]
fn null_arguments_give_null_and_aggregates_skip_null_rows() {
    let mut client = connect();
    let row = client
        .query_one("SELECT ab_hash(NULL, 's') IS NULL, ab_ztest(NULL, 10, 1, 10) IS NULL, ab_bucket('u', NULL) IS NULL", &[])
        .expect("query");
    assert!(row.get::<_, bool>(0) && row.get::<_, bool>(1) && row.get::<_, bool>(2));

    let with_nulls = "SELECT (ab_ttest_agg(g, v)).* FROM (VALUES (true, 1.0::float8), (true, 3.0), (true, NULL), \
                      (NULL, 100.0), (false, 2.0), (false, 5.0), (false, 8.0)) d(g, v)";
    let without = "SELECT (ab_ttest_agg(g, v)).* FROM (VALUES (true, 1.0::float8), (true, 3.0), \
                   (false, 2.0), (false, 5.0), (false, 8.0)) d(g, v)";
    let a = client.query_one(with_nulls, &[]).expect("query");
    let b = client.query_one(without, &[]).expect("query");
    for column in ["mean_c", "mean_t", "t", "df", "p_value"] {
        assert_eq!(a.get::<_, Option<f64>>(column), b.get::<_, Option<f64>>(column), "{column}");
    }
}

#[test]
fn undefined_statistics_are_null_not_nan() {
    let mut client = connect();
    // One row per arm: no variance, so no t, df or p-value; the means are defined.
    let row = client
        .query_one("SELECT (r).mean_c, (r).t, (r).p_value, (r).significant FROM \
                    (SELECT ab_ttest_agg(g, v) r FROM (VALUES (true, 1.0::float8), (false, 2.0)) d(g, v)) s", &[])
        .expect("query");
    assert_eq!(row.get::<_, Option<f64>>(0), Some(2.0));
    assert_eq!(row.get::<_, Option<f64>>(1), None);
    assert_eq!(row.get::<_, Option<f64>>(2), None);
    assert_eq!(row.get::<_, Option<bool>>(3), None);
    // Only one arm present: no comparison at all.
    let row = client
        .query_one("SELECT ab_ztest_agg(g, c) IS NULL FROM (VALUES (true, true), (true, false)) d(g, c)", &[])
        .expect("query");
    assert!(row.get::<_, bool>(0));
    // Rates of 0 in both arms: the pooled SE is 0, so z and p are NULL.
    let row = client.query_one("SELECT z, p_value FROM ab_ztest(0, 100, 0, 100)", &[]).expect("query");
    assert_eq!(row.get::<_, Option<f64>>(0), None);
    assert_eq!(row.get::<_, Option<f64>>(1), None);
    // Nothing NaN anywhere.
    let nan_count: i64 = client
        .query_one("SELECT count(*) FROM ab_ztest(0, 100, 0, 100) r WHERE r::text LIKE '%NaN%'", &[])
        .expect("query")
        .get(0);
    assert_eq!(nan_count, 0);
}
