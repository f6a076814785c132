//! `POST /api/v1/assign`: the variants of a unit, computed in process from the cached
//! configuration (docs/contract.md §2). A first exposure is spooled to disk before the answer, and an
//! answer is refused (503) rather than given for a unit whose exposure cannot be recorded.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::assignment::assign_variant;
use crate::limits::{is_valid_text, text_rule, MAX_UNIT_ID};
use crate::auth::Sdk;
use crate::cache::RunningExperiment;
use crate::error::{ApiError, Json};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    /// The unit being assigned (user, device, account).
    /// 1 to 256 characters, no NUL (crate::limits).
    pub user_id: String,
    /// Experiments to assign; all running experiments when absent.
    #[serde(default)]
    pub experiments: Option<Vec<String>>,
    /// Attributes for targeting rules, e.g. {"country": "US"}.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub context: Map<String, Value>,
}

#[derive(Serialize, ToSchema)]
pub struct Assignment {
    pub experiment_id: String,
    pub variant_id: String,
    /// The variant's payload, any JSON value.
    #[schema(value_type = Value)]
    pub config: Value,
}

#[derive(Serialize, ToSchema)]
pub struct AssignResponse {
    pub user_id: String,
    /// One entry per running experiment the unit is eligible for; experiments that are
    /// not running, unknown, or whose targeting excludes the unit are absent.
    pub assignments: Vec<Assignment>,
}

/// Assign a unit to the variants of running experiments.
#[utoipa::path(post, path = "/api/v1/assign", request_body = AssignRequest,
    responses((status = 200, body = AssignResponse), (status = 422, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 503, description = "The exposure spool is full: the unit is not enrolled; use the default variant", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn assign(State(state): State<AppState>, _: Sdk, Json(request): Json<AssignRequest>) -> Result<Json<AssignResponse>, ApiError> {
    if !is_valid_text(&request.user_id, MAX_UNIT_ID) {
        return Err(ApiError::invalid("user_id", text_rule(MAX_UNIT_ID)));
    }
    let snapshot = state.cache.snapshot();
    let chosen: Vec<&std::sync::Arc<RunningExperiment>> = match &request.experiments {
        None => snapshot.eligibility.candidates(&request.user_id, &request.context).into_iter().map(|i| &snapshot.running[i]).collect(),
        Some(ids) => ids.iter().filter_map(|id| snapshot.running_by_id.get(id)).collect(),
    };
    let mut assignments = Vec::with_capacity(chosen.len());
    for experiment in chosen {
        if let Some(variant) = assign_variant(&state, experiment, &request.user_id, &request.context).await? {
            assignments.push(Assignment {
                experiment_id: experiment.id.clone(),
                variant_id: variant.id.clone(),
                config: variant.config.clone(),
            });
        }
    }
    Ok(Json(AssignResponse { user_id: request.user_id, assignments }))
}
