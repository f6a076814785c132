//! Prometheus metrics: requests and latency by route and status, events buffered and
//! committed, exposures and their spool, and the age of the cached configuration.

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus::{Encoder, Gauge, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};
use std::time::Instant;

/// Values read from the running service when `/metrics` is scraped.
pub struct ScrapeGauges {
    pub cache_age_seconds: Option<f64>,
    pub running_experiments: usize,
    pub exposure_spool_bytes: u64,
    pub exposure_spool_unflushed_bytes: u64,
    pub exposure_spool_full: bool,
}

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pub events_buffered: IntGauge,
    pub events_committed: IntCounter,
    pub exposures_committed: IntCounter,
    pub exposure_writes_deferred: IntGauge,
    exposure_spool_bytes: IntGauge,
    exposure_spool_unflushed_bytes: IntGauge,
    exposure_spool_full: IntGauge,
    cache_age: Gauge,
    running_experiments: IntGauge,
    pub results_refresh_seconds: Gauge,
    pub guardrail_alerts: IntCounter,
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let labels = &["route", "method", "status"];
        let requests = IntCounterVec::new(Opts::new("ab_http_requests_total", "HTTP requests answered"), labels).unwrap();
        let latency = HistogramVec::new(
            HistogramOpts::new("ab_http_request_duration_seconds", "Time to answer an HTTP request")
                .buckets(vec![0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5]),
            labels,
        )
        .unwrap();
        let events_buffered = IntGauge::new("ab_events_buffered", "Events received and waiting for their commit").unwrap();
        let events_committed = IntCounter::new("ab_events_committed_total", "Events committed (duplicates included)").unwrap();
        let exposures_committed = IntCounter::new("ab_exposures_committed_total", "First exposures written").unwrap();
        let exposure_writes_deferred = IntGauge::new(
            "ab_exposure_writes_deferred",
            "1 while a full batch of exposures waits in the spool for a burst of requests to ebb (at most 30 s)",
        )
        .unwrap();
        let exposure_spool_bytes = IntGauge::new("ab_exposure_spool_bytes", "Disk used by the exposure spool").unwrap();
        let exposure_spool_unflushed_bytes =
            IntGauge::new("ab_exposure_spool_unflushed_bytes", "Spooled exposures not yet committed to Postgres, in bytes (the lag)").unwrap();
        let exposure_spool_full = IntGauge::new(
            "ab_exposure_spool_full",
            "1 while the exposure spool is at its size bound or cannot write: new units get 503 exposure_log_full",
        )
        .unwrap();
        let cache_age = Gauge::new("ab_config_cache_age_seconds", "Seconds since the assignment configuration was loaded (-1: never)").unwrap();
        let running_experiments =
            IntGauge::new("ab_config_running_experiments", "Running experiments in the cached configuration").unwrap();
        let results_refresh_seconds =
            Gauge::new("ab_results_refresh_seconds", "Duration of the last refresh of the results snapshots").unwrap();
        let guardrail_alerts =
            IntCounter::new("ab_guardrail_alerts_total", "Significant guardrail breaches seen by the results refresh").unwrap();
        for collector in [
            Box::new(results_refresh_seconds.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(guardrail_alerts.clone()),
            Box::new(running_experiments.clone()),
            Box::new(requests.clone()),
            Box::new(latency.clone()),
            Box::new(events_buffered.clone()),
            Box::new(events_committed.clone()),
            Box::new(exposures_committed.clone()),
            Box::new(exposure_writes_deferred.clone()),
            Box::new(exposure_spool_bytes.clone()),
            Box::new(exposure_spool_unflushed_bytes.clone()),
            Box::new(exposure_spool_full.clone()),
            Box::new(cache_age.clone()),
        ] {
            registry.register(collector).expect("metric names are unique");
        }
        Self {
            registry,
            requests,
            latency,
            events_buffered,
            events_committed,
            exposures_committed,
            exposure_writes_deferred,
            exposure_spool_bytes,
            exposure_spool_unflushed_bytes,
            exposure_spool_full,
            cache_age,
            running_experiments,
            results_refresh_seconds,
            guardrail_alerts,
        }
    }

    /// The text exposition, with the gauges the caller reads at scrape time.
    pub fn render(&self, gauges: ScrapeGauges) -> String {
        self.cache_age.set(gauges.cache_age_seconds.unwrap_or(-1.0));
        self.running_experiments.set(gauges.running_experiments as i64);
        self.exposure_spool_bytes.set(gauges.exposure_spool_bytes as i64);
        self.exposure_spool_unflushed_bytes.set(gauges.exposure_spool_unflushed_bytes as i64);
        self.exposure_spool_full.set(i64::from(gauges.exposure_spool_full));
        let mut text = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut text).expect("encoding to memory");
        String::from_utf8(text).expect("the text format is UTF-8")
    }
}

/// Counts and times every request by its route template (not the raw path, which would
/// make one series per experiment id).
pub async fn track(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [route.as_str(), method.as_str(), status.as_str()];
    metrics.requests.with_label_values(&labels).inc();
    metrics.latency.with_label_values(&labels).observe(started.elapsed().as_secs_f64());
    response
}
