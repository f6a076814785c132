//! `/api/v1/events` against the real gateway and Postgres: acknowledged events are in the
//! table, retries and duplicates are stored once, bad input is 4xx JSON, the body size and
//! per-user rate limits hold, and the daily partitions are maintained.

mod support;

use chrono::{Duration as Days, SecondsFormat, Utc};
use serde_json::{json, Value};
use std::io::{Read, Write};
use support::{deadlocks, error_code, Database, Gateway};

fn stamp(offset: Days) -> String {
    (Utc::now() + offset).to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn count(db: &Database, filter: &str) -> i64 {
    db.connect().query_one(&format!("SELECT count(*) FROM ab.events WHERE {filter}"), &[]).unwrap().get(0)
}

#[test]
fn an_acknowledged_event_is_in_the_table_and_retries_are_stored_once() {
    let db = Database::fresh("events_ack");
    let gw = Gateway::start(&db, &[]);
    let sdk = Some(gw.sdk.as_str());
    let now = stamp(Days::zero());
    let one = json!({"user_id": "u1", "event_type": "purchase", "timestamp": now, "metrics": {"revenue": 12.5}, "properties": {"sku": "a"}});
    let (status, body) = gw.post("/api/v1/events", sdk, &one);
    assert_eq!((status, &body), (202, &json!({"accepted": 1})));
    // 202 means committed: a new connection sees it at once.
    let row = db.connect()
        .query_one("SELECT user_id, event_type, (metrics->>'revenue')::float8, properties->>'sku', event_time = $1::text::timestamptz FROM ab.events", &[&now])
        .unwrap();
    assert_eq!((row.get::<_, &str>(0), row.get::<_, &str>(1), row.get::<_, f64>(2), row.get::<_, &str>(3), row.get::<_, bool>(4)), ("u1", "purchase", 12.5, "a", true));

    // The same request retried, and the same event inside a batch: stored once.
    assert_eq!(gw.post("/api/v1/events", sdk, &one).0, 202);
    let with_id = |id: &str, user: &str| json!({"event_id": id, "user_id": user, "event_type": "view", "timestamp": now});
    let batch = json!({"events": [one, with_id("e-1", "u2"), with_id("e-1", "u2"), with_id("e-2", "u2")]});
    let (status, body) = gw.post("/api/v1/events", sdk, &batch);
    assert_eq!((status, body["accepted"].as_i64()), (202, Some(4)));
    assert_eq!(gw.post("/api/v1/events", sdk, &json!([with_id("e-2", "u2")])).0, 202, "a bare array is a batch too");
    assert_eq!(count(&db, "true"), 3);
    assert_eq!(count(&db, "event_id = 'e-1'"), 1);

    // Same user, type and time without an event id is the same event; another time is not.
    let later = json!({"user_id": "u1", "event_type": "purchase", "timestamp": stamp(Days::seconds(1))});
    assert_eq!(gw.post("/api/v1/events", sdk, &later).0, 202);
    assert_eq!(count(&db, "user_id = 'u1'"), 2);

    let metrics = gw.metrics();
    assert!(metrics.contains("ab_events_committed_total 8"), "{metrics}");
    assert!(metrics.contains("ab_http_requests_total{method=\"POST\",route=\"/api/v1/events\",status=\"202\"} 5"), "{metrics}");
    assert!(metrics.contains("ab_http_request_duration_seconds_bucket{method=\"POST\",route=\"/api/v1/events\",status=\"202\",le=\"2.5\"} 5"));
}

#[test]
fn concurrent_requests_share_commits_and_lose_nothing() {
    let db = Database::fresh("events_concurrent");
    let gw = Gateway::start(&db, &[]);
    let now = stamp(Days::zero());
    std::thread::scope(|scope| {
        for t in 0..8 {
            let (gw, now) = (&gw, &now);
            scope.spawn(move || {
                for r in 0..25 {
                    let events: Vec<Value> = (0..40)
                        .map(|i| json!({"event_id": format!("{t}-{r}-{i}"), "user_id": format!("user-{t}-{i}"), "event_type": "view", "timestamp": now, "metrics": {"n": i}}))
                        .collect();
                    let (status, body) = gw.post("/api/v1/events", Some(&gw.sdk), &json!({"events": events}));
                    assert_eq!(status, 202, "{body}");
                }
            });
        }
    });
    assert_eq!(count(&db, "true"), 8 * 25 * 40);
}

#[test]
fn bad_events_are_422_and_nothing_of_the_request_is_stored() {
    let db = Database::fresh("events_bad");
    let gw = Gateway::start(&db, &["--max-body-bytes", "200000"]);
    let sdk = Some(gw.sdk.as_str());
    let now = stamp(Days::zero());
    let good = json!({"user_id": "u", "event_type": "view", "timestamp": now});
    let with = |field: &str, value: Value| {
        let mut event = good.clone();
        event[field] = value;
        event
    };
    let too_many: Vec<Value> = (0..1001).map(|i| with("event_id", json!(format!("e{i}")))).collect();
    let cases = [
        (with("timestamp", json!("yesterday")), "timestamp"),
        (with("timestamp", json!("2026-11-25 10:00:00")), "timestamp"),
        (with("timestamp", json!(stamp(Days::days(3)))), "future"),
        (with("timestamp", json!(stamp(Days::days(-91)))), "retention"),
        (with("user_id", json!("")), "user_id"),
        (with("user_id", json!(5)), "user_id"),
        // Postgres cannot store NUL: refused up front, not a 503 from the insert.
        (with("user_id", json!("a\u{0}b")), "user_id"),
        (with("event_id", json!("\u{0}")), "event_id"),
        (with("properties", json!({"page": {"path": "/\u{0}"}})), "properties"),
        (with("event_type", json!("has space")), "event_type"),
        (with("metrics", json!({"revenue": "12"})), "metrics.revenue"),
        (with("metrics", json!([1])), "metrics"),
        (with("properties", json!("x")), "properties"),
        (with("colour", json!("red")), "unknown field 'colour'"),
        (json!({"events": []}), "must not be empty"),
        (json!({"events": too_many}), "at most 1000"),
        (json!({"events": [good, with("timestamp", json!("x"))]}), "events[1].timestamp"),
        (json!("event"), "body"),
    ];
    for (body, expected) in cases {
        let (status, answer) = gw.post("/api/v1/events", sdk, &body);
        assert_eq!((status, error_code(&answer)), (422, "invalid_argument"), "{answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(expected), "{message} should mention {expected}");
    }
    assert_eq!(count(&db, "true"), 0, "a batch with one bad event stores nothing");

    // Too large by its Content-Length: refused before the body is read. (Sent from a raw socket
    // with no body: a client still writing a body the server will not read can see the
    // connection reset instead of the answer.)
    let mut socket = std::net::TcpStream::connect(gw.base.trim_start_matches("http://")).unwrap();
    socket.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    write!(socket, "POST /api/v1/events HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer {}\r\n\
                    Content-Type: application/json\r\nContent-Length: 300000\r\nConnection: close\r\n\r\n", gw.sdk).unwrap();
    let mut answer = String::new();
    socket.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains(r#"{"error":{"code":"payload_too_large","message":"the body has 300000 bytes, at most 200000 are accepted"}}"#), "{answer}");
    let (status, answer) = gw.post("/api/v1/events", None, &good);
    assert_eq!((status, error_code(&answer)), (401, "unauthorized"));
    // Without a length (chunked), the body is cut at the limit while it is read. Its own
    // client: the server drops that connection, which a pooled client would try to reuse.
    let big: String = format!("[{}]", vec![r#"{"user_id":"u","event_type":"view","timestamp":"x"}"#; 5000].join(","));
    let response = reqwest::blocking::Client::new().post(gw.url("/api/v1/events")).bearer_auth(&gw.sdk)
        .header("content-type", "application/json")
        .body(reqwest::blocking::Body::new(std::io::Cursor::new(big.into_bytes()))).send();
    if let Ok(response) = response {
        assert_eq!(response.status(), 413);
    }
}

#[test]
fn a_user_over_the_rate_limit_gets_429() {
    let db = Database::fresh("events_rate");
    let gw = Gateway::start(&db, &["--user-events-per-second", "0.001", "--user-events-burst", "5"]);
    let event = |i: i64| json!({"user_id": "busy", "event_type": "view", "timestamp": stamp(Days::milliseconds(-i))});
    let batch: Vec<Value> = (0..5).map(event).collect();
    assert_eq!(gw.post("/api/v1/events", Some(&gw.sdk), &json!(batch)).0, 202);
    let (status, answer) = gw.post("/api/v1/events", Some(&gw.sdk), &event(100));
    assert_eq!((status, error_code(&answer)), (429, "rate_limited"));
    let other = json!({"user_id": "calm", "event_type": "view", "timestamp": stamp(Days::zero())});
    assert_eq!(gw.post("/api/v1/events", Some(&gw.sdk), &other).0, 202, "other users are not limited");
    assert_eq!(count(&db, "true"), 6);
}

/// One clock for a partition test (issue 25): Postgres' now() once, the UTC date the test
/// expects from it, and a database whose partitions are those of that clock, so that midnight
/// between the migration and the checks changes nothing. Every maintenance call and insert
/// of the test then uses `as_of` (bound as `$1::text::timestamptz`).
fn pinned_clock(db: &Database) -> (String, chrono::NaiveDate) {
    let mut client = db.connect();
    let as_of: String = client.query_one("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')", &[]).unwrap().get(0);
    let today = chrono::DateTime::parse_from_rfc3339(&as_of).unwrap().date_naive();
    let daily: Vec<String> = client
        .query("SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'ab.events'::regclass AND inhrelid::regclass::text <> 'ab.events_default'", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    for part in daily {
        client.batch_execute(&format!("DROP TABLE {part}")).unwrap();
    }
    client.query("SELECT * FROM ab.maintain_event_partitions(7, 90, $1::text::timestamptz)", &[&as_of]).unwrap();
    (as_of, today)
}

#[test]
fn partitions_are_created_ahead_filled_from_default_and_dropped_after_retention() {
    let db = Database::fresh("partitions");
    let (as_of, today) = pinned_clock(&db);
    let mut client = db.connect();
    let partitions = |client: &mut postgres::Client| -> Vec<String> {
        client
            .query("SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'ab.events'::regclass ORDER BY 1", &[])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    };
    let name = |days: i64| format!("events_p{}", (today + Days::days(days)).format("%Y%m%d"));
    let created = partitions(&mut client);
    for day in -1..=7 {
        assert!(created.contains(&name(day)), "{} missing from {created:?}", name(day));
    }
    assert!(created.contains(&"events_default".to_owned()));

    // Rows for days without a partition wait in the default partition (no insert fails)...
    let insert = |client: &mut postgres::Client, offset: &str, key: &str| {
        client
            .execute(
                "INSERT INTO ab.events (event_time, user_id, event_type, dedup_key) VALUES ($1::text::timestamptz + $2::text::interval, 'u', 'view', $3)",
                &[&as_of, &offset, &key],
            )
            .unwrap();
    };
    insert(&mut client, "9 days", "ahead");
    insert(&mut client, "-100 days", "old");
    client.batch_execute(&format!("DROP TABLE ab.{}", name(-1))).unwrap();
    insert(&mut client, "-1 day", "yesterday");
    let in_default: i64 = client.query_one("SELECT count(*) FROM ab.events_default", &[]).unwrap().get(0);
    assert_eq!(in_default, 3);
    // ...and move into their partition when it is created; old ones go with the retention.
    let maintain = |client: &mut postgres::Client, days_ahead: i32, retention_days: i32| -> Vec<(String, String)> {
        client
            .query("SELECT action, partition_name FROM ab.maintain_event_partitions($1, $2, $3::text::timestamptz)", &[&days_ahead, &retention_days, &as_of])
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect()
    };
    let actions = maintain(&mut client, 10, 90);
    assert!(actions.contains(&("created with rows from default".to_owned(), name(-1))), "{actions:?}");
    assert!(actions.contains(&("created with rows from default".to_owned(), name(9))), "{actions:?}");
    let remaining: Vec<String> = client.query("SELECT dedup_key FROM ab.events_default", &[]).unwrap().iter().map(|r| r.get(0)).collect();
    assert!(remaining.is_empty(), "default keeps {remaining:?}");
    let where_is = |client: &mut postgres::Client, key: &str| -> String {
        client.query_one("SELECT tableoid::regclass::text FROM ab.events WHERE dedup_key = $1", &[&key]).unwrap().get(0)
    };
    assert_eq!(where_is(&mut client, "yesterday"), format!("ab.{}", name(-1)));
    assert_eq!(where_is(&mut client, "ahead"), format!("ab.{}", name(9)));

    // With a 1-day retention, the partition of yesterday is kept and older ones dropped.
    client.batch_execute(&format!("CREATE TABLE ab.{} PARTITION OF ab.events FOR VALUES FROM ('{}T00:00:00Z') TO ('{}T00:00:00Z')",
        name(-5), today - Days::days(5), today - Days::days(4))).unwrap();
    let dropped: Vec<String> = maintain(&mut client, 7, 1).into_iter().filter(|(action, _)| action == "dropped").map(|(_, part)| part).collect();
    assert_eq!(dropped, vec![name(-5)]);
    let (code, _) = match client.batch_execute("SELECT ab.maintain_event_partitions(7, 0)") {
        Err(e) => (e.code().unwrap().code().to_owned(), ()),
        Ok(()) => panic!("retention 0 must be refused"),
    };
    assert_eq!(code, "22023");
}

#[test]
fn racing_retries_of_the_same_new_events_are_stored_once_without_deadlock() {
    let db = Database::fresh("events_racing");
    let before = deadlocks(&db);
    // Two writers, so two batches of overlapping keys are inserted at the same time.
    let mut gw = Gateway::start(&db, &["--event-writers", "2", "--user-events-per-second", "0"]);
    let now = stamp(Days::zero());
    const CLIENTS: usize = 8;
    const ROUNDS: usize = 100;
    const EVENTS: usize = 200;
    // Each round, every client sends the same new events at once, in its own order (half
    // of them reversed, each from another starting point): SDKs retrying in-flight
    // requests and pipelines replaying. Without one lock order, the writers deadlock.
    let start = std::sync::Barrier::new(CLIENTS);
    let refused = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for client in 0..CLIENTS {
            let (gw, now, start, refused) = (&gw, &now, &start, &refused);
            scope.spawn(move || {
                for round in 0..ROUNDS {
                    let mut events: Vec<Value> = (0..EVENTS)
                        .map(|i| json!({"event_id": format!("r{round}-e{i}"), "user_id": format!("user-{}", i % 97), "event_type": "view", "timestamp": now}))
                        .collect();
                    events.rotate_left(client * EVENTS / CLIENTS);
                    if client % 2 == 1 {
                        events.reverse();
                    }
                    start.wait();
                    let (status, body) = gw.post("/api/v1/events", Some(&gw.sdk), &json!({"events": events}));
                    if status != 202 {
                        refused.lock().unwrap().push(format!("{status} {body}"));
                    }
                }
            });
        }
    });
    assert_eq!(refused.into_inner().unwrap(), Vec::<String>::new(), "every request is acknowledged");
    let mut client = db.connect();
    let stored: (i64, i64) = client
        .query_one("SELECT count(*), count(DISTINCT event_id) FROM ab.events", &[])
        .map(|row| (row.get(0), row.get(1)))
        .unwrap();
    assert_eq!(stored, ((ROUNDS * EVENTS) as i64, (ROUNDS * EVENTS) as i64), "each event stored exactly once");
    assert!(gw.terminate().success());
    assert_eq!(deadlocks(&db) - before, 0, "Postgres detected deadlocks between the event writers");
}

#[test]
fn concurrent_partition_maintenance_runs_one_after_the_other() {
    let db = Database::fresh("partitions_concurrent");
    let (as_of, _) = pinned_clock(&db);
    db.connect()
        .execute(
            "INSERT INTO ab.events (event_time, user_id, event_type, dedup_key)
             SELECT $1::text::timestamptz + interval '12 days', 'u', 'view', 'ahead-' || i FROM generate_series(1, 1000) i",
            &[&as_of],
        )
        .unwrap();
    // Four gateways' maintenance tasks creating the same partition at once: before the
    // lock, all but one failed with "relation already exists".
    let created: Vec<i64> = std::thread::scope(|scope| {
        let runs: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    db.connect()
                        .query_one("SELECT count(*) FROM ab.maintain_event_partitions(14, 90, $1::text::timestamptz) WHERE action LIKE 'created%'", &[&as_of])
                        .map(|row| row.get::<_, i64>(0))
                        .unwrap_or_else(|e| panic!("concurrent maintenance failed: {e}"))
                })
            })
            .collect();
        runs.into_iter().map(|run| run.join().unwrap()).collect()
    });
    assert_eq!(created.iter().sum::<i64>(), 7, "days 8 to 14 are created once in all: {created:?}");
    assert_eq!(count(&db, "dedup_key LIKE 'ahead-%'"), 1000);
    let waiting: i64 = db.connect().query_one("SELECT count(*) FROM ab.events_default", &[]).unwrap().get(0);
    assert_eq!(waiting, 0);
}
