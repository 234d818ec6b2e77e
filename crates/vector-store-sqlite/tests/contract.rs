//! The VectorStore contract on a fresh SQLite file per test.

// Tests: a failed expectation is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use facepass_domain::EmbeddingSpace;
use facepass_store_contract::Guarded;
use facepass_vector_store_sqlite::{SqliteDialect, SqliteVectorStore};

async fn fresh(space: EmbeddingSpace) -> Guarded<SqliteVectorStore> {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = facepass_vector_store_sqlite::open(
        &dir.path().join("facepass.db"),
        space,
        true,
        facepass_store_contract::options(),
    )
    .await
    .expect("store opens");
    Guarded::new(store, dir)
}

facepass_store_contract::vector_store_contract!(fresh);

use sea_orm::ConnectionTrait;

#[tokio::test]
async fn migrations_go_up_down_and_up_again() {
    use facepass_store_contract::space;
    use facepass_vector_store_sql::migrate;
    let dir = tempfile::tempdir().unwrap();
    let db = facepass_vector_store_sqlite::connect(&dir.path().join("m.db"))
        .await
        .unwrap();
    let steps = facepass_vector_store_sqlite::MIGRATIONS;

    let space = space();
    let up = |steps| migrate::up(&db, &SqliteDialect, steps, &space);
    let down = || migrate::down(&db, &SqliteDialect, steps, &space);
    assert_eq!(up(steps).await.unwrap(), vec![1, 2, 3, 4, 5, 6]);
    assert_eq!(up(steps).await.unwrap(), Vec::<i64>::new());
    for version in [6, 5, 4, 3, 2, 1] {
        assert_eq!(down().await.unwrap(), Some(version));
    }
    assert_eq!(down().await.unwrap(), None);
    // Step 2 backfills the sessions of photos indexed before it.
    assert_eq!(up(&steps[..1]).await.unwrap(), vec![1]);
    db.execute_unprepared(
        "INSERT INTO photos (session_id, photo_id, face_count, model_id, indexed_at) \
         VALUES ('a', 'p1', 0, 'contract-model', 0), ('a', 'p2', 0, 'contract-model', 0), \
                ('b', 'p1', 0, 'contract-model', 0)",
    )
    .await
    .unwrap();
    assert_eq!(up(steps).await.unwrap(), vec![2, 3, 4, 5, 6]);
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            "SELECT (SELECT count(*) FROM sessions), (SELECT value FROM facepass_generation), \
                    (SELECT count(*) FROM photos WHERE generation = 0)",
        ))
        .await
        .unwrap()
        .unwrap();
    let counts: Vec<i64> = (0..3).map(|i| row.try_get_by_index(i).unwrap()).collect();
    assert_eq!(counts, [2, 2, 0]);
    drop(db);
    // Reopening with another recognizer is refused.
    let other = facepass_domain::EmbeddingSpace {
        model: facepass_domain::ModelId::parse("x").unwrap(),
        dim: 8,
    };
    let err = facepass_vector_store_sqlite::open(
        &dir.path().join("m.db"),
        other,
        true,
        facepass_store_contract::options(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            facepass_domain::ports::StoreError::ModelMismatch { .. }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn sessions_indexed_before_people_are_grouped_by_the_backfill_once() {
    use facepass_domain::ports::VectorStore;
    use facepass_domain::{Embedding, PhotoId};
    use facepass_store_contract::{options, space};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let session = facepass_domain::SessionId::parse("old").unwrap();
    let query =
        Embedding::normalise(&space(), vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]).unwrap();
    let face = facepass_store_contract::face(query.clone(), 0.0);
    {
        let store = facepass_vector_store_sqlite::open(&path, space(), true, options())
            .await
            .unwrap();
        for photo in ["p1", "p2", "p3"] {
            let photo = PhotoId::parse(photo).unwrap();
            store
                .replace_photo(&session, &photo, vec![face.clone()])
                .await
                .unwrap();
        }
    }
    // As migration 0004 leaves a session indexed before it: no persons, not grouped.
    let db = facepass_vector_store_sqlite::connect(&path).await.unwrap();
    db.execute_unprepared("UPDATE faces SET person_id = NULL; UPDATE sessions SET grouped = 0")
        .await
        .unwrap();
    drop(db);

    let store = facepass_vector_store_sqlite::open(&path, space(), true, options())
        .await
        .unwrap();
    let before = store
        .scores(
            &session,
            std::slice::from_ref(&query),
            facepass_store_contract::cosine(0.5),
        )
        .await
        .unwrap();
    assert!(before.candidates.iter().all(|c| c.person.is_none()));
    assert_eq!(
        store.group_pending(10).await.unwrap(),
        std::slice::from_ref(&session)
    );
    assert!(
        store.group_pending(10).await.unwrap().is_empty(),
        "grouped once"
    );
    let after = store
        .scores(&session, &[query], facepass_store_contract::cosine(0.5))
        .await
        .unwrap();
    let person = after.candidates[0].person.expect("grouped");
    assert!(after.candidates.iter().all(|c| c.person == Some(person)));
    assert_eq!((after.candidates.len(), after.people), (3, 1));
}
