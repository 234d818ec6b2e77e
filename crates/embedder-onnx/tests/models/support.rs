//! Shared helpers: fixture paths, labels, starting an embedder on the entries of
//! `config/default.toml`.

use facepass_domain::ports::EmbedError;
use facepass_domain::{FaceAnalysis, ImageKind};
use facepass_embedder_onnx::config::DEFAULT_FINE_DETECTOR;
use facepass_embedder_onnx::{Catalogue, EmbedderConfig, OnnxEmbedder};

pub use facepass_test_support::fixtures::{face_bytes as read_face, labels, models_dir};

/// `config/default.toml`, the configuration the service starts with.
pub fn default_toml() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/default.toml");
    std::fs::read_to_string(path).expect("config/default.toml")
}

/// The model entries of `config/default.toml`.
pub fn catalogue() -> Catalogue {
    Catalogue::repository_defaults().expect("model tables")
}

/// The embedder of two configured entries over the fixture models, the default fine detector
/// for small faces.
pub fn config(detector: &str, recognizer: &str) -> EmbedderConfig {
    catalogue()
        .embedder(
            &models_dir(),
            detector,
            recognizer,
            Some(DEFAULT_FINE_DETECTOR),
        )
        .expect("configured entries match their files")
}

/// The operating cosine `[calibration.NAME]` of `config/default.toml` gives a recognizer.
pub fn operating_cosine(recognizer: &str) -> f32 {
    let doc: toml::Table = toml::from_str(&default_toml()).expect("toml");
    doc["calibration"][recognizer]["operating_cosine"]
        .as_float()
        .expect("operating_cosine") as f32
}

pub fn embedder(detector: &str, recognizer: &str) -> OnnxEmbedder {
    OnnxEmbedder::start(&config(detector, recognizer))
        .expect("embedder starts on the fixture models")
}

pub fn analyze(embedder: &OnnxEmbedder, bytes: Vec<u8>) -> Result<FaceAnalysis, EmbedError> {
    embedder.analyze_blocking(bytes.into(), ImageKind::Photo)
}

pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
