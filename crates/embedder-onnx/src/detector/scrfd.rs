//! SCRFD (InsightFace) decoding: for strides 8/16/32 (2 anchors per cell) or 8 to 128 (5
//! strides, 1 anchor), a grid of cells; outputs are [score maps, box-distance maps,
//! keypoint-offset maps], each in stride order, batched (`[1, N, k]`) or not (`[N, k]`).
//! Models without keypoints cannot be aligned and are refused (see [`crate::models`]).

use facepass_domain::ports::EmbedError;
use ort::session::Session;

use super::{Detection, Letterbox, nms};
use crate::InitError;
use crate::config::DetectorConfig;
use crate::runtime::{PixelNorm, ort_err};

/// The strides and anchors per cell of an SCRFD with `outputs` outputs (keypoints included).
pub(crate) fn layout(outputs: usize) -> Option<(&'static [usize], usize)> {
    match outputs {
        9 => Some((&[8, 16, 32], 2)),
        15 => Some((&[8, 16, 32, 64, 128], 1)),
        _ => None,
    }
}
pub(super) const NORM: PixelNorm = PixelNorm {
    rgb: true,
    mean: 127.5,
    std: 128.0,
};

pub(crate) struct Scrfd {
    pub(super) session: Session,
    pub(super) score_threshold: f32,
    pub(super) nms_threshold: f32,
    input: Vec<f32>,
    strides: &'static [usize],
    anchors: usize,
}

impl Scrfd {
    pub fn new(session: Session, config: &DetectorConfig) -> Result<Self, InitError> {
        let (strides, anchors) =
            layout(session.outputs().len()).ok_or_else(|| InitError::Model {
                path: config.file.clone().into(),
                reason: format!(
                    "SCRFD with keypoints has 9 or 15 outputs, this model has {}",
                    session.outputs().len()
                ),
            })?;
        Ok(Self {
            session,
            score_threshold: config.score_threshold,
            nms_threshold: config.nms_threshold,
            input: Vec::new(),
            strides,
            anchors,
        })
    }

    pub fn run(&mut self, boxed: &Letterbox, floor: f32) -> Result<Vec<Detection>, EmbedError> {
        let canvas = boxed.canvas;
        let outputs = boxed.infer(&mut self.session, &mut self.input, NORM)?;
        let mut found = Vec::new();
        let levels = self.strides.len();
        for (level, &stride) in self.strides.iter().enumerate() {
            let (_, scores) = outputs[level]
                .try_extract_tensor::<f32>()
                .map_err(ort_err)?;
            let (_, boxes) = outputs[level + levels]
                .try_extract_tensor::<f32>()
                .map_err(ort_err)?;
            let (_, kps) = outputs[level + 2 * levels]
                .try_extract_tensor::<f32>()
                .map_err(ort_err)?;
            let cols = canvas.width / stride;
            let expected = cols * (canvas.height / stride) * self.anchors;
            if scores.len() != expected || boxes.len() != expected * 4 || kps.len() != expected * 10
            {
                return Err(EmbedError::Unexpected(format!(
                    "SCRFD stride {stride}: unexpected output sizes"
                )));
            }
            let s = stride as f32;
            for (i, &score) in scores.iter().enumerate() {
                if score < floor {
                    continue;
                }
                let cell = i / self.anchors;
                let (cx, cy) = ((cell % cols) as f32 * s, (cell / cols) as f32 * s);
                let b = &boxes[i * 4..i * 4 + 4];
                let k = &kps[i * 10..i * 10 + 10];
                let mut landmarks = [[0.0; 2]; 5];
                for (j, p) in landmarks.iter_mut().enumerate() {
                    *p = [cx + k[2 * j] * s, cy + k[2 * j + 1] * s];
                }
                found.push(Detection {
                    x1: cx - b[0] * s,
                    y1: cy - b[1] * s,
                    x2: cx + b[2] * s,
                    y2: cy + b[3] * s,
                    score,
                    landmarks,
                });
            }
        }
        Ok(nms(found, self.nms_threshold))
    }
}
