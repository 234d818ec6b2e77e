//! The embedder as the API uses it: inference timings recorded per model and stage, and, for
//! indexing, a bound on photos waiting for inference so searches always find room in the
//! pipeline's queue (a full queue answers searches `overloaded`, never indexing).

use std::sync::Arc;

use async_trait::async_trait;
use facepass_domain::ports::{EmbedError, Embedder};
use facepass_domain::{EmbeddingSpace, FaceAnalysis, ImageBytes, ImageKind};
use tokio::sync::Semaphore;

use crate::metrics::Metrics;

pub struct MeteredEmbedder<E> {
    inner: Arc<E>,
    /// Indexing waits here for a slot instead of failing on a full queue.
    gate: Option<Arc<Semaphore>>,
    metrics: Arc<Metrics>,
    detector: String,
}

impl<E> std::fmt::Debug for MeteredEmbedder<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeteredEmbedder")
            .field("gated", &self.gate.is_some())
            .finish()
    }
}

impl<E: Embedder> MeteredEmbedder<E> {
    pub fn new(
        inner: Arc<E>,
        gate: Option<Arc<Semaphore>>,
        metrics: Arc<Metrics>,
        detector: &str,
    ) -> Self {
        Self {
            inner,
            gate,
            metrics,
            detector: detector.to_owned(),
        }
    }
}

#[async_trait]
impl<E: Embedder> Embedder for MeteredEmbedder<E> {
    fn space(&self) -> EmbeddingSpace {
        self.inner.space()
    }

    async fn analyze(
        &self,
        image: ImageBytes,
        kind: ImageKind,
    ) -> Result<FaceAnalysis, EmbedError> {
        let _permit = match &self.gate {
            Some(gate) => Some(
                gate.acquire()
                    .await
                    .map_err(|_| EmbedError::Unavailable("the service is stopping".into()))?,
            ),
            None => None,
        };
        let analysis = self.inner.analyze(image, kind).await?;
        let space = self.inner.space();
        let t = &analysis.timings;
        for (model, stage, seconds) in [
            ("image", "decode", t.decode),
            (self.detector.as_str(), "detect", t.detect),
            (space.model.as_str(), "embed", t.embed),
        ] {
            self.metrics
                .inference_seconds
                .with_label_values(&[model, stage])
                .observe(seconds.as_secs_f64());
        }
        Ok(analysis)
    }

    async fn health(&self) -> Result<(), EmbedError> {
        self.inner.health().await
    }
}
