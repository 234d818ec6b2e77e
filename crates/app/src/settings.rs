//! Typed, layered configuration: compiled defaults → `config/default.toml` (and the file
//! named by `--config` / `FACEPASS_CONFIG`) → environment variables `FACEPASS__SECTION__KEY`.
//! Secrets are wrapped so `Debug` output and logs never show them.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use facepass_domain::SimilarityCalibration;
use facepass_domain::people::{ImpostorTail, PeoplePolicy};
use facepass_domain::use_cases::{QualityThresholds, SelfiePolicy};
use facepass_embedder_onnx::config as config_defaults;
use facepass_embedder_onnx::{DetectorConfig, EmbedderConfig, RecognizerConfig};
use serde::{Deserialize, Deserializer};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub auth: AuthSettings,
    pub storage: StorageSettings,
    pub photos: PhotoSettings,
    pub models: ModelSettings,
    /// Cosine → similarity map per recognizer preset (see [`CalibrationSettings`]).
    pub calibration: BTreeMap<String, CalibrationSettings>,
    pub indexing: IndexingSettings,
    pub search: SearchSettings,
    pub rate_limit: RateLimitSettings,
    pub retention: RetentionSettings,
}

pub use facepass_domain::Secret;

/// A [`Secret`] from a string.
fn secret<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Secret, D::Error> {
    String::deserialize(deserializer).map(Secret::new)
}

/// An optional [`Secret`] from a string.
fn optional_secret<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Secret>, D::Error> {
    Option::<String>::deserialize(deserializer).map(|s| s.map(Secret::new))
}

/// `server.*`: where the HTTP API listens.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: String,
    /// 0 picks a free port (tests).
    pub port: u16,
    /// How long a shutdown waits for requests and photos in flight.
    pub shutdown_timeout_secs: u64,
    /// Take the client address for rate limiting from the first `X-Forwarded-For` entry
    /// (only behind a proxy that sets it).
    pub trust_forwarded_for: bool,
    /// Largest JSON request body.
    pub max_json_bytes: u64,
    /// Browser origins allowed to call the API cross-origin (CORS), e.g.
    /// `https://app.pixora.example`; a TOML list or comma-separated. Empty (the default): no
    /// CORS headers, so browsers keep other sites' pages out.
    #[serde(deserialize_with = "strings_or_csv")]
    pub cors_origins: Vec<String>,
}

impl ServerSettings {
    pub fn shutdown_timeout(&self) -> Duration {
        Duration::from_secs(self.shutdown_timeout_secs)
    }
}

/// `auth.*`: who may index and delete.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// Accepted `X-API-Key` values: a TOML list, or comma-separated in the environment
    /// (`FACEPASS__AUTH__API_KEYS=key1,key2`). Empty: indexing answers 401.
    #[serde(deserialize_with = "list_or_csv")]
    pub api_keys: Vec<Secret>,
}

fn list_or_csv<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Secret>, D::Error> {
    Ok(strings_or_csv(deserializer)?
        .into_iter()
        .map(Secret::new)
        .collect())
}

/// A TOML list, or one comma-separated string (environment variables); blanks dropped.
fn strings_or_csv<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrCsv {
        List(Vec<String>),
        Csv(String),
    }
    let keys = match ListOrCsv::deserialize(deserializer)? {
        ListOrCsv::List(keys) => keys,
        ListOrCsv::Csv(csv) => csv.split(',').map(str::to_owned).collect(),
    };
    Ok(keys
        .into_iter()
        .map(|k| k.trim().to_owned())
        .filter(|k| !k.is_empty())
        .collect())
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
#[serde(deny_unknown_fields)]
pub struct StorageSettings {
    pub backend: StorageBackend,
    /// SQLite: a file path (`sqlite://` prefix optional). Postgres: a `postgres://` URL.
    #[serde(deserialize_with = "secret")]
    pub url: Secret,
    /// Apply pending migrations at startup.
    pub migrate: bool,
    /// Postgres connection pool size.
    pub max_connections: u32,
    /// Memory (MiB) for the sessions held in process, which search scans and the grouping of
    /// people plans against: about 2.1 MiB per 1,000 faces at 512-d. A session larger than
    /// this is read from the database at each search and its new faces are not grouped; 0
    /// holds none.
    pub search_cache_mb: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PhotoBackend {
    /// Keys are paths below `photos.root`.
    Fs,
    /// Keys are object keys of `photos.bucket`.
    S3,
}

/// `photos.*`: where the photos to index are fetched from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhotoSettings {
    pub backend: PhotoBackend,
    /// `fs`: the folder keys are relative to.
    pub root: PathBuf,
    /// `s3`: the bucket, and optionally an S3-compatible endpoint.
    pub bucket: String,
    pub endpoint: Option<String>,
    pub region: String,
    /// Static credentials; the AWS default chain (env, profile, IMDS) when unset.
    pub access_key_id: Option<String>,
    #[serde(default, deserialize_with = "optional_secret")]
    pub secret_access_key: Option<Secret>,
    pub force_path_style: bool,
    /// Total time to fetch one photo, retries included.
    pub timeout_secs: u64,
    /// Largest photo accepted, in bytes.
    pub max_bytes: u64,
}

/// `models.*`: which detector and recognizer to run, and where their files are.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSettings {
    /// Folder holding the ONNX files.
    pub dir: PathBuf,
    /// Detector preset: `det_2.5g`, `det_500m` or `yunet`.
    pub detector: String,
    /// Recognizer preset: `fr_feature` or `mobilefacenet`.
    pub recognizer: String,
    /// Inference worker threads (each holds its own sessions); 0 = one per CPU core.
    pub workers: usize,
    /// ONNX Runtime threads per session (0 = its default).
    pub intra_threads: usize,
    /// Images waiting for a worker before more are refused as overloaded.
    pub queue: usize,
    /// Decoded-pixel limit per image.
    pub max_pixels: u64,
    /// Reproduce the Python reference pipeline (full-resolution decoding, square detector
    /// input): slower, embeddings equal to the reference's to cosine >= 0.9999.
    pub reference_mode: bool,
    /// Smallest face height (original pixels) detection must find; 0 = one detector pass.
    pub min_face_px: u32,
    /// Detector preset of photos in the two-scale mode (`min_face_px` > 0), at both scales;
    /// empty = `detector`.
    pub fine_detector: String,
    /// Path of `libonnxruntime.so`; `ORT_DYLIB_PATH` when empty.
    pub onnxruntime: Option<PathBuf>,
}

/// `calibration.<recognizer>.*`: `similarity = 1 / (1 + exp(-slope * (cosine - midpoint)))`,
/// given by the model's recommended operating cosine (which maps to similarity 0.7, the
/// API's default threshold) and a slope; the model's impostor tail, which raises the face
/// threshold with the session's size; and the cosines of the people rules. How the defaults
/// were measured: README, "Similarity" and "Precision at event scale".
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalibrationSettings {
    pub operating_cosine: f32,
    pub slope: f32,
    /// Share of different-person pairs at or above `operating_cosine`.
    pub false_match_rate: f64,
    /// Cosine added for each tenfold fewer different-person pairs.
    pub cosine_per_decade: f32,
    /// The mean cosine a face (or a guest's selfies) needs to join a large person.
    pub join_cosine: f32,
    /// The mean cosine two large persons need to merge.
    pub merge_cosine: f32,
    /// A face returned on its person's evidence needs at least this cosine itself.
    pub floor_cosine: f32,
}

/// The similarity the operating cosine maps to: the API's default threshold.
pub const OPERATING_SIMILARITY: f32 = 0.7;

// The 192-d MobileFaceNet's tail, measured as fr_feature's was (`facepass-eval scale --tail`
// with models.recognizer = "mobilefacenet": 2.6e-4 of different-person pairs at 0.50, tenfold
// fewer every 0.067), and its people cosines at the same points of the tail as fr_feature's
// (join at about twice the operating point's false matches, merge at a third and a half,
// the floor at thirty times).
const MFN_FMR: f64 = 2.6e-4;
const MFN_CPD: f64 = 0.067;
const MFN_JOIN: f64 = 0.48;
const MFN_MERGE: f64 = 0.54;
const MFN_FLOOR: f64 = 0.36;

/// `indexing.*`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexingSettings {
    /// Photos of one batch request in flight at once (fetch + embed + store).
    pub batch_concurrency: usize,
    /// Photos waiting for or in inference across all index requests; the rest of the
    /// embedder's queue stays free for searches.
    pub max_in_flight: usize,
}

/// `retention.*`: how long sessions are kept.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionSettings {
    /// Days a new session is kept when its indexing request names no `expires_at`; unset
    /// (or 0): kept until deleted.
    pub default_days: Option<u32>,
    /// Seconds between two runs of the purge of expired sessions.
    pub purge_interval_secs: u64,
    /// Sessions one purge run deletes at most (each in its own transaction).
    pub purge_batch: usize,
}

impl RetentionSettings {
    pub fn default_retention(&self) -> Option<Duration> {
        self.default_days
            .filter(|&d| d > 0)
            .map(|d| Duration::from_secs(u64::from(d) * 86_400))
    }
}

/// `search.*`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchSettings {
    /// Largest selfie upload, in bytes.
    pub max_selfie_bytes: u64,
    /// A second face at least this fraction of the largest face's area competes with it.
    pub competing_face_ratio: f32,
    /// Of competing faces, the one nearest the frame's centre is searched for when it is at
    /// most this fraction of the next one's distance from the centre; otherwise the selfie is
    /// ambiguous (`multiple_faces`).
    pub central_face_ratio: f32,
    /// Strangers per search the face threshold allows at the session's size: the threshold
    /// rises with the session so that a guest of a session of any size sees about this many
    /// strangers' photos.
    pub stranger_budget: f64,
    pub quality: SelfieQualitySettings,
}

/// `search.quality.*`: below these (above, for pose) a selfie face is poor (`poor_selfie`
/// when nothing matches, `warnings` when something does).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelfieQualitySettings {
    /// Smallest face height, pixels of the selfie.
    pub min_face_px: f32,
    /// Smallest Laplacian variance of the aligned 112x112 grey crop.
    pub min_sharpness: f32,
    /// Smallest mean grey level of the aligned crop (0..255).
    pub min_brightness: f32,
    /// Largest head yaw estimated from the landmarks, degrees.
    pub max_pose: f32,
}

/// `rate_limit.*`: token buckets, per API key for indexing and per client IP for search.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSettings {
    pub enabled: bool,
    pub search_per_minute: u32,
    pub search_burst: u32,
    pub index_per_minute: u32,
    pub index_burst: u32,
}

impl Settings {
    /// Loads the layers; `file` (if any) is read after `config/default.toml`.
    pub fn load(file: Option<PathBuf>) -> anyhow::Result<Self> {
        let file = file.or_else(|| std::env::var_os("FACEPASS_CONFIG").map(PathBuf::from));
        Self::load_from(
            Some(PathBuf::from("config/default.toml")),
            file,
            std::env::vars(),
        )
    }

    /// The layers from explicit sources: `base` (optional file), `file` (required when given)
    /// and `env` (only `FACEPASS__...` variables are read).
    pub fn load_from(
        base: Option<PathBuf>,
        file: Option<PathBuf>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> anyhow::Result<Self> {
        let mut builder = Self::defaults(config::Config::builder())?;
        if let Some(base) = base {
            builder = builder.add_source(config::File::from(base).required(false));
        }
        if let Some(file) = file {
            builder = builder.add_source(config::File::from(file).required(true));
        }
        let env: config::Map<String, String> = env
            .into_iter()
            .filter(|(k, _)| k.starts_with("FACEPASS__"))
            .collect();
        let settings: Settings = builder
            .add_source(
                config::Environment::with_prefix("FACEPASS")
                    .prefix_separator("__")
                    .separator("__")
                    .source(Some(env)),
            )
            .build()?
            .try_deserialize()?;
        settings.validate()?;
        Ok(settings)
    }

    fn defaults(
        b: config::ConfigBuilder<config::builder::DefaultState>,
    ) -> Result<config::ConfigBuilder<config::builder::DefaultState>, config::ConfigError> {
        let quality = QualityThresholds::default();
        b.set_default("server.host", "127.0.0.1")?
            .set_default("server.port", 8000)?
            .set_default("server.shutdown_timeout_secs", 30)?
            .set_default("server.trust_forwarded_for", false)?
            .set_default("server.max_json_bytes", 2 * 1024 * 1024)?
            .set_default("server.cors_origins", Vec::<String>::new())?
            .set_default("auth.api_keys", Vec::<String>::new())?
            .set_default("storage.backend", "sqlite")?
            .set_default("storage.url", "var/facepass.db")?
            .set_default("storage.migrate", true)?
            .set_default("storage.max_connections", 10)?
            .set_default("storage.search_cache_mb", 1024)?
            .set_default("photos.backend", "fs")?
            .set_default("photos.root", "var/photos")?
            .set_default("photos.bucket", "")?
            .set_default("photos.region", "us-east-1")?
            .set_default("photos.force_path_style", false)?
            .set_default("photos.timeout_secs", 30)?
            .set_default("photos.max_bytes", 50 * 1024 * 1024)?
            .set_default("models.dir", "../shared/fixtures/models")?
            .set_default("models.detector", "det_2.5g")?
            .set_default("models.recognizer", "fr_feature")?
            .set_default("models.workers", 0)?
            .set_default("models.intra_threads", 1)?
            .set_default("models.queue", 64)?
            .set_default("models.max_pixels", 100_000_000u64)?
            .set_default("models.reference_mode", false)?
            .set_default("models.min_face_px", config_defaults::DEFAULT_MIN_FACE_PX)?
            .set_default(
                "models.fine_detector",
                config_defaults::DEFAULT_FINE_DETECTOR,
            )?
            .set_default("calibration.fr_feature.operating_cosine", 0.42)?
            .set_default("calibration.fr_feature.slope", 6.49)?
            .set_default("calibration.fr_feature.false_match_rate", 9.6e-5)?
            .set_default("calibration.fr_feature.cosine_per_decade", 0.066)?
            .set_default("calibration.fr_feature.join_cosine", 0.40)?
            .set_default("calibration.fr_feature.merge_cosine", 0.45)?
            .set_default("calibration.fr_feature.floor_cosine", 0.30)?
            .set_default("calibration.mobilefacenet.operating_cosine", 0.50)?
            .set_default("calibration.mobilefacenet.slope", 6.53)?
            .set_default("calibration.mobilefacenet.false_match_rate", MFN_FMR)?
            .set_default("calibration.mobilefacenet.cosine_per_decade", MFN_CPD)?
            .set_default("calibration.mobilefacenet.join_cosine", MFN_JOIN)?
            .set_default("calibration.mobilefacenet.merge_cosine", MFN_MERGE)?
            .set_default("calibration.mobilefacenet.floor_cosine", MFN_FLOOR)?
            .set_default("indexing.batch_concurrency", 8)?
            .set_default("indexing.max_in_flight", 16)?
            .set_default("search.max_selfie_bytes", 15 * 1024 * 1024)?
            .set_default("search.competing_face_ratio", 0.6)?
            .set_default("search.central_face_ratio", 0.5)?
            .set_default("search.stranger_budget", 0.03)?
            .set_default("search.quality.min_face_px", f64::from(quality.min_face_px))?
            .set_default(
                "search.quality.min_sharpness",
                f64::from(quality.min_sharpness),
            )?
            .set_default(
                "search.quality.min_brightness",
                f64::from(quality.min_brightness),
            )?
            .set_default("search.quality.max_pose", f64::from(quality.max_pose))?
            .set_default("rate_limit.enabled", true)?
            .set_default("rate_limit.search_per_minute", 60)?
            .set_default("rate_limit.search_burst", 10)?
            .set_default("rate_limit.index_per_minute", 600)?
            .set_default("rate_limit.index_burst", 60)?
            .set_default("retention.purge_interval_secs", 60)?
            .set_default("retention.purge_batch", 100)
    }

    /// Checks what the types cannot: presets exist, numbers are in range.
    fn validate(&self) -> anyhow::Result<()> {
        if self.retention.purge_interval_secs == 0 || self.retention.purge_batch == 0 {
            anyhow::bail!("retention.purge_interval_secs and retention.purge_batch must be > 0");
        }
        self.models.embedder_config()?;
        self.similarity()?;
        if self.photos.backend == PhotoBackend::S3 && self.photos.bucket.is_empty() {
            anyhow::bail!("photos.backend = \"s3\" needs photos.bucket");
        }
        self.people()?;
        for (key, ratio) in [
            ("competing_face_ratio", self.search.competing_face_ratio),
            ("central_face_ratio", self.search.central_face_ratio),
        ] {
            if !(ratio > 0.0 && ratio <= 1.0) {
                anyhow::bail!("search.{key} must be in (0, 1], got {ratio}");
            }
        }
        let q = &self.search.quality;
        if [q.min_face_px, q.min_sharpness, q.min_brightness, q.max_pose]
            .iter()
            .any(|v| !(v.is_finite() && *v >= 0.0))
        {
            anyhow::bail!("search.quality.* must be finite and >= 0, got {q:?}");
        }
        if self.rate_limit.enabled {
            let r = &self.rate_limit;
            if [
                r.search_per_minute,
                r.search_burst,
                r.index_per_minute,
                r.index_burst,
            ]
            .contains(&0)
            {
                anyhow::bail!(
                    "rate_limit.* quotas must be positive (or rate_limit.enabled = false)"
                );
            }
        }
        Ok(())
    }

    /// How selfie faces are chosen and judged.
    pub fn selfie_policy(&self) -> SelfiePolicy {
        let q = self.search.quality;
        SelfiePolicy {
            competing_area_ratio: self.search.competing_face_ratio,
            central_distance_ratio: self.search.central_face_ratio,
            quality: QualityThresholds {
                min_face_px: q.min_face_px,
                min_sharpness: q.min_sharpness,
                min_brightness: q.min_brightness,
                max_pose: q.max_pose,
            },
        }
    }

    fn calibration(&self) -> anyhow::Result<&CalibrationSettings> {
        self.calibration
            .get(&self.models.recognizer)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "no calibration.{} section for models.recognizer",
                    self.models.recognizer
                )
            })
    }

    /// How the configured recognizer's faces are grouped into persons and matched at the
    /// session's size.
    pub fn people(&self) -> anyhow::Result<PeoplePolicy> {
        let c = self.calibration()?;
        let name = &self.models.recognizer;
        let cosines = [c.join_cosine, c.merge_cosine, c.floor_cosine];
        let tail_ok = c.false_match_rate > 0.0
            && c.false_match_rate < 1.0
            && c.cosine_per_decade > 0.0
            && c.cosine_per_decade.is_finite();
        if !tail_ok || cosines.iter().any(|v| !(-1.0..=1.0).contains(v)) {
            anyhow::bail!(
                "calibration.{name}: false_match_rate must be in (0, 1), cosine_per_decade > 0 and \
                 join/merge/floor_cosine in [-1, 1], got {c:?}"
            );
        }
        let budget = self.search.stranger_budget;
        if !(budget > 0.0 && budget.is_finite()) {
            anyhow::bail!("search.stranger_budget must be > 0, got {budget}");
        }
        Ok(PeoplePolicy {
            tail: ImpostorTail {
                operating_cosine: c.operating_cosine,
                false_match_rate: c.false_match_rate,
                cosine_per_decade: c.cosine_per_decade,
            },
            stranger_budget: budget,
            join_cosine: c.join_cosine,
            merge_cosine: c.merge_cosine,
            floor_cosine: c.floor_cosine,
        })
    }

    /// What the SQL store holds in memory and how it groups faces.
    pub fn store_options(&self) -> anyhow::Result<facepass_vector_store_sql::StoreOptions> {
        Ok(facepass_vector_store_sql::StoreOptions {
            cache_bytes: self.storage.search_cache_mb << 20,
            people: self.people()?,
        })
    }

    /// The similarity calibration of the configured recognizer.
    pub fn similarity(&self) -> anyhow::Result<SimilarityCalibration> {
        let c = self.calibration()?;
        Ok(SimilarityCalibration::through(
            c.operating_cosine,
            OPERATING_SIMILARITY,
            c.slope,
        )?)
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
        let preset = |key: &str, name: &str| {
            DetectorConfig::preset(name).ok_or_else(|| {
                anyhow::anyhow!(
                    "unknown {key} {name:?}; known: {:?}",
                    DetectorConfig::PRESETS
                )
            })
        };
        let detector = preset("models.detector", &self.detector)?;
        let mut config = EmbedderConfig::new(&self.dir, detector, self.recognizer()?);
        if !self.fine_detector.is_empty() {
            config.fine_detector = Some(preset("models.fine_detector", &self.fine_detector)?);
        }
        config.workers = self.workers;
        config.intra_threads = self.intra_threads;
        config.queue = self.queue.max(1);
        config.max_pixels = self.max_pixels;
        config.reference_mode = self.reference_mode;
        config.min_face_px = self.min_face_px;
        config.onnxruntime = self
            .onnxruntime
            .clone()
            .filter(|p| !p.as_os_str().is_empty());
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_file(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../config")
            .join(name)
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn config_default_toml_documents_exactly_the_compiled_defaults() {
        let compiled = Settings::load_from(None, None, env(&[])).unwrap();
        let documented =
            Settings::load_from(Some(config_file("default.toml")), None, env(&[])).unwrap();
        assert_eq!(format!("{compiled:?}"), format!("{documented:?}"));
        assert_eq!(compiled.storage.backend, StorageBackend::Sqlite);
        assert_eq!(compiled.photos.backend, PhotoBackend::Fs);
        assert!(compiled.auth.api_keys.is_empty(), "never open by default");
        assert!(compiled.rate_limit.enabled);
    }

    #[test]
    fn a_misspelt_key_is_refused_by_name_from_the_environment_and_from_files() {
        let err = Settings::load_from(None, None, env(&[("FACEPASS__MODELS__WORKRS", "2")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("workrs"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f.toml");
        std::fs::write(&file, "[storage]\nbackend = \"sqlite\"\nurll = \"x.db\"\n").unwrap();
        let err = Settings::load_from(None, Some(file), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("urll"), "{err}");
        let err = Settings::load_from(None, None, env(&[("FACEPASS__NOPE__X", "1")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("nope"), "{err}");
    }

    #[test]
    fn config_production_toml_loads_with_secrets_from_the_environment() {
        let settings = Settings::load_from(
            Some(config_file("default.toml")),
            Some(config_file("production.toml")),
            env(&[
                ("FACEPASS__AUTH__API_KEYS", "k-one, k-two"),
                (
                    "FACEPASS__STORAGE__URL",
                    "postgres://facepass:s3cret@db:5432/facepass",
                ),
                ("FACEPASS__PHOTOS__SECRET_ACCESS_KEY", "aws-secret"),
                ("FACEPASS__SERVER__PORT", "9000"),
                ("OTHER__SERVER__PORT", "1"),
            ]),
        )
        .unwrap();
        assert_eq!(settings.server.host, "0.0.0.0");
        assert_eq!(settings.server.port, 9000);
        assert_eq!(settings.storage.backend, StorageBackend::Postgres);
        assert_eq!(settings.photos.backend, PhotoBackend::S3);
        assert_eq!(settings.photos.bucket, "pixora-photos");
        assert_eq!(settings.models.detector, "yunet");
        assert_eq!(
            settings.auth.api_keys,
            vec![Secret::new("k-one"), Secret::new("k-two")]
        );
        let shown = format!("{settings:?}");
        for secret in ["k-one", "s3cret", "aws-secret"] {
            assert!(!shown.contains(secret), "{secret} leaked into Debug output");
        }
    }

    #[test]
    fn bad_values_are_refused_at_startup() {
        for (key, value) in [
            ("FACEPASS__MODELS__RECOGNIZER", "arcface"),
            ("FACEPASS__MODELS__DETECTOR", "mtcnn"),
            ("FACEPASS__STORAGE__BACKEND", "mysql"),
            ("FACEPASS__PHOTOS__BACKEND", "s3"),
            ("FACEPASS__SEARCH__COMPETING_FACE_RATIO", "0"),
            ("FACEPASS__SERVER__PORT", "http"),
        ] {
            assert!(
                Settings::load_from(None, None, env(&[(key, value)])).is_err(),
                "{key}={value} must be refused"
            );
        }
    }

    #[test]
    fn the_default_calibration_puts_the_operating_point_at_0_7() {
        let settings = Settings::load_from(None, None, env(&[])).unwrap();
        let c = settings.similarity().unwrap();
        assert!((c.similarity(0.42) - 0.7).abs() < 1e-4);
        assert!(
            c.similarity(0.345) < 0.7,
            "DEV's closest different pair stays below"
        );
    }
}
