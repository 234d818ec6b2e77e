//! This replica's job workers: each claims one photo of the open jobs at a time (any
//! replica's jobs: the queue is the database), indexes it through the same use case as the
//! synchronous routes, and records the outcome. Transient failures go back to the queue with
//! exponential backoff until `jobs.max_attempts`; permanent ones are the photo's outcome. A
//! worker stopped mid-photo (SIGKILL) loses nothing: its claim lapses after `jobs.lease_secs`
//! and another worker takes the photo (re-indexing replaces, so its faces are stored once).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use facepass_domain::jobs::{ClaimedPhoto, Leases, PhotoOutcome};
use facepass_domain::ports::{Embedder, PhotoSource, VectorStore};
use facepass_domain::use_cases::{IndexPhotoRequest, IndexStatus};

use crate::api::errors::{ApiError, ErrorCode};
use crate::api::state::AppState;

/// Failures worth another try: the photo store, the database or the models were unavailable
/// or busy, not the photo's fault.
pub fn is_transient(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::StorageTimeout
            | ErrorCode::StorageUnavailable
            | ErrorCode::DatabaseUnavailable
            | ErrorCode::ModelsUnavailable
            | ErrorCode::Overloaded
    )
}

/// Starts `jobs.workers` workers on the state's task tracker; they stop when the state is
/// stopping (a photo in flight finishes first).
pub fn start<E: Embedder, S: VectorStore, P: PhotoSource>(state: &Arc<AppState<E, S, P>>) {
    let process = uuid::Uuid::now_v7().simple().to_string();
    for n in 0..state.job_settings.workers {
        let state = state.clone();
        let name = format!("{}-{n}", &process[process.len() - 12..]);
        state
            .tasks
            .clone()
            .spawn(async move { work(&state, &name).await });
    }
}

async fn work<E: Embedder, S: VectorStore, P: PhotoSource>(
    state: &AppState<E, S, P>,
    worker: &str,
) {
    let leases = state.job_settings.leases();
    let poll = Duration::from_millis(state.job_settings.poll_ms);
    while !state.stopping.load(Ordering::SeqCst) {
        match state
            .jobs
            .claim(worker, 1, SystemTime::now(), leases.lease)
            .await
        {
            Ok(claimed) if !claimed.is_empty() => {
                for claim in claimed {
                    index(state, &leases, claim).await;
                }
            }
            Ok(_) => idle(state, poll).await,
            Err(error) => {
                tracing::warn!(%error, worker, "claiming job photos failed; retrying");
                idle(state, poll).await;
            }
        }
    }
}

/// Waits for a job submitted here or the poll interval (which also bounds how long a
/// shutdown waits for an idle worker).
async fn idle<E, S, P>(state: &AppState<E, S, P>, poll: Duration) {
    tokio::select! {
        () = state.job_submitted.notified() => {}
        () = tokio::time::sleep(poll) => {}
    }
}

/// Gives a claimed photo back to be claimed again from `at`.
async fn give_back(
    state: &AppState<impl Sized, impl Sized, impl Sized>,
    claim: &ClaimedPhoto,
    at: SystemTime,
) {
    if let Err(error) = state.jobs.retry(claim, at).await {
        tracing::warn!(%error, job = %claim.job, "giving a photo back failed; its lease will lapse");
    }
}

/// Indexes one claimed photo and records what became of it: its outcome, or (a transient
/// failure with attempts left, or shutdown before it started) the photo back in the queue.
async fn index<E: Embedder, S: VectorStore, P: PhotoSource>(
    state: &AppState<E, S, P>,
    leases: &Leases,
    claim: ClaimedPhoto,
) {
    if state.stopping.load(Ordering::SeqCst) {
        return give_back(state, &claim, SystemTime::now()).await;
    }
    let request = IndexPhotoRequest {
        session: claim.session.clone(),
        photo: claim.photo.clone(),
        key: claim.key.clone(),
        force: claim.force,
    };
    let result = state.index_photo.execute(&request).await;
    let now = SystemTime::now();
    let outcome = match &result {
        Ok(photo) if photo.status == IndexStatus::Skipped => PhotoOutcome::Skipped,
        Ok(_) => PhotoOutcome::Indexed,
        Err(error) => {
            let error = ApiError::from(error.clone());
            let retry_at = is_transient(error.code)
                .then(|| leases.retry_at(claim.attempt, now))
                .flatten();
            if let Some(at) = retry_at {
                tracing::info!(job = %claim.job, photo = %claim.photo, attempt = claim.attempt, code = error.code.as_str(), "job photo failed transiently; retrying later");
                return give_back(state, &claim, at).await;
            }
            PhotoOutcome::Failed {
                code: error.code.as_str().to_owned(),
                message: error.message,
            }
        }
    };
    state.count_photo(&result);
    match state.jobs.finish(&claim, outcome, now).await {
        Ok(finished) => {
            if let Some(job) = finished.completed {
                tracing::info!(
                    job = %job.id, session = %job.session, total = job.total,
                    indexed = job.indexed, skipped = job.skipped, failed = job.failed,
                    "job done"
                );
            }
        }
        Err(error) => {
            tracing::warn!(%error, job = %claim.job, "recording a job photo failed; its lease will lapse and it is indexed again");
        }
    }
}
