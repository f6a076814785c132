//! `ab-executor`: a Ballista executor that runs plans with pg_ab's functions in them.
//!
//! ```text
//! ab-executor --scheduler-host sched.internal --scheduler-port 50050 --work-dir /var/lib/ab-executor
//! ```
//! It registers with the scheduler, runs the tasks it is given and serves the shuffle files
//! it writes (in `--work-dir`) to the other executors over Arrow Flight. Every flag is also
//! an environment variable; `AB_LOG` sets the log filter.

use ab_ballista::{function_registry, init_logging};
use ballista_executor::executor_process::{start_executor_process, ExecutorProcessConfig};
use clap::Parser;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser)]
#[command(name = "ab-executor", about = "A Ballista executor that knows pg_ab's functions")]
struct Args {
    /// The scheduler's host.
    #[arg(long, env = "AB_SCHEDULER_HOST", default_value = "localhost")]
    scheduler_host: String,
    /// The scheduler's port.
    #[arg(long, env = "AB_SCHEDULER_PORT", default_value_t = 50050)]
    scheduler_port: u16,
    /// How long to keep trying to reach the scheduler at start (0: give up at once).
    #[arg(long, env = "AB_SCHEDULER_CONNECT_TIMEOUT_SECS", default_value_t = 60)]
    scheduler_connect_timeout_secs: u16,
    /// Address to listen on.
    #[arg(long, env = "AB_EXECUTOR_BIND_HOST", default_value = "127.0.0.1")]
    bind_host: String,
    /// Host name under which the scheduler and the other executors reach this one
    /// (default: the bind address).
    #[arg(long, env = "AB_EXECUTOR_EXTERNAL_HOST")]
    external_host: Option<String>,
    /// Arrow Flight port: where other executors and clients fetch this executor's results.
    #[arg(long, env = "AB_EXECUTOR_PORT", default_value_t = 50051)]
    port: u16,
    /// gRPC port: where the scheduler sends tasks.
    #[arg(long, env = "AB_EXECUTOR_GRPC_PORT", default_value_t = 50052)]
    grpc_port: u16,
    /// Directory for shuffle files (default: a fresh temporary directory).
    #[arg(long, env = "AB_EXECUTOR_WORK_DIR")]
    work_dir: Option<String>,
    /// Tasks run at once (default: one per core).
    #[arg(long, env = "AB_EXECUTOR_CONCURRENT_TASKS", default_value_t = 0)]
    concurrent_tasks: usize,
    /// Seconds between heartbeats to the scheduler; keep it well under the scheduler's
    /// --executor-timeout-secs.
    #[arg(long, env = "AB_EXECUTOR_HEARTBEAT_SECS", default_value_t = 60)]
    heartbeat_secs: u64,
}

fn main() -> ExitCode {
    // Before the runtime's threads start: --config puts the file's keys in the environment.
    let args: Args = ab_service_config::parse();
    init_logging("info");
    tokio::runtime::Runtime::new().expect("a tokio runtime").block_on(run(args))
}

async fn run(args: Args) -> ExitCode {
    let started = async {
        let config = ExecutorProcessConfig {
            scheduler_host: args.scheduler_host,
            scheduler_port: args.scheduler_port,
            scheduler_connect_timeout_seconds: args.scheduler_connect_timeout_secs,
            bind_host: args.bind_host,
            external_host: args.external_host,
            port: args.port,
            grpc_port: args.grpc_port,
            work_dir: args.work_dir,
            vcores: args.concurrent_tasks,
            executor_heartbeat_interval_seconds: args.heartbeat_secs,
            override_function_registry: Some(function_registry()?),
            ..ExecutorProcessConfig::default()
        };
        start_executor_process(Arc::new(config)).await
    };
    match started.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ab-executor: error: {error}");
            ExitCode::FAILURE
        }
    }
}
