//! The vendors' published bucketing vectors (`foreign_hash/*.json`, each naming its
//! source) as SQL expressions with their expected values, so the extension and the
//! DataFusion UDFs are checked by the same cases: every expression is valid in both.

use serde_json::Value;

/// One SQL expression over literals and the value it must evaluate to (as float8).
pub struct SqlCheck {
    pub name: String,
    pub expression: String,
    pub expected: f64,
}

/// A vendor's vector file, `foreign_hash/<vendor>.json`.
pub fn load(vendor: &str) -> Value {
    let path = format!("{}/foreign_hash/{vendor}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not valid JSON: {e}"))
}

fn text(value: &Value) -> String {
    let raw = value.as_str().unwrap_or_else(|| panic!("expected text, got {value}"));
    format!("'{}'", raw.replace('\'', "''"))
}

fn section<'a>(vectors: &'a Value, name: &str) -> &'a [Value] {
    vectors[name].as_array().unwrap_or_else(|| panic!("no section {name}"))
}

fn check(name: String, expression: String, expected: f64) -> SqlCheck {
    SqlCheck { name, expression: format!("CAST({expression} AS DOUBLE PRECISION)"), expected }
}

/// Every vendor case as a check of `ab_hash_growthbook`, `ab_bucket_unleash`,
/// `ab_bucket_statsig`, `ab_bucket_optimizely` or `ab_shard_eppo`.
pub fn sql_checks() -> Vec<SqlCheck> {
    let mut checks = Vec::new();
    let growthbook = load("growthbook");
    for case in section(&growthbook, "hash") {
        // A null expectation is an unknown hash version, an error (tested apart).
        let Some(expected) = case[3].as_f64() else { continue };
        let sql = format!("ab_hash_growthbook({}, {}, {})", text(&case[1]), text(&case[0]), case[2]);
        checks.push(check(format!("growthbook hash {case}"), sql, expected));
    }
    let unleash = load("unleash");
    for case in section(&unleash, "rollout") {
        let rollout = case["rollout"].as_i64().unwrap();
        let sql = format!(
            "CASE WHEN {rollout} > 0 AND ab_bucket_unleash({}, {}) <= {rollout} THEN 1 ELSE 0 END",
            text(&case["user_id"]),
            text(&case["group_id"])
        );
        checks.push(check(format!("unleash rollout {}", case["description"]), sql, f64::from(u8::from(case["enabled"] == true))));
    }
    for case in section(&unleash, "variants") {
        let weights: Vec<i64> = case["weights"].as_array().unwrap().iter().map(|w| w.as_i64().unwrap()).collect();
        let target = format!(
            "ab_bucket_unleash({}, {}, {}, 86028157)",
            text(&case["user_id"]),
            text(&case["group_id"]),
            weights.iter().sum::<i64>()
        );
        let mut cumulative = 0;
        let arms: Vec<String> = weights
            .iter()
            .enumerate()
            .map(|(i, w)| {
                cumulative += w;
                format!("WHEN {target} <= {cumulative} THEN {i}")
            })
            .collect();
        let sql = format!("CASE {} ELSE -1 END", arms.join(" "));
        checks.push(check(format!("unleash variant {}", case["description"]), sql, case["expected_index"].as_f64().unwrap()));
    }
    let statsig = load("statsig");
    for case in section(&statsig, "hash") {
        let hash: u64 = case["expected"].as_str().unwrap().parse().unwrap();
        for buckets in [1000u64, 10_000] {
            let sql = format!("ab_bucket_statsig({}, {}, {buckets})", text(&case["unit"]), text(&case["salt"]));
            checks.push(check(format!("statsig {case} mod {buckets}"), sql, (hash % buckets) as f64));
        }
    }
    let optimizely = load("optimizely");
    for case in section(&optimizely, "bucket_value") {
        let sql = format!("ab_bucket_optimizely({}, {})", text(&case["user_id"]), text(&case["parent_id"]));
        checks.push(check(format!("optimizely {case}"), sql, case["expected"].as_f64().unwrap()));
    }
    let eppo = load("eppo");
    for case in section(&eppo, "cases") {
        let shard = |salt: &Value| format!("ab_shard_eppo({}, {}, {})", text(&case["subject"]), text(salt), case["total_shards"]);
        let splits = case["splits"].as_array().unwrap();
        let arms: Vec<String> = splits
            .iter()
            .enumerate()
            .map(|(i, split)| {
                let shards: Vec<String> = split["shards"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| {
                        let ranges: Vec<String> = s["ranges"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|r| format!("({0} >= {1} AND {0} < {2})", shard(&s["salt"]), r["start"], r["end"]))
                            .collect();
                        format!("({})", ranges.join(" OR "))
                    })
                    .collect();
                let condition = if shards.is_empty() { "TRUE".to_owned() } else { shards.join(" AND ") };
                format!("WHEN {condition} THEN {i}")
            })
            .collect();
        let expected = match case["expected_variation"].as_str() {
            None => -1.0,
            Some(name) => splits.iter().position(|s| s["variation"] == name).unwrap() as f64,
        };
        let sql = format!("CASE {} ELSE -1 END", arms.join(" "));
        checks.push(check(format!("eppo {} {} {}", case["flag"], case["allocation"], case["subject"]), sql, expected));
    }
    checks
}
