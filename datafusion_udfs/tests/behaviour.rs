//! What a user of the DataFusion functions relies on besides the numbers: bad input names the
//! argument, grouped and ungrouped aggregation agree across partitions, and `ab-sql` runs
//! files and fails with one line.

use ab_datafusion::example;
use datafusion::arrow::array::{ArrayRef, AsArray, BooleanArray, Float64Array, Int32Array, RecordBatch, StringArray};
use datafusion::arrow::compute::concat;
use datafusion::arrow::datatypes::{Float64Type, Schema};
use datafusion::datasource::MemTable;
use datafusion::prelude::{SessionConfig, SessionContext};
use std::process::Command;
use std::sync::Arc;

fn context(partitions: usize) -> SessionContext {
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(partitions));
    ab_datafusion::register_all(&ctx);
    ctx
}

async fn error_of(ctx: &SessionContext, sql: &str) -> String {
    let result = match ctx.sql(sql).await {
        Ok(frame) => frame.collect().await.map(|_| ()),
        Err(error) => Err(error),
    };
    result.expect_err(sql).to_string()
}

#[tokio::test]
async fn bad_input_errors_name_the_argument() {
    let ctx = context(2);
    let cases = [
        ("SELECT ab_bucket('u', 's', 0)", "buckets"),
        ("SELECT ab_assign('u', 's', [-1.0, 2.0])", "weights"),
        ("SELECT ab_assign('u', 's', ['a', 'b', 'c'], [1.0, 1.0])", "variants"),
        ("SELECT ab_ztest(10, 0, 10, 100)", "n_c"),
        ("SELECT ab_ztest(101, 100, 10, 100)", "x_c"),
        ("SELECT ab_ztest(10, 100, 12, 100, 1.5)", "alpha"),
        ("SELECT ab_ttest(1, 1, 10, 1, 1, 10, 0.05, 'bigger')", "alternative"),
        ("SELECT ab_sample_size_prop(0.1, 0.1, 0.05, 1.2)", "power"),
        ("SELECT ab_srm([10, 20], [1.0])", "weights"),
        ("SELECT ab_adjust_pvalues([0.01, 0.02], 'sidak')", "method"),
        ("SELECT ab_ttest_agg(g, v, 2.0) FROM (VALUES (true, 1.0), (false, 2.0)) AS d(g, v)", "alpha"),
        ("SELECT ab_ttest_agg(g, v) FROM (VALUES (true, CAST('NaN' AS DOUBLE)), (false, 2.0)) AS d(g, v)", "value"),
        ("SELECT ab_msprt_agg(g, v, 0.0) FROM (VALUES (true, 1.0), (false, 2.0)) AS d(g, v)", "tau2"),
        ("SELECT ab_seq_ttest_agg(g, v, 0.05, -1.0) FROM (VALUES (true, 1.0), (false, 2.0)) AS d(g, v)", "tuning_n"),
        ("SELECT ab_ratio_cuped_agg(g, n, d, pn, pd) FROM (VALUES (true, 1.0, 2.0, 1.0, CAST('Infinity' AS DOUBLE))) AS x(g, n, d, pn, pd)", "pre_denominator"),
        ("SELECT ab_bayes_prop(5, 0, 1, 10)", "n_c"),
        ("SELECT ab_quantile_test([1.0], [2.0], 1.5)", "q"),
        ("SELECT ab_contamination(['a', 'b'], ['x'])", "units"),
        ("SELECT * FROM ab_verdicts_prop(10, 100, [12, 13], [100])", "n_t"),
        ("SELECT * FROM ab_verdicts_mean(1.0, 1.0, 10, [1.0], [1.0, 2.0], [10])", "sd_t"),
        ("SELECT * FROM ab_seq_verdicts_prop(10, 100, [12], [100], 0.05, 'two-sided', -1.0)", "tuning_n"),
    ];
    for (sql, argument) in cases {
        let message = error_of(&ctx, sql).await;
        assert!(message.contains(argument) && !message.contains("panicked"), "{sql}: {message}");
    }
}

#[tokio::test]
async fn nulls_and_undefined_statistics_are_null() {
    let ctx = context(1);
    let batch = &ctx
        .sql("SELECT ab_hash(NULL, 's') AS h, ab_ztest(0, 100, 0, 100)['p_value'] AS p,
                     ab_ttest_agg(g, v)['t'] AS t
              FROM (VALUES (true, 1.0), (false, 2.0), (NULL, 5.0), (true, NULL)) AS d(g, v)")
        .await
        .expect("plan")
        .collect()
        .await
        .expect("run")[0];
    for column in 0..3 {
        assert!(batch.column(column).is_null(0), "column {column} should be NULL");
    }
}

#[tokio::test]
async fn grouped_and_partitioned_aggregation_equals_one_pass() {
    let batches: Vec<_> = (0..4).map(|i| example::batch(i * 20_000, 20_000, 3, 7)).collect();
    let query = "SELECT experiment, ab_ttest_agg(variant = 'treatment', revenue)['t'] AS t,
                        ab_cuped_agg(variant = 'treatment', revenue, pre_revenue)['t'] AS cuped_t,
                        ab_ztest_agg(variant = 'treatment', converted)['z'] AS z
                 FROM users GROUP BY experiment ORDER BY experiment";
    let mut answers = Vec::new();
    for partitions in [1, 4] {
        let ctx = context(partitions);
        let table = MemTable::try_new(example::schema(), batches.iter().map(|b| vec![b.clone()]).collect()).expect("table");
        ctx.register_table("users", Arc::new(table)).expect("register");
        let result = ctx.sql(query).await.expect("plan").collect().await.expect("run");
        let batch = datafusion::arrow::compute::concat_batches(&result[0].schema(), &result).expect("concat");
        let values: Vec<f64> = (1..4)
            .flat_map(|c| batch.column(c).as_primitive::<Float64Type>().values().to_vec())
            .collect();
        answers.push(values);
    }
    assert_eq!(answers[0].len(), 9);
    for (one, many) in answers[0].iter().zip(&answers[1]) {
        assert!((one - many).abs() <= 1e-9 * one.abs(), "{one} vs {many}");
    }
}

/// `batch` with one more row whose metrics are NULL, which every test skips: the same data,
/// but a batch that must go row by row.
fn with_null_row(batch: &RecordBatch) -> RecordBatch {
    let schema = Arc::new(Schema::new(batch.schema().fields().iter().map(|f| f.as_ref().clone().with_nullable(true)).collect::<Vec<_>>()));
    let null_row: [ArrayRef; 6] = [
        Arc::new(StringArray::from(vec!["user-null"])),
        Arc::new(Int32Array::from(vec![0])),
        Arc::new(StringArray::from(vec!["treatment"])),
        Arc::new(BooleanArray::from(vec![None])),
        Arc::new(Float64Array::from(vec![None])),
        Arc::new(Float64Array::from(vec![None])),
    ];
    let columns = batch.columns().iter().zip(&null_row).map(|(column, extra)| concat(&[column.as_ref(), extra.as_ref()]).expect("concat"));
    RecordBatch::try_new(schema, columns.collect()).expect("batch")
}

/// Batches without NULLs take the whole-batch path (two passes, merged by Chan's formula):
/// per arm when ungrouped, per group and arm at once when grouped. A batch with a NULL goes
/// row by row (Welford). Both give the same tests, also with values offset by 1e9, in every
/// group.
#[tokio::test]
async fn whole_batch_and_row_by_row_paths_agree() {
    let batches = [example::batch(0, 30_000, 3, 11), example::batch(30_000, 9_000, 3, 11)];
    let rowwise: Vec<RecordBatch> = batches.iter().map(with_null_row).collect();
    let fields: [(&str, &[&str]); 6] = [
        ("ab_ttest_agg(t, v)", &["mean_c", "mean_t", "diff", "t", "df", "p_value", "ci_low"]),
        ("ab_ttest_agg(t, v + 1e9)", &["mean_c", "mean_t", "diff", "t", "df", "p_value", "ci_high"]),
        ("ab_cuped_agg(t, v + 1e9, pre + 1e9)", &["theta", "diff", "t", "df", "p_value", "ci_low", "variance_reduction"]),
        ("ab_ratio_agg(t, v, pre + 1)", &["ratio_c", "ratio_t", "diff", "z", "p_value", "ci_low", "ci_high"]),
        ("ab_ztest_agg(t, c)", &["rate_c", "rate_t", "diff", "z", "p_value", "ci_low", "ci_high"]),
        ("ab_msprt_agg(t, v, 4.0)", &["p_value", "cs_low", "cs_high"]),
    ];
    let rows = "SELECT experiment, variant = 'treatment' AS t, revenue AS v, pre_revenue AS pre, converted AS c FROM users";
    for grouping in ["", "GROUP BY experiment ORDER BY experiment"] {
        for (call, names) in fields {
            let select: Vec<String> = names.iter().map(|name| format!("{call}['{name}']")).collect();
            let sql = format!("SELECT {} FROM ({rows}) {grouping}", select.join(", "));
            let mut answers = Vec::new();
            for table in [batches.to_vec(), rowwise.clone()] {
                let ctx = context(1);
                ctx.register_table("users", Arc::new(MemTable::try_new(table[0].schema(), vec![table]).expect("table"))).expect("register");
                let values: Vec<f64> = ctx.sql(&sql).await.expect("plan").collect().await.expect("run").iter()
                    .flat_map(|batch| (0..batch.num_rows()).flat_map(|row| batch.columns().iter().map(move |column| column.as_primitive::<Float64Type>().value(row))))
                    .collect();
                answers.push(values);
            }
            let groups = if grouping.is_empty() { 1 } else { 3 };
            assert_eq!(answers[0].len(), groups * names.len(), "{call} {grouping}");
            for (k, (whole, rowwise)) in answers[0].iter().zip(&answers[1]).enumerate() {
                let name = names[k % names.len()];
                assert!((whole - rowwise).abs() <= 1e-10 * rowwise.abs(), "{call} {grouping} {name}: {whole} vs {rowwise}");
            }
        }
    }
}

#[test]
fn ab_sql_runs_files_and_fails_in_one_line() {
    let dir = std::env::temp_dir().join(format!("ab-sql-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let csv = dir.join("arms.csv");
    std::fs::write(&csv, "is_treatment,value\ntrue,3.0\ntrue,4.0\ntrue,5.0\nfalse,1.0\nfalse,2.0\nfalse,3.0\n").expect("csv");
    let ab_sql = env!("CARGO_BIN_EXE_ab-sql");
    let output = Command::new(ab_sql)
        .args(["--table", &format!("arms={}", csv.display()), "--format", "csv"])
        .arg("SELECT ab_ttest_agg(is_treatment, value)['diff'] AS diff FROM arms")
        .output()
        .expect("run ab-sql");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "diff\n2.0\n");

    // A whole test result in CSV: one column per field.
    let output = Command::new(ab_sql)
        .args(["--table", &format!("arms={}", csv.display()), "--format", "csv"])
        .arg("SELECT ab_ttest_agg(is_treatment, value) AS r FROM arms")
        .output()
        .expect("run ab-sql");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let header = stdout.lines().next().expect("header");
    assert!(header.starts_with("r.mean_c,r.mean_t,r.diff,"), "{stdout}");
    assert!(stdout.lines().nth(1).expect("row").starts_with("2.0,4.0,2.0,"), "{stdout}");

    let output = Command::new(ab_sql).args(["--table", "x=/no/such/file.parquet", "SELECT 1"]).output().expect("run ab-sql");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("no such file"), "{stderr}");

    // The functions are listed in information_schema, as in datafusion-cli.
    let output = Command::new(ab_sql)
        .args(["--format", "csv", "SELECT DISTINCT routine_name, function_type FROM information_schema.routines WHERE routine_name LIKE 'ab\\_t%' ORDER BY 1"])
        .output()
        .expect("run ab-sql");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "routine_name,function_type\nab_thompson_weights,SCALAR\nab_ttest,SCALAR\nab_ttest_agg,AGGREGATE\n"
    );

    // SHOW FUNCTIONS lists each arity with its parameters and the catalog's description, as
    // information_schema.parameters does for aggregates.
    let output = Command::new(ab_sql).args(["--format", "json", "SHOW FUNCTIONS LIKE 'ab_ztest'"]).output().expect("run ab-sql");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains(r#""parameters":["x_c","n_c","x_t","n_t","alpha","alternative"]"#), "{stdout}");
    assert!(stdout.contains(r#""parameters":["x_c","n_c","x_t","n_t"]"#), "{stdout}");
    assert!(stdout.contains("Two-proportion z-test from counts"), "{stdout}");
    let output = Command::new(ab_sql)
        .args(["--format", "csv", "SELECT rid, ordinal_position, parameter_name, data_type FROM information_schema.parameters
                WHERE specific_name = 'ab_msprt_agg' AND parameter_mode = 'IN' ORDER BY rid, ordinal_position"])
        .output()
        .expect("run ab-sql");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "rid,ordinal_position,parameter_name,data_type\n0,1,is_treatment,Boolean\n0,2,value,Float64\n0,3,tau2,Float64\n\
         1,1,is_treatment,Boolean\n1,2,value,Float64\n1,3,tau2,Float64\n1,4,alpha,Float64\n"
    );

    let output = Command::new(ab_sql).arg("SELEC 1").output().expect("run ab-sql");
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&output.stderr).lines().count(), 1);
    std::fs::remove_dir_all(&dir).ok();
}
