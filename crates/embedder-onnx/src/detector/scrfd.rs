//! SCRFD (InsightFace) decoding: for strides 8/16/32, a grid of cells with 2 anchors each;
//! outputs are [3 score maps, 3 box-distance maps, 3 keypoint-offset maps] in stride order.

use facepass_domain::ports::EmbedError;
use ort::session::Session;

use super::{Detection, Letterbox, nms};
use crate::InitError;
use crate::config::DetectorConfig;
use crate::runtime::{PixelNorm, ort_err};

const STRIDES: [usize; 3] = [8, 16, 32];
const ANCHORS: usize = 2;
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
}

impl Scrfd {
    pub fn new(session: Session, config: &DetectorConfig) -> Result<Self, InitError> {
        if session.outputs().len() != 9 {
            return Err(InitError::Model {
                path: config.file.clone().into(),
                reason: format!(
                    "SCRFD with keypoints has 9 outputs, this model has {}",
                    session.outputs().len()
                ),
            });
        }
        Ok(Self {
            session,
            score_threshold: config.score_threshold,
            nms_threshold: config.nms_threshold,
            input: Vec::new(),
        })
    }

    pub fn run(&mut self, boxed: &Letterbox, floor: f32) -> Result<Vec<Detection>, EmbedError> {
        let canvas = boxed.canvas;
        let outputs = boxed.infer(&mut self.session, &mut self.input, NORM)?;
        let mut found = Vec::new();
        for (level, &stride) in STRIDES.iter().enumerate() {
            let (_, scores) = outputs[level]
                .try_extract_tensor::<f32>()
                .map_err(ort_err)?;
            let (_, boxes) = outputs[level + 3]
                .try_extract_tensor::<f32>()
                .map_err(ort_err)?;
            let (_, kps) = outputs[level + 6]
                .try_extract_tensor::<f32>()
                .map_err(ort_err)?;
            let cols = canvas.width / stride;
            let expected = cols * (canvas.height / stride) * ANCHORS;
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
                let cell = i / ANCHORS;
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
