//! The labelled fixtures (`../shared/fixtures`, or `$FACEPASS_FIXTURES`) and the embedder
//! configuration the service runs by default.

use std::path::PathBuf;

use anyhow::Context;
use facepass::settings::Settings;
use facepass_domain::{FaceAnalysis, ImageKind};
use facepass_embedder_onnx::{EmbedderConfig, OnnxEmbedder};

pub use facepass_test_support::fixtures::{Label, fixtures_dir as fixtures, repo_root};

pub fn labels() -> anyhow::Result<Vec<Label>> {
    facepass_test_support::fixtures::try_labels().context("faces/labels.csv of the fixtures")
}

/// Every DEV `single` photo with what `embedder` finds in it (the source of the scenes'
/// faces and of the gallery they are recognised against).
pub fn analyse_singles(embedder: &OnnxEmbedder) -> anyhow::Result<Vec<(Label, FaceAnalysis)>> {
    labels()?
        .into_iter()
        .filter(|l| l.kind == "single")
        .map(|label| {
            let bytes = std::fs::read(label.path())?;
            let analysis = embedder.analyze_blocking(bytes.into(), ImageKind::Photo)?;
            Ok((label, analysis))
        })
        .collect()
}

/// The embedder configuration of `config/default.toml` (the service's defaults, without
/// `FACEPASS__*` overrides), on the fixture models.
pub fn default_embedder_config() -> anyhow::Result<EmbedderConfig> {
    embedder_config(None)
}

/// The service's embedder configuration with `file` read over the defaults (as `--config`
/// does for `facepass`), models from the fixtures.
pub fn embedder_config(file: Option<PathBuf>) -> anyhow::Result<EmbedderConfig> {
    let mut settings = settings(file)?;
    settings.models.dir = fixtures().join("models");
    settings.models.embedder_config()
}

/// The operating cosine of the default recognizer (`[calibration.NAME]` of
/// `config/default.toml`).
pub fn operating_cosine() -> anyhow::Result<f32> {
    let settings = settings(None)?;
    let name = settings.models.recognizer_name()?;
    settings
        .calibration
        .get(&name)
        .map(|c| c.operating_cosine)
        .ok_or_else(|| anyhow::anyhow!("no [calibration.{name}]"))
}

/// The service's settings with `file` read over `config/default.toml` (no environment).
pub fn settings(file: Option<PathBuf>) -> anyhow::Result<Settings> {
    Settings::load_from(
        Some(repo_root().join("config/default.toml")),
        file,
        std::iter::empty(),
    )
}
