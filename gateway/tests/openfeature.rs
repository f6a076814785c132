//! OFREP through the real OpenFeature SDKs: the Python SDK with `openfeature-provider-ofrep`
//! and the Node server SDK with `@openfeature/ofrep-provider` (pinned in tests/openfeature,
//! installed by scripts/setup.sh into tests/.venv and tests/openfeature/node_modules) evaluate boolean, number, string and object flags for
//! 1000 users against the real gateway. Their answers equal `/assign`, their exposures are
//! stored, unknown flags and a missing targeting key give the caller's default with the
//! OpenFeature error code, and the bulk endpoint's ETag gives 304 until the config changes.

mod support;

use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;
use support::{Database, Gateway};

const CLIENTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/openfeature");
const USERS: usize = 1000;

fn experiments() -> Vec<Value> {
    vec![
        json!({"id": "btn", "variants": [
            {"id": "control", "weight": 0.5, "is_control": true, "config": {"value": false, "color": "grey"}},
            {"id": "green", "weight": 0.5, "config": {"value": true, "color": "#2a2"}}]}),
        json!({"id": "price", "variants": [
            {"id": "control", "weight": 0.4, "is_control": true, "config": {"value": 9.5}},
            {"id": "cheap", "weight": 0.3, "config": {"value": 7.25}},
            {"id": "promo", "weight": 0.3, "config": {"value": 8.75}}]}),
        json!({"id": "us-only", "targeting": [{"attribute": "country", "in": ["US"]}], "variants": [
            {"id": "a", "weight": 0.5, "is_control": true}, {"id": "b", "weight": 0.5}]}),
    ]
}

fn country(user: usize) -> &'static str {
    if user.is_multiple_of(2) {
        "US"
    } else {
        "CA"
    }
}

/// Every evaluation one SDK makes: the typed flags for each user, then the error cases.
fn plan(prefix: &str) -> Vec<Value> {
    let mut plan = Vec::new();
    for user in 0..USERS {
        let (key, attributes) = (format!("{prefix}-{user}"), json!({"country": country(user)}));
        for (flag, kind, default) in [
            ("btn", "boolean", json!(false)),
            ("btn:variant", "string", json!("none")),
            ("btn:config", "object", json!({})),
            ("price", "number", json!(0.5)),
            ("us-only", "string", json!("fallback")),
        ] {
            plan.push(json!({"flag": flag, "type": kind, "default": default, "targetingKey": key, "attributes": attributes}));
        }
    }
    plan.push(json!({"flag": "no-such-flag", "type": "string", "default": "fallback", "targetingKey": "u", "attributes": {}}));
    plan.push(json!({"flag": "btn:variant", "type": "string", "default": "fallback", "targetingKey": null, "attributes": {}}));
    plan.push(json!({"flag": "paused", "type": "string", "default": "fallback", "targetingKey": "u", "attributes": {}}));
    plan
}

/// Runs one SDK's evaluation script with the plan on stdin; returns its answers.
fn run_sdk(program: &str, script: &str, gw: &Gateway, plan: &[Value]) -> Vec<Value> {
    let mut child = Command::new(program)
        .arg(script)
        .current_dir(CLIENTS)
        .env("OFREP_URL", &gw.base)
        .env("SDK_TOKEN", &gw.sdk)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program} {script}: {e} (scripts/setup.sh installs the SDKs)"));
    child.stdin.take().unwrap().write_all(serde_json::to_string(plan).unwrap().as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{script}: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

fn check_sdk(db: &Database, gw: &Gateway, program: &str, script: &str, prefix: &str, defers_to_code_default: bool) {
    let plan = plan(prefix);
    let answers = run_sdk(program, script, gw, &plan);
    assert_eq!(answers.len(), plan.len());

    // Each evaluation recorded its exposure (btn and price for everyone, us-only for the
    // US half), with the variant the SDK got.
    let exposures = || -> HashMap<(String, String), String> {
        db.connect()
            .query("SELECT experiment_id, user_id, variant_id FROM ab.exposures WHERE user_id LIKE $1", &[&format!("{prefix}-%")])
            .unwrap()
            .iter()
            .map(|r| ((r.get(0), r.get(1)), r.get(2)))
            .collect()
    };
    gw.wait_until(Duration::from_secs(10), |_| exposures().len() == 2 * USERS + USERS / 2);
    let exposures = exposures();

    for user in 0..USERS {
        let key = format!("{prefix}-{user}");
        let (status, assigned) = gw.post("/api/v1/assign", Some(&gw.sdk), &json!({"user_id": key, "context": {"country": country(user)}}));
        assert_eq!(status, 200);
        let by_experiment: HashMap<&str, &Value> =
            assigned["assignments"].as_array().unwrap().iter().map(|a| (a["experiment_id"].as_str().unwrap(), a)).collect();
        let answer = |flag: usize| &answers[user * 5 + flag];
        let btn = by_experiment["btn"];
        let price = by_experiment["price"];
        assert_eq!(answer(0)["value"], btn["config"]["value"], "{script} btn for {key}");
        assert_eq!(answer(1)["value"], btn["variant_id"], "{script} btn:variant for {key}");
        assert_eq!(answer(2)["value"], btn["config"], "{script} btn:config for {key}");
        assert_eq!(answer(3)["value"], price["config"]["value"], "{script} price for {key}");
        for flag in 0..4 {
            assert_eq!(answer(flag)["reason"], "SPLIT", "{script} {:?}", answer(flag));
            assert_eq!(answer(flag)["errorCode"], Value::Null);
        }
        assert_eq!(answer(1)["variant"], btn["variant_id"]);
        assert_eq!(exposures[&("btn".to_owned(), key.clone())], btn["variant_id"].as_str().unwrap());
        assert_eq!(exposures[&("price".to_owned(), key.clone())], price["variant_id"].as_str().unwrap());
        match by_experiment.get("us-only") {
            Some(us) => {
                assert_eq!(answer(4)["value"], us["variant_id"]);
                assert_eq!(answer(4)["reason"], "TARGETING_MATCH");
                assert_eq!(exposures[&("us-only".to_owned(), key.clone())], us["variant_id"].as_str().unwrap());
            }
            None => {
                assert_eq!(country(user), "CA");
                assert_eq!(answer(4)["value"], "fallback", "a unit left out by targeting gets the code default");
                if defers_to_code_default {
                    assert_eq!((&answer(4)["reason"], &answer(4)["errorCode"]), (&json!("DEFAULT"), &Value::Null));
                }
                assert!(!exposures.contains_key(&("us-only".to_owned(), key.clone())));
            }
        }
    }
    let errors = &answers[USERS * 5..];
    assert_eq!((&errors[0]["value"], &errors[0]["errorCode"]), (&json!("fallback"), &json!("FLAG_NOT_FOUND")), "{script}");
    assert_eq!((&errors[1]["value"], &errors[1]["errorCode"]), (&json!("fallback"), &json!("TARGETING_KEY_MISSING")), "{script}");
    assert_eq!(errors[2]["value"], "fallback", "{script}: an experiment that is not running gives the code default");
    if defers_to_code_default {
        assert_eq!((&errors[2]["reason"], &errors[2]["errorCode"]), (&json!("DISABLED"), &Value::Null));
    }
}

fn gateway_with_flags(name: &str) -> (Database, Gateway) {
    let db = Database::fresh(name);
    let gw = Gateway::start(&db, &[]);
    // A draft, created first: waiting for the running ones also waits for its reload.
    let (status, _) = gw.post("/api/v1/experiments", Some(&gw.admin), &json!({"id": "paused", "variants": [
        {"id": "a", "weight": 0.5, "is_control": true}, {"id": "b", "weight": 0.5}]}));
    assert_eq!(status, 201);
    for experiment in experiments() {
        gw.running_experiment(&experiment);
    }
    (db, gw)
}

#[test]
fn the_python_sdk_over_ofrep_answers_as_assign_does() {
    let (db, gw) = gateway_with_flags("ofrep_python");
    check_sdk(&db, &gw, &format!("{CLIENTS}/../.venv/bin/python"), "evaluate.py", "py", true);
}

/// `@openfeature/ofrep-provider` 0.1.3 predates the protocol's code-default answers (no
/// `value`, reason DEFAULT or DISABLED): it returns the caller's default, as it should, but
/// reports a GENERAL error instead of the reason.
#[test]
fn the_node_sdk_over_ofrep_answers_as_assign_does() {
    let (db, gw) = gateway_with_flags("ofrep_node");
    check_sdk(&db, &gw, "node", "evaluate.mjs", "node", false);
}

#[test]
fn bulk_evaluation_answers_304_until_the_configuration_changes_what_a_context_gets() {
    let (_db, gw) = gateway_with_flags("ofrep_bulk");
    let bulk = |etag: Option<&str>| {
        let mut request = gw.http.post(gw.url("/ofrep/v1/evaluate/flags")).bearer_auth(&gw.sdk).json(&json!({"context": {"targetingKey": "user-7", "country": "US"}}));
        if let Some(etag) = etag {
            request = request.header("If-None-Match", etag);
        }
        let response = request.send().unwrap();
        let etag = response.headers()["etag"].to_str().unwrap().to_owned();
        (response.status().as_u16(), etag, response.text().unwrap())
    };
    let (status, etag, body) = bulk(None);
    assert_eq!(status, 200);
    let flags: Value = serde_json::from_str(&body).unwrap();
    let keys: Vec<&str> = flags["flags"].as_array().unwrap().iter().map(|f| f["key"].as_str().unwrap()).collect();
    assert_eq!(keys.len(), 12, "three keys for each of 4 experiments: {keys:?}");
    assert!(keys.contains(&"price:config") && keys.contains(&"paused:variant"));
    let (status, same, body) = bulk(Some(&etag));
    assert_eq!((status, same.as_str(), body.as_str()), (304, etag.as_str(), ""));

    let (status, _) = gw.post("/api/v1/experiments/price/pause", Some(&gw.admin), &Value::Null);
    assert_eq!(status, 200);
    gw.wait_for_running(2);
    let (status, changed, _) = bulk(Some(&etag));
    assert_eq!(status, 200);
    assert_ne!(changed, etag);
    assert_eq!(bulk(Some(&changed)).0, 304);
}

#[test]
fn malformed_ofrep_requests_get_the_protocol_error_codes() {
    let (_db, gw) = gateway_with_flags("ofrep_errors");
    let evaluate = |body: &str| {
        let response = gw.http.post(gw.url("/ofrep/v1/evaluate/flags/btn")).bearer_auth(&gw.sdk).body(body.to_owned()).send().unwrap();
        let status = response.status().as_u16();
        (status, response.json::<Value>().unwrap()["errorCode"].as_str().unwrap_or_default().to_owned())
    };
    for (body, expected) in [
        ("not json", "PARSE_ERROR"),
        ("[1]", "PARSE_ERROR"),
        ("{}", "TARGETING_KEY_MISSING"),
        (r#"{"context": {"targetingKey": ""}}"#, "TARGETING_KEY_MISSING"),
        (r#"{"context": "user-1"}"#, "INVALID_CONTEXT"),
        (r#"{"context": {"targetingKey": 7}}"#, "INVALID_CONTEXT"),
    ] {
        assert_eq!(evaluate(body), (400, expected.to_owned()), "{body}");
    }
    let long = format!(r#"{{"context": {{"targetingKey": "{}"}}}}"#, "x".repeat(257));
    assert_eq!(evaluate(&long), (400, "INVALID_CONTEXT".to_owned()));
    let unauthenticated = gw.http.post(gw.url("/ofrep/v1/evaluate/flags/btn")).body(r#"{"context": {"targetingKey": "u"}}"#).send().unwrap();
    assert_eq!(unauthenticated.status(), 401);
}
