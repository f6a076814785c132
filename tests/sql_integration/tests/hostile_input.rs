//! Issue 27: hostile input never pins a backend. Arguments beyond what the math can compute in
//! double precision are bad input (22023 naming the argument); valid calls that need more work
//! than a call's cap fail with 54000; and every long computation polls Postgres' interrupts, so
//! `statement_timeout`, `pg_cancel_backend` and `pg_terminate_backend` end it.

use postgres::Client;
use sql_integration::{connect, error_of};
use std::time::{Duration, Instant};

/// Valid (both priors inside the domain, 1e13) but far more work than a second: about 2e8
/// continued-fraction terms before the call's work cap, several seconds of one core.
const EXPENSIVE: &str = "SELECT ab_bayes_prop(100, 10000, 2, 10000, 1e9, 1e9)";

/// Only a hang detector: the calls below end within about a second when interrupts work.
const HANG: Duration = Duration::from_secs(20);

fn code_of(error: &postgres::Error) -> Option<String> {
    error.as_db_error().map(|db| db.code().code().to_owned())
}

fn assert_usable(client: &mut Client) {
    let one: i32 = client.query_one("SELECT 1", &[]).expect("the connection stays usable").get(0);
    assert_eq!(one, 1);
}

/// The issue's exact call: it ran for 14 minutes through statement_timeout and
/// pg_cancel_backend. A prior of 1e308 is outside the domain.
#[test]
fn the_issues_call_is_bad_input_naming_prior_b() {
    let mut client = connect();
    client.batch_execute("SET statement_timeout = '2s'").unwrap();
    let start = Instant::now();
    let (code, message) = error_of(&mut client, "SELECT ab_bayes_prop(100, 10000, 2, 10000, 123456789.123, 1e308)");
    assert_eq!(code, "22023", "{message}");
    assert!(message.contains("prior_b"), "{message}");
    assert!(start.elapsed() < Duration::from_secs(1), "{:?}", start.elapsed());
    // A count beyond the largest Beta shape is valid input out of reach: 54000 naming it.
    let (code, message) = error_of(&mut client, "SELECT ab_bayes_prop(1, 10, 1, 100000000000000)");
    assert_eq!(code, "54000", "{message}");
    assert!(message.contains("n_t") && !message.to_lowercase().contains("panic"), "{message}");
}

/// With statement_timeout = 1s, an expensive valid call returns or is cancelled (57014),
/// about when the timeout fires, and the session goes on.
#[test]
fn statement_timeout_ends_an_expensive_call() {
    let mut client = connect();
    client.batch_execute("SET statement_timeout = '1s'").unwrap();
    let start = Instant::now();
    let outcome = client.query_one(EXPENSIVE, &[]);
    let elapsed = start.elapsed();
    if let Err(error) = &outcome {
        assert_eq!(code_of(error).as_deref(), Some("57014"), "{error}");
    }
    eprintln!("{EXPENSIVE} under statement_timeout = 1s: {} after {elapsed:?}", if outcome.is_ok() { "returned" } else { "57014" });
    assert!(elapsed < HANG, "outlived the timeout: {elapsed:?}");
    client.batch_execute("RESET statement_timeout").unwrap();
    assert_usable(&mut client);
}

/// Starts `EXPENSIVE` on its own connection in a thread, waits until the server runs it, and
/// returns its pid and the thread (which reports the outcome and how long it ran).
fn run_expensive_in_background() -> (i32, std::thread::JoinHandle<(Result<(), postgres::Error>, Duration, Client)>) {
    let mut busy = connect();
    let pid: i32 = busy.query_one("SELECT pg_backend_pid()", &[]).unwrap().get(0);
    let handle = std::thread::spawn(move || {
        let start = Instant::now();
        let outcome = busy.query_one(EXPENSIVE, &[]).map(|_| ());
        (outcome, start.elapsed(), busy)
    });
    let mut observer = connect();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let running: bool = observer
            .query_one(
                "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE pid = $1 AND state = 'active' AND query LIKE '%ab_bayes_prop%')",
                &[&pid],
            )
            .unwrap()
            .get(0);
        if running {
            break;
        }
        assert!(Instant::now() < deadline, "the call never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Let it get into the integrals.
    std::thread::sleep(Duration::from_millis(300));
    (pid, handle)
}

/// pg_cancel_backend from a second connection ends a running call with 57014 at once (not
/// at the call's work cap, which would be 54000 seconds later), and its session goes on;
/// pg_terminate_backend ends the session.
#[test]
fn cancel_and_terminate_from_another_connection_end_a_running_call() {
    let mut admin = connect();
    let (pid, handle) = run_expensive_in_background();
    let sent = Instant::now();
    let cancelled: bool = admin.query_one("SELECT pg_cancel_backend($1)", &[&pid]).unwrap().get(0);
    assert!(cancelled);
    let (outcome, elapsed, mut busy) = handle.join().expect("the calling thread");
    let error = outcome.expect_err("the call should have been cancelled");
    assert_eq!(code_of(&error).as_deref(), Some("57014"), "{error}");
    eprintln!("cancelled after {elapsed:?} ({:?} after pg_cancel_backend)", sent.elapsed());
    assert!(sent.elapsed() < HANG, "{:?}", sent.elapsed());
    assert_usable(&mut busy);
    drop(busy);

    let (pid, handle) = run_expensive_in_background();
    let sent = Instant::now();
    let terminated: bool = admin.query_one("SELECT pg_terminate_backend($1)", &[&pid]).unwrap().get(0);
    assert!(terminated);
    let (outcome, _, mut busy) = handle.join().expect("the calling thread");
    assert!(outcome.is_err(), "the call should have been ended");
    eprintln!("terminated {:?} after pg_terminate_backend", sent.elapsed());
    assert!(sent.elapsed() < HANG, "{:?}", sent.elapsed());
    assert!(busy.is_closed() || busy.simple_query("SELECT 1").is_err(), "the session should be gone");
    // The server itself is fine.
    assert_usable(&mut admin);
}
