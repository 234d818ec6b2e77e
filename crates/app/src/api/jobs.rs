//! `/index/jobs`: durable indexing jobs (API key). A job is written whole to the database
//! and answered at once (202); every replica's workers ([`crate::jobs`]) index its photos.
//! `GET` follows one job or pages them, `DELETE` cancels.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use facepass_domain::jobs::{Idempotency, Job, JobId, JobQuery, JobState, NewJob, Submitted};
use facepass_domain::ports::{Embedder, PhotoSource, VectorStore};
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use sha2::{Digest, Sha256};

use super::auth::ApiKeyAuth;
use super::dto::{ApiTags, Constrained, ForceField, IdField, Items, Optional};
use super::errors::{ApiError, ErrorBody, ErrorCode, endpoint_response, respond};
use super::fields::{parse_key, parse_photo, parse_session};
use super::index_batch::{BatchPhoto, PhotoError};
use super::state::AppState;

/// The contract's bound on one job; `jobs.max_photos` may set a lower one.
pub const MAX_JOB_PHOTOS: usize = 100_000;

/// Default and largest page of `GET /index/jobs`.
const DEFAULT_LIMIT: i64 = 50;

#[derive(Debug, Object)]
pub struct JobRequest {
    pub session_id: IdField,
    /// 1 to 100,000 photos (`jobs.max_photos`); a repeated `photo_id` is indexed once.
    pub photos: Constrained<Vec<BatchPhoto>, Items<1, MAX_JOB_PHOTOS>>,
    /// Recompute photos that are already indexed.
    pub force: ForceField,
    /// When FacePass deletes the whole session (RFC 3339), set when the job is accepted;
    /// absent: unchanged (a new session gets `retention.default_days`).
    pub expires_at: Optional<DateTime<Utc>>,
    /// An `https://` (or `http://`) URL told when the job is done; absent: `webhooks.url`.
    pub callback_url: Optional<String>,
}

/// A job's state on the wire: [`JobState`], in the same order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "JobState", rename_all = "lowercase")]
pub enum JobStateBody {
    Queued,
    Running,
    Done,
    Cancelled,
}

impl JobStateBody {
    const ALL: [JobStateBody; 4] = [Self::Queued, Self::Running, Self::Done, Self::Cancelled];

    fn of(state: JobState) -> Self {
        Self::ALL[JobState::ALL.iter().position(|s| *s == state).unwrap_or(0)]
    }

    fn state(self) -> JobState {
        JobState::ALL[self as usize]
    }
}

/// An indexing job: `state` is `done` when every photo has an outcome, `cancelled` when a
/// cancel dropped the photos not started.
#[derive(Debug, Object)]
#[oai(rename = "Job")]
pub struct JobBody {
    pub job_id: String,
    pub session_id: String,
    // No doc comment: it would turn the `$ref` into an `allOf` that generated clients cannot
    // read for an enum.
    pub state: JobStateBody,
    /// Distinct photos of the job: `total = indexed + failed + pending + dropped`.
    pub total: u64,
    /// Photos indexed now or before (`skipped` included), as in `/index/batch`.
    pub indexed: u64,
    /// Photos already indexed and not recomputed (`force` false).
    pub skipped: u64,
    /// Photos that failed permanently, or transiently on each of their attempts.
    pub failed: u64,
    /// Photos without an outcome yet (waiting, in flight, or waiting for a retry).
    pub pending: u64,
    /// Photos a cancel dropped before they started.
    pub dropped: u64,
    /// The first 100 failures, in the order the photos were given.
    pub errors: Vec<PhotoError>,
    pub created_at: DateTime<Utc>,
    #[oai(skip_serializing_if_is_none)]
    pub started_at: Option<DateTime<Utc>>,
    #[oai(skip_serializing_if_is_none)]
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<Job> for JobBody {
    fn from(job: Job) -> Self {
        let errors = job
            .errors
            .into_iter()
            .map(|e| PhotoError {
                photo_id: e.photo.to_string(),
                code: ErrorCode::parse(&e.code).unwrap_or(ErrorCode::InternalError),
                message: e.message,
            })
            .collect();
        Self {
            job_id: job.id.to_string(),
            session_id: job.session.to_string(),
            state: JobStateBody::of(job.state),
            total: job.total,
            indexed: job.indexed + job.skipped,
            skipped: job.skipped,
            failed: job.failed,
            pending: job.pending,
            dropped: job.dropped,
            errors,
            created_at: job.created_at.into(),
            started_at: job.started_at.map(Into::into),
            finished_at: job.finished_at.map(Into::into),
        }
    }
}

#[derive(Debug, Object)]
#[oai(rename = "JobPage")]
pub struct JobPageBody {
    /// Newest first (without their `errors`: follow a job for them).
    pub jobs: Vec<JobBody>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

/// Answers of `POST /index/jobs`.
#[derive(Debug, ApiResponse)]
#[oai(bad_request_handler = "crate::api::errors::from_poem_error")]
pub enum SubmitJobResponse {
    /// The job is accepted; `Location` is where to follow it.
    #[oai(status = 202)]
    Accepted(Json<JobBody>, #[oai(header = "Location")] String),
    /// The job an earlier request with the same `Idempotency-Key` and body created.
    #[oai(status = 200)]
    Existing(Json<JobBody>),
    /// `invalid_request`: malformed JSON, 0 photos or more than `jobs.max_photos`, or an invalid field (`details.field`).
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// `unauthorized`: missing or unknown `X-API-Key`.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    /// `idempotency_conflict`: the `Idempotency-Key` was used for another request (`details.job_id`).
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    /// `payload_too_large`: the request body is over the limit.
    #[oai(status = 413)]
    PayloadTooLarge(Json<ErrorBody>),
    /// `unsupported_media_type`: the body is not JSON.
    #[oai(status = 415)]
    UnsupportedMediaType(Json<ErrorBody>),
    /// `rate_limited`: this API key is over its request rate; retry after `Retry-After` seconds.
    #[oai(status = 429)]
    TooManyRequests(Json<ErrorBody>, #[oai(header = "Retry-After")] u64),
    /// `internal_error`: an unexpected failure, logged with the request id.
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
    /// `database_unavailable`: nothing was accepted.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>),
}

impl From<ApiError> for SubmitJobResponse {
    fn from(error: ApiError) -> Self {
        error.log();
        let body = Json(error.body());
        match error.status().as_u16() {
            400 => Self::BadRequest(body),
            401 => Self::Unauthorized(body),
            409 => Self::Conflict(body),
            413 => Self::PayloadTooLarge(body),
            415 => Self::UnsupportedMediaType(body),
            429 => Self::TooManyRequests(
                body,
                u64::from(error.retry_after.map_or(1, std::num::NonZeroU32::get)),
            ),
            503 => Self::Unavailable(body),
            _ => Self::Internal(body),
        }
    }
}

endpoint_response!(
    /// Answers of `GET /index/jobs/{job_id}` and `DELETE /index/jobs/{job_id}`.
    JobResponse => JobBody {
        400 BadRequest: "`invalid_request`: `job_id` is not a job id.",
        401 Unauthorized: "`unauthorized`: missing or unknown `X-API-Key`.",
        404 NotFound: "`not_found`: no such job.",
        503 Unavailable: "`database_unavailable`.",
    }
    retry_after "`rate_limited`: this API key is over its request rate; retry after `Retry-After` seconds."
);

endpoint_response!(
    /// Answers of `GET /index/jobs`.
    JobPageResponse => JobPageBody {
        400 BadRequest: "`invalid_request`: an invalid `session_id`, `state`, `limit` or `cursor` (`details.field`).",
        401 Unauthorized: "`unauthorized`: missing or unknown `X-API-Key`.",
        503 Unavailable: "`database_unavailable`.",
    }
    retry_after "`rate_limited`: this API key is over its request rate; retry after `Retry-After` seconds."
);

/// The parsed request, and the digest an `Idempotency-Key` is checked against.
fn new_job(body: JobRequest, max_photos: usize, max_attempts: u32) -> Result<NewJob, ApiError> {
    let session = parse_session("session_id", &body.session_id)?;
    let max = max_photos.min(MAX_JOB_PHOTOS);
    if body.photos.is_empty() || body.photos.len() > max {
        return Err(ApiError::invalid_field(
            "photos",
            format!("must hold 1 to {max} photos, got {}", body.photos.len()),
        ));
    }
    let mut seen = HashSet::new();
    let mut photos = Vec::with_capacity(body.photos.len());
    for (i, p) in body.photos.iter().enumerate() {
        let photo = parse_photo(&format!("photos[{i}].photo_id"), &p.photo_id)?;
        let key = parse_key(&format!("photos[{i}].s3_key"), &p.s3_key)?;
        if seen.insert(photo.clone()) {
            photos.push((photo, key));
        }
    }
    let callback_url = body.callback_url.0.filter(|u| !u.is_empty());
    if let Some(url) = &callback_url
        && !(url.starts_with("https://") || url.starts_with("http://"))
    {
        return Err(ApiError::invalid_field(
            "callback_url",
            "must be an http:// or https:// URL",
        ));
    }
    Ok(NewJob {
        session,
        photos,
        force: body.force.get(),
        expires_at: body.expires_at.0.map(Into::into),
        callback_url,
        idempotency: None,
        key_id: None,
        max_attempts,
    })
}

/// A digest of everything a job request asks for, in its order.
fn digest(job: &NewJob) -> String {
    let mut hash = Sha256::new();
    hash.update(job.session.as_str());
    for (photo, key) in &job.photos {
        hash.update([0]);
        hash.update(photo.as_str());
        hash.update([1]);
        hash.update(key.as_str());
    }
    let expires = job
        .expires_at
        .map(|t| DateTime::<Utc>::from(t).timestamp_millis());
    hash.update(format!("|{}|{expires:?}|{:?}", job.force, job.callback_url));
    format!("{:x}", hash.finalize())
}

fn job_id(raw: &str) -> Result<JobId, ApiError> {
    JobId::parse(raw).map_err(|e| ApiError::invalid_field("job_id", e.to_string()))
}

fn no_such_job(id: &JobId) -> ApiError {
    ApiError::new(ErrorCode::NotFound, format!("no job {id}"))
}

#[derive(Debug)]
pub struct JobsApi<E, S, P>(pub Arc<AppState<E, S, P>>);

#[OpenApi(tag = "ApiTags::Indexing")]
impl<E: Embedder, S: VectorStore, P: PhotoSource> JobsApi<E, S, P> {
    /// Submit an indexing job
    ///
    /// For whole events: the job and its photos are written to the database at once and
    /// indexed by every replica's workers; a restart or a replica that dies loses nothing.
    /// Per-photo outcomes use the codes of `/index/batch`; transient failures are retried with
    /// backoff (`jobs.max_attempts`). The same `Idempotency-Key` with the same body answers the
    /// job it created (200); with another body, 409.
    #[oai(path = "/index/jobs", method = "post", operation_id = "submit_job")]
    async fn submit(
        &self,
        auth: ApiKeyAuth,
        body: Json<JobRequest>,
        /// Makes a retried request answer the job the first one created (1-255 characters).
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
    ) -> SubmitJobResponse {
        let result = async {
            let state = &self.0;
            let actor = state.authorize(&auth)?;
            let settings = &state.job_settings;
            let mut job = new_job(body.0, settings.max_photos, settings.max_attempts)?;
            if let Some(key) = idempotency_key.0 {
                if key.is_empty() || key.len() > 255 {
                    return Err(ApiError::invalid_field(
                        "Idempotency-Key",
                        "must be 1 to 255 characters",
                    ));
                }
                job.idempotency = Some(Idempotency {
                    digest: digest(&job),
                    key,
                });
            }
            job.key_id = actor.key_id.clone();
            let (session, expires_at) = (job.session.clone(), job.expires_at);
            let submitted = state.jobs.submit(job, SystemTime::now()).await?;
            // The session's expiry as for any indexing, once the request is known to be this
            // job's (a retry with the same key sets it again if this failed).
            if let Submitted::Created(job) | Submitted::Existing(job) = &submitted {
                state.lifecycle.before_indexing(&session, expires_at).await?;
                state.job_submitted.notify_waiters();
                tracing::info!(job = %job.id, session = %session, photos = job.total, "job accepted");
            }
            Ok(submitted)
        }
        .await;
        match result {
            Ok(Submitted::Created(job)) => {
                let location = format!("{}/index/jobs/{}", super::V2, job.id);
                SubmitJobResponse::Accepted(Json(job.into()), location)
            }
            Ok(Submitted::Existing(job)) => SubmitJobResponse::Existing(Json(job.into())),
            Ok(Submitted::Conflict(id)) => ApiError::new(
                ErrorCode::IdempotencyConflict,
                "this Idempotency-Key was used for another request",
            )
            .with_details(serde_json::json!({ "job_id": id.to_string() }))
            .into(),
            Err(error) => error.into(),
        }
    }

    /// Follow an indexing job
    ///
    /// Its state, counts and first failures.
    #[oai(path = "/index/jobs/:job_id", method = "get", operation_id = "get_job")]
    async fn job(&self, auth: ApiKeyAuth, job_id: Path<String>) -> JobResponse {
        respond(async {
            self.0.authorize(&auth)?;
            let id = self::job_id(&job_id.0)?;
            let job = self.0.jobs.job(&id).await?;
            Ok(job.ok_or_else(|| no_such_job(&id))?.into())
        })
        .await
    }

    /// Cancel an indexing job
    ///
    /// Photos not started are dropped; photos already indexed stay. A finished job is answered
    /// as it is.
    #[oai(
        path = "/index/jobs/:job_id",
        method = "delete",
        operation_id = "cancel_job"
    )]
    async fn cancel(&self, auth: ApiKeyAuth, job_id: Path<String>) -> JobResponse {
        respond(async {
            self.0.authorize(&auth)?;
            let id = self::job_id(&job_id.0)?;
            let job = self.0.jobs.cancel(&id, SystemTime::now()).await?;
            let job = job.ok_or_else(|| no_such_job(&id))?;
            tracing::info!(job = %id, state = job.state.as_str(), "job cancel asked");
            Ok(job.into())
        })
        .await
    }

    /// List indexing jobs
    ///
    /// Newest first, paged by `cursor`.
    #[oai(path = "/index/jobs", method = "get", operation_id = "list_jobs")]
    async fn jobs(
        &self,
        auth: ApiKeyAuth,
        /// Only the jobs of this session.
        session_id: Query<Option<String>>,
        /// Only jobs in this state.
        state: Query<Option<JobStateBody>>,
        /// Jobs per page, 1..1000 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "1000")))]
        limit: Query<Option<i64>>,
        /// The previous page's `next_cursor`.
        cursor: Query<Option<String>>,
    ) -> JobPageResponse {
        respond(async {
            self.0.authorize(&auth)?;
            let limit = limit.0.unwrap_or(DEFAULT_LIMIT);
            if !(1..=1000).contains(&limit) {
                return Err(ApiError::invalid_field("limit", "must be 1 to 1000"));
            }
            let query = JobQuery {
                session: session_id
                    .0
                    .as_deref()
                    .map(|s| parse_session("session_id", s))
                    .transpose()?,
                state: state.0.map(JobStateBody::state),
                before: cursor
                    .0
                    .as_deref()
                    .map(|c| {
                        JobId::parse(c)
                            .map_err(|_| ApiError::invalid_field("cursor", "not a cursor"))
                    })
                    .transpose()?,
                limit: limit as usize,
            };
            let jobs = self.0.jobs.jobs(&query).await?;
            let next_cursor = (jobs.len() == query.limit)
                .then(|| jobs.last().map(|j| j.id.to_string()))
                .flatten();
            Ok(JobPageBody {
                jobs: jobs.into_iter().map(Into::into).collect(),
                next_cursor,
            })
        })
        .await
    }
}
