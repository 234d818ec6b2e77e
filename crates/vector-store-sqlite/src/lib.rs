//! `VectorStore` in an embedded SQLite file: the zero-setup default. Embeddings are stored as
//! little-endian float32 blobs; search reads one session's faces (an index range scan) and
//! scores them exactly in Rust.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use facepass_domain::embedding::dot;
use facepass_domain::ports::{
    DeletedCounts, PhotoMatch, SearchHits, SessionStats, StoreError, StoreTotals, StoredFace,
    VectorStore,
};
use facepass_domain::{
    Actor, AuditEvent, AuditQuery, BoundingBox, DetectedFace, Embedding, EmbeddingSpace,
    ExpiryUpdate, FaceId, ForgetCounts, PhotoId, SessionDiff, SessionId,
};
use facepass_vector_store_sql::migrate::{self, Migration};
use facepass_vector_store_sql::{DeleteScope, lifecycle};
use facepass_vector_store_sql::{check_space, ensure_in_space, store_error, unix_millis};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement, Value,
};

/// The schema steps of `migrations/sqlite/`.
pub const MIGRATIONS: &[Migration] =
    facepass_vector_store_sql::sql_migrations!("sqlite", 1 "init", 2 "sessions", 3 "lifecycle");

#[derive(Debug, Clone)]
pub struct SqliteVectorStore {
    db: DatabaseConnection,
    space: EmbeddingSpace,
}

/// Opens (creating if needed) the database file, in WAL mode with foreign keys on.
pub async fn connect(path: &Path) -> Result<DatabaseConnection, StoreError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))
        })?;
    }
    let mut opts = ConnectOptions::new(format!("sqlite://{}?mode=rwc", path.display()));
    opts.max_connections(4)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(30))
        .sqlx_logging(false);
    opts.map_sqlx_sqlite_opts(|o| {
        o.journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30))
    });
    Database::connect(opts)
        .await
        .map_err(|e| StoreError::Unavailable(format!("cannot open {}: {e}", path.display())))
}

impl SqliteVectorStore {
    /// Opens the file, applies pending migrations if asked, and checks it holds `space`.
    pub async fn open(
        path: &Path,
        space: EmbeddingSpace,
        migrate: bool,
    ) -> Result<Self, StoreError> {
        let db = connect(path).await?;
        if migrate {
            migrate::up(&db, MIGRATIONS, &space)
                .await
                .map_err(store_error)?;
        }
        check_space(&db, &space).await?;
        Ok(Self { db, space })
    }

    fn stmt(&self, sql: &str, values: Vec<Value>) -> Statement {
        Statement::from_sql_and_values(
            DbBackend::Sqlite,
            migrate::placeholders(&self.db, sql),
            values,
        )
    }
}

fn f32_blob(values: impl IntoIterator<Item = f32>) -> Vec<u8> {
    values.into_iter().flat_map(f32::to_le_bytes).collect()
}

fn blob_f32(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

#[async_trait]
impl VectorStore for SqliteVectorStore {
    async fn indexed_faces(
        &self,
        session: &SessionId,
        photo: &PhotoId,
    ) -> Result<Option<u64>, StoreError> {
        facepass_vector_store_sql::indexed_faces(&self.db, session, photo).await
    }

    async fn replace_photo(
        &self,
        session: &SessionId,
        photo: &PhotoId,
        faces: Vec<DetectedFace>,
    ) -> Result<Vec<StoredFace>, StoreError> {
        let (txn, stored) =
            facepass_vector_store_sql::begin_replace(&self.db, &self.space, session, photo, &faces)
                .await?;
        let now = unix_millis(SystemTime::now());
        for (face, s) in faces.iter().zip(&stored) {
            txn.execute_raw(self.stmt(
                "INSERT INTO faces (face_id, session_id, photo_id, bbox_x, bbox_y, bbox_width, bbox_height, \
                 landmarks, det_score, embedding, model_id, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                vec![
                    s.face_id.to_string().into(),
                    session.as_str().into(),
                    photo.as_str().into(),
                    face.bbox.x.into(),
                    face.bbox.y.into(),
                    face.bbox.width.into(),
                    face.bbox.height.into(),
                    f32_blob(face.landmarks.iter().flat_map(|p| [p.x, p.y])).into(),
                    face.det_score.into(),
                    f32_blob(face.embedding.as_slice().iter().copied()).into(),
                    self.space.model.as_str().into(),
                    now.into(),
                ],
            ))
            .await
            .map_err(store_error)?;
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
        let rows = self
            .db
            .query_all_raw(self.stmt(
                "SELECT photo_id, face_id, bbox_x, bbox_y, bbox_width, bbox_height, det_score, embedding \
                 FROM faces WHERE session_id = $1",
                vec![session.as_str().into()],
            ))
            .await
            .map_err(store_error)?;
        // Best face per photo; ties between faces of one photo go to the smaller face id.
        let mut best: HashMap<String, (f32, String, BoundingBox, f32)> = HashMap::new();
        for row in rows {
            let blob: Vec<u8> = row.try_get_by_index(7).map_err(store_error)?;
            let cosine = dot(query.as_slice(), &blob_f32(&blob));
            if cosine < min_cosine {
                continue;
            }
            let photo: String = row.try_get_by_index(0).map_err(store_error)?;
            let face_id: String = row.try_get_by_index(1).map_err(store_error)?;
            let better = best
                .get(&photo)
                .is_none_or(|(c, id, _, _)| cosine > *c || (cosine == *c && face_id < *id));
            if better {
                let f = |i: usize| {
                    row.try_get_by_index::<f64>(i)
                        .map(|v| v as f32)
                        .map_err(store_error)
                };
                let bbox = BoundingBox {
                    x: f(2)?,
                    y: f(3)?,
                    width: f(4)?,
                    height: f(5)?,
                };
                best.insert(photo, (cosine, face_id, bbox, f(6)?));
            }
        }
        let mut ranked: Vec<(String, (f32, String, BoundingBox, f32))> = best.into_iter().collect();
        ranked.sort_by(|a, b| b.1.0.total_cmp(&a.1.0).then_with(|| a.0.cmp(&b.0)));
        let total_matches = ranked.len() as u64;
        let matches =
            ranked
                .into_iter()
                .take(limit)
                .map(|(photo, (cosine, face_id, bbox, det_score))| {
                    Ok(PhotoMatch {
                        photo_id: PhotoId::parse(photo)
                            .map_err(|e| StoreError::Unexpected(format!("stored photo id: {e}")))?,
                        face: StoredFace {
                            face_id: FaceId::from_uuid(face_id.parse().map_err(|e| {
                                StoreError::Unexpected(format!("stored face id: {e}"))
                            })?),
                            bbox,
                            det_score,
                        },
                        cosine,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(SearchHits {
            matches,
            total_matches,
        })
    }

    async fn delete_session(
        &self,
        session: &SessionId,
        actor: &Actor,
    ) -> Result<DeletedCounts, StoreError> {
        facepass_vector_store_sql::delete(&self.db, DeleteScope::Session(session), actor).await
    }

    async fn delete_photo(
        &self,
        session: &SessionId,
        photo: &PhotoId,
        actor: &Actor,
    ) -> Result<DeletedCounts, StoreError> {
        facepass_vector_store_sql::delete(&self.db, DeleteScope::Photo(session, photo), actor).await
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
        lifecycle::forget(&self.db, session, actor, |txn| async move {
            let rows = txn
                .query_all_raw(self.stmt(
                    "SELECT face_id, photo_id, embedding FROM faces WHERE session_id = $1",
                    vec![session.as_str().into()],
                ))
                .await
                .map_err(store_error)?;
            let mut found = Vec::new();
            for row in rows {
                let blob: Vec<u8> = row.try_get_by_index(2).map_err(store_error)?;
                let embedding = blob_f32(&blob);
                if queries
                    .iter()
                    .any(|q| dot(q.as_slice(), &embedding) >= min_cosine)
                {
                    found.push((
                        row.try_get_by_index(0).map_err(store_error)?,
                        row.try_get_by_index(1).map_err(store_error)?,
                    ));
                }
            }
            Ok((txn, found))
        })
        .await
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
        lifecycle::purge_expired(&self.db, now, max_sessions).await
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
        facepass_vector_store_sql::session_status(&self.db, &self.space, session, small_face_px)
            .await
    }

    async fn totals(&self) -> Result<StoreTotals, StoreError> {
        facepass_vector_store_sql::totals(&self.db).await
    }

    async fn health(&self) -> Result<(), StoreError> {
        self.db.ping().await.map_err(store_error)
    }
}
