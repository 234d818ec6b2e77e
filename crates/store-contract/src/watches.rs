//! The `WatchStore` contract: a photo written with its watches matched as search scores it,
//! with its write; each match kept once and going with its face; every end of a watch audited
//! (by delete, expiry, the session's deletion or purge); each watch announced at most once per
//! interval, by one replica.

use std::time::{Duration, SystemTime};

use facepass_domain::jobs::JOB_COMPLETED;
use facepass_domain::people::Evidence;
use facepass_domain::ports::{JobQueue, VectorStore, WatchStore};
use facepass_domain::use_cases::MatchRules;
use facepass_domain::watches::{MatchQuery, NewWatch, Watch, WatchEnd, WatchId, WatchMatch};
use facepass_domain::{
    AuditAction, AuditEvent, Embedding, GuestRef, PhotoId, SimilarityCalibration, Threshold,
};

use crate::{admin, all_events, at_cosine, axis, cosine, face, pid, sid};

const HOUR: Duration = Duration::from_secs(3600);

fn new_watch(session: &str, queries: Vec<Embedding>, expires_in: Duration) -> NewWatch {
    // Whole milliseconds: what the store keeps.
    let since_epoch = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap();
    let now = SystemTime::UNIX_EPOCH + Duration::from_millis(since_epoch.as_millis() as u64);
    NewWatch {
        watch: Watch {
            id: WatchId::new(),
            session: sid(session),
            guest_ref: GuestRef::parse("guest-7").unwrap(),
            threshold: Threshold::DEFAULT,
            created_at: now,
            expires_at: now + expires_in,
        },
        margin: 0.0,
        queries,
        key_id: Some("k-contract".into()),
        initial: Vec::new(),
    }
}

/// The people rules of the contract stores and the fixtures' calibration.
fn rules() -> MatchRules {
    MatchRules::new(
        SimilarityCalibration::through(0.42, 0.7, 12.0).unwrap(),
        crate::options().people,
    )
}

/// A match of `photo` for a watch (as a store would decide it).
fn a_match(
    photo: &PhotoId,
    face: facepass_domain::ports::StoredFace,
    at: SystemTime,
) -> WatchMatch {
    WatchMatch {
        seq: 0,
        photo_id: photo.clone(),
        face,
        person: None,
        evidence: Evidence::Face,
        similarity: 0.8125,
        cosine: 0.5,
        matched_at: at,
    }
}

async fn watch_ends(store: &impl VectorStore) -> Vec<AuditEvent> {
    store
        .audit(&all_events())
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == AuditAction::WatchEnd)
        .collect()
}

fn page(limit: usize, after: Option<i64>) -> MatchQuery {
    MatchQuery {
        since: None,
        after,
        limit,
    }
}

pub async fn a_photo_is_matched_as_search_scores_it_and_each_match_is_kept_once(
    store: &(impl VectorStore + WatchStore),
) {
    let s = sid("event");
    let now = SystemTime::now();
    let watch = new_watch("event", vec![axis(0), at_cosine(0.6, 3)], HOUR);
    let id = watch.watch.id;
    store.create_watch(watch.clone()).await.unwrap();
    assert_eq!(
        store.watch(&s, &id).await.unwrap(),
        Some(watch.watch.clone())
    );
    assert!(store.watch(&sid("other"), &id).await.unwrap().is_none());
    assert_eq!(store.live_watch_count(&s, now).await.unwrap(), 1);
    let live = store.live_watches(&s, now).await.unwrap();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].queries.len(), 2);
    assert!((live[0].queries[1][0] - 0.6).abs() < 1e-6);

    store
        .replace_photo(&s, &pid("p0"), vec![face(axis(4), 0.0)])
        .await
        .unwrap();
    let stored = store
        .replace_photo_watched(
            &s,
            &pid("p1"),
            vec![face(at_cosine(0.9, 1), 0.0), face(axis(2), 50.0)],
            &rules(),
        )
        .await
        .unwrap();
    // The photo's face that matches, at the cosine a scan of the session reports for it.
    let scan = store
        .scores(&s, &[axis(0), at_cosine(0.6, 3)], cosine(-1.0))
        .await
        .unwrap();
    let scanned = scan
        .candidates
        .iter()
        .find(|f| f.face.face_id == stored[0].face_id)
        .unwrap();
    let matched = store.watch_matches(&id, &page(10, None)).await.unwrap();
    assert_eq!(matched.len(), 1, "{matched:?}");
    assert_eq!(matched[0].face.face_id, stored[0].face_id);
    assert!((matched[0].cosine - scanned.best_cosine()).abs() < 1e-5);
    assert_eq!(
        store
            .delete_photo(&s, &pid("p1"), &admin())
            .await
            .unwrap()
            .faces,
        2
    );

    // A watch created since the session's last write is matched by the next one.
    let second = new_watch("event", vec![axis(5)], HOUR);
    store.create_watch(second.clone()).await.unwrap();
    store
        .replace_photo_watched(&s, &pid("p9"), vec![face(axis(5), 0.0)], &rules())
        .await
        .unwrap();
    let late = store
        .watch_matches(&second.watch.id, &page(10, None))
        .await
        .unwrap();
    assert_eq!(late.len(), 1);
    assert_eq!(late[0].photo_id, pid("p9"));
    store
        .end_watch(&s, &second.watch.id, WatchEnd::Deleted, &admin())
        .await
        .unwrap();
    store.delete_photo(&s, &pid("p9"), &admin()).await.unwrap();
    let stored = store
        .replace_photo(
            &s,
            &pid("p1"),
            vec![face(at_cosine(0.9, 1), 0.0), face(axis(2), 50.0)],
        )
        .await
        .unwrap();

    let first = a_match(&pid("p1"), stored[0].clone(), now);
    store
        .record_matches(&[(id, first.clone())], false)
        .await
        .unwrap();
    // Again, and another face of the same photo: still one match per photo.
    let other = a_match(&pid("p1"), stored[1].clone(), now);
    store
        .record_matches(&[(id, first.clone()), (id, other)], false)
        .await
        .unwrap();
    let matches = store.watch_matches(&id, &page(10, None)).await.unwrap();
    assert_eq!(matches.len(), 1);
    let got = &matches[0];
    assert!(got.seq > 0);
    assert_eq!(
        (
            &got.photo_id,
            got.face.face_id,
            got.evidence,
            got.similarity
        ),
        (&first.photo_id, first.face.face_id, Evidence::Face, 0.8125)
    );
    assert_eq!(got.face.bbox, first.face.bbox);

    // A match of a face no longer stored is left out; re-indexing takes the match with it.
    let gone = store
        .replace_photo(&s, &pid("p1"), vec![face(axis(0), 0.0)])
        .await
        .unwrap();
    store.record_matches(&[(id, first)], false).await.unwrap();
    assert!(
        store
            .watch_matches(&id, &page(10, None))
            .await
            .unwrap()
            .is_empty()
    );
    let second = store
        .replace_photo(&s, &pid("p2"), vec![face(axis(0), 0.0)])
        .await
        .unwrap();
    store
        .record_matches(
            &[
                (id, a_match(&pid("p1"), gone[0].clone(), now)),
                (id, a_match(&pid("p2"), second[0].clone(), now + HOUR)),
            ],
            false,
        )
        .await
        .unwrap();
    let one = store.watch_matches(&id, &page(1, None)).await.unwrap();
    assert_eq!(one[0].photo_id, pid("p1"));
    let next = store
        .watch_matches(&id, &page(10, Some(one[0].seq)))
        .await
        .unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].photo_id, pid("p2"));
    let since = MatchQuery {
        since: Some(now + HOUR),
        ..page(10, None)
    };
    let late = store.watch_matches(&id, &since).await.unwrap();
    assert_eq!(late.len(), 1);
    assert_eq!(late[0].photo_id, pid("p2"));
}

pub async fn every_end_of_a_watch_is_audited_and_takes_its_data(
    store: &(impl VectorStore + WatchStore),
) {
    let s = sid("event");
    let now = SystemTime::now();
    let stored = store
        .replace_photo(&s, &pid("p1"), vec![face(axis(0), 0.0)])
        .await
        .unwrap();
    let mut deleted = new_watch("event", vec![axis(0)], HOUR);
    deleted.initial = vec![a_match(&pid("p1"), stored[0].clone(), now)];
    let deleted_id = deleted.watch.id;
    store.create_watch(deleted).await.unwrap();
    assert_eq!(
        store
            .watch_matches(&deleted_id, &page(10, None))
            .await
            .unwrap()
            .len(),
        1,
        "the initial matches are kept"
    );
    let other = new_watch("other", vec![axis(0)], HOUR);
    store.create_watch(other.clone()).await.unwrap();

    assert!(
        !store
            .end_watch(&sid("other"), &deleted_id, WatchEnd::Deleted, &admin())
            .await
            .unwrap(),
        "a watch of another session"
    );
    assert!(
        store
            .end_watch(&s, &deleted_id, WatchEnd::Deleted, &admin())
            .await
            .unwrap()
    );
    assert!(
        !store
            .end_watch(&s, &deleted_id, WatchEnd::Deleted, &admin())
            .await
            .unwrap(),
        "idempotent"
    );
    assert!(store.watch(&s, &deleted_id).await.unwrap().is_none());
    assert!(
        store
            .watch_matches(&deleted_id, &page(10, None))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.live_watch_count(&s, now).await.unwrap(), 0);

    // Expiry: not live once past, ended (and audited) by the sweep.
    let expiring = new_watch("event", vec![axis(1)], Duration::from_secs(2));
    let expiring_id = expiring.watch.id;
    store.create_watch(expiring).await.unwrap();
    let later = now + Duration::from_secs(3);
    assert_eq!(store.live_watch_count(&s, later).await.unwrap(), 0);
    let expired = store.end_expired_watches(later, 10).await.unwrap();
    assert_eq!(expired.len(), 1);
    assert_eq!(
        (expired[0].watch, expired[0].reason),
        (expiring_id, WatchEnd::Expired)
    );
    assert!(
        store
            .end_expired_watches(later, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // The session's deletion ends its watches; a purge ends those of the purged session.
    let with_session = new_watch("event", vec![axis(2)], HOUR);
    store.create_watch(with_session.clone()).await.unwrap();
    store.delete_session(&s, &admin()).await.unwrap();
    assert_eq!(store.live_watch_count(&s, now).await.unwrap(), 0);
    store
        .set_expiry(
            &sid("other"),
            facepass_domain::ExpiryUpdate::Set(Some(now - HOUR)),
        )
        .await
        .unwrap();
    store.purge_expired(now, 10).await.unwrap();
    assert_eq!(store.live_watch_count(&sid("other"), now).await.unwrap(), 0);

    let ends: Vec<(WatchId, WatchEnd, Option<String>)> = watch_ends(store)
        .await
        .into_iter()
        .rev()
        .map(|e| (e.watch.unwrap(), e.reason.unwrap(), e.key_id))
        .collect();
    let key = Some("k-contract".to_owned());
    assert_eq!(
        ends,
        [
            (deleted_id, WatchEnd::Deleted, key.clone()),
            (expiring_id, WatchEnd::Expired, None),
            (with_session.watch.id, WatchEnd::SessionDeleted, key),
            (other.watch.id, WatchEnd::SessionExpired, None),
        ]
    );
}

pub async fn a_watch_is_announced_once_per_interval_by_one_replica(
    store: &(impl VectorStore + WatchStore + JobQueue),
) {
    let s = sid("event");
    let now = SystemTime::now();
    let interval = Duration::from_secs(60);
    let watch = new_watch("event", vec![axis(0)], 24 * HOUR);
    let id = watch.watch.id;
    store.create_watch(watch).await.unwrap();
    let faces = |photo: &'static str| {
        let store = &store;
        let s = s.clone();
        async move {
            store
                .replace_photo(&s, &pid(photo), vec![face(axis(0), 0.0)])
                .await
                .unwrap()
        }
    };
    let (f1, f2, f3) = (faces("p1").await, faces("p2").await, faces("p3").await);
    store
        .record_matches(
            &[
                (id, a_match(&pid("p1"), f1[0].clone(), now)),
                (
                    id,
                    a_match(&pid("p2"), f2[0].clone(), now + Duration::from_secs(5)),
                ),
            ],
            false,
        )
        .await
        .unwrap();
    let render = |n: &facepass_domain::watches::WatchNotice| {
        let photos: Vec<&str> = n.matches.iter().map(|m| m.photo_id.as_str()).collect();
        format!("{}:{}", n.watch.guest_ref, photos.join(","))
    };

    // Not before the oldest new match is an interval old; then once, with both.
    let early = now + interval - Duration::from_secs(1);
    assert_eq!(
        store
            .notify_due(early, interval, 10, &render)
            .await
            .unwrap(),
        0
    );
    let due = now + interval;
    let (a, b) = tokio::join!(
        store.notify_due(due, interval, 10, &render),
        store.notify_due(due, interval, 10, &render)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1, "one replica announces it");
    assert_eq!(
        store.notify_due(due, interval, 10, &render).await.unwrap(),
        0
    );
    let delivered = store
        .claim_deliveries("d", 10, due, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(delivered.len(), 1);
    let d = &delivered[0];
    assert_eq!(
        (
            d.event_type.as_str(),
            d.subject.as_str(),
            d.payload.as_deref()
        ),
        (
            "watch.matched",
            id.to_string().as_str(),
            Some("guest-7:p1,p2")
        )
    );
    assert_ne!(d.event_type, JOB_COMPLETED);

    // A new match: not before an interval after the last webhook.
    let after = due + Duration::from_secs(1);
    store
        .record_matches(
            &[(id, a_match(&pid("p3"), f3[0].clone(), after - interval))],
            false,
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .notify_due(after, interval, 10, &render)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .notify_due(due + interval, interval, 10, &render)
            .await
            .unwrap(),
        1
    );
    let all = store.watch_matches(&id, &page(10, None)).await.unwrap();
    assert_eq!(all.len(), 3);
}

pub async fn a_photo_written_with_its_watches_commits_with_their_matches(
    store: &(impl VectorStore + WatchStore),
) {
    let s = sid("event");
    let rules = rules();
    let watch = new_watch("event", vec![axis(0)], HOUR);
    let id = watch.watch.id;
    store.create_watch(watch).await.unwrap();

    let p1 = store
        .replace_photo_watched(
            &s,
            &pid("p1"),
            vec![face(at_cosine(0.8, 1), 0.0), face(axis(3), 50.0)],
            &rules,
        )
        .await
        .unwrap();
    store
        .replace_photo_watched(&s, &pid("p2"), vec![face(axis(2), 0.0)], &rules)
        .await
        .unwrap();
    // A plain write matches nothing.
    store
        .replace_photo(&s, &pid("p3"), vec![face(axis(0), 0.0)])
        .await
        .unwrap();

    let matches = store.watch_matches(&id, &page(10, None)).await.unwrap();
    assert_eq!(matches.len(), 1, "{matches:?}");
    let m = &matches[0];
    assert_eq!(
        (&m.photo_id, m.face.face_id, m.evidence),
        (&pid("p1"), p1[0].face_id, Evidence::Face)
    );
    assert!((m.cosine - 0.8).abs() < 1e-5 && m.similarity > 0.7, "{m:?}");
    // Written again: the same photo is not matched twice, its new face is.
    let again = store
        .replace_photo_watched(&s, &pid("p1"), vec![face(axis(0), 0.0)], &rules)
        .await
        .unwrap();
    let matches = store.watch_matches(&id, &page(10, None)).await.unwrap();
    assert_eq!(matches.len(), 1);
    assert_eq!(matches[0].face.face_id, again[0].face_id);
}
