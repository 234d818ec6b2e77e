//! `GET /audit`: every deletion, newest first (API key).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use facepass_domain::ports::{Embedder, PhotoSource, VectorStore};
use facepass_domain::watches::WatchEnd;
use facepass_domain::{AuditAction, AuditEvent, AuditQuery};
use poem_openapi::param::Query;
use poem_openapi::{Enum, Object, OpenApi};

use super::auth::ApiKeyAuth;
use super::dto::{ApiTags, IdField};
use super::errors::{endpoint_response, respond};
use super::fields::{page_limit, parse_session, sequence_cursor};
use super::state::AppState;

/// Default page size.
const DEFAULT_LIMIT: i64 = 100;

/// What was deleted, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "AuditAction", rename_all = "snake_case")]
pub enum AuditActionBody {
    /// `DELETE /index/{session_id}`.
    DeleteSession,
    /// `DELETE /index/{session_id}/photos/{photo_id}`.
    DeletePhoto,
    /// The purge of an expired session.
    Expire,
    /// `POST /index/{session_id}/forget`.
    Forget,
    /// A guest watch ended (`reason` says why).
    WatchEnd,
}

/// Why a guest watch ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "WatchEndReason", rename_all = "snake_case")]
pub enum WatchEndBody {
    /// `DELETE /index/{session_id}/watches/{watch_id}`.
    Deleted,
    /// Its `expires_at` passed.
    Expired,
    /// `DELETE /index/{session_id}`.
    SessionDeleted,
    /// The session expired and was purged.
    SessionExpired,
    /// `POST /index/{session_id}/forget` erased the same guest.
    Forgotten,
}

impl From<WatchEnd> for WatchEndBody {
    fn from(reason: WatchEnd) -> Self {
        match reason {
            WatchEnd::Deleted => Self::Deleted,
            WatchEnd::Expired => Self::Expired,
            WatchEnd::SessionDeleted => Self::SessionDeleted,
            WatchEnd::SessionExpired => Self::SessionExpired,
            WatchEnd::Forgotten => Self::Forgotten,
        }
    }
}

impl From<AuditAction> for AuditActionBody {
    fn from(action: AuditAction) -> Self {
        match action {
            AuditAction::DeleteSession => Self::DeleteSession,
            AuditAction::DeletePhoto => Self::DeletePhoto,
            AuditAction::Expire => Self::Expire,
            AuditAction::Forget => Self::Forget,
            AuditAction::WatchEnd => Self::WatchEnd,
        }
    }
}

#[derive(Debug, Object)]
#[oai(rename = "AuditEvent")]
pub struct AuditEventBody {
    pub at: DateTime<Utc>,
    pub action: AuditActionBody,
    pub session_id: String,
    /// The photo of a `delete_photo`; absent otherwise.
    #[oai(skip_serializing_if_is_none)]
    pub photo_id: Option<String>,
    pub deleted_photos: u64,
    pub deleted_faces: u64,
    /// Which configured API key acted (`k-` and 12 hex digits of its SHA-256, never the
    /// key); absent for `expire`.
    #[oai(skip_serializing_if_is_none)]
    pub key_id: Option<String>,
    /// The watch of a `watch_end`; absent otherwise.
    #[oai(skip_serializing_if_is_none)]
    pub watch_id: Option<String>,
    // Why the watch of a `watch_end` ended; absent otherwise. (No doc comment: it would turn
    // the `$ref` into an `allOf`, which generated clients cannot take.)
    #[oai(skip_serializing_if_is_none)]
    pub reason: Option<WatchEndBody>,
}

impl From<AuditEvent> for AuditEventBody {
    fn from(e: AuditEvent) -> Self {
        Self {
            at: e.at.into(),
            action: e.action.into(),
            session_id: e.session.to_string(),
            photo_id: e.photo.map(|p| p.to_string()),
            deleted_photos: e.deleted_photos,
            deleted_faces: e.deleted_faces,
            key_id: e.key_id,
            watch_id: e.watch.map(|w| w.to_string()),
            reason: e.reason.map(Into::into),
        }
    }
}

#[derive(Debug, Object)]
#[oai(rename = "AuditPage")]
pub struct AuditBody {
    /// Newest first.
    pub events: Vec<AuditEventBody>,
    /// Pass as `cursor` for the next (older) page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

endpoint_response!(
    /// Answers of `GET /audit`.
    AuditResponse => AuditBody {
        400 BadRequest: "`invalid_request`: an invalid `session_id`, `since`, `limit` or `cursor` (`details.field`).",
        401 Unauthorized: "`unauthorized`: missing or unknown `X-API-Key`.",
        503 Unavailable: "`database_unavailable`.",
    }
    retry_after "`rate_limited`: this API key is over its request rate; retry after `Retry-After` seconds."
);

#[derive(Debug)]
pub struct AuditApi<E, S, P>(pub Arc<AppState<E, S, P>>);

#[OpenApi(tag = "ApiTags::Indexing")]
impl<E: Embedder, S: VectorStore, P: PhotoSource> AuditApi<E, S, P> {
    /// Deletion audit
    ///
    /// Every deletion (session, photo, expiry, a guest's erasure) and every end of a guest
    /// watch with when, what and how many photos and faces, and which API key acted. Newest first, paged by `cursor`.
    /// Events are never removed by the deletions they record.
    #[oai(path = "/audit", method = "get", operation_id = "audit")]
    async fn audit(
        &self,
        auth: ApiKeyAuth,
        /// Only this session's events.
        session_id: Query<Option<IdField>>,
        /// Only events at or after this time (RFC 3339).
        since: Query<Option<DateTime<Utc>>>,
        /// Events per page, 1..1000 (default 100).
        #[oai(validator(minimum(value = "1"), maximum(value = "1000")))]
        limit: Query<Option<i64>>,
        /// The previous page's `next_cursor`.
        cursor: Query<Option<String>>,
    ) -> AuditResponse {
        let session_id = session_id.0.map(|s| s.into_inner().0);
        respond(async {
            let (since, limit, cursor) = (since.0, limit.0, cursor.0);
            self.0.authorize(&auth)?;
            let session = session_id
                .map(|s| parse_session("session_id", &s))
                .transpose()?;
            let limit = page_limit(limit, DEFAULT_LIMIT)?;
            let before_id = sequence_cursor(cursor.as_deref())?;
            let page = self
                .0
                .lifecycle
                .audit(AuditQuery {
                    session,
                    since: since.map(Into::into),
                    before_id,
                    limit,
                })
                .await?;
            Ok(AuditBody {
                events: page.events.into_iter().map(Into::into).collect(),
                next_cursor: page.next.map(|id| id.to_string()),
            })
        })
        .await
    }
}
