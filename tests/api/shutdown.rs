//! Graceful shutdown during a batch: photos in flight finish, photos not started are reported
//! as `shutting_down`, and every photo the answer calls indexed is in the store afterwards.

use std::time::Duration;

use serde_json::json;

use crate::support::{API_KEY, read, settings, spawn_with};

#[tokio::test]
async fn a_shutdown_mid_batch_loses_no_accepted_photo() {
    let dir = tempfile::tempdir().expect("temp dir");
    let overrides = [("FACEPASS__INDEXING__BATCH_CONCURRENCY", "1")];
    let app = spawn_with(settings(dir.path(), &overrides), None).await;
    let files = [
        "deepface_img1.jpg",
        "deepface_img2.jpg",
        "deepface_img4.jpg",
        "deepface_img5.jpg",
        "deepface_img6.jpg",
        "deepface_img7.jpg",
        "deepface_img10.jpg",
        "deepface_img11.jpg",
        "deepface_img49.jpg",
        "deepface_img50.jpg",
        "deepface_img51.jpg",
        "deepface_img47.jpg",
    ];
    let photos: Vec<_> = files
        .iter()
        .enumerate()
        .map(|(i, f)| json!({"photo_id": format!("p{i}"), "s3_key": f}))
        .collect();
    let request = tokio::spawn(read(
        app.client
            .post(app.url("/api/v2/index/batch"))
            .header("X-API-Key", API_KEY)
            .json(&json!({"session_id": "s1", "photos": photos})),
    ));
    // Stop once the first photo is stored.
    for _ in 0..300 {
        let status = app.status("s1").await.expect(200);
        if status["photos_indexed"].as_u64() >= Some(1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    app.stop().await;
    let answer = request.await.expect("the request finished").expect(200);

    let (indexed, failed) = (
        answer["indexed"].as_u64().unwrap(),
        answer["failed"].as_u64().unwrap(),
    );
    assert_eq!(indexed + failed, 12, "{answer:#}");
    assert!(
        indexed >= 1 && failed >= 1,
        "the stop landed mid-batch: {answer:#}"
    );
    for error in answer["errors"].as_array().unwrap() {
        assert_eq!(error["code"], "shutting_down", "{answer:#}");
    }

    // A new process on the same database sees exactly the photos reported indexed.
    let reopened = spawn_with(settings(dir.path(), &overrides), Some(dir)).await;
    let status = reopened.status("s1").await.expect(200);
    assert_eq!(
        status["photos_indexed"].as_u64(),
        Some(indexed),
        "{status:#}"
    );
    reopened.stop().await;
}
