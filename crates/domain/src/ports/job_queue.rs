//! The `JobQueue` port: durable indexing jobs whose photos any replica claims, and the
//! webhooks that announce finished jobs.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use crate::jobs::{
    ClaimedPhoto, Delivery, DeliveryOutcome, Job, JobId, JobQuery, NewJob, PhotoOutcome, Submitted,
};
use crate::ports::StoreError;

/// Keeps indexing jobs durable and hands their photos to workers of any process.
///
/// Contract:
/// - `submit` writes the job and all its photos in one transaction, or nothing; an
///   idempotency key names one job forever (the same digest answers that job, another digest
///   is a conflict that creates nothing);
/// - a photo is held by at most one claim at a time: `claim` takes photos no live claim holds
///   (pending ones whose retry time has come, and claimed ones whose lease ran out), for
///   `lease`; claims go to the open job served least recently, so jobs progress side by side;
/// - `finish` and `retry` act only while the claim is the photo's current one (`false`
///   otherwise: its lease ran out and another worker holds it, or the job was cancelled); an
///   outcome is recorded once and counted once;
/// - a job is `done` in the transaction that records its last outcome, which also writes its
///   `index.job.completed` webhook to the outbox (exactly one per job); `cancel` drops the
///   photos no claim holds, and the job stays `cancelled` while claimed ones finish;
/// - a webhook is held by at most one deliverer at a time, like a photo, until its outcome.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait JobQueue: Send + Sync + 'static {
    /// Records a new job, or answers the one its idempotency key already names.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database cannot be reached (nothing was written),
    /// [`StoreError::Unexpected`] for any other database failure.
    async fn submit(&self, job: NewJob, now: SystemTime) -> Result<Submitted, StoreError>;

    /// A job with its counts and first failures; `None` when unknown.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database cannot be reached,
    /// [`StoreError::Unexpected`] for any other database failure.
    async fn job(&self, id: &JobId) -> Result<Option<Job>, StoreError>;

    /// A page of jobs, newest first (without their failures).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database cannot be reached,
    /// [`StoreError::Unexpected`] for any other database failure.
    async fn jobs(&self, query: &JobQuery) -> Result<Vec<Job>, StoreError>;

    /// Cancels a queued or running job (a finished one is left as it is); the job afterwards,
    /// `None` when unknown.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database cannot be reached (nothing was written),
    /// [`StoreError::Unexpected`] for any other database failure.
    async fn cancel(&self, id: &JobId, now: SystemTime) -> Result<Option<Job>, StoreError>;

    /// Claims up to `max` photos for `worker` until `now + lease`.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database cannot be reached (nothing was claimed),
    /// [`StoreError::Unexpected`] for any other database failure.
    async fn claim(
        &self,
        worker: &str,
        max: usize,
        now: SystemTime,
        lease: Duration,
    ) -> Result<Vec<ClaimedPhoto>, StoreError>;

    /// Records a claimed photo's outcome; `Some(job)` when it was the job's last photo (the
    /// job is then `done`), with whether the claim was still current.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database cannot be reached (nothing was written),
    /// [`StoreError::Unexpected`] for any other database failure.
    async fn finish(
        &self,
        claim: &ClaimedPhoto,
        outcome: PhotoOutcome,
        now: SystemTime,
    ) -> Result<Finished, StoreError>;

    /// Gives a claimed photo back to be claimed again from `at` (a transient failure, or a
    /// worker stopping before it started); `false` when the claim was no longer current.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database cannot be reached (nothing was written),
    /// [`StoreError::Unexpected`] for any other database failure.
    async fn retry(&self, claim: &ClaimedPhoto, at: SystemTime) -> Result<bool, StoreError>;

    /// Claims up to `max` webhooks due by `now` for `worker` until `now + lease`.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database cannot be reached (nothing was claimed),
    /// [`StoreError::Unexpected`] for any other database failure.
    async fn claim_deliveries(
        &self,
        worker: &str,
        max: usize,
        now: SystemTime,
        lease: Duration,
    ) -> Result<Vec<Delivery>, StoreError>;

    /// Records an attempt's outcome (`Gone` also disables the target for good); `false` when
    /// the claim was no longer current.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database cannot be reached (nothing was written),
    /// [`StoreError::Unexpected`] for any other database failure.
    async fn delivered(
        &self,
        delivery: &Delivery,
        target: &str,
        outcome: DeliveryOutcome,
        now: SystemTime,
    ) -> Result<bool, StoreError>;

    /// Whether a target answered 410 Gone once.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database cannot be reached,
    /// [`StoreError::Unexpected`] for any other database failure.
    async fn is_disabled(&self, target: &str) -> Result<bool, StoreError>;
}

/// What recording an outcome did.
#[derive(Debug, Clone, PartialEq)]
pub struct Finished {
    /// The claim was current and the outcome counted.
    pub recorded: bool,
    /// The job, when this outcome was its last one (it is `done` now).
    pub completed: Option<Job>,
}
