//! Killing every database connection in the middle of a batch of writes loses no committed
//! photo and leaves no half-written one.

use std::sync::Arc;

use facepass_domain::ports::{StoreError, VectorStore};
use facepass_domain::{
    BoundingBox, DetectedFace, Embedding, FaceQuality, PhotoId, Point, SessionId,
};
use facepass_store_contract::space;
use facepass_vector_store_pgvector::{PgOptions, connect};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use facepass_test_support::postgres::{TestDatabase, admin_url};

fn faces(n: usize) -> Vec<DetectedFace> {
    (0..n)
        .map(|i| DetectedFace {
            bbox: BoundingBox {
                x: i as f32,
                y: 0.0,
                width: 10.0,
                height: 10.0,
            },
            landmarks: [Point { x: 0.0, y: 0.0 }; 5],
            det_score: 0.9,
            embedding: Embedding::normalise(&space(), (0..8).map(|d| (d + i + 1) as f32).collect())
                .unwrap(),
            quality: FaceQuality::default(),
        })
        .collect()
}

#[tokio::test]
async fn killing_connections_mid_batch_keeps_every_committed_photo_whole() {
    let database = TestDatabase::create().await;
    let (url, name) = (database.url.clone(), database.name.clone());
    let store = Arc::new(
        facepass_vector_store_pgvector::open(
            &url,
            space(),
            &PgOptions::default(),
            facepass_store_contract::options(),
        )
        .await
        .unwrap(),
    );
    let session = SessionId::parse("batch").unwrap();
    let admin = connect(
        &admin_url(),
        &PgOptions {
            max_connections: 1,
            ..Default::default()
        },
    )
    .await
    .unwrap();

    // 8 writers, each replacing 40 photos of 1..=6 faces; the killer terminates every backend
    // of the database a few times while they run.
    let mut writers = Vec::new();
    for w in 0..8 {
        let (store, session) = (store.clone(), session.clone());
        writers.push(tokio::spawn(async move {
            let mut results = Vec::new();
            for i in 0..40 {
                let photo = PhotoId::parse(format!("w{w}-p{i}")).unwrap();
                let n = 1 + (w + i) % 6;
                let r = store.replace_photo(&session, &photo, faces(n)).await;
                results.push((photo, n, r));
            }
            results
        }));
    }
    let kill = Statement::from_string(
        DbBackend::Postgres,
        format!(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '{name}'"
        ),
    );
    let mut killed = 0i64;
    for _ in 0..5 {
        tokio::time::sleep(std::time::Duration::from_millis(40)).await;
        let row = admin.query_one_raw(kill.clone()).await.unwrap().unwrap();
        killed += row.try_get_by_index::<i64>(0).unwrap();
    }
    let mut outcomes = Vec::new();
    for w in writers {
        outcomes.extend(w.await.unwrap());
    }

    let (ok, failed): (Vec<_>, Vec<_>) = outcomes.iter().partition(|(_, _, r)| r.is_ok());
    println!(
        "terminated {killed} backends; {} photos committed, {} failed",
        ok.len(),
        failed.len()
    );
    assert!(killed > 0, "the test must actually kill connections");
    for (_, _, r) in &failed {
        assert!(
            matches!(r, Err(StoreError::Unavailable(_))),
            "a lost connection is Unavailable: {r:?}"
        );
    }
    // Every acknowledged photo is there, whole.
    for (photo, n, _) in &ok {
        assert_eq!(
            store.indexed_faces(&session, photo).await.unwrap(),
            Some(*n as u64),
            "{photo}"
        );
    }
    // No photo anywhere has a face count that disagrees with its face rows.
    let db = store.connection();
    let torn = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT count(*) FROM photos p WHERE p.face_count <> \
             (SELECT count(*) FROM faces f WHERE f.session_id = p.session_id AND f.photo_id = p.photo_id)",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap();
    assert_eq!(torn, 0, "half-written photos");
}
