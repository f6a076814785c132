//! Reading and writing `ab.experiments` and `ab.api_tokens`.

use ab_core::experiment::ExperimentConfig;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio_postgres::{GenericClient, Row};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::settings::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Draft,
    Running,
    Paused,
    Completed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Completed => "completed",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "running" => Status::Running,
            "paused" => Status::Paused,
            "completed" => Status::Completed,
            _ => Status::Draft,
        }
    }
}

/// An experiment as stored: its configuration plus lifecycle.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Experiment {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub config: ExperimentConfig,
    pub status: Status,
    /// Weights or traffic changed after the start; stored first exposures decide.
    pub reallocated: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "config, status, reallocated, created_at, updated_at, started_at, ended_at";

impl Experiment {
    fn from_row(row: &Row) -> Result<Self, ApiError> {
        let config: serde_json::Value = row.get(0);
        let config = serde_json::from_value(config)
            .map_err(|e| ApiError::unavailable(format!("stored configuration does not parse: {e}")))?;
        Ok(Self {
            config,
            status: Status::parse(row.get(1)),
            reallocated: row.get(2),
            created_at: row.get(3),
            updated_at: row.get(4),
            started_at: row.get(5),
            ended_at: row.get(6),
        })
    }
}

pub async fn list(client: &impl GenericClient) -> Result<Vec<Experiment>, ApiError> {
    let rows = client.query(&format!("SELECT {COLUMNS} FROM ab.experiments ORDER BY created_at, id"), &[]).await?;
    rows.iter().map(Experiment::from_row).collect()
}

pub async fn get(client: &impl GenericClient, id: &str) -> Result<Experiment, ApiError> {
    fetch(client, id, "").await
}

/// The experiment, locked for update within the caller's transaction.
pub async fn get_for_update(client: &impl GenericClient, id: &str) -> Result<Experiment, ApiError> {
    fetch(client, id, "FOR UPDATE").await
}

async fn fetch(client: &impl GenericClient, id: &str, locking: &str) -> Result<Experiment, ApiError> {
    let row = client
        .query_opt(&format!("SELECT {COLUMNS} FROM ab.experiments WHERE id = $1 {locking}"), &[&id])
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no experiment '{id}'")))?;
    Experiment::from_row(&row)
}

pub async fn insert(client: &impl GenericClient, config: &ExperimentConfig) -> Result<Experiment, ApiError> {
    let json = serde_json::to_value(config).expect("configurations serialize");
    let row = client
        .query_opt(
            &format!(
                "INSERT INTO ab.experiments (id, salt, config) VALUES ($1, $2, $3)
                 ON CONFLICT (id) DO NOTHING RETURNING {COLUMNS}"
            ),
            &[&config.id, &config.allocation.salt, &json],
        )
        .await?
        .ok_or_else(|| ApiError::conflict(format!("experiment '{}' already exists", config.id)))?;
    Experiment::from_row(&row)
}

pub async fn update_config(
    client: &impl GenericClient,
    config: &ExperimentConfig,
    reallocated: bool,
) -> Result<Experiment, ApiError> {
    let json = serde_json::to_value(config).expect("configurations serialize");
    let row = client
        .query_one(
            &format!("UPDATE ab.experiments SET config = $2, reallocated = $3 WHERE id = $1 RETURNING {COLUMNS}"),
            &[&config.id, &json, &reallocated],
        )
        .await?;
    Experiment::from_row(&row)
}

pub async fn set_status(client: &impl GenericClient, id: &str, status: Status) -> Result<Experiment, ApiError> {
    let row = client
        .query_one(
            &format!(
                "UPDATE ab.experiments SET status = $2,
                     started_at = CASE WHEN $2 = 'running' THEN coalesce(started_at, now()) ELSE started_at END,
                     ended_at = CASE WHEN $2 = 'completed' THEN now() ELSE ended_at END
                 WHERE id = $1 RETURNING {COLUMNS}"
            ),
            &[&id, &status.as_str()],
        )
        .await?;
    Experiment::from_row(&row)
}

/// The SHA-256 under which a token is stored and looked up.
pub fn token_digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Creates a token of the role and returns it; only its digest is stored.
pub async fn create_token(client: &impl GenericClient, role: Role, description: &str) -> Result<String, tokio_postgres::Error> {
    let secret: [u8; 32] = rand::random();
    let token = format!("pgab_{}_{}", role.as_str(), hex::encode(secret));
    client
        .execute(
            "INSERT INTO ab.api_tokens (token_sha256, role, description) VALUES ($1, $2, $3)",
            &[&token_digest(&token).as_slice(), &role.as_str(), &description],
        )
        .await?;
    Ok(token)
}

/// Every token that is not revoked, by digest.
pub async fn active_tokens(client: &impl GenericClient) -> Result<Vec<([u8; 32], Role)>, tokio_postgres::Error> {
    let rows = client.query("SELECT token_sha256, role FROM ab.api_tokens WHERE revoked_at IS NULL", &[]).await?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            let digest: &[u8] = row.get(0);
            Some((digest.try_into().ok()?, Role::parse(row.get(1))?))
        })
        .collect())
}
