//! The state every handler shares. It lives apart from the router so that handlers,
//! extractors and background tasks import it without importing the router that imports them.

use deadpool_postgres::Pool;
use std::sync::Arc;

use crate::cache::ConfigCache;
use crate::events::EventWriter;
use crate::exposures::ExposureLog;
use crate::metrics::Metrics;
use crate::ratelimit::RateLimiter;
use crate::settings::ServeSettings;

#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub cache: Arc<ConfigCache>,
    pub exposures: Arc<ExposureLog>,
    pub events: EventWriter,
    pub metrics: Metrics,
    pub settings: Arc<ServeSettings>,
    pub limiter: Arc<RateLimiter>,
}
