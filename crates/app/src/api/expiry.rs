//! `PUT /index/{session_id}/expiry`: when FacePass deletes a session (API key).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use facepass_domain::ports::{Embedder, PhotoSource, VectorStore};
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::auth::ApiKeyAuth;
use super::dto::{ApiTags, IdField, NullableTime};
use super::errors::{endpoint_response, respond};
use super::fields::parse_session;
use super::state::AppState;

#[derive(Debug, Object)]
pub struct ExpiryRequest {
    /// When the background purge deletes the whole session (RFC 3339; a time in the past:
    /// at its next run); `null` keeps the session until it is deleted.
    pub expires_at: NullableTime,
}

#[derive(Debug, Object)]
#[oai(rename = "SessionExpiry")]
pub struct ExpiryBody {
    pub session_id: String,
    /// The session's expiry now; absent: kept until deleted.
    #[oai(skip_serializing_if_is_none)]
    pub expires_at: Option<DateTime<Utc>>,
}

endpoint_response!(
    /// Answers of `PUT /index/{session_id}/expiry`.
    ExpiryResponse => ExpiryBody {
        400 BadRequest: "`invalid_request`: an invalid session id or timestamp.",
        401 Unauthorized: "`unauthorized`: missing or unknown `X-API-Key`.",
        413 PayloadTooLarge: "`payload_too_large`: the request body is over the limit.",
        415 UnsupportedMediaType: "`unsupported_media_type`: the body is not JSON.",
        503 Unavailable: "`database_unavailable`.",
    }
    retry_after "`rate_limited`: this API key is over its request rate; retry after `Retry-After` seconds."
);

#[derive(Debug)]
pub struct ExpiryApi<E, S, P>(pub Arc<AppState<E, S, P>>);

#[OpenApi(tag = "ApiTags::Indexing")]
impl<E: Embedder, S: VectorStore, P: PhotoSource> ExpiryApi<E, S, P> {
    /// Set when a session expires
    ///
    /// A background purge (every `retention.purge_interval_secs`) deletes expired sessions
    /// and records each in the audit as `expire`. Works before the first photo is indexed;
    /// a session deleted and indexed again starts without an expiry (or with the server's
    /// default retention).
    #[oai(
        path = "/index/:session_id/expiry",
        method = "put",
        operation_id = "set_session_expiry"
    )]
    async fn set_expiry(
        &self,
        auth: ApiKeyAuth,
        session_id: Path<IdField>,
        body: Json<ExpiryRequest>,
    ) -> ExpiryResponse {
        respond(async {
            let body = body.0;
            self.0.authorize(&auth)?;
            let session = parse_session("session_id", &session_id.0)?;
            let expires_at = self
                .0
                .lifecycle
                .set_expiry(&session, body.expires_at.0.map(Into::into))
                .await?;
            tracing::info!(session = %session, expires_at = ?body.expires_at.0, "session expiry set");
            Ok(ExpiryBody {
                session_id: session.to_string(),
                expires_at: expires_at.map(DateTime::<Utc>::from),
            })
        })
        .await
    }
}
