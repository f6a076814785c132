//! The DataFusion UDFs against the golden vectors (scipy, statsmodels and xxhash via
//! `tests/golden/generate.py`), 1e-9 relative, through SQL. Data for the aggregates is split
//! over two partitions so the partial states are merged as in a parallel plan.

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Float64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Int32Type, Int64Type, Schema};
use datafusion::datasource::MemTable;
use datafusion::prelude::{SessionConfig, SessionContext};
use golden_vectors::{case_name, cases, f64_of, f64s_of, i64_of, i64s_of, str_of, Actual, Checker};
use serde_json::Value;
use std::sync::Arc;

fn context() -> SessionContext {
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(2));
    ab_datafusion::register_all(&ctx);
    ctx
}

async fn query(ctx: &SessionContext, sql: &str) -> RecordBatch {
    let batches = ctx.sql(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}")).collect().await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    let schema = batches.first().map(|b| b.schema()).expect("a result batch");
    datafusion::arrow::compute::concat_batches(&schema, &batches).expect("concat")
}

/// A float literal that parses back to the same f64.
fn lit(value: f64) -> String {
    if value.is_finite() { format!("{value:?}") } else { panic!("no literal for {value}") }
}

fn text(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

fn floats(values: &[f64]) -> String {
    format!("[{}]", values.iter().map(|v| lit(*v)).collect::<Vec<_>>().join(", "))
}

/// A struct result's field as the checker wants it.
fn struct_field(column: &ArrayRef, row: usize, name: &str) -> Actual {
    let record = column.as_struct();
    let Some(field) = record.column_by_name(name) else { return Actual::Missing };
    if record.is_null(row) || field.is_null(row) {
        return match field.data_type() {
            DataType::Boolean => Actual::Bool(None),
            DataType::Int32 | DataType::Int64 => Actual::Int(None),
            _ => Actual::Float(None),
        };
    }
    match field.data_type() {
        DataType::Float64 => Actual::Float(Some(field.as_primitive::<Float64Type>().value(row))),
        DataType::Boolean => Actual::Bool(Some(field.as_boolean().value(row))),
        DataType::Int32 => Actual::Int(Some(i64::from(field.as_primitive::<Int32Type>().value(row)))),
        DataType::Int64 => Actual::Int(Some(field.as_primitive::<Int64Type>().value(row))),
        other => panic!("unexpected field type {other}"),
    }
}

/// A two-arm table of one case, in two partitions (control, then treatment).
fn arms_table(columns: &[(&str, Vec<f64>, Vec<f64>)]) -> MemTable {
    let mut fields = vec![Field::new("is_treatment", DataType::Boolean, false)];
    fields.extend(columns.iter().map(|(name, _, _)| Field::new(*name, DataType::Float64, false)));
    let schema = Arc::new(Schema::new(fields));
    let partition = |treatment: bool| {
        let len = if treatment { columns[0].2.len() } else { columns[0].1.len() };
        let mut arrays: Vec<ArrayRef> = vec![Arc::new(BooleanArray::from(vec![treatment; len]))];
        arrays.extend(columns.iter().map(|(_, control, treated)| -> ArrayRef {
            Arc::new(Float64Array::from(if treatment { treated.clone() } else { control.clone() }))
        }));
        vec![RecordBatch::try_new(schema.clone(), arrays).expect("batch")]
    };
    MemTable::try_new(schema.clone(), vec![partition(false), partition(true)]).expect("table")
}

async fn each_case(section: &str, check: impl AsyncFn(&SessionContext, &str, &Value, &mut Checker)) {
    let vectors = golden_vectors::load();
    let ctx = context();
    let mut checker = Checker::default();
    for (index, case) in cases(&vectors, section).iter().enumerate() {
        check(&ctx, &case_name(section, index, case), case, &mut checker).await;
    }
    checker.finish(section);
}

#[tokio::test]
async fn assignment_matches_xxh3_reference() {
    each_case("hash", async |ctx, name, case, checker| {
        let batch = query(ctx, &format!("SELECT ab_hash({}, {})", text(str_of(&case["unit"])), text(str_of(&case["salt"])))).await;
        checker.exact(name, "u", batch.column(0).as_primitive::<Float64Type>().value(0), f64_of(&case["u"]));
    })
    .await;
    each_case("bucket", async |ctx, name, case, checker| {
        let sql = format!("SELECT ab_bucket({}, {}, {})", text(str_of(&case["unit"])), text(str_of(&case["salt"])), i64_of(&case["buckets"]));
        let batch = query(ctx, &sql).await;
        checker.exact(name, "bucket", i64::from(batch.column(0).as_primitive::<Int32Type>().value(0)), i64_of(&case["bucket"]));
    })
    .await;
    each_case("assign", async |ctx, name, case, checker| {
        let weights = f64s_of(&case["weights"]);
        let names: Vec<String> = (1..=weights.len()).map(|i| format!("'variant_{i}'")).collect();
        let (unit, salt) = (text(str_of(&case["unit"])), text(str_of(&case["salt"])));
        let sql = format!("SELECT ab_assign({unit}, {salt}, {w}), ab_assign({unit}, {salt}, [{n}], {w})", w = floats(&weights), n = names.join(", "));
        let batch = query(ctx, &sql).await;
        checker.exact(name, "index", i64::from(batch.column(0).as_primitive::<Int32Type>().value(0)), i64_of(&case["index"]));
        checker.exact(name, "variant", batch.column(1).as_string::<i32>().value(0).to_owned(), format!("variant_{}", i64_of(&case["index"])));
    })
    .await;
    each_case("in_sample", async |ctx, name, case, checker| {
        let sql = format!("SELECT ab_in_sample({}, {}, {})", text(str_of(&case["unit"])), text(str_of(&case["salt"])), lit(f64_of(&case["fraction"])));
        let batch = query(ctx, &sql).await;
        checker.exact(name, "in_sample", Some(batch.column(0).as_boolean().value(0)), case["in_sample"].as_bool());
    })
    .await;
}

#[tokio::test]
async fn ztest_and_ttest_match_statsmodels_and_scipy() {
    each_case("ztest", async |ctx, name, case, checker| {
        let sql = format!(
            "SELECT ab_ztest({}, {}, {}, {}, {}, {})",
            i64_of(&case["x_c"]), i64_of(&case["n_c"]), i64_of(&case["x_t"]), i64_of(&case["n_t"]),
            lit(f64_of(&case["alpha"])), text(str_of(&case["alternative"]))
        );
        let batch = query(ctx, &sql).await;
        checker.record(name, &case["expected"], |field| struct_field(batch.column(0), 0, field));
    })
    .await;
    each_case("ttest_stats", async |ctx, name, case, checker| {
        let sql = format!(
            "SELECT ab_ttest({}, {}, {}, {}, {}, {}, {}, {})",
            lit(f64_of(&case["mean_c"])), lit(f64_of(&case["sd_c"])), i64_of(&case["n_c"]),
            lit(f64_of(&case["mean_t"])), lit(f64_of(&case["sd_t"])), i64_of(&case["n_t"]),
            lit(f64_of(&case["alpha"])), text(str_of(&case["alternative"]))
        );
        let batch = query(ctx, &sql).await;
        checker.record(name, &case["expected"], |field| struct_field(batch.column(0), 0, field));
    })
    .await;
}

#[tokio::test]
async fn aggregates_match_scipy_across_partitions() {
    each_case("ttest_data", async |ctx, name, case, checker| {
        ctx.register_table("arms", Arc::new(arms_table(&[("value", f64s_of(&case["control"]), f64s_of(&case["treatment"]))]))).expect("register");
        let sql = format!("SELECT ab_ttest_agg(is_treatment, value, {}, {}) FROM arms", lit(f64_of(&case["alpha"])), text(str_of(&case["alternative"])));
        let batch = query(ctx, &sql).await;
        ctx.deregister_table("arms").expect("deregister");
        checker.record(name, &case["expected"], |field| struct_field(batch.column(0), 0, field));
    })
    .await;
    each_case("cuped_data", async |ctx, name, case, checker| {
        let (c, t) = (&case["control"], &case["treatment"]);
        let table = arms_table(&[("value", f64s_of(&c["y"]), f64s_of(&t["y"])), ("covariate", f64s_of(&c["x"]), f64s_of(&t["x"]))]);
        ctx.register_table("arms", Arc::new(table)).expect("register");
        let sql = format!("SELECT ab_cuped_agg(is_treatment, value, covariate, {}, {}) FROM arms", lit(f64_of(&case["alpha"])), text(str_of(&case["alternative"])));
        let batch = query(ctx, &sql).await;
        ctx.deregister_table("arms").expect("deregister");
        checker.record(name, &case["expected"], |field| struct_field(batch.column(0), 0, field));
    })
    .await;
    each_case("ratio", async |ctx, name, case, checker| {
        let (c, t) = (&case["control"], &case["treatment"]);
        let table = arms_table(&[
            ("numerator", f64s_of(&c["numerator"]), f64s_of(&t["numerator"])),
            ("denominator", f64s_of(&c["denominator"]), f64s_of(&t["denominator"])),
        ]);
        ctx.register_table("arms", Arc::new(table)).expect("register");
        let sql = format!("SELECT ab_ratio_agg(is_treatment, numerator, denominator, {}, {}) FROM arms", lit(f64_of(&case["alpha"])), text(str_of(&case["alternative"])));
        let batch = query(ctx, &sql).await;
        ctx.deregister_table("arms").expect("deregister");
        checker.record(name, &case["expected"], |field| struct_field(batch.column(0), 0, field));
    })
    .await;
    each_case("ratio_cuped", async |ctx, name, case, checker| {
        let (c, t) = (&case["control"], &case["treatment"]);
        let column = |variable: &'static str| (variable, f64s_of(&c[variable]), f64s_of(&t[variable]));
        let table = arms_table(&[column("numerator"), column("denominator"), column("pre_numerator"), column("pre_denominator")]);
        ctx.register_table("arms", Arc::new(table)).expect("register");
        let sql = format!(
            "SELECT ab_ratio_cuped_agg(is_treatment, numerator, denominator, pre_numerator, pre_denominator, {}, {}) FROM arms",
            lit(f64_of(&case["alpha"])), text(str_of(&case["alternative"]))
        );
        let batch = query(ctx, &sql).await;
        ctx.deregister_table("arms").expect("deregister");
        checker.record(name, &case["expected"], |field| struct_field(batch.column(0), 0, field));
    })
    .await;
    each_case("sequential_data", async |ctx, name, case, checker| {
        ctx.register_table("arms", Arc::new(arms_table(&[("value", f64s_of(&case["control"]), f64s_of(&case["treatment"]))]))).expect("register");
        let (alpha, tau2, tuning_n) = (lit(f64_of(&case["alpha"])), lit(f64_of(&case["tau2"])), lit(f64_of(&case["tuning_n"])));
        let batch = query(ctx, &format!("SELECT ab_msprt_agg(is_treatment, value, {tau2}, {alpha}), ab_seq_ttest_agg(is_treatment, value, {alpha}, {tuning_n}) FROM arms")).await;
        ctx.deregister_table("arms").expect("deregister");
        checker.record(&format!("{name} ab_msprt_agg"), &case["msprt"], |field| struct_field(batch.column(0), 0, field));
        checker.record(&format!("{name} ab_seq_ttest_agg"), &case["seq_ttest"], |field| struct_field(batch.column(1), 0, field));
    })
    .await;
    each_case("interaction", async |ctx, name, case, checker| {
        let mut rows = Vec::new();
        for (key, a, b) in [("00", false, false), ("01", false, true), ("10", true, false), ("11", true, true)] {
            rows.extend(f64s_of(&case["cells"][key]).into_iter().map(|v| format!("({a}, {b}, {})", lit(v))));
        }
        let sql = format!(
            "SELECT ab_interaction_agg(a, b, value, {}, {}) FROM (VALUES {}) AS cells(a, b, value)",
            lit(f64_of(&case["alpha"])), text(str_of(&case["alternative"])), rows.join(", ")
        );
        let batch = query(ctx, &sql).await;
        checker.record(name, &case["expected"], |field| struct_field(batch.column(0), 0, field));
    })
    .await;
    each_case("ztest", async |ctx, name, case, checker| {
        let (x_c, n_c, x_t, n_t) = (i64_of(&case["x_c"]), i64_of(&case["n_c"]), i64_of(&case["x_t"]), i64_of(&case["n_t"]));
        if n_c + n_t > 200_000 {
            return;
        }
        let sql = format!(
            "SELECT ab_ztest_agg(is_treatment, converted, {}, {}) FROM (
                 SELECT false AS is_treatment, value < {x_c} AS converted FROM generate_series(0, {n_c} - 1) AS s(value)
                 UNION ALL SELECT true, value < {x_t} FROM generate_series(0, {n_t} - 1) AS s(value))",
            lit(f64_of(&case["alpha"])), text(str_of(&case["alternative"]))
        );
        let batch = query(ctx, &sql).await;
        checker.record(&format!("{name} (ab_ztest_agg)"), &case["expected"], |field| struct_field(batch.column(0), 0, field));
    })
    .await;
}

#[tokio::test]
async fn planning_and_checks_match_reference() {
    let design = |case: &Value| format!("{}, {}, {}", lit(f64_of(&case["alpha"])), text(str_of(&case["alternative"])), i64_of(&case["comparisons"]));
    let relative = |case: &Value| (case["relative"] == true).to_string();
    each_case("sample_size_prop", async |ctx, name, case, checker| {
        let sql = format!(
            "SELECT ab_sample_size_prop({}, {}, {}, {}, {}, {}, {})",
            lit(f64_of(&case["baseline"])), lit(f64_of(&case["mde"])), lit(f64_of(&case["alpha"])), lit(f64_of(&case["power"])),
            relative(case), text(str_of(&case["alternative"])), i64_of(&case["comparisons"])
        );
        let batch = query(ctx, &sql).await;
        checker.exact(name, "n", batch.column(0).as_primitive::<Int64Type>().value(0), i64_of(&case["expected"]));
    })
    .await;
    each_case("sample_size_mean", async |ctx, name, case, checker| {
        let sql = format!(
            "SELECT ab_sample_size_mean({}, {}, {}, {}, {}, {})",
            lit(f64_of(&case["sd"])), lit(f64_of(&case["mde"])), lit(f64_of(&case["alpha"])), lit(f64_of(&case["power"])),
            text(str_of(&case["alternative"])), i64_of(&case["comparisons"])
        );
        let batch = query(ctx, &sql).await;
        checker.exact(name, "n", batch.column(0).as_primitive::<Int64Type>().value(0), i64_of(&case["expected"]));
    })
    .await;
    let float_result = |batch: &RecordBatch| {
        let column = batch.column(0).as_primitive::<Float64Type>();
        (!column.is_null(0)).then(|| column.value(0))
    };
    each_case("power_prop", async |ctx, name, case, checker| {
        let sql = format!(
            "SELECT ab_power_prop({}, {}, {}, {}, {}, {}, {})",
            lit(f64_of(&case["baseline"])), lit(f64_of(&case["mde"])), i64_of(&case["n"]), lit(f64_of(&case["alpha"])),
            relative(case), text(str_of(&case["alternative"])), i64_of(&case["comparisons"])
        );
        checker.float(name, "power", float_result(&query(ctx, &sql).await), &case["expected"]);
    })
    .await;
    each_case("power_mean", async |ctx, name, case, checker| {
        let sql = format!("SELECT ab_power_mean({}, {}, {}, {})", lit(f64_of(&case["sd"])), lit(f64_of(&case["mde"])), i64_of(&case["n"]), design(case));
        checker.float(name, "power", float_result(&query(ctx, &sql).await), &case["expected"]);
    })
    .await;
    each_case("mde_prop", async |ctx, name, case, checker| {
        let sql = format!(
            "SELECT ab_mde_prop({}, {}, {}, {}, {}, {}, {})",
            lit(f64_of(&case["baseline"])), i64_of(&case["n"]), lit(f64_of(&case["alpha"])), lit(f64_of(&case["power"])),
            relative(case), text(str_of(&case["alternative"])), i64_of(&case["comparisons"])
        );
        checker.float(name, "mde", float_result(&query(ctx, &sql).await), &case["expected"]);
    })
    .await;
    each_case("mde_mean", async |ctx, name, case, checker| {
        let sql = format!(
            "SELECT ab_mde_mean({}, {}, {}, {}, {}, {})",
            lit(f64_of(&case["sd"])), i64_of(&case["n"]), lit(f64_of(&case["alpha"])), lit(f64_of(&case["power"])),
            text(str_of(&case["alternative"])), i64_of(&case["comparisons"])
        );
        checker.float(name, "mde", float_result(&query(ctx, &sql).await), &case["expected"]);
    })
    .await;
    each_case("duration_days", async |ctx, name, case, checker| {
        let sql = format!(
            "SELECT ab_duration_days({}, {}, {}, {})",
            i64_of(&case["n_per_variant"]), i64_of(&case["variants"]), lit(f64_of(&case["daily_traffic"])), lit(f64_of(&case["traffic_fraction"]))
        );
        let batch = query(ctx, &sql).await;
        checker.exact(name, "days", i64::from(batch.column(0).as_primitive::<Int32Type>().value(0)), i64_of(&case["expected"]));
    })
    .await;
    each_case("srm", async |ctx, name, case, checker| {
        let observed: Vec<String> = i64s_of(&case["observed"]).iter().map(|o| o.to_string()).collect();
        let sql = format!("SELECT ab_srm([{}], {})", observed.join(", "), floats(&f64s_of(&case["weights"])));
        let batch = query(ctx, &sql).await;
        checker.record(name, &case["expected"], |field| struct_field(batch.column(0), 0, field));
    })
    .await;
    each_case("adjust", async |ctx, name, case, checker| {
        let sql = format!("SELECT ab_adjust_pvalues({}, {})", floats(&f64s_of(&case["p"])), text(str_of(&case["method"])));
        let batch = query(ctx, &sql).await;
        let list = batch.column(0).as_list::<i32>().value(0);
        let adjusted = list.as_primitive::<Float64Type>();
        let expected = case["expected"].as_array().expect("array");
        checker.exact(name, "len", adjusted.len(), expected.len());
        for (i, e) in expected.iter().enumerate() {
            checker.float(name, &format!("p[{i}]"), Some(adjusted.value(i)), e);
        }
    })
    .await;
}

#[tokio::test]
async fn bayesian_sequential_and_capping_functions_match_their_references() {
    each_case("bayes_prop", async |ctx, name, case, checker| {
        let sql = format!(
            "SELECT ab_bayes_prop({}, {}, {}, {}, {}, {})",
            i64_of(&case["x_c"]), i64_of(&case["n_c"]), i64_of(&case["x_t"]), i64_of(&case["n_t"]),
            lit(f64_of(&case["prior_a"])), lit(f64_of(&case["prior_b"]))
        );
        let batch = query(ctx, &sql).await;
        checker.record(name, &case["expected"], |field| struct_field(batch.column(0), 0, field));
    })
    .await;
    each_case("bayes_mean", async |ctx, name, case, checker| {
        let sql = format!(
            "SELECT ab_bayes_mean({}, {}, {}, {}, {}, {})",
            lit(f64_of(&case["mean_c"])), lit(f64_of(&case["sd_c"])), i64_of(&case["n_c"]),
            lit(f64_of(&case["mean_t"])), lit(f64_of(&case["sd_t"])), i64_of(&case["n_t"])
        );
        let batch = query(ctx, &sql).await;
        if case["expected"].is_null() {
            checker.exact(name, "undefined", batch.column(0).is_null(0), true);
        } else {
            checker.record(name, &case["expected"], |field| struct_field(batch.column(0), 0, field));
        }
    })
    .await;
    each_case("thompson", async |ctx, name, case, checker| {
        let ints = |key: &str| format!("[{}]", i64s_of(&case[key]).iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", "));
        let sql = format!("SELECT ab_thompson_weights({}, {}, {})", ints("successes"), ints("trials"), lit(f64_of(&case["floor"])));
        let batch = query(ctx, &sql).await;
        let list = batch.column(0).as_list::<i32>().value(0);
        let weights = list.as_primitive::<Float64Type>();
        for (i, expected) in case["expected"].as_array().expect("array").iter().enumerate() {
            checker.float(name, &format!("weight[{i}]"), Some(weights.value(i)), expected);
        }
    })
    .await;
    each_case("msprt", async |ctx, name, case, checker| {
        let sql = format!(
            "SELECT ab_msprt({}, {}, {}, {})",
            lit(f64_of(&case["diff"])), lit(f64_of(&case["variance"])), lit(f64_of(&case["tau2"])), lit(f64_of(&case["alpha"]))
        );
        let batch = query(ctx, &sql).await;
        checker.record(name, &case["expected"], |field| struct_field(batch.column(0), 0, field));
    })
    .await;
    each_case("quantile", async |ctx, name, case, checker| {
        let sql = format!(
            "SELECT ab_quantile_test({}, {}, {}, {})",
            floats(&f64s_of(&case["control"])), floats(&f64s_of(&case["treatment"])), lit(f64_of(&case["q"])), lit(f64_of(&case["alpha"]))
        );
        let batch = query(ctx, &sql).await;
        checker.record(name, &case["expected"], |field| struct_field(batch.column(0), 0, field));
    })
    .await;
    each_case("contamination", async |ctx, name, case, checker| {
        let strings = |key: &str| format!("[{}]", case[key].as_array().unwrap().iter().map(|v| text(str_of(v))).collect::<Vec<_>>().join(", "));
        let batch = query(ctx, &format!("SELECT ab_contamination({}, {})", strings("units"), strings("variants"))).await;
        checker.record(name, &case["expected"], |field| struct_field(batch.column(0), 0, field));
    })
    .await;
    each_case("winsorize", async |ctx, name, case, checker| {
        let sql = format!("SELECT ab_winsorize({}, {}, {})", lit(f64_of(&case["value"])), lit(f64_of(&case["lo"])), lit(f64_of(&case["hi"])));
        let batch = query(ctx, &sql).await;
        checker.float(name, "value", Some(batch.column(0).as_primitive::<Float64Type>().value(0)), &case["expected"]);
    })
    .await;
}

/// The "catalog_calls" section: calls of catalog functions by name, field by field.
#[tokio::test]
async fn catalog_calls_match_their_references() {
    let ctx = context();
    let vectors = golden_vectors::load();
    let mut checker = Checker::default();
    for (index, case) in cases(&vectors, "catalog_calls").iter().enumerate() {
        let batch = query(&ctx, &format!("SELECT {} AS r", golden_vectors::call_sql(case))).await;
        checker.record(&case_name("catalog_calls", index, case), &case["expected"], |field| struct_field(batch.column(0), 0, field));
    }
    checker.finish("catalog_calls");
}
