//! Command line and environment configuration (`--flag`, the `AB_*` variable, or that key in
//! the `--config` file: ab_service_config).

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Where the exposure spool lives when neither `--exposure-spool-dir` nor
/// `$STATE_DIRECTORY` says: one fixed place, whatever the working directory.
pub const DEFAULT_STATE_DIRECTORY: &str = "/var/lib/pg-ab-gateway";
/// The spool's directory under the state directory.
pub const SPOOL_DIR_NAME: &str = "exposure-spool";

#[derive(Parser, Debug)]
#[command(name = "ab-gateway", version, about = "pg_ab's HTTP gateway over Postgres")]
pub struct Cli {
    /// Postgres connection: a libpq string ("host=… dbname=…") or a postgres:// URL.
    #[arg(long, env = "DATABASE_URL", global = true, default_value = "host=127.0.0.1 port=54329 user=postgres dbname=pg_ab_demo")]
    pub database_url: String,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the HTTP API.
    Serve(ServeSettings),
    /// Apply the schema migrations in sql/migrations that are not applied yet.
    Migrate,
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create a token and print it once; only its SHA-256 is stored.
    Create {
        #[arg(long, value_enum)]
        role: Role,
        #[arg(long, default_value = "")]
        description: String,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Manages experiments and reads results; may also assign and send events.
    Admin,
    /// Assigns and sends events.
    Sdk,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Sdk => "sdk",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "admin" => Some(Role::Admin),
            "sdk" => Some(Role::Sdk),
            _ => None,
        }
    }
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Args, Debug, Clone)]
pub struct ServeSettings {
    #[arg(long, env = "AB_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Require an SDK key on /assign and /events; turn off only on trusted networks.
    #[arg(long, env = "AB_SDK_AUTH", default_value_t = true, action = clap::ArgAction::Set)]
    pub sdk_auth: bool,
    /// Largest request body accepted, in bytes (413 above).
    #[arg(long, env = "AB_MAX_BODY_BYTES", default_value_t = 1 << 20)]
    pub max_body_bytes: usize,
    /// Sustained events per second per user (token bucket; 0 turns the limit off).
    #[arg(long, env = "AB_USER_EVENTS_PER_SECOND", default_value_t = 100.0)]
    pub user_events_per_second: f64,
    /// Events a user may send at once above the sustained rate.
    #[arg(long, env = "AB_USER_EVENTS_BURST", default_value_t = 1000.0)]
    pub user_events_burst: f64,
    /// Days of events kept; older daily partitions are dropped.
    #[arg(long, env = "AB_RETENTION_DAYS", default_value_t = 90)]
    pub retention_days: i32,
    /// Daily partitions created ahead of today.
    #[arg(long, env = "AB_PARTITIONS_AHEAD_DAYS", default_value_t = 7)]
    pub partitions_ahead_days: i32,
    #[arg(long, env = "AB_MAINTENANCE_INTERVAL_SECS", default_value_t = 60)]
    pub maintenance_interval_secs: u64,
    /// Refresh the results snapshots (and check guardrails) this often; results are at most
    /// this plus the refresh time old.
    #[arg(long, env = "AB_RESULTS_REFRESH_SECS", default_value_t = 30)]
    pub results_refresh_secs: u64,
    /// Reload the configuration at least this often, besides LISTEN/NOTIFY.
    #[arg(long, env = "AB_CONFIG_REFRESH_SECS", default_value_t = 30)]
    pub config_refresh_secs: u64,
    /// Concurrent group-commit writers for events (each holds one connection while writing).
    #[arg(long, env = "AB_EVENT_WRITERS", default_value_t = 2)]
    pub event_writers: usize,
    /// Directory of this gateway's exposure spool, an absolute path (created if absent).
    /// Each gateway needs its own; exposures of an earlier run found there are written
    /// first. Default: `exposure-spool` under `$STATE_DIRECTORY` (systemd's
    /// `StateDirectory=`) when that is set, else /var/lib/pg-ab-gateway/exposure-spool.
    #[arg(long, env = "AB_EXPOSURE_SPOOL_DIR")]
    pub exposure_spool_dir: Option<PathBuf>,
    /// Milliseconds between fsyncs of the exposure spool: what a machine crash can lose.
    /// A killed process loses only exposures not yet handed to the kernel (microseconds).
    #[arg(long, env = "AB_EXPOSURE_FSYNC_MS", default_value_t = 5)]
    pub exposure_fsync_ms: u64,
    /// Exposures the spool may hold before Postgres has them, in MiB (about 15k exposures
    /// per MiB); past it, /assign answers 503 exposure_log_full for units not seen before.
    #[arg(long, env = "AB_EXPOSURE_SPOOL_MAX_MB", default_value_t = 1024)]
    pub exposure_spool_max_mb: u64,
    /// Exposures written to Postgres per statement; only a full batch may wait (below).
    #[arg(long, env = "AB_EXPOSURE_BATCH_ROWS", default_value_t = 5_000, value_parser = batch_rows)]
    pub exposure_batch_rows: usize,
    /// A full batch of exposures waits while the workers are busy answering at least this
    /// share of the time (0 < share <= 1; 1 waits only when they are never idle).
    #[arg(long, env = "AB_EXPOSURE_DEFER_BUSY_SHARE", default_value_t = 0.5, value_parser = busy_share)]
    pub exposure_defer_busy_share: f64,
    #[arg(long, env = "AB_POOL_SIZE", default_value_t = 16)]
    pub pool_size: usize,
    /// Threads answering requests (default: one per core).
    #[arg(long, env = "AB_WORKER_THREADS")]
    pub worker_threads: Option<usize>,
    #[arg(long, env = "AB_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
}

fn batch_rows(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(rows) if (1..=100_000).contains(&rows) => Ok(rows),
        _ => Err(format!("{text:?} is not a number of rows from 1 to 100000")),
    }
}

fn busy_share(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(share) if share > 0.0 && share <= 1.0 => Ok(share),
        _ => Err(format!("{text:?} is not a share in (0, 1]")),
    }
}

impl ServeSettings {
    /// The exposure spool's directory: the flag (or `AB_EXPOSURE_SPOOL_DIR`) if given, else
    /// `exposure-spool` under the first of `$STATE_DIRECTORY`'s paths (systemd sets it from
    /// `StateDirectory=`), else under /var/lib/pg-ab-gateway. Never relative: a spool found
    /// through the working directory is lost to a restart from another one.
    pub fn exposure_spool_dir(&self) -> anyhow::Result<PathBuf> {
        resolve_spool_dir(self.exposure_spool_dir.as_deref(), std::env::var_os("STATE_DIRECTORY").as_deref())
    }
}

fn resolve_spool_dir(configured: Option<&Path>, state_directory: Option<&std::ffi::OsStr>) -> anyhow::Result<PathBuf> {
    let (dir, source) = match (configured, state_directory.and_then(|s| s.to_str())) {
        (Some(dir), _) => (dir.to_owned(), "--exposure-spool-dir (AB_EXPOSURE_SPOOL_DIR)"),
        (None, Some(states)) if !states.is_empty() => {
            (Path::new(states.split(':').next().unwrap_or(states)).join(SPOOL_DIR_NAME), "$STATE_DIRECTORY")
        }
        (None, _) => (Path::new(DEFAULT_STATE_DIRECTORY).join(SPOOL_DIR_NAME), "the default"),
    };
    anyhow::ensure!(
        dir.is_absolute(),
        "the exposure spool directory '{}' (from {source}) is relative; give an absolute path, so that every start finds the same spool",
        dir.display()
    );
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spool_defaults_to_one_absolute_place() {
        let dir = |configured: Option<&str>, state: Option<&str>| {
            resolve_spool_dir(configured.map(Path::new), state.map(std::ffi::OsStr::new)).map_err(|e| e.to_string())
        };
        assert_eq!(dir(None, None).unwrap(), Path::new("/var/lib/pg-ab-gateway/exposure-spool"));
        assert_eq!(dir(None, Some("")).unwrap(), Path::new("/var/lib/pg-ab-gateway/exposure-spool"));
        assert_eq!(dir(None, Some("/var/lib/ab")).unwrap(), Path::new("/var/lib/ab/exposure-spool"));
        assert_eq!(dir(None, Some("/var/lib/ab:/var/lib/other")).unwrap(), Path::new("/var/lib/ab/exposure-spool"));
        assert_eq!(dir(Some("/srv/spool"), Some("/var/lib/ab")).unwrap(), Path::new("/srv/spool"));
        assert!(dir(Some("exposure-spool"), None).unwrap_err().contains("relative"));
        assert!(dir(None, Some("state")).unwrap_err().contains("$STATE_DIRECTORY"));
    }
}
