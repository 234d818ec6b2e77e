//! Typed, layered configuration: the defaults (`config/default.toml`, compiled in, so the
//! binary runs anywhere) → `config/default.toml` on disk if present → the file named by
//! `--config` / `FACEPASS_CONFIG` → environment variables `FACEPASS__SECTION__KEY`. Secrets are
//! wrapped so `Debug` output and logs never show them.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use facepass_domain::SimilarityCalibration;
use facepass_domain::people::{ImpostorTail, PeoplePolicy};
use facepass_domain::use_cases::{QualityThresholds, SelfiePolicy};
use facepass_embedder_onnx::{Catalogue, DetectorEntry, EmbedderConfig, RecognizerEntry};
use serde::{Deserialize, Deserializer};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub auth: AuthSettings,
    pub storage: StorageSettings,
    pub photos: PhotoSettings,
    pub models: ModelSettings,
    /// Cosine → similarity map per recognizer entry (see [`CalibrationSettings`]).
    pub calibration: BTreeMap<String, CalibrationSettings>,
    pub indexing: IndexingSettings,
    pub jobs: JobSettings,
    pub webhooks: WebhookSettings,
    pub watches: WatchSettings,
    pub search: SearchSettings,
    pub rate_limit: RateLimitSettings,
    pub retention: RetentionSettings,
}

pub use facepass_domain::Secret;

mod backends;
pub use backends::{Database, PhotoSettings, PhotoStore, StorageSettings, sqlite_path};

/// Every setting's default, with its documentation: the one source of defaults.
pub const DEFAULTS: &str = include_str!("../../../config/default.toml");

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

/// `models.*`: which detector and recognizer to run, and where their files are.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSettings {
    /// Folder holding the ONNX files.
    pub dir: PathBuf,
    /// An InsightFace model pack folder (`buffalo_l`, `buffalo_m`, `buffalo_s`, `antelopev2`):
    /// its detector and recognizer become `models.detector` and `models.recognizer`, under
    /// their file names (`det_10g`, `w600k_r50`, …). Empty: none.
    pub pack: PathBuf,
    /// Name of a `[models.detectors.NAME]` entry.
    pub detector: String,
    /// Name of a `[models.recognizers.NAME]` entry (and of its `[calibration.NAME]`).
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
    /// Detector entry of photos in the two-scale mode (`min_face_px` > 0), at both scales;
    /// empty = `detector`.
    pub fine_detector: String,
    /// Path of `libonnxruntime.so`; `ORT_DYLIB_PATH` when empty.
    pub onnxruntime: Option<PathBuf>,
    /// The detectors this deployment may name.
    pub detectors: BTreeMap<String, DetectorEntry>,
    /// The recognizers this deployment may name.
    pub recognizers: BTreeMap<String, RecognizerEntry>,
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

/// `jobs.*`: indexing jobs and this replica's workers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSettings {
    /// Photos of jobs this replica indexes at once; 0: it only serves.
    pub workers: usize,
    /// How long a claim holds a photo.
    pub lease_secs: u64,
    /// Tries of a photo failing transiently before it counts as failed.
    pub max_attempts: u32,
    /// The first retry's delay, doubling with each attempt, up to `max_backoff_secs`.
    pub backoff_secs: u64,
    pub max_backoff_secs: u64,
    /// How often an idle worker looks for photos.
    pub poll_ms: u64,
    /// Most photos one job may carry.
    pub max_photos: usize,
}

impl JobSettings {
    pub fn leases(&self) -> facepass_domain::jobs::Leases {
        facepass_domain::jobs::Leases {
            lease: Duration::from_secs(self.lease_secs),
            backoff: Duration::from_secs(self.backoff_secs),
            max_backoff: Duration::from_secs(self.max_backoff_secs),
            max_attempts: self.max_attempts,
        }
    }
}

/// `webhooks.*`: how finished jobs are announced (Standard Webhooks).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// The target of jobs without a `callback_url`; empty: none.
    pub url: String,
    /// `whsec_<base64>`: the signing key; empty: nothing can be delivered.
    #[serde(deserialize_with = "secret")]
    pub secret: Secret,
    pub timeout_secs: u64,
    pub poll_ms: u64,
}

/// `watches.*`: how guest watches are announced.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchSettings {
    /// A watch's new matches are sent together once the oldest is this old, and a watch gets
    /// at most one `watch.matched` webhook per this many seconds.
    pub notify_interval_secs: u64,
    /// Watches one notifier run (every `webhooks.poll_ms`) announces at most.
    pub notify_batch: usize,
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

    /// The layers from explicit sources over the compiled-in defaults: `base` (optional
    /// file), `file` (required when given) and `env` (only `FACEPASS__...` variables are read).
    pub fn load_from(
        base: Option<PathBuf>,
        file: Option<PathBuf>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> anyhow::Result<Self> {
        let mut builder = config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml));
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

    /// Checks what the types cannot: named model entries exist, numbers are in range.
    fn validate(&self) -> anyhow::Result<()> {
        if self.retention.purge_interval_secs == 0 || self.retention.purge_batch == 0 {
            anyhow::bail!("retention.purge_interval_secs and retention.purge_batch must be > 0");
        }
        if self.watches.notify_batch == 0 {
            anyhow::bail!("watches.notify_batch must be > 0");
        }
        let w = &self.webhooks;
        if !w.secret.expose().is_empty() {
            crate::webhooks::Signer::new(w.secret.expose())?;
        }
        if w.timeout_secs == 0 || w.poll_ms == 0 {
            anyhow::bail!("webhooks.timeout_secs and webhooks.poll_ms must be > 0");
        }
        let j = &self.jobs;
        if j.lease_secs == 0 || j.max_attempts == 0 || j.poll_ms == 0 || j.max_photos == 0 {
            anyhow::bail!(
                "jobs.lease_secs, jobs.max_attempts, jobs.poll_ms and jobs.max_photos must be > 0"
            );
        }
        self.models.check_names()?;
        self.similarity()?;
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
        let name = self.models.recognizer_name()?;
        self.calibration.get(&name).ok_or_else(|| {
            anyhow::anyhow!(
                "no [calibration.{name}] section for the recognizer {name}: measure it with \
                 `facepass calibrate --faces DIR` and add the lines it prints"
            )
        })
    }

    /// How the configured recognizer's faces are grouped into persons and matched at the
    /// session's size.
    pub fn people(&self) -> anyhow::Result<PeoplePolicy> {
        let c = self.calibration()?;
        let name = self.models.recognizer_name()?;
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
    /// The configured catalogue with the pack's entries (if any) added; the names of the
    /// detector and recognizer to run.
    pub fn catalogue(&self) -> anyhow::Result<(Catalogue, String, String)> {
        let mut catalogue = Catalogue {
            detectors: self.detectors.clone(),
            recognizers: self.recognizers.clone(),
        };
        if self.pack.as_os_str().is_empty() {
            return Ok((catalogue, self.detector.clone(), self.recognizer.clone()));
        }
        let (detector, d, recognizer, r) = facepass_embedder_onnx::models::pack(&self.pack)?;
        catalogue.detectors.insert(detector.clone(), d);
        catalogue.recognizers.insert(recognizer.clone(), r);
        Ok((catalogue, detector, recognizer))
    }

    /// The name of the recognizer that runs (the pack's, when one is set).
    pub fn recognizer_name(&self) -> anyhow::Result<String> {
        Ok(self.catalogue()?.2)
    }

    /// Checks that the names given are entries (no file is read).
    fn check_names(&self) -> anyhow::Result<()> {
        let (catalogue, detector, recognizer) = self.catalogue()?;
        let fine = Some(self.fine_detector.as_str()).filter(|f| !f.is_empty());
        Ok(catalogue.check_names(&detector, fine, &recognizer)?)
    }

    /// The recognizer that runs, checked against its file (its dimension and, unless
    /// configured, its embedding space id come from the file).
    pub fn recognizer_config(&self) -> anyhow::Result<facepass_embedder_onnx::RecognizerConfig> {
        let (catalogue, _, recognizer) = self.catalogue()?;
        Ok(catalogue.recognizer(&self.dir, &recognizer)?)
    }

    /// The embedding space of the configured recognizer (its file is read, not loaded).
    pub fn space(&self) -> anyhow::Result<facepass_domain::EmbeddingSpace> {
        let recognizer = self.recognizer_config()?;
        Ok(facepass_domain::EmbeddingSpace {
            model: facepass_domain::ModelId::parse(recognizer.id)?,
            dim: recognizer.dim,
        })
    }

    /// Face height from which the configured recognizer's faces are reliably recognised (no
    /// file is read).
    pub fn reliable_face(&self) -> anyhow::Result<facepass_domain::Pixels> {
        let (catalogue, _, recognizer) = self.catalogue()?;
        let px = catalogue
            .recognizers
            .get(&recognizer)
            .map(|r| r.reliable_face_px)
            .ok_or_else(|| anyhow::anyhow!("no [models.recognizers.{recognizer}] entry"))?;
        facepass_domain::Pixels::new(px)
            .map_err(|e| anyhow::anyhow!("models.recognizers.{recognizer}.reliable_face_px: {e}"))
    }

    /// The embedder configuration these settings describe, every model checked against its
    /// file.
    pub fn embedder_config(&self) -> anyhow::Result<EmbedderConfig> {
        let (catalogue, detector, recognizer) = self.catalogue()?;
        let fine = Some(self.fine_detector.as_str()).filter(|f| !f.is_empty());
        let mut config = catalogue.embedder(&self.dir, &detector, &recognizer, fine)?;
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
    fn the_compiled_defaults_are_config_default_toml_and_agree_with_the_code() {
        let compiled = Settings::load_from(None, None, env(&[])).unwrap();
        let on_disk = std::fs::read_to_string(config_file("default.toml")).unwrap();
        assert_eq!(DEFAULTS, on_disk);
        assert_eq!(
            compiled.storage.database,
            Database::Sqlite {
                path: backends::DEFAULT_SQLITE_PATH.into()
            }
        );
        assert_eq!(
            compiled.photos.source,
            PhotoStore::Fs {
                root: backends::DEFAULT_PHOTOS_ROOT.into()
            }
        );
        assert!(compiled.auth.api_keys.is_empty(), "never open by default");
        assert!(compiled.rate_limit.enabled);
        // The values the code falls back on where no setting reaches it.
        let q = QualityThresholds::default();
        let s = compiled.search.quality;
        assert_eq!(
            [s.min_face_px, s.min_sharpness, s.min_brightness, s.max_pose],
            [q.min_face_px, q.min_sharpness, q.min_brightness, q.max_pose]
        );
        let m = &compiled.models;
        assert_eq!(
            m.min_face_px,
            facepass_embedder_onnx::config::DEFAULT_MIN_FACE_PX
        );
        assert_eq!(
            m.fine_detector,
            facepass_embedder_onnx::config::DEFAULT_FINE_DETECTOR
        );
        let names: Vec<&str> = m.detectors.keys().map(String::as_str).collect();
        assert_eq!(names, ["det_2.5g", "det_500m", "yunet"]);
        let names: Vec<&str> = m.recognizers.keys().map(String::as_str).collect();
        assert_eq!(names, ["fr_feature", "mobilefacenet"]);
        for name in names {
            assert!(compiled.calibration.contains_key(name), "{name}");
        }
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
        assert_eq!(
            settings.storage.database,
            Database::Postgres {
                url: Secret::new("postgres://facepass:s3cret@db:5432/facepass"),
                max_connections: 20
            }
        );
        let PhotoStore::S3(s3) = &settings.photos.source else {
            panic!("s3 expected: {:?}", settings.photos.source);
        };
        assert_eq!(
            (
                s3.bucket.as_str(),
                s3.region.as_str(),
                s3.endpoint.as_deref()
            ),
            ("pixora-photos", "eu-central-1", None)
        );
        assert_eq!(
            s3.secret_access_key.as_ref().map(Secret::expose),
            Some("aws-secret")
        );
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

    /// The `# backend = "X":` blocks of `section` in `config/default.toml`: each backend with
    /// its documented `key = value` lines (optional keys, which have no default, left out).
    fn documented_backends(section: &str) -> Vec<(String, Vec<String>)> {
        let header = format!("[{section}]");
        let lines = DEFAULTS
            .lines()
            .skip_while(|l| *l != header)
            .skip(1)
            .take_while(|l| !l.starts_with('['));
        let mut blocks: Vec<(String, Vec<String>)> = Vec::new();
        for line in lines {
            if let Some(backend) = line.strip_prefix("# backend = ") {
                blocks.push((backend.trim_end_matches(':').to_owned(), Vec::new()));
            } else if let (Some(key), Some(block)) = (line.strip_prefix("#   "), blocks.last_mut())
                && !line.contains("# optional")
            {
                block.1.push(key.to_owned());
            }
        }
        blocks
    }

    fn load_section(section: &str, backend: &str, lines: &[&String]) -> anyhow::Result<Settings> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f.toml");
        let body: Vec<&str> = lines.iter().map(|l| l.as_str()).collect();
        std::fs::write(
            &file,
            format!("[{section}]\nbackend = {backend}\n{}\n", body.join("\n")),
        )
        .unwrap();
        Settings::load_from(None, Some(file), env(&[]))
    }

    #[test]
    fn each_backends_documented_defaults_are_its_typed_defaults() {
        for section in ["storage", "photos"] {
            let blocks = documented_backends(section);
            assert_eq!(blocks.len(), 2, "{section}: {blocks:?}");
            for (backend, lines) in &blocks {
                let all: Vec<&String> = lines.iter().collect();
                let required: Vec<&String> =
                    lines.iter().filter(|l| l.contains("# required")).collect();
                let shown = load_section(section, backend, &all).unwrap();
                let typed = load_section(section, backend, &required).unwrap();
                let of = |s: &Settings| match section {
                    "storage" => format!("{:?}", s.storage),
                    _ => format!("{:?}", s.photos),
                };
                assert_eq!(of(&shown), of(&typed), "{section}.backend = {backend}");
                // Every key of another backend is refused by name.
                for (other, other_lines) in blocks.iter().filter(|(b, _)| b != backend) {
                    for line in other_lines {
                        let key = line.split(' ').next().unwrap();
                        if lines.iter().any(|l| l.starts_with(&format!("{key} "))) {
                            continue;
                        }
                        let with: Vec<&String> = required.iter().copied().chain([line]).collect();
                        let err = load_section(section, backend, &with)
                            .unwrap_err()
                            .to_string();
                        assert!(
                            err.contains(&format!("{section}.{key}")) && err.contains(other),
                            "{section}.{key} under {backend}: {err}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn bad_values_are_refused_at_startup() {
        for (key, value) in [
            ("FACEPASS__MODELS__RECOGNIZER", "arcface"),
            ("FACEPASS__MODELS__DETECTOR", "mtcnn"),
            ("FACEPASS__STORAGE__BACKEND", "mysql"),
            ("FACEPASS__PHOTOS__BACKEND", "s3"),
            ("FACEPASS__STORAGE__BACKEND", "postgres"),
            ("FACEPASS__STORAGE__URL", "postgres://db/facepass"),
            ("FACEPASS__STORAGE__MAX_CONNECTIONS", "4"),
            ("FACEPASS__PHOTOS__BUCKET", "b"),
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
