//! The model set and runtime knobs of the ONNX embedder. Models are configuration entries
//! ([`DetectorEntry`], [`RecognizerEntry`]), checked against their files and completed from
//! them by [`crate::models`].

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

/// A detector as configured (`[models.detectors.NAME]`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectorEntry {
    pub kind: DetectorKind,
    /// File name inside the models folder (or an absolute path).
    pub file: String,
    /// Long side of the detector input (the letterbox; the short side follows the photo's
    /// aspect ratio where the model takes dynamic shapes).
    #[serde(default = "default_input_size")]
    pub input_size: u32,
    /// Score from which a detection is a face.
    pub score_threshold: f32,
    /// IoU above which two detections are one face.
    pub nms_threshold: f32,
}

/// A detector ready to load: its entry, checked against the file.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectorConfig {
    pub kind: DetectorKind,
    pub file: String,
    pub input_size: u32,
    /// The model accepts any input size (multiples of 32), read from the file (YuNet's
    /// declared 640x640 is relaxed, see `onnx_shapes`); otherwise it runs on a square.
    pub dynamic_input: bool,
    pub score_threshold: f32,
    pub nms_threshold: f32,
}

/// A recognizer as configured (`[models.recognizers.NAME]`): an ArcFace-style model taking
/// aligned 112x112 RGB crops. Its output dimension is read from the file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecognizerEntry {
    pub file: String,
    /// The embedding space id stored with every vector. Unset: the entry's name and the
    /// start of the file's SHA-256, so different weights never share stored vectors.
    #[serde(default)]
    pub id: Option<String>,
    /// The expected output dimension; checked against the file when given.
    #[serde(default)]
    pub dim: Option<usize>,
    /// Input normalisation: `(rgb - mean) / std`.
    pub mean: f32,
    pub std: f32,
    /// Face height (pixels, detector box) from which found faces are reliably recognised;
    /// session status counts the faces below it.
    #[serde(default = "default_reliable_face_px")]
    pub reliable_face_px: f32,
    /// Most aligned faces per inference call (a model with a fixed batch of 1 uses 1).
    #[serde(default = "default_max_batch")]
    pub max_batch: usize,
}

fn default_input_size() -> u32 {
    640
}

/// A recognizer ready to load: its entry, checked against the file and completed from it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecognizerConfig {
    /// The embedding space id stored with every vector.
    pub id: String,
    pub file: String,
    /// Output dimension, read from the file.
    pub dim: usize,
    pub mean: f32,
    pub std: f32,
    pub reliable_face_px: f32,
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

#[derive(Debug, Clone, PartialEq)]
pub struct EmbedderConfig {
    pub models_dir: PathBuf,
    pub detector: DetectorConfig,
    pub recognizer: RecognizerConfig,
    /// Images declaring more pixels are refused before decoding (decompression bombs).
    pub max_pixels: u64,
    /// Inference threads, each owning its own ONNX sessions; 0 = one per CPU core.
    pub workers: usize,
    /// ONNX Runtime intra-op threads per session (0 = ONNX Runtime's default). One thread per
    /// worker and one worker per core keeps every core on useful work (decode or inference)
    /// without thread-pool synchronisation.
    pub intra_threads: usize,
    /// Images waiting for a worker before new ones are refused as overloaded.
    pub queue: usize,
    /// Reproduce the Python reference pipeline (InsightFace-style) to cosine >= 0.9999: full
    /// resolution decoding and a square letterbox. Off by default: the default decodes large
    /// JPEGs at reduced scale and fits the detector input to the aspect ratio (see `pipeline`).
    pub reference_mode: bool,
    /// Smallest face height, in original pixels, that detection must find. `0` is one detector
    /// pass at the detector's input size (InsightFace's behaviour); otherwise a second,
    /// high-resolution pass finds the small faces (see `pipeline`). Not used by
    /// `reference_mode`.
    pub min_face_px: u32,
    /// The detector of photos in the two-scale mode (`min_face_px` > 0 and a photo large
    /// enough for it): the high-resolution tiles and the coarse pass; `None` = `detector`,
    /// which keeps selfies and the one pass.
    pub fine_detector: Option<DetectorConfig>,
    /// The ONNX Runtime shared library; `ORT_DYLIB_PATH` when unset.
    pub onnxruntime: Option<PathBuf>,
}

/// The default `min_face_px`: every face of 48 px and up in a 24 MP photo (the small-faces
/// report in docs/benchmarks.md chose it).
pub const DEFAULT_MIN_FACE_PX: u32 = 48;
/// The default detector of the two-scale mode: YuNet finds small faces best per CPU second,
/// and at the coarse scale costs a fifth of SCRFD-2.5G for the same recall and accuracy
/// (docs/benchmarks.md).
pub const DEFAULT_FINE_DETECTOR: &str = "yunet";

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
    /// small-face search from `DEFAULT_MIN_FACE_PX` by `detector` (set `fine_detector` for
    /// another).
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
            fine_detector: None,
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
