//! Port: durable storage and exact per-session search of face embeddings.

use std::time::SystemTime;

use async_trait::async_trait;

use crate::embedding::{Embedding, ModelId};
use crate::face::{BoundingBox, DetectedFace};
use crate::ids::{FaceId, PhotoId, SessionId};
use crate::lifecycle::{Actor, AuditEvent, AuditQuery, ExpiryUpdate, ForgetCounts, SessionDiff};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StoreError {
    /// A vector of another recognizer (or dimension) than the store was created for.
    #[error("the store holds embeddings of {expected}, got {actual}")]
    ModelMismatch { expected: String, actual: String },
    /// The database cannot be reached; nothing was written.
    #[error("the vector store is unavailable: {0}")]
    Unavailable(String),
    #[error("vector store failure: {0}")]
    Unexpected(String),
}

/// A face as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredFace {
    pub face_id: FaceId,
    pub bbox: BoundingBox,
    pub det_score: f32,
}

/// The best face of one photo for a query.
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoMatch {
    pub photo_id: PhotoId,
    pub face: StoredFace,
    pub cosine: f32,
}

/// Search answer: the best `limit` photos and how many photos qualified in all.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SearchHits {
    pub matches: Vec<PhotoMatch>,
    pub total_matches: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeletedCounts {
    pub photos: u64,
    pub faces: u64,
}

/// What the whole store holds, across sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StoreTotals {
    pub photos: u64,
    pub faces: u64,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct SessionStats {
    pub photos_indexed: u64,
    pub faces_indexed: u64,
    pub photos_without_faces: u64,
    /// Faces shorter than the height asked for (the recognizer's reliable size).
    pub small_faces: u64,
    pub last_indexed_at: Option<SystemTime>,
    pub model: Option<ModelId>,
    /// When the purge deletes the session; `None`: kept until deleted.
    pub expires_at: Option<SystemTime>,
}

/// Stores the faces of indexed photos and searches them within one session.
///
/// Contract:
/// - the store is bound to one embedding space; a vector of another model id or dimension is
///   refused with [`StoreError::ModelMismatch`] and nothing is written;
/// - `replace_photo` is atomic per photo: afterwards the photo has exactly `faces` (possibly
///   none, which still marks the photo indexed), or, on error, what it had before;
/// - `search` is exact: every photo of the session having a face with cosine >= `min_cosine`
///   counts in `total_matches`; `matches` holds the best face per photo, sorted by cosine
///   descending, ties by photo id ascending, cut at `limit`;
/// - deletes are idempotent and return `Ok` with zero counts for unknown sessions/photos;
/// - every deletion (`delete_session`, `delete_photo`, `forget`, `purge_expired`) records one
///   audit event in the same transaction, zero counts included; no deletion removes events;
/// - `session_status` of an unknown session is all zeros.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait VectorStore: Send + Sync + 'static {
    /// The number of faces stored for the photo, or `None` when it is not indexed.
    async fn indexed_faces(
        &self,
        session: &SessionId,
        photo: &PhotoId,
    ) -> Result<Option<u64>, StoreError>;

    async fn replace_photo(
        &self,
        session: &SessionId,
        photo: &PhotoId,
        faces: Vec<DetectedFace>,
    ) -> Result<Vec<StoredFace>, StoreError>;

    async fn search(
        &self,
        session: &SessionId,
        query: &Embedding,
        min_cosine: f32,
        limit: usize,
    ) -> Result<SearchHits, StoreError>;

    async fn delete_session(
        &self,
        session: &SessionId,
        actor: &Actor,
    ) -> Result<DeletedCounts, StoreError>;

    async fn delete_photo(
        &self,
        session: &SessionId,
        photo: &PhotoId,
        actor: &Actor,
    ) -> Result<DeletedCounts, StoreError>;

    /// Deletes every face of the session with cosine >= `min_cosine` to any of `queries` (a
    /// guest's erasure); the photos stay indexed with their other faces.
    async fn forget(
        &self,
        session: &SessionId,
        queries: &[Embedding],
        min_cosine: f32,
        actor: &Actor,
    ) -> Result<ForgetCounts, StoreError>;

    /// Changes the session's expiry; returns the expiry it has afterwards.
    async fn set_expiry(
        &self,
        session: &SessionId,
        update: ExpiryUpdate,
    ) -> Result<Option<SystemTime>, StoreError>;

    /// Deletes up to `max_sessions` sessions whose expiry is at or before `now`, one
    /// transaction each (audited as `expire`); safe to run from several replicas at once (each
    /// session is deleted by one of them). Returns what was deleted.
    async fn purge_expired(
        &self,
        now: SystemTime,
        max_sessions: usize,
    ) -> Result<Vec<(SessionId, DeletedCounts)>, StoreError>;

    /// Compares the platform's list of the session's photos (distinct ids) with the index,
    /// in the database.
    async fn diff(
        &self,
        session: &SessionId,
        listed: &[PhotoId],
    ) -> Result<SessionDiff, StoreError>;

    /// Audit events, newest first.
    async fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>, StoreError>;

    /// Counts of the session; `small_faces` counts faces whose box is shorter than
    /// `small_face_px` pixels.
    async fn session_status(
        &self,
        session: &SessionId,
        small_face_px: f32,
    ) -> Result<SessionStats, StoreError>;

    /// Photos and faces stored across all sessions (exact counts, for metrics).
    async fn totals(&self) -> Result<StoreTotals, StoreError>;

    /// Cheap reachability check for readiness probes.
    async fn health(&self) -> Result<(), StoreError>;
}
