//! The results views against known answers: the fixture of `tests/golden/generate_results.py`
//! (exposures, events before and after exposure, expected figures from scipy/statsmodels) is
//! loaded in two halves with a refresh in between, so the incremental rollups must give the
//! one-shot answer; then the results API and the guardrail action end to end.

mod support;

use golden_vectors::{Actual, Checker};
use serde_json::Value;
use support::Database;

fn fixture() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/golden/results_fixture.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn load_experiment(db: &Database, config: &Value) {
    db.connect()
        .execute(
            "INSERT INTO ab.experiments (id, salt, config, status, started_at)
             SELECT c->>'id', c->>'salt', c, 'running', now() - interval '2 days' FROM (SELECT $1::text::jsonb AS c) s",
            &[&config.to_string()],
        )
        .unwrap();
}

fn load_rows(db: &Database, exposures: &[Value], events: &[Value]) {
    let mut client = db.connect();
    client
        .execute(
            "INSERT INTO ab.exposures (experiment_id, user_id, variant_id, first_exposed_at)
             SELECT 'fixture', x->>'user_id', x->>'variant_id', (x->>'first_exposed_at')::timestamptz
             FROM jsonb_array_elements($1::text::jsonb) x",
            &[&Value::Array(exposures.to_vec()).to_string()],
        )
        .unwrap();
    client
        .execute(
            "INSERT INTO ab.events (event_time, user_id, event_type, dedup_key, metrics)
             SELECT (e->>'event_time')::timestamptz, e->>'user_id', e->>'event_type', 'fixture-' || n, e->'metrics'
             FROM jsonb_array_elements($1::text::jsonb) WITH ORDINALITY AS t(e, n)",
            &[&Value::Array(events.to_vec()).to_string()],
        )
        .unwrap();
}

fn actual(row: &Value, field: &str) -> Actual {
    match row.get(field) {
        None => Actual::Missing,
        Some(Value::Bool(b)) => Actual::Bool(Some(*b)),
        Some(Value::Null) => Actual::Float(None),
        Some(v) => Actual::Float(v.as_f64()),
    }
}

#[test]
fn views_match_the_reference_after_incremental_refreshes() {
    let fixture = fixture();
    let db = Database::fresh("results_views");
    load_experiment(&db, &fixture["config"]);
    let (exposures, events) = (fixture["exposures"].as_array().unwrap(), fixture["events"].as_array().unwrap());
    let (x_half, e_half) = (exposures.len() / 2, events.len() / 3);
    load_rows(&db, &exposures[..x_half], &events[..e_half]);
    db.connect().batch_execute("SELECT ab.refresh_results('0 seconds')").unwrap();
    load_rows(&db, &exposures[x_half..], &events[e_half..]);
    db.connect().batch_execute("SELECT ab.refresh_results('0 seconds')").unwrap();
    // A refresh with nothing new changes nothing.
    db.connect().batch_execute("SELECT ab.refresh_results('0 seconds')").unwrap();

    let expected = &fixture["expected"];
    let mut checker = Checker::default();
    let metrics = db.rows("SELECT * FROM ab.variant_metrics WHERE experiment_id = 'fixture'");
    assert_eq!(metrics.len(), 9);
    for want in expected["variant_metrics"].as_array().unwrap() {
        let case = format!("variant_metrics {} {}", want["metric_id"], want["variant_id"]);
        let got = metrics.iter().find(|r| r["metric_id"] == want["metric_id"] && r["variant_id"] == want["variant_id"]).unwrap();
        checker.record(&case, &strip(want, &["metric_id", "variant_id"]), |f| actual(got, f));
    }
    let results = db.rows("SELECT * FROM ab.results WHERE experiment_id = 'fixture'");
    assert_eq!(results.len(), 6);
    for want in expected["results"].as_array().unwrap() {
        let case = format!("results {} {}", want["metric_id"], want["treatment_id"]);
        let got = results.iter().find(|r| r["metric_id"] == want["metric_id"] && r["treatment_id"] == want["treatment_id"]).unwrap();
        checker.record(&case, &strip(want, &["metric_id", "treatment_id"]), |f| actual(got, f));
        assert_eq!(got["test"], if want["metric_id"] == "purchase" { "ab_ztest" } else { "ab_ttest" });
        if want.get("cuped_diff").is_none() {
            assert!(got["cuped_diff"].is_null(), "no covariate, no CUPED: {got}");
        }
    }
    let srm = &db.rows("SELECT * FROM ab.srm WHERE experiment_id = 'fixture'")[0];
    assert_eq!(srm["observed"], expected["srm"]["observed"]);
    checker.float("srm", "p_value", srm["p_value"].as_f64(), &expected["srm"]["p_value"]);
    checker.float("srm", "chi2", srm["chi2"].as_f64(), &expected["srm"]["chi2"]);
    checker.exact("srm", "mismatch", srm["mismatch"].as_bool(), expected["srm"]["mismatch"].as_bool());
    let progress = &db.rows("SELECT * FROM ab.sample_size_progress WHERE experiment_id = 'fixture'")[0];
    checker.exact("progress", "required_per_variant", progress["required_per_variant"].as_i64(), expected["required_per_variant"].as_i64());
    checker.exact("progress", "units_smallest_arm", progress["units_smallest_arm"].as_i64(), Some(251));
    assert!(progress["days_left"].as_i64().is_some_and(|d| d > 0), "{progress}");
    checker.finish("results views");

    let guardrail = &db.rows("SELECT * FROM ab.guardrails WHERE experiment_id = 'fixture' AND treatment_id = 'c'")[0];
    assert_eq!(guardrail["metric_id"], "session_seconds");
    assert_eq!(guardrail["significant_breach"], false, "{guardrail}");

    // Every view and column is explained.
    let undocumented = db.rows(
        "SELECT c.relname, a.attname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
         WHERE n.nspname = 'ab' AND c.relname IN ('results', 'variant_metrics', 'srm', 'guardrails', 'sample_size_progress')
           AND obj_description(c.oid, 'pg_class') IS NULL",
    );
    assert!(undocumented.is_empty(), "views without COMMENT: {undocumented:?}");
}

fn strip(object: &Value, keys: &[&str]) -> Value {
    let mut object = object.clone();
    for key in keys {
        object.as_object_mut().unwrap().remove(*key);
    }
    object
}
