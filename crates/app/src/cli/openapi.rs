//! `facepass openapi`: print the OpenAPI document, built from the API's types alone: no
//! model is loaded, no database or bucket is touched (`cargo xtask codegen` calls this).

use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;
use facepass_domain::people::SessionScores;
use facepass_domain::ports::{
    DeletedCounts, EmbedError, Embedder, MockJobQueue, MockWatchStore, PeopleQuery, PersonFace,
    PersonFacesQuery, PersonSummary, PhotoSource, PhotoSourceError, SessionStats, StoreError,
    StoreTotals, StoredFace, VectorStore,
};

use facepass_domain::{
    Actor, AuditEvent, AuditQuery, Cosine, DetectedFace, Embedding, EmbeddingSpace, ExpiryUpdate,
    FaceAnalysis, FaceId, ForgetCounts, ImageBytes, ImageKind, PersonId, PhotoId, PhotoKey, Pixels,
    SessionDiff, SessionId,
};

use crate::api::state::AppState;
use crate::settings::Settings;

#[derive(Debug, clap::Args)]
pub struct OpenapiArgs {}

/// Uses the compiled defaults only, so the document never depends on local configuration.
pub fn run(_settings: Settings, _args: OpenapiArgs) -> anyhow::Result<()> {
    println!(
        "{}",
        document(&Settings::load_from(None, None, Vec::new())?)?
    );
    Ok(())
}

/// The document as committed in `openapi/openapi.json` (pretty JSON, trailing newline added by
/// the caller).
pub fn document(settings: &Settings) -> anyhow::Result<String> {
    // No model file is read: the document does not depend on the recognizer.
    let space = EmbeddingSpace {
        model: facepass_domain::ModelId::parse("offline")?,
        dim: 512,
    };
    let offline = Arc::new(Offline(space));
    let state = Arc::new(AppState::new(
        offline.clone(),
        offline.clone(),
        offline,
        // Never called: a queue without expectations.
        Arc::new(MockJobQueue::new()),
        Arc::new(MockWatchStore::new()),
        settings,
    )?);
    Ok(crate::api::spec_json(&state))
}

/// Ports that answer "unavailable" to everything: the document depends only on types, and
/// nothing here is ever called.
#[derive(Debug)]
struct Offline(EmbeddingSpace);

const OFFLINE: &str = "offline: spec generation only";

#[async_trait]
impl Embedder for Offline {
    fn space(&self) -> EmbeddingSpace {
        self.0.clone()
    }

    async fn analyze(
        &self,
        _image: ImageBytes,
        _kind: ImageKind,
    ) -> Result<FaceAnalysis, EmbedError> {
        Err(EmbedError::Unavailable(OFFLINE.into()))
    }

    async fn health(&self) -> Result<(), EmbedError> {
        Err(EmbedError::Unavailable(OFFLINE.into()))
    }
}

#[async_trait]
impl PhotoSource for Offline {
    async fn fetch(&self, _key: &PhotoKey) -> Result<ImageBytes, PhotoSourceError> {
        Err(PhotoSourceError::Unavailable(OFFLINE.into()))
    }

    async fn health(&self) -> Result<(), PhotoSourceError> {
        Err(PhotoSourceError::Unavailable(OFFLINE.into()))
    }
}

#[async_trait]
impl VectorStore for Offline {
    async fn indexed_faces(&self, _: &SessionId, _: &PhotoId) -> Result<Option<u64>, StoreError> {
        Err(StoreError::Unavailable(OFFLINE.into()))
    }

    async fn replace_photo(
        &self,
        _: &SessionId,
        _: &PhotoId,
        _: Vec<DetectedFace>,
    ) -> Result<Vec<StoredFace>, StoreError> {
        Err(StoreError::Unavailable(OFFLINE.into()))
    }

    async fn replace_photo_watched(
        &self,
        _: &SessionId,
        _: &PhotoId,
        _: Vec<DetectedFace>,
        _: &facepass_domain::use_cases::MatchRules,
    ) -> Result<Vec<StoredFace>, StoreError> {
        Err(StoreError::Unavailable(OFFLINE.into()))
    }

    async fn scores(
        &self,
        _: &SessionId,
        _: &[Embedding],
        _: Cosine,
    ) -> Result<SessionScores, StoreError> {
        Err(StoreError::Unavailable(OFFLINE.into()))
    }

    async fn delete_session(&self, _: &SessionId, _: &Actor) -> Result<DeletedCounts, StoreError> {
        Err(StoreError::Unavailable(OFFLINE.into()))
    }

    async fn delete_photo(
        &self,
        _: &SessionId,
        _: &PhotoId,
        _: &Actor,
    ) -> Result<DeletedCounts, StoreError> {
        Err(StoreError::Unavailable(OFFLINE.into()))
    }

    async fn forget(
        &self,
        _: &SessionId,
        _: &[FaceId],
        _: &Actor,
    ) -> Result<ForgetCounts, StoreError> {
        Err(StoreError::Unavailable(OFFLINE.into()))
    }

    async fn people(
        &self,
        _: &SessionId,
        _: &PeopleQuery,
    ) -> Result<Vec<PersonSummary>, StoreError> {
        Err(StoreError::Unavailable(OFFLINE.into()))
    }

    async fn person_faces(
        &self,
        _: &SessionId,
        _: &PersonId,
        _: &PersonFacesQuery,
    ) -> Result<Option<Vec<PersonFace>>, StoreError> {
        Err(StoreError::Unavailable(OFFLINE.into()))
    }

    async fn set_expiry(
        &self,
        _: &SessionId,
        _: ExpiryUpdate,
    ) -> Result<Option<SystemTime>, StoreError> {
        Err(StoreError::Unavailable(OFFLINE.into()))
    }

    async fn purge_expired(
        &self,
        _: SystemTime,
        _: usize,
    ) -> Result<Vec<(SessionId, DeletedCounts)>, StoreError> {
        Err(StoreError::Unavailable(OFFLINE.into()))
    }

    async fn group_pending(&self, _: usize) -> Result<Vec<SessionId>, StoreError> {
        Err(StoreError::Unavailable(OFFLINE.into()))
    }

    async fn diff(&self, _: &SessionId, _: &[PhotoId]) -> Result<SessionDiff, StoreError> {
        Err(StoreError::Unavailable(OFFLINE.into()))
    }

    async fn audit(&self, _: &AuditQuery) -> Result<Vec<AuditEvent>, StoreError> {
        Err(StoreError::Unavailable(OFFLINE.into()))
    }

    async fn session_status(&self, _: &SessionId, _: Pixels) -> Result<SessionStats, StoreError> {
        Err(StoreError::Unavailable(OFFLINE.into()))
    }

    async fn totals(&self) -> Result<StoreTotals, StoreError> {
        Err(StoreError::Unavailable(OFFLINE.into()))
    }

    async fn health(&self) -> Result<(), StoreError> {
        Err(StoreError::Unavailable(OFFLINE.into()))
    }
}
