//! What every endpoint shares: the use cases ([`UseCases`], wired over the ports), auth,
//! limits, metrics and the tracker of detached indexing work.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use facepass_domain::Actor;
use facepass_domain::ports::{Embedder, JobQueue, PhotoSource, VectorStore, WatchStore};
use facepass_domain::use_cases::{IndexPhotoError, IndexStatus, IndexedPhoto};
use tokio_util::task::TaskTracker;

use super::auth::{ApiKeyAuth, ApiKeys};
use super::errors::{ApiError, ErrorCode};
use super::rate_limit::{RateLimits, Scope};
use crate::metrics::Metrics;
use crate::settings::Settings;
use crate::wiring::UseCases;

pub struct AppState<E, S, P> {
    /// The use cases, reached as the state's own fields (`state.search`, …) through `Deref`.
    pub use_cases: UseCases<E, S, P>,
    pub store: Arc<S>,
    /// The indexing-job queue (the store's database): a trait object, used only by the jobs
    /// endpoints and this replica's workers ([`crate::jobs`]).
    pub jobs: Arc<dyn JobQueue>,
    /// Guest watches (the store's database): read and ended by the watches endpoints, announced
    /// by this replica's notifier ([`crate::webhooks`]).
    pub watches: Arc<dyn WatchStore>,
    pub watch_settings: crate::settings::WatchSettings,
    /// Wakes this replica's idle job workers when a job is submitted here.
    pub job_submitted: Arc<tokio::sync::Notify>,
    pub job_settings: crate::settings::JobSettings,
    pub webhook_settings: crate::settings::WebhookSettings,
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
    /// Browser origins allowed cross-origin (`server.cors_origins`); empty: none.
    pub cors_origins: Vec<String>,
    pub trust_forwarded_for: bool,
    /// How often, and how many sessions per transaction chunk, the retention purge runs.
    pub purge_interval: std::time::Duration,
    pub purge_batch: usize,
}

impl<E, S, P> std::ops::Deref for AppState<E, S, P> {
    type Target = UseCases<E, S, P>;

    fn deref(&self) -> &Self::Target {
        &self.use_cases
    }
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
        jobs: Arc<dyn JobQueue>,
        watches: Arc<dyn WatchStore>,
        settings: &Settings,
    ) -> anyhow::Result<Self> {
        let metrics = Arc::new(Metrics::new()?);
        let stopping = Arc::new(AtomicBool::new(false));
        Ok(Self {
            use_cases: UseCases::new(
                embedder,
                store.clone(),
                photos,
                watches.clone(),
                settings,
                metrics.clone(),
                stopping.clone(),
            )?,
            store,
            jobs,
            watches,
            watch_settings: settings.watches.clone(),
            job_submitted: Arc::new(tokio::sync::Notify::new()),
            job_settings: settings.jobs.clone(),
            webhook_settings: settings.webhooks.clone(),
            api_keys: ApiKeys::new(settings.auth.api_keys.clone()),
            rate_limits: RateLimits::new(&settings.rate_limit),
            metrics,
            tasks: TaskTracker::new(),
            stopping,
            max_selfie_bytes: settings.search.max_selfie_bytes,
            max_json_bytes: settings.server.max_json_bytes,
            cors_origins: settings.server.cors_origins.clone(),
            trust_forwarded_for: settings.server.trust_forwarded_for,
            purge_interval: std::time::Duration::from_secs(settings.retention.purge_interval_secs),
            purge_batch: settings.retention.purge_batch,
        })
    }
}

impl<E: Embedder, S: VectorStore, P: PhotoSource> AppState<E, S, P> {
    /// One run of the retention purge: expired sessions are deleted `purge_batch` at a time
    /// (each in its own transaction, audited as `expire`, their watches with them) until none
    /// is left, then expired guest watches are ended (audited as `watch_end`). Returns how
    /// many sessions were purged.
    pub async fn purge_expired(&self) -> Result<usize, facepass_domain::ports::StoreError> {
        let mut purged = 0;
        loop {
            let chunk = self
                .lifecycle
                .purge(std::time::SystemTime::now(), self.purge_batch)
                .await?;
            for (session, counts) in &chunk {
                self.count_deletion("expire", counts.faces);
                tracing::info!(session = %session, photos = counts.photos, faces = counts.faces, "expired session purged");
            }
            purged += chunk.len();
            if chunk.len() < self.purge_batch
                || self.stopping.load(std::sync::atomic::Ordering::SeqCst)
            {
                break;
            }
        }
        loop {
            let ended = self
                .watches
                .end_expired_watches(std::time::SystemTime::now(), self.purge_batch)
                .await?;
            for end in &ended {
                tracing::info!(session = %end.session, watch = %end.watch, "expired guest watch ended");
            }
            if ended.len() < self.purge_batch
                || self.stopping.load(std::sync::atomic::Ordering::SeqCst)
            {
                return Ok(purged);
            }
        }
    }

    /// One run of the people backfill: up to `purge_batch` sessions indexed before persons
    /// existed get their faces grouped (each in its own transaction). Returns how many.
    pub async fn group_pending(&self) -> Result<usize, facepass_domain::ports::StoreError> {
        let grouped = self.lifecycle.group_pending(self.purge_batch).await?;
        for session in &grouped {
            tracing::info!(session = %session, "faces of a session indexed before persons existed grouped");
        }
        Ok(grouped.len())
    }
}

impl<E, S, P> AppState<E, S, P> {
    /// Checks the request's API key and its rate limit; the key as the audit names it.
    pub fn authorize(&self, auth: &ApiKeyAuth) -> Result<Actor, ApiError> {
        let key = self.api_keys.verify(auth)?;
        self.limit(Scope::Index, &key.0.to_string())?;
        Ok(Actor::key(self.api_keys.id_of(key)))
    }

    /// Takes a token from the bucket of `key` in `scope`; counts refusals.
    pub fn limit(&self, scope: Scope, key: &str) -> Result<(), ApiError> {
        self.rate_limits.check(scope, key).inspect_err(|_| {
            self.metrics
                .rate_limited
                .with_label_values(&[scope.as_str()])
                .inc();
        })
    }

    /// Counts one deletion of `faces` faces by `action` (an audit action's name).
    pub fn count_deletion(&self, action: &str, faces: u64) {
        self.metrics.deletions.with_label_values(&[action]).inc();
        self.metrics
            .faces_deleted
            .with_label_values(&[action])
            .inc_by(faces);
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
