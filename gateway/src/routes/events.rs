//! `POST /api/v1/events`: one event or a batch of up to 1000, answered 202 only once
//! committed (group commit in [`crate::events`]).

use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use utoipa::ToSchema;

use crate::auth::Sdk;
use crate::error::{ApiError, Json};
use crate::events::parse_body;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct EventsAccepted {
    /// Events in the request, now committed; a retried event is stored once.
    pub accepted: usize,
}

/// Record events: `{"user_id", "event_type", "timestamp", "metrics"?, "properties"?, "event_id"?}`,
/// `{"events": [...]}` or an array.
#[utoipa::path(post, path = "/api/v1/events", request_body(content = Object, description = "An event, {\"events\": [...]} or an array of at most 1000 events"),
    responses((status = 202, body = EventsAccepted), (status = 422, body = crate::error::ErrorBody),
              (status = 413, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody),
              (status = 503, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn ingest(State(state): State<AppState>, _: Sdk, Json(body): Json<Value>) -> Result<(StatusCode, Json<EventsAccepted>), ApiError> {
    let rows = parse_body(&body, chrono::Utc::now(), state.settings.retention_days)?;
    let mut demand: HashMap<&str, usize> = HashMap::new();
    for row in &rows {
        *demand.entry(row.user_id.as_str()).or_default() += 1;
    }
    if let Err(user) = state.limiter.admit(&demand) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("user '{user}' is over {} events per second; nothing of this request was stored", state.settings.user_events_per_second),
        ));
    }
    let accepted = rows.len();
    state.events.write(rows, &state.metrics).await?;
    Ok((StatusCode::ACCEPTED, Json(EventsAccepted { accepted })))
}
