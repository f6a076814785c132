//! The in-process copy of what assignment and authentication need: running experiments and
//! active tokens. Requests read it without touching Postgres, so `/assign` keeps answering
//! while the database is down. It is reloaded on `NOTIFY ab_config` (sent by triggers on
//! both tables) and at least every `config_refresh_secs`, in case a notification was lost
//! while the listening connection was down.

use ab_core::eligibility::EligibilityIndex;
use ab_core::experiment::{Allocation, Variant};
use arc_swap::ArcSwap;
use deadpool_postgres::Pool;
use futures_util::StreamExt;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_postgres::AsyncMessage;

use crate::error::ApiError;
use crate::settings::Role;
use crate::store::{self, Status};

/// What `/assign` needs of one running experiment.
pub struct RunningExperiment {
    pub id: String,
    pub allocation: Allocation,
    pub reallocated: bool,
}

impl RunningExperiment {
    pub fn variant(&self, index: usize) -> &Variant {
        &self.allocation.variants[index]
    }
}

#[derive(Default)]
pub struct Snapshot {
    pub running: Vec<Arc<RunningExperiment>>,
    pub running_by_id: HashMap<String, Arc<RunningExperiment>>,
    /// Finds the running experiments a unit may be eligible for (positions in `running`).
    pub eligibility: EligibilityIndex,
    /// Experiments that exist but do not assign (draft, paused, completed).
    pub not_running: HashSet<String>,
    pub tokens: HashMap<[u8; 32], Role>,
    /// None until the first successful load.
    pub loaded_at: Option<Instant>,
}

pub struct ConfigCache {
    current: ArcSwap<Snapshot>,
    pool: Pool,
}

impl ConfigCache {
    pub fn new(pool: Pool) -> Self {
        Self { current: ArcSwap::from_pointee(Snapshot::default()), pool }
    }

    pub fn snapshot(&self) -> arc_swap::Guard<Arc<Snapshot>> {
        self.current.load()
    }

    /// Seconds since the last successful load (what `/metrics` reports as cache age).
    pub fn age_seconds(&self) -> Option<f64> {
        self.current.load().loaded_at.map(|at| at.elapsed().as_secs_f64())
    }

    pub async fn reload(&self) -> Result<(), ApiError> {
        let client = self.pool.get().await?;
        let experiments = store::list(&**client).await?;
        let tokens = store::active_tokens(&**client).await?;
        let (running, not_running): (Vec<_>, Vec<_>) = experiments.into_iter().partition(|e| e.status == Status::Running);
        let running: Vec<Arc<RunningExperiment>> = running
            .into_iter()
            .map(|e| Arc::new(RunningExperiment { id: e.config.id, allocation: e.config.allocation, reallocated: e.reallocated }))
            .collect();
        let not_running = not_running.into_iter().map(|e| e.config.id).collect();
        let running_by_id = running.iter().map(|e| (e.id.clone(), Arc::clone(e))).collect();
        let eligibility = EligibilityIndex::new(running.iter().map(|e| &e.allocation));
        self.current.store(Arc::new(Snapshot {
            running,
            running_by_id,
            eligibility,
            not_running,
            tokens: tokens.into_iter().collect(),
            loaded_at: Some(Instant::now()),
        }));
        Ok(())
    }

    /// Listens for configuration changes until the process ends, reconnecting with backoff.
    pub async fn follow_changes(self: Arc<Self>, config: tokio_postgres::Config, refresh: Duration) {
        loop {
            match self.listen_once(&config, refresh).await {
                Ok(()) => tracing::warn!("configuration listener disconnected; reconnecting"),
                Err(error) => tracing::warn!(%error, "configuration listener failed; reconnecting"),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    async fn listen_once(&self, config: &tokio_postgres::Config, refresh: Duration) -> Result<(), ApiError> {
        let (client, mut connection) = config.connect(tokio_postgres::NoTls).await?;
        let (notify, mut notified) = tokio::sync::mpsc::unbounded_channel();
        let driver = tokio::spawn(async move {
            let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
            while let Some(message) = messages.next().await {
                match message {
                    Ok(AsyncMessage::Notification(_)) => {
                        if notify.send(()).is_err() {
                            break;
                        }
                    }
                    Ok(_) => {}
                    Err(error) => {
                        tracing::warn!(%error, "configuration listener connection error");
                        break;
                    }
                }
            }
        });
        client.batch_execute("LISTEN ab_config").await?;
        // Anything that changed while we were not listening is picked up here.
        self.reload_logged().await;
        let mut ticker = tokio::time::interval(refresh);
        ticker.tick().await;
        loop {
            tokio::select! {
                message = notified.recv() => {
                    if message.is_none() {
                        break;
                    }
                    // Coalesce a burst of notifications into one reload.
                    while notified.try_recv().is_ok() {}
                    self.reload_logged().await;
                }
                _ = ticker.tick() => self.reload_logged().await,
            }
        }
        driver.abort();
        Ok(())
    }

    async fn reload_logged(&self) {
        match self.reload().await {
            Ok(()) => tracing::debug!("configuration reloaded"),
            Err(error) => tracing::warn!(message = %error.message, "configuration reload failed; serving the cached copy"),
        }
    }
}
