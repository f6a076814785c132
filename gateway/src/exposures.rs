//! First exposures. `/assign` records each (experiment, unit) in a sharded in-memory map
//! the first time this process sees it and appends it to the durable spool
//! (`crate::spool`); the flusher task writes the spool to Postgres in batches with
//! `ON CONFLICT DO NOTHING`, so the first stored exposure wins across gateways. The map
//! also makes assignment sticky for experiments whose weights changed after the start:
//! the variant already given wins over the hash.

use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::metrics::Metrics;
use crate::spool::{Exposure, Spool, SpoolFull, SpoolReader};

const SHARDS: usize = 64;
/// Remembered units per shard; a full shard is cleared (the table still has them).
const SHARD_CAPACITY: usize = 1 << 16;
const BATCH_ROWS: usize = 5_000;
/// A batch smaller than `BATCH_ROWS` waits this long for the next, so that trickling
/// assignments share statements instead of writing one row each.
const GATHER_INTERVAL: Duration = Duration::from_millis(200);
/// While new units keep arriving faster than a batch is written, the flusher writes this
/// share of the time and pauses for the rest. Each batch keeps a Postgres backend busy on a
/// core; on a machine Postgres shares with the gateway, back-to-back batches were the tail
/// of `/assign` under a burst of new units (issue 17). The spool holds the exposures
/// durably meanwhile.
const WRITE_SHARE_UNDER_LOAD: f64 = 0.25;
/// Past this share of the spool's bound the flusher writes flat out, so pacing never makes
/// the spool refuse units.
const PACED_BACKLOG_LIMIT: f64 = 0.25;

pub struct ExposureLog {
    shards: Vec<Mutex<HashMap<u64, u16>>>,
    spool: Spool,
}

fn key(experiment_id: &str, user_id: &str) -> u64 {
    ab_core::assign::hash64(user_id, experiment_id)
}

impl ExposureLog {
    pub fn new(spool: Spool) -> Self {
        let shards = (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect();
        Self { shards, spool }
    }

    fn shard(&self, key: u64) -> &Mutex<HashMap<u64, u16>> {
        &self.shards[(key as usize) % SHARDS]
    }

    /// The variant index this process already gave the unit, if any.
    pub fn known_variant(&self, experiment_id: &str, user_id: &str) -> Option<usize> {
        let key = key(experiment_id, user_id);
        self.shard(key).lock().unwrap().get(&key).map(|&i| usize::from(i))
    }

    /// Remembers the unit's variant and spools its exposure, timed now, the first time this
    /// process sees the pair. Fails when the spool is full: the caller must not answer
    /// with a variant it cannot record.
    pub fn record(&self, experiment_id: &str, user_id: &str, variant_index: usize, variant_id: &str) -> Result<(), SpoolFull> {
        let key = key(experiment_id, user_id);
        {
            let mut shard = self.shard(key).lock().unwrap();
            if shard.contains_key(&key) {
                return Ok(());
            }
            if shard.len() >= SHARD_CAPACITY {
                shard.clear();
            }
            shard.insert(key, variant_index as u16);
        }
        let exposure = Exposure {
            experiment_id: experiment_id.to_owned(),
            user_id: user_id.to_owned(),
            variant_id: variant_id.to_owned(),
            at: Utc::now(),
        };
        self.spool.append(exposure).inspect_err(|_| {
            // Forget the pair, so the unit's next assignment tries again.
            self.shard(key).lock().unwrap().remove(&key);
        })
    }

    pub fn spool(&self) -> &Spool {
        &self.spool
    }
}

/// Writes the spool to Postgres until the spool is closed and read to its end. A batch
/// that fails is retried (Postgres down); meanwhile the spool grows on disk.
pub async fn flush_exposures(pool: Pool, mut reader: SpoolReader, metrics: Metrics) {
    loop {
        let arrived_before = reader.written();
        let (batch, next) = match reader.next_batch(BATCH_ROWS).await {
            Ok(Some(read)) => read,
            Ok(None) => return,
            Err(error) => {
                tracing::error!(%error, "ALERT reading the exposure spool failed; exposures stay on disk until a restart");
                return;
            }
        };
        let rows = batch.len();
        // Sorting a batch of 5,000 takes about half a millisecond (release build): not on the
        // runtime's worker, which answers `/assign`.
        let columns = match tokio::task::spawn_blocking(move || Columns::in_lock_order(batch)).await {
            Ok(columns) => columns,
            Err(error) => {
                tracing::error!(%error, "ALERT preparing exposures failed; they stay on disk until a restart");
                return;
            }
        };
        let started = Instant::now();
        while let Err(error) = columns.write(&pool).await {
            tracing::warn!(%error, rows, "writing exposures failed; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        metrics.exposures_committed.inc_by(rows as u64);
        reader.committed(next);
        if rows < BATCH_ROWS {
            tokio::time::sleep(GATHER_INTERVAL).await;
        } else if reader.written() > arrived_before && reader.backlog_share() < PACED_BACKLOG_LIMIT {
            tokio::time::sleep(started.elapsed().mul_f64(1.0 / WRITE_SHARE_UNDER_LOAD - 1.0)).await;
        }
    }
}

/// A batch as the insert's array parameters.
struct Columns {
    experiments: Vec<String>,
    users: Vec<String>,
    variants: Vec<String>,
    times: Vec<DateTime<Utc>>,
}

impl Columns {
    /// The batch's rows in the order of the primary key `(experiment_id, user_id)`, each key
    /// once with its earliest time. Every gateway's flusher then takes the key's locks in the
    /// same order, so two gateways writing the same new units never deadlock.
    fn in_lock_order(mut batch: Vec<Exposure>) -> Self {
        batch.sort_unstable_by(|a, b| (&a.experiment_id, &a.user_id, a.at).cmp(&(&b.experiment_id, &b.user_id, b.at)));
        batch.dedup_by(|later, first| later.experiment_id == first.experiment_id && later.user_id == first.user_id);
        let mut columns = Columns {
            experiments: Vec::with_capacity(batch.len()),
            users: Vec::with_capacity(batch.len()),
            variants: Vec::with_capacity(batch.len()),
            times: Vec::with_capacity(batch.len()),
        };
        for exposure in batch {
            columns.experiments.push(exposure.experiment_id);
            columns.users.push(exposure.user_id);
            columns.variants.push(exposure.variant_id);
            columns.times.push(exposure.at);
        }
        columns
    }

    async fn write(&self, pool: &Pool) -> Result<(), String> {
        let client = pool.get().await.map_err(|e| e.to_string())?;
        // An experiment deleted meanwhile has no row to reference: skip its exposures. The
        // semi-join may reorder rows, so ORDER BY restores the lock order chosen above.
        client
            .execute(
                "INSERT INTO ab.exposures (experiment_id, user_id, variant_id, first_exposed_at)
                 SELECT x.e, x.u, x.v, x.t
                 FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) WITH ORDINALITY AS x(e, u, v, t, n)
                 WHERE EXISTS (SELECT 1 FROM ab.experiments WHERE id = x.e)
                 ORDER BY x.n
                 ON CONFLICT (experiment_id, user_id) DO NOTHING",
                &[&self.experiments, &self.users, &self.variants, &self.times],
            )
            .await
            .map_err(|e| e.to_string())?;
        Ok(())
    }
}

/// Looks up a stored first exposure (sticky assignment across gateways and restarts).
pub async fn stored_variant(pool: &Pool, experiment_id: &str, user_id: &str) -> Option<String> {
    let lookup = async {
        let client = pool.get().await.ok()?;
        let row = client
            .query_opt(
                "SELECT variant_id FROM ab.exposures WHERE experiment_id = $1 AND user_id = $2",
                &[&experiment_id, &user_id],
            )
            .await
            .ok()??;
        Some(row.get::<_, String>(0))
    };
    // Sticky lookups must not make assignment wait on a slow or absent database.
    tokio::time::timeout(Duration::from_millis(200), lookup).await.ok().flatten()
}
