//! `DELETE /index/{session_id}/photos/{photo_id}`: forget one photo's faces (API key,
//! idempotent).

use std::sync::Arc;

use facepass_domain::ports::{Embedder, PhotoSource, VectorStore};
use poem_openapi::OpenApi;
use poem_openapi::param::Path;

use super::auth::ApiKeyAuth;
use super::dto::{ApiTags, DeletedBody, IdField};
use super::errors::{endpoint_response, respond};
use super::fields::{parse_photo, parse_session};
use super::state::AppState;

endpoint_response!(
    /// Answers of `DELETE /index/{session_id}/photos/{photo_id}`.
    DeletePhotoResponse => DeletedBody {
        400 BadRequest: "`invalid_request`: the session or photo id is not valid.",
        401 Unauthorized: "`unauthorized`: missing or unknown `X-API-Key`.",
        503 Unavailable: "`database_unavailable`.",
    }
    retry_after "`rate_limited`: this API key is over its request rate; retry after `Retry-After` seconds."
);

#[derive(Debug)]
pub struct DeletePhotoApi<E, S, P>(pub Arc<AppState<E, S, P>>);

#[OpenApi(tag = "ApiTags::Indexing")]
impl<E: Embedder, S: VectorStore, P: PhotoSource> DeletePhotoApi<E, S, P> {
    /// Delete one photo from the index
    ///
    /// Removes the photo and its faces (the photographer removed it). Deleting an unknown
    /// photo succeeds with zero counts.
    #[oai(
        path = "/index/:session_id/photos/:photo_id",
        method = "delete",
        operation_id = "delete_photo"
    )]
    async fn delete_photo(
        &self,
        auth: ApiKeyAuth,
        session_id: Path<IdField>,
        photo_id: Path<IdField>,
    ) -> DeletePhotoResponse {
        respond(async {
            let actor = self.0.authorize(&auth)?;
            let session = parse_session("session_id", &session_id.0)?;
            let photo = parse_photo("photo_id", &photo_id.0)?;
            let deleted = self
                .0
                .delete_photo
                .execute(&session, &photo, &actor)
                .await?;
            self.0.count_deletion("delete_photo", deleted.faces);
            tracing::info!(session = %session, photo = %photo, faces = deleted.faces, "photo deleted");
            Ok(DeletedBody {
                session_id: session.to_string(),
                photo_id: Some(photo.to_string()),
                deleted_photos: deleted.photos,
                deleted_faces: deleted.faces,
            })
        })
        .await
    }
}
