//! Other platforms' bucketing, reproduced bit for bit so a team migrating to pg_ab keeps
//! every running experiment's units in their variants: GrowthBook (FNV-1a 32, hash
//! versions 1 and 2), Unleash (MurmurHash3 x86_32 normalised to 1..=n, variant seed
//! 86028157), Statsig (SHA-256, first 8 bytes big-endian), Optimizely (MurmurHash3
//! x86_32 seed 1 into 10000 buckets) and Eppo (MD5 shards). Each function is checked
//! against the vendor's published test vectors and against its own SDK
//! (`tests/golden/foreign_hash/`).
//!
//! [`Hashing`] is the `"hashing"` member of an experiment configuration: which of these
//! schemes assigns the experiment's units, with the parameters the vendor used, and how
//! the vendor turned weights and traffic into bucket ranges.

use crate::error::{InvalidArgument, Result};
use md5::{Digest as _, Md5};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// The seed Unleash hashes variants with (`VARIANT_HASH_SEED` in every Unleash SDK).
pub const UNLEASH_VARIANT_SEED: u32 = 86_028_157;
/// Unleash variant weights are integers out of this total.
pub const UNLEASH_VARIANT_TOTAL: u32 = 1000;
/// Statsig's `user_bucket` condition, which splits experiment groups, counts 1000 buckets.
pub const STATSIG_GROUP_BUCKETS: u32 = 1000;
/// Optimizely's traffic allocations end at integers out of 10000.
pub const OPTIMIZELY_BUCKETS: u32 = 10_000;
/// Eppo's default number of shards.
pub const EPPO_DEFAULT_SHARDS: u32 = 10_000;

/// FNV-1a 32 over UTF-16 code units, as GrowthBook's reference SDK (JavaScript
/// `charCodeAt`) hashes; for text within the Basic Multilingual Plane this equals the
/// other SDKs' per-character hash. No crate offers FNV-1a 32 over UTF-16.
fn fnv1a32(text: &str) -> u32 {
    text.encode_utf16().fold(0x811c_9dc5u32, |hash, unit| (hash ^ u32::from(unit)).wrapping_mul(0x0100_0193))
}

/// GrowthBook's `hash(seed, value, version)`: version 1 is
/// `(fnv1a32(value ++ seed) % 1000) / 1000`, version 2 is
/// `(fnv1a32(decimal(fnv1a32(seed ++ value))) % 10000) / 10000`.
pub fn growthbook_hash(unit: &str, seed: &str, version: i32) -> Result<f64> {
    match version {
        1 => Ok(f64::from(fnv1a32(&[unit, seed].concat()) % 1000) / 1000.0),
        2 => {
            let inner = fnv1a32(&[seed, unit].concat());
            Ok(f64::from(fnv1a32(&inner.to_string()) % 10_000) / 10_000.0)
        }
        _ => Err(InvalidArgument::new("version", format!("must be 1 or 2 (GrowthBook hash versions), got {version}"))),
    }
}

/// GrowthBook's `getBucketRanges(n, coverage, weights)` for validated weights: variant `i`
/// owns `[start_i, start_i + coverage·w_i)` where `start_i` is the sum of the weights before it.
pub fn growthbook_bucket_ranges(weights: &[f64], coverage: f64) -> Vec<(f64, f64)> {
    let coverage = coverage.clamp(0.0, 1.0);
    let mut cumulative = 0.0;
    weights
        .iter()
        .map(|weight| {
            let start = cumulative;
            cumulative += weight;
            (start, start + coverage * weight)
        })
        .collect()
}

/// GrowthBook's `chooseVariation(n, ranges)`: the 0-based variant whose range holds `n`,
/// `None` when the unit is outside the experiment's coverage.
pub fn growthbook_choose(n: f64, ranges: &[(f64, f64)]) -> Option<usize> {
    ranges.iter().position(|&(start, end)| n >= start && n < end)
}

fn murmur3_x86_32(parts: &[&[u8]], seed: u32) -> u32 {
    murmur3::murmur3_32(&mut parts.concat().as_slice(), seed).expect("reading from a byte slice cannot fail")
}

/// Unleash's `normalizedHash(unit, groupId, normalizer, seed)`:
/// `murmur3_x86_32(groupId ++ ":" ++ unit, seed) % normalizer + 1`, in `1..=normalizer`.
/// Gradual rollouts use normalizer 100 and seed 0; variants the total weight and
/// [`UNLEASH_VARIANT_SEED`].
pub fn unleash_normalized_hash(unit: &str, group_id: &str, normalizer: i64, seed: i64) -> Result<u32> {
    let normalizer = u32::try_from(normalizer)
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| InvalidArgument::new("normalizer", format!("must be between 1 and 4294967295, got {normalizer}")))?;
    let seed = u32::try_from(seed)
        .map_err(|_| InvalidArgument::new("seed", format!("must be between 0 and 4294967295, got {seed}")))?;
    Ok(murmur3_x86_32(&[group_id.as_bytes(), b":", unit.as_bytes()], seed) % normalizer + 1)
}

/// Statsig's unit hash: the first 8 bytes of `SHA-256(salt ++ "." ++ unit)`, big-endian.
/// Experiments allocate and split groups with the `user_bucket` condition,
/// `hash(salt, unit) % 1000` (the allocation on the allocation salt, the groups on the
/// experiment's salt); a rule's pass percentage `p` admits
/// `hash(config_salt ++ "." ++ rule_salt, unit) % 10000 < 100·p`.
pub fn statsig_hash(unit: &str, salt: &str) -> u64 {
    let digest = Sha256::new().chain_update(salt).chain_update(".").chain_update(unit).finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

/// [`statsig_hash`] modulo `buckets`.
pub fn statsig_bucket(unit: &str, salt: &str, buckets: i32) -> Result<i32> {
    let buckets = positive("buckets", buckets)?;
    // The remainder is below `buckets`, an i32.
    Ok((statsig_hash(unit, salt) % u64::from(buckets)) as i32)
}

/// Optimizely's bucket value: `floor(murmur3_x86_32(user ++ parent, 1) / 2³² · 10000)`,
/// in `[0, 10000)`. `parent_id` is the experiment id (or, for the first step of a mutual
/// exclusion group, the group id).
pub fn optimizely_bucket(user_id: &str, parent_id: &str) -> i32 {
    let hash = murmur3_x86_32(&[user_id.as_bytes(), parent_id.as_bytes()], 1);
    let ratio = f64::from(hash) / 4_294_967_296.0;
    (ratio * f64::from(OPTIMIZELY_BUCKETS)).floor() as i32
}

/// Eppo's shard: the first 4 bytes of `MD5(salt ++ "-" ++ subject)`, big-endian, modulo
/// `total_shards`.
pub fn eppo_shard(subject: &str, salt: &str, total_shards: i32) -> Result<i32> {
    let total_shards = positive("total_shards", total_shards)?;
    let digest = Md5::new().chain_update(salt).chain_update("-").chain_update(subject).finalize();
    let first = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    Ok((first % total_shards) as i32)
}

fn positive(argument: &'static str, value: i32) -> Result<u32> {
    u32::try_from(value)
        .ok()
        .filter(|v| *v >= 1)
        .ok_or_else(|| InvalidArgument::new(argument, format!("must be at least 1, got {value}")))
}

/// Which platform's bucketing assigns an experiment, with that platform's parameters.
/// `pg_ab` (the default) is docs/contract.md §2; the others reproduce the vendor exactly, traffic
/// included: the experiment's `traffic_fraction` is the vendor's coverage, rollout,
/// allocation or traffic percentage, hashed the vendor's way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "scheme", rename_all = "snake_case", deny_unknown_fields)]
pub enum Hashing {
    #[default]
    PgAb,
    /// GrowthBook with `hashVersion: 1`; `seed` is the experiment's seed (GrowthBook uses
    /// the experiment key when none was set). Coverage is `traffic_fraction`.
    GrowthbookV1 { seed: String },
    /// GrowthBook with `hashVersion: 2`.
    GrowthbookV2 { seed: String },
    /// Unleash flexible rollout (`rollout` = `traffic_fraction`·100) with variants
    /// weighted in thousandths. `group_id` is the strategy's groupId; `variant_group_id`
    /// the group variants are hashed in (the toggle name for toggle-level variants,
    /// the strategy's groupId for strategy variants), `group_id` when absent.
    Unleash {
        group_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        variant_group_id: Option<String>,
    },
    /// Statsig experiment: groups by the `user_bucket` (1000 buckets) of the experiment's
    /// `salt`; an allocation below 100% admits the first `traffic_fraction`·1000 buckets of
    /// the allocation rule's `user_bucket` salt, `allocation_salt`.
    Statsig {
        salt: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        allocation_salt: Option<String>,
    },
    /// Optimizely experiment `experiment_id`: variation `i` ends at
    /// `10000 · traffic_fraction · (w_1+…+w_i)` in the traffic allocation.
    Optimizely { experiment_id: String },
    /// Eppo allocation: variations split the shards of `salt` by weight; below 100%
    /// traffic the shard of `traffic_salt` must fall in `[0, traffic_fraction·total_shards)`.
    Eppo {
        salt: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        traffic_salt: Option<String>,
        #[serde(default = "default_eppo_shards")]
        total_shards: i32,
    },
}

fn default_eppo_shards() -> i32 {
    EPPO_DEFAULT_SHARDS as i32
}

impl Hashing {
    pub fn is_pg_ab(&self) -> bool {
        matches!(self, Hashing::PgAb)
    }

    /// Checks the scheme's parameters against the experiment's weights and traffic: the
    /// vendors allocate in whole buckets, so weights must land on bucket boundaries.
    pub fn validate(&self, weights: &[f64], traffic_fraction: f64) -> Result<()> {
        let check_param = |argument: &'static str, value: &str| crate::text::check_text(argument, value, 256);
        match self {
            Hashing::PgAb => Ok(()),
            Hashing::GrowthbookV1 { seed } | Hashing::GrowthbookV2 { seed } => check_param("hashing.seed", seed),
            Hashing::Unleash { group_id, variant_group_id } => {
                check_param("hashing.group_id", group_id)?;
                if let Some(group) = variant_group_id {
                    check_param("hashing.variant_group_id", group)?;
                }
                whole_units("traffic_fraction", traffic_fraction, 100.0, "Unleash rollouts are whole percents")?;
                bucket_ends(weights, 1.0, f64::from(UNLEASH_VARIANT_TOTAL), "Unleash variant weights are thousandths")
                    .map(drop)
            }
            Hashing::Statsig { salt, allocation_salt } => {
                check_param("hashing.salt", salt)?;
                match allocation_salt {
                    Some(allocation_salt) => check_param("hashing.allocation_salt", allocation_salt)?,
                    None if traffic_fraction < 1.0 => {
                        return Err(InvalidArgument::new(
                            "hashing.allocation_salt",
                            "is needed when traffic_fraction is below 1 (the salt of the allocation's user_bucket)",
                        ))
                    }
                    None => {}
                }
                let buckets = f64::from(STATSIG_GROUP_BUCKETS);
                whole_units("traffic_fraction", traffic_fraction, buckets, "Statsig allocates in tenths of a percent")?;
                bucket_ends(weights, 1.0, f64::from(STATSIG_GROUP_BUCKETS), "Statsig groups are thousandths").map(drop)
            }
            Hashing::Optimizely { experiment_id } => {
                check_param("hashing.experiment_id", experiment_id)?;
                bucket_ends(weights, traffic_fraction, f64::from(OPTIMIZELY_BUCKETS), "Optimizely allocates in 1/10000ths")
                    .map(drop)
            }
            Hashing::Eppo { salt, traffic_salt, total_shards } => {
                check_param("hashing.salt", salt)?;
                if *total_shards < 1 {
                    return Err(InvalidArgument::new("hashing.total_shards", format!("must be at least 1, got {total_shards}")));
                }
                match traffic_salt {
                    Some(traffic_salt) => check_param("hashing.traffic_salt", traffic_salt)?,
                    None if traffic_fraction < 1.0 => {
                        return Err(InvalidArgument::new(
                            "hashing.traffic_salt",
                            "is needed when traffic_fraction is below 1 (the traffic shard's salt)",
                        ))
                    }
                    None => {}
                }
                let shards = f64::from(*total_shards);
                whole_units("traffic_fraction", traffic_fraction, shards, "Eppo allocates whole shards")?;
                bucket_ends(weights, 1.0, shards, "Eppo splits whole shards").map(drop)
            }
        }
    }

    /// The 0-based variant the vendor gave `unit`, or `None` when its traffic (coverage,
    /// rollout, allocation) leaves the unit out. `PgAb` answers `None`: its assignment is
    /// [`crate::assign`]. Parameters and weights must have passed [`Hashing::validate`].
    pub fn assign(&self, unit: &str, weights: &[f64], traffic_fraction: f64) -> Option<usize> {
        match self {
            Hashing::PgAb => None,
            Hashing::GrowthbookV1 { seed } => growthbook_assign(unit, seed, 1, weights, traffic_fraction),
            Hashing::GrowthbookV2 { seed } => growthbook_assign(unit, seed, 2, weights, traffic_fraction),
            Hashing::Unleash { group_id, variant_group_id } => {
                let rollout = (traffic_fraction * 100.0).round() as u32;
                let position = unleash_normalized_hash(unit, group_id, 100, 0).ok()?;
                if rollout == 0 || position > rollout {
                    return None;
                }
                let ends = bucket_ends(weights, 1.0, f64::from(UNLEASH_VARIANT_TOTAL), "").ok()?;
                let group = variant_group_id.as_deref().unwrap_or(group_id);
                let target = unleash_normalized_hash(unit, group, i64::from(UNLEASH_VARIANT_TOTAL), i64::from(UNLEASH_VARIANT_SEED)).ok()?;
                // Unleash walks the variants adding weights until the sum reaches the target.
                ends.iter().position(|end| *end >= target)
            }
            Hashing::Statsig { salt, allocation_salt } => {
                if traffic_fraction < 1.0 {
                    let allocated = (traffic_fraction * f64::from(STATSIG_GROUP_BUCKETS)).round() as u64;
                    if statsig_hash(unit, allocation_salt.as_deref()?) % u64::from(STATSIG_GROUP_BUCKETS) >= allocated {
                        return None;
                    }
                }
                let bucket = (statsig_hash(unit, salt) % u64::from(STATSIG_GROUP_BUCKETS)) as u32;
                let ends = bucket_ends(weights, 1.0, f64::from(STATSIG_GROUP_BUCKETS), "").ok()?;
                ends.iter().position(|end| bucket < *end)
            }
            Hashing::Optimizely { experiment_id } => {
                let bucket = optimizely_bucket(unit, experiment_id) as u32;
                let ends = bucket_ends(weights, traffic_fraction, f64::from(OPTIMIZELY_BUCKETS), "").ok()?;
                ends.iter().position(|end| bucket < *end)
            }
            Hashing::Eppo { salt, traffic_salt, total_shards } => {
                let shards = f64::from(*total_shards);
                if traffic_fraction < 1.0 {
                    let traffic_shard = eppo_shard(unit, traffic_salt.as_deref()?, *total_shards).ok()?;
                    if f64::from(traffic_shard) >= (traffic_fraction * shards).round() {
                        return None;
                    }
                }
                let shard = eppo_shard(unit, salt, *total_shards).ok()? as u32;
                let ends = bucket_ends(weights, 1.0, shards, "").ok()?;
                ends.iter().position(|end| shard < *end)
            }
        }
    }
}

fn growthbook_assign(unit: &str, seed: &str, version: i32, weights: &[f64], coverage: f64) -> Option<usize> {
    let n = growthbook_hash(unit, seed, version).ok()?;
    growthbook_choose(n, &growthbook_bucket_ranges(weights, coverage))
}

/// How far from a whole bucket a scaled weight may be (weights are decimals in JSON).
const WHOLE_TOLERANCE: f64 = 1e-6;

fn whole_units(argument: &'static str, value: f64, scale: f64, why: &str) -> Result<()> {
    let scaled = value * scale;
    if (scaled - scaled.round()).abs() > WHOLE_TOLERANCE {
        return Err(InvalidArgument::new(argument, format!("must be a multiple of 1/{scale} for this hashing scheme ({why}), got {value}")));
    }
    Ok(())
}

/// The cumulative variant range ends in whole buckets: `round(scale · fraction · (w_1+…+w_i))`.
fn bucket_ends(weights: &[f64], fraction: f64, scale: f64, why: &str) -> Result<Vec<u32>> {
    let mut cumulative = 0.0;
    weights
        .iter()
        .map(|weight| {
            cumulative += weight;
            let end = cumulative * fraction * scale;
            if (end - end.round()).abs() > WHOLE_TOLERANCE {
                return Err(InvalidArgument::new(
                    "variants.weight",
                    format!("must put every variant boundary on a whole bucket of {scale} for this hashing scheme ({why})"),
                ));
            }
            Ok(end.round() as u32)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn vectors(vendor: &str) -> Value {
        let path = format!("{}/../tests/golden/foreign_hash/{vendor}.json", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn cases<'a>(vectors: &'a Value, section: &str) -> &'a [Value] {
        vectors[section].as_array().unwrap_or_else(|| panic!("no section {section}"))
    }

    fn text(value: &Value) -> &str {
        value.as_str().unwrap_or_else(|| panic!("expected text, got {value}"))
    }

    #[test]
    fn growthbook_hash_matches_the_sdk_cases() {
        let vectors = vectors("growthbook");
        for case in cases(&vectors, "hash") {
            let version = case[2].as_i64().unwrap() as i32;
            let got = growthbook_hash(text(&case[1]), text(&case[0]), version).ok();
            assert_eq!(got, case[3].as_f64(), "{case}");
        }
    }

    #[test]
    fn growthbook_ranges_and_choice_match_the_sdk_cases() {
        let vectors = vectors("growthbook");
        for case in cases(&vectors, "getBucketRange") {
            let args = &case[1];
            let n = args[0].as_u64().unwrap() as usize;
            let coverage = args[1].as_f64().unwrap();
            let weights: Option<Vec<f64>> = args[2].as_array().map(|w| w.iter().map(|x| x.as_f64().unwrap()).collect());
            // The SDK falls back to equal weights when they are missing, of the wrong
            // length or do not sum to 1; our configurations are validated instead.
            let Some(weights) = weights.filter(|w| w.len() == n && (w.iter().sum::<f64>() - 1.0).abs() < 0.01) else { continue };
            if !(0.0..=1.0).contains(&coverage) {
                continue;
            }
            let expected: Vec<(f64, f64)> =
                case[2].as_array().unwrap().iter().map(|r| (r[0].as_f64().unwrap(), r[1].as_f64().unwrap())).collect();
            let got = growthbook_bucket_ranges(&weights, coverage);
            for (g, e) in got.iter().zip(&expected) {
                assert!((g.0 - e.0).abs() < 1e-12 && (g.1 - e.1).abs() < 1e-12, "{case}: {got:?}");
            }
        }
        for case in cases(&vectors, "chooseVariation") {
            let ranges: Vec<(f64, f64)> =
                case[2].as_array().unwrap().iter().map(|r| (r[0].as_f64().unwrap(), r[1].as_f64().unwrap())).collect();
            let expected = case[3].as_i64().unwrap();
            let got = growthbook_choose(case[1].as_f64().unwrap(), &ranges).map_or(-1, |i| i as i64);
            assert_eq!(got, expected, "{case}");
        }
    }

    #[test]
    fn unleash_rollouts_and_variants_match_the_client_specification() {
        let vectors = vectors("unleash");
        for case in cases(&vectors, "rollout") {
            let position = unleash_normalized_hash(text(&case["user_id"]), text(&case["group_id"]), 100, 0).unwrap();
            let rollout = case["rollout"].as_u64().unwrap() as u32;
            assert_eq!(rollout > 0 && position <= rollout, case["enabled"].as_bool().unwrap(), "{case}");
        }
        for case in cases(&vectors, "variants") {
            let weights: Vec<u32> = case["weights"].as_array().unwrap().iter().map(|w| w.as_u64().unwrap() as u32).collect();
            let total: u32 = weights.iter().sum();
            let target = unleash_normalized_hash(
                text(&case["user_id"]),
                text(&case["group_id"]),
                i64::from(total),
                i64::from(UNLEASH_VARIANT_SEED),
            )
            .unwrap();
            let mut sum = 0;
            let chosen = weights.iter().position(|w| {
                sum += w;
                sum >= target
            });
            assert_eq!(chosen, Some(case["expected_index"].as_u64().unwrap() as usize), "{case}");
        }
    }

    #[test]
    fn optimizely_buckets_match_the_sdk_tests() {
        let vectors = vectors("optimizely");
        for case in cases(&vectors, "bucket_value") {
            let got = optimizely_bucket(text(&case["user_id"]), text(&case["parent_id"]));
            assert_eq!(i64::from(got), case["expected"].as_i64().unwrap(), "{case}");
        }
    }

    #[test]
    fn eppo_shards_reproduce_the_sdk_test_data_assignments() {
        let vectors = vectors("eppo");
        for case in cases(&vectors, "cases") {
            let total = case["total_shards"].as_i64().unwrap() as i32;
            let subject = text(&case["subject"]);
            let in_shards = |shards: &Value| {
                shards.as_array().unwrap().iter().all(|shard| {
                    let value = i64::from(eppo_shard(subject, text(&shard["salt"]), total).unwrap());
                    shard["ranges"].as_array().unwrap().iter().any(|range| {
                        range["start"].as_i64().unwrap() <= value && value < range["end"].as_i64().unwrap()
                    })
                })
            };
            let chosen = case["splits"].as_array().unwrap().iter().find(|split| in_shards(&split["shards"]));
            let got = chosen.map(|split| text(&split["variation"]));
            assert_eq!(got, case["expected_variation"].as_str(), "{case}");
        }
    }

    #[test]
    fn statsig_hash_is_the_first_eight_bytes_big_endian_of_sha256() {
        let vectors = vectors("statsig");
        for case in cases(&vectors, "hash") {
            let got = statsig_hash(text(&case["unit"]), text(&case["salt"]));
            assert_eq!(got.to_string(), text(&case["expected"]), "{case}");
        }
    }

    #[test]
    fn every_scheme_reproduces_its_sdk_for_ten_thousand_units() {
        let expectations = vectors("sdk_expectations");
        let units: Vec<&str> = expectations["users"].as_array().unwrap().iter().map(text).collect();
        for experiment in cases(&expectations, "experiments") {
            let hashing: Hashing = serde_json::from_value(experiment["config"]["hashing"].clone()).unwrap();
            let weights: Vec<f64> =
                experiment["config"]["variants"].as_array().unwrap().iter().map(|v| v["weight"].as_f64().unwrap()).collect();
            let traffic = experiment["config"]["traffic_fraction"].as_f64().unwrap();
            hashing.validate(&weights, traffic).unwrap();
            let expected = experiment["expected"].as_array().unwrap();
            let mismatches: Vec<&str> = units
                .iter()
                .zip(expected)
                .filter(|(unit, want)| hashing.assign(unit, &weights, traffic).map(|i| i as u64) != want.as_u64())
                .map(|(unit, _)| *unit)
                .take(5)
                .collect();
            assert!(mismatches.is_empty(), "{}: units {mismatches:?} differ from the SDK", experiment["config"]["id"]);
        }
    }

    #[test]
    fn bad_parameters_name_their_field() {
        let weights = [0.5, 0.5];
        let cases = [
            (Hashing::GrowthbookV2 { seed: String::new() }, 1.0, "hashing.seed"),
            (Hashing::Unleash { group_id: "g".into(), variant_group_id: None }, 0.555, "traffic_fraction"),
            (Hashing::Statsig { salt: "s".into(), allocation_salt: None }, 0.5, "hashing.allocation_salt"),
            (Hashing::Eppo { salt: "s".into(), traffic_salt: Some("t".into()), total_shards: 0 }, 1.0, "hashing.total_shards"),
        ];
        for (hashing, traffic, argument) in cases {
            assert_eq!(hashing.validate(&weights, traffic).unwrap_err().argument, argument, "{hashing:?}");
        }
        let thirds = [1.0 / 3.0, 2.0 / 3.0];
        let unleash = Hashing::Unleash { group_id: "g".into(), variant_group_id: None };
        assert_eq!(unleash.validate(&thirds, 1.0).unwrap_err().argument, "variants.weight");
        assert_eq!(growthbook_hash("u", "s", 3).unwrap_err().argument, "version");
        assert_eq!(eppo_shard("u", "s", 0).unwrap_err().argument, "total_shards");
        assert_eq!(unleash_normalized_hash("u", "g", 0, 0).unwrap_err().argument, "normalizer");
    }
}
