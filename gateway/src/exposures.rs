//! First exposures. `/assign` records each (experiment, unit) in a sharded in-memory map
//! the first time this process sees it and appends it to the durable spool
//! (`crate::spool`); the flusher task writes the spool to Postgres in batches with
//! `ON CONFLICT DO NOTHING`, so the first stored exposure wins across gateways. The map
//! also makes assignment sticky for experiments whose weights changed after the start:
//! the variant already given wins over the hash.

use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::metrics::Metrics;
use crate::spool::{Exposure, Spool, SpoolFull, SpoolReader};

const SHARDS: usize = 64;
/// Remembered units per shard; a full shard is cleared (the table still has them).
const SHARD_CAPACITY: usize = 1 << 16;
/// A batch smaller than `FlushSettings::batch_rows` waits this long for the next, so that
/// trickling assignments share statements instead of writing one row each.
const GATHER_INTERVAL: Duration = Duration::from_millis(200);
/// While the runtime's workers spend at least `FlushSettings::busy_share` of their time
/// answering requests, a full batch waits (within the bounds below): each batch keeps a
/// Postgres backend busy on a core, and on a machine Postgres shares with the gateway, batches
/// written during a burst of new units were the tail of `/assign` (issue 17). The spool holds the exposures durably
/// meanwhile, and they are written as soon as the burst ebbs.
/// How often a waiting batch looks at the workers again.
const BUSY_SAMPLE: Duration = Duration::from_millis(100);
/// A batch waits no longer than this after its first exposure: at most one results tick
/// (30 s) late.
const MAX_DEFERRAL: Duration = Duration::from_secs(30);
/// Nor past this share of the spool's bound, so waiting never makes the spool refuse units.
const DEFERRED_BACKLOG_LIMIT: f64 = 0.25;

/// How the flusher batches (`--exposure-batch-rows`, `--exposure-defer-busy-share`).
#[derive(Clone, Copy, Debug)]
pub struct FlushSettings {
    /// Rows per insert; a full batch is what a burst produces, and only it may wait.
    pub batch_rows: usize,
    /// The workers' busy share at and above which a full batch waits.
    pub busy_share: f64,
}

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
        // A shard is a plain map, still whole if a panic elsewhere poisoned its lock: /assign
        // goes on rather than panic in every later request.
        self.shard(key).lock().unwrap_or_else(PoisonError::into_inner).get(&key).map(|&i| usize::from(i))
    }

    /// Remembers the unit's variant and spools its exposure, timed now, the first time this
    /// process sees the pair. Fails when the spool is full: the caller must not answer
    /// with a variant it cannot record.
    pub fn record(&self, experiment_id: &str, user_id: &str, variant_index: usize, variant_id: &str) -> Result<(), SpoolFull> {
        let key = key(experiment_id, user_id);
        {
            let mut shard = self.shard(key).lock().unwrap_or_else(PoisonError::into_inner);
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
            self.shard(key).lock().unwrap_or_else(PoisonError::into_inner).remove(&key);
        })
    }

    pub fn spool(&self) -> &Spool {
        &self.spool
    }
}

/// Writes the spool to Postgres until the spool is closed and read to its end. A full batch
/// waits while the workers are busy answering (see `BUSY_SAMPLE`), a trickle waits to gather.
/// A batch that fails is retried (Postgres down); meanwhile the spool grows on disk.
pub async fn flush_exposures(pool: Pool, mut reader: SpoolReader, settings: FlushSettings, metrics: Metrics) {
    let mut workers = WorkerLoad::now();
    loop {
        let (batch, next) = match reader.next_batch(settings.batch_rows).await {
            Ok(Some(read)) => read,
            Ok(None) => return,
            Err(error) => {
                tracing::error!(%error, "ALERT reading the exposure spool failed; exposures stay on disk until a restart");
                return;
            }
        };
        let rows = batch.len();
        if rows == settings.batch_rows {
            let first = batch[0].at;
            while (Utc::now() - first).to_std().unwrap_or_default() < MAX_DEFERRAL
                && reader.backlog_share() < DEFERRED_BACKLOG_LIMIT
                && workers.busy_share_since_last_look() >= settings.busy_share
            {
                metrics.exposure_writes_deferred.set(1);
                tokio::time::sleep(BUSY_SAMPLE).await;
            }
            metrics.exposure_writes_deferred.set(0);
        }
        // Sorting a batch of 5,000 (the default) takes about half a millisecond (release
        // build): not on the runtime's worker, which answers `/assign`.
        let columns = match tokio::task::spawn_blocking(move || Columns::in_lock_order(batch)).await {
            Ok(columns) => columns,
            Err(error) => {
                tracing::error!(%error, "ALERT preparing exposures failed; they stay on disk until a restart");
                return;
            }
        };
        while let Err(error) = columns.write(&pool).await {
            tracing::warn!(%error, rows, "writing exposures failed; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        metrics.exposures_committed.inc_by(rows as u64);
        reader.committed(next);
        if rows < settings.batch_rows {
            tokio::time::sleep(GATHER_INTERVAL).await;
        }
    }
}

/// The runtime's workers' total busy time at an instant.
struct WorkerLoad {
    workers: usize,
    busy: Duration,
    at: Instant,
}

impl WorkerLoad {
    fn now() -> Self {
        let runtime = tokio::runtime::Handle::current().metrics();
        let workers = runtime.num_workers();
        let busy = (0..workers).map(|worker| runtime.worker_total_busy_duration(worker)).sum();
        Self { workers, busy, at: Instant::now() }
    }

    /// The share of the time since the last look that the workers were busy.
    fn busy_share_since_last_look(&mut self) -> f64 {
        let now = Self::now();
        let capacity = (now.at - self.at).as_secs_f64() * now.workers as f64;
        let share = (now.busy - self.busy).as_secs_f64() / capacity.max(f64::MIN_POSITIVE);
        *self = now;
        share
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
