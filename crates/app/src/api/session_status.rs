//! `GET /search/status/{session_id}`: what is indexed for a session (public).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use facepass_domain::ports::{Embedder, PhotoSource, VectorStore};
use poem_openapi::param::Path;
use poem_openapi::{Object, OpenApi};

use super::dto::{ApiTags, IdField};
use super::errors::{endpoint_response, respond};
use super::fields::parse_session;
use super::state::AppState;

#[derive(Debug, Object)]
#[oai(rename = "SessionStatus")]
pub struct SessionStatusBody {
    pub session_id: String,
    /// True once at least one photo of the session is indexed.
    pub indexed: bool,
    pub photos_indexed: u64,
    pub faces_indexed: u64,
    pub photos_without_faces: u64,
    /// Faces indexed that are shorter than the recognition model's reliable size (48 px for
    /// the default model): found, but a guest's selfie may not match them.
    pub small_faces: u64,
    /// When a photo of the session was last indexed (UTC); absent when none is.
    #[oai(skip_serializing_if_is_none)]
    pub last_indexed_at: Option<DateTime<Utc>>,
    /// The recognition model of the session's vectors; absent when nothing is indexed.
    #[oai(skip_serializing_if_is_none)]
    pub model: Option<String>,
    /// When the session is deleted by the retention purge (`PUT .../expiry`,
    /// `retention.default_days`); absent: kept until deleted.
    #[oai(skip_serializing_if_is_none)]
    pub expires_at: Option<DateTime<Utc>>,
    /// Guest watches of the session that are live (see `POST /index/{session_id}/watches`).
    pub watches_live: u64,
}

endpoint_response!(
    /// Answers of `GET /search/status/{session_id}`.
    SessionStatusResponse => SessionStatusBody {
        400 BadRequest: "`invalid_request`: the session id is not valid.",
        503 Unavailable: "`database_unavailable`.",
    }
);

#[derive(Debug)]
pub struct SessionStatusApi<E, S, P>(pub Arc<AppState<E, S, P>>);

#[OpenApi(tag = "ApiTags::Search")]
impl<E: Embedder, S: VectorStore, P: PhotoSource> SessionStatusApi<E, S, P> {
    /// Indexing status of a session
    ///
    /// An unknown session is not an error: it reports `indexed: false` and zero counts.
    #[oai(
        path = "/search/status/:session_id",
        method = "get",
        operation_id = "session_status"
    )]
    async fn session_status(&self, session_id: Path<IdField>) -> SessionStatusResponse {
        respond(async {
            let session = parse_session("session_id", &session_id.0)?;
            let stats = self.0.session_status.execute(&session).await?;
            let watches_live = self
                .0
                .watches
                .live_watch_count(&session, std::time::SystemTime::now())
                .await?;
            Ok(SessionStatusBody {
                session_id: session.to_string(),
                indexed: stats.photos_indexed > 0,
                photos_indexed: stats.photos_indexed,
                faces_indexed: stats.faces_indexed,
                photos_without_faces: stats.photos_without_faces,
                small_faces: stats.small_faces,
                last_indexed_at: stats.last_indexed_at.map(DateTime::<Utc>::from),
                model: stats.model.map(|m| m.to_string()),
                expires_at: stats.expires_at.map(DateTime::<Utc>::from),
                watches_live,
            })
        })
        .await
    }
}
