//! Indexing jobs: a whole event's photos submitted once, kept by the database and indexed by
//! whichever replica claims them, each photo with its own outcome.

use std::time::{Duration, SystemTime};

use crate::ids::{PhotoId, PhotoKey, SessionId};

crate::ids::time_ordered_id!(
    /// A job's id: time-ordered (UUIDv7), so the newest job has the largest id.
    JobId,
    JobIdError,
    "a job id"
);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobState {
    /// Accepted; no photo claimed yet.
    Queued,
    /// Photos are being claimed; some have no outcome yet.
    Running,
    /// Every photo has an outcome.
    Done,
    /// Cancelled: the photos not yet started were dropped.
    Cancelled,
}

impl JobState {
    pub const ALL: [JobState; 4] = [Self::Queued, Self::Running, Self::Done, Self::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == raw)
    }
}

/// A job as a client submits it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    pub session: SessionId,
    /// Distinct photos, in the order given.
    pub photos: Vec<(PhotoId, PhotoKey)>,
    /// Index photos already indexed again.
    pub force: bool,
    /// The session's expiry the job sets (`None`: as for any indexing).
    pub expires_at: Option<SystemTime>,
    /// Where the completion is announced (`None`: the configured default).
    pub callback_url: Option<String>,
    /// The client's `Idempotency-Key`, with a digest of the request it came with.
    pub idempotency: Option<Idempotency>,
    /// The API key's id of the submitter.
    pub key_id: Option<String>,
    /// Claims of one photo before it counts as failed: transient failures and claims that
    /// lapsed (a worker that died holding the photo) both use them up.
    pub max_attempts: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idempotency {
    pub key: String,
    pub digest: String,
}

/// What submitting a job did.
#[derive(Debug, Clone, PartialEq)]
pub enum Submitted {
    /// A new job.
    Created(Job),
    /// The job an earlier request with the same idempotency key and body created.
    Existing(Job),
    /// The idempotency key was used for another request: nothing was created.
    Conflict(JobId),
}

/// One photo's failure as its job reports it (the codes of a batch's `errors`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoFailure {
    pub photo: PhotoId,
    pub code: String,
    pub message: String,
}

/// A job with its counts: `total = indexed + skipped + failed + pending + dropped`.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: JobId,
    pub session: SessionId,
    pub state: JobState,
    pub total: u64,
    pub indexed: u64,
    /// Photos already indexed (without `force`): nothing was fetched.
    pub skipped: u64,
    pub failed: u64,
    /// Photos without an outcome yet: waiting, in flight or waiting for a retry.
    pub pending: u64,
    /// Photos a cancel dropped before they started.
    pub dropped: u64,
    /// The first failures, in the order the photos were given.
    pub errors: Vec<PhotoFailure>,
    pub force: bool,
    pub expires_at: Option<SystemTime>,
    pub callback_url: Option<String>,
    pub created_at: SystemTime,
    pub started_at: Option<SystemTime>,
    pub finished_at: Option<SystemTime>,
}

/// How many failures a job reports (the first ones).
pub const JOB_ERRORS_SHOWN: usize = 100;

/// A page of jobs, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobQuery {
    pub session: Option<SessionId>,
    pub state: Option<JobState>,
    /// Jobs older than this one (the previous page's last).
    pub before: Option<JobId>,
    pub limit: usize,
}

/// A photo a worker claimed: its job's lease on it runs until `lease_until`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedPhoto {
    pub job: JobId,
    /// The photo's position in its job.
    pub seq: u32,
    pub session: SessionId,
    pub photo: PhotoId,
    pub key: PhotoKey,
    pub force: bool,
    /// 1 for the first claim of this photo.
    pub attempt: u32,
    /// The worker holding the claim.
    pub worker: String,
}

/// What became of a claimed photo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhotoOutcome {
    Indexed,
    Skipped,
    Failed { code: String, message: String },
}

/// The event a finished job announces.
pub const JOB_COMPLETED: &str = "index.job.completed";

/// A webhook to deliver (written in the transaction that finished its job), claimed by one
/// deliverer at a time.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// `webhook-id`: the same on every attempt, so receivers deduplicate.
    pub event_id: String,
    pub event_type: String,
    /// What the event is about: a job's id (`index.job.completed`) or a watch's.
    pub subject: String,
    /// The event's `data` as written when it happened (`watch.matched`); `None`: read the
    /// subject when delivering (a job as it is then).
    pub payload: Option<String>,
    /// The job's `callback_url`; `None`: the configured default target.
    pub target: Option<String>,
    /// 1 for the first attempt.
    pub attempt: u32,
    pub worker: String,
}

/// What an attempt to deliver a webhook came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// The target answered 2xx.
    Delivered,
    /// Another attempt at this time.
    RetryAt(SystemTime, String),
    /// No further attempt (the schedule is spent, or nothing can be sent).
    Failed(String),
    /// The target answered 410 Gone: it is never called again.
    Gone(String),
}

/// The Standard Webhooks retry schedule: the delay before each retry after a failed attempt.
pub const WEBHOOK_RETRIES: [Duration; 7] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
];

/// When a webhook whose attempt `attempt` failed is tried again; `None` after the last.
pub fn webhook_retry_at(attempt: u32, now: SystemTime) -> Option<SystemTime> {
    let index = usize::try_from(attempt).ok()?.checked_sub(1)?;
    WEBHOOK_RETRIES.get(index).map(|delay| now + *delay)
}

/// How long a claim holds a photo, and how retries are spaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leases {
    /// A photo claimed by a worker that stopped answering is claimed again after this.
    pub lease: Duration,
    /// A transient failure is retried after `backoff * 2^(attempt - 1)`, up to `max_backoff`.
    pub backoff: Duration,
    pub max_backoff: Duration,
    /// Attempts before a transiently failing photo counts as failed.
    pub max_attempts: u32,
}

impl Leases {
    /// When a photo that failed at `attempt` is tried again, or `None` when it has had its
    /// attempts.
    pub fn retry_at(&self, attempt: u32, now: SystemTime) -> Option<SystemTime> {
        if attempt >= self.max_attempts {
            return None;
        }
        let doubling = 2u32.saturating_pow(attempt.saturating_sub(1));
        Some(now + self.backoff.saturating_mul(doubling).min(self.max_backoff))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_the_cap_then_stop() {
        let leases = Leases {
            lease: Duration::from_secs(60),
            backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(10),
            max_attempts: 5,
        };
        let now = SystemTime::UNIX_EPOCH;
        let delays: Vec<Option<u64>> = (1..=5)
            .map(|a| {
                leases
                    .retry_at(a, now)
                    .map(|t| t.duration_since(now).unwrap().as_secs())
            })
            .collect();
        assert_eq!(delays, [Some(2), Some(4), Some(8), Some(10), None]);
    }

    #[test]
    fn webhooks_follow_the_standard_schedule_then_stop() {
        let now = SystemTime::UNIX_EPOCH;
        let delays: Vec<Option<u64>> = (1..=8)
            .map(|a| webhook_retry_at(a, now).map(|t| t.duration_since(now).unwrap().as_secs()))
            .collect();
        assert_eq!(
            delays,
            [
                Some(5),
                Some(300),
                Some(1800),
                Some(7200),
                Some(18000),
                Some(36000),
                Some(36000),
                None
            ]
        );
    }

    #[test]
    fn job_ids_and_states_round_trip() {
        let id = JobId::new();
        assert_eq!(JobId::parse(&id.to_string()).unwrap(), id);
        assert!(JobId::parse("nope").is_err());
        for state in JobState::ALL {
            assert_eq!(JobState::parse(state.as_str()), Some(state));
        }
        assert_eq!(JobState::parse("Done"), None);
    }
}
