//! `ab-scheduler`: a Ballista scheduler whose sessions know every pg_ab function.
//!
//! ```text
//! ab-scheduler --bind-host 0.0.0.0 --port 50050
//! ```
//! Clients (`ab-sql --cluster df://HOST:50050`) send it SQL plans; executors (`ab-executor`)
//! register with it and run the stages it schedules. Every flag is also an environment
//! variable; `AB_LOG` sets the log filter.

use ab_ballista::{init_logging, session_state};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use clap::Parser;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser)]
#[command(name = "ab-scheduler", about = "A Ballista scheduler that knows pg_ab's functions")]
struct Args {
    /// Address to listen on (gRPC for clients and executors, and the REST API under /api).
    #[arg(long, env = "AB_SCHEDULER_BIND_HOST", default_value = "127.0.0.1")]
    bind_host: String,
    /// Port to listen on.
    #[arg(long, env = "AB_SCHEDULER_PORT", default_value_t = 50050)]
    port: u16,
    /// Host name under which executors and clients reach this scheduler.
    #[arg(long, env = "AB_SCHEDULER_EXTERNAL_HOST", default_value = "localhost")]
    external_host: String,
    /// An executor without a heartbeat for this long is dead: its tasks run again elsewhere.
    #[arg(long, env = "AB_EXECUTOR_TIMEOUT_SECS", default_value_t = 180)]
    executor_timeout_secs: u64,
    /// A task failing this many times fails its job.
    #[arg(long, env = "AB_TASK_MAX_FAILURES", default_value_t = 4)]
    task_max_failures: usize,
}

fn main() -> ExitCode {
    // Before the runtime's threads start: --config puts the file's keys in the environment.
    let args: Args = ab_service_config::parse();
    init_logging("info");
    tokio::runtime::Runtime::new().expect("a tokio runtime").block_on(run(args))
}

async fn run(args: Args) -> ExitCode {
    let address: SocketAddr = match format!("{}:{}", args.bind_host, args.port).parse() {
        Ok(address) => address,
        Err(error) => {
            eprintln!("ab-scheduler: error: --bind-host {}: {error}", args.bind_host);
            return ExitCode::from(2);
        }
    };
    let config = SchedulerConfig {
        bind_host: args.bind_host,
        bind_port: args.port,
        external_host: args.external_host,
        executor_timeout_seconds: args.executor_timeout_secs,
        // Look for dead executors often enough to notice one within the timeout.
        expire_dead_executor_interval_seconds: (args.executor_timeout_secs / 4).clamp(1, 15),
        no_executors_grace_period_seconds: args.executor_timeout_secs,
        task_max_failures: args.task_max_failures,
        stage_max_failures: args.task_max_failures,
        override_session_builder: Some(Arc::new(session_state)),
        ..SchedulerConfig::default()
    };
    let served = async {
        let cluster = BallistaCluster::new_from_config(&config).await?;
        start_server(cluster, address, Arc::new(config)).await
    };
    match served.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ab-scheduler: error: {error}");
            ExitCode::FAILURE
        }
    }
}
