//! The labelled fixtures (`../shared/fixtures`, or `$FACEPASS_FIXTURES`) and the embedder
//! configuration the service runs by default.

use std::path::{Path, PathBuf};

use anyhow::Context;
use facepass::settings::Settings;
use facepass_domain::{FaceAnalysis, ImageKind};
use facepass_embedder_onnx::{EmbedderConfig, OnnxEmbedder};

/// The repository root (this crate lives in `crates/eval`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn fixtures() -> PathBuf {
    std::env::var_os("FACEPASS_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/fixtures"))
}

/// One row of `faces/labels.csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub file: String,
    pub identities: Vec<String>,
    /// `single`, `group`, `noface` or `corrupt`.
    pub kind: String,
}

impl Label {
    pub fn path(&self) -> PathBuf {
        fixtures().join("faces").join(&self.file)
    }
}

pub fn labels() -> anyhow::Result<Vec<Label>> {
    let path = fixtures().join("faces/labels.csv");
    let text = std::fs::read_to_string(&path).with_context(|| format!("{}", path.display()))?;
    Ok(text
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .filter_map(|line| {
            let cols: Vec<&str> = line.trim_end().split(',').collect();
            (cols.len() == 3).then(|| Label {
                file: cols[0].to_owned(),
                identities: cols[1]
                    .split(';')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
                kind: cols[2].to_owned(),
            })
        })
        .collect())
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
    let settings = Settings::load_from(
        Some(repo_root().join("config/default.toml")),
        None,
        std::iter::empty(),
    )?;
    let mut config = settings.models.embedder_config()?;
    config.models_dir = fixtures().join("models");
    Ok(config)
}
