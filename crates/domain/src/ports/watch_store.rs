//! Port: guest watches, kept by the store that holds the session's faces (their matches name
//! its faces, and a session's deletion ends its watches in the same transaction).

use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use crate::ids::SessionId;
use crate::lifecycle::Actor;
use crate::ports::StoreError;
use crate::watches::{
    EndedWatch, LiveWatch, MatchQuery, NewWatch, Watch, WatchEnd, WatchId, WatchMatch, WatchNotice,
};

/// Renders the `data` of a `watch.matched` webhook (the store writes it to the outbox as is).
pub type NoticeRenderer = dyn Fn(&WatchNotice) -> String + Send + Sync;

/// Keeps guest watches and their matches.
///
/// Contract:
/// - a watch is live from `create_watch` until it ends (`end_watch`, `end_expired_watches`,
///   its session deleted or purged: those end it in the deleting transaction); each end
///   records one `watch_end` audit event with its reason and deletes the watch's embeddings
///   and matches;
/// - a photo has at most one match per watch; recording it again changes nothing; a match
///   goes with its face (the photo deleted, re-indexed or the face forgotten);
/// - a photo written with its watches (`VectorStore::replace_photo_watched`) is matched, in
///   its transaction, against every watch live then;
/// - `notify_due` writes one outbox row per due watch and marks its matches notified in the
///   same transaction, so a match is announced at most once, and a watch at most once per
///   `interval`.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait WatchStore: Send + Sync + 'static {
    /// Stores a watch with its initial matches (marked notified: they were answered).
    ///
    /// # Errors
    /// [`StoreError::ModelMismatch`] for embeddings of another space,
    /// [`StoreError::Unavailable`] when the database cannot be reached (nothing was written),
    /// [`StoreError::Unexpected`] for any other database failure.
    async fn create_watch(&self, watch: NewWatch) -> Result<(), StoreError>;

    /// A live watch of the session, `None` when unknown (or ended).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] / [`StoreError::Unexpected`] for database failures.
    async fn watch(&self, session: &SessionId, id: &WatchId) -> Result<Option<Watch>, StoreError>;

    /// A page of a watch's matches, oldest first.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] / [`StoreError::Unexpected`] for database failures.
    async fn watch_matches(
        &self,
        id: &WatchId,
        query: &MatchQuery,
    ) -> Result<Vec<WatchMatch>, StoreError>;

    /// The session's watches live at `now`, with their embeddings.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] / [`StoreError::Unexpected`] for database failures.
    async fn live_watches(
        &self,
        session: &SessionId,
        now: SystemTime,
    ) -> Result<Vec<LiveWatch>, StoreError>;

    /// How many of the session's watches are live at `now`.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] / [`StoreError::Unexpected`] for database failures.
    async fn live_watch_count(
        &self,
        session: &SessionId,
        now: SystemTime,
    ) -> Result<u64, StoreError>;

    /// Records new matches of watches (a match of a photo a watch has already, or of a face
    /// or watch no longer stored, is left out); `announced`: the platform has them already
    /// (a watch's creation answered them), so no webhook names them.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] / [`StoreError::Unexpected`] for database failures.
    async fn record_matches(
        &self,
        matches: &[(WatchId, WatchMatch)],
        announced: bool,
    ) -> Result<(), StoreError>;

    /// Ends a watch of the session (audited); `false` when there was no such watch.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] / [`StoreError::Unexpected`] for database failures.
    async fn end_watch(
        &self,
        session: &SessionId,
        id: &WatchId,
        reason: WatchEnd,
        actor: &Actor,
    ) -> Result<bool, StoreError>;

    /// Ends up to `max` watches whose `expires_at` is at or before `now` (audited as
    /// `expired`); safe from several replicas at once.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] / [`StoreError::Unexpected`] for database failures.
    async fn end_expired_watches(
        &self,
        now: SystemTime,
        max: usize,
    ) -> Result<Vec<EndedWatch>, StoreError>;

    /// Writes a `watch.matched` webhook for up to `max` watches with matches not yet
    /// announced, whose oldest such match and last webhook are both at least `interval` old;
    /// returns how many were written.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] / [`StoreError::Unexpected`] for database failures.
    async fn notify_due(
        &self,
        now: SystemTime,
        interval: Duration,
        max: usize,
        render: &NoticeRenderer,
    ) -> Result<usize, StoreError>;
}
