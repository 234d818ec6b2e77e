//! Shared helpers: fixture paths, labels, starting an embedder on presets.

use std::path::PathBuf;

use facepass_domain::ports::EmbedError;
use facepass_domain::{FaceAnalysis, ImageKind};
use facepass_embedder_onnx::{DetectorConfig, EmbedderConfig, OnnxEmbedder, RecognizerConfig};

pub fn fixtures() -> PathBuf {
    std::env::var_os("FACEPASS_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures")
        })
}

pub fn face_path(file: &str) -> PathBuf {
    fixtures().join("faces").join(file)
}

pub fn read_face(file: &str) -> Vec<u8> {
    std::fs::read(face_path(file)).unwrap_or_else(|e| panic!("fixture {file}: {e}"))
}

#[derive(Debug, Clone)]
pub struct Label {
    pub file: String,
    pub identities: Vec<String>,
    pub kind: String,
}

pub fn labels() -> Vec<Label> {
    let text = std::fs::read_to_string(fixtures().join("faces/labels.csv")).expect("labels.csv");
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let cols: Vec<&str> = line.trim_end().split(',').collect();
            Label {
                file: cols[0].to_owned(),
                identities: cols[1]
                    .split(';')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
                kind: cols[2].to_owned(),
            }
        })
        .collect()
}

pub fn config(detector: &str, recognizer: &str) -> EmbedderConfig {
    EmbedderConfig::new(
        fixtures().join("models"),
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
