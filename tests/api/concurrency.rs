//! Replicas on one PostgreSQL database: two services indexing the same session at once store
//! each face once, and a session deleted while it is being indexed is never half-deleted.
//!
//! The rule (ARCHITECTURE.md, "Concurrent writers"): every write to a session takes the
//! session's row lock first, so writes to one session are serialised. A delete removes every
//! photo committed before it; a photo committed after it stays, in a session that starts
//! again. No photo is ever left without its faces, and no face without its photo.

use facepass_vector_store_pgvector::{PgOptions, connect};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::Value;

use crate::support::{
    TestApp, fixture_batch, fixture_bytes, post_batch, read, settings, spawn_with,
};
use facepass_test_support::postgres::TestDatabase;

async fn replica(database: &str) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    spawn_with(
        settings(
            dir.path(),
            &[
                ("FACEPASS__STORAGE__BACKEND", "postgres"),
                ("FACEPASS__STORAGE__URL", database),
            ],
        ),
        Some(dir),
    )
    .await
}

/// Counts straight from the tables: photos, faces, and rows that break an invariant: photos
/// whose face rows do not match their `face_count` (duplicated or missing faces), faces
/// without their photo, photos without their session row.
async fn table_counts(db: &DatabaseConnection) -> (i64, i64, i64) {
    let sql = "SELECT (SELECT count(*) FROM photos), (SELECT count(*) FROM faces), \
        (SELECT count(*) FROM photos p WHERE p.face_count <> \
            (SELECT count(*) FROM faces f WHERE f.session_id = p.session_id AND f.photo_id = p.photo_id)) \
        + (SELECT count(*) FROM faces f WHERE NOT EXISTS \
            (SELECT 1 FROM photos p WHERE p.session_id = f.session_id AND p.photo_id = f.photo_id)) \
        + (SELECT count(*) FROM photos p WHERE NOT EXISTS \
            (SELECT 1 FROM sessions s WHERE s.session_id = p.session_id))";
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("count query")
        .expect("a row");
    (
        row.try_get_by_index(0).unwrap(),
        row.try_get_by_index(1).unwrap(),
        row.try_get_by_index(2).unwrap(),
    )
}

async fn database(url: &str) -> DatabaseConnection {
    connect(
        url,
        &PgOptions {
            max_connections: 1,
            ..Default::default()
        },
    )
    .await
    .expect("connect")
}

fn count(v: &Value, key: &str) -> i64 {
    v[key].as_i64().unwrap_or_else(|| panic!("{key} in {v:#}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_indexing_one_session_store_each_face_once() {
    let test_db = TestDatabase::create().await;
    let url = test_db.url.clone();
    let (a, b) = (replica(&url).await, replica(&url).await);
    let db = database(&url).await;
    let photos = fixture_batch(40);
    // `force`: both replicas replace every photo, so each photo is written twice at once.
    for round in 0..3 {
        let (one, two) = tokio::join!(
            post_batch(&a.base, "evt", &photos, true),
            post_batch(&b.base, "evt", &photos, true)
        );
        assert_eq!((count(&one, "indexed"), count(&two, "indexed")), (40, 40));
        assert_eq!(count(&one, "faces_indexed"), count(&two, "faces_indexed"));
        let (stored_photos, faces, inconsistent) = table_counts(&db).await;
        println!(
            "round {round}: {stored_photos} photos, {faces} faces, {inconsistent} inconsistent"
        );
        assert_eq!(
            (stored_photos, faces, inconsistent),
            (40, count(&one, "faces_indexed"), 0)
        );
    }
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_session_deleted_while_indexed_is_never_half_deleted() {
    let test_db = TestDatabase::create().await;
    let url = test_db.url.clone();
    let (indexer, deleter) = (replica(&url).await, replica(&url).await);
    let db = database(&url).await;
    let photos = fixture_batch(100);
    let batch = {
        let (base, photos) = (indexer.base.clone(), photos.clone());
        tokio::spawn(async move { post_batch(&base, "evt", &photos, false).await })
    };
    // Searches meanwhile fill the indexer's search cache with what each delete must evict.
    let selfie = fixture_bytes(&photos[0].1);
    let searches = {
        let (base, selfie) = (indexer.base.clone(), selfie.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            for _ in 0..20 {
                let form = reqwest::multipart::Form::new()
                    .part("file", reqwest::multipart::Part::bytes(selfie.clone()))
                    .text("session_id", "evt");
                let answer =
                    read(client.post(format!("{base}/api/v2/search")).multipart(form)).await;
                answer.expect(200);
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        })
    };
    // Delete the session again and again while the batch runs: each delete races the photo
    // commits in flight.
    let (mut deletes, mut deleted_photos, mut deleted_faces) = (0, 0, 0);
    while !batch.is_finished() {
        let deleted = deleter.delete_session("evt").await.expect(200);
        deleted_photos += count(&deleted, "deleted_photos");
        deleted_faces += count(&deleted, "deleted_faces");
        deletes += 1;
    }
    searches.await.expect("searches");
    let report = batch.await.expect("the batch request");
    let (stored_photos, stored_faces, inconsistent) = table_counts(&db).await;
    println!(
        "{} indexed, {deleted_photos} deleted by {deletes} deletes, {stored_photos} left",
        count(&report, "indexed")
    );
    assert_eq!(count(&report, "indexed"), 100, "{report:#}");
    assert!(deleted_photos > 0, "the deletes landed mid-batch");
    // Each acknowledged photo was either removed by exactly one delete or is still there.
    assert_eq!(deleted_photos + stored_photos, 100);
    assert_eq!(
        deleted_faces + stored_faces,
        count(&report, "faces_indexed")
    );
    assert_eq!(inconsistent, 0);
    let status = deleter.status("evt").await.expect(200);
    assert_eq!(status["photos_indexed"].as_i64(), Some(stored_photos));
    // No replica finds a deleted photo.
    let present: Vec<String> = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT photo_id FROM photos",
        ))
        .await
        .expect("photo ids")
        .iter()
        .map(|row| row.try_get_by_index(0).unwrap())
        .collect();
    for replica in [&indexer, &deleter] {
        let found = replica.search("evt", selfie.clone(), &[]).await.expect(200);
        for m in found["matches"].as_array().unwrap() {
            assert!(present.iter().any(|p| m["photo_id"] == *p), "{found:#}");
        }
    }
    indexer.stop().await;
    deleter.stop().await;
}
