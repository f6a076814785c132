//! The installed extension against the golden vectors (scipy, statsmodels and xxhash via
//! `tests/golden/generate.py`), 1e-9 relative: the same references `ab_core`'s unit tests use,
//! now through SQL, the aggregates and their parallel-safe state included.

use golden_vectors::{case_name, cases, f64_of, f64s_of, i64_of, i64s_of, str_of, Actual, Checker};
use postgres::types::ToSql;
use postgres::{Client, Row};
use serde_json::Value;
use sql_integration::connect;

fn each_case(section: &str, mut check: impl FnMut(&mut Client, &str, &Value, &mut Checker)) {
    let vectors = golden_vectors::load();
    let mut client = connect();
    let mut checker = Checker::default();
    for (index, case) in cases(&vectors, section).iter().enumerate() {
        check(&mut client, &case_name(section, index, case), case, &mut checker);
    }
    checker.finish(section);
}

fn query_one(client: &mut Client, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Row {
    client.query_one(sql, params).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Reads a result column by name, typed as the catalog says.
fn column(row: &Row, name: &str) -> Actual {
    let Some(index) = row.columns().iter().position(|c| c.name() == name) else { return Actual::Missing };
    match row.columns()[index].type_().name() {
        "float8" => Actual::Float(row.get(index)),
        "bool" => Actual::Bool(row.get(index)),
        "int4" => Actual::Int(row.get::<_, Option<i32>>(index).map(i64::from)),
        "int8" => Actual::Int(row.get(index)),
        other => panic!("unexpected column type {other} of {name}"),
    }
}

#[test]
fn assignment_functions_match_xxh3_reference() {
    each_case("hash", |client, name, case, checker| {
        let row = query_one(client, "SELECT ab_hash($1, $2)", &[&str_of(&case["unit"]), &str_of(&case["salt"])]);
        checker.exact(name, "u", row.get::<_, f64>(0), f64_of(&case["u"]));
    });
    each_case("bucket", |client, name, case, checker| {
        let buckets = i64_of(&case["buckets"]) as i32;
        let row = query_one(client, "SELECT ab_bucket($1, $2, $3)", &[&str_of(&case["unit"]), &str_of(&case["salt"]), &buckets]);
        checker.exact(name, "bucket", i64::from(row.get::<_, i32>(0)), i64_of(&case["bucket"]));
    });
    each_case("assign", |client, name, case, checker| {
        let weights = f64s_of(&case["weights"]);
        let names: Vec<String> = (1..=weights.len()).map(|i| format!("variant_{i}")).collect();
        let (unit, salt) = (str_of(&case["unit"]), str_of(&case["salt"]));
        let row = query_one(client, "SELECT ab_assign($1, $2, $3), ab_assign($1, $2, $4, $3)", &[&unit, &salt, &weights, &names]);
        checker.exact(name, "index", i64::from(row.get::<_, i32>(0)), i64_of(&case["index"]));
        checker.exact(name, "variant", row.get::<_, String>(1), format!("variant_{}", i64_of(&case["index"])));
    });
    each_case("in_sample", |client, name, case, checker| {
        let fraction = f64_of(&case["fraction"]);
        let row = query_one(client, "SELECT ab_in_sample($1, $2, $3)", &[&str_of(&case["unit"]), &str_of(&case["salt"]), &fraction]);
        checker.exact(name, "in_sample", row.get::<_, Option<bool>>(0), case["in_sample"].as_bool());
    });
}

#[test]
fn ab_ztest_and_ab_ztest_agg_match_statsmodels() {
    each_case("ztest", |client, name, case, checker| {
        let (x_c, n_c, x_t, n_t) = (i64_of(&case["x_c"]), i64_of(&case["n_c"]), i64_of(&case["x_t"]), i64_of(&case["n_t"]));
        let (alpha, alternative) = (f64_of(&case["alpha"]), str_of(&case["alternative"]));
        let row = query_one(client, "SELECT * FROM ab_ztest($1, $2, $3, $4, $5, $6)", &[&x_c, &n_c, &x_t, &n_t, &alpha, &alternative]);
        checker.record(name, &case["expected"], |field| column(&row, field));
        // The aggregate over the same counts as rows, where the rows are few enough to make.
        if n_c + n_t <= 200_000 {
            let row = query_one(
                client,
                "SELECT (ab_ztest_agg(is_treatment, converted, $5, $6)).* FROM (
                     SELECT false AS is_treatment, i <= $1::int8 AS converted FROM generate_series(1, $2::int8) i
                     UNION ALL SELECT true, i <= $3::int8 FROM generate_series(1, $4::int8) i) rows",
                &[&x_c, &n_c, &x_t, &n_t, &alpha, &alternative],
            );
            checker.record(&format!("{name} (ab_ztest_agg)"), &case["expected"], |field| column(&row, field));
        }
    });
}

#[test]
fn ab_ttest_and_ab_ttest_agg_match_scipy() {
    each_case("ttest_stats", |client, name, case, checker| {
        let (mean_c, sd_c, n_c) = (f64_of(&case["mean_c"]), f64_of(&case["sd_c"]), i64_of(&case["n_c"]));
        let (mean_t, sd_t, n_t) = (f64_of(&case["mean_t"]), f64_of(&case["sd_t"]), i64_of(&case["n_t"]));
        let (alpha, alternative) = (f64_of(&case["alpha"]), str_of(&case["alternative"]));
        let row = query_one(
            client,
            "SELECT * FROM ab_ttest($1, $2, $3, $4, $5, $6, $7, $8)",
            &[&mean_c, &sd_c, &n_c, &mean_t, &sd_t, &n_t, &alpha, &alternative],
        );
        checker.record(name, &case["expected"], |field| column(&row, field));
    });
    each_case("ttest_data", |client, name, case, checker| {
        let (control, treatment) = (f64s_of(&case["control"]), f64s_of(&case["treatment"]));
        let (alpha, alternative) = (f64_of(&case["alpha"]), str_of(&case["alternative"]));
        let row = query_one(
            client,
            "SELECT (ab_ttest_agg(is_treatment, value, $3, $4)).* FROM (
                 SELECT false AS is_treatment, unnest($1::float8[]) AS value
                 UNION ALL SELECT true, unnest($2::float8[])) rows",
            &[&control, &treatment, &alpha, &alternative],
        );
        checker.record(name, &case["expected"], |field| column(&row, field));
    });
}

#[test]
fn ab_cuped_agg_matches_reference() {
    each_case("cuped_data", |client, name, case, checker| {
        let arm = |key: &str, series: &str| f64s_of(&case[key][series]);
        let (alpha, alternative) = (f64_of(&case["alpha"]), str_of(&case["alternative"]));
        let row = query_one(
            client,
            "SELECT (ab_cuped_agg(is_treatment, value, covariate, $5, $6)).* FROM (
                 SELECT false AS is_treatment, unnest($1::float8[]) AS value, unnest($2::float8[]) AS covariate
                 UNION ALL SELECT true, unnest($3::float8[]), unnest($4::float8[])) rows",
            &[&arm("control", "y"), &arm("control", "x"), &arm("treatment", "y"), &arm("treatment", "x"), &alpha, &alternative],
        );
        checker.record(name, &case["expected"], |field| column(&row, field));
    });
}

#[test]
fn ab_ratio_agg_matches_delta_method_reference() {
    each_case("ratio", |client, name, case, checker| {
        let arm = |key: &str, series: &str| f64s_of(&case[key][series]);
        let (alpha, alternative) = (f64_of(&case["alpha"]), str_of(&case["alternative"]));
        let row = query_one(
            client,
            "SELECT (ab_ratio_agg(is_treatment, numerator, denominator, $5, $6)).* FROM (
                 SELECT false AS is_treatment, unnest($1::float8[]) AS numerator, unnest($2::float8[]) AS denominator
                 UNION ALL SELECT true, unnest($3::float8[]), unnest($4::float8[])) rows",
            &[&arm("control", "numerator"), &arm("control", "denominator"), &arm("treatment", "numerator"), &arm("treatment", "denominator"), &alpha, &alternative],
        );
        checker.record(name, &case["expected"], |field| column(&row, field));
    });
}

#[test]
fn ab_ratio_cuped_agg_matches_matrix_reference() {
    each_case("ratio_cuped", |client, name, case, checker| {
        let arm = |key: &str, series: &str| f64s_of(&case[key][series]);
        let (alpha, alternative) = (f64_of(&case["alpha"]), str_of(&case["alternative"]));
        let row = query_one(
            client,
            "SELECT (ab_ratio_cuped_agg(is_treatment, n, d, pre_n, pre_d, $9, $10)).* FROM (
                 SELECT false AS is_treatment, unnest($1::float8[]) AS n, unnest($2::float8[]) AS d,
                        unnest($3::float8[]) AS pre_n, unnest($4::float8[]) AS pre_d
                 UNION ALL SELECT true, unnest($5::float8[]), unnest($6::float8[]), unnest($7::float8[]), unnest($8::float8[])) rows",
            &[
                &arm("control", "numerator"), &arm("control", "denominator"),
                &arm("control", "pre_numerator"), &arm("control", "pre_denominator"),
                &arm("treatment", "numerator"), &arm("treatment", "denominator"),
                &arm("treatment", "pre_numerator"), &arm("treatment", "pre_denominator"),
                &alpha, &alternative,
            ],
        );
        checker.record(name, &case["expected"], |field| column(&row, field));
    });
}

#[test]
fn ab_interaction_agg_matches_welch_satterthwaite_reference() {
    each_case("interaction", |client, name, case, checker| {
        let cell = |key: &str| f64s_of(&case["cells"][key]);
        let (alpha, alternative) = (f64_of(&case["alpha"]), str_of(&case["alternative"]));
        let row = query_one(
            client,
            "SELECT (ab_interaction_agg(a, b, value, $5, $6)).* FROM (
                 SELECT false AS a, false AS b, unnest($1::float8[]) AS value UNION ALL SELECT false, true, unnest($2::float8[])
                 UNION ALL SELECT true, false, unnest($3::float8[]) UNION ALL SELECT true, true, unnest($4::float8[])) rows",
            &[&cell("00"), &cell("01"), &cell("10"), &cell("11"), &alpha, &alternative],
        );
        checker.record(name, &case["expected"], |field| column(&row, field));
    });
}

#[test]
fn sequential_aggregates_match_reference_from_raw_data() {
    each_case("sequential_data", |client, name, case, checker| {
        let (control, treatment) = (f64s_of(&case["control"]), f64s_of(&case["treatment"]));
        let (alpha, tau2, tuning_n) = (f64_of(&case["alpha"]), f64_of(&case["tau2"]), f64_of(&case["tuning_n"]));
        let rows = "(SELECT false AS t, unnest($1::float8[]) AS v UNION ALL SELECT true, unnest($2::float8[])) rows";
        let row = query_one(client, &format!("SELECT (ab_msprt_agg(t, v, $3, $4)).* FROM {rows}"), &[&control, &treatment, &tau2, &alpha]);
        checker.record(&format!("{name} ab_msprt_agg"), &case["msprt"], |field| column(&row, field));
        let row = query_one(client, &format!("SELECT (ab_seq_ttest_agg(t, v, $3, $4)).* FROM {rows}"), &[&control, &treatment, &alpha, &tuning_n]);
        checker.record(&format!("{name} ab_seq_ttest_agg"), &case["seq_ttest"], |field| column(&row, field));
    });
}

#[test]
fn planning_functions_match_reference() {
    let design = |case: &Value| (f64_of(&case["alpha"]), str_of(&case["alternative"]).to_owned(), i64_of(&case["comparisons"]) as i32);
    each_case("sample_size_prop", |client, name, case, checker| {
        let (alpha, alternative, comparisons) = design(case);
        let row = query_one(
            client,
            "SELECT ab_sample_size_prop($1, $2, $3, $4, $5, $6, $7)",
            &[&f64_of(&case["baseline"]), &f64_of(&case["mde"]), &alpha, &f64_of(&case["power"]), &(case["relative"] == true), &alternative, &comparisons],
        );
        checker.exact(name, "n", row.get::<_, i64>(0), i64_of(&case["expected"]));
    });
    each_case("sample_size_mean", |client, name, case, checker| {
        let (alpha, alternative, comparisons) = design(case);
        let row = query_one(
            client,
            "SELECT ab_sample_size_mean($1, $2, $3, $4, $5, $6)",
            &[&f64_of(&case["sd"]), &f64_of(&case["mde"]), &alpha, &f64_of(&case["power"]), &alternative, &comparisons],
        );
        checker.exact(name, "n", row.get::<_, i64>(0), i64_of(&case["expected"]));
    });
    each_case("power_prop", |client, name, case, checker| {
        let (alpha, alternative, comparisons) = design(case);
        let row = query_one(
            client,
            "SELECT ab_power_prop($1, $2, $3, $4, $5, $6, $7)",
            &[&f64_of(&case["baseline"]), &f64_of(&case["mde"]), &i64_of(&case["n"]), &alpha, &(case["relative"] == true), &alternative, &comparisons],
        );
        checker.float(name, "power", row.get(0), &case["expected"]);
    });
    each_case("power_mean", |client, name, case, checker| {
        let (alpha, alternative, comparisons) = design(case);
        let row = query_one(
            client,
            "SELECT ab_power_mean($1, $2, $3, $4, $5, $6)",
            &[&f64_of(&case["sd"]), &f64_of(&case["mde"]), &i64_of(&case["n"]), &alpha, &alternative, &comparisons],
        );
        checker.float(name, "power", row.get(0), &case["expected"]);
    });
    each_case("mde_prop", |client, name, case, checker| {
        let (alpha, alternative, comparisons) = design(case);
        let row = query_one(
            client,
            "SELECT ab_mde_prop($1, $2, $3, $4, $5, $6, $7)",
            &[&f64_of(&case["baseline"]), &i64_of(&case["n"]), &alpha, &f64_of(&case["power"]), &(case["relative"] == true), &alternative, &comparisons],
        );
        checker.float(name, "mde", row.get(0), &case["expected"]);
    });
    each_case("mde_mean", |client, name, case, checker| {
        let (alpha, alternative, comparisons) = design(case);
        let row = query_one(
            client,
            "SELECT ab_mde_mean($1, $2, $3, $4, $5, $6)",
            &[&f64_of(&case["sd"]), &i64_of(&case["n"]), &alpha, &f64_of(&case["power"]), &alternative, &comparisons],
        );
        checker.float(name, "mde", row.get(0), &case["expected"]);
    });
    each_case("duration_days", |client, name, case, checker| {
        let row = query_one(
            client,
            "SELECT ab_duration_days($1, $2, $3, $4)",
            &[&i64_of(&case["n_per_variant"]), &(i64_of(&case["variants"]) as i32), &f64_of(&case["daily_traffic"]), &f64_of(&case["traffic_fraction"])],
        );
        checker.exact(name, "days", i64::from(row.get::<_, i32>(0)), i64_of(&case["expected"]));
    });
}

#[test]
fn ab_srm_and_ab_adjust_pvalues_match_scipy_and_statsmodels() {
    each_case("srm", |client, name, case, checker| {
        let row = query_one(client, "SELECT * FROM ab_srm($1, $2)", &[&i64s_of(&case["observed"]), &f64s_of(&case["weights"])]);
        checker.record(name, &case["expected"], |field| column(&row, field));
    });
    each_case("adjust", |client, name, case, checker| {
        let row = query_one(client, "SELECT ab_adjust_pvalues($1, $2)", &[&f64s_of(&case["p"]), &str_of(&case["method"])]);
        let adjusted: Vec<f64> = row.get(0);
        let expected = case["expected"].as_array().expect("array");
        checker.exact(name, "len", adjusted.len(), expected.len());
        for (i, (a, e)) in adjusted.iter().zip(expected).enumerate() {
            checker.float(name, &format!("p[{i}]"), Some(*a), e);
        }
    });
}

#[test]
fn bayesian_sequential_and_capping_functions_match_their_references() {
    each_case("bayes_prop", |client, name, case, checker| {
        let counts: Vec<i64> = ["x_c", "n_c", "x_t", "n_t"].iter().map(|k| i64_of(&case[*k])).collect();
        let (a, b) = (f64_of(&case["prior_a"]), f64_of(&case["prior_b"]));
        let row = query_one(client, "SELECT * FROM ab_bayes_prop($1, $2, $3, $4, $5, $6)", &[&counts[0], &counts[1], &counts[2], &counts[3], &a, &b]);
        checker.record(name, &case["expected"], |field| column(&row, field));
    });
    each_case("bayes_mean", |client, name, case, checker| {
        let f = |k: &str| f64_of(&case[k]);
        let n = |k: &str| i64_of(&case[k]);
        let row = query_one(
            client,
            "SELECT (r).* FROM (SELECT ab_bayes_mean($1, $2, $3, $4, $5, $6) AS r) s",
            &[&f("mean_c"), &f("sd_c"), &n("n_c"), &f("mean_t"), &f("sd_t"), &n("n_t")],
        );
        if case["expected"].is_null() {
            checker.exact(name, "undefined", row.get::<_, Option<f64>>("prob_t_better"), None);
        } else {
            checker.record(name, &case["expected"], |field| column(&row, field));
        }
    });
    each_case("thompson", |client, name, case, checker| {
        let (successes, trials, floor) = (i64s_of(&case["successes"]), i64s_of(&case["trials"]), f64_of(&case["floor"]));
        let row = query_one(client, "SELECT ab_thompson_weights($1, $2, $3)", &[&successes, &trials, &floor]);
        for (index, (weight, expected)) in row.get::<_, Vec<f64>>(0).iter().zip(case["expected"].as_array().unwrap()).enumerate() {
            checker.float(name, &format!("weight[{index}]"), Some(*weight), expected);
        }
    });
    each_case("msprt", |client, name, case, checker| {
        let f = |k: &str| f64_of(&case[k]);
        let row = query_one(client, "SELECT * FROM ab_msprt($1, $2, $3, $4)", &[&f("diff"), &f("variance"), &f("tau2"), &f("alpha")]);
        checker.record(name, &case["expected"], |field| column(&row, field));
    });
    each_case("quantile", |client, name, case, checker| {
        let (control, treatment, q, alpha) = (f64s_of(&case["control"]), f64s_of(&case["treatment"]), f64_of(&case["q"]), f64_of(&case["alpha"]));
        let row = query_one(client, "SELECT * FROM ab_quantile_test($1, $2, $3, $4)", &[&control, &treatment, &q, &alpha]);
        checker.record(name, &case["expected"], |field| column(&row, field));
    });
    each_case("contamination", |client, name, case, checker| {
        let strings = |key: &str| case[key].as_array().unwrap().iter().map(|v| str_of(v).to_owned()).collect::<Vec<String>>();
        let row = query_one(client, "SELECT * FROM ab_contamination($1, $2)", &[&strings("units"), &strings("variants")]);
        checker.record(name, &case["expected"], |field| column(&row, field));
    });
    each_case("winsorize", |client, name, case, checker| {
        let f = |k: &str| f64_of(&case[k]);
        let row = query_one(client, "SELECT ab_winsorize($1, $2, $3)", &[&f("value"), &f("lo"), &f("hi")]);
        checker.float(name, "value", Some(row.get(0)), &case["expected"]);
    });
}

/// The "catalog_calls" section: calls of catalog functions by name, field by field.
#[test]
fn catalog_calls_match_their_references() {
    each_case("catalog_calls", |client, name, case, checker| {
        let row = query_one(client, &format!("SELECT ({}).*", golden_vectors::call_sql(case)), &[]);
        checker.record(name, &case["expected"], |field| column(&row, field));
    });
}
