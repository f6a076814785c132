//! Connections to Postgres and the schema migrations of `sql/migrations`.

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use std::time::Duration;
use tokio_postgres::NoTls;

/// The migrations, in order; each runs once, in its own transaction.
const MIGRATIONS: &[(i32, &str, &str)] =
    &[
        (1, "gateway_schema", include_str!("../../sql/migrations/0001_gateway_schema.sql")),
        (2, "results", include_str!("../../sql/migrations/0002_results.sql")),
        (3, "concurrent_writers", include_str!("../../sql/migrations/0003_concurrent_writers.sql")),
        (4, "one_verdict", include_str!("../../sql/migrations/0004_one_verdict.sql")),
        (5, "incremental_results", include_str!("../../sql/migrations/0005_incremental_results.sql")),
        (6, "dba_maintenance", include_str!("../../sql/migrations/0006_dba_maintenance.sql")),
        (7, "exposures_reference_by_statement", include_str!("../../sql/migrations/0007_exposures_reference_by_statement.sql")),
        (8, "partitions_by_utc_day", include_str!("../../sql/migrations/0008_partitions_by_utc_day.sql")),
        (9, "set_based_refresh", include_str!("../../sql/migrations/0009_set_based_refresh.sql")),
        (10, "daily_series_by_data_day", include_str!("../../sql/migrations/0010_daily_series_by_data_day.sql")),
    ];

pub fn parse_config(url: &str) -> anyhow::Result<tokio_postgres::Config> {
    url.parse::<tokio_postgres::Config>().map_err(|e| anyhow::anyhow!("invalid database url: {e}"))
}

/// A pool whose waits are bounded, so a request fails fast while Postgres is down.
pub fn pool(config: tokio_postgres::Config, size: usize) -> Pool {
    let manager = Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
    Pool::builder(manager)
        .max_size(size)
        .runtime(Runtime::Tokio1)
        .create_timeout(Some(Duration::from_secs(2)))
        .wait_timeout(Some(Duration::from_secs(5)))
        .build()
        .expect("a pool with a runtime and timeouts always builds")
}

/// Applies the migrations not yet recorded in `ab.schema_migrations`, under an advisory
/// lock so concurrent gateways do not race. Returns the versions applied.
pub async fn migrate(client: &mut tokio_postgres::Client) -> Result<Vec<i32>, tokio_postgres::Error> {
    let transaction = client.transaction().await?;
    transaction.batch_execute("SET LOCAL client_min_messages = warning").await?;
    transaction.execute("SELECT pg_advisory_xact_lock(hashtext('ab.schema_migrations'))", &[]).await?;
    transaction
        .batch_execute(
            "CREATE SCHEMA IF NOT EXISTS ab;
             CREATE TABLE IF NOT EXISTS ab.schema_migrations (
                 version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
        )
        .await?;
    let applied: Vec<i32> =
        transaction.query("SELECT version FROM ab.schema_migrations", &[]).await?.iter().map(|r| r.get(0)).collect();
    let mut newly_applied = Vec::new();
    for (version, name, sql) in MIGRATIONS {
        if applied.contains(version) {
            continue;
        }
        transaction.batch_execute(sql).await?;
        transaction.execute("INSERT INTO ab.schema_migrations (version, name) VALUES ($1, $2)", &[version, name]).await?;
        newly_applied.push(*version);
    }
    transaction.commit().await?;
    Ok(newly_applied)
}

/// Connects one client outside the pool (migrations, the CLI, LISTEN).
pub async fn connect(config: &tokio_postgres::Config) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!(%error, "connection closed");
        }
    });
    Ok(client)
}
