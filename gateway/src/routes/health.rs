//! Liveness, readiness, Prometheus metrics and the OpenAPI document.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use serde::Serialize;
use std::time::Duration;
use utoipa::ToSchema;

use crate::error::{ApiError, Json};
use crate::metrics::ScrapeGauges;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct HealthStatus {
    pub status: &'static str,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", responses((status = 200, body = HealthStatus)))]
pub async fn healthz() -> Json<HealthStatus> {
    Json(HealthStatus { status: "ok" })
}

/// The database answers (within a second).
#[utoipa::path(get, path = "/readyz", responses((status = 200, body = HealthStatus), (status = 503, body = crate::error::ErrorBody)))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<HealthStatus>, ApiError> {
    let probe = async {
        let client = state.pool.get().await.map_err(|e| e.to_string())?;
        client.simple_query("SELECT 1").await.map_err(|e| e.to_string())
    };
    match tokio::time::timeout(Duration::from_secs(1), probe).await {
        Ok(Ok(_)) => Ok(Json(HealthStatus { status: "ready" })),
        Ok(Err(error)) => Err(ApiError::unavailable(error)),
        Err(_) => Err(ApiError::unavailable("no answer within 1 s")),
    }
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let text = state.metrics.render(ScrapeGauges {
        cache_age_seconds: state.cache.age_seconds(),
        running_experiments: state.cache.snapshot().running.len(),
        exposure_spool_bytes: state.exposures.spool().disk_bytes(),
        exposure_spool_unflushed_bytes: state.exposures.spool().unflushed_bytes(),
        exposure_spool_full: state.exposures.spool().is_full(),
    });
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}
