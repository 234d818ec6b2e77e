//! Port: durable storage and exact per-session search of face embeddings.

use std::time::SystemTime;

use async_trait::async_trait;

use crate::embedding::{Cosine, Embedding, ModelId};
use crate::face::{BoundingBox, DetectedFace, Pixels};
use crate::ids::{FaceId, PersonId, PhotoId, SessionId};
use crate::lifecycle::{Actor, AuditEvent, AuditQuery, ExpiryUpdate, ForgetCounts, SessionDiff};
use crate::people::SessionScores;
use crate::use_cases::MatchRules;

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

/// A face of a person, with its photo.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonFace {
    pub photo_id: PhotoId,
    pub face: StoredFace,
}

/// One person of a session, as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonSummary {
    pub person: PersonId,
    /// Photos showing the person (a person has at most one face per photo).
    pub photos: u64,
    pub faces: u64,
    /// The person's most confident face (highest detector score, then tallest, then oldest).
    pub cover: PersonFace,
}

/// Where a page of people starts: after this person of the previous page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeopleCursor {
    pub photos: u64,
    pub person: PersonId,
}

/// A page of a session's people, most photos first (ties by person id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeopleQuery {
    /// Persons with fewer photos are left out.
    pub min_photos: u64,
    pub limit: usize,
    pub after: Option<PeopleCursor>,
}

/// Where a page of a person's faces starts: after this face of the previous page.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceCursor {
    pub det_score: f32,
    pub face: FaceId,
}

/// A page of one person's faces, best first (highest detector score, ties by face id).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PersonFacesQuery {
    pub limit: usize,
    pub after: Option<FaceCursor>,
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

/// Stores the faces of indexed photos, groups them into the session's people, and scores
/// queries against one session.
///
/// Contract:
/// - the store is bound to one embedding space; a vector of another model id or dimension is
///   refused with [`StoreError::ModelMismatch`] and nothing is written;
/// - `replace_photo` is atomic per photo: afterwards the photo has exactly `faces` (possibly
///   none, which still marks the photo indexed), or, on error, what it had before;
/// - faces are grouped into persons by the rules of [`crate::people::PeoplePolicy`], in the
///   transaction that writes them: a new face joins the person (or the lone face) it links
///   to best, and persons that come to link merge, the older id staying; faces of one photo
///   are never grouped together. Removing faces (a photo deleted or re-indexed, `forget`)
///   groups the rest of each affected person again, the largest part keeping its id; a person
///   is two faces or more, a lone face has no person;
/// - `scores` is exact: every face of the session with cosine >= `floor` to some query, and
///   the person of every such face with its mean cosine to each query over all its faces;
/// - deletes are idempotent and return `Ok` with zero counts for unknown sessions/photos;
/// - every deletion (`delete_session`, `delete_photo`, `forget`, `purge_expired`) records one
///   audit event in the same transaction, zero counts included; no deletion removes events;
/// - `session_status` of an unknown session is all zeros.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait VectorStore: Send + Sync + 'static {
    /// The number of faces stored for the photo, or `None` when it is not indexed.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database cannot be reached (nothing was written),
    /// [`StoreError::Unexpected`] for any other database failure.
    async fn indexed_faces(
        &self,
        session: &SessionId,
        photo: &PhotoId,
    ) -> Result<Option<u64>, StoreError>;

    /// Replaces the photo's faces with `faces` (none: the photo is indexed without faces) in
    /// one transaction that also groups them into persons; returns the stored faces.
    ///
    /// # Errors
    /// [`StoreError::ModelMismatch`] for a vector of another embedding space (nothing is
    /// written), [`StoreError::Unavailable`] when the database cannot be reached (nothing was
    /// written), [`StoreError::Unexpected`] for any other database failure.
    async fn replace_photo(
        &self,
        session: &SessionId,
        photo: &PhotoId,
        faces: Vec<DetectedFace>,
    ) -> Result<Vec<StoredFace>, StoreError>;

    /// [`Self::replace_photo`], and in the same transaction the photo's matches for the
    /// session's live guest watches as `rules` decide them from the photo as written (its
    /// faces, their persons, the session's size): the photo and its matches commit together.
    ///
    /// # Errors
    /// As [`Self::replace_photo`]; nothing is written on error.
    async fn replace_photo_watched(
        &self,
        session: &SessionId,
        photo: &PhotoId,
        faces: Vec<DetectedFace>,
        rules: &MatchRules,
    ) -> Result<Vec<StoredFace>, StoreError>;

    /// The session's faces with cosine >= `floor` to any of `queries` (one to three
    /// embeddings), their persons' links, and the session's face count.
    ///
    /// # Errors
    /// [`StoreError::ModelMismatch`] for a query of another embedding space,
    /// [`StoreError::Unavailable`] when the database cannot be reached,
    /// [`StoreError::Unexpected`] for any other database failure.
    async fn scores(
        &self,
        session: &SessionId,
        queries: &[Embedding],
        floor: Cosine,
    ) -> Result<SessionScores, StoreError>;

    /// Deletes every photo and face of the session (audited); unknown: zero counts.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database cannot be reached (nothing was written),
    /// [`StoreError::Unexpected`] for any other database failure.
    async fn delete_session(
        &self,
        session: &SessionId,
        actor: &Actor,
    ) -> Result<DeletedCounts, StoreError>;

    /// Deletes one photo and its faces (audited), grouping the rest of their persons again.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database cannot be reached (nothing was written),
    /// [`StoreError::Unexpected`] for any other database failure.
    async fn delete_photo(
        &self,
        session: &SessionId,
        photo: &PhotoId,
        actor: &Actor,
    ) -> Result<DeletedCounts, StoreError>;

    /// Deletes these faces of the session (a guest's erasure; ids no longer stored are
    /// ignored) and groups what is left of their persons again; the photos stay indexed with
    /// their other faces.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database cannot be reached (nothing was written),
    /// [`StoreError::Unexpected`] for any other database failure.
    async fn forget(
        &self,
        session: &SessionId,
        faces: &[FaceId],
        actor: &Actor,
    ) -> Result<ForgetCounts, StoreError>;

    /// A page of the session's people (unknown session: none).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database cannot be reached (nothing was written),
    /// [`StoreError::Unexpected`] for any other database failure.
    async fn people(
        &self,
        session: &SessionId,
        query: &PeopleQuery,
    ) -> Result<Vec<PersonSummary>, StoreError>;

    /// A page of one person's faces; `None` when the session has no such person.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database cannot be reached (nothing was written),
    /// [`StoreError::Unexpected`] for any other database failure.
    async fn person_faces(
        &self,
        session: &SessionId,
        person: &PersonId,
        query: &PersonFacesQuery,
    ) -> Result<Option<Vec<PersonFace>>, StoreError>;

    /// Changes the session's expiry; returns the expiry it has afterwards.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database cannot be reached (nothing was written),
    /// [`StoreError::Unexpected`] for any other database failure.
    async fn set_expiry(
        &self,
        session: &SessionId,
        update: ExpiryUpdate,
    ) -> Result<Option<SystemTime>, StoreError>;

    /// Deletes up to `max_sessions` sessions whose expiry is at or before `now`, one
    /// transaction each (audited as `expire`); safe to run from several replicas at once (each
    /// session is deleted by one of them). Returns what was deleted.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database cannot be reached (nothing was written),
    /// [`StoreError::Unexpected`] for any other database failure.
    async fn purge_expired(
        &self,
        now: SystemTime,
        max_sessions: usize,
    ) -> Result<Vec<(SessionId, DeletedCounts)>, StoreError>;

    /// Groups the faces of up to `max_sessions` sessions that were indexed before persons
    /// existed (one transaction each, as if their faces were indexed anew in order); safe to
    /// run from several replicas at once. Returns the sessions it grouped; a session this
    /// store cannot hold in memory stays ungrouped (its searches use faces alone).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database cannot be reached (nothing was written),
    /// [`StoreError::Unexpected`] for any other database failure.
    async fn group_pending(&self, max_sessions: usize) -> Result<Vec<SessionId>, StoreError>;

    /// Compares the platform's list of the session's photos (distinct ids) with the index,
    /// in the database.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database cannot be reached (nothing was written),
    /// [`StoreError::Unexpected`] for any other database failure.
    async fn diff(
        &self,
        session: &SessionId,
        listed: &[PhotoId],
    ) -> Result<SessionDiff, StoreError>;

    /// Audit events, newest first.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database cannot be reached (nothing was written),
    /// [`StoreError::Unexpected`] for any other database failure.
    async fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>, StoreError>;

    /// Counts of the session; `small_faces` counts faces whose box is shorter than
    /// `small_face`.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database cannot be reached (nothing was written),
    /// [`StoreError::Unexpected`] for any other database failure.
    async fn session_status(
        &self,
        session: &SessionId,
        small_face: Pixels,
    ) -> Result<SessionStats, StoreError>;

    /// Photos and faces stored across all sessions (exact counts, for metrics).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database cannot be reached (nothing was written),
    /// [`StoreError::Unexpected`] for any other database failure.
    async fn totals(&self) -> Result<StoreTotals, StoreError>;

    /// Cheap reachability check for readiness probes.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database cannot be reached (nothing was written),
    /// [`StoreError::Unexpected`] for any other database failure.
    async fn health(&self) -> Result<(), StoreError>;
}
