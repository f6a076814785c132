//! The periodic maintenance task: daily event partitions ahead and retention, and the
//! results: rollups and snapshots refreshed (`ab.refresh_results()`), then the guardrails
//! checked. A significant breach is logged as an alert each refresh while it lasts, and an
//! experiment configured with `auto_pause` is paused. When pg_cron runs the partition
//! maintenance or the refresh (`ab.schedule_maintenance()`), the gateway skips that work and
//! still checks the guardrails.

use deadpool_postgres::Pool;
use std::time::Duration;

use crate::metrics::Metrics;
use crate::settings::ServeSettings;

pub async fn run(pool: Pool, settings: ServeSettings, metrics: Metrics) {
    let mut partitions = tokio::time::interval(Duration::from_secs(settings.maintenance_interval_secs.max(1)));
    let mut results = tokio::time::interval(Duration::from_secs(settings.results_refresh_secs.max(1)));
    loop {
        tokio::select! {
            _ = partitions.tick() => {
                if let Err(error) = maintain_partitions(&pool, &settings).await {
                    tracing::warn!(%error, "partition maintenance failed; retrying at the next tick");
                }
            }
            _ = results.tick() => {
                if let Err(error) = refresh_results(&pool, &metrics).await {
                    tracing::warn!(%error, "results refresh failed; retrying at the next tick");
                }
            }
        }
    }
}

/// The pg_cron jobs of `ab.schedule_maintenance()`.
const CRON_PARTITIONS_JOB: &str = "ab_maintain_event_partitions";
const CRON_REFRESH_JOB: &str = "ab_refresh_results";

async fn scheduled_in_cron(client: &deadpool_postgres::Client, job: &str) -> Result<bool, String> {
    let row = client.query_one("SELECT ab.maintenance_job_scheduled($1)", &[&job]).await.map_err(|e| e.to_string())?;
    let scheduled = row.get(0);
    if scheduled {
        tracing::debug!(job, "pg_cron runs this maintenance; skipped here");
    }
    Ok(scheduled)
}

async fn maintain_partitions(pool: &Pool, settings: &ServeSettings) -> Result<(), String> {
    let client = pool.get().await.map_err(|e| e.to_string())?;
    if scheduled_in_cron(&client, CRON_PARTITIONS_JOB).await? {
        return Ok(());
    }
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

async fn refresh_results(pool: &Pool, metrics: &Metrics) -> Result<(), String> {
    let client = pool.get().await.map_err(|e| e.to_string())?;
    if !scheduled_in_cron(&client, CRON_REFRESH_JOB).await? {
        let started = std::time::Instant::now();
        client.execute("SELECT ab.refresh_results()", &[]).await.map_err(|e| e.to_string())?;
        metrics.results_refresh_seconds.set(started.elapsed().as_secs_f64());
    }
    let breaches = client
        .query(
            "SELECT g.experiment_id, g.metric_id, g.treatment_id, g.rel_lift, g.threshold,
                    coalesce((e.config->>'auto_pause')::boolean, false)
             FROM ab.guardrails g JOIN ab.experiments e ON e.id = g.experiment_id
             WHERE g.significant_breach AND e.status = 'running'",
            &[],
        )
        .await
        .map_err(|e| e.to_string())?;
    for breach in breaches {
        let (experiment, metric, treatment): (&str, &str, &str) = (breach.get(0), breach.get(1), breach.get(2));
        let (rel_lift, threshold, auto_pause): (f64, f64, bool) = (breach.get(3), breach.get(4), breach.get(5));
        metrics.guardrail_alerts.inc();
        tracing::error!(experiment, metric, treatment, rel_lift, threshold, auto_pause, "ALERT: guardrail breached significantly");
        if auto_pause {
            let paused = client
                .execute("UPDATE ab.experiments SET status = 'paused' WHERE id = $1 AND status = 'running'", &[&experiment])
                .await
                .map_err(|e| e.to_string())?;
            if paused == 1 {
                tracing::error!(experiment, "experiment paused by its guardrail");
            }
        }
    }
    Ok(())
}
