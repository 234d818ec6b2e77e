//! `GET /metrics`: Prometheus text exposition.

use std::sync::Arc;

use facepass_domain::ports::{Embedder, PhotoSource, VectorStore};
use poem_openapi::payload::PlainText;
use poem_openapi::{ApiResponse, OpenApi};

use super::dto::ApiTags;
use super::state::AppState;

#[derive(Debug, ApiResponse)]
pub enum MetricsResponse {
    /// Prometheus text format 0.0.4.
    #[oai(
        status = 200,
        content_type = "text/plain; version=0.0.4; charset=utf-8"
    )]
    Ok(PlainText<String>),
}

#[derive(Debug)]
pub struct MetricsApi<E, S, P>(pub Arc<AppState<E, S, P>>);

#[OpenApi(tag = "ApiTags::Operations")]
impl<E: Embedder, S: VectorStore, P: PhotoSource> MetricsApi<E, S, P> {
    /// Prometheus metrics
    ///
    /// HTTP requests by route and status, latency histograms, photos and faces indexed,
    /// inference time by model and stage, rate-limit refusals and the vectors stored.
    #[oai(path = "/metrics", method = "get", operation_id = "metrics")]
    async fn metrics(&self) -> MetricsResponse {
        let metrics = &self.0.metrics;
        match self.0.store.totals().await {
            Ok(totals) => {
                metrics.vectors_stored.set(totals.faces as i64);
                metrics.photos_stored.set(totals.photos as i64);
            }
            Err(error) => tracing::warn!(%error, "cannot count stored vectors for metrics"),
        }
        MetricsResponse::Ok(PlainText(metrics.render()))
    }
}
