//! The extension's foreign hash functions (`ab_hash_growthbook`, `ab_bucket_unleash`,
//! `ab_bucket_statsig`, `ab_bucket_optimizely`, `ab_shard_eppo`) against the vendors'
//! published vectors (`tests/golden/foreign_hash/`), and their bad input: 22023 naming the
//! argument.

use golden_vectors::foreign_hash::sql_checks;
use sql_integration::{connect, error_of};

#[test]
fn foreign_hash_functions_match_the_vendor_vectors() {
    let mut client = connect();
    let checks = sql_checks();
    let mut failures = Vec::new();
    for check in &checks {
        let sql = format!("SELECT {}", check.expression);
        let got: f64 = client.query_one(&sql, &[]).unwrap_or_else(|e| panic!("{sql}: {e}")).get(0);
        if got != check.expected {
            failures.push(format!("{}: got {got}, expected {}", check.name, check.expected));
        }
    }
    assert!(checks.len() > 100, "only {} checks", checks.len());
    assert!(failures.is_empty(), "{} of {} differ:\n{}", failures.len(), checks.len(), failures.join("\n"));
}

#[test]
fn foreign_hash_functions_reject_bad_input_with_22023() {
    let mut client = connect();
    let cases = [
        ("SELECT ab_hash_growthbook('u', 's', 3)", "version"),
        ("SELECT ab_bucket_unleash('u', 'g', 0)", "normalizer"),
        ("SELECT ab_bucket_unleash('u', 'g', 100, -1)", "seed"),
        ("SELECT ab_bucket_statsig('u', 's', 0)", "buckets"),
        ("SELECT ab_shard_eppo('u', 's', 0)", "total_shards"),
    ];
    for (sql, argument) in cases {
        let (code, message) = error_of(&mut client, sql);
        assert!(code == "22023" && message.contains(argument), "{sql} -> {code}: {message}");
    }
    let defaults: (i64, i32, i32) = {
        let row = client
            .query_one(
                "SELECT ab_bucket_unleash('u', 'g') = ab_bucket_unleash('u', 'g', 100, 0),
                        ab_bucket_statsig('u', 's') = ab_bucket_statsig('u', 's', 1000),
                        ab_shard_eppo('u', 's') = ab_shard_eppo('u', 's', 10000)",
                &[],
            )
            .unwrap();
        (i64::from(row.get::<_, bool>(0)), i32::from(row.get::<_, bool>(1)), i32::from(row.get::<_, bool>(2)))
    };
    assert_eq!(defaults, (1, 1, 1), "defaults are normalizer 100, seed 0, 1000 buckets, 10000 shards");
}
