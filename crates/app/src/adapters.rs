//! The configured adapters behind one type per port, so the use cases stay generic (no
//! `dyn`): `storage.backend` picks the vector store, `photos.backend` the photo source.

use std::time::Duration;

use async_trait::async_trait;
use facepass_domain::ports::{
    DeletedCounts, PhotoSource, PhotoSourceError, SearchHits, SessionStats, StoreError,
    StoreTotals, StoredFace, VectorStore,
};
use std::time::SystemTime;

use facepass_domain::{
    Actor, AuditEvent, AuditQuery, DetectedFace, Embedding, ExpiryUpdate, ForgetCounts, ImageBytes,
    PhotoId, PhotoKey, SessionDiff, SessionId,
};
use facepass_photo_source_fs::FsPhotoSource;
use facepass_photo_source_s3::{S3Config, S3PhotoSource};
use facepass_vector_store_pgvector::{PgOptions, PgVectorStore};
use facepass_vector_store_sqlite::SqliteVectorStore;

use crate::cli::migrate::sqlite_path;
use crate::settings::{PhotoBackend, PhotoSettings, Settings, StorageBackend};

/// The vector store chosen by `storage.backend`.
#[derive(Debug, Clone)]
pub enum Store {
    Sqlite(SqliteVectorStore),
    Postgres(PgVectorStore),
}

impl Store {
    pub async fn open(settings: &Settings) -> anyhow::Result<Self> {
        let space = settings.models.space()?;
        let storage = &settings.storage;
        let url = storage.url.expose();
        Ok(match storage.backend {
            StorageBackend::Sqlite => Self::Sqlite(
                SqliteVectorStore::open(&sqlite_path(url), space, storage.migrate).await?,
            ),
            StorageBackend::Postgres => {
                let options = PgOptions {
                    max_connections: storage.max_connections,
                    migrate: storage.migrate,
                    search_cache_bytes: storage.search_cache_mb << 20,
                    ..PgOptions::default()
                };
                Self::Postgres(PgVectorStore::open(url, space, &options).await?)
            }
        })
    }
}

/// Forwards every port method to the chosen adapter.
macro_rules! delegate {
    ($self:ident, $($call:tt)*) => {
        match $self {
            Self::Sqlite(s) => s.$($call)*.await,
            Self::Postgres(s) => s.$($call)*.await,
        }
    };
}

#[async_trait]
impl VectorStore for Store {
    async fn indexed_faces(
        &self,
        session: &SessionId,
        photo: &PhotoId,
    ) -> Result<Option<u64>, StoreError> {
        delegate!(self, indexed_faces(session, photo))
    }

    async fn replace_photo(
        &self,
        session: &SessionId,
        photo: &PhotoId,
        faces: Vec<DetectedFace>,
    ) -> Result<Vec<StoredFace>, StoreError> {
        delegate!(self, replace_photo(session, photo, faces))
    }

    async fn search(
        &self,
        session: &SessionId,
        query: &Embedding,
        min_cosine: f32,
        limit: usize,
    ) -> Result<SearchHits, StoreError> {
        delegate!(self, search(session, query, min_cosine, limit))
    }

    async fn delete_session(
        &self,
        session: &SessionId,
        actor: &Actor,
    ) -> Result<DeletedCounts, StoreError> {
        delegate!(self, delete_session(session, actor))
    }

    async fn delete_photo(
        &self,
        session: &SessionId,
        photo: &PhotoId,
        actor: &Actor,
    ) -> Result<DeletedCounts, StoreError> {
        delegate!(self, delete_photo(session, photo, actor))
    }

    async fn forget(
        &self,
        session: &SessionId,
        queries: &[Embedding],
        min_cosine: f32,
        actor: &Actor,
    ) -> Result<ForgetCounts, StoreError> {
        delegate!(self, forget(session, queries, min_cosine, actor))
    }

    async fn set_expiry(
        &self,
        session: &SessionId,
        update: ExpiryUpdate,
    ) -> Result<Option<SystemTime>, StoreError> {
        delegate!(self, set_expiry(session, update))
    }

    async fn purge_expired(
        &self,
        now: SystemTime,
        max_sessions: usize,
    ) -> Result<Vec<(SessionId, DeletedCounts)>, StoreError> {
        delegate!(self, purge_expired(now, max_sessions))
    }

    async fn diff(
        &self,
        session: &SessionId,
        listed: &[PhotoId],
    ) -> Result<SessionDiff, StoreError> {
        delegate!(self, diff(session, listed))
    }

    async fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>, StoreError> {
        delegate!(self, audit(query))
    }

    async fn session_status(
        &self,
        session: &SessionId,
        small_face_px: f32,
    ) -> Result<SessionStats, StoreError> {
        delegate!(self, session_status(session, small_face_px))
    }

    async fn totals(&self) -> Result<StoreTotals, StoreError> {
        delegate!(self, totals())
    }

    async fn health(&self) -> Result<(), StoreError> {
        delegate!(self, health())
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
        Ok(match settings.backend {
            PhotoBackend::Fs => {
                // The embedded default must start on a fresh machine: an empty folder is a
                // valid (if empty) photo source.
                std::fs::create_dir_all(&settings.root).map_err(|e| {
                    anyhow::anyhow!("cannot create photos.root {}: {e}", settings.root.display())
                })?;
                Self::Fs(FsPhotoSource::new(&settings.root, settings.max_bytes)?)
            }
            PhotoBackend::S3 => {
                let mut config = S3Config::new(settings.bucket.clone());
                config.endpoint = settings.endpoint.clone().filter(|e| !e.is_empty());
                config.region = settings.region.clone();
                config.access_key_id = settings.access_key_id.clone();
                config.secret_access_key = settings
                    .secret_access_key
                    .as_ref()
                    .map(|s| facepass_photo_source_s3::Secret(s.expose().to_owned()));
                config.force_path_style = settings.force_path_style;
                config.timeout = Duration::from_secs(settings.timeout_secs.max(1));
                config.max_bytes = settings.max_bytes;
                Self::S3(S3PhotoSource::new(&config).await)
            }
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
