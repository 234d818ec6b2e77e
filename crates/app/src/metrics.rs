//! Prometheus metrics of the service, on one registry rendered by `GET /api/v2/metrics`.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    pub http_requests: IntCounterVec,
    pub http_duration: HistogramVec,
    pub photos_indexed: IntCounterVec,
    pub faces_indexed: IntCounter,
    pub inference_seconds: HistogramVec,
    pub rate_limited: IntCounterVec,
    pub vectors_stored: IntGauge,
    pub photos_stored: IntGauge,
    pub deletions: IntCounterVec,
    pub faces_deleted: IntCounterVec,
    pub webhooks: IntCounterVec,
}

/// Latency buckets from 5 ms to 2 minutes (a 500-photo batch).
const SECONDS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];

impl Metrics {
    /// The registry with every metric; an error only if a definition here is invalid.
    pub fn new() -> prometheus::Result<Self> {
        let registry = Registry::new_custom(Some("facepass".into()), None)?;
        let http_requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by route, method and status",
            ),
            &["route", "method", "status"],
        )?;
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency by route (search and indexing included)",
            )
            .buckets(SECONDS.to_vec()),
            &["route"],
        )?;
        let photos_indexed = IntCounterVec::new(
            Opts::new(
                "photos_indexed_total",
                "Photos processed by index requests, by result (indexed, skipped, failed)",
            ),
            &["result"],
        )?;
        let faces_indexed =
            IntCounter::new("faces_indexed_total", "Faces stored by index requests")?;
        let inference_seconds = HistogramVec::new(
            HistogramOpts::new(
                "inference_seconds",
                "Face pipeline time per image by model and stage (decode, detect, embed)",
            )
            .buckets(SECONDS.to_vec()),
            &["model", "stage"],
        )?;
        let rate_limited = IntCounterVec::new(
            Opts::new(
                "rate_limited_total",
                "Requests refused with 429 by scope (search, index, overloaded)",
            ),
            &["scope"],
        )?;
        let vectors_stored = IntGauge::new("vectors_stored", "Face vectors in the store")?;
        let photos_stored = IntGauge::new("photos_stored", "Indexed photos in the store")?;
        let deletions = IntCounterVec::new(
            Opts::new(
                "deletions_total",
                "Deletions by action (delete_session, delete_photo, expire, forget)",
            ),
            &["action"],
        )?;
        let faces_deleted = IntCounterVec::new(
            Opts::new(
                "faces_deleted_total",
                "Faces deleted by action (expire: purged by the retention task)",
            ),
            &["action"],
        )?;
        let webhooks = IntCounterVec::new(
            Opts::new(
                "webhook_deliveries_total",
                "Webhook delivery attempts by result (delivered, retried, failed, gone)",
            ),
            &["result"],
        )?;
        for collector in [
            Box::new(http_requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(http_duration.clone()),
            Box::new(photos_indexed.clone()),
            Box::new(faces_indexed.clone()),
            Box::new(inference_seconds.clone()),
            Box::new(rate_limited.clone()),
            Box::new(vectors_stored.clone()),
            Box::new(photos_stored.clone()),
            Box::new(deletions.clone()),
            Box::new(faces_deleted.clone()),
            Box::new(webhooks.clone()),
        ] {
            registry.register(collector)?;
        }
        Ok(Self {
            registry,
            http_requests,
            http_duration,
            photos_indexed,
            faces_indexed,
            inference_seconds,
            rate_limited,
            vectors_stored,
            photos_stored,
            deletions,
            faces_deleted,
            webhooks,
        })
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!(error = %e, "cannot encode metrics");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}
