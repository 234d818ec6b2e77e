//! `POST /search` (and the deprecated `POST /faces/search-session`): find every photo of a
//! session showing the person in a selfie (public, rate-limited per client IP).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use facepass_domain::people::Evidence;
use facepass_domain::ports::{Embedder, PhotoSource, VectorStore};
use facepass_domain::use_cases::{MAX_SELFIES, SearchLimit, SelfieMatch, SelfieSearchRequest};
use facepass_domain::{ImageBytes, Threshold};
use poem::Request;
use poem_openapi::types::multipart::Upload;
use poem_openapi::{Enum, Multipart, Object, OpenApi};

use serde_json::json;

use super::dto::{
    ApiTags, BBox, Constrained, IdChars, LimitField, QueryFaceBody, SCORE, ThresholdField,
    elapsed_ms, round,
};
use super::errors::{ApiError, ErrorCode, endpoint_response};
use super::fields::parse_session;
use super::rate_limit::Scope;
use super::state::AppState;

/// The selfie and the search parameters.
#[derive(Debug, Multipart)]
pub struct SearchForm {
    /// The selfie (JPEG, PNG or WebP; the format is detected from the bytes, the part's
    /// content type and filename are ignored). Repeat the part (up to 3 times) to send
    /// several selfies of the same guest: a photo scores its best match over them.
    #[oai(validator(min_items = 1, max_items = 3))]
    pub file: Vec<Upload>,
    /// The session to search.
    pub session_id: Constrained<String, IdChars>,
    /// Minimum `similarity`, 0..1 (default 0.7: the model's recommended operating point).
    pub threshold: Option<ThresholdField>,
    /// Most matches returned, 1..1000 (default 100); `total_matches` counts all.
    pub limit: Option<LimitField>,
    /// Which face of a single selfie to search for, 0-based in the order of a previous
    /// `multiple_faces` answer's `details.faces` (largest visible face first).
    #[oai(validator(minimum(value = "0"), maximum(value = "1000")))]
    pub face_index: Option<i64>,
}

/// The photo's best-matching face.
#[derive(Debug, Object)]
pub struct MatchedFace {
    pub face_id: String,
    pub bbox: BBox,
}

/// On what a match was returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "Evidence", rename_all = "snake_case")]
pub enum EvidenceBody {
    /// The selfie matched this face, at the threshold the session's size needs.
    Face,
    /// The selfie matched the person this face belongs to (the mean over the person's
    /// faces), and the face itself is close enough to the selfie.
    Person,
}

impl From<Evidence> for EvidenceBody {
    fn from(evidence: Evidence) -> Self {
        match evidence {
            Evidence::Face => Self::Face,
            Evidence::Person => Self::Person,
        }
    }
}

#[derive(Debug, Object)]
#[oai(rename = "PhotoMatch")]
pub struct PhotoMatchBody {
    pub photo_id: String,
    /// Calibrated similarity in [0, 1] of the evidence the match was decided on: 0.7 is the
    /// model's recommended operating point in a small session; in a large session the same
    /// cosine scores lower (the session's size raises what a match needs).
    pub similarity: f64,
    /// Detector confidence of the matched face.
    pub confidence: f64,
    /// Raw cosine between the selfie's and the matched face's embeddings (the best of
    /// several selfies).
    pub cosine: f64,
    pub face: MatchedFace,
    /// The person the face belongs to (see `GET /index/{session_id}/people`); absent while
    /// the face is grouped with no other face.
    #[oai(skip_serializing_if_is_none)]
    pub person_id: Option<String>,
    pub evidence: EvidenceBody,
}

impl From<SelfieMatch> for PhotoMatchBody {
    fn from(m: SelfieMatch) -> Self {
        Self {
            photo_id: m.photo_id.to_string(),
            similarity: round(m.similarity, SCORE),
            confidence: round(m.face.det_score, SCORE),
            cosine: round(m.cosine, SCORE),
            face: MatchedFace {
                face_id: m.face.face_id.to_string(),
                bbox: m.face.bbox.into(),
            },
            person_id: m.person.map(|p| p.to_string()),
            evidence: m.evidence.into(),
        }
    }
}

#[derive(Debug, Object)]
#[oai(rename = "SearchResults")]
pub struct SearchBody {
    pub session_id: String,
    /// One match per photo (its best face), by `similarity` descending, ties by `photo_id`.
    pub matches: Vec<PhotoMatchBody>,
    /// Photos at or above the threshold, including those cut by `limit`.
    pub total_matches: u64,
    // No doc comment: it would turn the `$ref` into an `allOf` and give generated clients a
    // second type for the same face.
    pub query_face: QueryFaceBody,
    /// The face searched for in each selfie, in request order; `query_face` is the first
    /// one (kept for clients of one selfie).
    pub query_faces: Vec<QueryFaceBody>,
    /// Why some selfie is a poor query although it matched (or other selfies did): the
    /// reasons of `query_faces[].warnings`, sorted, unique. Empty for good selfies.
    pub warnings: Vec<String>,
    pub query_time_ms: f64,
}

endpoint_response!(
    /// Answers of `POST /search`.
    SearchResponse => SearchBody {
        400 BadRequest: "`invalid_request`: a missing or invalid form field (`details.field`).",
        413 PayloadTooLarge: "`payload_too_large`: the selfie is over the upload limit.",
        415 UnsupportedMediaType: "`unsupported_media_type`: the body is not `multipart/form-data`.",
        422 Unprocessable: "`invalid_image`, `image_too_large`, `no_face_detected` (`details.selfie`: which one), `multiple_faces` (the competing boxes in `details.faces`, pick one with `face_index`) or `poor_selfie` (nothing matched and the selfie is poor: `details.reason` is `too_small`, `too_blurry`, `too_dark` or `extreme_pose`, `details.reasons` all of them, `details.query_faces` the measurements).",
        503 Unavailable: "`database_unavailable` or `models_unavailable`.",
    }
    retry_after "`rate_limited` (this client is over its search rate) or `overloaded` (the face pipeline is full): retry after `Retry-After` seconds."
);

#[derive(Debug)]
pub struct SearchApi<E, S, P>(pub Arc<AppState<E, S, P>>);

#[OpenApi(tag = "ApiTags::Search")]
impl<E: Embedder, S: VectorStore, P: PhotoSource> SearchApi<E, S, P> {
    /// Search a session by selfie
    ///
    /// Detects the largest visible face of the selfie (faces cut off by the frame count for
    /// what shows; a selfie sent sideways or upside down is turned) and returns every photo
    /// of the session showing that person: a face matches on its own when its similarity
    /// reaches `threshold` at the session's size (a larger session needs a closer match), or
    /// on its person's evidence when the selfie matches the person the face belongs to (each
    /// match says which, in `evidence`). With several selfies, each counts alone and
    /// together. A poor selfie (too small, blurred, dark or turned
    /// away) that matches nothing is refused as `poor_selfie` rather than answered empty;
    /// one that matches carries `warnings`. Never triggers indexing; an unknown or not yet
    /// indexed session answers 200 with no matches (use the status route to tell them
    /// apart).
    #[oai(path = "/search", method = "post", operation_id = "search")]
    async fn search(&self, request: &Request, form: SearchForm) -> SearchResponse {
        self.run(request, form).await.into()
    }

    /// Search a session by selfie (deprecated alias)
    ///
    /// The v1 route name, kept for existing integrations: same form and answer as
    /// `POST /search`, and, like it, never indexes anything.
    #[oai(
        path = "/faces/search-session",
        method = "post",
        operation_id = "search_session_legacy",
        deprecated
    )]
    async fn search_session(&self, request: &Request, form: SearchForm) -> SearchResponse {
        self.run(request, form).await.into()
    }
}

impl<E: Embedder, S: VectorStore, P: PhotoSource> SearchApi<E, S, P> {
    async fn run(&self, request: &Request, form: SearchForm) -> Result<SearchBody, ApiError> {
        let start = Instant::now();
        let state = &self.0;
        state.limit(
            Scope::Search,
            &client_ip(request, state.trust_forwarded_for),
        )?;
        let session = parse_session("session_id", &form.session_id)?;
        let threshold = parse_threshold(form.threshold.map(Constrained::into_inner))?;
        let limit = match form.limit {
            None => SearchLimit::DEFAULT,
            Some(l) => {
                SearchLimit::new(l.into_inner()).map_err(|e| ApiError::invalid_field("limit", e))?
            }
        };
        let face_index = parse_face_index(form.face_index)?;
        let selfies = read_selfies(form.file, state.max_selfie_bytes).await?;
        let found = state
            .search
            .execute(SelfieSearchRequest {
                session: session.clone(),
                selfies,
                face_index,
                threshold,
                limit,
            })
            .await
            .map_err(|e| {
                let error = ApiError::from(e);
                state.count_overload(&error);
                error
            })?;
        Ok(SearchBody {
            session_id: session.to_string(),
            matches: found.matches.into_iter().map(Into::into).collect(),
            total_matches: found.total_matches,
            query_face: (&found.query_faces[0]).into(),
            query_faces: found.query_faces.iter().map(Into::into).collect(),
            warnings: found.warnings.iter().map(|r| r.code().to_owned()).collect(),
            query_time_ms: elapsed_ms(start),
        })
    }
}

/// The `threshold` form field (default: the model's operating point).
pub(super) fn parse_threshold(threshold: Option<f64>) -> Result<Threshold, ApiError> {
    match threshold {
        None => Ok(Threshold::default()),
        Some(t) => Threshold::new(t as f32).map_err(|e| ApiError::invalid_field("threshold", e)),
    }
}

/// The `face_index` form field.
pub(super) fn parse_face_index(face_index: Option<i64>) -> Result<Option<usize>, ApiError> {
    face_index
        .map(|i| {
            usize::try_from(i).map_err(|_| ApiError::invalid_field("face_index", "must be >= 0"))
        })
        .transpose()
}

/// The selfie parts of a form: 1 to `MAX_SELFIES`, none empty or over `max_bytes`.
pub(super) async fn read_selfies(
    files: Vec<Upload>,
    max_bytes: u64,
) -> Result<Vec<ImageBytes>, ApiError> {
    if !(1..=MAX_SELFIES).contains(&files.len()) {
        return Err(ApiError::invalid_field(
            "file",
            format!("send 1 to {MAX_SELFIES} selfies, got {}", files.len()),
        ));
    }
    let mut selfies = Vec::with_capacity(files.len());
    for (i, file) in files.into_iter().enumerate() {
        if file.size() as u64 > max_bytes {
            return Err(ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!(
                    "selfie {i} is {} bytes, the limit is {max_bytes}",
                    file.size()
                ),
            ));
        }
        let selfie = file
            .into_vec()
            .await
            .map_err(|e| ApiError::invalid_field("file", e))?;
        if selfie.is_empty() {
            return Err(ApiError::new(
                ErrorCode::InvalidImage,
                format!("selfie {i} is an empty file"),
            )
            .with_details(json!({ "selfie": i })));
        }
        selfies.push(ImageBytes::from(selfie));
    }
    Ok(selfies)
}

/// The client's address for rate limiting: the peer, or the first `X-Forwarded-For` entry
/// when the server is configured to sit behind a proxy that sets it.
fn client_ip(request: &Request, trust_forwarded_for: bool) -> String {
    if trust_forwarded_for
        && let Some(ip) = request
            .header("x-forwarded-for")
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse::<IpAddr>().ok())
    {
        return ip.to_string();
    }
    match request.remote_addr().as_socket_addr() {
        Some(addr) => addr.ip().to_string(),
        None => "unknown".to_owned(),
    }
}
