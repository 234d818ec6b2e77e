//! `POST /index/batch`: index up to 500 photos of one session concurrently (API key). Each
//! photo is committed on its own: one bad photo never fails the others, and what was stored
//! stays stored even if the client hangs up.

use std::sync::Arc;
use std::time::Instant;

use facepass_domain::ports::{Embedder, PhotoSource, VectorStore};
use facepass_domain::use_cases::{BatchItem, BatchOutcome};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::auth::ApiKeyAuth;
use super::dto::{
    ApiTags, Constrained, ForceField, IdField, Items, KeyField, Optional, elapsed_ms,
};
use super::errors::{ApiError, ErrorCode, endpoint_response, respond};
use super::fields::{parse_key, parse_photo, parse_session};
use super::state::AppState;

/// Most photos one batch request may carry.
pub const MAX_BATCH: usize = 500;

#[derive(Debug, Object)]
pub struct BatchPhoto {
    /// 1-128 characters of `[A-Za-z0-9_.:-]`; a repeated id is indexed once.
    pub photo_id: IdField,
    /// Object key in the configured bucket.
    pub s3_key: KeyField,
}

#[derive(Debug, Object)]
pub struct IndexBatchRequest {
    pub session_id: IdField,
    /// 1 to 500 photos.
    pub photos: Constrained<Vec<BatchPhoto>, Items<1, MAX_BATCH>>,
    /// Recompute photos that are already indexed.
    pub force: ForceField,
    /// When FacePass deletes the whole session (RFC 3339), as `PUT /index/{session_id}/expiry`
    /// sets it; absent: unchanged (a new session gets `retention.default_days`).
    pub expires_at: Optional<chrono::DateTime<chrono::Utc>>,
}

/// Why one photo of a batch failed, with the single-photo route's error code.
#[derive(Debug, Object)]
pub struct PhotoError {
    pub photo_id: String,
    pub code: ErrorCode,
    pub message: String,
}

#[derive(Debug, Object)]
#[oai(rename = "BatchReport")]
pub struct IndexBatchBody {
    pub session_id: String,
    /// Distinct photos in the request.
    pub total: u64,
    /// Photos indexed now or before (`skipped` included); `indexed + failed == total`.
    pub indexed: u64,
    /// Photos already indexed and not recomputed (`force` false).
    pub skipped: u64,
    pub failed: u64,
    /// Faces the indexed photos have in the index.
    pub faces_indexed: u64,
    /// Indexed photos without any face.
    pub photos_without_faces: u64,
    /// One entry per failed photo, in request order.
    pub errors: Vec<PhotoError>,
    pub processing_time_ms: f64,
}

endpoint_response!(
    /// Answers of `POST /index/batch`.
    IndexBatchResponse => IndexBatchBody {
        400 BadRequest: "`invalid_request`: malformed JSON, 0 or more than 500 photos, or an invalid field (`details.field`).",
        401 Unauthorized: "`unauthorized`: missing or unknown `X-API-Key`.",
        413 PayloadTooLarge: "`payload_too_large`: the request body is over the limit.",
        415 UnsupportedMediaType: "`unsupported_media_type`: the body is not JSON.",
    }
    retry_after "`rate_limited`: this API key is over its request rate; retry after `Retry-After` seconds."
);

#[derive(Debug)]
pub struct IndexBatchApi<E, S, P>(pub Arc<AppState<E, S, P>>);

#[OpenApi(tag = "ApiTags::Indexing")]
impl<E: Embedder, S: VectorStore, P: PhotoSource> IndexBatchApi<E, S, P> {
    /// Index many photos of a session
    ///
    /// Photos are processed concurrently and each is committed independently; per-photo
    /// failures are reported in `errors` with the single-photo route's codes, and the
    /// request itself still succeeds. Photos already indexed are `skipped` unless `force`.
    #[oai(path = "/index/batch", method = "post", operation_id = "index_batch")]
    async fn index_batch(
        &self,
        auth: ApiKeyAuth,
        body: Json<IndexBatchRequest>,
    ) -> IndexBatchResponse {
        respond(async {
            let body = body.0;
            let start = Instant::now();
            let state = &self.0;
            state.authorize(&auth)?;
            let session = parse_session("session_id", &body.session_id)?;
            if body.photos.is_empty() || body.photos.len() > MAX_BATCH {
                return Err(ApiError::invalid_field(
                    "photos",
                    format!(
                        "must hold 1 to {} photos, got {}",
                        MAX_BATCH,
                        body.photos.len()
                    ),
                ));
            }
            let items = body
                .photos
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    Ok(BatchItem {
                        photo: parse_photo(&format!("photos[{i}].photo_id"), &p.photo_id)?,
                        key: parse_key(&format!("photos[{i}].s3_key"), &p.s3_key)?,
                    })
                })
                .collect::<Result<Vec<_>, ApiError>>()?;
            state
                .lifecycle
                .before_indexing(&session, body.expires_at.0.map(Into::into))
                .await?;
            let force = body.force.get();
            tracing::info!(session = %session, photos = items.len(), force, "batch started");

            let state = self.0.clone();
            let work_session = session.clone();
            let report = self
                .0
                .tasks
                .spawn(async move {
                    let progress = |done: usize, total: usize, outcome: &BatchOutcome| {
                        state.count_photo(&outcome.result);
                        match &outcome.result {
                            Ok(photo) => tracing::info!(
                                session = %work_session, photo = %outcome.photo, done, total,
                                faces = photo.face_count, status = ?photo.status, "batch progress"
                            ),
                            Err(error) => tracing::warn!(
                                session = %work_session, photo = %outcome.photo, done, total,
                                %error, "batch progress: photo failed"
                            ),
                        }
                    };
                    state
                        .index_batch
                        .execute(&work_session, items, force, progress)
                        .await
                })
                .await
                .map_err(ApiError::internal)?;

            let errors = report
                .errors()
                .map(|(photo, error)| {
                    let api = ApiError::from(error.clone());
                    PhotoError {
                        photo_id: photo.to_string(),
                        code: api.code,
                        message: api.message,
                    }
                })
                .collect();
            tracing::info!(
                session = %session, total = report.total, indexed = report.indexed,
                skipped = report.skipped, failed = report.failed, "batch finished"
            );
            Ok(IndexBatchBody {
                session_id: session.to_string(),
                total: report.total,
                indexed: report.indexed,
                skipped: report.skipped,
                failed: report.failed,
                faces_indexed: report.faces_indexed,
                photos_without_faces: report.photos_without_faces,
                errors,
                processing_time_ms: elapsed_ms(start),
            })
        })
        .await
    }
}
