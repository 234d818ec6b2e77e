//! Several processes on one database, each holding sessions in memory: answers equal a read
//! of the whole session, follow writes made through another process, keep one grouping of
//! people whichever process writes, and a session too large for the memory budget is read
//! from the database each time.

use facepass_domain::ports::{PeopleQuery, VectorStore};
use facepass_domain::{Actor, DetectedFace, Embedding, PhotoId, SessionId};
use facepass_store_contract::{self as contract, search, space};
use facepass_vector_store_pgvector::{PgOptions, PgVectorStore};
use facepass_vector_store_sql::StoreOptions;

use facepass_test_support::postgres::TestDatabase;

fn face(seed: usize) -> DetectedFace {
    let v = (0..8)
        .map(|d| ((seed * 7 + d * 3) % 11) as f32 - 5.0)
        .collect();
    contract::face(Embedding::normalise(&space(), v).unwrap(), 0.0)
}

/// A face of "person" `who` (one of eight axes), a little different in each photo.
fn person_face(who: usize, photo: usize) -> DetectedFace {
    let mut v = vec![0.0f32; 8];
    v[who % 8] = 1.0;
    v[(who + 1) % 8] = 0.05 * (photo % 5) as f32;
    DetectedFace {
        embedding: Embedding::normalise(&space(), v).unwrap(),
        ..face(0)
    }
}

async fn open(url: &str, cache_bytes: usize) -> PgVectorStore {
    facepass_vector_store_pgvector::open(
        url,
        space(),
        &PgOptions::default(),
        StoreOptions {
            cache_bytes,
            ..contract::options()
        },
    )
    .await
    .unwrap()
}

fn ids(hits: contract::Hits) -> Vec<String> {
    hits.matches
        .into_iter()
        .map(|m| m.photo_id.as_str().to_owned())
        .collect()
}

#[tokio::test]
async fn the_brute_force_contract_holds_from_memory_and_from_the_database() {
    let database = TestDatabase::create().await;
    let held = open(&database.url, 64 << 20).await;
    contract::scores_equal_brute_force_on_random_data(&held).await;
    let stats = held.cache_stats();
    assert_eq!(stats.loaded, 0, "{stats:?}");
    assert!(stats.from_memory > 100, "{stats:?}");

    let database2 = TestDatabase::create().await;
    let reading = open(&database2.url, 0).await;
    contract::scores_equal_brute_force_on_random_data(&reading).await;
    let stats = reading.cache_stats();
    assert_eq!((stats.from_memory, stats.bytes), (0, 0), "{stats:?}");
}

#[tokio::test]
async fn a_process_sees_the_writes_of_another_at_its_next_search() {
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
    let before = ids(search(&a, &s, &query, 0.999, 100).await.unwrap());
    assert!(before.contains(&"p3".to_owned()), "{before:?}");

    // Process b: a new photo of the same face, the old one re-indexed without it, one deleted.
    b.replace_photo(&s, &p(100), vec![face(3)]).await.unwrap();
    b.replace_photo(&s, &p(3), vec![face(4)]).await.unwrap();
    b.delete_photo(&s, &p(14), &Actor::server()).await.unwrap();
    let after = ids(search(&a, &s, &query, 0.999, 100).await.unwrap());
    let truth = ids(search(&open(&url, 0).await, &s, &query, 0.999, 100)
        .await
        .unwrap());
    assert_eq!(after, truth);
    assert!(after.contains(&"p100".to_owned()) && !after.contains(&"p3".to_owned()));

    // Deleted through b and indexed again: a holds nothing of the old session.
    b.delete_session(&s, &Actor::server()).await.unwrap();
    assert!(
        search(&a, &s, &query, -1.0, 100)
            .await
            .unwrap()
            .matches
            .is_empty()
    );
    b.replace_photo(&s, &p(7), vec![face(7)]).await.unwrap();
    let again = ids(search(&a, &s, &query, -1.0, 100).await.unwrap());
    assert_eq!(again, ["p7"]);
    assert_eq!(a.cache_stats().loaded, 0);
}

#[tokio::test]
async fn processes_writing_one_session_in_turn_keep_one_grouping_of_its_people() {
    let database = TestDatabase::create().await;
    let url = database.url.clone();
    let a = open(&url, 64 << 20).await;
    let b = open(&url, 64 << 20).await;
    let s = SessionId::parse("event").unwrap();
    // Three people in twelve photos, written alternately by the two processes.
    for photo in 0..12 {
        let store = if photo % 2 == 0 { &a } else { &b };
        let id = PhotoId::parse(format!("p{photo:02}")).unwrap();
        store
            .replace_photo(&s, &id, vec![person_face(photo % 3, photo)])
            .await
            .unwrap();
    }
    b.delete_photo(&s, &PhotoId::parse("p00").unwrap(), &Actor::server())
        .await
        .unwrap();

    let query = PeopleQuery {
        min_photos: 1,
        limit: 10,
        after: None,
    };
    let from_a = a.people(&s, &query).await.unwrap();
    assert_eq!(
        from_a.iter().map(|p| p.photos).collect::<Vec<_>>(),
        [4, 4, 3],
        "{from_a:?}"
    );
    // Both processes' memory agrees with the database, person by person.
    for store in [&a, &b] {
        for person in &from_a {
            let q = &person.cover;
            let scores = store
                .scores(
                    &s,
                    &[person_face(0, 0).embedding],
                    facepass_domain::Cosine::MIN,
                )
                .await
                .unwrap();
            let members = scores
                .candidates
                .iter()
                .filter(|c| c.person == Some(person.person))
                .count() as u64;
            assert_eq!(members, person.faces, "person of {}", q.photo_id);
        }
    }
}

#[tokio::test]
async fn a_session_larger_than_the_budget_is_read_from_the_database_each_time() {
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
    let hits = ids(search(&store, &s, &query, 0.999, 500).await.unwrap());
    let truth = ids(search(&open(&url, 0).await, &s, &query, 0.999, 500)
        .await
        .unwrap());
    assert_eq!(hits, truth);
    assert!(!hits.is_empty());
    search(&store, &s, &query, 0.5, 500).await.unwrap();
    let stats = store.cache_stats();
    assert!(stats.loaded >= 2, "{stats:?}");
    assert_eq!(stats.bytes, 0);
}
