//! Every answered assignment is recorded: its first exposure reaches `ab.exposures`, with
//! the time of the answer, across a SIGKILL of the gateway, a Postgres outage under a load
//! of new units, and two gateways racing over the same units. Real processes throughout.

mod support;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use support::{deadlocks, Database, Gateway, OwnCluster, OWN_CLUSTER_PORT};

fn experiment(id: &str) -> Value {
    json!({"id": id, "variants": [
        {"id": "control", "weight": 0.5, "is_control": true}, {"id": "treatment", "weight": 0.5}]})
}

/// An answered assignment as the client saw it: the variants, and when the request was
/// sent and the answer received.
struct Answer {
    user_id: String,
    variants: Vec<(String, String)>,
    sent: DateTime<Utc>,
    received: DateTime<Utc>,
}

/// Assigns one unit (every running experiment); `None` when the gateway did not answer 200.
fn assign(gw: &Gateway, http: &reqwest::blocking::Client, user_id: &str) -> Option<Answer> {
    let sent = Utc::now();
    let response = http.post(gw.url("/api/v1/assign")).bearer_auth(&gw.sdk).json(&json!({"user_id": user_id})).send().ok()?;
    if response.status() != 200 {
        return None;
    }
    let body: Value = response.json().ok()?;
    let received = Utc::now();
    let variants = body["assignments"]
        .as_array()?
        .iter()
        .map(|a| (a["experiment_id"].as_str().unwrap().to_owned(), a["variant_id"].as_str().unwrap().to_owned()))
        .collect();
    Some(Answer { user_id: user_id.to_owned(), variants, sent, received })
}

/// Stored exposures: (experiment, unit) → (variant, first exposure time).
fn stored(db: &Database) -> HashMap<(String, String), (String, DateTime<Utc>)> {
    db.connect()
        .query("SELECT experiment_id, user_id, variant_id, first_exposed_at FROM ab.exposures", &[])
        .unwrap()
        .iter()
        .map(|r| ((r.get(0), r.get(1)), (r.get(2), r.get(3))))
        .collect()
}

fn exposure_count(db: &Database) -> i64 {
    db.connect().query_one("SELECT count(*) FROM ab.exposures", &[]).unwrap().get(0)
}

/// Every answer has its exposures stored, with the answered variant and a time between the
/// request and the answer.
fn assert_recorded(db: &Database, answers: &[Answer]) {
    let stored = stored(db);
    for answer in answers {
        for (experiment_id, variant_id) in &answer.variants {
            let key = (experiment_id.clone(), answer.user_id.clone());
            let (variant, at) = stored.get(&key).unwrap_or_else(|| panic!("answered exposure {key:?} not stored"));
            assert_eq!(variant, variant_id, "{key:?}");
            assert!(answer.sent <= *at && *at <= answer.received, "{key:?} stored at {at}, answered between {} and {}", answer.sent, answer.received);
        }
    }
}

#[test]
fn a_sigkill_under_new_user_load_loses_no_answered_exposure() {
    const FSYNC_MS: i64 = 5;
    let db = Database::fresh("exposures_sigkill");
    let spool = support::fresh_spool_dir("sigkill");
    let spool_arg = spool.to_str().unwrap();
    let fsync = FSYNC_MS.to_string();
    let gw = Gateway::start(&db, &["--exposure-spool-dir", spool_arg, "--exposure-fsync-ms", &fsync]);
    let experiments = ["home", "pricing", "search", "checkout", "onboarding"];
    for id in experiments {
        gw.running_experiment(&experiment(id));
    }
    // Postgres accepts no exposure while the lock is held, so at the kill every exposure
    // answered so far is still in the gateway: an in-memory queue would lose them all.
    let mut blocker = db.connect();
    let mut hold = blocker.transaction().unwrap();
    hold.batch_execute("LOCK TABLE ab.exposures IN SHARE ROW EXCLUSIVE MODE").unwrap();

    let answers = Mutex::new(Vec::new());
    let stop = AtomicBool::new(false);
    let killed_at = std::thread::scope(|scope| {
        for thread in 0..4 {
            let (gw, answers, stop) = (&gw, &answers, &stop);
            scope.spawn(move || {
                let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
                let mut unit = 0;
                while !stop.load(Ordering::Relaxed) {
                    if let Some(answer) = assign(gw, &http, &format!("new-{thread}-{unit}")) {
                        answers.lock().unwrap().push(answer);
                    }
                    unit += 1;
                }
            });
        }
        // Enough answers that their exposures exceed what one blocked batch (5000 rows)
        // could hold, however slow the machine.
        let loading = Instant::now();
        while answers.lock().unwrap().len() < 2500 && loading.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(50));
        }
        let killed_at = Utc::now();
        gw.kill();
        stop.store(true, Ordering::Relaxed);
        killed_at
    });
    drop(gw);
    hold.rollback().unwrap();
    let answers = answers.into_inner().unwrap();
    let owed: Vec<Answer> = answers.into_iter().filter(|a| a.received < killed_at - chrono::Duration::milliseconds(FSYNC_MS)).collect();
    let owed_exposures: usize = owed.iter().map(|a| a.variants.len()).sum();
    eprintln!("{} assignments answered before the kill", owed.len());
    assert!(owed.len() > 2000, "the load answered {} assignments before the kill", owed.len());
    assert_eq!(owed_exposures, owed.len() * experiments.len());

    // The restarted gateway replays its spool.
    let gw = Gateway::start(&db, &["--exposure-spool-dir", spool_arg]);
    gw.wait_until(Duration::from_secs(60), |_| exposure_count(&db) >= owed_exposures as i64);
    assert_recorded(&db, &owed);
    gw.wait_until(Duration::from_secs(10), |g| g.metrics().contains("ab_exposure_spool_unflushed_bytes 0\n"));
}

/// Assigns `units` new units while Postgres takes no exposure, then SIGKILLs the gateway:
/// the answers' exposures are owed, in its spool only.
fn owe_exposures(gw: Gateway, db: &Database, units: usize) -> Vec<Answer> {
    let mut blocker = db.connect();
    let mut hold = blocker.transaction().unwrap();
    hold.batch_execute("LOCK TABLE ab.exposures IN SHARE ROW EXCLUSIVE MODE").unwrap();
    let http = reqwest::blocking::Client::new();
    let answers: Vec<Answer> = (0..units).map(|unit| assign(&gw, &http, &format!("owed-{unit}")).expect("answered")).collect();
    // Past the spool's 1 ms gathering window and its 5 ms fsync.
    std::thread::sleep(Duration::from_millis(100));
    gw.kill();
    drop(gw);
    hold.rollback().unwrap();
    assert_eq!(exposure_count(db), 0);
    answers
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir = support::fresh_spool_dir(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The spool's home does not depend on the working directory (issue 31): started as
/// systemd starts it (`STATE_DIRECTORY`, no flag) and SIGKILLed with exposures owed, the
/// gateway restarted from another working directory writes them. While the spool
/// directory is missing, the marker beside it says they are owed and the gateway refuses
/// to start; a clean stop that has written everything removes the marker.
#[test]
fn a_restart_from_another_working_directory_replays_the_owed_exposures() {
    let db = Database::fresh("exposures_workdir");
    let state = scratch_dir("state-directory");
    let (spool, marker) = (state.join("exposure-spool"), state.join("exposure-spool.owed"));
    let started_in = |workdir: PathBuf| {
        let state = state.clone();
        move |command: &mut Command| {
            command.current_dir(workdir).env("STATE_DIRECTORY", state);
        }
    };
    let gw = Gateway::start_with(&db, &[], started_in(scratch_dir("workdir-a")));
    gw.running_experiment(&experiment("home"));
    let owed = owe_exposures(gw, &db, 200);
    assert!(marker.exists() && std::fs::read_dir(&spool).unwrap().count() > 1, "the spool is in $STATE_DIRECTORY");

    let moved = state.join("moved");
    std::fs::rename(&spool, &moved).unwrap();
    let error = support::refused_start(&db, &["--exposure-spool-dir", spool.to_str().unwrap()]);
    assert!(error.contains(&format!("{} is missing", spool.display())) && error.contains(&marker.display().to_string()), "{error}");
    std::fs::rename(&moved, &spool).unwrap();

    let mut gw = Gateway::start_with(&db, &[], started_in(scratch_dir("workdir-b")));
    gw.wait_until(Duration::from_secs(30), |_| exposure_count(&db) >= owed.len() as i64);
    assert_recorded(&db, &owed);
    gw.wait_until(Duration::from_secs(10), |g| g.metrics().contains("ab_exposure_spool_unflushed_bytes 0\n"));
    assert!(gw.terminate().success());
    assert!(!marker.exists(), "nothing is owed after a clean stop");
}

/// A spool segment the gateway cannot read, or damaged in a way no interrupted write
/// leaves, stops the start with a message naming the file, rather than a start that
/// drops its exposures; put right, the segment is replayed whole.
#[test]
fn an_unreadable_spool_segment_refuses_the_start_and_names_the_file() {
    let db = Database::fresh("exposures_unreadable");
    let spool = support::fresh_spool_dir("unreadable");
    let spool_arg = spool.to_str().unwrap();
    let gw = Gateway::start(&db, &["--exposure-spool-dir", spool_arg]);
    gw.running_experiment(&experiment("home"));
    let owed = owe_exposures(gw, &db, 50);

    // A directory where a segment should be: unreadable even to root (unlike chmod 000).
    let in_the_way = spool.join("00000000000000000099.seg");
    std::fs::create_dir(&in_the_way).unwrap();
    let error = support::refused_start(&db, &["--exposure-spool-dir", spool_arg]);
    assert!(error.contains(&format!("cannot read the exposure spool segment {}", in_the_way.display())), "{error}");
    std::fs::remove_dir(&in_the_way).unwrap();

    // The first record's header declares a length no record has, with whole records after
    // it: not a torn tail to cut.
    let segment = spool.join("00000000000000000001.seg");
    let mut bytes = std::fs::read(&segment).unwrap();
    let length = bytes[0..4].to_vec();
    bytes[0..4].copy_from_slice(&u32::MAX.to_le_bytes());
    std::fs::write(&segment, &bytes).unwrap();
    let error = support::refused_start(&db, &["--exposure-spool-dir", spool_arg]);
    assert!(error.contains(&format!("the exposure spool segment {} is corrupt at byte 0", segment.display())), "{error}");

    bytes[0..4].copy_from_slice(&length);
    std::fs::write(&segment, &bytes).unwrap();
    let gw = Gateway::start(&db, &["--exposure-spool-dir", spool_arg]);
    gw.wait_until(Duration::from_secs(30), |_| exposure_count(&db) >= owed.len() as i64);
    assert_recorded(&db, &owed);
}

#[test]
fn postgres_stopped_for_a_minute_while_300k_new_units_are_assigned_loses_none() {
    const UNITS: usize = 300_000;
    const THREADS: usize = 4;
    let _cluster = OwnCluster::start();
    let db = Database::fresh_on(&format!("host=127.0.0.1 port={OWN_CLUSTER_PORT} user=postgres"), "exposures_outage");
    let gw = Gateway::start(&db, &[]);
    gw.running_experiment(&experiment("outage"));

    OwnCluster::run("stop");
    let stopped = Instant::now();
    let answers: Vec<Answer> = std::thread::scope(|scope| {
        let runs: Vec<_> = (0..THREADS)
            .map(|thread| {
                let gw = &gw;
                scope.spawn(move || {
                    let http = reqwest::blocking::Client::new();
                    (thread..UNITS)
                        .step_by(THREADS)
                        .map(|unit| assign(gw, &http, &format!("unit-{unit}")).unwrap_or_else(|| panic!("unit-{unit} not answered")))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        runs.into_iter().flat_map(|run| run.join().unwrap()).collect()
    });
    let metrics = gw.metrics();
    assert!(metrics.contains("ab_exposure_spool_full 0\n"), "{metrics}");
    let unflushed = metrics.lines().find(|l| l.starts_with("ab_exposure_spool_unflushed_bytes ")).unwrap();
    assert_ne!(unflushed, "ab_exposure_spool_unflushed_bytes 0", "the outage's exposures wait in the spool");
    std::thread::sleep(Duration::from_secs(60).saturating_sub(stopped.elapsed()));
    eprintln!("Postgres was down for {:.0} s while {UNITS} units were assigned", stopped.elapsed().as_secs_f64());

    OwnCluster::run("start");
    gw.wait_until(Duration::from_secs(120), |_| exposure_count(&db) == UNITS as i64);
    assert_recorded(&db, &answers);
    gw.wait_until(Duration::from_secs(10), |g| g.metrics().contains("ab_exposure_spool_unflushed_bytes 0\n"));
}

#[test]
fn a_full_spool_refuses_new_units_but_not_known_ones_until_postgres_catches_up() {
    let db = Database::fresh("exposures_full");
    let gw = Gateway::start(&db, &["--exposure-spool-max-mb", "1"]);
    gw.running_experiment(&experiment("bounded"));
    let mut blocker = db.connect();
    let mut hold = blocker.transaction().unwrap();
    hold.batch_execute("LOCK TABLE ab.exposures IN SHARE ROW EXCLUSIVE MODE").unwrap();
    let http = reqwest::blocking::Client::new();
    let mut answers = Vec::new();
    while let Some(answer) = assign(&gw, &http, &format!("unit-{}", answers.len())) {
        answers.push(answer);
        assert!(answers.len() < 100_000, "1 MiB holds far fewer exposures");
    }
    let refused = gw.post("/api/v1/assign", Some(&gw.sdk), &json!({"user_id": "another-new-unit"}));
    assert_eq!((refused.0, support::error_code(&refused.1)), (503, "exposure_log_full"));
    assert!(gw.metrics().contains("ab_exposure_spool_full 1\n"));
    assert!(assign(&gw, &http, "unit-0").is_some(), "a unit already recorded is still answered");
    hold.rollback().unwrap();
    gw.wait_until(Duration::from_secs(30), |g| g.metrics().contains("ab_exposure_spool_full 0\n"));
    answers.push(assign(&gw, &http, "after").expect("new units are answered again"));
    gw.wait_until(Duration::from_secs(30), |_| exposure_count(&db) == answers.len() as i64);
    assert_recorded(&db, &answers);
}

#[test]
fn two_gateways_assigning_the_same_new_units_store_one_row_each_without_deadlock() {
    const UNITS: usize = 20_000;
    let db = Database::fresh("exposures_two_gateways");
    let before = deadlocks(&db);
    let mut first = Gateway::start(&db, &[]);
    let mut second = Gateway::start(&db, &[]);
    for id in ["left", "right"] {
        first.running_experiment(&experiment(id));
    }
    second.wait_for_running(2);
    let units: Vec<String> = (0..UNITS).map(|i| format!("shared-{i}")).collect();
    // Postgres takes no exposure until both gateways have spooled every unit, so their
    // flushers then write batches of the same keys at the same time.
    let mut blocker = db.connect();
    let mut hold = blocker.transaction().unwrap();
    hold.batch_execute("LOCK TABLE ab.exposures IN SHARE ROW EXCLUSIVE MODE").unwrap();
    // Each gateway sees every unit, in an order that reverses the other's within each run
    // of 50 units: without one lock order, their concurrent batches deadlock.
    let answers: Vec<Answer> = std::thread::scope(|scope| {
        let runs: Vec<_> = [(&first, false), (&second, true)]
            .into_iter()
            .map(|(gw, reversed)| {
                let units = &units;
                scope.spawn(move || {
                    let http = reqwest::blocking::Client::new();
                    let order: Vec<&String> =
                        if reversed { units.chunks(50).flat_map(|run| run.iter().rev()).collect() } else { units.iter().collect() };
                    order.into_iter().map(|u| assign(gw, &http, u).expect("answered")).collect::<Vec<_>>()
                })
            })
            .collect();
        runs.into_iter().flat_map(|run| run.join().unwrap()).collect()
    });
    hold.rollback().unwrap();
    first.wait_until(Duration::from_secs(60), |_| exposure_count(&db) == 2 * UNITS as i64);
    for gw in [&first, &second] {
        gw.wait_until(Duration::from_secs(10), |g| g.metrics().contains("ab_exposure_spool_unflushed_bytes 0\n"));
    }
    // Both gateways answer a unit with the same variant (the hash), and one row is kept.
    let stored = stored(&db);
    for answer in &answers {
        for (experiment_id, variant_id) in &answer.variants {
            assert_eq!(&stored[&(experiment_id.clone(), answer.user_id.clone())].0, variant_id);
        }
    }
    assert!(first.terminate().success() && second.terminate().success());
    assert_eq!(deadlocks(&db) - before, 0, "Postgres detected deadlocks between the gateways' exposure writers");
}

/// Waits until a backend running a statement that starts with `statement` waits for a lock.
fn wait_for_lock(client: &mut postgres::Client, statement: &str) {
    let started = Instant::now();
    let waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND starts_with(query, $1)";
    while client.query_one(waiting, &[&statement]).unwrap().get::<_, i64>(0) == 0 {
        assert!(started.elapsed() < Duration::from_secs(10), "{statement} did not wait for the other transaction");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The foreign key from exposures to experiments, checked once per statement (migration
/// 0007): an exposure of a missing experiment fails its statement whoever writes it, an
/// inserting transaction holds its experiments against a concurrent DELETE, and DELETE and
/// TRUNCATE of experiments take their exposures with them.
#[test]
fn exposures_refer_to_an_existing_experiment_and_go_with_it() {
    let db = Database::fresh("exposures_reference");
    let mut client = db.connect();
    client
        .batch_execute(
            "INSERT INTO ab.experiments (id, salt, config)
             SELECT id, 's', jsonb_build_object('id', id, 'salt', 's') FROM unnest(ARRAY['kept', 'dropped', 'raced']) id",
        )
        .unwrap();
    let insert = |client: &mut postgres::Client, experiments: &[&str]| {
        let rows: Vec<String> = experiments.iter().enumerate().map(|(i, e)| format!("('{e}', 'u{i}', 'control', now())")).collect();
        client.batch_execute(&format!(
            "INSERT INTO ab.exposures (experiment_id, user_id, variant_id, first_exposed_at) VALUES {}",
            rows.join(", ")
        ))
    };
    let sqlstate = |result: Result<(), postgres::Error>| result.unwrap_err().code().unwrap().code().to_owned();
    let count = |client: &mut postgres::Client, experiment: &str| -> i64 {
        client.query_one("SELECT count(*) FROM ab.exposures WHERE experiment_id = $1", &[&experiment]).unwrap().get(0)
    };

    assert_eq!(sqlstate(insert(&mut client, &["missing"])), "23503");
    // One missing experiment fails the whole statement.
    assert_eq!(sqlstate(insert(&mut client, &["kept", "missing", "dropped"])), "23503");
    assert_eq!(count(&mut client, "kept"), 0);
    insert(&mut client, &["kept", "dropped", "kept", "dropped"]).unwrap();
    assert_eq!(sqlstate(client.batch_execute("UPDATE ab.experiments SET id = 'renamed' WHERE id = 'kept'")), "22023");

    client.batch_execute("DELETE FROM ab.experiments WHERE id = 'dropped'").unwrap();
    assert_eq!((count(&mut client, "kept"), count(&mut client, "dropped")), (2, 0));

    // An insert not yet committed holds its experiment: the DELETE waits for it, then takes
    // its rows too.
    let mut writer = db.connect();
    let mut writing = writer.transaction().unwrap();
    writing.batch_execute("INSERT INTO ab.exposures VALUES ('raced', 'first', 'control', now())").unwrap();
    let deleting = std::thread::spawn({
        let url = db.url.clone();
        move || postgres::Client::connect(&url, postgres::NoTls).unwrap().batch_execute("DELETE FROM ab.experiments WHERE id = 'raced'")
    });
    wait_for_lock(&mut client, "DELETE FROM ab.experiments");
    writing.commit().unwrap();
    deleting.join().unwrap().unwrap();
    assert_eq!(count(&mut client, "raced"), 0);

    // A DELETE not yet committed: the insert waits for it, then finds no experiment.
    client.batch_execute("INSERT INTO ab.experiments (id, salt, config) VALUES ('raced', 's', '{\"id\": \"raced\", \"salt\": \"s\"}')").unwrap();
    let mut deleter = db.connect();
    let mut deleting = deleter.transaction().unwrap();
    deleting.batch_execute("DELETE FROM ab.experiments WHERE id = 'raced'").unwrap();
    let inserting = std::thread::spawn({
        let url = db.url.clone();
        move || {
            let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            client.batch_execute("INSERT INTO ab.exposures VALUES ('raced', 'second', 'control', now())")
        }
    });
    wait_for_lock(&mut client, "INSERT INTO ab.exposures");
    deleting.commit().unwrap();
    assert_eq!(sqlstate(inserting.join().unwrap()), "23503");
    assert_eq!(count(&mut client, "raced"), 0);

    client.batch_execute("TRUNCATE ab.experiments").unwrap();
    assert_eq!(client.query_one("SELECT count(*) FROM ab.exposures", &[]).unwrap().get::<_, i64>(0), 0);
}

/// While one worker is kept busy by a burst of new units, full batches of exposures wait in
/// the spool (`ab_exposure_writes_deferred 1`) instead of taking a Postgres backend onto the
/// cores that answer; once the burst ends, every answered exposure is stored.
#[test]
fn a_burst_of_new_units_defers_exposure_writes_until_it_ends() {
    let db = Database::fresh("exposures_deferred");
    // A small batch and a low busy share make the test's clients a burst however slowly a
    // loaded machine lets them send (a full batch of the default 5,000 needs about 2,500
    // requests a second): the test is about deferring and then writing everything, not about
    // where the defaults lie.
    let gw = Gateway::start(
        &db,
        &["--worker-threads", "1", "--exposure-batch-rows", "200", "--exposure-defer-busy-share", "0.05"],
    );
    for i in 0..10 {
        gw.running_experiment(&experiment(&format!("burst-{i}")));
    }
    let stop = AtomicBool::new(false);
    let answers = Mutex::new(Vec::new());
    let mut deferred = false;
    std::thread::scope(|scope| {
        for thread in 0..6 {
            let (gw, stop, answers) = (&gw, &stop, &answers);
            scope.spawn(move || {
                let http = reqwest::blocking::Client::new();
                let mut mine = Vec::new();
                for i in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    mine.extend(assign(gw, &http, &format!("burst-{thread}-{i}")));
                }
                answers.lock().unwrap().extend(mine);
            });
        }
        let started = Instant::now();
        while !deferred && started.elapsed() < Duration::from_secs(20) {
            std::thread::sleep(Duration::from_millis(50));
            deferred = gw.metrics().contains("ab_exposure_writes_deferred 1\n");
        }
        stop.store(true, Ordering::Relaxed);
    });
    assert!(deferred, "no batch waited while the worker was busy answering");
    let answers = answers.into_inner().unwrap();
    let expected: usize = answers.iter().map(|a| a.variants.len()).sum();
    assert!(expected >= 200, "the burst filled a batch: {expected} exposures");
    gw.wait_until(Duration::from_secs(30), |_| exposure_count(&db) == expected as i64);
    assert!(gw.metrics().contains("ab_exposure_writes_deferred 0\n"));
    assert_recorded(&db, &answers);
}
