//! Experiments migrated from GrowthBook, Unleash, Statsig, Optimizely and Eppo: declared
//! with `"hashing"`, the real gateway assigns 10,000 users per scheme over HTTP exactly as
//! the vendor's own SDK did (`tests/golden/generate_foreign_hash.py` wrote the SDKs'
//! answers), and rejects bad hashing parameters with 422 naming the field.

mod support;

use serde_json::{json, Value};
use std::collections::HashMap;
use support::{Database, Gateway};

fn sdk_expectations() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/golden/foreign_hash/sdk_expectations.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn every_scheme_assigns_10k_users_as_the_vendor_sdk_did() {
    let expectations = sdk_expectations();
    let db = Database::fresh("foreign_hashing");
    let gw = Gateway::start(&db, &[]);
    let experiments = expectations["experiments"].as_array().unwrap();
    let mut ids = Vec::new();
    for experiment in experiments {
        gw.running_experiment(&experiment["config"]);
        ids.push(experiment["config"]["id"].as_str().unwrap().to_owned());
    }
    let users: Vec<&str> = expectations["users"].as_array().unwrap().iter().map(|u| u.as_str().unwrap()).collect();

    let threads = 8;
    let answers: Vec<(usize, HashMap<String, String>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (gw, users, ids) = (&gw, &users, &ids);
                scope.spawn(move || {
                    (t..users.len())
                        .step_by(threads)
                        .map(|i| {
                            let body = json!({"user_id": users[i], "experiments": ids});
                            let (status, answer) = gw.post("/api/v1/assign", Some(&gw.sdk), &body);
                            assert_eq!(status, 200, "{answer}");
                            let assigned = answer["assignments"]
                                .as_array()
                                .unwrap()
                                .iter()
                                .map(|a| (a["experiment_id"].as_str().unwrap().to_owned(), a["variant_id"].as_str().unwrap().to_owned()))
                                .collect();
                            (i, assigned)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });

    let mut failures = Vec::new();
    for experiment in experiments {
        let config = &experiment["config"];
        let id = config["id"].as_str().unwrap();
        let variant_ids: Vec<&str> = config["variants"].as_array().unwrap().iter().map(|v| v["id"].as_str().unwrap()).collect();
        let expected = experiment["expected"].as_array().unwrap();
        let wrong: Vec<String> = answers
            .iter()
            .filter_map(|(i, assigned)| {
                let want = expected[*i].as_u64().map(|index| variant_ids[index as usize]);
                let got = assigned.get(id).map(String::as_str);
                (got != want).then(|| format!("{}: gateway {got:?}, SDK {want:?}", users[*i]))
            })
            .collect();
        if !wrong.is_empty() {
            failures.push(format!("{id} ({}): {} of {} users differ, e.g. {:?}", config["hashing"], wrong.len(), users.len(), &wrong[..wrong.len().min(3)]));
        }
    }
    assert_eq!(answers.len(), users.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn bad_hashing_parameters_are_422_naming_the_field() {
    let db = Database::fresh("foreign_hashing_bad");
    let gw = Gateway::start(&db, &[]);
    let variants = json!([{"id": "control", "weight": 0.5, "is_control": true}, {"id": "b", "weight": 0.5}]);
    let cases = [
        (json!({"scheme": "growthbook_v3", "seed": "s"}), "hashing"),
        (json!({"scheme": "unleash"}), "group_id"),
        (json!({"scheme": "statsig", "salt": "s"}), "hashing.allocation_salt"),
        (json!({"scheme": "eppo", "salt": "s", "traffic_salt": "t", "total_shards": 0}), "hashing.total_shards"),
        (json!({"scheme": "optimizely", "experiment_id": ""}), "hashing.experiment_id"),
    ];
    for (i, (hashing, field)) in cases.into_iter().enumerate() {
        let body = json!({"id": format!("bad{i}"), "salt": "s", "variants": variants, "traffic_fraction": 0.5, "hashing": hashing});
        let (status, answer) = gw.post("/api/v1/experiments", Some(&gw.admin), &body);
        assert_eq!(status, 422, "{hashing}: {answer}");
        assert!(answer["error"]["message"].as_str().unwrap().contains(field), "{hashing}: {answer}");
    }
}
