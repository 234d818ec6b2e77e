//! The Pixora workflow on the production adapters: PostgreSQL + pgvector (a fresh database)
//! and S3 (a fresh SeaweedFS bucket holding fixture photos), both from
//! `cargo xtask services up` (or `FACEPASS_TEST_DATABASE_URL` / `FACEPASS_TEST_S3_ENDPOINT`).

use facepass_test_support::postgres::TestDatabase;
use facepass_test_support::s3::{self, TestBucket};

use crate::support::{fixture_bytes, settings, spawn_with};

/// A new bucket with the fixture `files` under `sessions/evt/`; removed with the guard.
pub async fn fresh_bucket(files: &[&str]) -> TestBucket {
    let objects: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|file| (format!("sessions/evt/{file}"), fixture_bytes(file)))
        .collect();
    TestBucket::create("facepass-api", &objects).await
}

/// `FACEPASS__PHOTOS__*` settings for `bucket` on the S3 server at `endpoint`.
pub fn s3_settings<'a>(bucket: &'a str, endpoint: &'a str) -> [(&'static str, &'a str); 7] {
    [
        ("FACEPASS__PHOTOS__BACKEND", "s3"),
        ("FACEPASS__PHOTOS__BUCKET", bucket),
        ("FACEPASS__PHOTOS__ENDPOINT", endpoint),
        ("FACEPASS__PHOTOS__REGION", s3::REGION),
        ("FACEPASS__PHOTOS__ACCESS_KEY_ID", s3::ACCESS_KEY),
        ("FACEPASS__PHOTOS__SECRET_ACCESS_KEY", s3::SECRET_KEY),
        ("FACEPASS__PHOTOS__FORCE_PATH_STYLE", "true"),
    ]
}

#[tokio::test]
async fn the_pixora_workflow_runs_on_postgres_and_s3() {
    let files = [
        "fr_obama.jpg",
        "fr_obama1.jpg",
        "fr_biden.jpg",
        "fr_two_people.jpg",
        "corrupt.jpg",
    ];
    let (database, bucket) = (TestDatabase::create().await, fresh_bucket(&files).await);
    let dir = tempfile::tempdir().expect("temp dir");
    let endpoint = s3::endpoint();
    let app = spawn_with(
        settings(
            dir.path(),
            &[
                [
                    ("FACEPASS__STORAGE__BACKEND", "postgres"),
                    ("FACEPASS__STORAGE__URL", database.url.as_str()),
                ]
                .as_slice(),
                &s3_settings(&bucket.name, &endpoint),
            ]
            .concat(),
        ),
        Some(dir),
    )
    .await;

    let health = app
        .send(app.client.get(app.url("/api/v2/health")))
        .await
        .expect(200);
    assert_eq!(health["checks"]["database"], "ok");
    assert_eq!(health["checks"]["photo_source"], "ok");

    let mut photos: Vec<(String, String)> = files
        .iter()
        .map(|f| (f.replace('.', "_"), format!("sessions/evt/{f}")))
        .collect();
    photos.push(("ghost".into(), "sessions/evt/ghost.jpg".into()));
    let report = app.batch("evt", &photos, false).await.expect(200);
    assert_eq!(
        (
            report["total"].as_u64(),
            report["indexed"].as_u64(),
            report["failed"].as_u64()
        ),
        (Some(6), Some(4), Some(2)),
        "{report:#}"
    );
    assert_eq!(report["faces_indexed"], 5);
    let codes: Vec<&str> = report["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["code"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(codes, ["invalid_image", "photo_not_found"]);

    let status = app.status("evt").await.expect(200);
    assert_eq!(
        (
            status["photos_indexed"].as_u64(),
            status["faces_indexed"].as_u64()
        ),
        (Some(4), Some(5))
    );

    let found = app
        .search("evt", fixture_bytes("fr_obama2.jpg"), &[])
        .await
        .expect(200);
    let mut ids: Vec<&str> = found["matches"]
        .as_array()
        .expect("matches")
        .iter()
        .map(|m| m["photo_id"].as_str().unwrap_or_default())
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        ["fr_obama1_jpg", "fr_obama_jpg", "fr_two_people_jpg"],
        "{found:#}"
    );

    let one = app
        .index("evt", "solo", "sessions/evt/fr_biden.jpg", false)
        .await
        .expect(200);
    assert_eq!(one["faces_indexed"], 1);
    let missing = app
        .index("evt", "solo-2", "sessions/evt/nope.jpg", false)
        .await;
    missing.expect_error(422, "photo_not_found");

    let deleted = app.delete_photo("evt", "fr_obama_jpg").await.expect(200);
    assert_eq!(deleted["deleted_faces"], 1);
    let deleted = app.delete_session("evt").await.expect(200);
    assert_eq!(
        (
            deleted["deleted_photos"].as_u64(),
            deleted["deleted_faces"].as_u64()
        ),
        (Some(4), Some(5))
    );
    let status = app.status("evt").await.expect(200);
    assert_eq!(status["indexed"], false);
    app.stop().await;
}
