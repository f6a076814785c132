//! The application: the router (with the OpenAPI document generated from
//! the handlers' annotations), and `serve` with its background tasks and graceful shutdown.

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::header::CONTENT_LENGTH;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::sync::Arc;
use std::time::Duration;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::cache::ConfigCache;
use crate::error::ApiError;
use crate::events::EventWriter;
use crate::exposures::{flush_exposures, ExposureLog, FlushSettings};
use crate::metrics::{track, Metrics};
use crate::ratelimit::RateLimiter;
use crate::routes::planning::{MIN_ALPHA, MIN_POWER};
use crate::routes::{assign, events, experiments, health, ofrep, planning};
use crate::settings::ServeSettings;
use crate::spool::{Spool, SpoolSettings};
use crate::state::AppState;
use crate::{db, maintenance, pages};

#[derive(OpenApi)]
#[openapi(info(title = "pg_ab gateway", description = "Assignment, events and experiment management for pg_ab"),
    modifiers(&BearerAuth))]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
    }
}

/// Declares the answers that layers give rather than handlers, on every operation they
/// can come from: 401 wherever a token is needed, and 400 (not JSON), 413 (too large)
/// and 415 (not `application/json`) wherever the `Json` extractor reads the body. The
/// OFREP routes read their body themselves and answer in OFREP's shape instead.
struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{path::Operation, Ref, ResponseBuilder};
        let error = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content("application/json", utoipa::openapi::ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build())
                .build()
        };
        let declare = |operation: &mut Operation, path: &str| {
            let responses = &mut operation.responses.responses;
            let mut add = |status: &str, description: &str| {
                responses.entry(status.to_owned()).or_insert_with(|| error(description).into());
            };
            if operation.security.is_some() {
                add("401", "No token, or an unknown or revoked one");
            }
            if operation.request_body.is_some() && !path.starts_with("/ofrep/") {
                add("400", "The body is not valid JSON");
                add("413", "The body is larger than --max-body-bytes");
                add("415", "The body is not sent as application/json");
            }
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            for operation in [&mut item.get, &mut item.post, &mut item.patch, &mut item.put, &mut item.delete].into_iter().flatten() {
                declare(operation, path);
            }
        }
    }
}

/// Finishes the generated document where utoipa cannot, so that it states the contract
/// exactly (issue 31).
///
/// Links from every answer that carries an experiment to what can be done with it, so
/// that clients (and schemathesis' stateful phase) follow its id to read, change, start,
/// pause and complete it: from a created, read, changed or started experiment by its
/// `id`, from the list by its first entry's. Written into the JSON: utoipa 5.5 serializes
/// its `Link` with snake_case keys (`operation_id`), which no client reads.
///
/// `id` is optional when creating (the gateway generates one), though `ab_core`'s
/// configuration, which the create body is, always has one; and an example body, which
/// creates an experiment each time it is sent.
///
/// The bounds of the planning inputs that `ab_core`'s derived `Planning` schema cannot
/// carry: `alpha` and `power` from `planning::check_design`, and `mde` any number but 0 (a
/// decrease is negative), in `Planning` and in the sample-size `Plan`.
fn complete_the_contract(document: &mut serde_json::Value) {
    use serde_json::json;
    let everything = ["get", "update", "start", "pause", "complete", "results"];
    let sources: [(&str, &str, &str, &[&str]); 6] = [
        ("/api/v1/experiments", "post", "201", &everything),
        ("/api/v1/experiments", "get", "200", &everything),
        ("/api/v1/experiments/{id}", "get", "200", &everything),
        ("/api/v1/experiments/{id}", "patch", "200", &["start", "results"]),
        ("/api/v1/experiments/{id}/start", "post", "200", &["pause", "complete", "results"]),
        ("/api/v1/experiments/{id}/pause", "post", "200", &["start", "complete"]),
    ];
    for (path, method, status, targets) in sources {
        let response = &mut document["paths"][path][method]["responses"][status];
        assert!(response.is_object(), "{method} {path} answers {status}");
        let id = if method == "get" && path == "/api/v1/experiments" { "$response.body#/0/id" } else { "$response.body#/id" };
        let links = targets.iter().map(|&target| (target.to_owned(), json!({"operationId": target, "parameters": {"id": id}})));
        response["links"] = serde_json::Value::Object(links.collect());
    }
    document["paths"]["/api/v1/experiments"]["post"]["requestBody"]["content"]["application/json"]["example"] = json!({
        "name": "Green checkout button",
        "variants": [{"id": "control", "weight": 0.5, "is_control": true}, {"id": "green", "weight": 0.5, "config": {"color": "green"}}],
        "metrics": [{"id": "purchase", "kind": "conversion", "event_type": "purchase"}],
        "planning": {"baseline": 0.1, "mde": 0.05}
    });
    let schemas = &mut document["components"]["schemas"];
    for part in schemas["ExperimentConfig"]["allOf"].as_array_mut().expect("ExperimentConfig flattens Allocation") {
        if let Some(required) = part["required"].as_array_mut() {
            required.retain(|field| field != "id");
        }
    }
    let planning = &mut schemas["Planning"]["properties"];
    for (field, minimum) in [("alpha", MIN_ALPHA), ("power", MIN_POWER)] {
        let bounds = planning[field].as_object_mut().expect("Planning has alpha and power");
        bounds.remove("exclusiveMinimum");
        bounds.insert("minimum".to_owned(), json!(minimum));
    }
    for schema in ["Planning", "Plan"] {
        let mde = schemas[schema]["properties"]["mde"].as_object_mut().expect("an mde");
        mde.remove("exclusiveMinimum");
        mde.insert("not".to_owned(), json!({"const": 0}));
    }
}

/// The routes and the OpenAPI document generated from their annotations.
fn api() -> (Router<AppState>, serde_json::Value) {
    let (router, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(assign::assign))
        .routes(routes!(events::ingest))
        .routes(routes!(experiments::create, experiments::list))
        .routes(routes!(experiments::get, experiments::update))
        .routes(routes!(experiments::start))
        .routes(routes!(experiments::pause))
        .routes(routes!(experiments::complete))
        .routes(routes!(experiments::results))
        .routes(routes!(planning::sample_size))
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(health::metrics))
        .routes(routes!(ofrep::evaluate_flag))
        .routes(routes!(ofrep::evaluate_flags))
        .split_for_parts();
    // After the routes are in: the modifier reads their operations.
    let mut openapi = openapi;
    CommonResponses.modify(&mut openapi);
    let mut document = serde_json::to_value(&openapi).expect("the OpenAPI document serializes");
    complete_the_contract(&mut document);
    crate::limits::state_in(&mut document);
    (router, document)
}

pub fn router(state: AppState) -> Router {
    let (router, document) = api();
    let openapi = Arc::new(document);
    router
        .route("/openapi.json", get(move || async move { axum::Json(openapi.as_ref().clone()) }))
        .route("/", get(pages::index))
        .route("/experiments/{id}", get(pages::experiment))
        .fallback(|| async { ApiError::not_found("no such route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "method not allowed on this route")
        })
        .layer(DefaultBodyLimit::max(state.settings.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(state.clone(), reject_oversized))
        .layer(axum::middleware::from_fn_with_state(state.metrics.clone(), track))
        .with_state(state)
}

/// Answers 413 from the Content-Length alone, before reading a body that is too large
/// (bodies without a length are cut at the same limit while they are read).
async fn reject_oversized(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(length) if length > state.settings.max_body_bytes as u64 => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the body has {length} bytes, at most {} are accepted", state.settings.max_body_bytes),
        )
        .into_response(),
        _ => next.run(request).await,
    }
}

/// Serves until SIGTERM or Ctrl-C, then stops accepting, lets in-flight requests finish,
/// syncs the exposure spool and writes it to Postgres (events are answered only once
/// committed, so none are pending) and returns.
pub async fn serve(database_url: &str, settings: ServeSettings) -> anyhow::Result<()> {
    let pg_config = db::parse_config(database_url)?;
    let pool = db::pool(pg_config.clone(), settings.pool_size);
    let metrics = Metrics::new();
    let cache = Arc::new(ConfigCache::new(pool.clone()));
    if let Err(error) = cache.reload().await {
        tracing::warn!(message = %error.message, "no configuration yet; assigning nothing until Postgres answers");
    }
    tokio::spawn(Arc::clone(&cache).follow_changes(pg_config, Duration::from_secs(settings.config_refresh_secs)));
    let spool_dir = settings.exposure_spool_dir()?;
    refuse_an_abandoned_relative_spool(&spool_dir)?;
    tracing::info!(dir = %spool_dir.display(), "exposure spool");
    let (spool, spool_reader, spool_appender) = Spool::open(SpoolSettings {
        dir: spool_dir,
        fsync_interval: Duration::from_millis(settings.exposure_fsync_ms),
        max_bytes: settings.exposure_spool_max_mb << 20,
    })?;
    let exposure_flusher = tokio::spawn(flush_exposures(
        pool.clone(),
        spool_reader,
        FlushSettings { batch_rows: settings.exposure_batch_rows, busy_share: settings.exposure_defer_busy_share },
        metrics.clone(),
    ));
    let (events, event_writers) = EventWriter::start(pool.clone(), settings.event_writers, metrics.clone());
    let maintenance = tokio::spawn(maintenance::run(pool.clone(), settings.clone(), metrics.clone()));
    let state = AppState {
        pool,
        cache,
        exposures: Arc::new(ExposureLog::new(spool)),
        events,
        metrics,
        limiter: Arc::new(RateLimiter::new(settings.user_events_per_second, settings.user_events_burst)),
        settings: Arc::new(settings),
    };
    let listener = tokio::net::TcpListener::bind(state.settings.listen).await?;
    tracing::info!(address = %listener.local_addr()?, "listening");
    axum::serve(listener, router(state)).with_graceful_shutdown(shutdown_signal()).await?;
    tracing::info!("stopped accepting; flushing");
    maintenance.abort();
    // The router and its state are gone, so the queues' senders are dropped and the
    // writers end after draining them.
    for writer in event_writers {
        let _ = writer.await;
    }
    // The spool's appender has the last exposures on disk once it ends; the flusher then
    // gets 10 s to write them to Postgres, and the next start writes whatever it left.
    let _ = tokio::task::spawn_blocking(move || spool_appender.join()).await;
    match tokio::time::timeout(Duration::from_secs(10), exposure_flusher).await {
        Ok(_) => tracing::info!("exposures flushed"),
        Err(_) => tracing::warn!("exposures not flushed within 10 s (is Postgres down?); they stay in the spool for the next start"),
    }
    Ok(())
}

/// Until the spool had one fixed home it defaulted to `exposure-spool` in the working
/// directory. Segments left there by such a run are exposures this start would never
/// write: refuse, saying where they are.
fn refuse_an_abandoned_relative_spool(spool_dir: &std::path::Path) -> anyhow::Result<()> {
    let old = std::env::current_dir()?.join(crate::settings::SPOOL_DIR_NAME);
    if old != spool_dir && crate::spool::holds_segments(&old)? {
        anyhow::bail!(
            "{} holds an exposure spool of an earlier run (the relative default of earlier versions), but the spool is now {}. \
             Start once with --exposure-spool-dir {} to write its exposures to Postgres, then remove it",
            old.display(),
            spool_dir.display(),
            old.display()
        );
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate.recv() => {},
    }
    tracing::info!("shutdown signal received");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bounds the document states are the ones `planning::check_design` enforces.
    #[test]
    fn the_document_states_the_planning_bounds_the_server_enforces() {
        let document = api().1;
        let schemas = &document["components"]["schemas"];
        for schema in [&schemas["Planning"], &schemas["Plan"]] {
            assert_eq!(schema["properties"]["alpha"]["minimum"].as_f64(), Some(MIN_ALPHA), "{schema}");
            assert_eq!(schema["properties"]["power"]["minimum"].as_f64(), Some(MIN_POWER), "{schema}");
            assert_eq!(schema["properties"]["mde"]["not"], serde_json::json!({"const": 0}), "{schema}");
            assert!(schema["properties"]["alpha"].get("exclusiveMinimum").is_none(), "{schema}");
        }
        assert!(planning::check_design(MIN_ALPHA, MIN_POWER, "").is_ok());
        assert!(planning::check_design(MIN_ALPHA / 2.0, 0.8, "").is_err());
        assert!(planning::check_design(0.05, MIN_POWER / 2.0, "").is_err());
        let links = &document["paths"]["/api/v1/experiments"]["get"]["responses"]["200"]["links"];
        assert_eq!(links["start"]["parameters"]["id"], "$response.body#/0/id");
    }

    /// The request limits the document states are crate::limits', which the parsers check;
    /// and every identifier pattern in it (ab_core's derived schemas carry it as a literal)
    /// is ab_core's one.
    #[test]
    fn the_document_states_the_request_limits_the_parsers_check() {
        use crate::limits::{MAX_BATCH_EVENTS, MAX_EVENT_TEXT, MAX_UNIT_ID};
        let document = api().1;
        let schemas = &document["components"]["schemas"];
        for (schema, property, max) in
            [("AssignRequest", "user_id", MAX_UNIT_ID), ("Event", "user_id", MAX_UNIT_ID), ("Event", "event_id", MAX_EVENT_TEXT)]
        {
            let bounds = &schemas[schema]["properties"][property];
            assert_eq!(bounds["maxLength"].as_u64(), Some(max as u64), "{schema}.{property}: {bounds}");
            assert_eq!(bounds["minLength"].as_u64(), Some(1), "{schema}.{property}: {bounds}");
        }
        assert_eq!(schemas["EventBatch"]["properties"]["events"]["maxItems"].as_u64(), Some(MAX_BATCH_EVENTS as u64));
        let mut patterns = Vec::new();
        collect_patterns(&document, &mut patterns);
        let identifiers: Vec<&String> = patterns.iter().filter(|p| p.contains("A-Za-z0-9")).collect();
        assert!(identifiers.len() >= 4, "{patterns:?}");
        assert!(identifiers.iter().all(|p| *p == ab_core::experiment::IDENTIFIER_PATTERN), "{identifiers:?}");
    }

    fn collect_patterns(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::String(pattern)) = map.get("pattern") {
                    out.push(pattern.clone());
                }
                map.values().for_each(|v| collect_patterns(v, out));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| collect_patterns(v, out)),
            _ => {}
        }
    }
}
