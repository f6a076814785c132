//! Command line and environment configuration (`--flag` or the `AB_*` variable).

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;

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
    /// Directory of this gateway's exposure spool (created if absent). Each gateway needs
    /// its own; exposures of an earlier run found there are written first.
    #[arg(long, env = "AB_EXPOSURE_SPOOL_DIR", default_value = "exposure-spool")]
    pub exposure_spool_dir: std::path::PathBuf,
    /// Milliseconds between fsyncs of the exposure spool: what a machine crash can lose.
    /// A killed process loses only exposures not yet handed to the kernel (microseconds).
    #[arg(long, env = "AB_EXPOSURE_FSYNC_MS", default_value_t = 5)]
    pub exposure_fsync_ms: u64,
    /// Exposures the spool may hold before Postgres has them, in MiB (about 15k exposures
    /// per MiB); past it, /assign answers 503 exposure_log_full for units not seen before.
    #[arg(long, env = "AB_EXPOSURE_SPOOL_MAX_MB", default_value_t = 1024)]
    pub exposure_spool_max_mb: u64,
    #[arg(long, env = "AB_POOL_SIZE", default_value_t = 16)]
    pub pool_size: usize,
    /// Threads answering requests (default: one per core).
    #[arg(long, env = "AB_WORKER_THREADS")]
    pub worker_threads: Option<usize>,
    #[arg(long, env = "AB_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
}
