//! The SQLite dialect of the SQL `VectorStore`, an embedded file: the zero-setup default.
//! Embeddings are stored as little-endian float32 blobs, read into the session index that
//! search scans in Rust (`facepass-vector-store-sql`).

use std::path::Path;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use facepass_domain::people::SessionScores;
use facepass_domain::ports::StoreError;
use facepass_domain::{Embedding, EmbeddingSpace, PhotoId, SessionId};
use facepass_vector_store_sql::migrate::Migration;
use facepass_vector_store_sql::{
    Dialect, FaceRow, QueryResult, SqlStore, StoreOptions, Syntax, store_error, unix_millis,
};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    Statement, Value,
};

/// The schema steps of `migrations/sqlite/`.
pub const MIGRATIONS: &[Migration] = facepass_vector_store_sql::sql_migrations!(
    "sqlite", 1 "init", 2 "sessions", 3 "lifecycle", 4 "people", 5 "jobs", 6 "watches"
);

/// The SQLite store: embeddings as float32 blobs.
pub type SqliteVectorStore = SqlStore<SqliteDialect>;

#[derive(Debug, Clone, Copy, Default)]
pub struct SqliteDialect;

/// Opens (creating if needed) the database file, applies pending migrations if asked, and
/// checks it holds `space`.
pub async fn open(
    path: &Path,
    space: EmbeddingSpace,
    migrate: bool,
    options: StoreOptions,
) -> Result<SqliteVectorStore, StoreError> {
    let db = connect(path).await?;
    SqlStore::open(
        db,
        space,
        migrate.then_some(MIGRATIONS),
        SqliteDialect,
        options,
    )
    .await
}

/// Opens (creating if needed) the database file, in WAL mode with foreign keys and secure
/// delete on.
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
            // Deleted rows are overwritten, not left in free pages: a guest's erased faces and
            // an ended watch's embeddings do not linger in the file.
            .pragma("secure_delete", "ON")
    });
    Database::connect(opts)
        .await
        .map_err(|e| StoreError::Unavailable(format!("cannot open {}: {e}", path.display())))
}

fn stmt(sql: &str, values: Vec<Value>) -> Statement {
    SqliteDialect.statement(sql, values)
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

/// SQLite has one writer at a time: a transaction's first write takes the database's write
/// lock, so nothing needs row locks, and a counter row does what Postgres's sequence does.
impl Syntax for SqliteDialect {
    fn backend(&self) -> DbBackend {
        DbBackend::Sqlite
    }

    /// SQLite's numbered `?1, ?2, ...`.
    fn placeholders(&self, sql: &str) -> String {
        sql.replace('$', "?")
    }

    /// UUIDs are stored as hyphenated text.
    fn uuid_param(&self, n: usize) -> String {
        format!("${n}")
    }

    /// Timestamps are stored as Unix milliseconds.
    fn millis_param(&self, n: usize) -> String {
        format!("${n}")
    }

    fn millis_column(&self, column: &str) -> String {
        column.to_owned()
    }

    /// Text compares bytewise by default (`BINARY`).
    fn json_texts(&self, n: usize) -> String {
        format!("SELECT value FROM json_each(${n})")
    }

    fn json_uuids(&self, n: usize) -> String {
        self.json_texts(n)
    }

    fn bytewise(&self) -> &'static str {
        ""
    }

    fn for_update(&self) -> &'static str {
        ""
    }

    fn for_update_skip_locked(&self) -> &'static str {
        ""
    }

    /// Taking the counter first takes the write lock before anything is read.
    fn generation_prelude(&self) -> Option<&'static str> {
        Some("UPDATE facepass_generation SET value = value + 1")
    }

    /// A write that changes nothing but takes the lock.
    fn write_lock(&self) -> Option<&'static str> {
        Some("UPDATE facepass_generation SET value = value")
    }

    fn fresh_generation(&self) -> &'static str {
        "(SELECT value AS v FROM facepass_generation) g"
    }

    fn fresh_generation_value(&self) -> &'static str {
        "(SELECT value FROM facepass_generation)"
    }

    fn lock_session_for_delete(&self) -> Option<&'static str> {
        None
    }

    fn migration_lock(&self) -> Option<&'static str> {
        None
    }

    fn erasure_checkpoint(&self) -> Option<&'static str> {
        Some("PRAGMA wal_checkpoint(TRUNCATE)")
    }
}

#[async_trait]
impl Dialect for SqliteDialect {
    async fn insert_faces(
        &self,
        txn: &DatabaseTransaction,
        space: &EmbeddingSpace,
        session: &SessionId,
        photo: &PhotoId,
        rows: &[FaceRow<'_>],
    ) -> Result<(), StoreError> {
        let now = unix_millis(SystemTime::now());
        for FaceRow {
            face,
            stored: s,
            person,
        } in rows
        {
            txn.execute_raw(stmt(
                "INSERT INTO faces (face_id, session_id, photo_id, bbox_x, bbox_y, bbox_width, bbox_height, \
                 landmarks, det_score, embedding, model_id, created_at, person_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
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
                    person.map(|p| p.to_string()).into(),
                ],
            ))
            .await
            .map_err(store_error)?;
        }
        Ok(())
    }

    fn load_sql(&self) -> &'static str {
        LOAD_SQL
    }

    fn embedding(&self, row: &QueryResult, index: usize) -> Result<Option<Vec<f32>>, StoreError> {
        Ok(row
            .try_get_by_index::<Option<Vec<u8>>>(index)
            .map_err(store_error)?
            .map(|blob| blob_f32(&blob)))
    }

    /// SQLite has no vector arithmetic: the store reads the session.
    async fn scores_in_database(
        &self,
        _db: &DatabaseConnection,
        _session: &SessionId,
        _queries: &[Embedding],
        _floor: f32,
    ) -> Result<Option<SessionScores>, StoreError> {
        Ok(None)
    }
}

/// The session's generations and the faces of the photos written in `(?2, ?3)`, or of every
/// photo below `?3` when photos were removed in that range (see `Dialect::load_sql`). One
/// statement: one snapshot.
const LOAD_SQL: &str = "\
    SELECT s.generation, s.removed_generation, p.photo_id, f.face_id, \
           f.bbox_x, f.bbox_y, f.bbox_width, f.bbox_height, f.det_score, f.person_id, f.embedding \
    FROM sessions s \
    LEFT JOIN photos p ON p.session_id = s.session_id \
        AND p.generation > CASE WHEN s.removed_generation > $2 AND s.removed_generation < $3 \
                                THEN -1 ELSE $2 END \
        AND p.generation < $3 \
    LEFT JOIN faces f ON f.session_id = p.session_id AND f.photo_id = p.photo_id \
    WHERE s.session_id = $1";
