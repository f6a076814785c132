-- pg_ab 0.1.0 -> 0.2.0: only additions, so databases whose views use 0.1.0's functions and
-- types keep them untouched. Drafted by scripts/extension_upgrade_sql.py from the two install
-- scripts and reviewed; gateway/tests/extension_upgrade.rs checks that an upgraded catalog
-- equals a fresh 0.2.0 install's. (The aggregates were regenerated from one table in 0.2.0
-- with the same catalog, so they need nothing here.)
\echo Use "ALTER EXTENSION pg_ab UPDATE TO '0.2.0'" to load this file. \quit

-- Foreign platforms' bucketing, for experiments migrated from GrowthBook, Unleash, Statsig,
-- Optimizely and Eppo.
-- pg_ab::foreign_hash::ab_bucket_optimizely
CREATE  FUNCTION "ab_bucket_optimizely"(
	"user_id" TEXT, /* & str */
	"parent_id" TEXT /* & str */
) RETURNS INT /* i32 */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'ab_bucket_optimizely_wrapper';

-- pg_ab::foreign_hash::ab_bucket_statsig
CREATE  FUNCTION "ab_bucket_statsig"(
	"unit" TEXT, /* & str */
	"salt" TEXT, /* & str */
	"buckets" INT DEFAULT 1000 /* i32 */
) RETURNS INT /* i32 */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'ab_bucket_statsig_wrapper';

-- pg_ab::foreign_hash::ab_bucket_unleash
CREATE  FUNCTION "ab_bucket_unleash"(
	"unit" TEXT, /* & str */
	"group_id" TEXT, /* & str */
	"normalizer" bigint DEFAULT 100, /* i64 */
	"seed" bigint DEFAULT 0 /* i64 */
) RETURNS bigint /* i64 */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'ab_bucket_unleash_wrapper';

-- pg_ab::foreign_hash::ab_hash_growthbook
CREATE  FUNCTION "ab_hash_growthbook"(
	"unit" TEXT, /* & str */
	"seed" TEXT, /* & str */
	"version" INT /* i32 */
) RETURNS double precision /* f64 */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'ab_hash_growthbook_wrapper';

-- pg_ab::foreign_hash::ab_shard_eppo
CREATE  FUNCTION "ab_shard_eppo"(
	"subject" TEXT, /* & str */
	"salt" TEXT, /* & str */
	"total_shards" INT DEFAULT 10000 /* i32 */
) RETURNS INT /* i32 */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'ab_shard_eppo_wrapper';

-- requires:
--   ab_hash_growthbook
--   ab_bucket_unleash
--   ab_bucket_statsig
--   ab_bucket_optimizely
--   ab_shard_eppo


COMMENT ON FUNCTION ab_hash_growthbook(text, text, integer) IS 'GrowthBook hash(seed, unit, version) in [0, 1): version 1 = (fnv1a32(unit || seed) % 1000) / 1000, version 2 = (fnv1a32(fnv1a32(seed || unit)::text) % 10000) / 10000';
COMMENT ON FUNCTION ab_bucket_unleash(text, text, bigint, bigint) IS 'Unleash normalizedHash in 1..normalizer: murmur3_x86_32(group_id || '':'' || unit, seed) % normalizer + 1 (rollouts: normalizer 100, seed 0; variants: total weight, seed 86028157)';
COMMENT ON FUNCTION ab_bucket_statsig(text, text, integer) IS 'Statsig bucket: first 8 bytes of SHA-256(salt || ''.'' || unit) as a big-endian unsigned integer, mod buckets (user_bucket: 1000; pass percentage: 10000 with salt config_salt.rule_salt)';
COMMENT ON FUNCTION ab_bucket_optimizely(text, text) IS 'Optimizely bucket value in [0, 10000): floor(murmur3_x86_32(user_id || parent_id, 1) / 2^32 * 10000); parent_id is the experiment id (or the mutual exclusion group id)';
COMMENT ON FUNCTION ab_shard_eppo(text, text, integer) IS 'Eppo shard in [0, total_shards): first 4 bytes of MD5(salt || ''-'' || subject) as a big-endian unsigned integer, mod total_shards';

-- One verdict per comparison (fixed-horizon and sequential), used by the gateway's ab.results.

-- pg_ab::verdicts::ab_seq_verdicts_mean
CREATE  FUNCTION "ab_seq_verdicts_mean"(
	"mean_c" double precision, /* f64 */
	"sd_c" double precision, /* f64 */
	"n_c" bigint, /* i64 */
	"mean_t" double precision[], /* Array < f64 > */
	"sd_t" double precision[], /* Array < f64 > */
	"n_t" bigint[], /* Array < i64 > */
	"alpha" double precision DEFAULT 0.05, /* f64 */
	"alternative" TEXT DEFAULT 'two-sided', /* & str */
	"tuning_n" double precision DEFAULT 5000.0 /* f64 */
) RETURNS TABLE (
	"treatment" INT,  /* i32 */
	"diff" double precision,  /* Option < f64 > */
	"rel_lift" double precision,  /* Option < f64 > */
	"statistic" double precision,  /* Option < f64 > */
	"df" double precision,  /* Option < f64 > */
	"p_value" double precision,  /* Option < f64 > */
	"holm_p_value" double precision,  /* f64 */
	"interval_level" double precision,  /* Option < f64 > */
	"ci_low" double precision,  /* Option < f64 > */
	"ci_high" double precision,  /* Option < f64 > */
	"rel_ci_low" double precision,  /* Option < f64 > */
	"rel_ci_high" double precision,  /* Option < f64 > */
	"significant" bool  /* bool */
)
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'ab_seq_verdicts_mean_wrapper';

-- pg_ab::verdicts::ab_seq_verdicts_prop
CREATE  FUNCTION "ab_seq_verdicts_prop"(
	"x_c" bigint, /* i64 */
	"n_c" bigint, /* i64 */
	"x_t" bigint[], /* Array < i64 > */
	"n_t" bigint[], /* Array < i64 > */
	"alpha" double precision DEFAULT 0.05, /* f64 */
	"alternative" TEXT DEFAULT 'two-sided', /* & str */
	"tuning_n" double precision DEFAULT 5000.0 /* f64 */
) RETURNS TABLE (
	"treatment" INT,  /* i32 */
	"diff" double precision,  /* Option < f64 > */
	"rel_lift" double precision,  /* Option < f64 > */
	"statistic" double precision,  /* Option < f64 > */
	"df" double precision,  /* Option < f64 > */
	"p_value" double precision,  /* Option < f64 > */
	"holm_p_value" double precision,  /* f64 */
	"interval_level" double precision,  /* Option < f64 > */
	"ci_low" double precision,  /* Option < f64 > */
	"ci_high" double precision,  /* Option < f64 > */
	"rel_ci_low" double precision,  /* Option < f64 > */
	"rel_ci_high" double precision,  /* Option < f64 > */
	"significant" bool  /* bool */
)
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'ab_seq_verdicts_prop_wrapper';

-- pg_ab::verdicts::ab_verdicts_mean
CREATE  FUNCTION "ab_verdicts_mean"(
	"mean_c" double precision, /* f64 */
	"sd_c" double precision, /* f64 */
	"n_c" bigint, /* i64 */
	"mean_t" double precision[], /* Array < f64 > */
	"sd_t" double precision[], /* Array < f64 > */
	"n_t" bigint[], /* Array < i64 > */
	"alpha" double precision DEFAULT 0.05, /* f64 */
	"alternative" TEXT DEFAULT 'two-sided' /* & str */
) RETURNS TABLE (
	"treatment" INT,  /* i32 */
	"diff" double precision,  /* Option < f64 > */
	"rel_lift" double precision,  /* Option < f64 > */
	"statistic" double precision,  /* Option < f64 > */
	"df" double precision,  /* Option < f64 > */
	"p_value" double precision,  /* Option < f64 > */
	"holm_p_value" double precision,  /* f64 */
	"interval_level" double precision,  /* Option < f64 > */
	"ci_low" double precision,  /* Option < f64 > */
	"ci_high" double precision,  /* Option < f64 > */
	"rel_ci_low" double precision,  /* Option < f64 > */
	"rel_ci_high" double precision,  /* Option < f64 > */
	"significant" bool  /* bool */
)
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'ab_verdicts_mean_wrapper';

-- pg_ab::verdicts::ab_verdicts_prop
CREATE  FUNCTION "ab_verdicts_prop"(
	"x_c" bigint, /* i64 */
	"n_c" bigint, /* i64 */
	"x_t" bigint[], /* Array < i64 > */
	"n_t" bigint[], /* Array < i64 > */
	"alpha" double precision DEFAULT 0.05, /* f64 */
	"alternative" TEXT DEFAULT 'two-sided' /* & str */
) RETURNS TABLE (
	"treatment" INT,  /* i32 */
	"diff" double precision,  /* Option < f64 > */
	"rel_lift" double precision,  /* Option < f64 > */
	"statistic" double precision,  /* Option < f64 > */
	"df" double precision,  /* Option < f64 > */
	"p_value" double precision,  /* Option < f64 > */
	"holm_p_value" double precision,  /* f64 */
	"interval_level" double precision,  /* Option < f64 > */
	"ci_low" double precision,  /* Option < f64 > */
	"ci_high" double precision,  /* Option < f64 > */
	"rel_ci_low" double precision,  /* Option < f64 > */
	"rel_ci_high" double precision,  /* Option < f64 > */
	"significant" bool  /* bool */
)
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'ab_verdicts_prop_wrapper';

-- requires:
--   ab_verdicts_prop
--   ab_verdicts_mean
--   ab_seq_verdicts_prop
--   ab_seq_verdicts_mean


COMMENT ON FUNCTION ab_verdicts_prop(bigint, bigint, bigint[], bigint[], float8, text) IS 'One verdict per treatment of a conversion metric: Wald z-test, Holm across the treatments, Wald and Fieller intervals at Holm''s level (significant exactly when they exclude 0)';
COMMENT ON FUNCTION ab_verdicts_mean(float8, float8, bigint, float8[], float8[], bigint[], float8, text) IS 'One verdict per treatment of a mean: Welch t-test, Holm across the treatments, Welch and Fieller intervals at Holm''s level (significant exactly when they exclude 0)';
COMMENT ON FUNCTION ab_seq_verdicts_prop(bigint, bigint, bigint[], bigint[], float8, text, float8) IS 'ab_verdicts_prop at any look: always-valid p-value and asymptotic confidence sequence (N* = tuning_n), Holm across the treatments, significant exactly when the sequences exclude 0';
COMMENT ON FUNCTION ab_seq_verdicts_mean(float8, float8, bigint, float8[], float8[], bigint[], float8, text, float8) IS 'ab_verdicts_mean at any look: always-valid p-value and asymptotic confidence sequence (N* = tuning_n), Holm across the treatments, significant exactly when the sequences exclude 0';

