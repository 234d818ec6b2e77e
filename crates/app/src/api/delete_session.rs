//! `DELETE /index/{session_id}`: forget every face of a session (API key, idempotent).

use std::sync::Arc;

use facepass_domain::ports::{Embedder, PhotoSource, VectorStore};
use poem_openapi::OpenApi;
use poem_openapi::param::Path;

use super::auth::ApiKeyAuth;
use super::dto::{ApiTags, DeletedBody, IdField};
use super::errors::{endpoint_response, respond};
use super::fields::parse_session;
use super::state::AppState;

endpoint_response!(
    /// Answers of `DELETE /index/{session_id}`.
    DeleteSessionResponse => DeletedBody {
        400 BadRequest: "`invalid_request`: the session id is not valid.",
        401 Unauthorized: "`unauthorized`: missing or unknown `X-API-Key`.",
        503 Unavailable: "`database_unavailable`.",
    }
    retry_after "`rate_limited`: this API key is over its request rate; retry after `Retry-After` seconds."
);

#[derive(Debug)]
pub struct DeleteSessionApi<E, S, P>(pub Arc<AppState<E, S, P>>);

#[OpenApi(tag = "ApiTags::Indexing")]
impl<E: Embedder, S: VectorStore, P: PhotoSource> DeleteSessionApi<E, S, P> {
    /// Delete a session's index
    ///
    /// Removes every photo and face of the session. Deleting an unknown or already deleted
    /// session succeeds with zero counts.
    #[oai(
        path = "/index/:session_id",
        method = "delete",
        operation_id = "delete_session"
    )]
    async fn delete_session(
        &self,
        auth: ApiKeyAuth,
        session_id: Path<IdField>,
    ) -> DeleteSessionResponse {
        respond(async {
            let actor = self.0.authorize(&auth)?;
            let session = parse_session("session_id", &session_id.0)?;
            let deleted = self.0.delete_session.execute(&session, &actor).await?;
            self.0.count_deletion("delete_session", deleted.faces);
            tracing::info!(session = %session, photos = deleted.photos, faces = deleted.faces, "session deleted");
            Ok(DeletedBody {
                session_id: session.to_string(),
                photo_id: None,
                deleted_photos: deleted.photos,
                deleted_faces: deleted.faces,
            })
        })
        .await
    }
}
