//! First exposures, written off the request path. `/assign` records each (experiment, unit)
//! in a sharded in-memory map the first time this process sees it and queues it; a flusher
//! task writes the queue in batches with `ON CONFLICT DO NOTHING`, so the first stored
//! exposure wins across gateways. The map also makes assignment sticky for experiments
//! whose weights changed after the start: the variant already given wins over the hash.

use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::mpsc;

use crate::metrics::Metrics;

const SHARDS: usize = 64;
/// Remembered units per shard; a full shard is cleared (the table still has them).
const SHARD_CAPACITY: usize = 1 << 16;
const QUEUE_CAPACITY: usize = 200_000;
const BATCH_ROWS: usize = 5_000;
const FLUSH_INTERVAL: Duration = Duration::from_millis(200);

pub struct Exposure {
    pub experiment_id: String,
    pub user_id: String,
    pub variant_id: String,
    pub at: DateTime<Utc>,
}

pub struct ExposureLog {
    shards: Vec<Mutex<HashMap<u64, u16>>>,
    queue: mpsc::Sender<Exposure>,
    deferred: prometheus::IntCounter,
}

fn key(experiment_id: &str, user_id: &str) -> u64 {
    ab_core::assign::hash64(user_id, experiment_id)
}

impl ExposureLog {
    pub fn new(deferred: prometheus::IntCounter) -> (Self, mpsc::Receiver<Exposure>) {
        let (queue, receiver) = mpsc::channel(QUEUE_CAPACITY);
        let shards = (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect();
        (Self { shards, queue, deferred }, receiver)
    }

    fn shard(&self, key: u64) -> &Mutex<HashMap<u64, u16>> {
        &self.shards[(key as usize) % SHARDS]
    }

    /// The variant index this process already gave the unit, if any.
    pub fn known_variant(&self, experiment_id: &str, user_id: &str) -> Option<usize> {
        let key = key(experiment_id, user_id);
        self.shard(key).lock().unwrap().get(&key).map(|&i| usize::from(i))
    }

    /// Remembers the unit's variant and queues its exposure the first time this process
    /// sees the pair.
    pub fn record(&self, experiment_id: &str, user_id: &str, variant_index: usize, variant_id: &str) {
        let key = key(experiment_id, user_id);
        {
            let mut shard = self.shard(key).lock().unwrap();
            if shard.contains_key(&key) {
                return;
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
        if self.queue.try_send(exposure).is_err() {
            // Queue full (Postgres down for long) or closed: forget the pair so the next
            // assignment of this unit queues it again.
            self.shard(key).lock().unwrap().remove(&key);
            self.deferred.inc();
        }
    }

    pub fn queued(&self) -> usize {
        QUEUE_CAPACITY - self.queue.capacity()
    }
}

/// Writes queued exposures until the queue is closed and empty. A batch that fails is
/// retried (Postgres down); the queue holds what arrives meanwhile. Shutdown bounds how
/// long it waits for this.
pub async fn flush_exposures(pool: Pool, mut receiver: mpsc::Receiver<Exposure>, metrics: Metrics) {
    let mut batch: Vec<Exposure> = Vec::with_capacity(BATCH_ROWS);
    loop {
        if batch.is_empty() {
            match receiver.recv().await {
                Some(exposure) => batch.push(exposure),
                None => return,
            }
            // Let a batch gather instead of writing one row per assignment.
            tokio::time::sleep(FLUSH_INTERVAL).await;
        }
        while batch.len() < BATCH_ROWS {
            match receiver.try_recv() {
                Ok(exposure) => batch.push(exposure),
                Err(_) => break,
            }
        }
        match write_batch(&pool, &batch).await {
            Ok(()) => {
                metrics.exposures_committed.inc_by(batch.len() as u64);
                batch.clear();
            }
            Err(error) => {
                tracing::warn!(%error, rows = batch.len(), "writing exposures failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

async fn write_batch(pool: &Pool, batch: &[Exposure]) -> Result<(), String> {
    let client = pool.get().await.map_err(|e| e.to_string())?;
    let experiments: Vec<&str> = batch.iter().map(|e| e.experiment_id.as_str()).collect();
    let users: Vec<&str> = batch.iter().map(|e| e.user_id.as_str()).collect();
    let variants: Vec<&str> = batch.iter().map(|e| e.variant_id.as_str()).collect();
    let times: Vec<DateTime<Utc>> = batch.iter().map(|e| e.at).collect();
    // An experiment deleted meanwhile has no row to reference: skip its exposures.
    client
        .execute(
            "INSERT INTO ab.exposures (experiment_id, user_id, variant_id, first_exposed_at)
             SELECT x.* FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) AS x(e, u, v, t)
             WHERE EXISTS (SELECT 1 FROM ab.experiments WHERE id = x.e)
             ON CONFLICT (experiment_id, user_id) DO NOTHING",
            &[&experiments, &users, &variants, &times],
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
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
