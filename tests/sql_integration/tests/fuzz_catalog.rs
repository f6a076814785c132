//! Issue 27 item 4: every function and aggregate of the extension, found in the catalog, called
//! with hostile arguments (NULL, 0, ±1, the extremes of each type, NaN, ±Infinity, denormals,
//! 1e308, huge and empty strings and arrays) under `statement_timeout = '1s'`. No call may
//! crash the server, raise XX000, say "panic" or show Rust internals, or outlive the timeout by
//! more than a few seconds. The seed and the count are fixed, so a failure reproduces; each
//! failure prints its SQL.

use ab_core::simulation::SplitMix64;
use postgres::Client;
use sql_integration::connect;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

const SEED: u64 = 20261203;
/// Calls per function or aggregate (56 of them): a few thousand in all, about 15 s.
const CALLS_PER_FUNCTION: usize = 60;
/// A call may end this long after the 1 s timeout (planning, a slow machine) before it counts.
const SLACK: Duration = Duration::from_secs(3);
const TIMEOUT: Duration = Duration::from_secs(1);

/// Words in a message that only a Rust failure would show.
const RUST_INTERNALS: &[&str] = &["panic", "unwrap", "called `", ".rs:", "thread '", "rust_begin_unwind", "RUST_BACKTRACE"];

struct Function {
    name: String,
    aggregate: bool,
    types: Vec<String>,
}

/// Every function and aggregate that belongs to the extension and is callable from SQL (the
/// aggregates' support functions take `internal` and are not).
fn catalog(client: &mut Client) -> Vec<Function> {
    client
        .query(
            "SELECT p.proname, p.prokind = 'a', ARRAY(SELECT format_type(t, NULL) FROM unnest(p.proargtypes) t)
               FROM pg_proc p
               JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
               JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'pg_ab'
              WHERE p.prokind IN ('f', 'a') AND p.prorettype <> 'internal'::regtype
                AND NOT 'internal'::regtype::oid = ANY (p.proargtypes::oid[])
              ORDER BY p.oid",
            &[],
        )
        .expect("catalog")
        .iter()
        .map(|row| Function { name: row.get(0), aggregate: row.get(1), types: row.get(2) })
        .collect()
}

fn pick<'a>(stream: &mut SplitMix64, items: &[&'a str]) -> &'a str {
    items[(stream.next_u64() % items.len() as u64) as usize]
}

const FLOATS: &[&str] = &[
    "0", "-0", "1", "-1", "0.5", "0.05", "0.95", "2", "1e-300", "5e-324", "2.2250738585072014e-308", "1e308", "-1e308",
    "1.7976931348623157e308", "'NaN'", "'Infinity'", "'-Infinity'", "1e13", "123456789.123", "0.999999999999", "1e9", "-5e-324",
];
const BIGINTS: &[&str] = &[
    "0", "1", "-1", "2", "10", "1000", "1000000", "1000000000000", "9007199254740993", "9223372036854775807",
    "-9223372036854775808", "100000000000000",
];
const INTS: &[&str] = &["0", "1", "-1", "2", "10", "10000", "2147483647", "-2147483648"];
const TEXTS: &[&str] = &[
    "''", "'a'", "'two-sided'", "'larger'", "'smaller'", "'holm'", "'fdr_bh'", "'bonferroni'", "'control'", "'é⚡'",
    "repeat('x', 1000000)", "repeat('two-sided', 100000)",
];

/// A hostile value of `sql_type` as an SQL expression, cast to the type.
fn value(stream: &mut SplitMix64, sql_type: &str) -> String {
    if stream.uniform() < 0.08 {
        return format!("NULL::{sql_type}");
    }
    let scalar = |stream: &mut SplitMix64, element: &str| -> String {
        match element {
            "double precision" => pick(stream, FLOATS).to_owned(),
            "bigint" => pick(stream, BIGINTS).to_owned(),
            "integer" => pick(stream, INTS).to_owned(),
            "boolean" => pick(stream, &["true", "false"]).to_owned(),
            "text" => pick(stream, TEXTS).to_owned(),
            other => panic!("no generator for {other}"),
        }
    };
    match sql_type.strip_suffix("[]") {
        None => format!("({})::{sql_type}", scalar(stream, sql_type)),
        Some(element) => {
            let shape = stream.next_u64() % 10;
            match shape {
                0 => format!("'{{}}'::{sql_type}"),
                1 => {
                    let huge = pick(stream, &["100000", "100000", "100000", "1000000"]);
                    let one = scalar(stream, element);
                    format!("array_fill(({one})::{element}, ARRAY[{huge}])")
                }
                2 if element == "text" => "(SELECT array_agg(i::text) FROM generate_series(1, 200000) i)".to_owned(),
                2 => format!("(SELECT array_agg((i % 1000)::{element}) FROM generate_series(1, 200000) i)"),
                3 => format!("ARRAY[ARRAY[{0}, {0}], ARRAY[{0}, {0}]]::{sql_type}", scalar(stream, element)),
                4 => format!("ARRAY[{}, NULL]::{sql_type}", scalar(stream, element)),
                _ => {
                    let len = [1usize, 2, 3, 5, 200][(stream.next_u64() % 5) as usize];
                    let items: Vec<String> = (0..len).map(|_| scalar(stream, element)).collect();
                    format!("ARRAY[{}]::{sql_type}", items.join(", "))
                }
            }
        }
    }
}

fn statement(stream: &mut SplitMix64, function: &Function) -> String {
    if !function.aggregate {
        let args: Vec<String> = function.types.iter().map(|t| value(stream, t)).collect();
        return format!("SELECT ({}({}))::text IS NULL", function.name, args.join(", "));
    }
    let rows = (stream.next_u64() % 7) as usize;
    let columns: Vec<String> = (1..=function.types.len()).map(|i| format!("c{i}")).collect();
    let row = |stream: &mut SplitMix64| format!("({})", function.types.iter().map(|t| value(stream, t)).collect::<Vec<_>>().join(", "));
    let (values, filter) = if rows == 0 { (row(stream), " WHERE false") } else { ((0..rows).map(|_| row(stream)).collect::<Vec<_>>().join(", "), "") };
    format!(
        "SELECT ({}({}))::text IS NULL FROM (VALUES {values}) AS v({}){filter}",
        function.name,
        columns.join(", "),
        columns.join(", ")
    )
}

fn session() -> Client {
    let mut client = connect();
    client.batch_execute("SET statement_timeout = '1s'").expect("set statement_timeout");
    client
}

/// A call still running this long is a hang (the backend ignores the timeout and cancels):
/// the watchdog prints its reproducer and ends the test process rather than wait forever.
const HANG: Duration = Duration::from_secs(15);

/// Watches the statement in flight; see [`HANG`].
fn watchdog(current: Arc<Mutex<Option<(String, Instant)>>>) {
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_millis(200));
        let hung = current.lock().unwrap_or_else(PoisonError::into_inner).as_ref().and_then(|(sql, began)| {
            (began.elapsed() > HANG).then(|| sql.clone())
        });
        if let Some(sql) = hung {
            eprintln!("FAILURE (seed {SEED}): still running after {HANG:?} under a 1 s statement_timeout\n  reproduce: SET statement_timeout = '1s'; {sql};");
            std::process::exit(101);
        }
    });
}

#[test]
fn every_function_survives_hostile_arguments() {
    let current = Arc::new(Mutex::new(None));
    watchdog(Arc::clone(&current));
    let mut client = session();
    let functions = catalog(&mut client);
    assert!(functions.len() > 40, "found only {} functions of pg_ab", functions.len());
    let mut stream = SplitMix64::new(SEED);
    let (mut calls, mut failures) = (0usize, Vec::new());
    let mut codes = std::collections::BTreeMap::<String, usize>::new();
    let start = Instant::now();
    for function in &functions {
        for _ in 0..CALLS_PER_FUNCTION {
            let sql = statement(&mut stream, function);
            calls += 1;
            let began = Instant::now();
            *current.lock().unwrap_or_else(PoisonError::into_inner) = Some((sql.clone(), began));
            let outcome = client.simple_query(&sql);
            let elapsed = began.elapsed();
            *current.lock().unwrap_or_else(PoisonError::into_inner) = None;
            let mut failure = None;
            match &outcome {
                Ok(_) => *codes.entry("ok".to_owned()).or_default() += 1,
                Err(error) => match error.as_db_error() {
                    Some(db) => {
                        let code = db.code().code().to_owned();
                        let text = format!("{} {}", db.message(), db.detail().unwrap_or(""));
                        if code == "XX000" {
                            failure = Some(format!("XX000: {text}"));
                        } else if let Some(word) = RUST_INTERNALS.iter().find(|w| text.to_lowercase().contains(&w.to_lowercase())) {
                            failure = Some(format!("Rust internals ({word}) in {code}: {text}"));
                        }
                        *codes.entry(code).or_default() += 1;
                    }
                    None => failure = Some(format!("no server error (connection lost?): {error}")),
                },
            }
            if elapsed > TIMEOUT + SLACK {
                failure = Some(format!("ran {elapsed:?} under a 1 s statement_timeout"));
            }
            if client.is_closed() || client.simple_query("SELECT 1").is_err() {
                failure = Some(format!("the connection did not survive: {:?}", outcome.err()));
                client = session();
            }
            if let Some(failure) = failure {
                eprintln!("FAILURE (seed {SEED}): {failure}\n  reproduce: SET statement_timeout = '1s'; {sql};");
                failures.push(failure);
            }
        }
    }
    eprintln!(
        "seed {SEED}: {calls} calls of {} functions in {:?}; outcomes by SQLSTATE: {codes:?}",
        functions.len(),
        start.elapsed()
    );
    assert!(failures.is_empty(), "{} of {calls} calls failed (seed {SEED}), see the reproducers above", failures.len());
}
