//! The `JobQueue` contract: jobs stored whole, idempotency keys, claims that hold a photo
//! once and alternate between jobs, leases that lapse, retries that wait, outcomes counted
//! once, cancel.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use facepass_domain::jobs::{
    ClaimedPhoto, DeliveryOutcome, Idempotency, JOB_COMPLETED, JobId, JobQuery, JobState, NewJob,
    PhotoOutcome, Submitted,
};
use facepass_domain::ports::JobQueue;
use facepass_domain::{PhotoId, PhotoKey, SessionId};

const LEASE: Duration = Duration::from_secs(60);

fn t(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + secs)
}

fn new_job(session: &str, photos: usize) -> NewJob {
    NewJob {
        session: SessionId::parse(session).unwrap(),
        photos: (0..photos)
            .map(|i| {
                (
                    PhotoId::parse(format!("p{i}")).unwrap(),
                    PhotoKey::parse(format!("{session}/p{i}.jpg")).unwrap(),
                )
            })
            .collect(),
        force: false,
        expires_at: None,
        callback_url: Some("https://platform.example/hooks".into()),
        idempotency: None,
        key_id: Some("k-contract".into()),
        max_attempts: 3,
    }
}

async fn submit(store: &impl JobQueue, job: NewJob, now: SystemTime) -> JobId {
    match store.submit(job, now).await.unwrap() {
        Submitted::Created(job) => job.id,
        other => panic!("a new job expected, got {other:?}"),
    }
}

fn failed(code: &str) -> PhotoOutcome {
    PhotoOutcome::Failed {
        code: code.into(),
        message: format!("{code} happened"),
    }
}

pub async fn a_job_is_stored_whole_and_listed_newest_first(store: &impl JobQueue) {
    let first = submit(store, new_job("event", 3), t(0)).await;
    let second = submit(store, new_job("event", 1200), t(1)).await;
    submit(store, new_job("other", 1), t(2)).await;

    let job = store.job(&second).await.unwrap().expect("stored");
    assert_eq!(
        (job.state, job.total, job.pending, job.indexed, job.failed),
        (JobState::Queued, 1200, 1200, 0, 0)
    );
    assert_eq!(job.session.as_str(), "event");
    assert_eq!(job.created_at, t(1));
    assert_eq!(
        job.callback_url.as_deref(),
        Some("https://platform.example/hooks")
    );
    assert!(job.started_at.is_none() && job.finished_at.is_none());
    assert!(store.job(&JobId::new()).await.unwrap().is_none());

    let query = |before| JobQuery {
        session: Some(SessionId::parse("event").unwrap()),
        state: None,
        before,
        limit: 1,
    };
    let page = store.jobs(&query(None)).await.unwrap();
    assert_eq!(page.iter().map(|j| j.id).collect::<Vec<_>>(), [second]);
    let page = store.jobs(&query(Some(second))).await.unwrap();
    assert_eq!(page.iter().map(|j| j.id).collect::<Vec<_>>(), [first]);
    assert!(store.jobs(&query(Some(first))).await.unwrap().is_empty());
    let done = JobQuery {
        state: Some(JobState::Done),
        limit: 10,
        ..query(None)
    };
    assert!(store.jobs(&done).await.unwrap().is_empty());
}

pub async fn an_idempotency_key_names_one_job(store: &impl JobQueue) {
    let keyed = |digest: &str| NewJob {
        idempotency: Some(Idempotency {
            key: "upload-42".into(),
            digest: digest.into(),
        }),
        ..new_job("event", 2)
    };
    let id = submit(store, keyed("d1"), t(0)).await;
    match store.submit(keyed("d1"), t(5)).await.unwrap() {
        Submitted::Existing(job) => assert_eq!((job.id, job.total), (id, 2)),
        other => panic!("the same request answers its job, got {other:?}"),
    }
    assert_eq!(
        store.submit(keyed("d2"), t(6)).await.unwrap(),
        Submitted::Conflict(id)
    );
    let all = JobQuery {
        session: None,
        state: None,
        before: None,
        limit: 10,
    };
    assert_eq!(
        store.jobs(&all).await.unwrap().len(),
        1,
        "nothing else created"
    );
}

pub async fn claims_hold_each_photo_once_and_alternate_between_jobs(store: &impl JobQueue) {
    let big = submit(store, new_job("big", 5), t(0)).await;
    let small = submit(store, new_job("small", 2), t(1)).await;
    let mut order = Vec::new();
    for i in 0..4 {
        let claimed = store.claim("w", 1, t(10 + i), LEASE).await.unwrap();
        assert_eq!(claimed.len(), 1);
        order.push((claimed[0].job, claimed[0].seq));
    }
    assert_eq!(
        order,
        [(big, 0), (small, 0), (big, 1), (small, 1)],
        "jobs served in turn, photos in order"
    );
    let rest = store.claim("w", 10, t(20), LEASE).await.unwrap();
    let seqs: Vec<(JobId, u32)> = rest.iter().map(|c| (c.job, c.seq)).collect();
    assert_eq!(seqs, [(big, 2), (big, 3), (big, 4)]);
    assert!(store.claim("w", 10, t(21), LEASE).await.unwrap().is_empty());
    let job = store.job(&big).await.unwrap().unwrap();
    assert_eq!(
        (job.state, job.pending, job.started_at),
        (JobState::Running, 5, Some(t(10)))
    );
    assert_eq!(
        (
            rest[0].session.as_str(),
            rest[0].key.as_str(),
            rest[0].attempt
        ),
        ("big", "big/p2.jpg", 1)
    );
}

pub async fn outcomes_are_counted_once_and_the_last_one_finishes_the_job(store: &impl JobQueue) {
    let id = submit(store, new_job("event", 3), t(0)).await;
    let claimed = store.claim("w", 3, t(1), LEASE).await.unwrap();
    let outcomes = [
        PhotoOutcome::Indexed,
        PhotoOutcome::Skipped,
        failed("no_face_detected"),
    ];
    for (i, (claim, outcome)) in claimed.iter().zip(outcomes.clone()).enumerate() {
        let finished = store.finish(claim, outcome, t(2)).await.unwrap();
        assert!(finished.recorded);
        assert_eq!(
            finished.completed.is_some(),
            i == 2,
            "done at its last photo"
        );
    }
    let job = store.job(&id).await.unwrap().unwrap();
    assert_eq!(
        (job.state, job.indexed, job.skipped, job.failed, job.pending),
        (JobState::Done, 1, 1, 1, 0)
    );
    assert_eq!(job.finished_at, Some(t(2)));
    assert_eq!(job.errors.len(), 1);
    assert_eq!(
        (job.errors[0].photo.as_str(), job.errors[0].code.as_str()),
        ("p2", "no_face_detected")
    );
    let again = store
        .finish(&claimed[0], PhotoOutcome::Indexed, t(3))
        .await
        .unwrap();
    assert!(!again.recorded && again.completed.is_none());
    assert_eq!(store.job(&id).await.unwrap().unwrap().indexed, 1);
}

pub async fn a_lapsed_lease_is_claimed_again_and_the_old_claim_is_void(store: &impl JobQueue) {
    let id = submit(store, new_job("event", 1), t(0)).await;
    let first = store.claim("dead", 1, t(1), LEASE).await.unwrap();
    assert!(
        store
            .claim("live", 1, t(30), LEASE)
            .await
            .unwrap()
            .is_empty()
    );
    let second = store.claim("live", 1, t(61), LEASE).await.unwrap();
    assert_eq!(
        second
            .iter()
            .map(|c| (c.seq, c.attempt))
            .collect::<Vec<_>>(),
        [(0, 2)]
    );
    let late = store
        .finish(&first[0], PhotoOutcome::Indexed, t(62))
        .await
        .unwrap();
    assert!(!late.recorded, "the lapsed claim records nothing");
    assert!(!store.retry(&first[0], t(62)).await.unwrap());
    let live = store
        .finish(&second[0], PhotoOutcome::Indexed, t(63))
        .await
        .unwrap();
    assert!(live.recorded);
    let job = live.completed.expect("done");
    assert_eq!((job.id, job.indexed, job.total), (id, 1, 1));
}

pub async fn a_photo_whose_claims_keep_lapsing_fails_after_its_attempts(store: &impl JobQueue) {
    let id = submit(store, new_job("event", 1), t(0)).await;
    for attempt in 1..=3 {
        let claimed = store
            .claim("dying", 1, t(100 * attempt), LEASE)
            .await
            .unwrap();
        assert_eq!(
            claimed.iter().map(|c| c.attempt).collect::<Vec<_>>(),
            [attempt as u32]
        );
    }
    // The third lease lapses too: the photo is failed, not claimed a fourth time.
    assert!(
        store
            .claim("next", 1, t(400), LEASE)
            .await
            .unwrap()
            .is_empty()
    );
    let job = store.job(&id).await.unwrap().unwrap();
    assert_eq!(
        (job.state, job.failed, job.pending),
        (JobState::Done, 1, 0),
        "{job:?}"
    );
    assert_eq!(job.errors[0].code, "internal_error");
    assert_eq!(
        store
            .claim_deliveries("d", 10, t(400), LEASE)
            .await
            .unwrap()
            .len(),
        1
    );
}

pub async fn a_retried_photo_waits_for_its_time(store: &impl JobQueue) {
    submit(store, new_job("event", 1), t(0)).await;
    let claimed = store.claim("w", 1, t(1), LEASE).await.unwrap();
    assert!(store.retry(&claimed[0], t(31)).await.unwrap());
    assert!(store.claim("w", 1, t(30), LEASE).await.unwrap().is_empty());
    let again = store.claim("w", 1, t(31), LEASE).await.unwrap();
    assert_eq!(
        again.iter().map(|c| c.attempt).collect::<Vec<_>>(),
        [2],
        "the retry is the photo's second attempt"
    );
}

pub async fn cancel_drops_waiting_photos_and_lets_claimed_ones_finish(store: &impl JobQueue) {
    let id = submit(store, new_job("event", 4), t(0)).await;
    let claimed = store.claim("w", 2, t(1), LEASE).await.unwrap();
    let job = store.cancel(&id, t(2)).await.unwrap().expect("known");
    assert_eq!(
        (job.state, job.dropped, job.pending, job.finished_at),
        (JobState::Cancelled, 2, 2, Some(t(2)))
    );
    assert!(store.claim("w", 10, t(3), LEASE).await.unwrap().is_empty());
    let finished = store
        .finish(&claimed[0], PhotoOutcome::Indexed, t(4))
        .await
        .unwrap();
    assert!(finished.recorded && finished.completed.is_none());
    // A photo given back after the cancel is dropped, not claimed again.
    assert!(store.retry(&claimed[1], t(5)).await.unwrap());
    let job = store.job(&id).await.unwrap().unwrap();
    assert_eq!(
        (job.state, job.indexed, job.dropped, job.pending),
        (JobState::Cancelled, 1, 3, 0)
    );
    let again = store.cancel(&id, t(9)).await.unwrap().unwrap();
    assert_eq!(
        again.finished_at,
        Some(t(2)),
        "a cancel changes a finished job nothing"
    );
    assert!(store.cancel(&JobId::new(), t(9)).await.unwrap().is_none());
}

pub async fn a_finished_job_leaves_one_webhook_delivered_until_an_outcome(store: &impl JobQueue) {
    let id = submit(store, new_job("event", 1), t(0)).await;
    let cancelled = submit(store, new_job("other", 1), t(0)).await;
    store.cancel(&cancelled, t(1)).await.unwrap();
    assert!(
        store
            .claim_deliveries("d", 10, t(1), LEASE)
            .await
            .unwrap()
            .is_empty()
    );
    let claimed = store.claim("w", 1, t(1), LEASE).await.unwrap();
    store
        .finish(&claimed[0], PhotoOutcome::Indexed, t(2))
        .await
        .unwrap();

    let first = store.claim_deliveries("d", 10, t(2), LEASE).await.unwrap();
    assert_eq!(first.len(), 1, "one webhook, for the done job only");
    let target = "https://platform.example/hooks";
    assert_eq!(
        (
            first[0].subject.clone(),
            first[0].event_type.as_str(),
            first[0].target.as_deref(),
            first[0].attempt
        ),
        (id.to_string(), JOB_COMPLETED, Some(target), 1)
    );
    assert!(
        store
            .claim_deliveries("e", 10, t(3), LEASE)
            .await
            .unwrap()
            .is_empty(),
        "held"
    );
    let retry = DeliveryOutcome::RetryAt(t(10), "500".into());
    assert!(
        store
            .delivered(&first[0], target, retry, t(3))
            .await
            .unwrap()
    );
    assert!(
        store
            .claim_deliveries("d", 10, t(9), LEASE)
            .await
            .unwrap()
            .is_empty()
    );
    let second = store.claim_deliveries("d", 10, t(10), LEASE).await.unwrap();
    assert_eq!(
        (second[0].event_id.as_str(), second[0].attempt),
        (first[0].event_id.as_str(), 2),
        "the same webhook-id on every attempt"
    );
    assert!(
        !store
            .delivered(&first[0], target, DeliveryOutcome::Delivered, t(11))
            .await
            .unwrap()
    );
    assert!(!store.is_disabled(target).await.unwrap());
    let gone = DeliveryOutcome::Gone("410".into());
    assert!(
        store
            .delivered(&second[0], target, gone, t(11))
            .await
            .unwrap()
    );
    assert!(store.is_disabled(target).await.unwrap());
    assert!(
        store
            .claim_deliveries("d", 10, t(99_999), LEASE)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn concurrent_claimers_never_share_a_photo(store: &impl JobQueue) {
    submit(store, new_job("a", 30), t(0)).await;
    submit(store, new_job("b", 30), t(0)).await;
    let worker = |name: String| async move {
        let mut mine: Vec<ClaimedPhoto> = Vec::new();
        loop {
            let claimed = store.claim(&name, 3, t(1), LEASE).await.unwrap();
            if claimed.is_empty() {
                return mine;
            }
            mine.extend(claimed);
        }
    };
    let all: Vec<ClaimedPhoto> = futures::future::join_all((0..6).map(|i| worker(format!("w{i}"))))
        .await
        .into_iter()
        .flatten()
        .collect();
    let distinct: BTreeSet<(JobId, u32)> = all.iter().map(|c| (c.job, c.seq)).collect();
    assert_eq!((all.len(), distinct.len()), (60, 60));
}
