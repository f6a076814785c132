//! The periodic maintenance task: daily event partitions ahead and retention.

use deadpool_postgres::Pool;
use std::time::Duration;

use crate::settings::ServeSettings;

pub async fn run(pool: Pool, settings: ServeSettings) {
    let mut ticker = tokio::time::interval(Duration::from_secs(settings.maintenance_interval_secs.max(1)));
    loop {
        ticker.tick().await;
        if let Err(error) = maintain_partitions(&pool, &settings).await {
            tracing::warn!(%error, "partition maintenance failed; retrying at the next tick");
        }
    }
}

async fn maintain_partitions(pool: &Pool, settings: &ServeSettings) -> Result<(), String> {
    let client = pool.get().await.map_err(|e| e.to_string())?;
    let rows = client
        .query(
            "SELECT action, partition_name FROM ab.maintain_event_partitions($1, $2)",
            &[&settings.partitions_ahead_days, &settings.retention_days],
        )
        .await
        .map_err(|e| e.to_string())?;
    for row in rows {
        tracing::info!(action = row.get::<_, &str>(0), partition = row.get::<_, &str>(1), "event partitions");
    }
    Ok(())
}
