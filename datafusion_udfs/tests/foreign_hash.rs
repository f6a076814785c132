//! The DataFusion foreign hash UDFs against the vendors' published vectors
//! (`tests/golden/foreign_hash/`), the same expressions the extension is checked with.

use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::Float64Type;
use datafusion::prelude::SessionContext;
use golden_vectors::foreign_hash::sql_checks;

#[tokio::test]
async fn foreign_hash_udfs_match_the_vendor_vectors() {
    let ctx = SessionContext::new();
    ab_datafusion::register_all(&ctx);
    let checks = sql_checks();
    let mut failures = Vec::new();
    for check in &checks {
        let sql = format!("SELECT {}", check.expression);
        let batches = ctx.sql(&sql).await.unwrap_or_else(|e| panic!("{sql}: {e}")).collect().await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        let got = batches[0].column(0).as_primitive::<Float64Type>().value(0);
        if got != check.expected {
            failures.push(format!("{}: got {got}, expected {}", check.name, check.expected));
        }
    }
    assert!(failures.is_empty(), "{} of {} differ:\n{}", failures.len(), checks.len(), failures.join("\n"));
}

#[tokio::test]
async fn foreign_hash_udfs_reject_bad_input_naming_the_argument() {
    let ctx = SessionContext::new();
    ab_datafusion::register_all(&ctx);
    for (sql, argument) in [
        ("SELECT ab_hash_growthbook('u', 's', 3)", "version"),
        ("SELECT ab_bucket_unleash('u', 'g', 0)", "normalizer"),
        ("SELECT ab_shard_eppo('u', 's', 0)", "total_shards"),
    ] {
        let result = match ctx.sql(sql).await {
            Ok(frame) => frame.collect().await.map(drop),
            Err(error) => Err(error),
        };
        let error = result.expect_err(sql).to_string();
        assert!(error.contains(argument), "{sql}: {error}");
    }
}
