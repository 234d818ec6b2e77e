//! Hostile inputs through the real service: images cut off before their end (interrupted
//! uploads or copies) are refused as truncated, never indexed or searched half-grey.

use serde_json::json;

use crate::support::{fixture_bytes, spawn_app};

#[tokio::test]
async fn truncated_photos_and_selfies_are_invalid_images_with_reason_truncated() {
    let photos = tempfile::tempdir().unwrap();
    let whole = fixture_bytes("fr_two_people.jpg");
    for (name, bytes) in [
        ("whole.jpg", &whole[..]),
        ("half.jpg", &whole[..whole.len() / 2]),
        ("nearly.jpg", &whole[..whole.len() - 2]),
    ] {
        std::fs::write(photos.path().join(name), bytes).unwrap();
    }
    let root = photos.path().display().to_string();
    let app = spawn_app(&[("FACEPASS__PHOTOS__ROOT", &root)]).await;

    app.index("evt", "whole", "whole.jpg", false)
        .await
        .expect(200);
    for key in ["half.jpg", "nearly.jpg"] {
        let refused = app
            .index("evt", key, key, false)
            .await
            .expect_error(422, "invalid_image");
        assert_eq!(refused["error"]["details"]["reason"], "truncated", "{key}");
    }
    let report = app
        .batch(
            "evt",
            &[
                ("half".into(), "half.jpg".into()),
                ("w2".into(), "whole.jpg".into()),
            ],
            false,
        )
        .await
        .expect(200);
    assert_eq!(
        (report["indexed"].clone(), report["failed"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(report["errors"][0]["code"], "invalid_image");
    assert_eq!(app.status("evt").await.expect(200)["photos_indexed"], 2);

    let selfie = fixture_bytes("fr_obama1.jpg");
    let refused = app
        .search("evt", selfie[..selfie.len() * 3 / 4].to_vec(), &[])
        .await
        .expect_error(422, "invalid_image");
    assert_eq!(refused["error"]["details"]["reason"], "truncated");
    app.search("evt", selfie, &[]).await.expect(200);
}
