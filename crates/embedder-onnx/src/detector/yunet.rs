//! YuNet 2023mar (OpenCV zoo) decoding: for strides 8/16/32, one anchor per cell; score is
//! sqrt(cls * obj); boxes are centre offsets and log sizes; raw BGR 0..255 input.

use facepass_domain::ports::EmbedError;
use ort::session::Session;

use super::{Detection, Letterbox, nms};
use crate::InitError;
use crate::config::DetectorConfig;
use crate::runtime::{PixelNorm, ort_err};

const STRIDES: [usize; 3] = [8, 16, 32];
pub(super) const NORM: PixelNorm = PixelNorm {
    rgb: false,
    mean: 0.0,
    std: 1.0,
};

pub(crate) struct Yunet {
    pub(super) session: Session,
    pub(super) score_threshold: f32,
    pub(super) nms_threshold: f32,
    input: Vec<f32>,
    /// Output index of cls, obj, bbox, kps per stride.
    outputs: [[usize; 4]; 3],
}

impl Yunet {
    pub fn new(session: Session, config: &DetectorConfig) -> Result<Self, InitError> {
        let find = |name: String| {
            session
                .outputs()
                .iter()
                .position(|o| o.name() == name)
                .ok_or_else(|| InitError::Model {
                    path: config.file.clone().into(),
                    reason: format!("YuNet output {name} is missing"),
                })
        };
        let mut outputs = [[0; 4]; 3];
        for (level, stride) in STRIDES.iter().enumerate() {
            for (slot, kind) in ["cls", "obj", "bbox", "kps"].iter().enumerate() {
                outputs[level][slot] = find(format!("{kind}_{stride}"))?;
            }
        }
        Ok(Self {
            session,
            score_threshold: config.score_threshold,
            nms_threshold: config.nms_threshold,
            input: Vec::new(),
            outputs,
        })
    }

    pub fn run(&mut self, boxed: &Letterbox, floor: f32) -> Result<Vec<Detection>, EmbedError> {
        let canvas = boxed.canvas;
        let results = boxed.infer(&mut self.session, &mut self.input, NORM)?;
        let mut found = Vec::new();
        for (level, &stride) in STRIDES.iter().enumerate() {
            let [ci, oi, bi, ki] = self.outputs[level];
            let (_, cls) = results[ci].try_extract_tensor::<f32>().map_err(ort_err)?;
            let (_, obj) = results[oi].try_extract_tensor::<f32>().map_err(ort_err)?;
            let (_, bbox) = results[bi].try_extract_tensor::<f32>().map_err(ort_err)?;
            let (_, kps) = results[ki].try_extract_tensor::<f32>().map_err(ort_err)?;
            let cols = canvas.width / stride;
            let n = cols * (canvas.height / stride);
            if cls.len() != n || obj.len() != n || bbox.len() != n * 4 || kps.len() != n * 10 {
                return Err(EmbedError::Unexpected(format!(
                    "YuNet stride {stride}: unexpected output sizes"
                )));
            }
            let s = stride as f32;
            for i in 0..n {
                let score = (cls[i].clamp(0.0, 1.0) * obj[i].clamp(0.0, 1.0)).sqrt();
                if score < floor {
                    continue;
                }
                let (col, row) = ((i % cols) as f32, (i / cols) as f32);
                let b = &bbox[i * 4..i * 4 + 4];
                let (cx, cy) = ((col + b[0]) * s, (row + b[1]) * s);
                let (w, h) = (b[2].exp() * s, b[3].exp() * s);
                let k = &kps[i * 10..i * 10 + 10];
                let mut landmarks = [[0.0; 2]; 5];
                for (j, p) in landmarks.iter_mut().enumerate() {
                    *p = [(col + k[2 * j]) * s, (row + k[2 * j + 1]) * s];
                }
                found.push(Detection {
                    x1: cx - w / 2.0,
                    y1: cy - h / 2.0,
                    x2: cx + w / 2.0,
                    y2: cy + h / 2.0,
                    score,
                    landmarks,
                });
            }
        }
        Ok(nms(found, self.nms_threshold))
    }
}
