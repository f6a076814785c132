//! What must survive: assignment while Postgres is stopped (on a cluster of this test's
//! own, so other tests keep theirs), exposures flushed after the outage and on SIGTERM,
//! and a database that comes back complete from pg_dump/pg_restore.

mod support;

use serde_json::{json, Value};
use std::process::Command;
use std::time::Duration;
use support::{error_code, Database, Gateway, OwnCluster, OWN_CLUSTER_PORT};

fn experiment() -> Value {
    json!({"id": "outage", "variants": [
        {"id": "control", "weight": 0.5, "is_control": true}, {"id": "t", "weight": 0.5}]})
}

fn variant_of(gw: &Gateway, user: &str) -> String {
    let (status, answer) = gw.post("/api/v1/assign", Some(&gw.sdk), &json!({"user_id": user}));
    assert_eq!(status, 200, "{answer}");
    answer["assignments"][0]["variant_id"].as_str().unwrap().to_owned()
}

#[test]
fn assignment_answers_while_postgres_is_stopped() {
    let _cluster = OwnCluster::start();
    let db = Database::fresh_on(&format!("host=127.0.0.1 port={OWN_CLUSTER_PORT} user=postgres"), "outage");
    let mut gw = Gateway::start(&db, &[]);
    gw.running_experiment(&experiment());
    let before: Vec<String> = (0..50).map(|i| variant_of(&gw, &format!("before-{i}"))).collect();

    OwnCluster::run("stop");
    assert_eq!(gw.get("/healthz", None).0, 200);
    let (status, answer) = gw.get("/readyz", None);
    assert_eq!((status, error_code(&answer)), (503, "database_unavailable"));
    for (i, variant) in before.iter().enumerate() {
        assert_eq!(&variant_of(&gw, &format!("before-{i}")), variant, "same answer during the outage");
    }
    let during: Vec<String> = (0..50).map(|i| variant_of(&gw, &format!("during-{i}"))).collect();
    let event = json!({"user_id": "u", "event_type": "view", "timestamp": chrono::Utc::now().to_rfc3339()});
    let (status, answer) = gw.post("/api/v1/events", Some(&gw.sdk), &event);
    assert_eq!((status, error_code(&answer)), (503, "database_unavailable"), "no 202 without a commit");
    let (status, _) = gw.get("/api/v1/experiments", Some(&gw.admin));
    assert_eq!(status, 503);

    OwnCluster::run("start");
    gw.wait_until(Duration::from_secs(20), |g| g.get("/readyz", None).0 == 200);
    assert_eq!(gw.post("/api/v1/events", Some(&gw.sdk), &event).0, 202);
    // Exposures of the outage are written once Postgres is back.
    let mut client = db.connect();
    gw.wait_until(Duration::from_secs(20), |_| {
        client.query_one("SELECT count(*) FROM ab.exposures WHERE user_id LIKE 'during-%'", &[]).unwrap().get::<_, i64>(0) == 50
    });
    let stored: String = client.query_one("SELECT variant_id FROM ab.exposures WHERE user_id = 'during-7'", &[]).unwrap().get(0);
    assert_eq!(stored, during[7]);

    // SIGTERM: exposures still queued are flushed before the process exits.
    for i in 0..500 {
        variant_of(&gw, &format!("last-{i}"));
    }
    assert!(gw.terminate().success());
    let flushed: i64 = client.query_one("SELECT count(*) FROM ab.exposures WHERE user_id LIKE 'last-%'", &[]).unwrap().get(0);
    assert_eq!(flushed, 500);
}

#[test]
fn migrations_are_idempotent_and_a_dump_restores_complete() {
    let db = Database::fresh("dump_source");
    assert_eq!(db.cli(&["migrate"]).trim(), "schema up to date");
    let gw = Gateway::start(&db, &[]);
    gw.running_experiment(&experiment());
    let users: Vec<String> = (0..100).map(|i| format!("u{i}")).collect();
    let variants: Vec<String> = users.iter().map(|u| variant_of(&gw, u)).collect();
    let events: Vec<Value> = users
        .iter()
        .map(|u| json!({"user_id": u, "event_type": "purchase", "timestamp": chrono::Utc::now().to_rfc3339(), "metrics": {"revenue": 3}}))
        .collect();
    assert_eq!(gw.post("/api/v1/events", Some(&gw.sdk), &json!(events)).0, 202);
    let mut source = db.connect();
    gw.wait_until(Duration::from_secs(10), |_| source.query_one("SELECT count(*) FROM ab.exposures", &[]).unwrap().get::<_, i64>(0) == 100);
    drop(gw);

    let target = Database { url: format!("{} dbname=gw_dump_target", support::server()) };
    let mut admin = postgres::Client::connect(&format!("{} dbname=postgres", support::server()), postgres::NoTls).unwrap();
    admin.batch_execute("DROP DATABASE IF EXISTS gw_dump_target WITH (FORCE)").unwrap();
    admin.batch_execute("CREATE DATABASE gw_dump_target").unwrap();
    let dump = std::env::temp_dir().join("pg_ab_gateway.dump");
    let bin = "/usr/lib/postgresql/15/bin";
    let ok = Command::new(format!("{bin}/pg_dump")).args(["-Fc", "-f", dump.to_str().unwrap(), "-d", &db.url]).status().unwrap();
    assert!(ok.success());
    let ok = Command::new(format!("{bin}/pg_restore")).args(["--exit-on-error", "-d", &target.url, dump.to_str().unwrap()]).status().unwrap();
    assert!(ok.success());

    let mut restored = target.connect();
    let census = "SELECT (SELECT count(*) FROM ab.experiments), (SELECT count(*) FROM ab.exposures), (SELECT count(*) FROM ab.events),
                         (SELECT count(*) FROM ab.api_tokens), (SELECT count(*) FROM ab.schema_migrations),
                         (SELECT count(*) FROM pg_inherits WHERE inhparent = 'ab.events'::regclass),
                         (SELECT count(*) FROM pg_trigger WHERE tgrelid IN ('ab.experiments'::regclass, 'ab.api_tokens'::regclass) AND NOT tgisinternal),
                         (SELECT sum(ab_hash(user_id, 'x')) FROM ab.exposures)";
    let counts = |client: &mut postgres::Client| -> Vec<String> {
        let row = client.query_one(census, &[]).unwrap();
        (0..row.len() - 1).map(|i| row.get::<_, i64>(i).to_string()).chain([row.get::<_, f64>(row.len() - 1).to_string()]).collect()
    };
    assert_eq!(counts(&mut restored), counts(&mut source));
    assert_eq!(target.cli(&["migrate"]).trim(), "schema up to date");

    // The restored database serves: tokens, the running experiment, the same variants, NOTIFY.
    let gw = Gateway::start(&target, &[]);
    gw.wait_for_running(1);
    for (user, variant) in users.iter().zip(&variants) {
        assert_eq!(&variant_of(&gw, user), variant);
    }
    let (status, _) = gw.post("/api/v1/experiments/outage/pause", Some(&gw.admin), &Value::Null);
    assert_eq!(status, 200);
    gw.wait_for_running(0);
}
