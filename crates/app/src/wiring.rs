//! The one place the use cases are built over the ports, from the settings: the HTTP API
//! ([`crate::api::state::AppState`]), `facepass index-dir` and the tests all take them from
//! [`UseCases::new`], so a rule of indexing (the session's default retention, the indexing
//! gate, the embedder's metrics) holds the same way for each.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use facepass_domain::ports::{Embedder, PhotoSource, VectorStore, WatchStore};
use facepass_domain::use_cases::{
    CheckHealth, DeletePhoto, DeleteSession, ForgetGuest, IndexBatch, IndexPhoto, ListPeople,
    SearchBySelfie, SessionLifecycle, SessionStatus, WatchGuest, WatchMatcher,
};
use tokio::sync::Semaphore;

use crate::embedder::MeteredEmbedder;
use crate::metrics::Metrics;
use crate::settings::Settings;

/// Every use case of the service, wired over one embedder, store and photo source.
pub struct UseCases<E, S, P> {
    pub index_photo: IndexPhoto<MeteredEmbedder<E>, S, P>,
    pub index_batch: IndexBatch<MeteredEmbedder<E>, S, P>,
    pub search: Arc<SearchBySelfie<MeteredEmbedder<E>, S>>,
    pub forget: ForgetGuest<MeteredEmbedder<E>, S>,
    /// Expiry (and the default retention of new sessions), purge, diff, audit.
    pub lifecycle: SessionLifecycle<S>,
    pub session_status: SessionStatus<S>,
    pub people: ListPeople<S>,
    pub delete_session: DeleteSession<S>,
    pub delete_photo: DeletePhoto<S>,
    pub health: CheckHealth<E, S, P>,
    /// Guest watches: created here; every photo indexed above is matched against them.
    pub watch: WatchGuest<MeteredEmbedder<E>, S>,
}

impl<E, S, P> std::fmt::Debug for UseCases<E, S, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UseCases").finish_non_exhaustive()
    }
}

impl<E: Embedder, S: VectorStore, P: PhotoSource> UseCases<E, S, P> {
    /// The use cases of `settings` over the ports; the embedder's calls are counted in
    /// `metrics`, indexing holds at most `indexing.max_in_flight` photos at the embedder (the
    /// rest of its queue stays for searches), a batch starts no new photo once `stopping`
    /// is set, and every photo indexed is matched against its session's live `watches`.
    pub fn new(
        embedder: Arc<E>,
        store: Arc<S>,
        photos: Arc<P>,
        watches: Arc<dyn WatchStore>,
        settings: &Settings,
        metrics: Arc<Metrics>,
        stopping: Arc<AtomicBool>,
    ) -> anyhow::Result<Self> {
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
            metrics,
            detector,
        ));
        let search = Arc::new(SearchBySelfie::new(
            for_search,
            store.clone(),
            settings.similarity()?,
            settings.selfie_policy(),
            settings.people()?,
        ));
        let matcher = WatchMatcher::new(watches.clone(), &search);
        let index_photo = IndexPhoto::new(for_indexing, store.clone(), photos.clone())
            .with_watches(matcher.clone());
        Ok(Self {
            index_batch: IndexBatch::new(index_photo.clone(), settings.indexing.batch_concurrency)
                .stop_when(stopping),
            index_photo,
            forget: ForgetGuest::new(search.clone(), store.clone()).with_watches(matcher),
            watch: WatchGuest::new(search.clone(), store.clone(), watches),
            search,
            lifecycle: SessionLifecycle::new(store.clone(), settings.retention.default_retention()),
            session_status: SessionStatus::new(store.clone(), settings.models.reliable_face()?),
            people: ListPeople::new(store.clone()),
            delete_session: DeleteSession::new(store.clone()),
            delete_photo: DeletePhoto::new(store.clone()),
            health: CheckHealth::new(embedder, store, photos),
        })
    }
}
