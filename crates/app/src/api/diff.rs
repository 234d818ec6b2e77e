//! `POST /index/{session_id}/diff`: the platform's list of a session's photos against the
//! index (API key): which to index, which to delete.

use std::sync::Arc;

use facepass_domain::ports::{Embedder, PhotoSource, VectorStore};
use facepass_domain::use_cases::MAX_DIFF_IDS;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::auth::ApiKeyAuth;
use super::dto::{ApiTags, IdField};
use super::errors::{ApiError, endpoint_response, respond};
use super::fields::{parse_photo, parse_session};
use super::state::AppState;

#[derive(Debug, Object)]
pub struct DiffRequest {
    /// Every photo id of the session on the platform's side (0 to 100,000; duplicates are
    /// counted once).
    #[oai(validator(max_items = 100000))]
    pub photo_ids: Vec<IdField>,
}

#[derive(Debug, Object)]
#[oai(rename = "SessionDiff")]
pub struct DiffBody {
    pub session_id: String,
    /// Listed photos that are indexed.
    pub indexed: u64,
    /// Listed, not indexed: index them. Sorted bytewise.
    pub missing: Vec<String>,
    /// Indexed, not listed: delete them. Sorted bytewise.
    pub orphaned: Vec<String>,
}

endpoint_response!(
    /// Answers of `POST /index/{session_id}/diff`.
    DiffResponse => DiffBody {
        400 BadRequest: "`invalid_request`: an invalid session or photo id, or more than 100,000 ids (`details.field`).",
        401 Unauthorized: "`unauthorized`: missing or unknown `X-API-Key`.",
        413 PayloadTooLarge: "`payload_too_large`: the body is over 16 MiB.",
        415 UnsupportedMediaType: "`unsupported_media_type`: the body is not JSON.",
        503 Unavailable: "`database_unavailable`.",
    }
    retry_after "`rate_limited`: this API key is over its request rate; retry after `Retry-After` seconds."
);

#[derive(Debug)]
pub struct DiffApi<E, S, P>(pub Arc<AppState<E, S, P>>);

#[OpenApi(tag = "ApiTags::Indexing")]
impl<E: Embedder, S: VectorStore, P: PhotoSource> DiffApi<E, S, P> {
    /// Reconcile the platform's photo list with the index
    ///
    /// Send every photo id the session has on the platform; the answer names those not
    /// indexed (`missing`: index them) and those indexed but no longer listed (`orphaned`:
    /// delete them). Computed in the database; an unknown session has every listed id
    /// missing.
    #[oai(
        path = "/index/:session_id/diff",
        method = "post",
        operation_id = "diff_session"
    )]
    async fn diff(
        &self,
        auth: ApiKeyAuth,
        session_id: Path<IdField>,
        body: Json<DiffRequest>,
    ) -> DiffResponse {
        respond(async {
            let body = body.0;
            self.0.authorize(&auth)?;
            let session = parse_session("session_id", &session_id.0)?;
            if body.photo_ids.len() > MAX_DIFF_IDS {
                return Err(ApiError::invalid_field(
                    "photo_ids",
                    format!(
                        "must hold at most {MAX_DIFF_IDS} ids, got {}",
                        body.photo_ids.len()
                    ),
                ));
            }
            let listed = body
                .photo_ids
                .into_iter()
                .enumerate()
                .map(|(i, id)| parse_photo(&format!("photo_ids[{i}]"), &id))
                .collect::<Result<Vec<_>, _>>()?;
            let diff = self.0.lifecycle.diff(&session, listed).await?;
            let names =
                |ids: Vec<facepass_domain::PhotoId>| ids.iter().map(ToString::to_string).collect();
            Ok(DiffBody {
                session_id: session.to_string(),
                indexed: diff.indexed,
                missing: names(diff.missing),
                orphaned: names(diff.orphaned),
            })
        })
        .await
    }
}
