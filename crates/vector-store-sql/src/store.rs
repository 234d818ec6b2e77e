//! `VectorStore` implemented once for every SQL backend. What differs between backends is a
//! [`Dialect`]: how a face row is written (pgvector `vector` or a float32 blob), how a search and
//! a guest's erasure find faces (SQL `<#>`, or scoring in Rust), and what a backend keeps
//! beside the database (the pgvector search cache). Everything else (transactions, session
//! generations, deletes, expiry, audit, diff, status) is shared SQL in this crate.

use std::fmt::Debug;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use facepass_domain::ports::{
    DeletedCounts, SearchHits, SessionStats, StoreError, StoreTotals, StoredFace, VectorStore,
};
use facepass_domain::{
    Actor, AuditEvent, AuditQuery, DetectedFace, Embedding, EmbeddingSpace, ExpiryUpdate,
    ForgetCounts, PhotoId, SessionDiff, SessionId,
};
use sea_orm::{DatabaseConnection, DatabaseTransaction};

use crate::migrate::{self, Migration};
use crate::{DeleteScope, check_space, ensure_in_space, lifecycle, store_error};

/// A readiness probe answers within this long: a stopped server otherwise holds it for the
/// pool's whole connect timeout while the pool retries.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(5);

/// The backend-specific part of a SQL vector store.
#[async_trait]
pub trait Dialect: Debug + Send + Sync + 'static {
    /// Writes the rows of `faces` (their ids and stored form in `stored`, same order) inside
    /// the transaction that replaces the photo; the photo row is already written.
    async fn insert_faces(
        &self,
        txn: &DatabaseTransaction,
        space: &EmbeddingSpace,
        session: &SessionId,
        photo: &PhotoId,
        faces: &[DetectedFace],
        stored: &[StoredFace],
    ) -> Result<(), StoreError>;

    /// The session's best face per photo with cosine >= `min_cosine`, best first (ties by
    /// photo id, then face id), at most `limit`, with the count before the limit.
    async fn search(
        &self,
        db: &DatabaseConnection,
        space: &EmbeddingSpace,
        session: &SessionId,
        query: &Embedding,
        min_cosine: f32,
        limit: usize,
    ) -> Result<SearchHits, StoreError>;

    /// `(face_id, photo_id)` of the session's faces whose cosine to any of `queries` is at
    /// least `min_cosine`, read inside `txn` (which holds the session's lock).
    async fn matching_faces(
        &self,
        txn: &DatabaseTransaction,
        session: &SessionId,
        queries: &[Embedding],
        min_cosine: f32,
    ) -> Result<Vec<(String, String)>, StoreError>;

    /// The sessions were removed from the database (deleted or purged); state kept beside it
    /// can go. Other replicas learn it from the session generations.
    fn sessions_removed(&self, _sessions: &[&SessionId]) {}
}

/// A `VectorStore` on one SQL database, speaking its [`Dialect`].
#[derive(Debug, Clone)]
pub struct SqlStore<D> {
    db: DatabaseConnection,
    space: EmbeddingSpace,
    dialect: D,
}

impl<D: Dialect> SqlStore<D> {
    /// Applies `migrations` first when given, then checks the database holds `space`.
    pub async fn open(
        db: DatabaseConnection,
        space: EmbeddingSpace,
        migrations: Option<&[Migration]>,
        dialect: D,
    ) -> Result<Self, StoreError> {
        if let Some(steps) = migrations {
            migrate::up(&db, steps, &space).await.map_err(store_error)?;
        }
        check_space(&db, &space).await?;
        Ok(Self { db, space, dialect })
    }

    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    pub fn dialect(&self) -> &D {
        &self.dialect
    }
}

#[async_trait]
impl<D: Dialect> VectorStore for SqlStore<D> {
    async fn indexed_faces(
        &self,
        session: &SessionId,
        photo: &PhotoId,
    ) -> Result<Option<u64>, StoreError> {
        crate::indexed_faces(&self.db, session, photo).await
    }

    async fn replace_photo(
        &self,
        session: &SessionId,
        photo: &PhotoId,
        faces: Vec<DetectedFace>,
    ) -> Result<Vec<StoredFace>, StoreError> {
        let (txn, stored) =
            crate::begin_replace(&self.db, &self.space, session, photo, &faces).await?;
        if !faces.is_empty() {
            self.dialect
                .insert_faces(&txn, &self.space, session, photo, &faces, &stored)
                .await?;
        }
        txn.commit().await.map_err(store_error)?;
        Ok(stored)
    }

    async fn search(
        &self,
        session: &SessionId,
        query: &Embedding,
        min_cosine: f32,
        limit: usize,
    ) -> Result<SearchHits, StoreError> {
        ensure_in_space(&self.space, query)?;
        self.dialect
            .search(&self.db, &self.space, session, query, min_cosine, limit)
            .await
    }

    async fn delete_session(
        &self,
        session: &SessionId,
        actor: &Actor,
    ) -> Result<DeletedCounts, StoreError> {
        let counts = crate::delete(&self.db, DeleteScope::Session(session), actor).await?;
        self.dialect.sessions_removed(&[session]);
        Ok(counts)
    }

    async fn delete_photo(
        &self,
        session: &SessionId,
        photo: &PhotoId,
        actor: &Actor,
    ) -> Result<DeletedCounts, StoreError> {
        crate::delete(&self.db, DeleteScope::Photo(session, photo), actor).await
    }

    async fn forget(
        &self,
        session: &SessionId,
        queries: &[Embedding],
        min_cosine: f32,
        actor: &Actor,
    ) -> Result<ForgetCounts, StoreError> {
        for query in queries {
            ensure_in_space(&self.space, query)?;
        }
        lifecycle::forget(&self.db, &self.dialect, session, queries, min_cosine, actor).await
    }

    async fn set_expiry(
        &self,
        session: &SessionId,
        update: ExpiryUpdate,
    ) -> Result<Option<SystemTime>, StoreError> {
        lifecycle::set_expiry(&self.db, session, update).await
    }

    async fn purge_expired(
        &self,
        now: SystemTime,
        max_sessions: usize,
    ) -> Result<Vec<(SessionId, DeletedCounts)>, StoreError> {
        let purged = lifecycle::purge_expired(&self.db, now, max_sessions).await?;
        let sessions: Vec<&SessionId> = purged.iter().map(|(s, _)| s).collect();
        self.dialect.sessions_removed(&sessions);
        Ok(purged)
    }

    async fn diff(
        &self,
        session: &SessionId,
        listed: &[PhotoId],
    ) -> Result<SessionDiff, StoreError> {
        lifecycle::diff(&self.db, session, listed).await
    }

    async fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>, StoreError> {
        lifecycle::audit(&self.db, query).await
    }

    async fn session_status(
        &self,
        session: &SessionId,
        small_face_px: f32,
    ) -> Result<SessionStats, StoreError> {
        crate::session_status(&self.db, &self.space, session, small_face_px).await
    }

    async fn totals(&self) -> Result<StoreTotals, StoreError> {
        crate::totals(&self.db).await
    }

    async fn health(&self) -> Result<(), StoreError> {
        match tokio::time::timeout(HEALTH_TIMEOUT, self.db.ping()).await {
            Ok(result) => result.map_err(store_error),
            Err(_) => Err(StoreError::Unavailable(format!(
                "no answer from the database within {HEALTH_TIMEOUT:?}"
            ))),
        }
    }
}
