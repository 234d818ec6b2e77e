//! Face detectors (SCRFD, YuNet): letterbox to a square input, run, decode, NMS. Returns
//! boxes and landmarks in pixels of the image they were given.

mod scrfd;
mod yunet;

pub(crate) use scrfd::layout as scrfd_layout;

use facepass_domain::ports::EmbedError;
use opencv::core::{Mat, Size, ToInputArray};
use opencv::imgproc;
use opencv::prelude::*;
use ort::environment::Environment;
use ort::session::{Session, SessionOutputs};
use ort::value::TensorRef;

use crate::InitError;
use crate::config::{DetectorConfig, DetectorKind, EmbedderConfig};
use crate::decode::cv_err;
use crate::runtime::{Canvas, PixelNorm, Shapes, flush_denormals, ort_err, pack_nchw};

/// One raw detection: corners, score and 5 landmarks, in input-image pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Detection {
    pub x1: f32,
    pub y1: f32,
    pub x2: f32,
    pub y2: f32,
    pub score: f32,
    pub landmarks: [[f32; 2]; 5],
}

impl Detection {
    fn shift_and_scale(&mut self, dx: f32, dy: f32, sx: f32, sy: f32) {
        self.x1 = (self.x1 + dx) * sx;
        self.x2 = (self.x2 + dx) * sx;
        self.y1 = (self.y1 + dy) * sy;
        self.y2 = (self.y2 + dy) * sy;
        for p in &mut self.landmarks {
            p[0] = (p[0] + dx) * sx;
            p[1] = (p[1] + dy) * sy;
        }
    }

    /// Intersection over union of the two boxes, with InsightFace's `+1` pixel areas.
    pub fn iou(&self, other: &Detection) -> f32 {
        let inter = self.intersection(other);
        inter / (self.area() + other.area() - inter)
    }

    /// The box's centre.
    pub fn centre(&self) -> (f32, f32) {
        ((self.x1 + self.x2) / 2.0, (self.y1 + self.y2) / 2.0)
    }

    /// The share of this box that lies inside `other` (0 to 1).
    pub fn share_inside(&self, other: &Detection) -> f32 {
        self.intersection(other) / self.area()
    }

    fn area(&self) -> f32 {
        (self.x2 - self.x1 + 1.0) * (self.y2 - self.y1 + 1.0)
    }

    fn intersection(&self, other: &Detection) -> f32 {
        let w = (self.x2.min(other.x2) - self.x1.max(other.x1) + 1.0).max(0.0);
        let h = (self.y2.min(other.y2) - self.y1.max(other.y1) + 1.0).max(0.0);
        w * h
    }

    /// Moves the detection by (dx, dy), then scales it by (sx, sy).
    pub fn transformed(mut self, dx: f32, dy: f32, sx: f32, sy: f32) -> Self {
        self.shift_and_scale(dx, dy, sx, sy);
        self
    }
}

/// A detector model with its decoder; owns its ONNX session.
pub(crate) enum Detector {
    Scrfd(scrfd::Scrfd),
    Yunet(yunet::Yunet),
}

/// How large the detector input is for one pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InputSize {
    /// The letterbox's long side.
    pub long_side: usize,
    /// The input follows the image's aspect ratio (rounded up to the model's stride) instead
    /// of a `long_side` square: a 3:2 photo runs at 640x448, a third fewer pixels than 640x640.
    pub fit_aspect: bool,
}

impl Detector {
    /// Loads `det` (the photo detector or the high-resolution one) with `config`'s runtime
    /// settings.
    pub fn load(
        env: &Environment,
        config: &EmbedderConfig,
        det: &DetectorConfig,
    ) -> Result<Self, InitError> {
        // YuNet's export declares 640x640 but runs at any size (see `onnx_shapes`).
        let shapes = match det.kind {
            DetectorKind::Yunet if det.dynamic_input => Shapes::RelaxSpatial,
            _ => Shapes::Declared,
        };
        let session = crate::runtime::load_session(
            env,
            &config.model_path(&det.file),
            config.intra_threads,
            shapes,
            crate::runtime::Buffers::Arena,
        )?;
        Ok(match det.kind {
            DetectorKind::Scrfd => Detector::Scrfd(scrfd::Scrfd::new(session, det)?),
            DetectorKind::Yunet => Detector::Yunet(yunet::Yunet::new(session, det)?),
        })
    }

    /// The letterboxed input of one detector pass over `image`, packed as the model takes it.
    pub fn prepare(
        &self,
        image: &impl Image,
        size: InputSize,
    ) -> Result<(Canvas, Vec<f32>), EmbedError> {
        let boxed = Letterbox::new(image, size)?;
        let norm = match self {
            Detector::Scrfd(_) => scrfd::NORM,
            Detector::Yunet(_) => yunet::NORM,
        };
        let mut input = Vec::new();
        boxed.pack(&mut input, norm)?;
        Ok((boxed.canvas, input))
    }

    /// Runs the model alone on a prepared input (the compute floor: no decoding, no packing,
    /// no output decoding).
    pub fn run_prepared(&mut self, canvas: Canvas, input: &[f32]) -> Result<(), EmbedError> {
        let session = match self {
            Detector::Scrfd(d) => &mut d.session,
            Detector::Yunet(d) => &mut d.session,
        };
        run(session, canvas, input)?;
        Ok(())
    }

    /// IoU above which two boxes are one face.
    pub fn nms_threshold(&self) -> f32 {
        match self {
            Detector::Scrfd(d) => d.nms_threshold,
            Detector::Yunet(d) => d.nms_threshold,
        }
    }

    /// Score from which a detection is a face.
    pub fn score_threshold(&self) -> f32 {
        match self {
            Detector::Scrfd(d) => d.score_threshold,
            Detector::Yunet(d) => d.score_threshold,
        }
    }

    /// Detects faces in a BGR image; coordinates are in that image's pixels.
    pub fn detect(
        &mut self,
        image: &impl Image,
        size: InputSize,
    ) -> Result<Vec<Detection>, EmbedError> {
        let floor = self.score_threshold();
        self.detect_down_to(image, size, floor)
    }

    /// [`Detector::detect`] keeping every detection that scores `floor` or more (candidates
    /// below the threshold, for a closer look).
    pub fn detect_down_to(
        &mut self,
        image: &impl Image,
        size: InputSize,
        floor: f32,
    ) -> Result<Vec<Detection>, EmbedError> {
        let boxed = Letterbox::new(image, size)?;
        let mut found = match self {
            Detector::Scrfd(d) => d.run(&boxed, floor)?,
            Detector::Yunet(d) => d.run(&boxed, floor)?,
        };
        let inv = 1.0 / boxed.scale;
        found
            .iter_mut()
            .for_each(|d| d.shift_and_scale(0.0, 0.0, inv, inv));
        Ok(found)
    }
}

/// A BGR image the detector reads: a `Mat` or a region of one (a tile).
pub(crate) trait Image: MatTraitConst + ToInputArray {}
impl<T: MatTraitConst + ToInputArray> Image for T {}

/// Every detector's coarsest stride: dynamic input sides are multiples of it.
const MAX_STRIDE: usize = 32;

/// The image resized (aspect kept) to fit the detector input, in its top-left corner.
pub(crate) struct Letterbox {
    pub pixels: Mat,
    pub width: usize,
    pub height: usize,
    /// Size of the model input.
    pub canvas: Canvas,
    pub scale: f32,
}

impl Letterbox {
    fn new(image: &impl Image, size: InputSize) -> Result<Self, EmbedError> {
        let side = size.long_side;
        let (w, h) = (image.cols() as f64, image.rows() as f64);
        let scale = (side as f64 / h).min(side as f64 / w);
        // Python's round() (ties to even), as the reference pipeline uses.
        let nw = ((w * scale).round_ties_even() as i32).clamp(1, side as i32);
        let nh = ((h * scale).round_ties_even() as i32).clamp(1, side as i32);
        let canvas = if size.fit_aspect {
            let up = |v: i32| (v as usize).div_ceil(MAX_STRIDE) * MAX_STRIDE;
            Canvas {
                width: up(nw),
                height: up(nh),
            }
        } else {
            Canvas::square(side)
        };
        let mut pixels = Mat::default();
        imgproc::resize(
            image,
            &mut pixels,
            Size::new(nw, nh),
            0.0,
            0.0,
            imgproc::INTER_LINEAR,
        )
        .map_err(cv_err)?;
        Ok(Self {
            pixels,
            width: nw as usize,
            height: nh as usize,
            canvas,
            scale: scale as f32,
        })
    }

    /// Packs the pixels into the top-left of `input` (resized to 1x3xHxW; the rest black).
    fn pack(&self, input: &mut Vec<f32>, norm: PixelNorm) -> Result<(), EmbedError> {
        input.resize(3 * self.canvas.area(), 0.0);
        let bytes = self.pixels.data_bytes().map_err(cv_err)?;
        pack_nchw(bytes, self.width, self.height, self.canvas, norm, input);
        Ok(())
    }

    /// Packs the pixels into `input` and runs the detector `session` on it.
    pub fn infer<'s>(
        &self,
        session: &'s mut Session,
        input: &mut Vec<f32>,
        norm: PixelNorm,
    ) -> Result<SessionOutputs<'s>, EmbedError> {
        self.pack(input, norm)?;
        run(session, self.canvas, input)
    }
}

/// One detector call on a packed 1x3xHxW input, subnormals flushed.
fn run<'s>(
    session: &'s mut Session,
    canvas: Canvas,
    input: &[f32],
) -> Result<SessionOutputs<'s>, EmbedError> {
    let tensor = TensorRef::from_array_view(([1usize, 3, canvas.height, canvas.width], input))
        .map_err(ort_err)?;
    flush_denormals(|| session.run(ort::inputs![tensor])).map_err(ort_err)
}

/// Greedy non-maximum suppression, the same arithmetic as InsightFace's (`+1` pixel areas).
pub(crate) fn nms(mut dets: Vec<Detection>, iou_threshold: f32) -> Vec<Detection> {
    dets.sort_by(|a, b| b.score.total_cmp(&a.score));
    nms_in_order(dets, iou_threshold)
}

/// Greedy suppression in the given priority order (first wins), whatever the scores.
pub(crate) fn nms_in_order(dets: Vec<Detection>, iou_threshold: f32) -> Vec<Detection> {
    let mut keep: Vec<Detection> = Vec::new();
    for d in dets {
        if keep.iter().all(|k| k.iou(&d) <= iou_threshold) {
            keep.push(d);
        }
    }
    keep
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(x: f32, score: f32) -> Detection {
        Detection {
            x1: x,
            y1: 0.0,
            x2: x + 10.0,
            y2: 10.0,
            score,
            landmarks: [[0.0; 2]; 5],
        }
    }

    #[test]
    fn nms_keeps_the_best_of_overlapping_boxes_and_all_disjoint_ones() {
        let kept = nms(vec![det(0.0, 0.6), det(1.0, 0.9), det(50.0, 0.7)], 0.4);
        assert_eq!(
            kept.iter().map(|d| d.score).collect::<Vec<_>>(),
            vec![0.9, 0.7]
        );
    }
}
