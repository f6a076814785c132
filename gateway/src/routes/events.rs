//! `POST /api/v1/events`: one event or a batch of up to 1000, answered 202 only once
//! committed (group commit in [`crate::events`]).

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::HashMap;
use utoipa::openapi::schema::{ArrayBuilder, OneOfBuilder, Schema};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::auth::Sdk;
use crate::error::{ApiError, Json};
use crate::events::parse_body;
use crate::limits::MAX_BATCH_EVENTS;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct EventsAccepted {
    /// Events in the request, now committed; a retried event is stored once.
    pub accepted: usize,
}

// The request's schema. `crate::events::parse_event` reads the body itself, to name the
// offending event and field in each message; Deserialize is derived for the serde
// attributes the schema reads.
/// One event.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// Identifies the event across retries; without it, (user_id, event_type, timestamp) does.
    pub event_id: Option<String>,
    /// The unit. The limits of these texts are crate::limits', written into this schema by app.rs.
    pub user_id: String,
    pub event_type: String,
    /// RFC 3339; at most a day ahead and within the retention period (else 422).
    #[schema(format = DateTime)]
    pub timestamp: String,
    /// The numbers metrics read, by field name.
    pub metrics: Option<HashMap<String, f64>>,
    /// Any other attributes.
    #[schema(value_type = Option<Object>)]
    pub properties: Option<Map<String, Value>>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventBatch {
    pub events: Vec<Event>,
}

/// The body: one event, `{"events": [...]}`, or an array of 1 to 1000 events. (Written by
/// hand: the derive cannot put item bounds on a bare array.)
pub struct EventsRequest;

impl utoipa::PartialSchema for EventsRequest {
    fn schema() -> RefOr<Schema> {
        let event = || Ref::from_schema_name("Event");
        OneOfBuilder::new()
            .item(event())
            .item(Ref::from_schema_name("EventBatch"))
            .item(ArrayBuilder::new().items(event()).min_items(Some(1)).max_items(Some(MAX_BATCH_EVENTS)))
            .description(Some("One event, {\"events\": [...]}, or an array of events"))
            .into()
    }
}

impl ToSchema for EventsRequest {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((Event::name().into(), Event::schema()));
        schemas.push((EventBatch::name().into(), EventBatch::schema()));
    }
}

/// Record events: one, `{"events": [...]}` or an array of at most 1000.
#[utoipa::path(post, path = "/api/v1/events", request_body = EventsRequest,
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
