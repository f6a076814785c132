//! `ab_ballista`: an Apache DataFusion Ballista cluster that knows every pg_ab function.
//!
//! Ballista plans a query on the scheduler and runs its stages on executors; both decode the
//! plans they receive by looking functions up by name. This crate gives them sessions whose
//! registries hold every `ab_*` scalar and aggregate function (`ab_datafusion::register_all`),
//! through Ballista's own extension points (the scheduler's session builder and the executor's
//! function registry), so `ab-scheduler` and `ab-executor` are Ballista's processes with pg_ab
//! inside, not a fork. Our functions carry no state beyond their name, so Ballista's default
//! plan codecs serialize them as they are.

use ballista_core::registry::BallistaFunctionRegistry;
use ballista_core::utils::{default_config_producer, default_session_builder};
use datafusion::common::Result;
use datafusion::execution::SessionState;
use datafusion::prelude::{SessionConfig, SessionContext};
use std::sync::Arc;

/// Ballista's default session for `config`, with every pg_ab function registered: the
/// scheduler's session builder.
pub fn session_state(config: SessionConfig) -> Result<SessionState> {
    let ctx = SessionContext::new_with_state(default_session_builder(config)?);
    ab_datafusion::register_all(&ctx);
    Ok(ctx.state())
}

/// DataFusion's and pg_ab's functions, as the executor resolves them in the plans it runs.
pub fn function_registry() -> Result<Arc<BallistaFunctionRegistry>> {
    Ok(Arc::new(BallistaFunctionRegistry::from(&session_state(default_config_producer())?)))
}

/// Logs to stderr, filtered by `AB_LOG` (as the gateway), else by `default_filter`.
pub fn init_logging(default_filter: &str) {
    let filter = std::env::var("AB_LOG").unwrap_or_else(|_| default_filter.to_owned());
    tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .init();
}
