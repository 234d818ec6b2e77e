//! The per-image pipeline on one thread: probe → decode → detect (pad and retry when the face
//! fills the frame) → align from the best pixels needed → batched recognition.
//!
//! Resolution policy (the default). A large JPEG is decoded at 1/2, 1/4 or 1/8 scale (libjpeg
//! DCT scaling) as long as its long side stays at or above the detector input, which cuts the
//! decode of a 24 MP photo several-fold. The detector input follows the photo's aspect ratio
//! where the model takes dynamic shapes (640x448 for 3:2 instead of 640x640). Each face's
//! 112x112 crop is warped from the decoded image only when the face still spans at least as
//! many pixels there as in the crop (the warp only shrinks); otherwise the photo is decoded
//! again at the finest scale those faces need (full resolution for small faces in big group
//! photos). The detector sees an anti-aliased input instead of the reference's sub-sampled
//! one, which moves landmarks by a pixel or so: identification accuracy on DEV is unchanged
//! (tests/models/accuracy.rs) while embeddings differ from the reference by a few percent.
//!
//! A selfie is first searched at a coarse detector input (`SELFIE_SIDE`): a guest's face is
//! large, and when the largest face found there is big enough for any competing face to be
//! found too, that pass is the only one. Otherwise the photo path runs.
//!
//! `reference_mode` reproduces the Python reference pipeline (InsightFace-style: full
//! resolution, square letterbox) to cosine >= 0.9999 (tests/models/golden.rs).

use std::time::Instant;

use facepass_domain::ports::EmbedError;
use facepass_domain::{
    BoundingBox, DetectedFace, EmbeddingSpace, FaceAnalysis, ImageKind, Point, StageTimings,
};
use opencv::core::{self, Mat, Scalar};
use opencv::prelude::*;
use ort::environment::Environment;

use crate::InitError;
use crate::align::{Similarity, warp};
use crate::config::EmbedderConfig;
use crate::decode::{self, Probe, REDUCTIONS, cv_err};
use crate::detector::{Detection, Detector, InputSize};
use crate::recognizer::Recognizer;
use crate::runtime::Canvas;

/// The model calls one photo costs: a detector pass and `faces` recognitions.
pub(crate) struct FloorWork {
    pub canvas: Canvas,
    pub input: Vec<f32>,
    pub faces: usize,
}

/// Long side of the coarse detector pass on selfies.
const SELFIE_SIDE: usize = 256;
/// The coarse pass is enough when the largest face is at least this tall in detector pixels:
/// a competing face (>= 60 % of its area, so >= 77 % of its height) is then >= 31 px, well
/// within what the detectors find reliably.
const SELFIE_MIN_FACE: f32 = 40.0;

pub(crate) struct Pipeline {
    detector: Detector,
    recognizer: Recognizer,
    /// The photo pass.
    photo_input: InputSize,
    /// The coarse selfie pass, where the detector takes dynamic shapes.
    selfie_input: Option<InputSize>,
    max_pixels: u64,
    reduced_decoding: bool,
}

impl Pipeline {
    pub fn load(
        env: &Environment,
        config: &EmbedderConfig,
        space: EmbeddingSpace,
    ) -> Result<Self, InitError> {
        if config.min_face_px != 0 {
            return Err(InitError::Config(format!(
                "models.min_face_px = {}: only 0 (one detector pass at the detector's input \
                 size) is supported",
                config.min_face_px
            )));
        }
        let fast = !config.reference_mode;
        let fit_aspect = fast && config.detector.dynamic_input;
        Ok(Self {
            detector: Detector::load(env, config)?,
            recognizer: Recognizer::load(env, config, space)?,
            photo_input: InputSize {
                long_side: config.detector.input_size as usize,
                fit_aspect,
            },
            selfie_input: fit_aspect.then_some(InputSize {
                long_side: SELFIE_SIDE.min(config.detector.input_size as usize),
                fit_aspect,
            }),
            max_pixels: config.max_pixels,
            reduced_decoding: fast,
        })
    }

    pub fn analyze(&mut self, bytes: &[u8], kind: ImageKind) -> Result<FaceAnalysis, EmbedError> {
        let mut timings = StageTimings::default();
        let started = Instant::now();
        let probe = decode::probe(bytes, self.max_pixels)?;
        let coarse = match kind {
            ImageKind::Selfie => self.selfie_input,
            ImageKind::Photo => None,
        };
        let first_input = coarse.unwrap_or(self.photo_input);
        let mut reduction = self.detection_reduction(&probe, first_input.long_side);
        let mut image = decode::decode(bytes, &probe, reduction)?;
        timings.decode = started.elapsed();

        let started = Instant::now();
        let mut redecode = std::time::Duration::ZERO;
        let mut found = self.detect_with_padding(&image, first_input)?;
        if let Some(input) = coarse {
            let scale = input.long_side as f32 / image.cols().max(image.rows()) as f32;
            let largest = found.iter().map(|d| d.y2 - d.y1).fold(0.0, f32::max) * scale;
            if largest < SELFIE_MIN_FACE {
                let finer = self.detection_reduction(&probe, self.photo_input.long_side);
                if finer != reduction {
                    let again = Instant::now();
                    image = decode::decode(bytes, &probe, finer)?;
                    reduction = finer;
                    redecode = again.elapsed();
                }
                found = self.detect_with_padding(&image, self.photo_input)?;
            }
        }
        // Scale from the decoded image to the oriented original (per axis: libjpeg rounds up).
        let sx = probe.width as f32 / image.cols() as f32;
        let sy = probe.height as f32 / image.rows() as f32;
        let detections: Vec<Detection> = found
            .into_iter()
            .map(|d| d.transformed(0.0, 0.0, sx, sy))
            .collect();
        timings.decode += redecode;
        timings.detect = started.elapsed().saturating_sub(redecode);

        let started = Instant::now();
        let transforms: Vec<Similarity> = detections
            .iter()
            .map(|d| Similarity::to_template(&d.landmarks))
            .collect();
        // The coarsest decode at which every face's crop is still a pure downscale.
        let needed = transforms
            .iter()
            .map(|t| finest_needed(t.scale()))
            .min()
            .unwrap_or(reduction);
        let crop_reduction = needed.min(reduction);
        let (source, factor) = if crop_reduction == reduction {
            (image, (sx, sy))
        } else {
            let again = Instant::now();
            let finer = decode::decode(bytes, &probe, crop_reduction)?;
            timings.decode += again.elapsed();
            let f = (
                probe.width as f32 / finer.cols() as f32,
                probe.height as f32 / finer.rows() as f32,
            );
            (finer, f)
        };
        let crops = detections
            .iter()
            .map(|d| {
                let local = d.transformed(0.0, 0.0, 1.0 / factor.0, 1.0 / factor.1);
                warp(&source, &Similarity::to_template(&local.landmarks))
            })
            .collect::<Result<Vec<Mat>, _>>()?;
        let embeddings = self.recognizer.embed(&crops)?;
        timings.embed = started.elapsed();

        let faces = detections
            .into_iter()
            .zip(embeddings)
            .map(|(d, embedding)| DetectedFace {
                bbox: BoundingBox::from_corners(d.x1, d.y1, d.x2, d.y2),
                landmarks: d.landmarks.map(|[x, y]| Point { x, y }),
                det_score: d.score,
                embedding,
            })
            .collect();
        Ok(FaceAnalysis {
            width: probe.width,
            height: probe.height,
            faces,
            timings,
        })
    }

    /// The detector input of the first pass this pipeline runs on a photo, and the faces it
    /// then embeds (for the compute floor).
    pub fn floor_work(&mut self, bytes: &[u8]) -> Result<FloorWork, EmbedError> {
        let faces = self.analyze(bytes, ImageKind::Photo)?.faces.len();
        let probe = decode::probe(bytes, self.max_pixels)?;
        let reduction = self.detection_reduction(&probe, self.photo_input.long_side);
        let image = decode::decode(bytes, &probe, reduction)?;
        let (canvas, input) = self.detector.prepare(&image, self.photo_input)?;
        Ok(FloorWork {
            canvas,
            input,
            faces,
        })
    }

    /// The coarsest JPEG reduction that keeps the long side at or above the detector input.
    fn detection_reduction(&self, probe: &Probe, detector_side: usize) -> u32 {
        if !self.reduced_decoding || probe.format != decode::Format::Jpeg {
            return 1;
        }
        let long = probe.width.max(probe.height) as usize;
        REDUCTIONS
            .iter()
            .rev()
            .copied()
            .find(|&r| long / r as usize >= detector_side)
            .unwrap_or(1)
    }

    /// Detects; when nothing is found, retries on the image padded by half its size on every
    /// side, because detectors miss faces that fill the whole frame (tight selfies, crops).
    fn detect_with_padding(
        &mut self,
        image: &Mat,
        input: InputSize,
    ) -> Result<Vec<Detection>, EmbedError> {
        let found = self.detector.detect(image, input)?;
        if !found.is_empty() {
            return Ok(found);
        }
        let (pw, ph) = (image.cols() / 2, image.rows() / 2);
        let mut padded = Mat::default();
        core::copy_make_border(
            image,
            &mut padded,
            ph,
            ph,
            pw,
            pw,
            core::BORDER_CONSTANT,
            Scalar::all(0.0),
        )
        .map_err(cv_err)?;
        let found = self.detector.detect(&padded, input)?;
        Ok(found
            .into_iter()
            .map(|d| d.transformed(-(pw as f32), -(ph as f32), 1.0, 1.0))
            .collect())
    }
}

/// The coarsest reduction at which a crop with `scale` template pixels per original pixel
/// is still a downscale (scale * reduction <= 1).
fn finest_needed(scale: f64) -> u32 {
    REDUCTIONS
        .iter()
        .rev()
        .copied()
        .find(|&r| scale * f64::from(r) <= 1.0)
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::finest_needed;

    #[test]
    fn small_faces_need_full_resolution_and_large_faces_allow_reduction() {
        assert_eq!(finest_needed(2.0), 1); // face smaller than the crop
        assert_eq!(finest_needed(1.0), 1);
        assert_eq!(finest_needed(0.5), 2);
        assert_eq!(finest_needed(0.3), 2);
        assert_eq!(finest_needed(0.25), 4);
        assert_eq!(finest_needed(0.05), 8);
    }
}
