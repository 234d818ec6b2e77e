//! `POST /index`: index one photo of a session (API key).

use std::sync::Arc;
use std::time::Instant;

use facepass_domain::ports::{Embedder, PhotoSource, VectorStore};
use facepass_domain::use_cases::{IndexPhotoRequest, IndexStatus, IndexedPhoto};
use poem_openapi::payload::Json;
use poem_openapi::{Enum, Object, OpenApi};

use super::auth::ApiKeyAuth;
use super::dto::{ApiTags, FaceBody, ForceField, IdField, KeyField, Optional, elapsed_ms};
use super::errors::{ApiError, endpoint_response, respond};
use super::fields::{parse_key, parse_photo, parse_session};
use super::state::AppState;

#[derive(Debug, Object)]
pub struct IndexRequest {
    /// The platform's photo id: 1-128 characters of `[A-Za-z0-9_.:-]`, unique in the session.
    pub photo_id: IdField,
    /// The session (event) the photo belongs to; same alphabet.
    pub session_id: IdField,
    /// Object key of the photo in the configured bucket (1-1024 bytes, no `..` segment, no
    /// leading `/`).
    pub s3_key: KeyField,
    /// Recompute even if the photo is already indexed (its faces are replaced atomically).
    pub force: ForceField,
    /// When FacePass deletes the whole session (RFC 3339), as `PUT /index/{session_id}/expiry`
    /// sets it; absent: unchanged (a new session gets `retention.default_days`).
    pub expires_at: Optional<chrono::DateTime<chrono::Utc>>,
}

/// What happened to the photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum PhotoIndexStatus {
    /// Faces were computed and stored (possibly none: see `no_faces`).
    Indexed,
    /// Already indexed and `force` was false: nothing was fetched or recomputed.
    Skipped,
}

#[derive(Debug, Object)]
#[oai(rename = "IndexedPhoto")]
pub struct IndexedPhotoBody {
    pub photo_id: String,
    pub session_id: String,
    pub status: PhotoIndexStatus,
    /// Faces the photo has in the index now.
    pub faces_indexed: u64,
    /// True when the photo is indexed with no face.
    pub no_faces: bool,
    /// The faces stored by this call (empty when `skipped`).
    pub faces: Vec<FaceBody>,
    pub processing_time_ms: f64,
}

endpoint_response!(
    /// Answers of `POST /index`.
    IndexResponse => IndexedPhotoBody {
        400 BadRequest: "`invalid_request`: malformed JSON or an invalid field (`details.field`).",
        401 Unauthorized: "`unauthorized`: missing or unknown `X-API-Key`.",
        413 PayloadTooLarge: "`payload_too_large`: the request body is over the limit.",
        415 UnsupportedMediaType: "`unsupported_media_type`: the body is not JSON.",
        422 Unprocessable: "`photo_not_found`, `photo_too_large`, `invalid_image` or `image_too_large`.",
        502 BadGateway: "`storage_unavailable` or `storage_access_denied`: the photo store failed.",
        503 Unavailable: "`database_unavailable`, `models_unavailable` or `shutting_down`.",
        504 GatewayTimeout: "`storage_timeout`: fetching the photo took too long.",
    }
    retry_after "`rate_limited` (this API key is over its request rate) or `overloaded` (the face pipeline is full): retry after `Retry-After` seconds."
);

#[derive(Debug)]
pub struct IndexApi<E, S, P>(pub Arc<AppState<E, S, P>>);

#[OpenApi(tag = "ApiTags::Indexing")]
impl<E: Embedder, S: VectorStore, P: PhotoSource> IndexApi<E, S, P> {
    /// Index one photo
    ///
    /// Fetches the photo by `s3_key`, detects every face, embeds each one and stores the
    /// vectors under (`session_id`, `photo_id`). A photo already indexed is `skipped` unless
    /// `force` is true. The photo itself is never stored.
    #[oai(path = "/index", method = "post", operation_id = "index_photo")]
    async fn index(&self, auth: ApiKeyAuth, body: Json<IndexRequest>) -> IndexResponse {
        respond(async {
            let body = body.0;
            let start = Instant::now();
            let state = &self.0;
            state.authorize(&auth)?;
            let request = IndexPhotoRequest {
                session: parse_session("session_id", &body.session_id)?,
                photo: parse_photo("photo_id", &body.photo_id)?,
                key: parse_key("s3_key", &body.s3_key)?,
                force: body.force.get(),
            };
            state
                .lifecycle
                .before_indexing(&request.session, body.expires_at.0.map(Into::into))
                .await?;
            let state = self.0.clone();
            let work = request.clone();
            let result = self
                .0
                .tasks
                .spawn(async move { state.index_photo.execute(&work).await })
                .await
                .map_err(ApiError::internal)?;
            self.0.count_photo(&result);
            let photo: IndexedPhoto = result?;
            Ok(IndexedPhotoBody {
                photo_id: request.photo.to_string(),
                session_id: request.session.to_string(),
                status: match photo.status {
                    IndexStatus::Indexed => PhotoIndexStatus::Indexed,
                    IndexStatus::Skipped => PhotoIndexStatus::Skipped,
                },
                faces_indexed: photo.face_count,
                no_faces: photo.face_count == 0,
                faces: photo.faces.iter().map(FaceBody::from).collect(),
                processing_time_ms: elapsed_ms(start),
            })
        })
        .await
    }
}
