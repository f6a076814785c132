//! Experiment management: create, list, get, update, and the status transitions
//! draft → running ⇄ paused → completed. Configuration is validated by `ab_core`.
//!
//! Updates are a JSON merge of top-level fields. In draft anything but `id` and `salt`
//! may change. Once started, only `name`, `description`, `traffic_fraction`, `auto_pause`
//! and the variants' weights may change (ramp-ups), and such a change marks the
//! experiment `reallocated` so stored first exposures keep units in their variant.
//! A completed experiment is frozen.

use ab_core::experiment::ExperimentConfig;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::Value;

use crate::auth::Admin;
use crate::error::{ApiError, Json};
use crate::state::AppState;
use crate::store::{self, Experiment, Status};

type ErrorBody = crate::error::ErrorBody;

/// Fields a running, paused experiment may change.
const CHANGEABLE_AFTER_START: &[&str] = &["name", "description", "traffic_fraction", "auto_pause", "variants"];

/// Create an experiment in draft. Without an `id`, one is generated (`experiment-` and 16
/// hex digits) and answered; without a `salt`, one is generated too. Neither ever changes.
/// Rules the schema cannot state answer 422: weights summing to 1, one control, unique
/// variant and metric ids, exactly one of `in` and `not_in` per targeting rule, a layer's
/// `lo < hi`, guardrails naming a metric, continuous metrics naming a field, a planned
/// treatment rate inside (0, 1), no fields besides those listed, and no NUL (U+0000) in any
/// string or key, variant payloads included (Postgres cannot store it).
#[utoipa::path(post, path = "/api/v1/experiments", request_body = ExperimentConfig,
    responses((status = 403, body = ErrorBody), (status = 503, body = ErrorBody), (status = 201, body = Experiment), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(State(state): State<AppState>, _: Admin, Json(mut body): Json<Value>) -> Result<(StatusCode, Json<Experiment>), ApiError> {
    let object = body.as_object_mut().ok_or_else(|| ApiError::invalid("body", "must be a JSON object"))?;
    if !object.contains_key("id") {
        let random: u64 = rand::random();
        object.insert("id".to_owned(), Value::String(format!("experiment-{random:016x}")));
    }
    if !object.contains_key("salt") {
        let id = object.get("id").and_then(Value::as_str).unwrap_or("experiment");
        let random: u64 = rand::random();
        object.insert("salt".to_owned(), Value::String(format!("{id}-{random:016x}")));
    }
    let config = checked_config(body)?;
    let client = state.pool.get().await?;
    let experiment = store::insert(&**client, &config).await?;
    Ok((StatusCode::CREATED, Json(experiment)))
}

/// List all experiments, oldest first.
#[utoipa::path(get, path = "/api/v1/experiments", responses((status = 403, body = ErrorBody), (status = 503, body = ErrorBody), (status = 200, body = [Experiment])), security(("bearer" = [])))]
pub async fn list(State(state): State<AppState>, _: Admin) -> Result<Json<Vec<Experiment>>, ApiError> {
    let client = state.pool.get().await?;
    Ok(Json(store::list(&**client).await?))
}

/// One experiment.
#[utoipa::path(get, path = "/api/v1/experiments/{id}", params(("id" = String, Path)),
    responses((status = 403, body = ErrorBody), (status = 503, body = ErrorBody), (status = 200, body = Experiment), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get(State(state): State<AppState>, _: Admin, Path(id): Path<String>) -> Result<Json<Experiment>, ApiError> {
    let client = state.pool.get().await?;
    Ok(Json(store::get(&**client, &id).await?))
}

/// Change fields of an experiment (merge of top-level fields; see the module rules).
#[utoipa::path(patch, path = "/api/v1/experiments/{id}", params(("id" = String, Path)),
    request_body(content = Object, description = "Top-level fields of an ExperimentConfig to replace"),
    responses((status = 403, body = ErrorBody), (status = 503, body = ErrorBody), (status = 200, body = Experiment), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update(State(state): State<AppState>, _: Admin, Path(id): Path<String>, Json(patch): Json<Value>) -> Result<Json<Experiment>, ApiError> {
    let patch = patch.as_object().ok_or_else(|| ApiError::invalid("body", "must be a JSON object"))?.clone();
    let mut client = state.pool.get().await?;
    let transaction = client.transaction().await?;
    let current = store::get_for_update(&*transaction, &id).await?;
    let mut merged = serde_json::to_value(&current.config).expect("configurations serialize");
    for (field, value) in &patch {
        let unchanged = merged.get(field) == Some(value);
        if (field == "id" || field == "salt") && !unchanged {
            return Err(ApiError::conflict(format!("the {field} of an experiment is fixed at creation")));
        }
        if current.status == Status::Completed && !unchanged {
            return Err(ApiError::conflict(format!("experiment '{id}' is completed and cannot change")));
        }
        if current.status != Status::Draft && !unchanged && !CHANGEABLE_AFTER_START.contains(&field.as_str()) {
            return Err(ApiError::conflict(format!(
                "'{field}' cannot change once experiment '{id}' has started; only {} can",
                CHANGEABLE_AFTER_START.join(", ")
            )));
        }
        merged[field] = value.clone();
    }
    let config = checked_config(merged)?;
    let reallocated = if current.status == Status::Draft {
        false
    } else {
        check_variants_kept(&current.config, &config)?;
        let weights = |c: &ExperimentConfig| c.allocation.variants.iter().map(|v| v.weight).collect::<Vec<_>>();
        current.reallocated
            || weights(&current.config) != weights(&config)
            || current.config.allocation.traffic_fraction != config.allocation.traffic_fraction
    };
    let experiment = store::update_config(&*transaction, &config, reallocated).await?;
    transaction.commit().await?;
    Ok(Json(experiment))
}

/// A configuration as `ab_core` validates it (the planning inputs with the bounds of
/// `POST /api/v1/sample-size`), with what the gateway adds: no NUL.
fn checked_config(body: Value) -> Result<ExperimentConfig, ApiError> {
    if crate::events::holds_nul(&body) {
        return Err(ApiError::invalid("experiment", "contains NUL (U+0000), which Postgres cannot store"));
    }
    Ok(ExperimentConfig::from_json(body)?)
}

/// After the start, variants keep their ids, control and payloads; only weights move.
fn check_variants_kept(before: &ExperimentConfig, after: &ExperimentConfig) -> Result<(), ApiError> {
    let (old, new) = (&before.allocation.variants, &after.allocation.variants);
    let same = old.len() == new.len()
        && old.iter().zip(new).all(|(a, b)| a.id == b.id && a.is_control == b.is_control && a.config == b.config);
    if same {
        Ok(())
    } else {
        Err(ApiError::conflict(format!(
            "the variants of experiment '{}' cannot change once started; only their weights can",
            before.id
        )))
    }
}

async fn transition(state: &AppState, id: &str, to: Status, from: &[Status]) -> Result<Experiment, ApiError> {
    let mut client = state.pool.get().await?;
    let transaction = client.transaction().await?;
    let current = store::get_for_update(&*transaction, id).await?;
    if !from.contains(&current.status) {
        return Err(ApiError::conflict(format!(
            "experiment '{id}' is {} and cannot become {}",
            current.status.as_str(),
            to.as_str()
        )));
    }
    let experiment = store::set_status(&*transaction, id, to).await?;
    transaction.commit().await?;
    Ok(experiment)
}

/// Start (or resume) an experiment: draft or paused → running.
#[utoipa::path(post, path = "/api/v1/experiments/{id}/start", params(("id" = String, Path)),
    responses((status = 403, body = ErrorBody), (status = 503, body = ErrorBody), (status = 200, body = Experiment), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)), security(("bearer" = [])))]
pub async fn start(State(state): State<AppState>, _: Admin, Path(id): Path<String>) -> Result<Json<Experiment>, ApiError> {
    Ok(Json(transition(&state, &id, Status::Running, &[Status::Draft, Status::Paused]).await?))
}

/// Pause a running experiment: assignment stops answering it.
#[utoipa::path(post, path = "/api/v1/experiments/{id}/pause", params(("id" = String, Path)),
    responses((status = 403, body = ErrorBody), (status = 503, body = ErrorBody), (status = 200, body = Experiment), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)), security(("bearer" = [])))]
pub async fn pause(State(state): State<AppState>, _: Admin, Path(id): Path<String>) -> Result<Json<Experiment>, ApiError> {
    Ok(Json(transition(&state, &id, Status::Paused, &[Status::Running]).await?))
}

/// Complete a running or paused experiment; it is frozen afterwards.
#[utoipa::path(post, path = "/api/v1/experiments/{id}/complete", params(("id" = String, Path)),
    responses((status = 403, body = ErrorBody), (status = 503, body = ErrorBody), (status = 200, body = Experiment), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)), security(("bearer" = [])))]
pub async fn complete(State(state): State<AppState>, _: Admin, Path(id): Path<String>) -> Result<Json<Experiment>, ApiError> {
    Ok(Json(transition(&state, &id, Status::Completed, &[Status::Running, Status::Paused]).await?))
}

/// The experiment's results: per-variant metrics, comparisons, SRM, guardrails, sample-size
/// progress and a recommendation, from the snapshots of the results views.
#[utoipa::path(get, path = "/api/v1/experiments/{id}/results", params(("id" = String, Path)),
    responses((status = 403, body = ErrorBody), (status = 503, body = ErrorBody), (status = 200, body = crate::results::Results), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn results(State(state): State<AppState>, _: Admin, Path(id): Path<String>) -> Result<Json<crate::results::Results>, ApiError> {
    let client = state.pool.get().await?;
    Ok(Json(crate::results::load(&**client, &id).await?))
}
