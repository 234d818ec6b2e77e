//! The `VectorStore`, `JobQueue` and `WatchStore` contracts, as tests every adapter runs against its real
//! backend:
//! `vector_store_contract!(fresh)` expands to one `#[tokio::test]` per case, each on a fresh,
//! empty store made by `fresh(space).await`.

// Test code: a failed unwrap is a failed contract case.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};

use facepass_domain::people::{ImpostorTail, PeoplePolicy};
use facepass_domain::ports::{
    DeletedCounts, PeopleQuery, PersonFacesQuery, StoreError, StoredFace, VectorStore,
};
use facepass_domain::{
    Actor, AuditAction, AuditQuery, BoundingBox, Cosine, DetectedFace, Embedding, EmbeddingSpace,
    ExpiryUpdate, FaceId, FaceQuality, ForgetCounts, ModelId, PersonId, PhotoId, Pixels, Point,
    SessionId,
};

use facepass_vector_store_sql::StoreOptions;

/// A fresh store for one test with what keeps its backend (a database guard that drops the
/// database, a temporary folder).
pub use facepass_test_support::Guarded;

/// The space every contract store is created for.
pub fn space() -> EmbeddingSpace {
    EmbeddingSpace {
        model: ModelId::parse("contract-model").expect("valid"),
        dim: 8,
    }
}

/// The people rules of the fixtures' recognizer (`fr_feature`, as measured on LFW) and room
/// for every session a test makes: what the contract stores are opened with.
pub fn options() -> StoreOptions {
    StoreOptions {
        cache_bytes: 64 << 20,
        people: PeoplePolicy {
            tail: ImpostorTail {
                operating_cosine: 0.42,
                false_match_rate: 9.6e-5,
                cosine_per_decade: 0.066,
            },
            stranger_budget: 0.03,
            join_cosine: 0.40,
            merge_cosine: 0.45,
            floor_cosine: 0.30,
        },
    }
}

/// Expands to one test per contract case for a backend. `$fresh` is an async function
/// `fn(EmbeddingSpace) -> Guarded<impl VectorStore + JobQueue + WatchStore>`.
#[macro_export]
macro_rules! vector_store_contract {
    ($fresh:path) => {
        $crate::vector_store_contract!(@cases $fresh;
            an_indexed_photo_is_reported_with_its_face_count,
            replacing_a_photo_replaces_all_its_faces,
            scores_report_every_face_at_or_above_the_floor_with_its_exact_cosine,
            scores_equal_brute_force_on_random_data,
            an_unknown_session_is_empty_everywhere,
            deletes_report_counts_and_are_idempotent,
            vectors_of_another_model_are_refused_and_nothing_is_written,
            health_reports_a_reachable_store,
            totals_count_every_photo_and_face_across_sessions,
            diff_reports_missing_and_orphaned_ids_sorted_bytewise,
            expired_sessions_are_purged_audited_and_start_clean_when_indexed_again,
            replicas_purging_together_delete_each_session_once,
            a_purge_while_another_session_is_indexed_leaves_that_session_whole,
            forget_deletes_the_guests_faces_and_keeps_everyone_else,
            every_deletion_is_audited_and_the_audit_survives_it,
            faces_of_one_person_are_grouped_listed_and_linked,
            removing_faces_groups_the_rest_again_and_a_lone_face_has_no_person,
            faces_of_one_photo_are_never_one_person,
            re_indexing_a_photo_keeps_its_person,
            scores_never_report_a_face_of_another_session,
            concurrent_re_indexing_of_one_photo_leaves_one_version,
            a_job_is_stored_whole_and_listed_newest_first,
            an_idempotency_key_names_one_job,
            claims_hold_each_photo_once_and_alternate_between_jobs,
            outcomes_are_counted_once_and_the_last_one_finishes_the_job,
            a_lapsed_lease_is_claimed_again_and_the_old_claim_is_void,
            a_retried_photo_waits_for_its_time,
            a_photo_whose_claims_keep_lapsing_fails_after_its_attempts,
            cancel_drops_waiting_photos_and_lets_claimed_ones_finish,
            a_finished_job_leaves_one_webhook_delivered_until_an_outcome,
            concurrent_claimers_never_share_a_photo,
            a_photo_is_matched_as_search_scores_it_and_each_match_is_kept_once,
            every_end_of_a_watch_is_audited_and_takes_its_data,
            a_watch_is_announced_once_per_interval_by_one_replica,
            a_photo_written_with_its_watches_commits_with_their_matches
        );
    };
    (@cases $fresh:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let fresh = $fresh($crate::space()).await;
                $crate::$case(&fresh.value).await;
            }
        )*
    };
}

mod jobs;
mod watches;
pub use jobs::*;
pub use watches::*;

fn sid(s: &str) -> SessionId {
    SessionId::parse(s).expect("valid session id")
}

fn pid(s: &str) -> PhotoId {
    PhotoId::parse(s).expect("valid photo id")
}

/// The API key the contract's deletions are made with.
fn admin() -> Actor {
    Actor::key("k-contract")
}

fn all_events() -> AuditQuery {
    AuditQuery {
        session: None,
        since: None,
        before_id: None,
        limit: 1000,
    }
}

/// A unit vector of the contract space whose cosine with `axis(0)` is `cosine`.
fn at_cosine(cosine: f32, spread_axis: usize) -> Embedding {
    let mut v = vec![0.0; space().dim];
    v[0] = cosine;
    v[spread_axis] = (1.0 - cosine * cosine).max(0.0).sqrt();
    Embedding::normalise(&space(), v).expect("non-zero")
}

fn axis(i: usize) -> Embedding {
    let mut v = vec![0.0; space().dim];
    v[i] = 1.0;
    Embedding::normalise(&space(), v).expect("non-zero")
}

/// A cosine floor of a test (in [-1, 1]).
pub fn cosine(value: f32) -> Cosine {
    Cosine::new(value).unwrap()
}

/// The face height the status counts small faces under: the recognizers' reliable size.
pub fn reliable_face() -> Pixels {
    Pixels::new(48.0).unwrap()
}

/// A face with `embedding` at horizontal position `x` (box, landmarks and score fixed).
pub fn face(embedding: Embedding, x: f32) -> DetectedFace {
    DetectedFace {
        bbox: BoundingBox {
            x,
            y: 2.0,
            width: 30.0,
            height: 40.0,
        },
        landmarks: [Point { x: 1.0, y: 2.0 }; 5],
        det_score: 0.875,
        embedding,
        quality: FaceQuality::default(),
    }
}

fn face_scored(embedding: Embedding, x: f32, det_score: f32) -> DetectedFace {
    DetectedFace {
        det_score,
        ..face(embedding, x)
    }
}

/// One photo's best face for a query.
#[derive(Debug, Clone)]
pub struct Hit {
    pub photo_id: PhotoId,
    pub face: StoredFace,
    pub cosine: f32,
}

/// What a search on faces alone answers, from the store's scores.
#[derive(Debug, Clone)]
pub struct Hits {
    pub matches: Vec<Hit>,
    pub total_matches: u64,
}

/// The best face per photo at or above `min_cosine` for `query`, best first (ties by photo
/// id), cut at `limit`, and how many photos qualified: a search on faces alone, from
/// [`VectorStore::scores`] (which must report every face at or above the floor).
pub async fn search(
    store: &impl VectorStore,
    s: &SessionId,
    query: &Embedding,
    min_cosine: f32,
    limit: usize,
) -> Result<Hits, StoreError> {
    let scores = store
        .scores(s, std::slice::from_ref(query), cosine(min_cosine))
        .await?;
    let mut best: BTreeMap<PhotoId, Hit> = BTreeMap::new();
    for c in scores.candidates {
        assert_eq!(c.cosines.len(), 1);
        let cosine = c.cosines[0];
        assert!(
            cosine >= min_cosine,
            "{cosine} under the floor {min_cosine}"
        );
        let better = best.get(&c.photo_id).is_none_or(|kept| {
            cosine > kept.cosine || (cosine == kept.cosine && c.face.face_id < kept.face.face_id)
        });
        if better {
            best.insert(
                c.photo_id.clone(),
                Hit {
                    photo_id: c.photo_id,
                    face: c.face,
                    cosine,
                },
            );
        }
    }
    let mut matches: Vec<Hit> = best.into_values().collect();
    matches.sort_by(|a, b| {
        b.cosine
            .total_cmp(&a.cosine)
            .then_with(|| a.photo_id.cmp(&b.photo_id))
    });
    let total_matches = matches.len() as u64;
    matches.truncate(limit);
    Ok(Hits {
        matches,
        total_matches,
    })
}

/// Every face with cosine >= `min_cosine` to some of `queries`.
async fn faces_matching(
    store: &impl VectorStore,
    s: &SessionId,
    queries: &[Embedding],
    min_cosine: f32,
) -> Vec<FaceId> {
    let scores = store.scores(s, queries, cosine(min_cosine)).await.unwrap();
    scores.candidates.iter().map(|c| c.face.face_id).collect()
}

/// Every face of the session with its photo and person (from scores at the lowest floor).
async fn grouping(
    store: &impl VectorStore,
    s: &SessionId,
) -> Vec<(PhotoId, FaceId, Option<PersonId>)> {
    let scores = store.scores(s, &[axis(0)], Cosine::MIN).await.unwrap();
    let mut out: Vec<_> = scores
        .candidates
        .into_iter()
        .map(|c| (c.photo_id, c.face.face_id, c.person))
        .collect();
    out.sort();
    out
}

fn person_of(grouping: &[(PhotoId, FaceId, Option<PersonId>)], photo: &str) -> Option<PersonId> {
    let found: Vec<_> = grouping
        .iter()
        .filter(|(p, _, _)| p.as_str() == photo)
        .collect();
    assert_eq!(found.len(), 1, "one face in {photo}");
    found[0].2
}

pub async fn an_indexed_photo_is_reported_with_its_face_count(store: &impl VectorStore) {
    let s = sid("s1");
    store
        .replace_photo(&s, &pid("p1"), vec![face(axis(1), 1.0), face(axis(2), 2.0)])
        .await
        .unwrap();
    store.replace_photo(&s, &pid("p2"), vec![]).await.unwrap();

    assert_eq!(store.indexed_faces(&s, &pid("p1")).await.unwrap(), Some(2));
    assert_eq!(store.indexed_faces(&s, &pid("p2")).await.unwrap(), Some(0));
    assert_eq!(store.indexed_faces(&s, &pid("p3")).await.unwrap(), None);
    assert_eq!(
        store
            .indexed_faces(&sid("other"), &pid("p1"))
            .await
            .unwrap(),
        None
    );
    let stats = store.session_status(&s, reliable_face()).await.unwrap();
    assert_eq!(
        (
            stats.photos_indexed,
            stats.faces_indexed,
            stats.photos_without_faces,
            stats.small_faces
        ),
        (2, 2, 1, 2)
    );
    // Both faces are 40 px tall: "small" is strictly below the height asked for.
    for (px, small) in [(40.0, 0), (40.5, 2)] {
        let stats = store
            .session_status(&s, Pixels::new(px).unwrap())
            .await
            .unwrap();
        assert_eq!(stats.small_faces, small, "below {px} px");
    }
    assert_eq!(stats.model, Some(space().model));
    let age = std::time::SystemTime::now()
        .duration_since(stats.last_indexed_at.expect("indexed"))
        .unwrap_or_default();
    assert!(age.as_secs() < 300, "last_indexed_at is {age:?} old");
}

pub async fn replacing_a_photo_replaces_all_its_faces(store: &impl VectorStore) {
    let s = sid("s1");
    let first = store
        .replace_photo(
            &s,
            &pid("p1"),
            vec![face(axis(0), 1.0), face(axis(0), 2.0), face(axis(0), 3.0)],
        )
        .await
        .unwrap();
    let second = store
        .replace_photo(&s, &pid("p1"), vec![face(axis(0), 9.0)])
        .await
        .unwrap();

    assert_eq!(first.len(), 3);
    assert_eq!(store.indexed_faces(&s, &pid("p1")).await.unwrap(), Some(1));
    let hits = search(store, &s, &axis(0), -1.0, 10).await.unwrap();
    assert_eq!(hits.total_matches, 1);
    assert_eq!(hits.matches[0].face.face_id, second[0].face_id);
    assert_eq!(hits.matches[0].face.bbox.x, 9.0);
    assert_eq!(
        store
            .session_status(&s, reliable_face())
            .await
            .unwrap()
            .faces_indexed,
        1
    );
}

pub async fn scores_report_every_face_at_or_above_the_floor_with_its_exact_cosine(
    store: &impl VectorStore,
) {
    let s = sid("s1");
    store
        .replace_photo(
            &s,
            &pid("a"),
            vec![face(at_cosine(0.5, 1), 1.0), face(at_cosine(0.9, 2), 2.0)],
        )
        .await
        .unwrap();
    store
        .replace_photo(&s, &pid("b"), vec![face(at_cosine(0.7, 3), 3.0)])
        .await
        .unwrap();
    store
        .replace_photo(&s, &pid("c"), vec![face(at_cosine(0.3, 4), 4.0)])
        .await
        .unwrap();
    store
        .replace_photo(&sid("s2"), &pid("d"), vec![face(at_cosine(0.99, 5), 5.0)])
        .await
        .unwrap();

    let all = search(store, &s, &axis(0), 0.4, 10).await.unwrap();
    let cut = search(store, &s, &axis(0), 0.4, 1).await.unwrap();

    let ids: Vec<&str> = all.matches.iter().map(|m| m.photo_id.as_str()).collect();
    assert_eq!(ids, ["a", "b"]);
    assert_eq!(all.total_matches, 2);
    assert!((all.matches[0].cosine - 0.9).abs() < 1e-5);
    assert_eq!(all.matches[0].face.bbox.x, 2.0, "the best face of photo a");
    assert_eq!(all.matches[0].face.det_score, 0.875);
    assert_eq!(cut.matches.len(), 1);
    assert_eq!(cut.total_matches, 2, "total counts photos beyond the limit");
}

/// xorshift64*: deterministic test data without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }

    fn vector(&mut self) -> Embedding {
        let v: Vec<f32> = (0..space().dim).map(|_| self.unit() * 2.0 - 1.0).collect();
        Embedding::normalise(&space(), v).expect("non-zero")
    }
}

/// Searches `checks` random queries and compares each with a brute-force scan of `gallery`.
async fn assert_brute_force(
    store: &impl VectorStore,
    s: &SessionId,
    gallery: &std::collections::BTreeMap<String, Vec<Embedding>>,
    rng: &mut Rng,
    checks: usize,
) {
    let mut checked = 0;
    while checked < checks {
        // Half the queries near a stored face, so that thresholds fall among real matches.
        let stored: Vec<&Embedding> = gallery.values().flatten().collect();
        let query = if checked % 2 == 0 && !stored.is_empty() {
            let base = stored[(rng.next() % stored.len() as u64) as usize].as_slice();
            let noise = rng.vector();
            let mixed = base
                .iter()
                .zip(noise.as_slice())
                .map(|(b, n)| b + 0.5 * n)
                .collect();
            Embedding::normalise(&space(), mixed).expect("non-zero")
        } else {
            rng.vector()
        };
        let threshold = rng.unit() * 1.2 - 0.6;
        let limit = 1 + (rng.next() % 40) as usize;
        let mut expected: Vec<(String, f32)> = gallery
            .iter()
            .filter_map(|(p, faces)| {
                faces
                    .iter()
                    .map(|e| query.cosine(e).expect("same space"))
                    .reduce(f32::max)
                    .map(|c| (p.clone(), c))
            })
            .collect();
        // Backends may sum in a different float order: skip draws with near-ties.
        let mut cosines: Vec<f32> = expected.iter().map(|(_, c)| *c).collect();
        cosines.sort_by(f32::total_cmp);
        let near_tie = cosines.windows(2).any(|w| w[1] - w[0] < 1e-4);
        if near_tie || cosines.iter().any(|c| (c - threshold).abs() < 1e-4) {
            continue;
        }
        expected.retain(|(_, c)| *c >= threshold);
        expected.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));

        let hits = search(store, s, &query, threshold, limit).await.unwrap();

        assert_eq!(hits.total_matches, expected.len() as u64);
        let got: Vec<&str> = hits.matches.iter().map(|m| m.photo_id.as_str()).collect();
        let want: Vec<&str> = expected
            .iter()
            .take(limit)
            .map(|(p, _)| p.as_str())
            .collect();
        assert_eq!(got, want, "threshold {threshold} limit {limit}");
        for (m, (_, c)) in hits.matches.iter().zip(&expected) {
            assert!((m.cosine - c).abs() < 1e-5);
        }
        assert_people_consistent(store, s, &query).await;
        checked += 1;
    }
}

/// The persons `scores` reports agree with its faces: each has two faces or more, in as
/// many photos, and its links are the mean cosines over them; every face is reported at the
/// lowest floor.
async fn assert_people_consistent(store: &impl VectorStore, s: &SessionId, query: &Embedding) {
    let scores = store
        .scores(s, std::slice::from_ref(query), Cosine::MIN)
        .await
        .unwrap();
    assert_eq!(scores.faces, scores.candidates.len() as u64);
    let mut members: BTreeMap<PersonId, Vec<(&PhotoId, f32)>> = BTreeMap::new();
    for c in &scores.candidates {
        if let Some(p) = c.person {
            members
                .entry(p)
                .or_default()
                .push((&c.photo_id, c.cosines[0]));
        }
    }
    for (person, faces) in &members {
        assert!(faces.len() >= 2, "person {person} has one face");
        let photos: BTreeSet<&PhotoId> = faces.iter().map(|(p, _)| *p).collect();
        assert_eq!(
            photos.len(),
            faces.len(),
            "person {person}: one face per photo"
        );
        let reported = scores
            .persons
            .iter()
            .find(|x| x.person == *person)
            .expect("every person of a candidate is reported");
        assert_eq!(reported.faces, faces.len() as u64);
        let mean = faces.iter().map(|(_, c)| c).sum::<f32>() / faces.len() as f32;
        assert!(
            (reported.links[0] - mean).abs() < 1e-4,
            "{person}: {reported:?} vs {mean}"
        );
    }
    assert_eq!(scores.persons.len(), members.len());
    assert_eq!(scores.people, members.len() as u64);
}

/// Indexes `photo` with `faces` and records them in the brute-force model.
async fn index_into(
    store: &impl VectorStore,
    s: &SessionId,
    gallery: &mut std::collections::BTreeMap<String, Vec<Embedding>>,
    photo: String,
    faces: Vec<Embedding>,
) {
    store
        .replace_photo(
            s,
            &pid(&photo),
            faces.iter().cloned().map(|e| face(e, 0.0)).collect(),
        )
        .await
        .unwrap();
    gallery.insert(photo, faces);
}

/// Search equals a brute-force scan, on a fresh session and after every kind of write
/// between searches (so that any search cache must follow the writes exactly).
pub async fn scores_equal_brute_force_on_random_data(store: &impl VectorStore) {
    let mut rng = Rng(0x5EED_F00D_1234_5678);
    let s = sid("rand");
    let mut gallery = std::collections::BTreeMap::new();
    for i in 0..60 {
        let photo = format!("photo-{:03}", (i * 37) % 101);
        let faces: Vec<Embedding> = (0..rng.next() % 5).map(|_| rng.vector()).collect();
        index_into(store, &s, &mut gallery, photo, faces).await;
    }
    // Noise in another session must never show up.
    store
        .replace_photo(
            &sid("noise"),
            &pid("photo-000"),
            vec![face(rng.vector(), 0.0)],
        )
        .await
        .unwrap();
    assert_brute_force(store, &s, &gallery, &mut rng, 25).await;

    for round in 0..40u64 {
        let photo = format!("photo-{:03}", rng.next() % 120);
        match round % 4 {
            // Index or re-index with 0..=4 faces.
            0 | 1 => {
                let faces: Vec<Embedding> = (0..rng.next() % 5).map(|_| rng.vector()).collect();
                index_into(store, &s, &mut gallery, photo, faces).await;
            }
            2 => {
                store
                    .delete_photo(&s, &pid(&photo), &admin())
                    .await
                    .unwrap();
                gallery.remove(&photo);
            }
            // Writes to another session change nothing here.
            _ => {
                store
                    .replace_photo(&sid("noise"), &pid(&photo), vec![face(rng.vector(), 0.0)])
                    .await
                    .unwrap();
            }
        }
        assert_brute_force(store, &s, &gallery, &mut rng, 2).await;
    }

    // A deleted session re-created under the same id holds only its new photos.
    store.delete_session(&s, &admin()).await.unwrap();
    gallery.clear();
    assert_brute_force(store, &s, &gallery, &mut rng, 2).await;
    for i in 0..5 {
        let faces = vec![rng.vector(), rng.vector()];
        index_into(store, &s, &mut gallery, format!("again-{i}"), faces).await;
    }
    assert_brute_force(store, &s, &gallery, &mut rng, 10).await;
}

pub async fn an_unknown_session_is_empty_everywhere(store: &impl VectorStore) {
    let s = sid("never-indexed");
    let hits = search(store, &s, &axis(0), -1.0, 10).await.unwrap();
    assert!(hits.matches.is_empty());
    assert_eq!(hits.total_matches, 0);
    let stats = store.session_status(&s, reliable_face()).await.unwrap();
    assert_eq!((stats.photos_indexed, stats.faces_indexed), (0, 0));
    assert!(stats.last_indexed_at.is_none() && stats.model.is_none());
    assert_eq!(
        store.delete_session(&s, &admin()).await.unwrap(),
        DeletedCounts::default()
    );
}

pub async fn deletes_report_counts_and_are_idempotent(store: &impl VectorStore) {
    let s = sid("s1");
    store
        .replace_photo(&s, &pid("p1"), vec![face(axis(0), 0.0), face(axis(1), 0.0)])
        .await
        .unwrap();
    store
        .replace_photo(&s, &pid("p2"), vec![face(axis(2), 0.0)])
        .await
        .unwrap();
    store.replace_photo(&s, &pid("p3"), vec![]).await.unwrap();
    store
        .replace_photo(&sid("s2"), &pid("p1"), vec![face(axis(0), 0.0)])
        .await
        .unwrap();

    assert_eq!(
        store.delete_photo(&s, &pid("p1"), &admin()).await.unwrap(),
        DeletedCounts {
            photos: 1,
            faces: 2
        }
    );
    assert_eq!(
        store.delete_photo(&s, &pid("p1"), &admin()).await.unwrap(),
        DeletedCounts::default()
    );
    assert_eq!(store.indexed_faces(&s, &pid("p1")).await.unwrap(), None);
    assert_eq!(
        store.delete_session(&s, &admin()).await.unwrap(),
        DeletedCounts {
            photos: 2,
            faces: 1
        }
    );
    assert_eq!(
        store.delete_session(&s, &admin()).await.unwrap(),
        DeletedCounts::default()
    );
    assert_eq!(
        store
            .session_status(&s, reliable_face())
            .await
            .unwrap()
            .photos_indexed,
        0
    );
    // The other session is untouched.
    assert_eq!(
        store.indexed_faces(&sid("s2"), &pid("p1")).await.unwrap(),
        Some(1)
    );
    assert_eq!(
        search(store, &sid("s2"), &axis(0), 0.5, 10)
            .await
            .unwrap()
            .total_matches,
        1
    );
}

pub async fn vectors_of_another_model_are_refused_and_nothing_is_written(store: &impl VectorStore) {
    let other = EmbeddingSpace {
        model: ModelId::parse("other-model").expect("valid"),
        dim: 8,
    };
    let wrong_model = Embedding::normalise(&other, vec![1.0; 8]).expect("non-zero");
    let wider = EmbeddingSpace {
        model: space().model,
        dim: 16,
    };
    let wrong_dim = Embedding::normalise(&wider, vec![1.0; 16]).expect("non-zero");
    let s = sid("s1");

    for bad in [wrong_model, wrong_dim] {
        let err = store
            .replace_photo(
                &s,
                &pid("p1"),
                vec![face(axis(0), 0.0), face(bad.clone(), 0.0)],
            )
            .await;
        assert!(
            matches!(err, Err(StoreError::ModelMismatch { .. })),
            "{err:?}"
        );
        let err = search(store, &s, &bad, 0.0, 10).await;
        assert!(
            matches!(err, Err(StoreError::ModelMismatch { .. })),
            "{err:?}"
        );
    }
    assert_eq!(store.indexed_faces(&s, &pid("p1")).await.unwrap(), None);
}

pub async fn health_reports_a_reachable_store(store: &impl VectorStore) {
    store.health().await.unwrap();
}

pub async fn totals_count_every_photo_and_face_across_sessions(store: &impl VectorStore) {
    assert_eq!(store.totals().await.unwrap(), Default::default());
    store
        .replace_photo(
            &sid("s1"),
            &pid("p1"),
            vec![face(axis(0), 0.0), face(axis(1), 0.0)],
        )
        .await
        .unwrap();
    store
        .replace_photo(&sid("s2"), &pid("p1"), vec![])
        .await
        .unwrap();
    store
        .replace_photo(&sid("s2"), &pid("p2"), vec![face(axis(2), 0.0)])
        .await
        .unwrap();
    let totals = store.totals().await.unwrap();
    assert_eq!((totals.photos, totals.faces), (3, 3));

    store.delete_session(&sid("s1"), &admin()).await.unwrap();
    let totals = store.totals().await.unwrap();
    assert_eq!((totals.photos, totals.faces), (2, 1));
}

pub async fn diff_reports_missing_and_orphaned_ids_sorted_bytewise(store: &impl VectorStore) {
    let s = sid("s1");
    for p in ["p1", "p2", "P3", "p10"] {
        store
            .replace_photo(&s, &pid(p), vec![face(axis(1), 0.0)])
            .await
            .unwrap();
    }
    store
        .replace_photo(&sid("s2"), &pid("x9"), vec![])
        .await
        .unwrap();
    let listed: Vec<PhotoId> = ["B", "p1", "p2", "x9"].map(pid).to_vec();
    let diff = store.diff(&s, &listed).await.unwrap();
    let names = |ids: &[PhotoId]| {
        ids.iter()
            .map(|p| p.as_str().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(diff.indexed, 2);
    assert_eq!(names(&diff.missing), ["B", "x9"]);
    assert_eq!(names(&diff.orphaned), ["P3", "p10"]);

    let empty = store.diff(&s, &[]).await.unwrap();
    assert_eq!((empty.indexed, empty.missing.len()), (0, 0));
    assert_eq!(names(&empty.orphaned), ["P3", "p1", "p10", "p2"]);
    let unknown = store.diff(&sid("nobody"), &listed).await.unwrap();
    assert_eq!(
        (
            unknown.indexed,
            unknown.missing.len(),
            unknown.orphaned.len()
        ),
        (0, 4, 0)
    );
}

pub async fn expired_sessions_are_purged_audited_and_start_clean_when_indexed_again(
    store: &impl VectorStore,
) {
    let now = SystemTime::now();
    let past = now - Duration::from_secs(60);
    let future = now + Duration::from_secs(3600);
    let (old, kept, forever) = (sid("old"), sid("kept"), sid("forever"));
    for s in [&old, &kept, &forever] {
        store
            .replace_photo(s, &pid("p1"), vec![face(axis(1), 0.0), face(axis(2), 0.0)])
            .await
            .unwrap();
        store
            .replace_photo(s, &pid("p2"), vec![face(axis(3), 0.0)])
            .await
            .unwrap();
    }
    let millis = |t: Option<SystemTime>| t.map(facepass_vector_store_sql::unix_millis);
    let set = store
        .set_expiry(&old, ExpiryUpdate::Set(Some(past)))
        .await
        .unwrap();
    assert_eq!(millis(set), millis(Some(past)));
    store
        .set_expiry(&kept, ExpiryUpdate::Set(Some(future)))
        .await
        .unwrap();
    // The default retention never overrides an expiry, nor "keep" on an existing session.
    let unchanged = store
        .set_expiry(&kept, ExpiryUpdate::Default(past))
        .await
        .unwrap();
    assert_eq!(millis(unchanged), millis(Some(future)));
    assert_eq!(
        store
            .set_expiry(&forever, ExpiryUpdate::Default(past))
            .await
            .unwrap(),
        None
    );
    let status = store.session_status(&kept, reliable_face()).await.unwrap();
    assert_eq!(millis(status.expires_at), millis(Some(future)));
    // A session not indexed yet gets the default, and exists with no photo.
    let fresh = sid("fresh");
    let default = store
        .set_expiry(&fresh, ExpiryUpdate::Default(future))
        .await
        .unwrap();
    assert_eq!(millis(default), millis(Some(future)));
    assert_eq!(
        store
            .session_status(&fresh, reliable_face())
            .await
            .unwrap()
            .photos_indexed,
        0
    );

    let purged = store.purge_expired(now, 100).await.unwrap();
    assert_eq!(
        purged,
        vec![(
            old.clone(),
            DeletedCounts {
                photos: 2,
                faces: 3
            }
        )]
    );
    assert!(store.purge_expired(now, 100).await.unwrap().is_empty());
    let status = store.session_status(&old, reliable_face()).await.unwrap();
    assert_eq!((status.photos_indexed, status.expires_at), (0, None));
    assert_eq!(
        search(store, &old, &axis(1), 0.5, 10)
            .await
            .unwrap()
            .total_matches,
        0
    );
    for s in [&kept, &forever] {
        assert_eq!(
            store
                .session_status(s, reliable_face())
                .await
                .unwrap()
                .faces_indexed,
            3
        );
    }
    let events = store.audit(&all_events()).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(
        (
            events[0].action,
            &events[0].session,
            events[0].deleted_photos,
            events[0].deleted_faces
        ),
        (AuditAction::Expire, &old, 2, 3)
    );
    assert_eq!(events[0].key_id, None);

    // Indexed again, the session starts clean: only the new photo, no expiry.
    store
        .replace_photo(&old, &pid("p9"), vec![face(axis(4), 0.0)])
        .await
        .unwrap();
    let status = store.session_status(&old, reliable_face()).await.unwrap();
    assert_eq!((status.photos_indexed, status.faces_indexed), (1, 1));
    assert_eq!(status.expires_at, None);
    // "Keep" clears an expiry.
    store
        .set_expiry(&kept, ExpiryUpdate::Set(None))
        .await
        .unwrap();
    assert_eq!(
        store
            .session_status(&kept, reliable_face())
            .await
            .unwrap()
            .expires_at,
        None
    );
    assert!(
        store
            .purge_expired(now + Duration::from_secs(7200), 100)
            .await
            .unwrap()
            .iter()
            .all(|(s, _)| *s == fresh)
    );
}

pub async fn replicas_purging_together_delete_each_session_once(store: &impl VectorStore) {
    let past = SystemTime::now() - Duration::from_secs(1);
    let sessions: Vec<SessionId> = (0..8).map(|i| sid(&format!("e{i}"))).collect();
    for s in &sessions {
        store
            .replace_photo(s, &pid("p1"), vec![face(axis(1), 0.0)])
            .await
            .unwrap();
        store
            .set_expiry(s, ExpiryUpdate::Set(Some(past)))
            .await
            .unwrap();
    }
    let now = SystemTime::now();
    // Two purgers at once, each on its own connections (as two replicas), small chunks.
    let purge = || async {
        let mut all = Vec::new();
        loop {
            let chunk = store.purge_expired(now, 3).await.unwrap();
            if chunk.is_empty() {
                return all;
            }
            all.extend(chunk);
        }
    };
    let (a, b) = tokio::join!(purge(), purge());
    let mut purged: Vec<String> = a
        .iter()
        .chain(&b)
        .map(|(s, counts)| {
            assert_eq!(
                *counts,
                DeletedCounts {
                    photos: 1,
                    faces: 1
                }
            );
            s.as_str().to_owned()
        })
        .collect();
    purged.sort();
    let mut expected: Vec<String> = sessions.iter().map(|s| s.as_str().to_owned()).collect();
    expected.sort();
    assert_eq!(purged, expected, "every session purged exactly once");
    let events = store.audit(&all_events()).await.unwrap();
    assert_eq!(events.len(), sessions.len());
    assert_eq!(store.totals().await.unwrap().faces, 0);
}

pub async fn a_purge_while_another_session_is_indexed_leaves_that_session_whole(
    store: &impl VectorStore,
) {
    let (old, live) = (sid("old"), sid("live"));
    for i in 0..20 {
        store
            .replace_photo(&old, &pid(&format!("p{i}")), vec![face(axis(1), 0.0)])
            .await
            .unwrap();
    }
    store
        .set_expiry(&old, ExpiryUpdate::Set(Some(SystemTime::now())))
        .await
        .unwrap();
    let index = async {
        for i in 0..20 {
            store
                .replace_photo(&live, &pid(&format!("p{i}")), vec![face(axis(2), 0.0)])
                .await
                .unwrap();
        }
    };
    let purge = async { store.purge_expired(SystemTime::now(), 10).await.unwrap() };
    let ((), purged) = tokio::join!(index, purge);
    assert_eq!(
        purged,
        vec![(
            old.clone(),
            DeletedCounts {
                photos: 20,
                faces: 20
            }
        )]
    );
    let status = store.session_status(&live, reliable_face()).await.unwrap();
    assert_eq!((status.photos_indexed, status.faces_indexed), (20, 20));
    assert_eq!(
        store
            .session_status(&old, reliable_face())
            .await
            .unwrap()
            .photos_indexed,
        0
    );
}

pub async fn forget_deletes_the_guests_faces_and_keeps_everyone_else(store: &impl VectorStore) {
    let s = sid("s1");
    let guest = axis(1);
    let other = axis(2);
    store
        .replace_photo(
            &s,
            &pid("p1"),
            vec![face(at_cosine(0.95, 1), 0.0), face(other.clone(), 50.0)],
        )
        .await
        .unwrap();
    store
        .replace_photo(&s, &pid("p2"), vec![face(at_cosine(0.99, 1), 0.0)])
        .await
        .unwrap();
    store
        .replace_photo(&s, &pid("p3"), vec![face(other.clone(), 0.0)])
        .await
        .unwrap();
    // The same guest in another session is not touched.
    store
        .replace_photo(&sid("s2"), &pid("p1"), vec![face(at_cosine(0.99, 1), 0.0)])
        .await
        .unwrap();
    // The query is the guest's direction: cosine 0.95 and 0.99 to the stored faces.
    let query = at_cosine(1.0, 1);
    let faces = faces_matching(store, &s, &[query.clone(), guest], 0.9).await;
    let counts = store.forget(&s, &faces, &admin()).await.unwrap();
    assert_eq!(
        counts,
        ForgetCounts {
            faces: 2,
            photos: 2,
            watches_ended: 0,
        }
    );
    assert_eq!(
        search(store, &s, &query, 0.5, 10)
            .await
            .unwrap()
            .total_matches,
        0
    );
    let others = search(store, &s, &other, 0.9, 10).await.unwrap();
    let found: Vec<&str> = others.matches.iter().map(|m| m.photo_id.as_str()).collect();
    assert_eq!(found, ["p1", "p3"]);
    assert_eq!(store.indexed_faces(&s, &pid("p1")).await.unwrap(), Some(1));
    assert_eq!(store.indexed_faces(&s, &pid("p2")).await.unwrap(), Some(0));
    let status = store.session_status(&s, reliable_face()).await.unwrap();
    assert_eq!((status.photos_indexed, status.faces_indexed), (3, 2));
    assert_eq!(
        search(store, &sid("s2"), &query, 0.9, 10)
            .await
            .unwrap()
            .total_matches,
        1
    );
    let events = store.audit(&all_events()).await.unwrap();
    assert_eq!(
        (
            events[0].action,
            events[0].deleted_photos,
            events[0].deleted_faces
        ),
        (AuditAction::Forget, 0, 2)
    );
    assert_eq!(events[0].key_id.as_deref(), Some("k-contract"));
    // Nothing left of the guest: forgetting again deletes nothing, and is still recorded.
    let faces = faces_matching(store, &s, &[query], 0.9).await;
    assert!(faces.is_empty());
    assert_eq!(
        store.forget(&s, &faces, &admin()).await.unwrap(),
        ForgetCounts::default()
    );
    // Ids no longer stored are ignored.
    assert_eq!(
        store.forget(&s, &[FaceId::new()], &admin()).await.unwrap(),
        ForgetCounts::default()
    );
    assert_eq!(store.audit(&all_events()).await.unwrap().len(), 3);
}

pub async fn every_deletion_is_audited_and_the_audit_survives_it(store: &impl VectorStore) {
    let s = sid("s1");
    let before = SystemTime::now() - Duration::from_secs(1);
    store
        .replace_photo(&s, &pid("p1"), vec![face(axis(1), 0.0), face(axis(2), 0.0)])
        .await
        .unwrap();
    store
        .replace_photo(&s, &pid("p2"), vec![face(axis(3), 0.0)])
        .await
        .unwrap();
    store
        .replace_photo(&sid("s2"), &pid("p1"), vec![])
        .await
        .unwrap();
    store.delete_photo(&s, &pid("p1"), &admin()).await.unwrap();
    store
        .delete_session(&s, &Actor::key("k-other"))
        .await
        .unwrap();
    store.delete_session(&sid("s2"), &admin()).await.unwrap();
    // An idempotent repeat deletes nothing and is recorded as asked.
    store.delete_session(&s, &admin()).await.unwrap();

    let events = store.audit(&all_events()).await.unwrap();
    type Row<'a> = (
        AuditAction,
        &'a str,
        Option<&'a str>,
        u64,
        u64,
        Option<&'a str>,
    );
    let summary: Vec<Row> = events
        .iter()
        .map(|e| {
            (
                e.action,
                e.session.as_str(),
                e.photo.as_ref().map(PhotoId::as_str),
                e.deleted_photos,
                e.deleted_faces,
                e.key_id.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                AuditAction::DeleteSession,
                "s1",
                None,
                0,
                0,
                Some("k-contract")
            ),
            (
                AuditAction::DeleteSession,
                "s2",
                None,
                1,
                0,
                Some("k-contract")
            ),
            (
                AuditAction::DeleteSession,
                "s1",
                None,
                1,
                1,
                Some("k-other")
            ),
            (
                AuditAction::DeletePhoto,
                "s1",
                Some("p1"),
                1,
                2,
                Some("k-contract")
            ),
        ]
    );
    assert!(events.windows(2).all(|w| w[0].id > w[1].id));
    assert!(
        events
            .iter()
            .all(|e| e.at >= before && e.at <= SystemTime::now() + Duration::from_secs(1))
    );
    // Paged by session and cursor.
    let first = store
        .audit(&AuditQuery {
            session: Some(s.clone()),
            limit: 2,
            ..all_events()
        })
        .await
        .unwrap();
    assert_eq!(first.len(), 2);
    let rest = store
        .audit(&AuditQuery {
            session: Some(s.clone()),
            before_id: Some(first[1].id),
            ..all_events()
        })
        .await
        .unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].action, AuditAction::DeletePhoto);
    let later = store
        .audit(&AuditQuery {
            since: Some(SystemTime::now() + Duration::from_secs(60)),
            ..all_events()
        })
        .await
        .unwrap();
    assert!(later.is_empty());
}

pub async fn scores_never_report_a_face_of_another_session(store: &impl VectorStore) {
    let mut rng = Rng(0x1507_A7ED_5E55_1025);
    // Five sessions with the same photo ids; session k+1 reuses session k's vectors for half
    // of its faces, so every query has exact twins elsewhere.
    let sessions: Vec<SessionId> = (0..5).map(|i| sid(&format!("iso-{i}"))).collect();
    let mut owned: Vec<std::collections::BTreeSet<String>> = Vec::new();
    let mut queries: Vec<Vec<Embedding>> = Vec::new();
    let mut previous: Vec<Embedding> = Vec::new();
    for s in &sessions {
        let mut ids = std::collections::BTreeSet::new();
        let mut vectors = Vec::new();
        for p in 0..8 {
            let faces: Vec<Embedding> = (0..1 + rng.next() % 3)
                .map(|i| match previous.get(p * 3 + i as usize) {
                    Some(v) if rng.next().is_multiple_of(2) => v.clone(),
                    _ => rng.vector(),
                })
                .collect();
            vectors.extend(faces.iter().cloned());
            let stored = store
                .replace_photo(
                    s,
                    &pid(&format!("p{p}")),
                    faces.into_iter().map(|e| face(e, 0.0)).collect(),
                )
                .await
                .unwrap();
            ids.extend(stored.iter().map(|f| f.face_id.to_string()));
        }
        previous = vectors.clone();
        owned.push(ids);
        queries.push(vectors);
    }
    for (i, s) in sessions.iter().enumerate() {
        for query in queries.iter().flatten().step_by(3) {
            let hits = search(store, s, query, -1.0, 1000).await.unwrap();
            assert_eq!(hits.total_matches, 8, "every photo of {s} and no other");
            for hit in &hits.matches {
                assert!(
                    owned[i].contains(&hit.face.face_id.to_string()),
                    "{s} answered face {} of another session",
                    hit.face.face_id
                );
            }
        }
    }
}

pub async fn concurrent_re_indexing_of_one_photo_leaves_one_version(store: &impl VectorStore) {
    let s = sid("s1");
    let photo = pid("p1");
    let versions = (1..=4usize).map(|n| {
        let faces: Vec<DetectedFace> = (0..n).map(|i| face(axis(i), i as f32)).collect();
        store.replace_photo(&s, &photo, faces)
    });
    let stored = futures::future::join_all(versions).await;
    let counts: Vec<u64> = stored
        .iter()
        .map(|r| r.as_ref().unwrap().len() as u64)
        .collect();
    assert_eq!(counts, [1, 2, 3, 4]);
    let kept = store.indexed_faces(&s, &photo).await.unwrap().unwrap();
    let status = store.session_status(&s, reliable_face()).await.unwrap();
    assert_eq!(
        (status.photos_indexed, status.faces_indexed),
        (1, kept),
        "one version of the photo, its faces only"
    );
    assert_eq!(store.totals().await.unwrap().faces, kept);
}

/// A unit vector mostly along `main` with a little of `side` (`weight`): faces of one person.
fn near_axis(main: usize, side: usize, weight: f32) -> Embedding {
    let mut v = vec![0.0; space().dim];
    v[main] = 1.0;
    v[side] = weight;
    Embedding::normalise(&space(), v).expect("non-zero")
}

pub async fn faces_of_one_person_are_grouped_listed_and_linked(store: &impl VectorStore) {
    let s = sid("people");
    // The guest in four photos, a pair along another axis, and a stranger.
    for (i, w) in [0.1f32, -0.1, 0.2, 0.05].into_iter().enumerate() {
        let det = 0.80 + i as f32 / 100.0;
        store
            .replace_photo(
                &s,
                &pid(&format!("g{i}")),
                vec![face_scored(near_axis(1, 2, w), 0.0, det)],
            )
            .await
            .unwrap();
    }
    for (i, w) in [0.1f32, -0.1].into_iter().enumerate() {
        store
            .replace_photo(
                &s,
                &pid(&format!("o{i}")),
                vec![face(near_axis(5, 6, w), 0.0)],
            )
            .await
            .unwrap();
    }
    store
        .replace_photo(&s, &pid("x"), vec![face(axis(7), 0.0)])
        .await
        .unwrap();
    // Another session with the same guest is other people.
    store
        .replace_photo(
            &sid("elsewhere"),
            &pid("g0"),
            vec![face(near_axis(1, 2, 0.1), 0.0)],
        )
        .await
        .unwrap();

    let grouping = grouping(store, &s).await;
    let guest = person_of(&grouping, "g0").expect("the guest is a person");
    for g in ["g1", "g2", "g3"] {
        assert_eq!(person_of(&grouping, g), Some(guest), "{g}");
    }
    let pair = person_of(&grouping, "o0").expect("the pair is a person");
    assert_eq!(person_of(&grouping, "o1"), Some(pair));
    assert_ne!(pair, guest);
    assert_eq!(person_of(&grouping, "x"), None, "a lone face has no person");

    let all = PeopleQuery {
        min_photos: 2,
        limit: 10,
        after: None,
    };
    let people = store.people(&s, &all).await.unwrap();
    let listed: Vec<(PersonId, u64, u64)> = people
        .iter()
        .map(|p| (p.person, p.photos, p.faces))
        .collect();
    assert_eq!(listed, [(guest, 4, 4), (pair, 2, 2)]);
    assert_eq!(
        people[0].cover.photo_id.as_str(),
        "g3",
        "the most confident face"
    );
    let more = PeopleQuery {
        min_photos: 3,
        ..all
    };
    assert_eq!(store.people(&s, &more).await.unwrap().len(), 1);
    let first = PeopleQuery { limit: 1, ..all };
    let page = store.people(&s, &first).await.unwrap();
    let next = PeopleQuery {
        after: Some(facepass_domain::ports::PeopleCursor {
            photos: page[0].photos,
            person: page[0].person,
        }),
        ..all
    };
    let rest: Vec<PersonId> = store
        .people(&s, &next)
        .await
        .unwrap()
        .iter()
        .map(|p| p.person)
        .collect();
    assert_eq!(rest, [pair]);
    assert!(store.people(&sid("never"), &all).await.unwrap().is_empty());

    // One person's faces, best first, in pages.
    let query = PersonFacesQuery {
        limit: 3,
        after: None,
    };
    let faces = store
        .person_faces(&s, &guest, &query)
        .await
        .unwrap()
        .unwrap();
    let photos: Vec<&str> = faces.iter().map(|f| f.photo_id.as_str()).collect();
    assert_eq!(photos, ["g3", "g2", "g1"]);
    let after = facepass_domain::ports::FaceCursor {
        det_score: faces[2].face.det_score,
        face: faces[2].face.face_id,
    };
    let tail = store
        .person_faces(
            &s,
            &guest,
            &PersonFacesQuery {
                limit: 3,
                after: Some(after),
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        tail.iter().map(|f| f.photo_id.as_str()).collect::<Vec<_>>(),
        ["g0"]
    );
    assert_eq!(
        store
            .person_faces(&s, &PersonId::new(), &query)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .person_faces(&sid("elsewhere"), &guest, &query)
            .await
            .unwrap(),
        None
    );

    // Scores report the guest's person with its mean cosine over all four faces.
    let q = axis(1);
    let scores = store
        .scores(&s, std::slice::from_ref(&q), cosine(0.9))
        .await
        .unwrap();
    assert_eq!(scores.faces, 7);
    assert_eq!(scores.candidates.len(), 4);
    assert!(scores.candidates.iter().all(|c| c.person == Some(guest)));
    let linked = &scores.persons[0];
    assert_eq!((linked.person, linked.faces), (guest, 4));
    let mean: f32 = [0.1f32, -0.1, 0.2, 0.05]
        .iter()
        .map(|w| 1.0 / (1.0 + w * w).sqrt())
        .sum::<f32>()
        / 4.0;
    assert!((linked.links[0] - mean).abs() < 1e-5);
}

pub async fn removing_faces_groups_the_rest_again_and_a_lone_face_has_no_person(
    store: &impl VectorStore,
) {
    let s = sid("people");
    for i in 0..3 {
        store
            .replace_photo(
                &s,
                &pid(&format!("g{i}")),
                vec![face(near_axis(1, 2, 0.1 * i as f32), 0.0)],
            )
            .await
            .unwrap();
    }
    for i in 0..2 {
        store
            .replace_photo(
                &s,
                &pid(&format!("o{i}")),
                vec![face(near_axis(5, 6, 0.1 * i as f32), 0.0)],
            )
            .await
            .unwrap();
    }
    let before = grouping(store, &s).await;
    let guest = person_of(&before, "g0").unwrap();

    // The pair loses a photo: the face left is alone, and the person is gone.
    store.delete_photo(&s, &pid("o1"), &admin()).await.unwrap();
    let after = grouping(store, &s).await;
    assert_eq!(person_of(&after, "o0"), None);
    let people = store
        .people(
            &s,
            &PeopleQuery {
                min_photos: 1,
                limit: 10,
                after: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(people.iter().map(|p| p.person).collect::<Vec<_>>(), [guest]);

    // The guest's erasure of one face keeps the rest as the same person.
    let g2 = after.iter().find(|(p, _, _)| p.as_str() == "g2").unwrap().1;
    let counts = store.forget(&s, &[g2], &admin()).await.unwrap();
    assert_eq!(
        counts,
        ForgetCounts {
            faces: 1,
            photos: 1,
            watches_ended: 0,
        }
    );
    let after = grouping(store, &s).await;
    assert_eq!(person_of(&after, "g0"), Some(guest));
    assert_eq!(person_of(&after, "g1"), Some(guest));
    assert!(after.iter().all(|(p, _, _)| p.as_str() != "g2"));
    assert_people_consistent(store, &s, &axis(1)).await;
}

pub async fn faces_of_one_photo_are_never_one_person(store: &impl VectorStore) {
    let s = sid("people");
    // The same face twice in one photo (a mirror, a poster): two people.
    store
        .replace_photo(
            &s,
            &pid("p1"),
            vec![face(axis(1), 0.0), face(axis(1), 50.0)],
        )
        .await
        .unwrap();
    let scores = store.scores(&s, &[axis(1)], cosine(0.5)).await.unwrap();
    assert_eq!(scores.candidates.len(), 2);
    assert!(scores.candidates.iter().all(|c| c.person.is_none()));
    // A third face of them in another photo joins one of the two, not both.
    store
        .replace_photo(&s, &pid("p2"), vec![face(axis(1), 0.0)])
        .await
        .unwrap();
    assert_people_consistent(store, &s, &axis(1)).await;
    let people = store
        .people(
            &s,
            &PeopleQuery {
                min_photos: 1,
                limit: 10,
                after: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(people.len(), 1);
    assert_eq!(people[0].faces, 2);
}

pub async fn re_indexing_a_photo_keeps_its_person(store: &impl VectorStore) {
    let s = sid("people");
    for i in 0..3 {
        store
            .replace_photo(
                &s,
                &pid(&format!("g{i}")),
                vec![face(near_axis(1, 2, 0.1 * i as f32), 0.0)],
            )
            .await
            .unwrap();
    }
    let guest = person_of(&grouping(store, &s).await, "g0").unwrap();
    for photo in ["g0", "g1", "g2"] {
        store
            .replace_photo(&s, &pid(photo), vec![face(near_axis(1, 2, 0.05), 0.0)])
            .await
            .unwrap();
        let now = grouping(store, &s).await;
        for g in ["g0", "g1", "g2"] {
            assert_eq!(
                person_of(&now, g),
                Some(guest),
                "{g} after re-indexing {photo}"
            );
        }
    }
}
