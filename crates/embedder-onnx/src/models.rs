//! Models as configuration: the detectors and recognizers a deployment declares
//! ([`Catalogue`]), each checked against what its ONNX file declares before anything is loaded,
//! and InsightFace model packs recognised by their file names ([`pack`]).
//!
//! What is read from a file rather than typed in: whether a detector takes any input size,
//! an SCRFD's strides, a recognizer's output dimension, and (unless configured) the
//! recognizer's embedding space id, from the file's SHA-256 so that two different weights
//! never share stored vectors. A file that does not fit its declared kind stops startup with
//! a message naming the file, what was expected and what was found.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::InitError;
use crate::align::CROP;
use crate::config::{
    DetectorConfig, DetectorEntry, DetectorKind, EmbedderConfig, RecognizerConfig, RecognizerEntry,
};
use crate::onnx_shapes::{Dim, GraphIo, Tensor, graph_io};

/// The detectors and recognizers a configuration declares, by name.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct Catalogue {
    #[serde(default)]
    pub detectors: BTreeMap<String, DetectorEntry>,
    #[serde(default)]
    pub recognizers: BTreeMap<String, RecognizerEntry>,
}

/// A model file as read from disk: its declared inputs and outputs and its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelFile {
    pub path: PathBuf,
    pub io: GraphIo,
    pub sha256: String,
}

/// Reads `file` (inside `dir` unless absolute) and what its graph declares.
pub fn read(dir: &Path, file: &str) -> Result<ModelFile, InitError> {
    let path = dir.join(file);
    if !path.is_file() {
        return Err(InitError::ModelMissing(path));
    }
    let bytes = std::fs::read(&path).map_err(|e| InitError::Model {
        path: path.clone(),
        reason: format!("cannot read it: {e}"),
    })?;
    let io = graph_io(&bytes).map_err(|e| InitError::Model {
        path: path.clone(),
        reason: format!("not an ONNX model ({e})"),
    })?;
    let digest = Sha256::digest(&bytes);
    let mut sha256 = String::with_capacity(64);
    for byte in digest {
        let _ = write!(sha256, "{byte:02x}");
    }
    Ok(ModelFile { path, io, sha256 })
}

impl ModelFile {
    fn mismatch(&self, expected: &str) -> InitError {
        InitError::Model {
            path: self.path.clone(),
            reason: format!(
                "expected {expected}; the file declares {}",
                describe(&self.io)
            ),
        }
    }

    /// The one image input `[N, 3, H, W]` every face model takes.
    fn image_input(&self, expected: &str) -> Result<(&Tensor, Vec<Dim>), InitError> {
        match self.io.inputs.as_slice() {
            [input] => match &input.dims {
                Some(dims) if dims.len() == 4 && dims[1] == Dim::Fixed(3) => {
                    Ok((input, dims.clone()))
                }
                // No declared shape: trust the kind; the first run tells.
                None => Ok((input, vec![Dim::Any, Dim::Fixed(3), Dim::Any, Dim::Any])),
                Some(_) => Err(self.mismatch(expected)),
            },
            _ => Err(self.mismatch(expected)),
        }
    }

    /// Checks the file is a detector of `entry.kind` and completes the entry from it.
    pub fn detector(&self, entry: &DetectorEntry) -> Result<DetectorConfig, InitError> {
        let dynamic_input = match entry.kind {
            DetectorKind::Scrfd => {
                let expected = "an SCRFD detector with keypoints: one [1, 3, H, W] input, 9 outputs \
                                (3 strides) or 15 (5 strides) of scores, boxes and keypoints";
                let (_, dims) = self.image_input(expected)?;
                let outputs = self.io.outputs.len();
                if matches!(outputs, 6 | 10) {
                    return Err(InitError::Model {
                        path: self.path.clone(),
                        reason: format!(
                            "an SCRFD without keypoints ({outputs} outputs): FacePass aligns faces \
                             by their 5 landmarks; use the model's _kps / bnkps export"
                        ),
                    });
                }
                let (strides, _) = crate::detector::scrfd_layout(outputs)
                    .ok_or_else(|| self.mismatch(expected))?;
                // Five strides reach 128 px cells: inputs stay square (640 is a multiple of it).
                strides.len() == 3 && dims[2] == Dim::Any && dims[3] == Dim::Any
            }
            DetectorKind::Yunet => {
                let expected = "a YuNet detector: one [1, 3, H, W] input and the outputs \
                                cls/obj/bbox/kps_8, _16, _32";
                self.image_input(expected)?;
                for stride in [8, 16, 32] {
                    for kind in ["cls", "obj", "bbox", "kps"] {
                        let name = format!("{kind}_{stride}");
                        if !self.io.outputs.iter().any(|o| o.name == name) {
                            return Err(self.mismatch(expected));
                        }
                    }
                }
                // Its export declares a fixed size that every operator ignores (`onnx_shapes`).
                true
            }
        };
        if entry.input_size == 0 || !entry.input_size.is_multiple_of(32) {
            return Err(InitError::Config(format!(
                "detector {}: input_size must be a positive multiple of 32, got {}",
                self.path.display(),
                entry.input_size
            )));
        }
        Ok(DetectorConfig {
            kind: entry.kind,
            file: entry.file.clone(),
            input_size: entry.input_size,
            dynamic_input,
            score_threshold: entry.score_threshold,
            nms_threshold: entry.nms_threshold,
        })
    }

    /// Checks the file is an ArcFace-style recognizer and completes the entry from it: the
    /// output dimension, and the embedding space id (`name@sha256:` and 16 hex digits of the
    /// file's hash unless the entry gives one).
    pub fn recognizer(
        &self,
        name: &str,
        entry: &RecognizerEntry,
    ) -> Result<RecognizerConfig, InitError> {
        let expected = "a recognizer: one [N, 3, 112, 112] input and one [N, D] embedding output";
        let (_, dims) = self.image_input(expected)?;
        let side = Dim::Fixed(CROP as i64);
        if dims[2] != side || dims[3] != side {
            return Err(self.mismatch(expected));
        }
        let dim = match self.io.outputs.first().and_then(|o| o.dims.as_deref()) {
            Some([_, Dim::Fixed(d)]) if *d > 0 => *d as usize,
            _ => return Err(self.mismatch(expected)),
        };
        if let Some(declared) = entry.dim
            && declared != dim
        {
            return Err(InitError::Model {
                path: self.path.clone(),
                reason: format!(
                    "the recognizer entry {name} declares dim = {declared}, the file outputs {dim}"
                ),
            });
        }
        let id = match &entry.id {
            Some(id) => id.clone(),
            None => format!("{name}@sha256:{}", &self.sha256[..16]),
        };
        Ok(RecognizerConfig {
            id,
            file: entry.file.clone(),
            dim,
            mean: entry.mean,
            std: entry.std,
            reliable_face_px: entry.reliable_face_px,
            max_batch: entry.max_batch,
        })
    }
}

/// `io` in a line: inputs, then outputs.
fn describe(io: &GraphIo) -> String {
    let list = |ts: &[Tensor]| {
        ts.iter()
            .map(Tensor::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let outputs = if io.outputs.len() > 6 {
        format!(
            "{} outputs ({}, …)",
            io.outputs.len(),
            list(&io.outputs[..3])
        )
    } else {
        format!("outputs {}", list(&io.outputs))
    };
    format!("inputs {}; {outputs}", list(&io.inputs))
}

impl Catalogue {
    /// The entries of the repository's `config/default.toml` (as compiled), for tools and
    /// examples run from the repository.
    pub fn repository_defaults() -> Result<Self, InitError> {
        Self::from_toml(include_str!("../../../config/default.toml"))
    }

    /// The `[models.detectors.*]` and `[models.recognizers.*]` tables of a configuration
    /// file (its other settings are ignored), e.g. `config/default.toml` in tests and tools.
    pub fn from_toml(document: &str) -> Result<Self, InitError> {
        #[derive(Deserialize)]
        struct Document {
            #[serde(default)]
            models: Catalogue,
        }
        toml::from_str::<Document>(document)
            .map(|d| d.models)
            .map_err(|e| InitError::Config(format!("model tables: {e}")))
    }

    fn detector_entry(&self, key: &str, name: &str) -> Result<&DetectorEntry, InitError> {
        self.detectors.get(name).ok_or_else(|| {
            InitError::Config(format!(
                "{key} = {name:?} names no [models.detectors.{name}] entry; configured: {}",
                self.detectors
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
    }

    fn recognizer_entry(&self, name: &str) -> Result<&RecognizerEntry, InitError> {
        self.recognizers.get(name).ok_or_else(|| {
            InitError::Config(format!(
                "models.recognizer = {name:?} names no [models.recognizers.{name}] entry; \
                 configured: {}",
                self.recognizers
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
    }

    /// Checks that the names given are entries of the catalogue (no file is read).
    pub fn check_names(
        &self,
        detector: &str,
        fine: Option<&str>,
        recognizer: &str,
    ) -> Result<(), InitError> {
        self.detector_entry("models.detector", detector)?;
        if let Some(fine) = fine {
            self.detector_entry("models.fine_detector", fine)?;
        }
        self.recognizer_entry(recognizer).map(drop)
    }

    /// The detector `name` (`key`: the setting that named it, for the message), checked
    /// against its file in `dir`.
    pub fn detector(&self, dir: &Path, key: &str, name: &str) -> Result<DetectorConfig, InitError> {
        let entry = self.detector_entry(key, name)?;
        read(dir, &entry.file)?.detector(entry)
    }

    /// The recognizer `name`, checked against its file in `dir`.
    pub fn recognizer(&self, dir: &Path, name: &str) -> Result<RecognizerConfig, InitError> {
        let entry = self.recognizer_entry(name)?;
        read(dir, &entry.file)?.recognizer(name, entry)
    }

    /// The embedder of these models over `dir` with the default runtime settings; `fine`
    /// names the detector of the high-resolution pass (`None`: `detector`).
    pub fn embedder(
        &self,
        dir: &Path,
        detector: &str,
        recognizer: &str,
        fine: Option<&str>,
    ) -> Result<EmbedderConfig, InitError> {
        let mut config = EmbedderConfig::new(
            dir,
            self.detector(dir, "models.detector", detector)?,
            self.recognizer(dir, recognizer)?,
        );
        config.fine_detector = fine
            .map(|name| self.detector(dir, "models.fine_detector", name))
            .transpose()?;
        Ok(config)
    }
}

/// An InsightFace model pack: which of its files detect and which recognise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackLayout {
    pub name: &'static str,
    pub detector: &'static str,
    pub recognizer: &'static str,
}

/// The packs InsightFace publishes (`insightface.app.FaceAnalysis(name=...)`), by their file
/// names; the other files of a pack (landmarks, gender and age) are not used.
pub const PACKS: &[PackLayout] = &[
    PackLayout {
        name: "buffalo_l",
        detector: "det_10g.onnx",
        recognizer: "w600k_r50.onnx",
    },
    PackLayout {
        name: "buffalo_m",
        detector: "det_2.5g.onnx",
        recognizer: "w600k_r50.onnx",
    },
    PackLayout {
        name: "buffalo_s",
        detector: "det_500m.onnx",
        recognizer: "w600k_mbf.onnx",
    },
    PackLayout {
        name: "antelopev2",
        detector: "scrfd_10g_bnkps.onnx",
        recognizer: "glintr100.onnx",
    },
];

/// The entries a pack folder provides: its detector and recognizer, named after their files
/// (`det_10g`, `w600k_r50`, …), with InsightFace's own settings for them (SCRFD at 640, score
/// 0.5, NMS 0.4; ArcFace input `(rgb - 127.5) / 127.5`). The pack is recognised by the first
/// layout whose recognizer is in the folder; a missing detector is an error naming it.
pub fn pack(dir: &Path) -> Result<(String, DetectorEntry, String, RecognizerEntry), InitError> {
    if !dir.is_dir() {
        return Err(InitError::Config(format!(
            "models.pack {} is not a folder",
            dir.display()
        )));
    }
    let has = |file: &str| dir.join(file).is_file();
    let layout = PACKS
        .iter()
        .find(|p| has(p.recognizer) && has(p.detector))
        .or_else(|| PACKS.iter().find(|p| has(p.recognizer) || has(p.detector)))
        .ok_or_else(|| {
            let known: Vec<String> = PACKS
                .iter()
                .map(|p| format!("{} ({} + {})", p.name, p.detector, p.recognizer))
                .collect();
            InitError::Config(format!(
                "models.pack {} holds no known pack's files; known: {}",
                dir.display(),
                known.join(", ")
            ))
        })?;
    for file in [layout.detector, layout.recognizer] {
        if !has(file) {
            return Err(InitError::Config(format!(
                "models.pack {} looks like {} but lacks {file} ({})",
                dir.display(),
                layout.name,
                dir.join(file).display()
            )));
        }
    }
    let stem = |file: &str| file.trim_end_matches(".onnx").to_owned();
    let abs = |file: &str| dir.join(file).to_string_lossy().into_owned();
    Ok((
        stem(layout.detector),
        DetectorEntry {
            kind: DetectorKind::Scrfd,
            file: abs(layout.detector),
            input_size: 640,
            score_threshold: 0.5,
            nms_threshold: 0.4,
        },
        stem(layout.recognizer),
        RecognizerEntry {
            file: abs(layout.recognizer),
            id: None,
            dim: None,
            mean: 127.5,
            std: 127.5,
            reliable_face_px: 48.0,
            max_batch: 16,
        },
    ))
}

/// One line per declared input and output of the file, for `facepass models check`.
pub fn describe_file(file: &ModelFile) -> String {
    let mut out = String::new();
    for t in &file.io.inputs {
        let _ = writeln!(out, "    input  {t}");
    }
    for t in &file.io.outputs {
        let _ = writeln!(out, "    output {t}");
    }
    let _ = write!(out, "    sha256 {}", file.sha256);
    out
}
