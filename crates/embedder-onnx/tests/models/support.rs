//! Shared helpers: fixture paths, labels, starting an embedder on presets.

use facepass_domain::ports::EmbedError;
use facepass_domain::{FaceAnalysis, ImageKind};
use facepass_embedder_onnx::{DetectorConfig, EmbedderConfig, OnnxEmbedder, RecognizerConfig};

pub use facepass_test_support::fixtures::{face_bytes as read_face, labels, models_dir};

pub fn config(detector: &str, recognizer: &str) -> EmbedderConfig {
    EmbedderConfig::new(
        models_dir(),
        DetectorConfig::preset(detector).expect("detector preset"),
        RecognizerConfig::preset(recognizer).expect("recognizer preset"),
    )
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
