//! Bearer tokens. Management and results need an admin token; `/assign` and `/events`
//! take an SDK (or admin) token unless `--sdk-auth false`. No token or an unknown one is
//! 401; a valid token of the wrong role is 403. Tokens are checked against the cached
//! digests, so authentication, like assignment, works while Postgres is down.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::header::AUTHORIZATION;

use crate::error::ApiError;
use crate::settings::Role;
use crate::state::AppState;
use crate::store::token_digest;

/// A request made with an admin token.
pub struct Admin;

/// A request allowed to assign and send events.
pub struct Sdk;

fn role_of(parts: &Parts, state: &AppState) -> Result<Role, ApiError> {
    let header = parts
        .headers
        .get(AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("missing 'Authorization: Bearer <token>' header"))?;
    let token = header
        .to_str()
        .ok()
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::unauthorized("the Authorization header must be 'Bearer <token>'"))?;
    state
        .cache
        .snapshot()
        .tokens
        .get(&token_digest(token))
        .copied()
        .ok_or_else(|| ApiError::unauthorized("unknown or revoked token"))
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match role_of(parts, state)? {
            Role::Admin => Ok(Admin),
            Role::Sdk => Err(ApiError::forbidden("this endpoint needs an admin token")),
        }
    }
}

impl FromRequestParts<AppState> for Sdk {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if state.settings.sdk_auth {
            role_of(parts, state)?;
        }
        Ok(Sdk)
    }
}
