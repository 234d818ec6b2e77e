//! The per-image pipeline on one thread: probe → decode → detect (pad and retry when the face
//! fills the frame) → align from the best pixels needed → batched recognition.
//!
//! Resolution policy. By default every image is decoded at full resolution, which reproduces
//! the reference pipeline (InsightFace-style: letterbox from full resolution, crops warped
//! from full resolution) to cosine >= 0.9999.
//!
//! With `reduced_decoding`, a large JPEG is decoded at 1/2, 1/4 or 1/8 scale (libjpeg DCT
//! scaling) as long as its long side stays at or above the detector input, which cuts the
//! decode of a 24 MP photo several-fold. Each face's 112x112 crop is warped from that image
//! only when the face still spans at least as many pixels there as in the crop (the warp only
//! shrinks); otherwise the photo is decoded again at the finest scale those faces need (full
//! resolution for small faces in big group photos). The detector then sees an anti-aliased
//! input instead of the reference's sub-sampled one, which moves landmarks by a pixel or so:
//! identification accuracy on the fixtures is unchanged, but embeddings differ from the
//! reference by up to ~4 % (cosine 0.957 at worst on DEV), so it is opt-in.

use std::time::Instant;

use facepass_domain::ports::EmbedError;
use facepass_domain::{
    BoundingBox, DetectedFace, EmbeddingSpace, FaceAnalysis, Point, StageTimings,
};
use opencv::core::{self, Mat, Scalar};
use opencv::prelude::*;
use ort::environment::Environment;

use crate::InitError;
use crate::align::{Similarity, warp};
use crate::config::EmbedderConfig;
use crate::decode::{self, Probe, REDUCTIONS, cv_err};
use crate::detector::{Detection, Detector};
use crate::recognizer::Recognizer;

pub(crate) struct Pipeline {
    detector: Detector,
    recognizer: Recognizer,
    detector_side: u32,
    max_pixels: u64,
    reduced_decoding: bool,
}

impl Pipeline {
    pub fn load(
        env: &Environment,
        config: &EmbedderConfig,
        space: EmbeddingSpace,
    ) -> Result<Self, InitError> {
        Ok(Self {
            detector: Detector::load(env, config)?,
            recognizer: Recognizer::load(env, config, space)?,
            detector_side: config.detector.input_size,
            max_pixels: config.max_pixels,
            reduced_decoding: config.reduced_decoding,
        })
    }

    pub fn analyze(&mut self, bytes: &[u8]) -> Result<FaceAnalysis, EmbedError> {
        let mut timings = StageTimings::default();
        let started = Instant::now();
        let probe = decode::probe(bytes, self.max_pixels)?;
        let reduction = self.detection_reduction(&probe);
        let image = decode::decode(bytes, &probe, reduction)?;
        timings.decode = started.elapsed();

        let started = Instant::now();
        // Scale from the decoded image to the oriented original (per axis: libjpeg rounds up).
        let sx = probe.width as f32 / image.cols() as f32;
        let sy = probe.height as f32 / image.rows() as f32;
        let detections: Vec<Detection> = self
            .detect_with_padding(&image)?
            .into_iter()
            .map(|d| d.transformed(0.0, 0.0, sx, sy))
            .collect();
        timings.detect = started.elapsed();

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

    /// The coarsest JPEG reduction that keeps the long side at or above the detector input.
    fn detection_reduction(&self, probe: &Probe) -> u32 {
        if !self.reduced_decoding || probe.format != decode::Format::Jpeg {
            return 1;
        }
        let long = probe.width.max(probe.height);
        REDUCTIONS
            .iter()
            .rev()
            .copied()
            .find(|&r| long / r >= self.detector_side)
            .unwrap_or(1)
    }

    /// Detects; when nothing is found, retries on the image padded by half its size on every
    /// side, because detectors miss faces that fill the whole frame (tight selfies, crops).
    fn detect_with_padding(&mut self, image: &Mat) -> Result<Vec<Detection>, EmbedError> {
        let found = self.detector.detect(image)?;
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
        let found = self.detector.detect(&padded)?;
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
