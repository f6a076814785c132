//! Assigning a unit to a variant of a running experiment, with its first exposure recorded:
//! the one way `/assign` and OFREP both assign (docs/contract.md §2), so they answer and
//! record alike.

use ab_core::experiment::Variant;
use serde_json::{Map, Value};

use crate::cache::RunningExperiment;
use crate::error::ApiError;
use crate::exposures::stored_variant;
use crate::state::AppState;


/// The unit's variant of a running experiment, with its first exposure recorded; `None`
/// when targeting, the layer or the traffic fraction leaves the unit out. Every way of
/// assigning (`/assign`, OFREP) goes through here, so they answer and record alike.
pub async fn assign_variant<'e>(
    state: &AppState,
    experiment: &'e RunningExperiment,
    user_id: &str,
    context: &Map<String, Value>,
) -> Result<Option<&'e Variant>, ApiError> {
    if !experiment.allocation.is_eligible(user_id, context) {
        return Ok(None);
    }
    let index = variant_index(state, experiment, user_id).await;
    let variant = experiment.variant(index);
    state.exposures.record(&experiment.id, user_id, index, &variant.id).map_err(|_| ApiError::exposure_log_full())?;
    Ok(Some(variant))
}

/// The hash decides, unless weights changed after the start: then a variant this unit was
/// already given (in this process, or stored by any gateway) wins.
async fn variant_index(state: &AppState, experiment: &RunningExperiment, user_id: &str) -> usize {
    if experiment.reallocated {
        if let Some(index) = state.exposures.known_variant(&experiment.id, user_id) {
            return index;
        }
        if let Some(stored) = stored_variant(&state.pool, &experiment.id, user_id).await {
            if let Some(index) = experiment.allocation.variants.iter().position(|v| v.id == stored) {
                return index;
            }
        }
    }
    experiment.allocation.variant_index(user_id)
}
