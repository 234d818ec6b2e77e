//! Models as configuration: every entry checked against its file before anything loads, with
//! an error that names the file; InsightFace pack folders recognised by their file names.

use std::path::Path;

use facepass_embedder_onnx::models::{self, pack};
use facepass_embedder_onnx::{DetectorEntry, DetectorKind, InitError, RecognizerEntry};

use crate::support::{catalogue, models_dir};

fn recognizer(file: &str) -> RecognizerEntry {
    RecognizerEntry {
        file: file.to_owned(),
        id: None,
        dim: None,
        mean: 127.0,
        std: 128.0,
        reliable_face_px: 48.0,
        max_batch: 16,
    }
}

fn detector(kind: DetectorKind, file: &str) -> DetectorEntry {
    DetectorEntry {
        kind,
        file: file.to_owned(),
        input_size: 640,
        score_threshold: 0.5,
        nms_threshold: 0.4,
    }
}

/// The error's text, which must name `file`.
#[track_caller]
fn error_naming(result: Result<impl std::fmt::Debug, InitError>, file: &str) -> String {
    let message = result.expect_err("refused").to_string();
    assert!(message.contains(file), "{message:?} does not name {file}");
    message
}

#[test]
fn the_configured_entries_are_completed_from_their_files() {
    let dir = models_dir();
    let c = catalogue();
    let fr = c.recognizer(&dir, "fr_feature").unwrap();
    assert_eq!((fr.id.as_str(), fr.dim), ("fr_feature", 512));
    let mfn = c.recognizer(&dir, "mobilefacenet").unwrap();
    assert_eq!(
        (mfn.id.as_str(), mfn.dim),
        ("mobilefacenet_sirius_192d", 192)
    );
    for name in ["det_2.5g", "det_500m", "yunet"] {
        let d = c.detector(&dir, "models.detector", name).unwrap();
        assert!(d.dynamic_input, "{name} takes any input size");
    }
}

#[test]
fn a_recognizer_without_an_id_gets_one_from_its_file_content() {
    let dir = models_dir();
    let read = |file: &str, name: &str| {
        models::read(&dir, file)
            .unwrap()
            .recognizer(name, &recognizer(file))
            .unwrap()
    };
    let a = read("fr_feature.onnx", "mine");
    assert!(a.id.starts_with("mine@sha256:"), "{}", a.id);
    assert_eq!(a.id.len(), "mine@sha256:".len() + 16);
    // The dynamic-batch export differs in its bytes: another space, though the outputs agree.
    let b = read("fr_feature_dynbatch.onnx", "mine");
    assert_ne!(a.id, b.id);
    assert_eq!(read("fr_feature.onnx", "mine").id, a.id, "stable");
}

#[test]
fn a_recognizer_declared_with_a_wrong_dimension_is_refused() {
    let file = "mobilefacenet_sirius_192d.onnx";
    let entry = RecognizerEntry {
        dim: Some(512),
        ..recognizer(file)
    };
    let message = error_naming(
        models::read(&models_dir(), file)
            .unwrap()
            .recognizer("mfn", &entry),
        file,
    );
    assert!(
        message.contains("512") && message.contains("192"),
        "{message}"
    );
}

#[test]
fn a_detector_file_given_as_a_recognizer_is_refused() {
    let file = "det_2.5g.onnx";
    let message = error_naming(
        models::read(&models_dir(), file)
            .unwrap()
            .recognizer("r", &recognizer(file)),
        file,
    );
    assert!(message.contains("expected a recognizer"), "{message}");
}

#[test]
fn a_model_of_another_kind_given_as_a_detector_is_refused() {
    let dir = models_dir();
    for (kind, file, expected) in [
        (DetectorKind::Scrfd, "fr_feature.onnx", "SCRFD"),
        (
            DetectorKind::Scrfd,
            "face_detection_yunet_2023mar.onnx",
            "SCRFD",
        ),
        (DetectorKind::Yunet, "det_2.5g.onnx", "YuNet"),
    ] {
        let message = error_naming(
            models::read(&dir, file)
                .unwrap()
                .detector(&detector(kind, file)),
            file,
        );
        assert!(message.contains(expected), "{message}");
    }
}

#[test]
fn a_missing_file_and_an_unknown_name_are_refused_by_name() {
    let dir = models_dir();
    let err = models::read(&dir, "w600k_r50.onnx").unwrap_err();
    assert!(matches!(err, InitError::ModelMissing(_)), "{err}");
    assert!(err.to_string().contains("w600k_r50.onnx"));
    let message = catalogue()
        .recognizer(&dir, "arcface")
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("arcface") && message.contains("fr_feature"),
        "{message}"
    );
    let not_onnx = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(not_onnx.path(), b"\xff\xff\xff not a model").unwrap();
    error_naming(
        models::read(Path::new("/"), &not_onnx.path().display().to_string()),
        &not_onnx.path().display().to_string(),
    );
}

/// A folder holding `files`, each a link to a fixture model: `(name in the pack, fixture)`.
fn pack_folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, fixture) in files {
        std::os::unix::fs::symlink(models_dir().join(fixture), dir.path().join(name)).unwrap();
    }
    dir
}

#[test]
fn a_pack_folder_fills_both_models_and_one_missing_file_is_named() {
    let full = pack_folder(&[
        ("det_500m.onnx", "det_500m.onnx"),
        ("w600k_mbf.onnx", "fr_feature_dynbatch.onnx"),
        ("1k3d68.onnx", "det_2.5g.onnx"),
    ]);
    let (det_name, det, rec_name, rec) = pack(full.path()).unwrap();
    assert_eq!(
        (det_name.as_str(), rec_name.as_str()),
        ("det_500m", "w600k_mbf")
    );
    let det = models::read(full.path(), &det.file)
        .unwrap()
        .detector(&det)
        .unwrap();
    assert_eq!(det.kind, DetectorKind::Scrfd);
    let rec = models::read(full.path(), &rec.file)
        .unwrap()
        .recognizer(&rec_name, &rec)
        .unwrap();
    assert_eq!(rec.dim, 512);
    assert!(rec.id.starts_with("w600k_mbf@sha256:"), "{}", rec.id);

    let partial = pack_folder(&[("w600k_r50.onnx", "fr_feature.onnx")]);
    let message = error_naming(pack(partial.path()), "det_10g.onnx");
    assert!(message.contains("buffalo_l"), "{message}");
    let empty = tempfile::tempdir().unwrap();
    let message = pack(empty.path()).unwrap_err().to_string();
    assert!(message.contains("antelopev2"), "{message}");
}
