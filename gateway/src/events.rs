//! Event validation and group commit. Each request hands its validated rows to a queue
//! with a one-shot reply; a few writer tasks take everything queued (up to
//! `BATCH_ROWS`) and insert it in one statement, and every request of the batch is
//! answered after the commit. Under load, many requests share one round trip and one
//! commit; when idle a request waits for nothing but its own insert.

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use deadpool_postgres::Pool;
use serde_json::{Map, Value};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Mutex};

use crate::error::ApiError;
use crate::limits::{is_valid_text, text_rule, MAX_BATCH_EVENTS, MAX_EVENT_TEXT, MAX_UNIT_ID};
use crate::metrics::Metrics;

const BATCH_ROWS: usize = 10_000;

/// One validated event, ready to insert.
pub struct EventRow {
    pub time: DateTime<Utc>,
    pub user_id: String,
    pub event_type: String,
    pub event_id: Option<String>,
    pub dedup_key: String,
    pub metrics: Value,
    pub properties: Value,
}

/// Validates one event object of a request; `position` names it in messages.
pub fn parse_event(value: &Value, position: &str, now: DateTime<Utc>, retention_days: i32) -> Result<EventRow, ApiError> {
    let object = value.as_object().ok_or_else(|| ApiError::invalid(position, "must be a JSON object"))?;
    if let Some(unknown) = object.keys().find(|k| !matches!(k.as_str(), "event_id" | "user_id" | "event_type" | "timestamp" | "metrics" | "properties")) {
        return Err(ApiError::invalid(position, format!("unknown field '{unknown}'")));
    }
    let text = |field: &str, required: bool, max: usize| -> Result<Option<String>, ApiError> {
        match object.get(field) {
            None | Some(Value::Null) if !required => Ok(None),
            Some(Value::String(s)) if is_valid_text(s, max) => Ok(Some(s.clone())),
            Some(Value::String(_)) => Err(ApiError::invalid(&format!("{position}.{field}"), text_rule(max))),
            None | Some(Value::Null) => Err(ApiError::invalid(&format!("{position}.{field}"), "is required")),
            Some(_) => Err(ApiError::invalid(&format!("{position}.{field}"), "must be a string")),
        }
    };
    let user_id = text("user_id", true, MAX_UNIT_ID)?.expect("required");
    let event_type = text("event_type", true, MAX_EVENT_TEXT)?.expect("required");
    ab_core::experiment::check_identifier("event_type", &event_type)
        .map_err(|e| ApiError::invalid(&format!("{position}.event_type"), e.reason))?;
    let event_id = text("event_id", false, MAX_EVENT_TEXT)?;
    let stamp = text("timestamp", true, MAX_EVENT_TEXT)?.expect("required");
    let time = DateTime::parse_from_rfc3339(&stamp)
        .map_err(|e| ApiError::invalid(&format!("{position}.timestamp"), format!("must be RFC 3339 (2026-11-25T10:00:00Z): {e}")))?
        .with_timezone(&Utc);
    if time > now + ChronoDuration::days(1) {
        return Err(ApiError::invalid(&format!("{position}.timestamp"), "is more than a day in the future"));
    }
    if time < now - ChronoDuration::days(i64::from(retention_days)) {
        return Err(ApiError::invalid(&format!("{position}.timestamp"), format!("is older than the {retention_days}-day retention")));
    }
    let metrics = match object.get("metrics") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(Value::Object(values)) => {
            if let Some((name, _)) = values.iter().find(|(_, v)| !v.as_f64().is_some_and(f64::is_finite)) {
                return Err(ApiError::invalid(&format!("{position}.metrics.{name}"), "must be a finite number"));
            }
            Value::Object(values.clone())
        }
        Some(_) => return Err(ApiError::invalid(&format!("{position}.metrics"), "must be an object of numbers")),
    };
    let properties = match object.get("properties") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(Value::Object(values)) => Value::Object(values.clone()),
        Some(_) => return Err(ApiError::invalid(&format!("{position}.properties"), "must be an object")),
    };
    for (field, value) in [("metrics", &metrics), ("properties", &properties)] {
        if holds_nul(value) {
            return Err(ApiError::invalid(&format!("{position}.{field}"), "contains NUL (U+0000), which Postgres cannot store"));
        }
    }
    let dedup_key = match &event_id {
        Some(id) => format!("id:{id}"),
        None => format!("ut:{user_id}\u{1f}{event_type}"),
    };
    Ok(EventRow { time, user_id, event_type, event_id, dedup_key, metrics, properties })
}

/// Whether a JSON value has NUL (U+0000) in a string or a key: Postgres' text and jsonb
/// cannot store it.
pub fn holds_nul(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items.iter().any(holds_nul),
        Value::Object(members) => members.iter().any(|(key, value)| key.contains('\0') || holds_nul(value)),
        _ => false,
    }
}

/// The events of a request body: one event object, `{"events": [...]}` or a bare array.
pub fn parse_body(body: &Value, now: DateTime<Utc>, retention_days: i32) -> Result<Vec<EventRow>, ApiError> {
    let list = match body {
        Value::Array(items) => Some(items),
        Value::Object(object) if object.contains_key("events") => match &object["events"] {
            Value::Array(items) if object.len() == 1 => Some(items),
            Value::Array(_) => return Err(ApiError::invalid("body", "a batch has only the 'events' field")),
            _ => return Err(ApiError::invalid("events", "must be an array")),
        },
        Value::Object(_) => None,
        _ => return Err(ApiError::invalid("body", "must be an event object, {\"events\": [...]} or an array")),
    };
    match list {
        None => Ok(vec![parse_event(body, "event", now, retention_days)?]),
        Some(items) if items.is_empty() => Err(ApiError::invalid("events", "must not be empty")),
        Some(items) if items.len() > MAX_BATCH_EVENTS => {
            Err(ApiError::invalid("events", format!("has {} events, at most {MAX_BATCH_EVENTS} per request", items.len())))
        }
        Some(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| parse_event(item, &format!("events[{i}]"), now, retention_days))
            .collect(),
    }
}

struct Pending {
    rows: Vec<EventRow>,
    committed: oneshot::Sender<Result<(), String>>,
}

#[derive(Clone)]
pub struct EventWriter {
    queue: mpsc::Sender<Pending>,
}

impl EventWriter {
    /// Starts `writers` writer tasks; they end once every `EventWriter` clone is dropped
    /// and the queue is drained. Returns their handles for shutdown.
    pub fn start(pool: Pool, writers: usize, metrics: Metrics) -> (Self, Vec<tokio::task::JoinHandle<()>>) {
        let (queue, receiver) = mpsc::channel(4096);
        let receiver = Arc::new(Mutex::new(receiver));
        let handles = (0..writers.max(1))
            .map(|_| tokio::spawn(write_batches(pool.clone(), Arc::clone(&receiver), metrics.clone())))
            .collect();
        (Self { queue }, handles)
    }

    /// Returns once the rows are committed.
    pub async fn write(&self, rows: Vec<EventRow>, metrics: &Metrics) -> Result<(), ApiError> {
        let count = rows.len() as i64;
        let (committed, reply) = oneshot::channel();
        metrics.events_buffered.add(count);
        let sent = self.queue.send(Pending { rows, committed }).await;
        let outcome = match sent {
            Ok(()) => reply.await.unwrap_or_else(|_| Err("writer stopped".to_owned())),
            Err(_) => Err("writer stopped".to_owned()),
        };
        metrics.events_buffered.sub(count);
        outcome.map_err(ApiError::unavailable)
    }
}

async fn write_batches(pool: Pool, receiver: Arc<Mutex<mpsc::Receiver<Pending>>>, metrics: Metrics) {
    loop {
        let mut batch = Vec::new();
        {
            // One writer gathers at a time; the others are writing meanwhile.
            let mut receiver = receiver.lock().await;
            match receiver.recv().await {
                Some(pending) => batch.push(pending),
                None => return,
            }
            let mut rows = batch[0].rows.len();
            while rows < BATCH_ROWS {
                match receiver.try_recv() {
                    Ok(pending) => {
                        rows += pending.rows.len();
                        batch.push(pending);
                    }
                    Err(_) => break,
                }
            }
        }
        let outcome = insert(&pool, &batch).await;
        if outcome.is_ok() {
            metrics.events_committed.inc_by(batch.iter().map(|p| p.rows.len() as u64).sum());
        }
        for pending in batch {
            let _ = pending.committed.send(outcome.clone());
        }
    }
}

/// The rows of a batch in the order of the unique key `(dedup_key, event_time)`, each key
/// once. Every writer, in this gateway and in any other, then takes the unique index's
/// locks in the same order, so two writers racing over the same new keys (a client
/// retrying while its first attempt is in flight) wait for each other but never deadlock.
fn in_lock_order(batch: &[Pending]) -> Vec<&EventRow> {
    let mut rows: Vec<&EventRow> = batch.iter().flat_map(|p| p.rows.iter()).collect();
    rows.sort_unstable_by(|a, b| (a.dedup_key.as_str(), a.time).cmp(&(b.dedup_key.as_str(), b.time)));
    rows.dedup_by(|a, b| a.dedup_key == b.dedup_key && a.time == b.time);
    rows
}

async fn insert(pool: &Pool, batch: &[Pending]) -> Result<(), String> {
    let ordered = in_lock_order(batch);
    let rows = || ordered.iter().copied();
    let times: Vec<DateTime<Utc>> = rows().map(|r| r.time).collect();
    let users: Vec<&str> = rows().map(|r| r.user_id.as_str()).collect();
    let types: Vec<&str> = rows().map(|r| r.event_type.as_str()).collect();
    let ids: Vec<Option<&str>> = rows().map(|r| r.event_id.as_deref()).collect();
    let keys: Vec<&str> = rows().map(|r| r.dedup_key.as_str()).collect();
    let metrics: Vec<&Value> = rows().map(|r| &r.metrics).collect();
    let properties: Vec<&Value> = rows().map(|r| &r.properties).collect();
    let client = pool.get().await.map_err(|e| e.to_string())?;
    let statement = client
        .prepare_cached(
            "INSERT INTO ab.events (event_time, user_id, event_type, event_id, dedup_key, metrics, properties)
             SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::jsonb[])
             ON CONFLICT DO NOTHING",
        )
        .await
        .map_err(|e| e.to_string())?;
    // A single statement in autocommit: when it returns, the rows are committed. `unnest`
    // yields the rows in array order, which is the lock order chosen above.
    client
        .execute(&statement, &[&times, &users, &types, &ids, &keys, &metrics, &properties])
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}
