//! `/api/v1/assign` against the real gateway: the same answer as `ab_assign` in SQL for
//! 100k users, targeting, traffic and layers, stickiness across weight changes, config
//! changes reaching a running gateway, bad input and SDK keys.

mod support;

use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;
use support::{assigned, error_code, Database, Gateway};

fn three_arms(id: &str, traffic: f64) -> Value {
    json!({
        "id": id, "salt": format!("{id}-salt"), "traffic_fraction": traffic,
        "variants": [
            {"id": "control", "weight": 0.5, "is_control": true},
            {"id": "b", "weight": 0.3, "config": {"price": 9}},
            {"id": "c", "weight": 0.2, "config": {"price": 11}}
        ]
    })
}

#[test]
fn http_and_sql_assign_100k_users_identically() {
    const USERS: usize = 100_000;
    let db = Database::fresh("same_answer");
    let gw = Gateway::start(&db, &[]);
    gw.running_experiment(&three_arms("pricing", 0.7));

    let threads = 8;
    let answers: Vec<(String, Option<String>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let gw = &gw;
                scope.spawn(move || {
                    (t..USERS)
                        .step_by(threads)
                        .map(|i| {
                            let user = format!("user-{i}");
                            let (status, answer) = gw.post("/api/v1/assign", Some(&gw.sdk), &json!({"user_id": user}));
                            assert_eq!(status, 200, "{answer}");
                            let variant = assigned(&answer).remove("pricing");
                            (user, variant)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });

    let mut client = db.connect();
    let users: Vec<&str> = answers.iter().map(|(u, _)| u.as_str()).collect();
    let rows = client
        .query(
            "SELECT u, CASE WHEN ab_in_sample(u, 'pricing-salt', 0.7)
                            THEN ab_assign(u, 'pricing-salt', ARRAY['control', 'b', 'c'], ARRAY[0.5, 0.3, 0.2]) END
             FROM unnest($1::text[]) AS u",
            &[&users],
        )
        .unwrap();
    let sql: HashMap<String, Option<String>> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    let mismatches: Vec<_> = answers.iter().filter(|(user, variant)| sql[user] != *variant).take(5).collect();
    assert!(mismatches.is_empty(), "HTTP and SQL disagree, e.g. {mismatches:?}");
    let included = answers.iter().filter(|(_, v)| v.is_some()).count();
    assert!((69_000..71_000).contains(&included), "{included} of {USERS} in a 70% sample");
}

#[test]
fn targeting_layers_and_unknown_experiments() {
    let db = Database::fresh("targeting");
    let gw = Gateway::start(&db, &[]);
    let mut us_only = three_arms("us_only", 1.0);
    us_only["targeting"] = json!([{"attribute": "country", "in": ["US", "CA"]}]);
    gw.running_experiment(&us_only);
    let mut left = three_arms("left", 1.0);
    left["layer"] = json!({"name": "homepage", "lo": 0.0, "hi": 0.5});
    gw.running_experiment(&left);
    let mut right = three_arms("right", 1.0);
    right["layer"] = json!({"name": "homepage", "lo": 0.5, "hi": 1.0});
    gw.running_experiment(&right);
    gw.wait_for_running(3);

    let ask = |user: &str, context: Value| {
        let (status, answer) = gw.post("/api/v1/assign", Some(&gw.sdk), &json!({"user_id": user, "context": context}));
        assert_eq!(status, 200, "{answer}");
        assigned(&answer)
    };
    for i in 0..200 {
        let user = format!("u{i}");
        let us = ask(&user, json!({"country": "US"}));
        assert!(us.contains_key("us_only"));
        assert!(us.contains_key("left") != us.contains_key("right"), "layers are exclusive: {us:?}");
        assert!(!ask(&user, json!({"country": "DE"})).contains_key("us_only"));
        assert!(!ask(&user, json!({})).contains_key("us_only"));
    }
    // Asking for specific experiments: unknown or not running ones are simply absent.
    let (_, answer) = gw.post("/api/v1/assign", Some(&gw.sdk), &json!({"user_id": "u1", "experiments": ["us_only", "nope"], "context": {"country": "CA"}}));
    assert_eq!(assigned(&answer).keys().collect::<Vec<_>>(), vec!["us_only"]);
    assert!(answer["assignments"][0]["config"].is_object());
}

#[test]
fn a_unit_keeps_its_variant_when_weights_change() {
    let db = Database::fresh("sticky");
    let gw = Gateway::start(&db, &[]);
    gw.running_experiment(&three_arms("ramp", 1.0));
    let users: Vec<String> = (0..2000).map(|i| format!("early-{i}")).collect();
    let before: HashMap<String, String> = users
        .iter()
        .map(|u| (u.clone(), assigned(&gw.post("/api/v1/assign", Some(&gw.sdk), &json!({"user_id": u})).1).remove("ramp").unwrap()))
        .collect();
    // Let the exposures reach the table, then ramp everyone towards `c`.
    let mut client = db.connect();
    gw.wait_until(Duration::from_secs(10), |_| {
        client.query_one("SELECT count(*) FROM ab.exposures", &[]).unwrap().get::<_, i64>(0) == 2000
    });
    let mut variants = three_arms("ramp", 1.0)["variants"].clone();
    for (i, w) in [0.1, 0.1, 0.8].iter().enumerate() {
        variants[i]["weight"] = json!(w);
    }
    let (status, body) = gw.patch("/api/v1/experiments/ramp", Some(&gw.admin), &json!({"variants": variants}));
    assert_eq!(status, 200, "{body}");
    // New units follow the new weights once the change reaches the gateway...
    gw.wait_until(Duration::from_secs(10), |g| {
        let in_c = (0..300)
            .filter(|i| assigned(&g.post("/api/v1/assign", Some(&g.sdk), &json!({"user_id": format!("late-{i}")})).1)["ramp"] == "c")
            .count();
        in_c > 200
    });
    // ...and earlier units keep theirs, whether this process remembers them or the table does.
    for (user, variant) in &before {
        let (_, answer) = gw.post("/api/v1/assign", Some(&gw.sdk), &json!({"user_id": user}));
        assert_eq!(&assigned(&answer)["ramp"], variant, "{user} moved");
    }
    drop(gw);
    let restarted = Gateway::start(&db, &[]);
    restarted.wait_for_running(1);
    for (user, variant) in before.iter().take(300) {
        let (_, answer) = restarted.post("/api/v1/assign", Some(&restarted.sdk), &json!({"user_id": user}));
        assert_eq!(&assigned(&answer)["ramp"], variant, "{user} moved after a restart");
    }
}

#[test]
fn a_config_change_in_postgres_reaches_a_running_gateway() {
    let db = Database::fresh("notify");
    let gw = Gateway::start(&db, &[]);
    let (status, _) = gw.post("/api/v1/experiments", Some(&gw.admin), &three_arms("flag", 1.0));
    assert_eq!(status, 201);
    let ask = || assigned(&gw.post("/api/v1/assign", Some(&gw.sdk), &json!({"user_id": "someone"})).1);
    assert!(ask().is_empty(), "a draft assigns nobody");
    // Changed behind the gateway's back, in SQL: the trigger's NOTIFY tells it.
    db.connect().batch_execute("UPDATE ab.experiments SET status = 'running' WHERE id = 'flag'").unwrap();
    gw.wait_until(Duration::from_secs(5), |_| ask().contains_key("flag"));
    db.connect().batch_execute("UPDATE ab.experiments SET status = 'paused' WHERE id = 'flag'").unwrap();
    gw.wait_until(Duration::from_secs(5), |_| ask().is_empty());
}

#[test]
fn bad_assign_requests_are_4xx_json() {
    let db = Database::fresh("assign_bad_input");
    let gw = Gateway::start(&db, &[]);
    let long_user = "x".repeat(300);
    for (body, status, code) in [
        (json!({}), 422, "invalid_argument"),
        (json!({"user_id": ""}), 422, "invalid_argument"),
        (json!({"user_id": long_user}), 422, "invalid_argument"),
        // A NUL unit would be an exposure Postgres refuses, stopping the spool's flusher.
        (json!({"user_id": "a\u{0}b"}), 422, "invalid_argument"),
        (json!({"user_id": 12}), 422, "invalid_argument"),
        (json!({"user_id": "u", "experiments": "all"}), 422, "invalid_argument"),
        (json!({"user_id": "u", "context": [1]}), 422, "invalid_argument"),
        (json!({"user_id": "u", "extra": 1}), 422, "invalid_argument"),
    ] {
        let (got, answer) = gw.post("/api/v1/assign", Some(&gw.sdk), &body);
        assert_eq!((got, error_code(&answer)), (status, code), "{body}: {answer}");
    }
    let (status, answer) = gw.post("/api/v1/assign", None, &json!({"user_id": "u"}));
    assert_eq!((status, error_code(&answer)), (401, "unauthorized"));
    let (status, answer) = gw.post("/api/v1/assign", Some("wrong"), &json!({"user_id": "u"}));
    assert_eq!((status, error_code(&answer)), (401, "unauthorized"));
    let (status, answer) = gw.get("/api/v1/assign", Some(&gw.sdk));
    assert_eq!((status, error_code(&answer)), (405, "method_not_allowed"));
}

#[test]
fn sdk_keys_can_be_turned_off_for_trusted_networks() {
    let db = Database::fresh("no_sdk_auth");
    let gw = Gateway::start(&db, &["--sdk-auth", "false"]);
    let (status, _) = gw.post("/api/v1/assign", None, &json!({"user_id": "u"}));
    assert_eq!(status, 200);
    // Management still needs the admin token.
    let (status, _) = gw.get("/api/v1/experiments", None);
    assert_eq!(status, 401);
}
