//! The SQLite dialect of the SQL `VectorStore`, an embedded file: the zero-setup default.
//! Embeddings are stored as little-endian float32 blobs; search reads one session's faces (an
//! index range scan) and scores them exactly in Rust.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use facepass_domain::embedding::dot;
use facepass_domain::ports::{PhotoMatch, SearchHits, StoreError, StoredFace};
use facepass_domain::{
    BoundingBox, DetectedFace, Embedding, EmbeddingSpace, FaceId, PhotoId, SessionId,
};
use facepass_vector_store_sql::migrate::{self, Migration};
use facepass_vector_store_sql::{Dialect, SqlStore, store_error, unix_millis};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    Statement, Value,
};

/// The schema steps of `migrations/sqlite/`.
pub const MIGRATIONS: &[Migration] =
    facepass_vector_store_sql::sql_migrations!("sqlite", 1 "init", 2 "sessions", 3 "lifecycle");

/// The SQLite store: embeddings as float32 blobs, scored in Rust.
pub type SqliteVectorStore = SqlStore<SqliteDialect>;

#[derive(Debug, Clone, Copy, Default)]
pub struct SqliteDialect;

/// Opens (creating if needed) the database file, applies pending migrations if asked, and
/// checks it holds `space`.
pub async fn open(
    path: &Path,
    space: EmbeddingSpace,
    migrate: bool,
) -> Result<SqliteVectorStore, StoreError> {
    let db = connect(path).await?;
    SqlStore::open(db, space, migrate.then_some(MIGRATIONS), SqliteDialect).await
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

fn stmt(sql: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(
        DbBackend::Sqlite,
        migrate::placeholders_of(DbBackend::Sqlite, sql),
        values,
    )
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
impl Dialect for SqliteDialect {
    async fn insert_faces(
        &self,
        txn: &DatabaseTransaction,
        space: &EmbeddingSpace,
        session: &SessionId,
        photo: &PhotoId,
        faces: &[DetectedFace],
        stored: &[StoredFace],
    ) -> Result<(), StoreError> {
        let now = unix_millis(SystemTime::now());
        for (face, s) in faces.iter().zip(stored) {
            txn.execute_raw(stmt(
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
                    space.model.as_str().into(),
                    now.into(),
                ],
            ))
            .await
            .map_err(store_error)?;
        }
        Ok(())
    }

    async fn search(
        &self,
        db: &DatabaseConnection,
        _space: &EmbeddingSpace,
        session: &SessionId,
        query: &Embedding,
        min_cosine: f32,
        limit: usize,
    ) -> Result<SearchHits, StoreError> {
        let rows = db
            .query_all_raw(stmt(
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

    async fn matching_faces(
        &self,
        txn: &DatabaseTransaction,
        session: &SessionId,
        queries: &[Embedding],
        min_cosine: f32,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let rows = txn
            .query_all_raw(stmt(
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
        Ok(found)
    }
}
