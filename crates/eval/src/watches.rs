//! Guest watches at event scale: every guest of an LFW session registers a watch with their
//! selfie (their first photo, not indexed) before any photo arrives; then the session's photos
//! are indexed in a shuffled order through the indexing use case, each matched against the
//! live watches as the service does. At the end each watch's recorded matches are compared
//! with what a search with the same selfie returns of the whole session: the same photos, or
//! where they differ because the session grew after a photo was matched (a larger session
//! needs a closer face; persons formed later), and which of either are the guest's.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use facepass::settings::Settings;
use facepass_domain::ports::{Embedder, WatchStore};
use facepass_domain::use_cases::{
    IndexBatch, IndexPhoto, SearchBySelfie, SearchLimit, SelfieSearchRequest, WatchError,
    WatchGuest, WatchMatcher, WatchRequest,
};
use facepass_domain::watches::{MatchQuery, WatchId};
use facepass_domain::{Actor, GuestRef, ImageBytes, SessionId, Threshold};
use facepass_photo_source_fs::FsPhotoSource;
use facepass_vector_store_sqlite::SqliteVectorStore;

use crate::rng::Rng;
use crate::scale::{Memo, Plan, lfw_dir};

/// Watches against the final search, over all guests of a session.
#[derive(Debug, Clone, Default)]
pub struct Agreement {
    pub guests: usize,
    /// Guests whose watch the rules refused (their selfie), by code.
    pub refused: usize,
    /// Photos recorded by the watches, and returned by the final searches.
    pub watched: usize,
    pub searched: usize,
    pub both: usize,
    /// Recorded by a watch, not returned by the final search: of the guest, of someone else.
    pub watch_only_right: usize,
    pub watch_only_wrong: usize,
    /// Returned by the final search, not recorded by the watch: of the guest, of someone else.
    pub search_only_right: usize,
    pub search_only_wrong: usize,
    /// Wrong photos among the watches' matches and among the searches'.
    pub watched_wrong: usize,
    pub searched_wrong: usize,
    pub seconds: f64,
}

impl Agreement {
    pub fn header() -> &'static str {
        "| session | faces | watches | watch matches | search matches | same | watch only (guest / stranger) | search only (guest / stranger) | wrong: watches / search | s |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    }

    pub fn row(&self, name: &str, faces: u64) -> String {
        format!(
            "| {name} | {faces} | {} | {} | {} | {} ({:.1} %) | {} / {} | {} / {} | {} / {} | {:.0} |",
            self.guests - self.refused,
            self.watched,
            self.searched,
            self.both,
            100.0 * self.both as f64 / self.watched.max(self.searched).max(1) as f64,
            self.watch_only_right,
            self.watch_only_wrong,
            self.search_only_right,
            self.search_only_wrong,
            self.watched_wrong,
            self.searched_wrong,
            self.seconds,
        )
    }
}

/// Indexes `plan` (its guests' selfies held out) into a fresh session of `store` with a watch
/// per guest, and compares the watches with the final searches. Returns the session's faces.
pub async fn compare<E: Embedder>(
    plan: &Plan,
    embedder: Arc<Memo<E>>,
    store: Arc<SqliteVectorStore>,
    settings: &Settings,
    concurrency: usize,
) -> anyhow::Result<(Agreement, u64)> {
    let started = std::time::Instant::now();
    let session = SessionId::parse(plan.name.replace(' ', "-").as_str())?;
    let search = Arc::new(SearchBySelfie::new(
        embedder.clone(),
        store.clone(),
        settings.similarity()?,
        settings.selfie_policy(),
        settings.people()?,
    ));
    let watches: Arc<dyn WatchStore> = store.clone();
    let guest = WatchGuest::new(search.clone(), store.clone(), watches.clone());
    let mut agreement = Agreement {
        guests: plan.guests.len(),
        ..Agreement::default()
    };
    let mut watch_of: Vec<(String, Vec<u8>, WatchId)> = Vec::new();
    for (i, (identity, selfie)) in plan.guests.iter().enumerate() {
        let bytes = std::fs::read(lfw_dir().join(&selfie.file))?;
        let request = WatchRequest {
            session: session.clone(),
            selfies: vec![ImageBytes::from(bytes.clone())],
            face_index: None,
            guest_ref: GuestRef::parse(format!("guest-{i}"))?,
            threshold: Threshold::DEFAULT,
            expires_at: SystemTime::now() + Duration::from_secs(24 * 3600),
            consent: true,
        };
        match guest
            .create(request, &Actor::key("eval"), SystemTime::now())
            .await
        {
            Ok(created) => watch_of.push((identity.clone(), bytes, created.watch.id)),
            Err(WatchError::Selfie(e))
                if !matches!(
                    e,
                    facepass_domain::use_cases::SearchSelfieError::Store(_)
                        | facepass_domain::use_cases::SearchSelfieError::Embed(_)
                ) =>
            {
                agreement.refused += 1;
            }
            Err(e) => anyhow::bail!("watch for {identity}: {e}"),
        }
    }

    // The event's photos in a shuffled order, as they would arrive.
    let mut items = plan.items()?;
    let mut rng = Rng::new(0x005E_ED0F_4A7C);
    for i in (1..items.len()).rev() {
        items.swap(i, rng.below(i + 1));
    }
    let source = Arc::new(FsPhotoSource::new(lfw_dir(), 50 << 20)?);
    let batch = IndexBatch::new(
        IndexPhoto::new(embedder.clone(), store.clone(), source)
            .with_watches(WatchMatcher::new(watches.clone(), &search)),
        concurrency,
    );
    let report = batch.execute(&session, items, false, |_, _, _| {}).await;
    if let Some((photo, error)) = report.errors().next() {
        anyhow::bail!("indexing {photo}: {error}");
    }

    let identity_of: HashMap<String, String> = plan
        .indexed
        .iter()
        .map(|p| (p.photo_id(), p.identity.clone()))
        .collect();
    let is_guests = |identity: &str, photo: &String| {
        identity_of.get(photo).map(String::as_str) == Some(identity)
    };
    for (identity, selfie, id) in &watch_of {
        let watched: BTreeSet<String> = watches
            .watch_matches(
                id,
                &MatchQuery {
                    since: None,
                    after: None,
                    limit: 100_000,
                },
            )
            .await?
            .into_iter()
            .map(|m| m.photo_id.to_string())
            .collect();
        let searched: BTreeSet<String> = match search
            .execute(SelfieSearchRequest {
                session: session.clone(),
                selfies: vec![ImageBytes::from(selfie.clone())],
                face_index: None,
                threshold: Threshold::DEFAULT,
                limit: SearchLimit::new(SearchLimit::MAX as i64)?,
            })
            .await
        {
            Ok(found) => found
                .matches
                .into_iter()
                .map(|m| m.photo_id.to_string())
                .collect(),
            Err(_) => BTreeSet::new(),
        };
        agreement.watched += watched.len();
        agreement.searched += searched.len();
        agreement.both += watched.intersection(&searched).count();
        for photo in watched.difference(&searched) {
            if is_guests(identity, photo) {
                agreement.watch_only_right += 1;
            } else {
                agreement.watch_only_wrong += 1;
            }
        }
        for photo in searched.difference(&watched) {
            if is_guests(identity, photo) {
                agreement.search_only_right += 1;
            } else {
                agreement.search_only_wrong += 1;
            }
        }
        agreement.watched_wrong += watched.iter().filter(|p| !is_guests(identity, p)).count();
        agreement.searched_wrong += searched.iter().filter(|p| !is_guests(identity, p)).count();
    }
    agreement.seconds = started.elapsed().as_secs_f64();
    Ok((agreement, report.faces_indexed))
}
