//! A real cluster for the tests: `ab-scheduler` and `ab-executor` as separate processes on
//! loopback, on free ports, with a private work directory; the sample experiment as a split
//! Parquet dataset; `ab-sql` run in process, locally or against the cluster; and results
//! compared as JSON to a relative tolerance.

#![allow(dead_code)] // each test binary uses its part

use ab_datafusion::{cli, example};
use clap::Parser;
use serde_json::Value;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Seconds without a heartbeat after which the scheduler declares an executor dead.
pub const EXECUTOR_TIMEOUT_SECS: u64 = 6;

pub struct Cluster {
    pub dir: PathBuf,
    pub port: u16,
    scheduler: Child,
    executors: Vec<Child>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|listener| listener.local_addr()).expect("a free port").port()
}

fn log_file(dir: &Path, name: &str) -> Stdio {
    Stdio::from(std::fs::File::create(dir.join(format!("{name}.log"))).expect("log file"))
}

impl Cluster {
    /// A scheduler and `executors` executors with two task slots each, every executor
    /// registered before this returns.
    pub fn start(name: &str, executors: usize) -> Cluster {
        let dir = std::env::temp_dir().join(format!("ab_ballista_{name}_{}", std::process::id()));
        std::fs::remove_dir_all(&dir).ok();
        std::fs::create_dir_all(&dir).expect("work dir");
        let port = free_port();
        let scheduler = Command::new(env!("CARGO_BIN_EXE_ab-scheduler"))
            .args(["--bind-host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--executor-timeout-secs", &EXECUTOR_TIMEOUT_SECS.to_string()])
            .env("AB_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log_file(&dir, "scheduler"))
            .spawn()
            .expect("start ab-scheduler");
        let mut cluster = Cluster { dir, port, scheduler, executors: Vec::new() };
        cluster.wait_for_executors(0);
        for index in 0..executors {
            let work_dir = cluster.executor_dir(index);
            std::fs::create_dir_all(&work_dir).expect("executor dir");
            let executor = Command::new(env!("CARGO_BIN_EXE_ab-executor"))
                .args(["--scheduler-host", "127.0.0.1", "--scheduler-port", &port.to_string()])
                .args(["--bind-host", "127.0.0.1", "--port", &free_port().to_string(), "--grpc-port", &free_port().to_string()])
                .args(["--work-dir", work_dir.to_str().expect("utf-8 path"), "--concurrent-tasks", "2", "--heartbeat-secs", "1"])
                .env("AB_LOG", "info")
                .stdout(Stdio::null())
                .stderr(log_file(&cluster.dir, &format!("executor-{index}")))
                .spawn()
                .expect("start ab-executor");
            cluster.executors.push(executor);
        }
        cluster.wait_for_executors(executors);
        cluster
    }

    pub fn url(&self) -> String {
        format!("df://127.0.0.1:{}", self.port)
    }

    pub fn executor_dir(&self, index: usize) -> PathBuf {
        self.dir.join(format!("executor-{index}"))
    }

    /// A GET of the scheduler's REST API.
    pub fn api(&self, path: &str) -> Value {
        let url = format!("http://127.0.0.1:{}/api/{path}", self.port);
        let response = reqwest::blocking::get(&url).unwrap_or_else(|e| panic!("{url}: {e}"));
        assert!(response.status().is_success(), "{url}: {}", response.status());
        response.json().unwrap_or_else(|e| panic!("{url}: {e}"))
    }

    fn wait_for_executors(&mut self, count: usize) {
        let started = Instant::now();
        loop {
            let exited = self.executors.iter_mut().chain(std::iter::once(&mut self.scheduler)).find_map(|child| child.try_wait().ok().flatten());
            if let Some(status) = exited {
                panic!("a cluster process exited ({status}):\n{}", self.logs());
            }
            let url = format!("http://127.0.0.1:{}/api/executors", self.port);
            let registered = reqwest::blocking::get(&url).ok().and_then(|r| r.json::<Value>().ok()).and_then(|v| v.as_array().map(Vec::len));
            if registered == Some(count) {
                return;
            }
            assert!(started.elapsed() < Duration::from_secs(120), "{count} executors did not register: {registered:?}\n{}", self.logs());
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// SIGKILL: no goodbye to the scheduler, shuffle files gone with the process.
    pub fn kill_executor(&mut self, index: usize) {
        self.executors[index].kill().expect("kill executor");
        self.executors[index].wait().expect("reap executor");
    }

    /// The newest job the scheduler knows.
    pub fn last_job(&self) -> Value {
        let jobs = self.api("jobs");
        jobs.as_array().expect("jobs").iter().max_by_key(|job| job["start_time"].as_u64()).cloned().expect("a job")
    }

    pub fn logs(&self) -> String {
        let mut logs = String::new();
        for entry in std::fs::read_dir(&self.dir).into_iter().flatten().flatten() {
            if entry.path().extension().is_some_and(|e| e == "log") {
                let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(30).collect();
                logs += &format!("--- {}\n{}\n", entry.path().display(), tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
            }
        }
        logs
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for child in self.executors.iter_mut().chain(std::iter::once(&mut self.scheduler)) {
            child.kill().ok();
            child.wait().ok();
        }
        if std::thread::panicking() {
            eprintln!("cluster logs (kept in {}):\n{}", self.dir.display(), self.logs());
        } else {
            std::fs::remove_dir_all(&self.dir).ok();
        }
    }
}

/// Rows, experiments and files of the split dataset.
pub const USERS: u64 = 2_000_000;
pub const EXPERIMENTS: i32 = 5;
pub const FILES: u64 = 8;
pub const SEED: u64 = 16;

/// The sample experiment as a directory of `FILES` Parquet files.
pub fn write_dataset(dir: &Path) -> PathBuf {
    let path = dir.join("users");
    example::write_parquet(&path, USERS, EXPERIMENTS, SEED, FILES).expect("write dataset");
    path
}

/// Runs `ab-sql [--cluster URL] --table users=DATASET --format json SQL` in process: its
/// standard output, or the line it prints on standard error.
pub fn ab_sql(cluster: Option<&str>, dataset: &Path, sql: &str) -> Result<String, String> {
    let mut argv = vec!["ab-sql".to_owned()];
    if let Some(url) = cluster {
        argv.extend(["--cluster".to_owned(), url.to_owned()]);
    }
    argv.extend(["--table".to_owned(), format!("users={}", dataset.display()), "--format".to_owned(), "json".to_owned(), sql.to_owned()]);
    let args = cli::Args::try_parse_from(argv).expect("arguments");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let mut out = Vec::new();
    runtime.block_on(cli::run(args, &mut out)).map_err(|error| cli::error_line(error.as_ref()))?;
    Ok(String::from_utf8(out).expect("utf-8 output"))
}

/// The agreement the tests assert (see `agree`). Merge-order rounding alone reaches about
/// 1e-12 on figures that cancel digits (a t-test's difference of two ~20-unit means, and the
/// tail p-values computed from it), so 1e-12 would fail at random; the distributed test
/// prints the worst distance it saw for each query.
pub const TOLERANCE: f64 = 1e-11;

/// Below this, a figure is a tail probability or loss (p = 1e-20, say), compared by its
/// logarithm: its relative condition number is about ln(1/p) times that of the statistic it
/// comes from (p ≈ Φ(-t), d ln p / d t ≈ -t), so the last bits in which two merge orders
/// differ grow to 1e-11 in p while t agrees to 1e-14.
const TAIL: f64 = 1e-9;

/// Whether two figures agree to `tolerance`: relative for figures of magnitude 1 and more,
/// absolute below (p-values, lifts and contrasts near 0, where a difference of two means
/// cancels most digits), and tail figures by their logarithms.
pub fn agree(a: f64, b: f64, tolerance: f64) -> bool {
    let tail = |x: f64| x > 0.0 && x < TAIL;
    if tail(a) && tail(b) {
        return a == b || (a.ln() - b.ln()).abs() <= tolerance * a.ln().abs();
    }
    a == b || (a - b).abs() <= tolerance * a.abs().max(b.abs()).max(1.0)
}

/// How far apart two figures are, in the measure `agree` uses (for the test's report).
pub fn distance(a: f64, b: f64) -> f64 {
    let tail = |x: f64| x > 0.0 && x < TAIL;
    if a == b {
        0.0
    } else if tail(a) && tail(b) {
        (a.ln() - b.ln()).abs() / a.ln().abs()
    } else {
        (a - b).abs() / a.abs().max(b.abs()).max(1.0)
    }
}

/// The largest `distance` between the numbers of two results of the same shape.
pub fn worst_distance(expected: &Value, actual: &Value) -> f64 {
    match (expected, actual) {
        (Value::Number(a), Value::Number(b)) => distance(a.as_f64().expect("number"), b.as_f64().expect("number")),
        (Value::Array(a), Value::Array(b)) => a.iter().zip(b).map(|(x, y)| worst_distance(x, y)).fold(0.0, f64::max),
        (Value::Object(a), Value::Object(b)) => a.iter().filter_map(|(k, x)| b.get(k).map(|y| worst_distance(x, y))).fold(0.0, f64::max),
        _ => 0.0,
    }
}

/// The differences between two results, numbers compared by `agree`; a JSON null and an
/// absent key (how Arrow writes a NULL) are the same.
pub fn differences(path: &str, expected: &Value, actual: &Value, tolerance: f64) -> Vec<String> {
    match (expected, actual) {
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (a.as_f64().expect("number"), b.as_f64().expect("number"));
            if agree(a, b, tolerance) {
                vec![]
            } else {
                vec![format!("{path}: {a:?} vs {b:?}")]
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            a.iter().zip(b).enumerate().flat_map(|(i, (x, y))| differences(&format!("{path}[{i}]"), x, y, tolerance)).collect()
        }
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            keys.into_iter()
                .flat_map(|key| {
                    let (x, y) = (a.get(key).unwrap_or(&Value::Null), b.get(key).unwrap_or(&Value::Null));
                    differences(&format!("{path}.{key}"), x, y, tolerance)
                })
                .collect()
        }
        (a, b) if a == b => vec![],
        (a, b) => vec![format!("{path}: {a} vs {b}")],
    }
}

/// How many numbers a result holds: a comparison of nothing proves nothing.
pub fn numbers_in(value: &Value) -> usize {
    match value {
        Value::Number(_) => 1,
        Value::Array(items) => items.iter().map(numbers_in).sum(),
        Value::Object(fields) => fields.values().map(numbers_in).sum(),
        _ => 0,
    }
}
