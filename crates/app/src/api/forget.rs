//! `POST /index/{session_id}/forget`: a guest's erasure by selfie (API key). Deletes the
//! guest's faces, not the photos; the selfies are kept nowhere.

use std::sync::Arc;

use facepass_domain::ports::{Embedder, PhotoSource, VectorStore};
use facepass_domain::use_cases::ForgetRequest;
use poem_openapi::param::Path;
use poem_openapi::types::multipart::Upload;
use poem_openapi::{Multipart, Object, OpenApi};

use super::auth::ApiKeyAuth;
use super::dto::{ApiTags, Constrained, IdField, ThresholdField};
use super::errors::{ApiError, endpoint_response, respond};
use super::fields::parse_session;
use super::search::{parse_face_index, parse_threshold, read_selfies};
use super::state::AppState;

/// The guest's selfies and how alike a face must be to be deleted.
#[derive(Debug, Multipart)]
pub struct ForgetForm {
    /// A selfie of the guest (the format is detected from the bytes); repeat the part (up
    /// to 3 times) to send several.
    #[oai(validator(min_items = 1, max_items = 3))]
    pub file: Vec<Upload>,
    /// Minimum `similarity` of a face to be deleted, 0..1 (default 0.7, as search).
    pub threshold: Option<ThresholdField>,
    /// Which face of a single selfie is the guest, as in search.
    #[oai(validator(minimum(value = "0"), maximum(value = "1000")))]
    pub face_index: Option<i64>,
}

#[derive(Debug, Object)]
#[oai(rename = "ForgetReport")]
pub struct ForgetBody {
    pub session_id: String,
    /// Faces of the guest deleted.
    pub deleted_faces: u64,
    /// Photos that lost a face; they stay indexed for the other people in them.
    pub photos_affected: u64,
    /// The session's watches of the same guest, ended (audited as `watch_end`, reason
    /// `forgotten`).
    pub watches_ended: u64,
}

endpoint_response!(
    /// Answers of `POST /index/{session_id}/forget`.
    ForgetResponse => ForgetBody {
        400 BadRequest: "`invalid_request`: a missing or invalid form field (`details.field`).",
        401 Unauthorized: "`unauthorized`: missing or unknown `X-API-Key`.",
        413 PayloadTooLarge: "`payload_too_large`: a selfie is over the upload limit.",
        415 UnsupportedMediaType: "`unsupported_media_type`: the body is not `multipart/form-data`.",
        422 Unprocessable: "`invalid_image`, `image_too_large`, `no_face_detected` or `multiple_faces` (pick the guest with `face_index`), as for search.",
        503 Unavailable: "`database_unavailable` or `models_unavailable`.",
    }
    retry_after "`rate_limited` (this API key is over its request rate) or `overloaded` (the face pipeline is full): retry after `Retry-After` seconds."
);

#[derive(Debug)]
pub struct ForgetApi<E, S, P>(pub Arc<AppState<E, S, P>>);

#[OpenApi(tag = "ApiTags::Indexing")]
impl<E: Embedder, S: VectorStore, P: PhotoSource> ForgetApi<E, S, P> {
    /// Erase a guest from a session by selfie
    ///
    /// Deletes every face of the session whose similarity to the guest's selfie (or best
    /// over several) reaches `threshold`. Other people in the same photos stay findable.
    /// Recorded in the audit as `forget` with the counts; nothing of the selfie is stored.
    /// The session's guest watches whose selfies match these end with it.
    #[oai(
        path = "/index/:session_id/forget",
        method = "post",
        operation_id = "forget_guest"
    )]
    async fn forget(
        &self,
        auth: ApiKeyAuth,
        session_id: Path<IdField>,
        form: ForgetForm,
    ) -> ForgetResponse {
        respond(async {
            let actor = self.0.authorize(&auth)?;
            let session = parse_session("session_id", &session_id.0)?;
            let request = ForgetRequest {
                session: session.clone(),
                threshold: parse_threshold(form.threshold.map(Constrained::into_inner))?,
                face_index: parse_face_index(form.face_index)?,
                selfies: read_selfies(form.file, self.0.max_selfie_bytes).await?,
            };
            let counts = self.0.forget.execute(request, &actor).await.map_err(|e| {
                let error = ApiError::from(e);
                self.0.count_overload(&error);
                error
            })?;
            self.0.count_deletion("forget", counts.faces);
            tracing::info!(session = %session, faces = counts.faces, photos = counts.photos, "guest forgotten");
            Ok(ForgetBody {
                session_id: session.to_string(),
                deleted_faces: counts.faces,
                photos_affected: counts.photos,
                watches_ended: counts.watches_ended,
            })
        })
        .await
    }
}
