//! The model set and runtime knobs of the ONNX embedder, with presets for the known models.

use std::path::PathBuf;

use serde::Deserialize;

/// Which detector architecture decodes the model's outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DetectorKind {
    /// InsightFace SCRFD with 5 keypoints: strides 8/16/32, 2 anchors per cell, distance boxes.
    Scrfd,
    /// OpenCV zoo YuNet 2023mar: strides 8/16/32, 1 anchor, cls*obj scores.
    Yunet,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DetectorConfig {
    pub kind: DetectorKind,
    /// File name inside `EmbedderConfig::models_dir` (or an absolute path).
    pub file: String,
    /// Long side of the detector input (the letterbox; the short side follows the photo's
    /// aspect ratio where the model takes dynamic shapes).
    #[serde(default = "default_input_size")]
    pub input_size: u32,
    /// The model accepts any input size (multiples of 32); otherwise it runs on a square.
    #[serde(default)]
    pub dynamic_input: bool,
    pub score_threshold: f32,
    pub nms_threshold: f32,
}

fn default_input_size() -> u32 {
    640
}

impl DetectorConfig {
    /// Known detectors, with the thresholds measured in `shared/fixtures/MANIFEST.md`.
    pub fn preset(name: &str) -> Option<Self> {
        let scrfd = |file: &str| DetectorConfig {
            kind: DetectorKind::Scrfd,
            file: file.to_owned(),
            input_size: 640,
            dynamic_input: true,
            score_threshold: 0.5,
            nms_threshold: 0.4,
        };
        match name {
            "det_2.5g" | "scrfd" => Some(scrfd("det_2.5g.onnx")),
            "det_500m" | "scrfd500m" => Some(scrfd("det_500m.onnx")),
            "yunet" => Some(DetectorConfig {
                kind: DetectorKind::Yunet,
                file: "face_detection_yunet_2023mar.onnx".to_owned(),
                input_size: 640,
                // The file declares 640x640; the loader relaxes it (`onnx_shapes`).
                dynamic_input: true,
                score_threshold: 0.7,
                nms_threshold: 0.3,
            }),
            _ => None,
        }
    }

    pub const PRESETS: &'static [&'static str] = &["det_2.5g", "det_500m", "yunet"];
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RecognizerConfig {
    /// The embedding space id stored with every vector; change it whenever the weights change.
    pub id: String,
    pub file: String,
    pub dim: usize,
    /// Input normalisation: `(rgb - mean) / std`.
    pub mean: f32,
    pub std: f32,
    /// Recommended cosine operating point (same person at or above).
    pub threshold: f32,
    /// Face height (pixels, detector box) from which found faces are reliably recognised;
    /// session status counts the faces below it.
    #[serde(default = "default_reliable_face_px")]
    pub reliable_face_px: f32,
    /// Most aligned faces per inference call (models with a fixed batch of 1 use 1 anyway).
    #[serde(default = "default_max_batch")]
    pub max_batch: usize,
}

/// Measured for fr_feature on the small-faces set (docs/benchmarks.md): every face found from
/// 48 px recognisable, about 70 % below.
fn default_reliable_face_px() -> f32 {
    48.0
}

fn default_max_batch() -> usize {
    16
}

impl RecognizerConfig {
    /// Known recognizers. `fr_feature` uses the dynamic-batch export, whose outputs are
    /// identical to `fr_feature.onnx`, so both share one embedding space id.
    pub fn preset(name: &str) -> Option<Self> {
        match name {
            "fr_feature" => Some(RecognizerConfig {
                id: "fr_feature".to_owned(),
                file: "fr_feature_dynbatch.onnx".to_owned(),
                dim: 512,
                mean: 127.0,
                std: 128.0,
                threshold: 0.42,
                reliable_face_px: default_reliable_face_px(),
                max_batch: 16,
            }),
            "mobilefacenet" | "mobilefacenet_sirius_192d" => Some(RecognizerConfig {
                id: "mobilefacenet_sirius_192d".to_owned(),
                file: "mobilefacenet_sirius_192d.onnx".to_owned(),
                dim: 192,
                mean: 127.5,
                std: 128.0,
                threshold: 0.50,
                // Not measured for this model: the same as fr_feature's.
                reliable_face_px: default_reliable_face_px(),
                max_batch: 16,
            }),
            _ => None,
        }
    }

    pub const PRESETS: &'static [&'static str] = &["fr_feature", "mobilefacenet"];
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct EmbedderConfig {
    pub models_dir: PathBuf,
    pub detector: DetectorConfig,
    pub recognizer: RecognizerConfig,
    /// Images declaring more pixels are refused before decoding (decompression bombs).
    #[serde(default = "default_max_pixels")]
    pub max_pixels: u64,
    /// Inference threads, each owning its own ONNX sessions; 0 = one per CPU core.
    #[serde(default)]
    pub workers: usize,
    /// ONNX Runtime intra-op threads per session (0 = ONNX Runtime's default). One thread per
    /// worker and one worker per core keeps every core on useful work (decode or inference)
    /// without thread-pool synchronisation.
    #[serde(default = "default_intra_threads")]
    pub intra_threads: usize,
    /// Images waiting for a worker before new ones are refused as overloaded.
    #[serde(default = "default_queue")]
    pub queue: usize,
    /// Reproduce the Python reference pipeline (InsightFace-style) to cosine >= 0.9999: full
    /// resolution decoding and a square letterbox. Off by default: the default decodes large
    /// JPEGs at reduced scale and fits the detector input to the aspect ratio (see `pipeline`).
    #[serde(default)]
    pub reference_mode: bool,
    /// Smallest face height, in original pixels, that detection must find. `0` is one detector
    /// pass at the detector's input size (InsightFace's behaviour); otherwise a second,
    /// high-resolution pass finds the small faces (see `pipeline`). Not used by
    /// `reference_mode`.
    #[serde(default = "default_min_face_px")]
    pub min_face_px: u32,
    /// The detector of photos in the two-scale mode (`min_face_px` > 0 and a photo large
    /// enough for it): the high-resolution tiles and the coarse pass; `None` = `detector`,
    /// which keeps selfies and the one pass.
    #[serde(default)]
    pub fine_detector: Option<DetectorConfig>,
    /// The ONNX Runtime shared library; `ORT_DYLIB_PATH` when unset.
    #[serde(default)]
    pub onnxruntime: Option<PathBuf>,
}

/// The default `min_face_px`: every face of 48 px and up in a 24 MP photo (the small-faces
/// report in docs/benchmarks.md chose it).
pub const DEFAULT_MIN_FACE_PX: u32 = 48;
/// The default detector of the two-scale mode: YuNet finds small faces best per CPU second,
/// and at the coarse scale costs a fifth of SCRFD-2.5G for the same recall and accuracy
/// (docs/benchmarks.md).
pub const DEFAULT_FINE_DETECTOR: &str = "yunet";

fn default_min_face_px() -> u32 {
    DEFAULT_MIN_FACE_PX
}
fn default_max_pixels() -> u64 {
    100_000_000
}
fn default_intra_threads() -> usize {
    1
}
fn default_queue() -> usize {
    64
}

impl EmbedderConfig {
    /// `detector` and `recognizer` over `models_dir`, with the default runtime settings and
    /// small-face search (`DEFAULT_MIN_FACE_PX`, `DEFAULT_FINE_DETECTOR`).
    pub fn new(
        models_dir: impl Into<PathBuf>,
        detector: DetectorConfig,
        recognizer: RecognizerConfig,
    ) -> Self {
        Self {
            models_dir: models_dir.into(),
            detector,
            recognizer,
            max_pixels: default_max_pixels(),
            workers: 0,
            intra_threads: default_intra_threads(),
            queue: default_queue(),
            reference_mode: false,
            min_face_px: DEFAULT_MIN_FACE_PX,
            fine_detector: DetectorConfig::preset(DEFAULT_FINE_DETECTOR),
            onnxruntime: None,
        }
    }

    /// Worker threads to start: `workers`, or one per available core when 0.
    pub fn worker_count(&self) -> usize {
        match self.workers {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        }
    }

    pub(crate) fn model_path(&self, file: &str) -> PathBuf {
        self.models_dir.join(file)
    }
}
