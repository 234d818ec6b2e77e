//! The Pixora workflow against the real service (SQLite + photo folder, real models): batch
//! index → status → search → delete one photo → delete session → status; and the per-photo
//! rules of indexing (skip, force, duplicates, failures that do not fail the batch).

use crate::support::{fixture_bytes, spawn_app};

fn photos(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(p, k)| ((*p).to_owned(), (*k).to_owned()))
        .collect()
}

#[tokio::test]
async fn the_pixora_workflow_runs_end_to_end() {
    let app = spawn_app(&[]).await;
    let session = "evt-2026-11-21";

    // Arrange/Act: index a small session, one photo missing and one not an image.
    let report = app
        .batch(
            session,
            &photos(&[
                ("obama-1", "fr_obama.jpg"),
                ("obama-2", "fr_obama1.jpg"),
                ("biden-1", "fr_biden.jpg"),
                ("two-people", "fr_two_people.jpg"),
                ("coffee", "skimage_coffee.png"),
                ("gone", "sessions/missing.jpg"),
                ("broken", "corrupt.jpg"),
                ("obama-1", "fr_obama.jpg"),
            ]),
            false,
        )
        .await
        .expect(200);

    assert_eq!(report["total"], 7, "{report:#}");
    assert_eq!(report["indexed"], 5);
    assert_eq!(report["failed"], 2);
    assert_eq!(report["skipped"], 0);
    assert_eq!(report["photos_without_faces"], 1);
    assert_eq!(report["faces_indexed"], 1 + 1 + 1 + 2);
    let mut errors: Vec<(String, String)> = report["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (
                e["photo_id"].as_str().unwrap_or_default().to_owned(),
                e["code"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    errors.sort();
    assert_eq!(
        errors,
        [
            ("broken".to_owned(), "invalid_image".to_owned()),
            ("gone".to_owned(), "photo_not_found".to_owned())
        ]
    );

    let status = app.status(session).await.expect(200);
    assert_eq!(status["indexed"], true);
    assert_eq!(status["photos_indexed"], 5);
    assert_eq!(status["faces_indexed"], 5);
    assert_eq!(status["photos_without_faces"], 1);
    assert_eq!(status["model"], "fr_feature");
    assert!(status["last_indexed_at"].is_string());

    // Obama's selfie finds his two portraits and the two-people photo, not Biden's.
    let found = app
        .search(session, fixture_bytes("fr_obama2.jpg"), &[])
        .await
        .expect(200);
    let ids: Vec<&str> = found["matches"]
        .as_array()
        .expect("matches")
        .iter()
        .map(|m| m["photo_id"].as_str().unwrap_or_default())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(sorted, ["obama-1", "obama-2", "two-people"], "{found:#}");
    assert_eq!(found["total_matches"], 3);
    let sims: Vec<f64> = found["matches"]
        .as_array()
        .expect("matches")
        .iter()
        .map(|m| m["similarity"].as_f64().unwrap_or_default())
        .collect();
    assert!(sims.windows(2).all(|w| w[0] >= w[1]), "sorted: {sims:?}");
    assert!(sims.iter().all(|s| (0.7..=1.0).contains(s)), "{sims:?}");
    let best = &found["matches"][0];
    assert!(best["cosine"].as_f64().unwrap_or_default() > 0.42);
    assert!(best["confidence"].as_f64().unwrap_or_default() > 0.5);
    assert!(best["face"]["face_id"].is_string());
    assert!(
        found["query_face"]["det_score"]
            .as_f64()
            .unwrap_or_default()
            > 0.5
    );

    // `limit` cuts the list, not the count.
    let cut = app
        .search(session, fixture_bytes("fr_obama2.jpg"), &[("limit", "1")])
        .await
        .expect(200);
    assert_eq!(cut["matches"].as_array().map(Vec::len), Some(1));
    assert_eq!(cut["total_matches"], 3);
    assert_eq!(cut["matches"][0]["photo_id"], ids[0]);

    // The photographer removes one photo.
    let deleted = app.delete_photo(session, "obama-2").await.expect(200);
    assert_eq!(
        (
            deleted["deleted_photos"].as_u64(),
            deleted["deleted_faces"].as_u64()
        ),
        (Some(1), Some(1))
    );
    let again = app.delete_photo(session, "obama-2").await.expect(200);
    assert_eq!(again["deleted_photos"], 0, "idempotent");
    let found = app
        .search(session, fixture_bytes("fr_obama2.jpg"), &[])
        .await
        .expect(200);
    assert_eq!(found["total_matches"], 2);

    // The session is deleted.
    let deleted = app.delete_session(session).await.expect(200);
    assert_eq!(
        (
            deleted["deleted_photos"].as_u64(),
            deleted["deleted_faces"].as_u64()
        ),
        (Some(4), Some(4))
    );
    let status = app.status(session).await.expect(200);
    assert_eq!(status["indexed"], false);
    assert_eq!(status["photos_indexed"], 0);
    assert!(status["last_indexed_at"].is_null());
    let found = app
        .search(session, fixture_bytes("fr_obama2.jpg"), &[])
        .await
        .expect(200);
    assert_eq!(found["total_matches"], 0);
    app.stop().await;
}

#[tokio::test]
async fn an_indexed_photo_is_skipped_unless_forced() {
    let app = spawn_app(&[]).await;

    let first = app
        .index("s1", "p1", "fr_kit_with_rose.jpg", false)
        .await
        .expect(200);
    assert_eq!(first["status"], "indexed");
    assert_eq!(first["faces_indexed"], 2);
    assert_eq!(first["no_faces"], false);
    let face_ids: Vec<String> = first["faces"]
        .as_array()
        .expect("faces")
        .iter()
        .map(|f| f["face_id"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(face_ids.len(), 2);

    let skipped = app
        .index("s1", "p1", "fr_kit_with_rose.jpg", false)
        .await
        .expect(200);
    assert_eq!(skipped["status"], "skipped");
    assert_eq!(skipped["faces_indexed"], 2);
    assert_eq!(skipped["faces"].as_array().map(Vec::len), Some(0));

    // Forced with another key: the photo's faces are replaced, not added to.
    let forced = app
        .index("s1", "p1", "fr_obama.jpg", true)
        .await
        .expect(200);
    assert_eq!(forced["status"], "indexed");
    assert_eq!(forced["faces_indexed"], 1);
    assert!(
        !face_ids.contains(
            &forced["faces"][0]["face_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        )
    );
    let status = app.status("s1").await.expect(200);
    assert_eq!(
        (
            status["photos_indexed"].as_u64(),
            status["faces_indexed"].as_u64()
        ),
        (Some(1), Some(1))
    );

    // A batch re-run reports the same `indexed`, now all skipped.
    let pairs = photos(&[("p1", "fr_obama.jpg"), ("p2", "fr_biden.jpg")]);
    let run1 = app.batch("s1", &pairs, false).await.expect(200);
    let run2 = app.batch("s1", &pairs, false).await.expect(200);
    assert_eq!(
        (run1["indexed"].as_u64(), run1["skipped"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(
        (run2["indexed"].as_u64(), run2["skipped"].as_u64()),
        (Some(2), Some(2))
    );
    app.stop().await;
}

#[tokio::test]
async fn a_photo_without_faces_is_indexed_with_no_faces() {
    let app = spawn_app(&[]).await;
    let body = app
        .index("s1", "cat", "skimage_chelsea.png", false)
        .await
        .expect(200);
    assert_eq!(body["status"], "indexed");
    assert_eq!(body["faces_indexed"], 0);
    assert_eq!(body["no_faces"], true);
    let status = app.status("s1").await.expect(200);
    assert_eq!(status["indexed"], true);
    assert_eq!(status["photos_without_faces"], 1);
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_session_searches_empty_and_reports_not_indexed() {
    let app = spawn_app(&[]).await;
    let found = app
        .search("never-indexed", fixture_bytes("fr_biden.jpg"), &[])
        .await
        .expect(200);
    assert_eq!(found["matches"], serde_json::json!([]));
    assert_eq!(found["total_matches"], 0);
    let status = app.status("never-indexed").await.expect(200);
    assert_eq!(status["indexed"], false);
    assert!(status["model"].is_null());
    app.stop().await;
}

#[tokio::test]
async fn a_tight_face_crop_is_found_as_a_selfie() {
    let app = spawn_app(&[]).await;
    app.index("s1", "hanks", "insightface_Tom_Hanks_54745.png", false)
        .await
        .expect(200);
    let found = app
        .search("s1", fixture_bytes("insightface_Tom_Hanks_54745.png"), &[])
        .await
        .expect(200);
    assert_eq!(found["matches"][0]["photo_id"], "hanks", "{found:#}");
    app.stop().await;
}

#[tokio::test]
async fn real_selfies_that_cannot_be_searched_get_their_codes() {
    let app = spawn_app(&[
        ("FACEPASS__SEARCH__MAX_SELFIE_BYTES", "600000"),
        ("FACEPASS__RATE_LIMIT__ENABLED", "true"),
        ("FACEPASS__RATE_LIMIT__SEARCH_BURST", "4"),
        ("FACEPASS__RATE_LIMIT__SEARCH_PER_MINUTE", "1"),
    ])
    .await;
    let cases = [
        ("skimage_coffee.png", 422, "no_face_detected"),
        ("fr_two_people.jpg", 422, "multiple_faces"),
        ("corrupt.jpg", 422, "invalid_image"),
        ("deepface_img49.jpg", 413, "payload_too_large"),
    ];
    for (file, status, code) in cases {
        let body = app
            .search("s1", fixture_bytes(file), &[])
            .await
            .expect_error(status, code);
        if code == "multiple_faces" {
            assert_eq!(
                body["error"]["details"]["faces"].as_array().map(Vec::len),
                Some(2)
            );
        }
    }
    // Three searches above reached the handler (the oversized body was refused before it,
    // taking no token); the fourth passes, the fifth waits for the next token.
    app.search("s1", fixture_bytes("fr_obama1.jpg"), &[])
        .await
        .expect(200);
    let limited = app.search("s1", fixture_bytes("fr_obama1.jpg"), &[]).await;
    let retry: u64 = limited
        .retry_after
        .as_deref()
        .and_then(|s| s.parse().ok())
        .expect("Retry-After seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    limited.expect_error(429, "rate_limited");
    app.stop().await;
}

#[tokio::test]
async fn photo_limits_apply_to_fetched_photos() {
    let app = spawn_app(&[
        ("FACEPASS__PHOTOS__MAX_BYTES", "500000"),
        ("FACEPASS__MODELS__MAX_PIXELS", "1000000"),
    ])
    .await;
    // 692 kB: over the byte limit. 280 kB but 910x1137 pixels: over the pixel limit.
    // 487 kB and 1126x661: within both.
    app.index("s1", "p1", "deepface_img49.jpg", false)
        .await
        .expect_error(422, "photo_too_large");
    app.index("s1", "p2", "fr_obama.jpg", false)
        .await
        .expect_error(422, "image_too_large");
    app.index("s1", "p3", "fr_two_people.jpg", false)
        .await
        .expect(200);
    app.stop().await;
}
