//! The search cache: answers equal a scan, follow writes made through another replica, and a
//! session too large for the budget is scanned in SQL instead.

use facepass_domain::ports::VectorStore;
use facepass_domain::{
    Actor, BoundingBox, DetectedFace, Embedding, FaceQuality, PhotoId, Point, SessionId,
};
use facepass_vector_store_pgvector::{PgOptions, PgVectorStore};
use facepass_vector_store_sql::contract::{self, space};

use facepass_test_support::postgres::TestDatabase;

fn face(seed: usize) -> DetectedFace {
    let v = (0..8)
        .map(|d| ((seed * 7 + d * 3) % 11) as f32 - 5.0)
        .collect();
    DetectedFace {
        bbox: BoundingBox {
            x: 0.0,
            y: 0.0,
            width: 10.0,
            height: 10.0,
        },
        landmarks: [Point { x: 0.0, y: 0.0 }; 5],
        det_score: 0.9,
        embedding: Embedding::normalise(&space(), v).unwrap(),
        quality: FaceQuality::default(),
    }
}

async fn open(url: &str, cache_bytes: usize) -> PgVectorStore {
    facepass_vector_store_pgvector::open(
        url,
        space(),
        &PgOptions {
            search_cache_bytes: cache_bytes,
            ..PgOptions::default()
        },
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn the_brute_force_contract_is_answered_by_the_cache_and_by_the_scan() {
    let database = TestDatabase::create().await;
    let url = database.url.clone();
    let cached = open(&url, 64 << 20).await;
    contract::search_equals_brute_force_on_random_data(&cached).await;
    let stats = cached.dialect().search_cache_stats().unwrap();
    assert_eq!(stats.scanned, 0, "{stats:?}");
    assert_eq!(stats.answered, 25 + 40 * 2 + 2 + 10, "{stats:?}");

    let database2 = TestDatabase::create().await;
    let url2 = database2.url.clone();
    let scanning = open(&url2, 0).await;
    assert!(scanning.dialect().search_cache_stats().is_none());
    contract::search_equals_brute_force_on_random_data(&scanning).await;
}

#[tokio::test]
async fn a_replica_sees_the_writes_of_another_at_its_next_search() {
    let database = TestDatabase::create().await;
    let url = database.url.clone();
    let a = open(&url, 64 << 20).await;
    let b = open(&url, 64 << 20).await;
    let s = SessionId::parse("shared").unwrap();
    let p = |i: usize| PhotoId::parse(format!("p{i}")).unwrap();
    for i in 0..20 {
        a.replace_photo(&s, &p(i), vec![face(i)]).await.unwrap();
    }
    let query = face(3).embedding;
    let ids = |hits: facepass_domain::ports::SearchHits| {
        hits.matches
            .into_iter()
            .map(|m| m.photo_id.as_str().to_owned())
            .collect::<Vec<_>>()
    };
    let before = ids(a.search(&s, &query, 0.999, 100).await.unwrap());
    assert!(before.contains(&"p3".to_owned()), "{before:?}");

    // Replica b: a new photo of the same face, the old one re-indexed without it, one deleted.
    b.replace_photo(&s, &p(100), vec![face(3)]).await.unwrap();
    b.replace_photo(&s, &p(3), vec![face(4)]).await.unwrap();
    b.delete_photo(&s, &p(14), &Actor::server()).await.unwrap();
    let after = ids(a.search(&s, &query, 0.999, 100).await.unwrap());
    let truth = ids(open(&url, 0)
        .await
        .search(&s, &query, 0.999, 100)
        .await
        .unwrap());
    assert_eq!(after, truth);
    assert!(after.contains(&"p100".to_owned()) && !after.contains(&"p3".to_owned()));

    // Deleted through b and indexed again: a holds nothing of the old session.
    b.delete_session(&s, &Actor::server()).await.unwrap();
    assert!(
        a.search(&s, &query, -1.0, 100)
            .await
            .unwrap()
            .matches
            .is_empty()
    );
    b.replace_photo(&s, &p(7), vec![face(7)]).await.unwrap();
    let again = ids(a.search(&s, &query, -1.0, 100).await.unwrap());
    assert_eq!(again, ["p7"]);
    let stats = a.dialect().search_cache_stats().unwrap();
    assert_eq!(stats.scanned, 0, "{stats:?}");
}

#[tokio::test]
async fn a_session_larger_than_the_budget_is_scanned_in_sql() {
    let database = TestDatabase::create().await;
    let url = database.url.clone();
    let store = open(&url, 2048).await;
    let s = SessionId::parse("big").unwrap();
    for i in 0..200 {
        let photo = PhotoId::parse(format!("p{i:03}")).unwrap();
        store
            .replace_photo(&s, &photo, vec![face(i)])
            .await
            .unwrap();
    }
    let query = face(5).embedding;
    let hits = store.search(&s, &query, 0.999, 500).await.unwrap();
    let truth = open(&url, 0)
        .await
        .search(&s, &query, 0.999, 500)
        .await
        .unwrap();
    assert_eq!(hits, truth);
    assert!(hits.total_matches >= 1);
    store.search(&s, &query, 0.5, 500).await.unwrap();
    let stats = store.dialect().search_cache_stats().unwrap();
    assert_eq!((stats.answered, stats.scanned), (0, 2), "{stats:?}");
    assert_eq!(stats.bytes, 0);
}
