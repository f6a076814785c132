//! DataFusion benchmark of docs/contract.md §6: `ab_ttest_agg` and `ab_ztest_agg` over Parquet against
//! DataFusion's built-in `count`/`avg`/`var_samp` on the same data, in the same run.
//!
//! `cargo bench -p ab_datafusion --bench datafusion` (or `make bench`). BENCH_DF_ROWS sets the
//! size (default 100M); the Parquet file is generated once into target/bench-data and reused.
//! Each query runs BENCH_REPS times (default 3); the best time counts.

use ab_datafusion::example;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use std::path::PathBuf;
use std::time::Instant;

const EXPERIMENTS: i32 = 10;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn parquet_file(rows: u64) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench-data");
    std::fs::create_dir_all(&dir).expect("bench-data dir");
    let path = dir.join(format!("checkout-{rows}.parquet"));
    if !path.exists() {
        eprintln!("generating {rows} rows into {}", path.display());
        let partial = path.with_extension("partial");
        let properties = WriterProperties::builder().set_compression(Compression::SNAPPY).build();
        let mut writer = ArrowWriter::try_new(std::fs::File::create(&partial).expect("file"), example::schema(), Some(properties)).expect("writer");
        let mut first = 0;
        while first < rows {
            let count = (1u64 << 20).min(rows - first);
            writer.write(&example::batch(first, count as usize, EXPERIMENTS, 42)).expect("write");
            first += count;
        }
        writer.close().expect("close");
        std::fs::rename(&partial, &path).expect("rename");
    }
    path
}

async fn best_seconds(ctx: &SessionContext, sql: &str, reps: u64) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..reps {
        let started = Instant::now();
        let batches = ctx.sql(sql).await.expect("plan").collect().await.expect("run");
        assert!(!batches.is_empty());
        best = best.min(started.elapsed().as_secs_f64());
    }
    best
}

#[tokio::main]
async fn main() {
    let rows = env_number("BENCH_DF_ROWS", 100_000_000);
    let reps = env_number("BENCH_REPS", 3);
    let path = parquet_file(rows);
    let ctx = SessionContext::new();
    ab_datafusion::register_all(&ctx);
    ctx.register_parquet("users", path.to_str().expect("path"), ParquetReadOptions::default()).await.expect("register");

    let pairs = [
        (
            "ab_ttest_agg by experiment",
            "SELECT experiment, ab_ttest_agg(variant = 'treatment', revenue) FROM users GROUP BY experiment",
            "SELECT experiment, variant, count(*), avg(revenue), var_samp(revenue) FROM users GROUP BY experiment, variant",
        ),
        (
            "ab_ztest_agg by experiment",
            "SELECT experiment, ab_ztest_agg(variant = 'treatment', converted) FROM users GROUP BY experiment",
            "SELECT experiment, variant, count(*), avg(CAST(converted AS DOUBLE)), var_samp(CAST(converted AS DOUBLE)) FROM users GROUP BY experiment, variant",
        ),
        (
            "ab_ttest_agg by experiment, variant",
            "SELECT experiment, variant, ab_ttest_agg(variant = 'treatment', revenue) FROM users GROUP BY experiment, variant",
            "SELECT experiment, variant, count(*), avg(revenue), var_samp(revenue) FROM users GROUP BY experiment, variant",
        ),
        // The same, with the arm predicate evaluated on both sides: what the aggregate itself costs.
        (
            "  same, baseline also computes the arm",
            "SELECT experiment, variant, ab_ttest_agg(variant = 'treatment', revenue) FROM users GROUP BY experiment, variant",
            "SELECT experiment, variant, count(*), avg(revenue), var_samp(revenue), bool_and(variant = 'treatment') FROM users GROUP BY experiment, variant",
        ),
    ];
    println!("DataFusion {} over {rows} Parquet rows, {EXPERIMENTS} experiments; best of {reps}", datafusion::DATAFUSION_VERSION);
    println!("{:<38} {:>10} {:>12} {:>8}", "query", "pg_ab s", "built-in s", "ratio");
    for (name, ours, builtin) in pairs {
        let baseline = best_seconds(&ctx, builtin, reps).await;
        let measured = best_seconds(&ctx, ours, reps).await;
        println!("{name:<38} {measured:>10.3} {baseline:>12.3} {:>7.2}x", measured / baseline);
    }
    println!("(built-in: count(*), avg, var_samp per experiment and variant on the same file in the same run)");
}
