//! Migrations round-trip (up, down, up) on a fresh database, sessions indexed before a step
//! stay searchable (and are grouped into people at their next write or by the backfill), and a
//! store refuses a database made for another recognizer.

use facepass_domain::ports::{StoreError, VectorStore};
use facepass_domain::{Embedding, EmbeddingSpace, ModelId, SessionId};
use facepass_store_contract::{self as contract, space};
use facepass_vector_store_pgvector::{MIGRATIONS, PgDialect, PgOptions, PgVectorStore, connect};
use facepass_vector_store_sql::migrate;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use facepass_test_support::postgres::TestDatabase;

async fn open(url: &str, space: EmbeddingSpace) -> Result<PgVectorStore, StoreError> {
    facepass_vector_store_pgvector::open(url, space, &PgOptions::default(), contract::options())
        .await
}

async fn tables(db: &sea_orm::DatabaseConnection) -> Vec<String> {
    db.query_all_raw(Statement::from_string(
        DbBackend::Postgres,
        "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'facepass_migrations' \
         ORDER BY tablename::text COLLATE \"C\"",
    ))
    .await
    .unwrap()
    .iter()
    .map(|r| r.try_get_by_index::<String>(0).unwrap())
    .collect()
}

#[tokio::test]
async fn migrations_go_up_down_and_up_again() {
    let database = TestDatabase::create().await;
    let url = database.url.clone();
    let db = connect(&url, &PgOptions::default()).await.unwrap();

    let space = space();
    let up = || migrate::up(&db, &PgDialect, MIGRATIONS, &space);
    let down = || migrate::down(&db, &PgDialect, MIGRATIONS, &space);
    assert_eq!(up().await.unwrap(), vec![1, 2, 3, 4, 5, 6]);
    let all = [
        "audit_events",
        "facepass_space",
        "faces",
        "index_job_photos",
        "index_jobs",
        "photos",
        "sessions",
        "webhook_disabled",
        "webhook_outbox",
    ];
    let with_watches = [&all[..7], &["watch_matches", "watches"], &all[7..]].concat();
    assert_eq!(tables(&db).await, with_watches);
    assert_eq!(up().await.unwrap(), Vec::<i64>::new(), "idempotent");
    // Each step down removes its tables (steps 2 and 4 also add columns and a sequence).
    let before_jobs = &all[..3]
        .iter()
        .chain(&all[5..7])
        .copied()
        .collect::<Vec<_>>();
    for (version, left) in [
        (6, &all[..]),
        (5, &before_jobs[..]),
        (4, &before_jobs[..]),
        (3, &before_jobs[1..]),
        (2, &before_jobs[1..4]),
        (1, &[][..]),
    ] {
        assert_eq!(down().await.unwrap(), Some(version));
        assert_eq!(tables(&db).await, left, "after reverting {version}");
    }
    assert_eq!(down().await.unwrap(), None);
    assert_eq!(up().await.unwrap(), vec![1, 2, 3, 4, 5, 6]);
    assert_eq!(migrate::applied(&db).await.unwrap(), vec![1, 2, 3, 4, 5, 6]);
    drop(db);
}

#[tokio::test]
async fn sessions_indexed_before_migration_2_are_searchable_after_it() {
    let database = TestDatabase::create().await;
    let url = database.url.clone();
    let db = connect(&url, &PgOptions::default()).await.unwrap();
    migrate::up(&db, &PgDialect, &MIGRATIONS[..1], &space())
        .await
        .unwrap();
    let v = "[1,0,0,0,0,0,0,0]";
    db.execute_unprepared(&format!(
        "INSERT INTO photos (session_id, photo_id, face_count, model_id) VALUES ('old', 'p1', 1, 'contract-model'); \
         INSERT INTO faces (face_id, session_id, photo_id, bbox_x, bbox_y, bbox_width, bbox_height, landmarks, det_score, embedding, model_id) \
         VALUES (gen_random_uuid(), 'old', 'p1', 0, 0, 10, 10, '{{0,0,0,0,0,0,0,0,0,0}}', 0.9, '{v}', 'contract-model')"
    ))
    .await
    .unwrap();

    let store = open(&url, space()).await.unwrap();
    let session = SessionId::parse("old").unwrap();
    let query =
        Embedding::normalise(&space(), vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]).unwrap();
    let hits = contract::search(&store, &session, &query, 0.5, 10)
        .await
        .unwrap();
    assert_eq!(hits.total_matches, 1);
    assert_eq!(hits.matches[0].photo_id.as_str(), "p1");
    drop(db);
}

/// A database at migration 3 with session `old`: three photos of one face each, alike.
async fn database_indexed_before_people() -> TestDatabase {
    let database = TestDatabase::create().await;
    let db = connect(&database.url, &PgOptions::default()).await.unwrap();
    migrate::up(&db, &PgDialect, &MIGRATIONS[..3], &space())
        .await
        .unwrap();
    for photo in ["p1", "p2", "p3"] {
        db.execute_unprepared(&format!(
            "INSERT INTO sessions (session_id, generation) VALUES ('old', nextval('facepass_generation')) \
             ON CONFLICT (session_id) DO UPDATE SET generation = nextval('facepass_generation'); \
             INSERT INTO photos (session_id, photo_id, face_count, model_id, generation) \
             SELECT 'old', '{photo}', 1, 'contract-model', generation FROM sessions WHERE session_id = 'old'; \
             INSERT INTO faces (face_id, session_id, photo_id, bbox_x, bbox_y, bbox_width, bbox_height, landmarks, det_score, embedding, model_id) \
             VALUES (gen_random_uuid(), 'old', '{photo}', 0, 0, 10, 10, '{{0,0,0,0,0,0,0,0,0,0}}', 0.9, '[1,0,0,0,0,0,0,0]', 'contract-model')"
        ))
        .await
        .unwrap();
    }
    database
}

#[tokio::test]
async fn sessions_indexed_before_people_are_grouped_by_the_backfill_once() {
    let database = database_indexed_before_people().await;
    let url = database.url.clone();
    // Two replicas: one searches the session before the backfill, the other runs it.
    let searcher = open(&url, space()).await.unwrap();
    let backfill = open(&url, space()).await.unwrap();
    let session = SessionId::parse("old").unwrap();
    let query =
        Embedding::normalise(&space(), vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]).unwrap();
    let (queries, half) = ([query.clone()], contract::cosine(0.5));
    let before = searcher.scores(&session, &queries, half).await.unwrap();
    assert!(before.candidates.iter().all(|c| c.person.is_none()));

    assert_eq!(
        backfill.group_pending(10).await.unwrap(),
        std::slice::from_ref(&session)
    );
    assert!(
        backfill.group_pending(10).await.unwrap().is_empty(),
        "grouped once"
    );
    assert!(searcher.group_pending(10).await.unwrap().is_empty());

    // The other replica sees the persons at its next search.
    let after = searcher
        .scores(&session, &[query], contract::cosine(0.5))
        .await
        .unwrap();
    assert_eq!(after.candidates.len(), 3);
    let person = after.candidates[0].person.expect("grouped");
    assert!(after.candidates.iter().all(|c| c.person == Some(person)));
    assert_eq!(after.people, 1);
}

#[tokio::test]
async fn sessions_indexed_before_people_are_grouped_at_their_next_write() {
    let database = database_indexed_before_people().await;
    let url = database.url.clone();
    let store = open(&url, space()).await.unwrap();
    let session = SessionId::parse("old").unwrap();
    let query =
        Embedding::normalise(&space(), vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]).unwrap();
    let (queries, half) = ([query.clone()], contract::cosine(0.5));
    let before = store.scores(&session, &queries, half).await.unwrap();
    assert_eq!(before.candidates.len(), 3);
    assert!(before.candidates.iter().all(|c| c.person.is_none()));

    store
        .replace_photo(
            &session,
            &facepass_domain::PhotoId::parse("p4").unwrap(),
            vec![contract::face(query.clone(), 0.0)],
        )
        .await
        .unwrap();

    let after = store
        .scores(&session, &[query], contract::cosine(0.5))
        .await
        .unwrap();
    assert_eq!(after.candidates.len(), 4);
    let person = after.candidates[0].person.expect("grouped");
    assert!(after.candidates.iter().all(|c| c.person == Some(person)));
    assert!(store.group_pending(10).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_store_refuses_a_database_of_another_recognizer() {
    let database = TestDatabase::create().await;
    let url = database.url.clone();
    open(&url, space()).await.unwrap();
    let other = EmbeddingSpace {
        model: ModelId::parse("another-recognizer").unwrap(),
        dim: 8,
    };

    let err = open(&url, other).await.unwrap_err();

    assert!(matches!(err, StoreError::ModelMismatch { .. }), "{err:?}");
}

#[tokio::test]
async fn replicas_migrating_at_once_apply_each_step_exactly_once() {
    let database = TestDatabase::create().await;
    let url = database.url.clone();
    let mut runners = Vec::new();
    for _ in 0..6 {
        let url = url.clone();
        runners.push(tokio::spawn(async move {
            let db = connect(&url, &PgOptions::default()).await.unwrap();
            migrate::up(&db, &PgDialect, MIGRATIONS, &space()).await
        }));
    }
    let mut applied = Vec::new();
    for runner in runners {
        applied.extend(runner.await.unwrap().expect("every replica starts"));
    }
    applied.sort();
    assert_eq!(
        applied,
        vec![1, 2, 3, 4, 5, 6],
        "one replica applied each step, the others saw it done"
    );

    let db = connect(&url, &PgOptions::default()).await.unwrap();
    assert_eq!(migrate::applied(&db).await.unwrap(), vec![1, 2, 3, 4, 5, 6]);
    drop(db);
}
