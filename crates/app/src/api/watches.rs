//! Guest watches (API key): `POST /index/{session_id}/watches` creates one from a consenting
//! guest's selfies (only their embeddings are kept), `GET .../watches/{watch_id}` and
//! `GET .../watches/{watch_id}/matches` read it, `DELETE .../watches/{watch_id}` ends it.
//! Each photo indexed into the session afterwards is matched against its live watches; new
//! matches go out as `watch.matched` webhooks ([`crate::webhooks`]).

use std::sync::Arc;
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use facepass_domain::ports::{Embedder, PhotoSource, VectorStore};
use facepass_domain::use_cases::WatchRequest;
use facepass_domain::watches::{MatchQuery, Watch, WatchEnd, WatchId, WatchMatch, WatchNotice};
use facepass_domain::{GuestRef, SessionId};
use poem_openapi::param::{Path, Query};
use poem_openapi::types::ToJSON;
use poem_openapi::types::multipart::Upload;
use poem_openapi::{Multipart, Object, OpenApi};

use super::auth::ApiKeyAuth;
use super::dto::{
    ApiTags, Constrained, IdChars, IdField, QueryFaceBody, ThresholdField, UuidField,
};
use super::errors::{ApiError, ErrorCode, endpoint_response, respond};
use super::fields::{page_limit, parse_session, sequence_cursor};
use super::search::{PhotoMatchBody, parse_face_index, parse_threshold, read_selfies};
use super::state::AppState;

/// Default page of matches.
const DEFAULT_LIMIT: i64 = 100;

/// A guest's selfies, who they are to the platform, and their consent.
#[derive(Debug, Multipart)]
pub struct WatchForm {
    /// A selfie of the guest (the format is detected from the bytes); repeat the part (up
    /// to 3 times) to send several. Only the faces' embeddings are kept, never the images.
    #[oai(validator(min_items = 1, max_items = 3))]
    pub file: Vec<Upload>,
    /// The platform's own id of the guest (opaque to FacePass), returned in webhooks.
    pub guest_ref: Constrained<String, IdChars>,
    /// Minimum `similarity` of a match, 0..1 (default 0.7, as search).
    pub threshold: Option<ThresholdField>,
    /// When the watch ends (RFC 3339): in the future, at most 90 days ahead and not after
    /// the session's expiry.
    pub expires_at: String,
    /// Must be `true`: the guest agreed, in the platform's UI, to have new photos matched
    /// against their face.
    pub consent: Option<bool>,
    /// Which face of a single selfie is the guest, as in search.
    #[oai(validator(minimum(value = "0"), maximum(value = "1000")))]
    pub face_index: Option<i64>,
}

#[derive(Debug, Object)]
#[oai(rename = "Watch")]
pub struct WatchBody {
    pub watch_id: String,
    pub session_id: String,
    pub guest_ref: String,
    pub threshold: f64,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl From<Watch> for WatchBody {
    fn from(w: Watch) -> Self {
        Self {
            watch_id: w.id.to_string(),
            session_id: w.session.to_string(),
            guest_ref: w.guest_ref.to_string(),
            threshold: f64::from(w.threshold.value()),
            created_at: w.created_at.into(),
            expires_at: w.expires_at.into(),
        }
    }
}

#[derive(Debug, Object)]
#[oai(rename = "CreatedWatch")]
pub struct CreatedWatchBody {
    pub watch_id: String,
    pub session_id: String,
    pub guest_ref: String,
    pub expires_at: DateTime<Utc>,
    /// The photos already indexed that match, as search returns them (all of them): they
    /// are not announced again.
    pub matches: Vec<PhotoMatchBody>,
    /// The face used from each selfie, in request order.
    pub query_faces: Vec<QueryFaceBody>,
    /// Why some selfie is a poor query, as in search.
    pub warnings: Vec<String>,
}

/// A photo matched for a watch after it was created.
#[derive(Debug, Object)]
#[oai(rename = "WatchMatch")]
pub struct WatchMatchBody {
    #[oai(flatten)]
    pub photo: PhotoMatchBody,
    /// When the photo was matched (indexed).
    pub matched_at: DateTime<Utc>,
}

impl From<WatchMatch> for WatchMatchBody {
    fn from(m: WatchMatch) -> Self {
        Self {
            matched_at: m.matched_at.into(),
            photo: PhotoMatchBody::from(facepass_domain::use_cases::SelfieMatch {
                photo_id: m.photo_id,
                face: m.face,
                cosine: m.cosine,
                similarity: m.similarity,
                person: m.person,
                evidence: m.evidence,
            }),
        }
    }
}

#[derive(Debug, Object)]
#[oai(rename = "WatchMatchPage")]
pub struct WatchMatchesBody {
    pub watch_id: String,
    pub session_id: String,
    /// Oldest first (the matches the watch was created with included).
    pub matches: Vec<WatchMatchBody>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

/// The `data` of a `watch.matched` webhook.
#[derive(Debug, Object)]
#[oai(rename = "WatchMatchedEvent")]
pub struct WatchNoticeBody {
    pub watch_id: String,
    pub guest_ref: String,
    pub session_id: String,
    /// The matches not announced before, oldest first.
    pub matches: Vec<WatchMatchBody>,
}

impl From<WatchNotice> for WatchNoticeBody {
    fn from(n: WatchNotice) -> Self {
        Self {
            watch_id: n.watch.id.to_string(),
            guest_ref: n.watch.guest_ref.to_string(),
            session_id: n.watch.session.to_string(),
            matches: n.matches.into_iter().map(Into::into).collect(),
        }
    }
}

/// The `data` JSON of a `watch.matched` webhook, as the outbox keeps it.
pub fn notice_json(notice: &WatchNotice) -> String {
    WatchNoticeBody::from(notice.clone()).to_json_string()
}

#[derive(Debug, Object)]
#[oai(rename = "EndedWatch")]
pub struct EndedWatchBody {
    pub watch_id: String,
    pub session_id: String,
    /// `true` when this call ended it; `false` when there was no such live watch (ended
    /// before, or never created): the call is idempotent.
    pub ended: bool,
}

endpoint_response!(
    /// Answers of `POST /index/{session_id}/watches`.
    CreateWatchResponse => created CreatedWatchBody {
        400 BadRequest: "`invalid_request`: a missing or invalid form field (`details.field`), e.g. an `expires_at` in the past, over 90 days ahead or after the session's expiry.",
        401 Unauthorized: "`unauthorized`: missing or unknown `X-API-Key`.",
        413 PayloadTooLarge: "`payload_too_large`: a selfie is over the upload limit.",
        415 UnsupportedMediaType: "`unsupported_media_type`: the body is not `multipart/form-data`.",
        422 Unprocessable: "`consent_required` (`consent` is not `true`), or as for search: `invalid_image`, `image_too_large`, `no_face_detected`, `multiple_faces` (pick the guest with `face_index`), `poor_selfie` (every selfie is poor and nothing matches yet).",
        503 Unavailable: "`database_unavailable` or `models_unavailable`: nothing was stored.",
    }
    retry_after "`rate_limited` (this API key is over its request rate) or `overloaded` (the face pipeline is full): retry after `Retry-After` seconds."
);

endpoint_response!(
    /// Answers of `GET /index/{session_id}/watches/{watch_id}`.
    WatchResponse => WatchBody {
        400 BadRequest: "`invalid_request`: an invalid `session_id` or `watch_id`.",
        401 Unauthorized: "`unauthorized`: missing or unknown `X-API-Key`.",
        404 NotFound: "`not_found`: the session has no such live watch (never created, or ended).",
        503 Unavailable: "`database_unavailable`.",
    }
    retry_after "`rate_limited`: this API key is over its request rate; retry after `Retry-After` seconds."
);

endpoint_response!(
    /// Answers of `GET /index/{session_id}/watches/{watch_id}/matches`.
    WatchMatchesResponse => WatchMatchesBody {
        400 BadRequest: "`invalid_request`: an invalid `session_id`, `watch_id`, `since`, `limit` or `cursor` (`details.field`).",
        401 Unauthorized: "`unauthorized`: missing or unknown `X-API-Key`.",
        404 NotFound: "`not_found`: the session has no such live watch (never created, or ended: its matches went with it).",
        503 Unavailable: "`database_unavailable`.",
    }
    retry_after "`rate_limited`: this API key is over its request rate; retry after `Retry-After` seconds."
);

endpoint_response!(
    /// Answers of `DELETE /index/{session_id}/watches/{watch_id}`.
    EndWatchResponse => EndedWatchBody {
        400 BadRequest: "`invalid_request`: an invalid `session_id` or `watch_id`.",
        401 Unauthorized: "`unauthorized`: missing or unknown `X-API-Key`.",
        503 Unavailable: "`database_unavailable`.",
    }
    retry_after "`rate_limited`: this API key is over its request rate; retry after `Retry-After` seconds."
);

#[derive(Debug)]
pub struct WatchesApi<E, S, P>(pub Arc<AppState<E, S, P>>);

#[OpenApi(tag = "ApiTags::Indexing")]
impl<E: Embedder, S: VectorStore, P: PhotoSource> WatchesApi<E, S, P> {
    /// Watch a session for a guest
    ///
    /// After the guest consented in the platform's UI: every photo indexed into the session
    /// from now until `expires_at` is matched against the guest's selfies by the rules of
    /// search (the same matches a search with these selfies and `threshold` returns of that
    /// photo), and new matches are sent as `watch.matched` webhooks (to `webhooks.url`),
    /// batched per watch (at most one per `watches.notify_interval_secs`). Answers the
    /// matches the session already has. Only the selfies' face embeddings are stored, never
    /// an image; they are deleted when the watch ends (`DELETE`, `expires_at`, the session's
    /// deletion or purge, or `forget` of the same guest), and each end is audited as
    /// `watch_end` with its reason.
    #[oai(
        path = "/index/:session_id/watches",
        method = "post",
        operation_id = "create_watch"
    )]
    async fn create(
        &self,
        auth: ApiKeyAuth,
        session_id: Path<IdField>,
        form: WatchForm,
    ) -> CreateWatchResponse {
        respond(async {
            let created = self.create_watch(&auth, &session_id.0, form).await?;
            let location = format!(
                "{}/index/{}/watches/{}/matches",
                super::V2,
                created.session_id,
                created.watch_id
            );
            Ok((created, location))
        })
        .await
    }

    /// A guest watch
    #[oai(
        path = "/index/:session_id/watches/:watch_id",
        method = "get",
        operation_id = "get_watch"
    )]
    async fn watch(
        &self,
        auth: ApiKeyAuth,
        session_id: Path<IdField>,
        watch_id: Path<UuidField>,
    ) -> WatchResponse {
        respond(async {
            self.0.authorize(&auth)?;
            let (session, id) = ids(&session_id.0, &watch_id.0)?;
            Ok(self.live(&session, &id).await?.into())
        })
        .await
    }

    /// A guest watch's matches
    ///
    /// Every photo matched for the watch, oldest first: those it was created with, then each
    /// photo indexed later that matched (a photo deleted, re-indexed or whose face was
    /// forgotten takes its match with it). Paged by `cursor`; `since` keeps matches at or
    /// after a time.
    #[oai(
        path = "/index/:session_id/watches/:watch_id/matches",
        method = "get",
        operation_id = "watch_matches"
    )]
    async fn matches(
        &self,
        auth: ApiKeyAuth,
        session_id: Path<IdField>,
        watch_id: Path<UuidField>,
        /// Only matches at or after this time (RFC 3339).
        since: Query<Option<DateTime<Utc>>>,
        /// Matches per page, 1..1000 (default 100).
        #[oai(validator(minimum(value = "1"), maximum(value = "1000")))]
        limit: Query<Option<i64>>,
        /// The previous page's `next_cursor`.
        cursor: Query<Option<String>>,
    ) -> WatchMatchesResponse {
        respond(async {
            self.0.authorize(&auth)?;
            let (session, id) = ids(&session_id.0, &watch_id.0)?;
            let limit = page_limit(limit.0, DEFAULT_LIMIT)?;
            let after = sequence_cursor(cursor.0.as_deref())?;
            self.live(&session, &id).await?;
            let query = MatchQuery {
                since: since.0.map(Into::into),
                after,
                limit: limit + 1,
            };
            let mut matches = self.0.watches.watch_matches(&id, &query).await?;
            let next_cursor = (matches.len() > limit).then(|| {
                matches.truncate(limit);
                matches.last().map_or(0, |m| m.seq).to_string()
            });
            Ok(WatchMatchesBody {
                watch_id: id.to_string(),
                session_id: session.to_string(),
                matches: matches.into_iter().map(Into::into).collect(),
                next_cursor,
            })
        })
        .await
    }

    /// End a guest watch
    ///
    /// Deletes the watch's embeddings and matches and records `watch_end` (reason `deleted`)
    /// in the audit. Idempotent: a watch that does not exist (any more) answers
    /// `ended: false`.
    #[oai(
        path = "/index/:session_id/watches/:watch_id",
        method = "delete",
        operation_id = "end_watch"
    )]
    async fn end(
        &self,
        auth: ApiKeyAuth,
        session_id: Path<IdField>,
        watch_id: Path<UuidField>,
    ) -> EndWatchResponse {
        respond(async {
            let actor = self.0.authorize(&auth)?;
            let (session, id) = ids(&session_id.0, &watch_id.0)?;
            let ended = self
                .0
                .watches
                .end_watch(&session, &id, WatchEnd::Deleted, &actor)
                .await?;
            if ended {
                tracing::info!(session = %session, watch = %id, "guest watch ended");
            }
            Ok(EndedWatchBody {
                watch_id: id.to_string(),
                session_id: session.to_string(),
                ended,
            })
        })
        .await
    }
}

impl<E: Embedder, S: VectorStore, P: PhotoSource> WatchesApi<E, S, P> {
    async fn create_watch(
        &self,
        auth: &ApiKeyAuth,
        session_id: &str,
        form: WatchForm,
    ) -> Result<CreatedWatchBody, ApiError> {
        let state = &self.0;
        let actor = state.authorize(auth)?;
        let session = parse_session("session_id", session_id)?;
        let guest_ref = GuestRef::parse(form.guest_ref.into_inner())
            .map_err(|e| ApiError::invalid_field("guest_ref", e))?;
        let expires_at = DateTime::parse_from_rfc3339(&form.expires_at)
            .map_err(|e| ApiError::invalid_field("expires_at", format!("not RFC 3339: {e}")))?;
        let request = WatchRequest {
            session,
            threshold: parse_threshold(form.threshold.map(Constrained::into_inner))?,
            face_index: parse_face_index(form.face_index)?,
            guest_ref,
            expires_at: SystemTime::from(expires_at),
            consent: form.consent == Some(true),
            selfies: read_selfies(form.file, state.max_selfie_bytes).await?,
        };
        // As indexing does: a session new to FacePass gets the default retention, which the
        // watch's expiry may not pass.
        state
            .lifecycle
            .before_indexing(&request.session, None)
            .await?;
        let created = state
            .watch
            .create(request, &actor, SystemTime::now())
            .await
            .map_err(|e| {
                let error = ApiError::from(e);
                state.count_overload(&error);
                error
            })?;
        let w = created.watch;
        tracing::info!(session = %w.session, watch = %w.id, matches = created.matches.len(), "guest watch created");
        Ok(CreatedWatchBody {
            watch_id: w.id.to_string(),
            session_id: w.session.to_string(),
            guest_ref: w.guest_ref.to_string(),
            expires_at: w.expires_at.into(),
            matches: created.matches.into_iter().map(Into::into).collect(),
            query_faces: created.query_faces.iter().map(Into::into).collect(),
            warnings: created
                .warnings
                .iter()
                .map(|r| r.code().to_owned())
                .collect(),
        })
    }

    /// The live watch, or `not_found`.
    async fn live(&self, session: &SessionId, id: &WatchId) -> Result<Watch, ApiError> {
        self.0.watches.watch(session, id).await?.ok_or_else(|| {
            ApiError::new(
                ErrorCode::NotFound,
                format!("session {session} has no live watch {id}"),
            )
        })
    }
}

fn ids(session: &str, watch: &str) -> Result<(SessionId, WatchId), ApiError> {
    let session = parse_session("session_id", session)?;
    let watch = WatchId::parse(watch).map_err(|e| ApiError::invalid_field("watch_id", e))?;
    Ok((session, watch))
}
