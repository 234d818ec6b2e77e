//! What every endpoint shares: the use cases wired over the ports, auth, limits, metrics and
//! the tracker of detached indexing work.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use facepass_domain::ports::{Embedder, PhotoSource, VectorStore};
use facepass_domain::use_cases::{
    CheckHealth, DeletePhoto, DeleteSession, IndexBatch, IndexPhoto, IndexPhotoError, IndexStatus,
    IndexedPhoto, SearchBySelfie, SessionStatus,
};
use tokio::sync::Semaphore;
use tokio_util::task::TaskTracker;

use super::auth::ApiKeys;
use super::errors::{ApiError, ErrorCode};
use super::rate_limit::{RateLimits, Scope};
use crate::embedder::MeteredEmbedder;
use crate::metrics::Metrics;
use crate::settings::Settings;

pub struct AppState<E, S, P> {
    pub index_photo: IndexPhoto<MeteredEmbedder<E>, S, P>,
    pub index_batch: IndexBatch<MeteredEmbedder<E>, S, P>,
    pub search: SearchBySelfie<MeteredEmbedder<E>, S>,
    pub session_status: SessionStatus<S>,
    pub delete_session: DeleteSession<S>,
    pub delete_photo: DeletePhoto<S>,
    pub health: CheckHealth<E, S, P>,
    pub store: Arc<S>,
    pub api_keys: ApiKeys,
    pub rate_limits: RateLimits,
    pub metrics: Arc<Metrics>,
    /// Index work runs detached from its request (a client that hangs up does not cancel a
    /// photo half-way); shutdown waits for it.
    pub tasks: TaskTracker,
    /// Set when shutdown begins: batches start no new photo.
    pub stopping: Arc<AtomicBool>,
    pub max_selfie_bytes: u64,
    pub max_json_bytes: u64,
    pub trust_forwarded_for: bool,
}

impl<E, S, P> std::fmt::Debug for AppState<E, S, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

impl<E: Embedder, S: VectorStore, P: PhotoSource> AppState<E, S, P> {
    pub fn new(
        embedder: Arc<E>,
        store: Arc<S>,
        photos: Arc<P>,
        settings: &Settings,
    ) -> anyhow::Result<Self> {
        let metrics = Arc::new(Metrics::new());
        let gate = Arc::new(Semaphore::new(settings.indexing.max_in_flight.max(1)));
        let detector = settings.models.detector.as_str();
        let for_indexing = Arc::new(MeteredEmbedder::new(
            embedder.clone(),
            Some(gate),
            metrics.clone(),
            detector,
        ));
        let for_search = Arc::new(MeteredEmbedder::new(
            embedder.clone(),
            None,
            metrics.clone(),
            detector,
        ));
        let stopping = Arc::new(AtomicBool::new(false));
        let index_photo = IndexPhoto::new(for_indexing, store.clone(), photos.clone());
        Ok(Self {
            index_batch: IndexBatch::new(index_photo.clone(), settings.indexing.batch_concurrency)
                .stop_when(stopping.clone()),
            index_photo,
            search: SearchBySelfie::new(
                for_search,
                store.clone(),
                settings.similarity()?,
                settings.selfie_policy(),
            ),
            session_status: SessionStatus::new(
                store.clone(),
                settings
                    .models
                    .embedder_config()?
                    .recognizer
                    .reliable_face_px,
            ),
            delete_session: DeleteSession::new(store.clone()),
            delete_photo: DeletePhoto::new(store.clone()),
            health: CheckHealth::new(embedder, store.clone(), photos),
            store,
            api_keys: ApiKeys::new(settings.auth.api_keys.clone()),
            rate_limits: RateLimits::new(&settings.rate_limit),
            metrics,
            tasks: TaskTracker::new(),
            stopping,
            max_selfie_bytes: settings.search.max_selfie_bytes,
            max_json_bytes: settings.server.max_json_bytes,
            trust_forwarded_for: settings.server.trust_forwarded_for,
        })
    }
}

impl<E, S, P> AppState<E, S, P> {
    /// Takes a token from the bucket of `key` in `scope`; counts refusals.
    pub fn limit(&self, scope: Scope, key: &str) -> Result<(), ApiError> {
        self.rate_limits.check(scope, key).inspect_err(|_| {
            self.metrics
                .rate_limited
                .with_label_values(&[scope.as_str()])
                .inc();
        })
    }

    /// Counts a refusal because the face pipeline's queue is full.
    pub fn count_overload(&self, error: &ApiError) {
        if error.code == ErrorCode::Overloaded {
            self.metrics
                .rate_limited
                .with_label_values(&["overloaded"])
                .inc();
        }
    }

    /// Counts one index outcome in the metrics.
    pub fn count_photo(&self, result: &Result<IndexedPhoto, IndexPhotoError>) {
        let label = match result {
            Ok(photo) if photo.status == IndexStatus::Skipped => "skipped",
            Ok(_) => "indexed",
            Err(_) => "failed",
        };
        self.metrics
            .photos_indexed
            .with_label_values(&[label])
            .inc();
        if let Ok(photo) = result {
            self.metrics.faces_indexed.inc_by(photo.faces.len() as u64);
        }
    }
}
