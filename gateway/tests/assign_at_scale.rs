//! All-eligible `/assign` at 2000 running experiments equals SQL: the eligibility index
//! prunes only experiments that do not apply. In a file of its own, so its load does not
//! run beside the timing-sensitive stickiness test in tests/assign.rs.

mod support;

use serde_json::json;
use std::collections::HashMap;
use support::{assigned, Database, Gateway};

#[test]
fn all_eligible_assignment_at_2000_experiments_equals_sql() {
    const EXPERIMENTS: usize = 2000;
    const SEGMENTS: usize = 100;
    const USERS: usize = 3000;
    let db = Database::fresh("same_answer_at_scale");
    let gw = Gateway::start(&db, &[]);
    // Inserted in SQL for speed (the API validates the same configurations): each targets one
    // segment; every third also owns a fifth of one of three layers; every tenth has no
    // targeting; traffic 80%.
    db.connect()
        .batch_execute(&format!(
            "INSERT INTO ab.experiments (id, status, salt, config)
             SELECT 'x' || i, 'running', 's' || i, jsonb_build_object(
                 'id', 'x' || i, 'salt', 's' || i, 'traffic_fraction', 0.8,
                 'variants', jsonb_build_array(
                     jsonb_build_object('id', 'control', 'weight', 0.5, 'is_control', true, 'config', '{{}}'::jsonb),
                     jsonb_build_object('id', 't', 'weight', 0.5, 'is_control', false, 'config', '{{}}'::jsonb)),
                 'targeting', CASE WHEN i % 10 = 0 THEN '[]'::jsonb
                                   ELSE jsonb_build_array(jsonb_build_object('attribute', 'segment', 'in', jsonb_build_array('seg-' || i % {SEGMENTS}))) END)
               || CASE WHEN i % 3 = 0 THEN jsonb_build_object('layer', jsonb_build_object('name', 'layer-' || i % 9 / 3, 'lo', (i % 5) * 0.2, 'hi', (i % 5) * 0.2 + 0.2))
                       ELSE '{{}}'::jsonb END
             FROM generate_series(1, {EXPERIMENTS}) i"
        ))
        .unwrap();
    gw.wait_for_running(EXPERIMENTS);

    let answers: Vec<(String, String, HashMap<String, String>)> = (0..USERS)
        .map(|i| {
            let (user, segment) = (format!("user-{i}"), format!("seg-{}", i % SEGMENTS));
            let (status, answer) = gw.post("/api/v1/assign", Some(&gw.sdk), &json!({"user_id": user, "context": {"segment": segment}}));
            assert_eq!(status, 200, "{answer}");
            (user, segment, assigned(&answer))
        })
        .collect();
    let (users, segments): (Vec<&str>, Vec<&str>) = answers.iter().map(|(u, s, _)| (u.as_str(), s.as_str())).unzip();
    let rows = db
        .connect()
        .query(
            "SELECT u.unit, e.id, ab_assign(u.unit, e.salt, ARRAY['control', 't'], ARRAY[0.5, 0.5])
             FROM unnest($1::text[], $2::text[]) AS u(unit, segment)
             JOIN ab.experiments e ON e.status = 'running'
             WHERE (jsonb_array_length(e.config->'targeting') = 0 OR e.config->'targeting'->0->'in' @> to_jsonb(u.segment))
               AND (e.config->'layer' IS NULL OR ab_in_layer(u.unit, e.config->'layer'->>'name',
                        (e.config->'layer'->>'lo')::float8, (e.config->'layer'->>'hi')::float8))
               AND ab_in_sample(u.unit, e.salt, 0.8)",
            &[&users, &segments],
        )
        .unwrap();
    let mut sql: HashMap<String, HashMap<String, String>> = HashMap::new();
    for row in rows {
        sql.entry(row.get(0)).or_default().insert(row.get(1), row.get(2));
    }
    let mut total = 0;
    for (user, _, http) in &answers {
        assert_eq!(http, &sql.remove(user).unwrap_or_default(), "{user}: HTTP and SQL disagree");
        total += http.len();
    }
    // About 20 targeted + 200 untargeted experiments apply, two thirds of those layered ones
    // in a fifth of their layer, 80% traffic.
    assert!(total > USERS * 50, "{total} assignments for {USERS} users");
}
