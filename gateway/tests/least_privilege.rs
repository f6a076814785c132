//! For DBAs (issue 15): the role layout of the README. The gateway runs as `ab_gateway`, a
//! login role that is not a superuser and may only create in its own database: it migrates
//! the schema it owns, serves assignment, events and results, and runs the maintenance.
//! `ab_analyst` reads the views and tables (not the token digests) and calls the functions,
//! and writes nothing, also in tables a later migration creates.

mod support;

use postgres::{Client, NoTls};
use serde_json::json;
use std::time::Duration;
use support::{Database, Gateway};

/// The roles, created once per cluster as the README shows, and a database the gateway may
/// create its schema in, with the extension a superuser created.
fn database_for_the_gateway_role() -> Database {
    let server = support::server();
    let mut admin = Client::connect(&format!("{server} dbname=postgres"), NoTls).unwrap();
    admin
        .batch_execute(
            "DO $$ BEGIN
                 IF to_regrole('ab_gateway') IS NULL THEN CREATE ROLE ab_gateway LOGIN; END IF;
                 IF to_regrole('ab_analyst') IS NULL THEN CREATE ROLE ab_analyst NOLOGIN; END IF;
             END $$",
        )
        .unwrap();
    for sql in [
        "DROP DATABASE IF EXISTS gw_least_privilege WITH (FORCE)",
        "CREATE DATABASE gw_least_privilege",
        "GRANT CREATE ON DATABASE gw_least_privilege TO ab_gateway",
    ] {
        admin.batch_execute(sql).unwrap();
    }
    Client::connect(&format!("{server} dbname=gw_least_privilege"), NoTls)
        .unwrap()
        .batch_execute("CREATE EXTENSION pg_ab")
        .unwrap();
    Database { url: format!("{server} dbname=gw_least_privilege user=ab_gateway") }
}

fn sqlstate(client: &mut Client, sql: &str) -> String {
    let error = client.batch_execute(sql).expect_err(sql);
    error.code().unwrap().code().to_owned()
}

#[test]
fn the_gateway_runs_as_a_non_superuser_role_and_the_analyst_only_reads() {
    let db = database_for_the_gateway_role();
    let output = db.cli(&["migrate"]);
    assert!(output.contains("applied migrations [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"), "{output}");
    let role = &db.rows(
        "SELECT current_user AS name, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls,
                (SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'ab') AS schema_owner
         FROM pg_roles WHERE rolname = current_user",
    )[0];
    assert_eq!(
        role,
        &json!({"name": "ab_gateway", "rolsuper": false, "rolcreaterole": false, "rolcreatedb": false,
                "rolbypassrls": false, "schema_owner": "ab_gateway"})
    );

    let gw = Gateway::start(&db, &["--results-refresh-secs", "1", "--maintenance-interval-secs", "1"]);
    gw.running_experiment(&json!({
        "id": "least-privilege",
        "variants": [{"id": "control", "weight": 0.5, "is_control": true}, {"id": "treatment", "weight": 0.5}],
        "metrics": [{"id": "purchase", "kind": "conversion", "event_type": "purchase"}]
    }));
    let mut events = Vec::new();
    for i in 0..40 {
        let user = format!("u{i}");
        let (status, body) = gw.post("/api/v1/assign", Some(&gw.sdk), &json!({"user_id": user}));
        assert_eq!(status, 200, "{body}");
        if i % 3 == 0 {
            events.push(json!({"user_id": user, "event_type": "purchase", "timestamp": chrono::Utc::now().to_rfc3339()}));
        }
    }
    let (status, body) = gw.post("/api/v1/events", Some(&gw.sdk), &serde_json::Value::Array(events));
    assert_eq!(status, 202, "{body}");
    gw.wait_until(Duration::from_secs(60), |g| {
        let (_, results) = g.get("/api/v1/experiments/least-privilege/results", Some(&g.admin));
        results.to_string().contains("\"units_treatment\"")
            && db.rows("SELECT 1 FROM ab.srm, unnest(observed) x HAVING sum(x) = 40").len() == 1
    });
    assert!(!gw.log().contains("failed"), "maintenance failed under the role:\n{}", gw.log());

    // The analyst, as a member of ab_analyst would be.
    let mut analyst = Client::connect(&format!("{} dbname=gw_least_privilege", support::server()), NoTls).unwrap();
    analyst.batch_execute("SET ROLE ab_analyst").unwrap();
    let units: i64 = analyst
        .query_one("SELECT sum(units_control + units_treatment)::int8 FROM ab.results WHERE metric_id = 'purchase'", &[])
        .unwrap()
        .get(0);
    assert_eq!(units, 40);
    for sql in [
        "SELECT * FROM ab.results_live",
        "SELECT * FROM ab.srm",
        "SELECT * FROM ab.experiments",
        "SELECT * FROM ab.exposures",
        "SELECT * FROM ab.events",
        "SELECT * FROM ab.guardrails",
        "SELECT (ab_ztest(10, 100, 20, 100)).p_value",
        "SELECT ab_assign('u1', 'salt', ARRAY[0.5, 0.5])",
    ] {
        analyst.batch_execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    for sql in [
        "INSERT INTO ab.events (event_time, user_id, event_type, dedup_key) VALUES (now(), 'x', 'y', 'z')",
        "UPDATE ab.experiments SET status = 'paused'",
        "DELETE FROM ab.exposures",
        "TRUNCATE ab.results",
        "SELECT * FROM ab.api_tokens",
        "SELECT ab.refresh_results()",
        "SELECT * FROM ab.maintain_event_partitions()",
        "CREATE TABLE ab.mine (x int)",
    ] {
        assert_eq!(sqlstate(&mut analyst, sql), "42501", "{sql}");
    }

    // A table a later migration creates is readable too.
    db.connect().batch_execute("CREATE TABLE ab.later_migration AS SELECT 1 AS x").unwrap();
    analyst.batch_execute("SELECT * FROM ab.later_migration").unwrap();
    assert_eq!(sqlstate(&mut analyst, "INSERT INTO ab.later_migration VALUES (2)"), "42501");
}
