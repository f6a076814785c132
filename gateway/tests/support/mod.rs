//! Shared by the gateway's integration tests: a fresh database on the real Postgres that
//! `make test` starts (with pg_ab installed and the schema migrated by the real
//! `ab-gateway migrate`), tokens made by `ab-gateway token create`, and the real
//! `ab-gateway serve` binary on a free loopback port, stopped with SIGTERM.
#![allow(dead_code)] // each test file uses its own subset

use postgres::{Client, NoTls};
use reqwest::blocking::{Client as Http, Response};
use serde_json::Value;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BINARY: &str = env!("CARGO_BIN_EXE_ab-gateway");

/// The server of the test cluster, without a database name.
pub fn server() -> String {
    std::env::var("PG_AB_TEST_SERVER").unwrap_or_else(|_| "host=127.0.0.1 port=54329 user=postgres".to_owned())
}

pub struct Database {
    pub url: String,
}

impl Database {
    /// Drops and creates database `gw_<name>` on `server` and migrates it with the binary.
    pub fn fresh_on(server: &str, name: &str) -> Self {
        let mut admin = Client::connect(&format!("{server} dbname=postgres"), NoTls)
            .unwrap_or_else(|e| panic!("cannot reach Postgres at {server}: {e}. Run `make test`."));
        let database = format!("gw_{name}");
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)")).unwrap();
        admin.batch_execute(&format!("CREATE DATABASE {database}")).unwrap();
        let db = Self { url: format!("{server} dbname={database}") };
        let output = db.cli(&["migrate"]);
        assert!(output.contains("applied migrations [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"), "{output}");
        db
    }

    pub fn fresh(name: &str) -> Self {
        Self::fresh_on(&server(), name)
    }

    pub fn connect(&self) -> Client {
        Client::connect(&self.url, NoTls).unwrap()
    }

    /// Runs an `ab-gateway` subcommand against this database and returns its stdout.
    pub fn cli(&self, args: &[&str]) -> String {
        let output = Command::new(BINARY).args(args).env("DATABASE_URL", &self.url).output().unwrap();
        assert!(output.status.success(), "ab-gateway {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap()
    }

    /// Every row of a query, each as a JSON object of its columns.
    pub fn rows(&self, sql: &str) -> Vec<Value> {
        self.connect()
            .query(&format!("SELECT to_jsonb(r)::text FROM ({sql}) r"), &[])
            .unwrap()
            .iter()
            .map(|row| serde_json::from_str(row.get::<_, &str>(0)).unwrap())
            .collect()
    }

    pub fn token(&self, role: &str) -> String {
        self.cli(&["token", "create", "--role", role]).trim().to_owned()
    }
}

const CLUSTER_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/pg_cluster.sh");
pub const OWN_CLUSTER_PORT: &str = "54339";

/// A private cluster for tests that stop Postgres (so other tests keep theirs), stopped
/// when the test ends however it ends. One test at a time may use it; `start_in` gives a
/// test a cluster of its own (its own settings, such as preloaded libraries).
pub struct OwnCluster {
    dir: &'static str,
    port: &'static str,
}

impl OwnCluster {
    pub fn run(action: &str) {
        Self::run_in("/tmp/pg_ab_own", OWN_CLUSTER_PORT, action);
    }

    pub fn run_in(dir: &str, port: &str, action: &str) {
        let status = Command::new("bash")
            .args([CLUSTER_SCRIPT, action])
            .env("PG_AB_DIR", dir)
            .env("PG_AB_PORT", port)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "pg_cluster.sh {action}");
    }

    pub fn start() -> Self {
        Self::start_in("/tmp/pg_ab_own", OWN_CLUSTER_PORT)
    }

    pub fn start_in(dir: &'static str, port: &'static str) -> Self {
        Self::run_in(dir, port, "start");
        OwnCluster { dir, port }
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        Self::run_in(self.dir, self.port, "stop");
    }
}

pub struct Gateway {
    child: Child,
    log: std::path::PathBuf,
    pub base: String,
    pub http: Http,
    pub admin: String,
    pub sdk: String,
}

/// Runs `ab-gateway serve` with `extra` flags, expecting it to refuse to start: returns
/// what it wrote to stderr once it has exited unsuccessfully (within 20 s).
pub fn refused_start(db: &Database, extra: &[&str]) -> String {
    let listen = format!("127.0.0.1:{}", free_port());
    let mut child = Command::new(BINARY)
        .args(["serve", "--listen", &listen])
        .args(extra)
        .env("DATABASE_URL", &db.url)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the gateway started (or hung) instead of refusing");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!status.success(), "the gateway exited successfully: {stderr}");
    stderr
}

/// An empty directory for an exposure spool, under the tests' scratch directory, without
/// the marker an earlier run may have left beside it (`<dir>.owed`).
pub fn fresh_spool_dir(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("spool-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(dir.with_file_name(format!("spool-{name}.owed")));
    dir
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Gateway {
    /// Starts `ab-gateway serve` with `extra` flags and waits for `/healthz`. Its exposure
    /// spool is a fresh directory unless `extra` names one.
    pub fn start(db: &Database, extra: &[&str]) -> Self {
        Self::start_with(db, extra, |_| {})
    }

    /// `start`, with `adjust` setting the command's working directory or environment first;
    /// an environment naming the spool (`STATE_DIRECTORY`, `AB_EXPOSURE_SPOOL_DIR`) keeps
    /// the fresh one out.
    pub fn start_with(db: &Database, extra: &[&str], adjust: impl FnOnce(&mut Command)) -> Self {
        let (admin, sdk) = (db.token("admin"), db.token("sdk"));
        let base = format!("http://127.0.0.1:{}", free_port());
        let listen = base.trim_start_matches("http://").to_owned();
        let log = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("gateway-{}.log", listen.replace(':', "-")));
        let mut command = Command::new(BINARY);
        command.args(["serve", "--listen", &listen, "--config-refresh-secs", "30"]).args(extra);
        adjust(&mut command);
        let spool_in_env = command.get_envs().any(|(key, _)| key == "STATE_DIRECTORY" || key == "AB_EXPOSURE_SPOOL_DIR");
        if !extra.contains(&"--exposure-spool-dir") && !spool_in_env {
            command.arg("--exposure-spool-dir").arg(fresh_spool_dir(&listen.replace(':', "-")));
        }
        let child = command
            .env("DATABASE_URL", &db.url)
            .env("AB_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let http = Http::builder().timeout(Duration::from_secs(30)).build().unwrap();
        let gateway = Self { child, log, base, http, admin, sdk };
        gateway.wait_until(Duration::from_secs(20), |g| g.http.get(g.url("/healthz")).send().is_ok_and(|r| r.status() == 200));
        gateway
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn post(&self, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
        let mut request = self.http.post(self.url(path)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        answer(request.send().unwrap())
    }

    pub fn patch(&self, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
        let mut request = self.http.patch(self.url(path)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        answer(request.send().unwrap())
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut request = self.http.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        answer(request.send().unwrap())
    }

    /// Creates and starts an experiment from its configuration.
    pub fn running_experiment(&self, config: &Value) -> Value {
        let (status, body) = self.post("/api/v1/experiments", Some(&self.admin), config);
        assert_eq!(status, 201, "{body}");
        let id = config["id"].as_str().unwrap();
        let (status, body) = self.post(&format!("/api/v1/experiments/{id}/start"), Some(&self.admin), &Value::Null);
        assert_eq!(status, 200, "{body}");
        let running = self.db_running_count();
        self.wait_for_running(running);
        body
    }

    fn db_running_count(&self) -> usize {
        let (_, list) = self.get("/api/v1/experiments", Some(&self.admin));
        list.as_array().unwrap().iter().filter(|e| e["status"] == "running").count()
    }

    /// Waits until the gateway's cached configuration holds `count` running experiments.
    pub fn wait_for_running(&self, count: usize) {
        let line = format!("ab_config_running_experiments {count}\n");
        self.wait_until(Duration::from_secs(10), |g| g.metrics().contains(&line));
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn metrics(&self) -> String {
        self.http.get(self.url("/metrics")).send().unwrap().text().unwrap()
    }

    pub fn wait_until(&self, limit: Duration, mut done: impl FnMut(&Self) -> bool) {
        let started = Instant::now();
        while !done(self) {
            assert!(started.elapsed() < limit, "condition not reached within {limit:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL: the process gets no chance to flush anything. Dropping the gateway then
    /// waits for its exit.
    pub fn kill(&self) {
        assert!(Command::new("kill").args(["-KILL", &self.child.id().to_string()]).status().unwrap().success());
    }

    /// SIGTERM, and the exit status once the gateway has flushed and exited.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        self.child.wait().unwrap()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- gateway log ({}):\n{}", self.log.display(), std::fs::read_to_string(&self.log).unwrap_or_default());
        }
    }
}

fn answer(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

/// Deadlocks Postgres counted in the database. Backends report their counts when they
/// exit, so callers stop the gateway first.
pub fn deadlocks(db: &Database) -> i64 {
    let mut client = db.connect();
    client.batch_execute("SELECT pg_stat_clear_snapshot()").unwrap();
    client.query_one("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()", &[]).unwrap().get(0)
}

/// An `/assign` answer as experiment id → variant id.
pub fn assigned(answer: &Value) -> std::collections::HashMap<String, String> {
    answer["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["experiment_id"].as_str().unwrap().to_owned(), a["variant_id"].as_str().unwrap().to_owned()))
        .collect()
}

/// The error code of a JSON error answer, asserting its shape.
pub fn error_code(body: &Value) -> &str {
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "not an error body: {body}");
    body["error"]["code"].as_str().unwrap()
}
