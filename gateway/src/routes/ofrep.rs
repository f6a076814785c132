//! The OpenFeature Remote Evaluation Protocol (OFREP 0.3, open-feature/protocol
//! `service/openapi.yaml`): any OpenFeature SDK with an OFREP provider evaluates pg_ab's
//! experiments as flags, with no pg_ab SDK.
//!
//! A flag key is a running experiment's id, optionally with a suffix that picks the type:
//! - `{id}`: the `value` field of the variant's config when it has one (any JSON type, for
//!   boolean, number, string or object flags), else the variant id as a string;
//! - `{id}:variant`: the variant id, a string;
//! - `{id}:config`: the variant's whole config, an object.
//!
//! `context.targetingKey` is the unit and the other context fields are the targeting
//! attributes. An evaluation assigns exactly as `/assign` does and records the exposure.
//! A unit left out by targeting, layer or traffic gets the caller's code default (reason
//! `DEFAULT`, no value), as does any unit of an experiment that is not running (`DISABLED`).

use ab_core::experiment::Variant;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::auth::Sdk;
use crate::cache::RunningExperiment;
use crate::error::ApiError;
use crate::assignment::assign_variant;
use crate::limits::MAX_UNIT_ID;
use crate::state::AppState;

/// The body of an evaluation request.
#[derive(ToSchema)]
#[allow(dead_code)] // describes the body for the OpenAPI document; the handlers parse it by hand
pub struct EvaluationRequest {
    context: EvaluationContext,
}

// Deserialize is derived for the serde attributes the schema reads; `parse_context` builds
// the value, so that each malformed context gets its own OFREP error code.
/// The evaluation context: the unit and the attributes targeting reads.
#[derive(Deserialize, ToSchema)]
pub struct EvaluationContext {
    /// The unit (user, device, account) being assigned.
    #[serde(rename = "targetingKey")]
    targeting_key: String,
    /// Targeting attributes, e.g. "country": "US".
    #[serde(flatten)]
    attributes: Map<String, Value>,
}

#[derive(Serialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Reason {
    /// The unit is in the experiment; its variant comes from the hash split.
    Split,
    /// As `SPLIT`, in an experiment with targeting rules the unit matched.
    TargetingMatch,
    /// Targeting, the layer or the traffic fraction leaves the unit out: use the code default.
    Default,
    /// The experiment exists but is not running: use the code default.
    Disabled,
}

#[derive(Serialize, ToSchema)]
pub struct FlagMetadata {
    #[serde(rename = "experimentId")]
    experiment_id: String,
}

/// A successful evaluation. Without `value`, the provider uses the caller's default.
#[derive(Serialize, ToSchema)]
pub struct EvaluationSuccess {
    key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Any JSON value: boolean, number, string or object.
    #[schema(value_type = Option<Value>)]
    value: Option<Value>,
    reason: Reason,
    /// The variant id; empty when the caller's default applies.
    variant: String,
    metadata: FlagMetadata,
}

#[derive(Serialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    ParseError,
    TargetingKeyMissing,
    InvalidContext,
    FlagNotFound,
}

/// A failed evaluation: the provider returns the caller's default with this error.
#[derive(Serialize, ToSchema)]
pub struct EvaluationFailure {
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    #[serde(rename = "errorCode")]
    error_code: ErrorCode,
    #[serde(rename = "errorDetails")]
    error_details: String,
}

#[derive(Serialize, ToSchema)]
pub struct BulkEvaluationSuccess {
    flags: Vec<EvaluationSuccess>,
}

/// Which value of the variant a flag key asks for.
#[derive(Clone, Copy)]
enum Part {
    Value,
    Variant,
    Config,
}

const PARTS: [(Part, &str); 3] = [(Part::Value, ""), (Part::Variant, ":variant"), (Part::Config, ":config")];

fn parse_key(key: &str) -> (&str, Part) {
    if let Some(id) = key.strip_suffix(":variant") {
        (id, Part::Variant)
    } else if let Some(id) = key.strip_suffix(":config") {
        (id, Part::Config)
    } else {
        (key, Part::Value)
    }
}

fn flag_value(part: Part, variant: &Variant) -> Value {
    match part {
        Part::Value => variant.config.get("value").cloned().unwrap_or_else(|| Value::String(variant.id.clone())),
        Part::Variant => Value::String(variant.id.clone()),
        Part::Config => variant.config.clone(),
    }
}

fn failure(status: StatusCode, key: Option<&str>, error_code: ErrorCode, details: impl Into<String>) -> Response {
    let body = EvaluationFailure { key: key.map(str::to_owned), error_code, error_details: details.into() };
    (status, axum::Json(body)).into_response()
}

/// The unit and the targeting attributes of a request body, or the OFREP error for it.
fn parse_context(body: &[u8]) -> Result<EvaluationContext, (ErrorCode, String)> {
    let request: Value = serde_json::from_slice(body).map_err(|e| (ErrorCode::ParseError, format!("the body is not JSON: {e}")))?;
    let Value::Object(mut request) = request else {
        return Err((ErrorCode::ParseError, "the body must be a JSON object with a 'context'".to_owned()));
    };
    let mut context = match request.remove("context") {
        None | Some(Value::Null) => return Err((ErrorCode::TargetingKeyMissing, "the request has no context".to_owned())),
        Some(Value::Object(context)) => context,
        Some(_) => return Err((ErrorCode::InvalidContext, "'context' must be an object".to_owned())),
    };
    match context.remove("targetingKey") {
        None | Some(Value::Null) => Err((ErrorCode::TargetingKeyMissing, "the context has no targetingKey".to_owned())),
        Some(Value::String(unit)) if unit.is_empty() => {
            Err((ErrorCode::TargetingKeyMissing, "the context's targetingKey is empty".to_owned()))
        }
        Some(Value::String(unit)) if unit.contains('\0') => {
            Err((ErrorCode::InvalidContext, "targetingKey contains NUL (U+0000), which Postgres cannot store".to_owned()))
        }
        Some(Value::String(unit)) if unit.chars().count() > MAX_UNIT_ID => {
            Err((ErrorCode::InvalidContext, format!("targetingKey has {} characters, at most {MAX_UNIT_ID}", unit.chars().count())))
        }
        Some(Value::String(unit)) => Ok(EvaluationContext { targeting_key: unit, attributes: context }),
        Some(_) => Err((ErrorCode::InvalidContext, "targetingKey must be a string".to_owned())),
    }
}

/// The answer for one key of a running experiment, given the unit's variant (`None`: the
/// unit is left out, so the caller's default applies).
fn answer(experiment: &RunningExperiment, key: String, part: Part, assigned: Option<&Variant>) -> EvaluationSuccess {
    match assigned {
        Some(variant) => EvaluationSuccess {
            key,
            value: Some(flag_value(part, variant)),
            reason: if experiment.allocation.targeting.is_empty() { Reason::Split } else { Reason::TargetingMatch },
            variant: variant.id.clone(),
            metadata: FlagMetadata { experiment_id: experiment.id.clone() },
        },
        None => code_default(key, &experiment.id, Reason::Default),
    }
}

/// An answer without a value: the provider returns the caller's default.
fn code_default(key: String, experiment_id: &str, reason: Reason) -> EvaluationSuccess {
    EvaluationSuccess {
        key,
        value: None,
        reason,
        variant: String::new(),
        metadata: FlagMetadata { experiment_id: experiment_id.to_owned() },
    }
}

/// Evaluate one flag (an experiment) for a context.
#[utoipa::path(post, path = "/ofrep/v1/evaluate/flags/{key}", tag = "OFREP", request_body = EvaluationRequest,
    params(("key" = String, Path, description = "An experiment id, optionally with ':variant' or ':config'")),
    responses(
        (status = 200, body = EvaluationSuccess),
        (status = 400, description = "PARSE_ERROR, TARGETING_KEY_MISSING or INVALID_CONTEXT", body = EvaluationFailure),
        (status = 401, body = crate::error::ErrorBody),
        (status = 404, description = "FLAG_NOT_FOUND: no experiment has this id", body = EvaluationFailure),
        (status = 413, body = crate::error::ErrorBody),
        (status = 503, description = "exposure_log_full: the exposure cannot be recorded now", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn evaluate_flag(State(state): State<AppState>, _: Sdk, Path(key): Path<String>, body: Bytes) -> Result<Response, ApiError> {
    let context = match parse_context(&body) {
        Ok(context) => context,
        Err((code, details)) => return Ok(failure(StatusCode::BAD_REQUEST, Some(&key), code, details)),
    };
    let (experiment_id, part) = parse_key(&key);
    let snapshot = state.cache.snapshot();
    let answer = match snapshot.running_by_id.get(experiment_id) {
        Some(experiment) => {
            let assigned = assign_variant(&state, experiment, &context.targeting_key, &context.attributes).await?;
            answer(experiment, key.clone(), part, assigned)
        }
        None if snapshot.not_running.contains(experiment_id) => code_default(key.clone(), experiment_id, Reason::Disabled),
        None => {
            let details = format!("no experiment has the id '{experiment_id}'");
            return Ok(failure(StatusCode::NOT_FOUND, Some(&key), ErrorCode::FlagNotFound, details));
        }
    };
    Ok(axum::Json(answer).into_response())
}

/// Evaluate every flag for a context: each experiment as `{id}`, `{id}:variant` and
/// `{id}:config`. The ETag is a digest of the answer, so `If-None-Match` gives 304 until
/// the configuration changes what this context gets.
#[utoipa::path(post, path = "/ofrep/v1/evaluate/flags", tag = "OFREP", request_body = EvaluationRequest,
    params(("If-None-Match" = Option<String>, Header, description = "The ETag of an earlier answer")),
    responses(
        (status = 200, body = BulkEvaluationSuccess, headers(("ETag" = String))),
        (status = 304, description = "Unchanged since the ETag given in If-None-Match", headers(("ETag" = String))),
        (status = 400, description = "PARSE_ERROR, TARGETING_KEY_MISSING or INVALID_CONTEXT", body = EvaluationFailure),
        (status = 401, body = crate::error::ErrorBody),
        (status = 413, body = crate::error::ErrorBody),
        (status = 503, description = "exposure_log_full: the exposures cannot be recorded now", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn evaluate_flags(State(state): State<AppState>, _: Sdk, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let context = match parse_context(&body) {
        Ok(context) => context,
        Err((code, details)) => return Ok(failure(StatusCode::BAD_REQUEST, None, code, details)),
    };
    let snapshot = state.cache.snapshot();
    let mut flags = Vec::with_capacity(PARTS.len() * (snapshot.running.len() + snapshot.not_running.len()));
    for experiment in &snapshot.running {
        // One assignment (and exposure) per experiment, shown under each of its keys.
        let assigned = assign_variant(&state, experiment, &context.targeting_key, &context.attributes).await?;
        flags.extend(PARTS.iter().map(|&(part, suffix)| answer(experiment, format!("{}{suffix}", experiment.id), part, assigned)));
    }
    let mut not_running: Vec<&String> = snapshot.not_running.iter().collect();
    not_running.sort_unstable();
    for id in not_running {
        flags.extend(PARTS.iter().map(|(_, suffix)| code_default(format!("{id}{suffix}"), id, Reason::Disabled)));
    }
    let body = serde_json::to_vec(&BulkEvaluationSuccess { flags }).expect("serializing to memory");
    let etag = format!("\"{:016x}\"", xxhash_rust::xxh3::xxh3_64(&body));
    let unchanged = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|tags| {
        tags.split(',').map(str::trim).any(|tag| tag == etag || tag.strip_prefix("W/") == Some(etag.as_str()))
    });
    if unchanged {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    Ok((StatusCode::OK, [(header::ETAG, etag), (header::CONTENT_TYPE, "application/json".to_owned())], body).into_response())
}
