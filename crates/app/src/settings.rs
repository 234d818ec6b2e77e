//! Typed, layered configuration: compiled defaults → `config/default.toml` (and the file
//! named by `FACEPASS_CONFIG`) → environment variables `FACEPASS__SECTION__KEY`.

use std::path::PathBuf;

use facepass_embedder_onnx::{DetectorConfig, EmbedderConfig, RecognizerConfig};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub models: ModelSettings,
    pub storage: StorageSettings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageBackend {
    /// An embedded SQLite file: nothing to run.
    Sqlite,
    /// PostgreSQL with the pgvector extension.
    Postgres,
}

/// `storage.*`: where face vectors live.
#[derive(Debug, Clone, Deserialize)]
pub struct StorageSettings {
    pub backend: StorageBackend,
    /// SQLite: a file path (`sqlite://` prefix optional). Postgres: a `postgres://` URL.
    pub url: String,
    /// Apply pending migrations at startup.
    pub migrate: bool,
    /// Postgres connection pool size.
    pub max_connections: u32,
}

/// `models.*`: which detector and recognizer to run, and where their files are.
#[derive(Debug, Clone, Deserialize)]
pub struct ModelSettings {
    /// Folder holding the ONNX files.
    pub dir: PathBuf,
    /// Detector preset: `det_2.5g`, `det_500m` or `yunet`.
    pub detector: String,
    /// Recognizer preset: `fr_feature` or `mobilefacenet`.
    pub recognizer: String,
    /// Inference worker threads (each holds its own sessions).
    pub workers: usize,
    /// ONNX Runtime threads per session (0 = its default).
    pub intra_threads: usize,
    /// Decoded-pixel limit per image.
    pub max_pixels: u64,
    /// Decode big JPEGs at 1/2..1/8 scale: faster, slightly different embeddings.
    pub reduced_decoding: bool,
    /// Path of `libonnxruntime.so`; `ORT_DYLIB_PATH` when empty.
    pub onnxruntime: Option<PathBuf>,
}

impl Settings {
    /// Loads the layers; `file` (if any) is read after `config/default.toml`.
    pub fn load(file: Option<PathBuf>) -> anyhow::Result<Self> {
        let mut builder = config::Config::builder()
            .set_default("models.dir", "../shared/fixtures/models")?
            .set_default("models.detector", "det_2.5g")?
            .set_default("models.recognizer", "fr_feature")?
            .set_default("models.workers", 1)?
            .set_default("models.intra_threads", 0)?
            .set_default("models.max_pixels", 100_000_000u64)?
            .set_default("models.reduced_decoding", false)?
            .set_default("storage.backend", "sqlite")?
            .set_default("storage.url", "var/facepass.db")?
            .set_default("storage.migrate", true)?
            .set_default("storage.max_connections", 10)?
            .add_source(config::File::with_name("config/default").required(false));
        if let Some(file) = file.or_else(|| std::env::var_os("FACEPASS_CONFIG").map(PathBuf::from))
        {
            builder = builder.add_source(config::File::from(file).required(true));
        }
        let settings = builder
            .add_source(
                config::Environment::with_prefix("FACEPASS")
                    .prefix_separator("__")
                    .separator("__"),
            )
            .build()?
            .try_deserialize()?;
        Ok(settings)
    }
}

impl ModelSettings {
    /// The configured recognizer preset.
    fn recognizer(&self) -> anyhow::Result<RecognizerConfig> {
        RecognizerConfig::preset(&self.recognizer).ok_or_else(|| {
            anyhow::anyhow!(
                "unknown models.recognizer {:?}; known: {:?}",
                self.recognizer,
                RecognizerConfig::PRESETS
            )
        })
    }

    /// The embedding space of the configured recognizer (no model is loaded).
    pub fn space(&self) -> anyhow::Result<facepass_domain::EmbeddingSpace> {
        let recognizer = self.recognizer()?;
        Ok(facepass_domain::EmbeddingSpace {
            model: facepass_domain::ModelId::parse(recognizer.id)?,
            dim: recognizer.dim,
        })
    }

    /// The embedder configuration these settings describe.
    pub fn embedder_config(&self) -> anyhow::Result<EmbedderConfig> {
        let detector = DetectorConfig::preset(&self.detector).ok_or_else(|| {
            anyhow::anyhow!(
                "unknown models.detector {:?}; known: {:?}",
                self.detector,
                DetectorConfig::PRESETS
            )
        })?;
        let mut config = EmbedderConfig::new(&self.dir, detector, self.recognizer()?);
        config.workers = self.workers.max(1);
        config.intra_threads = self.intra_threads;
        config.max_pixels = self.max_pixels;
        config.reduced_decoding = self.reduced_decoding;
        config.onnxruntime = self
            .onnxruntime
            .clone()
            .filter(|p| !p.as_os_str().is_empty());
        Ok(config)
    }
}
