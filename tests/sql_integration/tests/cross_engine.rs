//! Cross-engine equality: one dataset in Postgres (with pg_ab) and in Parquet (with
//! ab_datafusion), the same analysis in both, every figure within 1e-10 relative, and
//! identical bucketing for 100k units.

use ab_core::records::{self, FieldKind};
use ab_datafusion::example;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int32Type, Int64Type};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};
use postgres::Client;
use sql_integration::{connect, load_example};

const USERS: u64 = 120_000;
const EXPERIMENTS: i32 = 3;

/// Writes the sample to Parquet and to the Postgres table `cross_users`.
fn load_both(client: &mut Client, parquet: &std::path::Path) {
    let batches: Vec<RecordBatch> = (0..USERS).step_by(40_000).map(|first| example::batch(first, 40_000, EXPERIMENTS, 11)).collect();
    let mut writer = ArrowWriter::try_new(std::fs::File::create(parquet).expect("parquet file"), example::schema(), None).expect("writer");
    batches.iter().for_each(|batch| writer.write(batch).expect("write"));
    writer.close().expect("close");

    load_example(client, "cross_users", batches);
}

/// The Postgres client is synchronous, so DataFusion's async calls get a runtime of their own.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime").block_on(future)
}

fn datafusion_query(ctx: &SessionContext, sql: &str) -> RecordBatch {
    let batches = block_on(async { ctx.sql(sql).await?.collect().await }).unwrap_or_else(|e| panic!("{sql}: {e}"));
    datafusion::arrow::compute::concat_batches(&batches[0].schema(), &batches).expect("concat")
}

/// A numeric cell of a DataFusion result, by column and (for structs) field name.
fn datafusion_value(column: &ArrayRef, row: usize, field: Option<&str>) -> Option<f64> {
    let array = match field {
        Some(name) => column.as_struct().column_by_name(name).expect("field").clone(),
        None => column.clone(),
    };
    if array.is_null(row) || (field.is_some() && column.is_null(row)) {
        return None;
    }
    Some(match array.data_type() {
        DataType::Float64 => array.as_primitive::<Float64Type>().value(row),
        DataType::Int64 => array.as_primitive::<Int64Type>().value(row) as f64,
        DataType::Int32 => f64::from(array.as_primitive::<Int32Type>().value(row)),
        DataType::Boolean => f64::from(u8::from(array.as_boolean().value(row))),
        other => panic!("unexpected type {other}"),
    })
}

fn postgres_value(row: &postgres::Row, name: &str) -> Option<f64> {
    let index = row.columns().iter().position(|c| c.name() == name).unwrap_or_else(|| panic!("no column {name}"));
    match row.columns()[index].type_().name() {
        "float8" => row.get(index),
        "int8" => row.get::<_, Option<i64>>(index).map(|v| v as f64),
        "int4" => row.get::<_, Option<i32>>(index).map(f64::from),
        "bool" => row.get::<_, Option<bool>>(index).map(|v| f64::from(u8::from(v))),
        other => panic!("unexpected type {other}"),
    }
}

/// One analysis: the Postgres query returns flat columns; the DataFusion query returns
/// `experiment` and one struct or scalar column `r`. Both are ordered by experiment.
struct Analysis {
    name: &'static str,
    postgres: &'static str,
    datafusion: &'static str,
    /// The result's columns (the catalog's record); none for a scalar result.
    fields: &'static [(&'static str, FieldKind)],
}

const ANALYSES: &[Analysis] = &[
    Analysis {
        name: "ttest",
        postgres: "SELECT experiment, (ab_ttest_agg(variant = 'treatment', revenue)).* FROM cross_users GROUP BY 1 ORDER BY 1",
        datafusion: "SELECT experiment, ab_ttest_agg(variant = 'treatment', revenue) AS r FROM users GROUP BY 1 ORDER BY 1",
        fields: records::TTEST.fields,
    },
    Analysis {
        name: "ztest",
        postgres: "SELECT experiment, (ab_ztest_agg(variant = 'treatment', converted, 0.01, 'larger')).* FROM cross_users GROUP BY 1 ORDER BY 1",
        datafusion: "SELECT experiment, ab_ztest_agg(variant = 'treatment', converted, 0.01, 'larger') AS r FROM users GROUP BY 1 ORDER BY 1",
        fields: records::ZTEST.fields,
    },
    Analysis {
        name: "cuped",
        postgres: "SELECT experiment, (ab_cuped_agg(variant = 'treatment', revenue, pre_revenue)).* FROM cross_users GROUP BY 1 ORDER BY 1",
        datafusion: "SELECT experiment, ab_cuped_agg(variant = 'treatment', revenue, pre_revenue) AS r FROM users GROUP BY 1 ORDER BY 1",
        fields: records::CUPED.fields,
    },
    Analysis {
        name: "srm",
        postgres: "SELECT experiment, (ab_srm(array_agg(n ORDER BY variant), ARRAY[0.5, 0.5])).* FROM
                   (SELECT experiment, variant, count(*) AS n FROM cross_users GROUP BY 1, 2) c GROUP BY 1 ORDER BY 1",
        datafusion: "SELECT experiment, ab_srm(array_agg(n ORDER BY variant), [0.5, 0.5]) AS r FROM
                     (SELECT experiment, variant, count(*) AS n FROM users GROUP BY 1, 2) c GROUP BY 1 ORDER BY 1",
        fields: records::SRM.fields,
    },
    Analysis {
        name: "sample size",
        postgres: "SELECT experiment, ab_sample_size_prop(avg(converted::int)::float8, 0.05) AS r FROM cross_users
                   WHERE variant = 'control' GROUP BY 1 ORDER BY 1",
        datafusion: "SELECT experiment, ab_sample_size_prop(avg(CAST(converted AS INT)), 0.05) AS r FROM users
                     WHERE variant = 'control' GROUP BY 1 ORDER BY 1",
        fields: &[],
    },
];

#[test]
fn postgres_and_datafusion_agree_on_every_figure() {
    let mut client = connect();
    let parquet = std::env::temp_dir().join(format!("pg_ab_cross_{}.parquet", std::process::id()));
    load_both(&mut client, &parquet);
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(4));
    ab_datafusion::register_all(&ctx);
    block_on(ctx.register_parquet("users", parquet.to_str().expect("path"), ParquetReadOptions::default())).expect("register");

    let mut compared = 0;
    let mut failures = Vec::new();
    for analysis in ANALYSES {
        let pg_rows = client.query(analysis.postgres, &[]).unwrap_or_else(|e| panic!("{}: {e}", analysis.postgres));
        let batch = datafusion_query(&ctx, analysis.datafusion);
        assert_eq!(pg_rows.len(), EXPERIMENTS as usize, "{}", analysis.name);
        assert_eq!(batch.num_rows(), pg_rows.len(), "{}", analysis.name);
        for (row, pg_row) in pg_rows.iter().enumerate() {
            let fields: Vec<(&str, Option<&str>)> = if analysis.fields.is_empty() {
                vec![("r", None)]
            } else {
                analysis.fields.iter().map(|(f, _)| (*f, Some(*f))).collect()
            };
            for (pg_name, field) in fields {
                let pg = postgres_value(pg_row, pg_name);
                let df = datafusion_value(batch.column(1), row, field);
                compared += 1;
                let agree = match (pg, df) {
                    // Postgres adds rows one by one (Welford); DataFusion adds whole batches in
                    // two passes. Both moments are within ~1e-13 of exact, but the order of the
                    // sums differs, and p-values and interval ends amplify it (seen: 1.6e-12).
                    (Some(a), Some(b)) => a == b || (a - b).abs() <= 1e-10 * a.abs(),
                    (None, None) => true,
                    _ => false,
                };
                if !agree {
                    failures.push(format!("{} experiment {row} {pg_name}: postgres {pg:?}, datafusion {df:?}", analysis.name));
                }
            }
        }
    }
    std::fs::remove_file(&parquet).ok();
    assert!(failures.is_empty(), "{} of {compared} figures differ:\n{}", failures.len(), failures.join("\n"));
    assert!(compared > 100, "compared only {compared} figures");
}

#[test]
fn bucketing_and_assignment_are_identical_for_100k_units() {
    let mut client = connect();
    let pg: Vec<(i32, String)> = client
        .query(
            "SELECT ab_bucket('user-' || i, 'checkout-redesign'), ab_assign('user-' || i, 'checkout-redesign', ARRAY['a', 'b', 'c'], ARRAY[0.2, 0.3, 0.5])
             FROM generate_series(1, 100000) i ORDER BY i",
            &[],
        )
        .expect("postgres")
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    let ctx = SessionContext::new();
    ab_datafusion::register_all(&ctx);
    let batch = datafusion_query(
        &ctx,
        "SELECT ab_bucket(concat('user-', CAST(value AS VARCHAR)), 'checkout-redesign'),
                ab_assign(concat('user-', CAST(value AS VARCHAR)), 'checkout-redesign', ['a', 'b', 'c'], [0.2, 0.3, 0.5])
         FROM generate_series(1, 100000) ORDER BY value",
    );
    let (buckets, variants) = (batch.column(0).as_primitive::<Int32Type>(), batch.column(1).as_string::<i32>());
    let df: Vec<(i32, String)> = (0..batch.num_rows()).map(|row| (buckets.value(row), variants.value(row).to_owned())).collect();
    assert_eq!(pg.len(), 100_000);
    assert_eq!(pg, df);
}
