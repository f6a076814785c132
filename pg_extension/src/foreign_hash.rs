//! Other platforms' bucketing as SQL functions, so a team migrating from GrowthBook,
//! Unleash, Statsig, Optimizely or Eppo can recompute in SQL which variant each unit had
//! there (and check it against its exported exposures). The schemes live in
//! `ab_core::foreign_hash`; these are glue.

use crate::sql_glue::OrRaise;
use ab_core::foreign_hash;
use pgrx::prelude::*;

/// GrowthBook's `hash(seed, unit, version)` in [0, 1).
#[pg_extern(immutable, strict, parallel_safe)]
fn ab_hash_growthbook(unit: &str, seed: &str, version: i32) -> f64 {
    foreign_hash::growthbook_hash(unit, seed, version).or_raise()
}

/// Unleash's `normalizedHash`: `murmur3_x86_32(group_id:unit, seed) % normalizer + 1`.
#[pg_extern(immutable, strict, parallel_safe)]
fn ab_bucket_unleash(unit: &str, group_id: &str, normalizer: default!(i64, 100), seed: default!(i64, 0)) -> i64 {
    i64::from(foreign_hash::unleash_normalized_hash(unit, group_id, normalizer, seed).or_raise())
}

/// Statsig's `user_bucket`: first 8 bytes of SHA-256(salt.unit), big-endian, mod buckets.
#[pg_extern(immutable, strict, parallel_safe)]
fn ab_bucket_statsig(unit: &str, salt: &str, buckets: default!(i32, 1000)) -> i32 {
    foreign_hash::statsig_bucket(unit, salt, buckets).or_raise()
}

/// Optimizely's bucket value in [0, 10000) of `user_id ++ parent_id`.
#[pg_extern(immutable, strict, parallel_safe)]
fn ab_bucket_optimizely(user_id: &str, parent_id: &str) -> i32 {
    foreign_hash::optimizely_bucket(user_id, parent_id)
}

/// Eppo's shard of `salt-subject` in [0, total_shards).
#[pg_extern(immutable, strict, parallel_safe)]
fn ab_shard_eppo(subject: &str, salt: &str, total_shards: default!(i32, 10000)) -> i32 {
    foreign_hash::eppo_shard(subject, salt, total_shards).or_raise()
}

extension_sql!(
    r#"
COMMENT ON FUNCTION ab_hash_growthbook(text, text, integer) IS 'GrowthBook hash(seed, unit, version) in [0, 1): version 1 = (fnv1a32(unit || seed) % 1000) / 1000, version 2 = (fnv1a32(fnv1a32(seed || unit)::text) % 10000) / 10000';
COMMENT ON FUNCTION ab_bucket_unleash(text, text, bigint, bigint) IS 'Unleash normalizedHash in 1..normalizer: murmur3_x86_32(group_id || '':'' || unit, seed) % normalizer + 1 (rollouts: normalizer 100, seed 0; variants: total weight, seed 86028157)';
COMMENT ON FUNCTION ab_bucket_statsig(text, text, integer) IS 'Statsig bucket: first 8 bytes of SHA-256(salt || ''.'' || unit) as a big-endian unsigned integer, mod buckets (user_bucket: 1000; pass percentage: 10000 with salt config_salt.rule_salt)';
COMMENT ON FUNCTION ab_bucket_optimizely(text, text) IS 'Optimizely bucket value in [0, 10000): floor(murmur3_x86_32(user_id || parent_id, 1) / 2^32 * 10000); parent_id is the experiment id (or the mutual exclusion group id)';
COMMENT ON FUNCTION ab_shard_eppo(text, text, integer) IS 'Eppo shard in [0, total_shards): first 4 bytes of MD5(salt || ''-'' || subject) as a big-endian unsigned integer, mod total_shards';
"#,
    name = "foreign_hash_comments",
    requires = [ab_hash_growthbook, ab_bucket_unleash, ab_bucket_statsig, ab_bucket_optimizely, ab_shard_eppo]
);
