//! Models by configuration: a recognizer entry copied from a fixture model under another name
//! runs the whole service, in its own embedding space (from the file's content), and a
//! database made with it refuses another recognizer.

use crate::support::{fixture_bytes, settings, spawn_with};

/// `FACEPASS__...` pairs declaring recognizer `mine` as `fr_feature.onnx` (the fixed-batch
/// file), with fr_feature's calibration, and running it.
fn mine() -> Vec<(&'static str, &'static str)> {
    vec![
        ("FACEPASS__MODELS__RECOGNIZER", "mine"),
        (
            "FACEPASS__MODELS__RECOGNIZERS__MINE__FILE",
            "fr_feature.onnx",
        ),
        ("FACEPASS__MODELS__RECOGNIZERS__MINE__MEAN", "127"),
        ("FACEPASS__MODELS__RECOGNIZERS__MINE__STD", "128"),
        ("FACEPASS__CALIBRATION__MINE__OPERATING_COSINE", "0.42"),
        ("FACEPASS__CALIBRATION__MINE__SLOPE", "6.49"),
        ("FACEPASS__CALIBRATION__MINE__FALSE_MATCH_RATE", "9.6e-5"),
        ("FACEPASS__CALIBRATION__MINE__COSINE_PER_DECADE", "0.066"),
        ("FACEPASS__CALIBRATION__MINE__JOIN_COSINE", "0.40"),
        ("FACEPASS__CALIBRATION__MINE__MERGE_COSINE", "0.45"),
        ("FACEPASS__CALIBRATION__MINE__FLOOR_COSINE", "0.30"),
    ]
}

#[tokio::test]
async fn a_recognizer_entry_under_another_name_runs_end_to_end_in_its_own_space() {
    let dir = tempfile::tempdir().unwrap();
    // The database outlives the service, which removes its own folder when stopped.
    let kept = tempfile::tempdir().unwrap();
    let db = kept.path().join("facepass.db");
    let mut overrides = mine();
    overrides.push(("FACEPASS__STORAGE__URL", db.to_str().unwrap()));
    let configured = settings(dir.path(), &overrides);
    let space = configured.models.space().unwrap();
    assert!(
        space.model.as_str().starts_with("mine@sha256:"),
        "{}",
        space.model
    );
    assert_eq!(space.dim, 512, "read from the file");

    let app = spawn_with(configured, Some(dir)).await;
    app.index("s1", "obama-1", "fr_obama.jpg", false)
        .await
        .expect(200);
    app.index("s1", "biden-1", "fr_biden.jpg", false)
        .await
        .expect(200);
    let found = app
        .search("s1", fixture_bytes("fr_obama1.jpg"), &[])
        .await
        .expect(200);
    let ids: Vec<&str> = found["matches"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["photo_id"].as_str())
        .collect();
    assert_eq!(ids, ["obama-1"], "{found:#}");
    let status = app.status("s1").await.expect(200);
    assert_eq!(status["model"], space.model.as_str());
    app.stop().await;

    // The database holds `mine`'s vectors: the default recognizer may not open it.
    let other = settings(
        kept.path(),
        &[("FACEPASS__STORAGE__URL", db.to_str().unwrap())],
    );
    let default_space = other.models.space().unwrap();
    let refused = facepass::adapters::open_store(&other, default_space)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("mine@sha256:"), "{refused:#}");
}

#[tokio::test]
async fn a_model_that_does_not_fit_its_entry_stops_startup_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut overrides = mine();
    overrides[1] = ("FACEPASS__MODELS__RECOGNIZERS__MINE__FILE", "det_500m.onnx");
    let err = facepass::startup::Application::build(settings(dir.path(), &overrides))
        .await
        .unwrap_err();
    let message = format!("{err:#}");
    assert!(
        message.contains("det_500m.onnx") && message.contains("expected a recognizer"),
        "{message}"
    );
}
