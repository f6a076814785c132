//! For DBAs (issue 15): the maintenance inside Postgres with the Debian packages DBAs run.
//! pg_cron, preloaded in a cluster of the test's own, refreshes the results and creates the
//! partitions with no gateway running, and a gateway skips the work pg_cron does; pg_partman
//! takes over ab.events' daily partitions and retention; without either extension the
//! functions say how to install them and the gateway does the maintenance as before.

mod support;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use support::{Database, Gateway, OwnCluster};

const CRON_DIR: &str = "/tmp/pg_ab_cron";
const CRON_PORT: &str = "54349";

/// The private cluster with pg_cron preloaded (for database `gw_cron`, jobs in background
/// workers), and `gw_cron` migrated with pg_cron created in it.
fn cron_cluster() -> (OwnCluster, Database) {
    let cluster = OwnCluster::start_in(CRON_DIR, CRON_PORT);
    let server = format!("host=127.0.0.1 port={CRON_PORT} user=postgres");
    let conf = format!("{CRON_DIR}/data/postgresql.conf");
    let settings = std::fs::read_to_string(&conf).unwrap();
    if !settings.contains("pg_cron") {
        // pg_cron's settings exist only once it is loaded, so they go into the file.
        let lines = "shared_preload_libraries = 'pg_cron'\ncron.database_name = 'gw_cron'\ncron.use_background_workers = on\n";
        std::fs::write(&conf, settings + lines).unwrap();
        OwnCluster::run_in(CRON_DIR, CRON_PORT, "stop");
        OwnCluster::run_in(CRON_DIR, CRON_PORT, "start");
    }
    let db = Database::fresh_on(&server, "cron");
    db.connect().batch_execute("CREATE EXTENSION pg_cron").unwrap();
    // Recreating the database stopped pg_cron's scheduler (for good: it exited cleanly).
    OwnCluster::run_in(CRON_DIR, CRON_PORT, "stop");
    OwnCluster::run_in(CRON_DIR, CRON_PORT, "start");
    (cluster, db)
}

fn scalar<T: for<'a> postgres::types::FromSql<'a>>(db: &Database, sql: &str) -> T {
    db.connect().query_one(sql, &[]).unwrap().get(0)
}

/// Units counted in the results snapshot (ab.srm), i.e. as of the last refresh.
fn refreshed_units(db: &Database) -> i64 {
    scalar(db, "SELECT coalesce(sum(x), 0)::int8 FROM ab.srm, unnest(observed) x")
}

fn wait_for(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn assign(gw: &Gateway, users: std::ops::Range<usize>) {
    for i in users {
        let (status, body) = gw.post("/api/v1/assign", Some(&gw.sdk), &json!({"user_id": format!("u{i}")}));
        assert_eq!(status, 200, "{body}");
    }
}

/// The name of the partition `days` days from today (UTC), as ab.maintain_event_partitions names it.
fn partition_in(db: &Database, days: i32) -> String {
    db.connect()
        .query_one("SELECT 'events_p' || to_char((now() AT TIME ZONE 'UTC')::date + $1::int4, 'YYYYMMDD')", &[&days])
        .unwrap()
        .get(0)
}

fn partition_exists(db: &Database, name: &str) -> bool {
    scalar::<Option<String>>(db, &format!("SELECT to_regclass('ab.{name}')::text")).is_some()
}

#[test]
fn pg_cron_refreshes_results_without_a_gateway_and_the_gateway_skips_what_cron_does() {
    let (_cluster, db) = cron_cluster();
    let gw = Gateway::start(&db, &["--results-refresh-secs", "1", "--maintenance-interval-secs", "1"]);
    gw.running_experiment(&json!({
        "id": "cron-refresh",
        "variants": [{"id": "control", "weight": 0.5, "is_control": true}, {"id": "treatment", "weight": 0.5}],
        "metrics": [{"id": "purchase", "kind": "conversion", "event_type": "purchase"}]
    }));
    assign(&gw, 0..50);
    wait_for(Duration::from_secs(30), "the gateway's own refresh", || refreshed_units(&db) == 50);

    // Jobs registered (on a schedule that never fires: February 31st): the gateway stops
    // refreshing, so new exposures stay out of the snapshot.
    let jobs = db.rows("SELECT * FROM ab.schedule_maintenance('0 0 31 2 *', '0 0 31 2 *')");
    assert_eq!(jobs.len(), 2, "{jobs:?}");
    assert!(scalar::<bool>(&db, "SELECT ab.maintenance_job_scheduled('ab_refresh_results')"));
    std::thread::sleep(Duration::from_secs(3));
    assign(&gw, 50..80);
    wait_for(Duration::from_secs(30), "exposures stored", || scalar::<i64>(&db, "SELECT count(*) FROM ab.exposures") == 80);
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(refreshed_units(&db), 50, "the gateway refreshed although pg_cron runs the refresh");
    assert!(!gw.log().contains("failed"), "{}", gw.log());
    drop(gw);

    // No gateway: pg_cron refreshes the results and recreates a missing partition.
    let last_partition = partition_in(&db, 7);
    db.connect().batch_execute(&format!("DROP TABLE ab.{last_partition}")).unwrap();
    let jobs = db.rows("SELECT * FROM ab.schedule_maintenance('* * * * *', '* * * * *')");
    assert_eq!(
        jobs.iter().map(|j| j["command"].as_str().unwrap()).collect::<Vec<_>>(),
        ["SELECT ab.maintain_event_partitions(7, 90)", "SELECT ab.refresh_results('00:00:05')"]
    );
    wait_for(Duration::from_secs(150), "pg_cron's refresh and partitions", || {
        refreshed_units(&db) == 80 && partition_exists(&db, &last_partition)
    });
    let runs = db.rows(
        "SELECT j.jobname, count(*) FILTER (WHERE d.status = 'succeeded') AS succeeded, count(*) FILTER (WHERE d.status = 'failed') AS failed
         FROM cron.job j JOIN cron.job_run_details d USING (jobid) GROUP BY 1 ORDER BY 1",
    );
    assert_eq!(runs.len(), 2, "{runs:?}");
    for run in &runs {
        assert!(run["succeeded"].as_i64().unwrap() >= 1 && run["failed"] == 0, "{run}");
    }
    assert_eq!(scalar::<i32>(&db, "SELECT ab.unschedule_maintenance()"), 2);
    assert!(!scalar::<bool>(&db, "SELECT ab.maintenance_job_scheduled('ab_refresh_results')"));
}

#[test]
fn pg_partman_takes_over_the_daily_partitions_and_the_retention() {
    let db = Database::fresh("partman");
    let mut client = db.connect();
    // One transaction, so one clock (partman reads the transaction's): the migration's
    // partitions are replaced by those of this clock; an old partition (10 days, past the
    // 5-day retention below), and rows in the partition of today and waiting in the DEFAULT
    // partition; then partman takes over. The expected days come from the same clock, so the
    // test holds across midnight too.
    let mut transaction = client.transaction().unwrap();
    transaction
        .batch_execute(
            "DO $$
             DECLARE
                 part text;
                 old date := (now() AT TIME ZONE 'UTC')::date - 10;
             BEGIN
                 FOR part IN SELECT inhrelid::regclass::text FROM pg_inherits
                             WHERE inhparent = 'ab.events'::regclass AND inhrelid::regclass::text <> 'ab.events_default' LOOP
                     EXECUTE 'DROP TABLE ' || part;
                 END LOOP;
                 PERFORM ab.maintain_event_partitions(7, 90, now());
                 EXECUTE format('CREATE TABLE ab.%I PARTITION OF ab.events FOR VALUES FROM (%L) TO (%L)', 'events_p' || to_char(old, 'YYYYMMDD'),
                                old::timestamp AT TIME ZONE 'UTC', (old + 1)::timestamp AT TIME ZONE 'UTC');
             END $$;
             CREATE SCHEMA partman;
             CREATE EXTENSION pg_partman SCHEMA partman;
             INSERT INTO ab.events (event_time, user_id, event_type, dedup_key) VALUES
                 (now() - interval '10 days', 'u1', 'view', 'old'),
                 (now() - interval '3 days', 'u1', 'view', 'waiting'),
                 (now(), 'u1', 'view', 'today');",
        )
        .unwrap();
    transaction.query("SELECT * FROM ab.use_partman(7, 5)", &[]).unwrap();
    let as_of: String = transaction.query_one("SELECT now()::text", &[]).unwrap().get(0);
    transaction.commit().unwrap();

    let config = &db.rows("SELECT premake, retention, infinite_time_partitions, automatic_maintenance FROM partman.part_config WHERE parent_table = 'ab.events'")[0];
    assert_eq!(config, &json!({"premake": 7, "retention": "5 days", "infinite_time_partitions": true, "automatic_maintenance": "off"}));
    let expected: Vec<Value> = partman_names(utc_day(&as_of), -1..=7).into_iter().map(Value::from).collect();
    let partitions = || daily_partitions(&db).into_iter().map(Value::from).collect::<Vec<_>>();
    assert_eq!(partitions(), expected, "daily UTC partitions from yesterday to a week ahead; the old one dropped");
    let rows = db.rows("SELECT dedup_key, tableoid::regclass::text AS part FROM ab.events ORDER BY 1");
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0], json!({"dedup_key": "today", "part": expected[1]}));
    assert_eq!(rows[1], json!({"dedup_key": "waiting", "part": "ab.events_default"}));

    // The gateway's and cron's call now creates partman's partitions.
    let last = expected.last().unwrap().as_str().unwrap().to_owned();
    client.batch_execute(&format!("DROP TABLE {last}")).unwrap();
    let done = client
        .query("SELECT action, partition_name FROM ab.maintain_event_partitions(as_of => $1::text::timestamptz)", &[&as_of])
        .unwrap();
    let done: Vec<(String, String)> = done.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(done, [("created by pg_partman".to_owned(), last)]);
    assert_eq!(partitions(), expected);
    client
        .execute("INSERT INTO ab.events (event_time, user_id, event_type, dedup_key) VALUES (now() + interval '6 days', 'u2', 'view', 'ahead')", &[])
        .unwrap();
}

/// The UTC date of a timestamptz as Postgres prints it.
fn utc_day(timestamp: &str) -> NaiveDate {
    DateTime::parse_from_str(&format!("{timestamp}00"), "%Y-%m-%d %H:%M:%S%.f%z")
        .or_else(|_| DateTime::parse_from_str(timestamp, "%Y-%m-%d %H:%M:%S%.f%:z"))
        .unwrap_or_else(|e| panic!("{timestamp}: {e}"))
        .with_timezone(&Utc)
        .date_naive()
}

fn partman_names(today: NaiveDate, days: std::ops::RangeInclusive<i64>) -> Vec<String> {
    days.map(|d| format!("ab.events_p{}", (today + TimeDelta::days(d)).format("%Y_%m_%d"))).collect()
}

fn gateway_names(today: NaiveDate, days: std::ops::RangeInclusive<i64>) -> Vec<String> {
    days.map(|d| format!("ab.events_p{}", (today + TimeDelta::days(d)).format("%Y%m%d"))).collect()
}

/// ab.events' daily partitions (all but the DEFAULT one), by name.
fn daily_partitions(db: &Database) -> Vec<String> {
    db.connect()
        .query(
            "SELECT inhrelid::regclass::text FROM pg_inherits
             WHERE inhparent = 'ab.events'::regclass AND inhrelid::regclass::text <> 'ab.events_default' ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// The partition rule at injected clocks (issue 25): whatever the hour, the month's end or the
/// session's TimeZone, partitions cover the UTC days from the day before the clock's UTC date
/// to 7 days after it, those before the date minus the 5-day retention are dropped, and each
/// partition holds exactly its UTC day; the gateway's own maintenance and pg_partman's agree.
#[test]
fn partitions_follow_the_utc_day_of_the_clock_at_any_hour_and_in_any_time_zone() {
    let clocks = [
        "2026-12-02T00:00:00Z",
        "2026-12-02T12:00:00Z",
        "2026-12-02T21:23:00Z",
        "2026-12-02T23:59:59Z",
        "2026-12-31T23:59:59Z",
        "2027-02-28T12:00:00Z",
    ];
    let native = Database::fresh("partitions_clock");
    let partman = Database::fresh("partitions_clock_partman");
    partman
        .connect()
        .batch_execute("CREATE SCHEMA partman; CREATE EXTENSION pg_partman SCHEMA partman; SELECT * FROM ab.use_partman(7, 5);")
        .unwrap();
    type Names = fn(NaiveDate, std::ops::RangeInclusive<i64>) -> Vec<String>;
    let modes: [(&Database, Names); 2] = [(&native, gateway_names), (&partman, partman_names)];
    for (db, names) in modes {
        let mut client = db.connect();
        for time_zone in ["UTC", "Pacific/Kiritimati", "America/Adak"] {
            for clock in clocks {
                let what = format!("{} at {clock} in {time_zone}", db.url);
                let today = DateTime::parse_from_rfc3339(clock).unwrap().date_naive();
                for part in daily_partitions(db) {
                    client.batch_execute(&format!("DROP TABLE {part}")).unwrap();
                }
                client.batch_execute(&format!("SET TimeZone = '{time_zone}'")).unwrap();
                let maintain = |client: &mut postgres::Client, days_before: i64| -> (Vec<String>, Vec<String>) {
                    let rows = client
                        .query(
                            // The gateway's maintenance names its partitions bare, partman's come qualified.
                            "SELECT action, regexp_replace(partition_name, '^(ab\\.)?', 'ab.') AS part
                             FROM ab.maintain_event_partitions(7, 5, $1::text::timestamptz - make_interval(days => $2::int4)) ORDER BY 2",
                            &[&clock, &(days_before as i32)],
                        )
                        .unwrap();
                    let named = |prefix: &str| -> Vec<String> {
                        rows.iter().filter(|r| r.get::<_, &str>(0).starts_with(prefix)).map(|r| r.get(1)).collect()
                    };
                    (named("created"), named("dropped"))
                };
                let (created, dropped) = maintain(&mut client, 8);
                assert_eq!(created, names(today, -9..=-1), "{what}, 8 days earlier");
                assert!(dropped.is_empty(), "{what}: {dropped:?}");
                let (created, dropped) = maintain(&mut client, 0);
                assert_eq!(created, names(today, 0..=7), "{what}: created");
                assert_eq!(dropped, names(today, -9..=-6), "{what}: dropped");
                assert_eq!(daily_partitions(db), names(today, -5..=7), "{what}: kept");
                // Each partition holds its UTC day, from its first microsecond to its last.
                let day = today.format("%Y-%m-%d").to_string();
                let next = (today + TimeDelta::days(1)).format("%Y-%m-%d").to_string();
                let part_of = |client: &mut postgres::Client, at: String| -> String {
                    client
                        .query_one(
                            "WITH e AS (INSERT INTO ab.events (event_time, user_id, event_type, dedup_key)
                                        VALUES ($1::text::timestamptz, 'u', 'view', $1) RETURNING tableoid)
                             SELECT tableoid::regclass::text FROM e",
                            &[&at],
                        )
                        .unwrap()
                        .get(0)
                };
                let this_day = names(today, 0..=0).remove(0);
                assert_eq!(part_of(&mut client, format!("{day} 00:00:00+00")), this_day, "{what}");
                assert_eq!(part_of(&mut client, format!("{day} 23:59:59.999999+00")), this_day, "{what}");
                assert_eq!(part_of(&mut client, format!("{next} 00:00:00+00")), names(today, 1..=1).remove(0), "{what}");
            }
        }
    }
}

#[test]
fn without_pg_cron_or_pg_partman_the_functions_say_how_to_install_them() {
    let db = Database::fresh("no_cron_no_partman");
    let mut client = db.connect();
    for (sql, missing) in [
        ("SELECT * FROM ab.schedule_maintenance()", "pg_cron"),
        ("SELECT ab.unschedule_maintenance()", "pg_cron"),
        ("SELECT * FROM ab.use_partman()", "pg_partman"),
    ] {
        let error = client.query(sql, &[]).unwrap_err();
        let error = error.as_db_error().unwrap();
        assert_eq!(error.code().code(), "55000", "{sql}");
        assert!(error.message().contains(&format!("{missing} is not installed")), "{sql}: {}", error.message());
        assert!(error.hint().is_some_and(|h| h.contains(&format!("postgresql-15-{}", missing.trim_start_matches("pg_")))), "{sql}");
    }
    assert!(!scalar::<bool>(&db, "SELECT ab.maintenance_job_scheduled('ab_refresh_results')"));
    let error = client.query("SELECT * FROM ab.schedule_maintenance(days_ahead => -1)", &[]).unwrap_err();
    assert_eq!(error.code().unwrap().code(), "55000", "pg_cron's absence is reported first");
    assert!(client.query("SELECT * FROM ab.maintain_event_partitions()", &[]).is_ok());
}
