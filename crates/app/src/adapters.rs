//! The configured adapters behind one type per port, so the use cases stay generic (no
//! `dyn`): `storage.backend` picks the vector store, `photos.backend` the photo source.

use async_trait::async_trait;
use facepass_domain::people::SessionScores;
use facepass_domain::ports::{PhotoSource, PhotoSourceError, StoreError};
use facepass_domain::{Embedding, EmbeddingSpace, ImageBytes, PhotoId, PhotoKey, SessionId};
use facepass_photo_source_fs::FsPhotoSource;
use facepass_photo_source_s3::S3PhotoSource;
use facepass_vector_store_pgvector::{PgDialect, PgOptions};
use facepass_vector_store_sql::{
    DatabaseConnection, DatabaseTransaction, DbBackend, Dialect, FaceRow, QueryResult, SqlStore,
    Syntax,
};
use facepass_vector_store_sqlite::SqliteDialect;

use crate::settings::{Database, PhotoSettings, PhotoStore, Settings};

/// The vector store chosen by `storage.backend`: the one SQL store, in that backend's dialect.
pub type Store = SqlStore<StoreDialect>;

#[derive(Debug, Clone)]
pub enum StoreDialect {
    Sqlite(SqliteDialect),
    Postgres(PgDialect),
}

/// Connects to the configured database, migrates it if `storage.migrate`, and checks it
/// holds embeddings of `space` (the running embedder's: its model files are not read again).
pub async fn open_store(
    settings: &Settings,
    space: facepass_domain::EmbeddingSpace,
) -> anyhow::Result<Store> {
    let storage = &settings.storage;
    let (db, migrations, dialect) = match &storage.database {
        Database::Sqlite { path } => (
            facepass_vector_store_sqlite::connect(path).await?,
            facepass_vector_store_sqlite::MIGRATIONS,
            StoreDialect::Sqlite(SqliteDialect),
        ),
        Database::Postgres {
            url,
            max_connections,
        } => {
            let options = PgOptions {
                max_connections: *max_connections,
                migrate: storage.migrate,
                ..PgOptions::default()
            };
            (
                facepass_vector_store_pgvector::connect(url.expose(), &options).await?,
                facepass_vector_store_pgvector::MIGRATIONS,
                StoreDialect::Postgres(PgDialect),
            )
        }
    };
    let migrations = storage.migrate.then_some(migrations);
    let options = settings.store_options()?;
    Ok(SqlStore::open(db, space, migrations, dialect, options).await?)
}

/// Forwards a dialect method to the chosen backend's.
macro_rules! delegate {
    ($self:ident, $($call:tt)*) => {
        match $self {
            Self::Sqlite(d) => d.$($call)*,
            Self::Postgres(d) => d.$($call)*,
        }
    };
}

impl Syntax for StoreDialect {
    fn backend(&self) -> DbBackend {
        delegate!(self, backend())
    }

    fn placeholders(&self, sql: &str) -> String {
        delegate!(self, placeholders(sql))
    }

    fn uuid_param(&self, n: usize) -> String {
        delegate!(self, uuid_param(n))
    }

    fn millis_param(&self, n: usize) -> String {
        delegate!(self, millis_param(n))
    }

    fn millis_column(&self, column: &str) -> String {
        delegate!(self, millis_column(column))
    }

    fn json_texts(&self, n: usize) -> String {
        delegate!(self, json_texts(n))
    }

    fn json_uuids(&self, n: usize) -> String {
        delegate!(self, json_uuids(n))
    }

    fn bytewise(&self) -> &'static str {
        delegate!(self, bytewise())
    }

    fn for_update(&self) -> &'static str {
        delegate!(self, for_update())
    }

    fn for_update_skip_locked(&self) -> &'static str {
        delegate!(self, for_update_skip_locked())
    }

    fn generation_prelude(&self) -> Option<&'static str> {
        delegate!(self, generation_prelude())
    }

    fn write_lock(&self) -> Option<&'static str> {
        delegate!(self, write_lock())
    }

    fn fresh_generation(&self) -> &'static str {
        delegate!(self, fresh_generation())
    }

    fn fresh_generation_value(&self) -> &'static str {
        delegate!(self, fresh_generation_value())
    }

    fn lock_session_for_delete(&self) -> Option<&'static str> {
        delegate!(self, lock_session_for_delete())
    }

    fn migration_lock(&self) -> Option<&'static str> {
        delegate!(self, migration_lock())
    }

    fn erasure_checkpoint(&self) -> Option<&'static str> {
        delegate!(self, erasure_checkpoint())
    }
}

#[async_trait]
impl Dialect for StoreDialect {
    async fn insert_faces(
        &self,
        txn: &DatabaseTransaction,
        space: &EmbeddingSpace,
        session: &SessionId,
        photo: &PhotoId,
        rows: &[FaceRow<'_>],
    ) -> Result<(), StoreError> {
        delegate!(self, insert_faces(txn, space, session, photo, rows).await)
    }

    fn load_sql(&self) -> &'static str {
        delegate!(self, load_sql())
    }

    fn embedding(&self, row: &QueryResult, index: usize) -> Result<Option<Vec<f32>>, StoreError> {
        delegate!(self, embedding(row, index))
    }

    async fn scores_in_database(
        &self,
        db: &DatabaseConnection,
        session: &SessionId,
        queries: &[Embedding],
        floor: f32,
    ) -> Result<Option<SessionScores>, StoreError> {
        delegate!(self, scores_in_database(db, session, queries, floor).await)
    }
}

/// The photo source chosen by `photos.backend`.
#[derive(Debug, Clone)]
pub enum Photos {
    Fs(FsPhotoSource),
    S3(S3PhotoSource),
}

impl Photos {
    pub async fn open(settings: &PhotoSettings) -> anyhow::Result<Self> {
        Ok(match &settings.source {
            PhotoStore::Fs { root } => {
                // The embedded default must start on a fresh machine: an empty folder is a
                // valid (if empty) photo source.
                std::fs::create_dir_all(root).map_err(|e| {
                    anyhow::anyhow!("cannot create photos.root {}: {e}", root.display())
                })?;
                Self::Fs(FsPhotoSource::new(root, settings.max_bytes)?)
            }
            PhotoStore::S3(config) => Self::S3(S3PhotoSource::new(config).await),
        })
    }
}

#[async_trait]
impl PhotoSource for Photos {
    async fn fetch(&self, key: &PhotoKey) -> Result<ImageBytes, PhotoSourceError> {
        match self {
            Self::Fs(s) => s.fetch(key).await,
            Self::S3(s) => s.fetch(key).await,
        }
    }

    async fn health(&self) -> Result<(), PhotoSourceError> {
        match self {
            Self::Fs(s) => s.health().await,
            Self::S3(s) => s.health().await,
        }
    }
}
