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
use opencv::imgproc;
use opencv::prelude::*;
use ort::environment::Environment;

use crate::InitError;
use crate::align::{Similarity, warp};
use crate::config::EmbedderConfig;
use crate::decode::{self, Probe, REDUCTIONS, cv_err};
use crate::detector::{Detection, Detector, InputSize, nms, nms_in_order};
use crate::recognizer::Recognizer;
use crate::runtime::Canvas;

/// The model calls one photo costs: a detector pass and `faces` recognitions.
pub(crate) struct FloorWork {
    /// Every detector call (on the high-resolution detector?), with its input.
    pub passes: Vec<(bool, Canvas, Vec<f32>)>,
    pub faces: usize,
}

/// One detector call of the high-resolution pass.
struct Pass {
    image: Mat,
    input: InputSize,
    /// Where `image` sits in the scaled photo.
    offset: (f32, f32),
    /// Scaled photo pixels to decoded image pixels, per axis.
    back: (f32, f32),
}

/// Detector pixels a face must span to be found reliably: `models.min_face_px` scales the
/// photo so that its faces reach this height.
const RELIABLE_FACE_PX: f32 = 24.0;

/// Long side of the coarse detector pass on selfies.
const SELFIE_SIDE: usize = 256;
/// The coarse pass is enough when the largest face is at least this tall in detector pixels:
/// a competing face (>= 60 % of its area, so >= 77 % of its height) is then >= 31 px, well
/// within what the detectors find reliably.
const SELFIE_MIN_FACE: f32 = 40.0;

pub(crate) struct Pipeline {
    detector: Detector,
    /// The detector of the high-resolution pass, when `min_face_px` asks for one.
    fine_detector: Option<Detector>,
    recognizer: Recognizer,
    /// The photo pass.
    photo_input: InputSize,
    /// The coarse selfie pass, where the detector takes dynamic shapes.
    selfie_input: Option<InputSize>,
    max_pixels: u64,
    reduced_decoding: bool,
    /// Smallest face height (original pixels) photos are searched for; 0 = the one pass.
    min_face_px: u32,
    /// Largest tile side of the high-resolution pass (the detector's input size).
    tile: usize,
    /// The high-resolution detector takes only `tile` x `tile` inputs.
    fixed_tile: Option<usize>,
}

impl Pipeline {
    pub fn load(
        env: &Environment,
        config: &EmbedderConfig,
        space: EmbeddingSpace,
    ) -> Result<Self, InitError> {
        let fast = !config.reference_mode;
        // The reference runs one detector pass: `min_face_px` does not apply to it.
        let min_face_px = if fast { config.min_face_px } else { 0 };
        let fit_aspect = fast && config.detector.dynamic_input;
        let fine = config.fine_detector.as_ref().unwrap_or(&config.detector);
        Ok(Self {
            detector: Detector::load(env, config, &config.detector)?,
            fine_detector: if min_face_px == 0 {
                None
            } else {
                Some(Detector::load(env, config, fine)?)
            },
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
            min_face_px,
            tile: fine.input_size as usize,
            fixed_tile: (!fine.dynamic_input).then_some(fine.input_size as usize),
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
        let fine = match kind {
            ImageKind::Photo => self.fine_side(&probe),
            ImageKind::Selfie => None,
        };
        let first_input = coarse.unwrap_or(self.photo_input);
        let mut reduction = self.detection_reduction(&probe, fine.unwrap_or(first_input.long_side));
        let mut image = decode::decode(bytes, &probe, reduction)?;
        timings.decode = started.elapsed();

        let started = Instant::now();
        let mut redecode = std::time::Duration::ZERO;
        let mut found = match fine {
            Some(side) => self.detect_two_scales(&image, side)?,
            None => self.detect_with_padding(&image, first_input)?,
        };
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
        let fine = self.fine_side(&probe);
        let reduction =
            self.detection_reduction(&probe, fine.unwrap_or(self.photo_input.long_side));
        let image = decode::decode(bytes, &probe, reduction)?;
        let (canvas, input) = self.detector.prepare(&image, self.photo_input)?;
        let mut passes = vec![(false, canvas, input)];
        if let (Some(side), Some(detector)) = (fine, &self.fine_detector) {
            for pass in self.fine_passes(&image, side)? {
                let (canvas, input) = detector.prepare(&pass.image, pass.input)?;
                passes.push((true, canvas, input));
            }
        }
        Ok(FloorWork { passes, faces })
    }

    /// The long side of the high-resolution detector pass, where `min_face_px` asks for one:
    /// the photo scaled so that a face of `min_face_px` spans `RELIABLE_FACE_PX` detector
    /// pixels (never above the original size), when that exceeds the one-pass input.
    fn fine_side(&self, probe: &Probe) -> Option<usize> {
        if self.min_face_px == 0 || self.fine_detector.is_none() {
            return None;
        }
        let long = probe.width.max(probe.height) as f32;
        let side = (long * (RELIABLE_FACE_PX / self.min_face_px as f32).min(1.0)).ceil() as usize;
        (side > self.photo_input.long_side).then_some(side)
    }

    /// The one pass (large faces, with the padding retry) plus the high-resolution pass
    /// (small faces), merged by NMS; boxes in `image` pixels.
    fn detect_two_scales(
        &mut self,
        image: &Mat,
        side: usize,
    ) -> Result<Vec<Detection>, EmbedError> {
        // The one pass sees an area-averaged copy (a proper low-pass, as reduced JPEG
        // decoding gives it) rather than a subsampling of the large image.
        let long = image.cols().max(image.rows()) as f32;
        let coarse_scale = (self.photo_input.long_side as f32 / long).min(1.0);
        let coarse = resize_area(image, coarse_scale)?;
        let back = (
            image.cols() as f32 / coarse.cols() as f32,
            image.rows() as f32 / coarse.rows() as f32,
        );
        // Faces the one pass sees at a reliable size keep its boxes and landmarks (the
        // photo detector is the more precise one); the fine pass has the final word on
        // smaller ones.
        let (mut reliable, mut small): (Vec<Detection>, Vec<Detection>) = self
            .detect_with_padding(&coarse, self.photo_input)?
            .into_iter()
            .partition(|d| d.y2 - d.y1 >= RELIABLE_FACE_PX);
        for d in reliable.iter_mut().chain(small.iter_mut()) {
            *d = d.transformed(0.0, 0.0, back.0, back.1);
        }
        let mut fine = Vec::new();
        let overlap = self.tile_overlap(side) as f32;
        let passes = self.fine_passes(image, side)?;
        let detector = self.fine_detector.as_mut().unwrap_or(&mut self.detector);
        for pass in passes {
            let (dx, dy) = pass.offset;
            // The fine pass answers for the faces that fit in a tile overlap; larger ones are
            // the one pass's (a tile may see only part of them).
            fine.extend(
                detector
                    .detect(&pass.image, pass.input)?
                    .into_iter()
                    .filter(|d| d.y2 - d.y1 <= overlap && d.x2 - d.x1 <= overlap)
                    .map(|d| d.transformed(dx, dy, 1.0, 1.0))
                    .map(|d| d.transformed(0.0, 0.0, pass.back.0, pass.back.1)),
            );
        }
        let iou = self.detector.nms_threshold();
        let mut found = nms(reliable, iou);
        found.extend(nms(fine, iou));
        found.extend(nms(small, iou));
        Ok(nms_in_order(found, iou))
    }

    /// Overlap of neighbouring tiles in the fine pass (scaled-photo pixels): at least a
    /// quarter of a tile, and at least the height from which the one pass finds faces
    /// reliably, so that every face is whole in some tile or found by the one pass.
    fn tile_overlap(&self, side: usize) -> usize {
        let one_pass_reliable =
            RELIABLE_FACE_PX * side as f32 / self.photo_input.long_side as f32 * 1.25;
        (one_pass_reliable.ceil() as usize)
            .max(self.tile / 4)
            .min(self.tile / 2)
    }

    /// The detector runs of the high-resolution pass over `image`: the image scaled to a
    /// long side of `side`, in overlapping tiles of at most the detector's input size.
    fn fine_passes(&self, image: &Mat, side: usize) -> Result<Vec<Pass>, EmbedError> {
        let long = image.cols().max(image.rows()) as f32;
        let scaled = resize_area(image, (side as f32 / long).min(1.0))?;
        let back = (
            image.cols() as f32 / scaled.cols() as f32,
            image.rows() as f32 / scaled.rows() as f32,
        );
        let (w, h) = (scaled.cols() as usize, scaled.rows() as usize);
        // Tiles, even where the model takes any size: ONNX Runtime runs a 24 MP photo at
        // half scale faster as 640-px tiles than as one large input (cache-friendly
        // feature maps), overlap included.
        let overlap = self.tile_overlap(side);
        let flexible = self.fixed_tile.is_none();
        let mut passes = Vec::new();
        for (y, th) in tile_spans(h, self.tile, overlap, flexible) {
            for (x, tw) in tile_spans(w, self.tile, overlap, flexible) {
                let rect = core::Rect::new(x as i32, y as i32, tw as i32, th as i32);
                let roi = Mat::roi(&scaled, rect)
                    .map_err(cv_err)?
                    .try_clone()
                    .map_err(cv_err)?;
                passes.push(Pass {
                    image: roi,
                    input: InputSize {
                        long_side: if flexible { tw.max(th) } else { self.tile },
                        fit_aspect: flexible,
                    },
                    offset: (x as f32, y as f32),
                    back,
                });
            }
        }
        Ok(passes)
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

/// `image` scaled by `scale` (<= 1) with area averaging; a copy at 1.
fn resize_area(image: &Mat, scale: f32) -> Result<Mat, EmbedError> {
    if scale >= 1.0 {
        return image.try_clone().map_err(cv_err);
    }
    let size = core::Size::new(
        ((image.cols() as f32 * scale).round() as i32).max(1),
        ((image.rows() as f32 * scale).round() as i32).max(1),
    );
    let mut out = Mat::default();
    imgproc::resize(image, &mut out, size, 0.0, 0.0, imgproc::INTER_AREA).map_err(cv_err)?;
    Ok(out)
}

/// Windows (start, length) covering `len` in `tile`-long steps with at least `overlap`
/// shared between neighbours, spread evenly, the last ending at the edge. With `flexible`,
/// windows shrink (to a multiple of the detector stride) to cover `len` with the least
/// overlap; otherwise all are `tile` long (or `len`, when shorter).
fn tile_spans(len: usize, tile: usize, overlap: usize, flexible: bool) -> Vec<(usize, usize)> {
    if len <= tile {
        return vec![(0, len)];
    }
    let step = tile.saturating_sub(overlap).max(1);
    let count = (len - tile).div_ceil(step) + 1;
    let size = if flexible {
        let even = (len + (count - 1) * overlap).div_ceil(count);
        even.div_ceil(32).saturating_mul(32).clamp(1, tile)
    } else {
        tile
    };
    (0..count)
        .map(|i| ((i * (len - size)).div_ceil(count - 1), size))
        .collect()
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
    use super::{finest_needed, tile_spans};

    #[test]
    fn tiles_cover_the_side_with_the_overlap_and_end_at_the_edge() {
        assert_eq!(tile_spans(500, 640, 160, false), vec![(0, 500)]);
        assert_eq!(tile_spans(640, 640, 160, true), vec![(0, 640)]);
        for flexible in [false, true] {
            let spans = tile_spans(2000, 640, 160, flexible);
            assert_eq!(spans.first().map(|s| s.0), Some(0));
            let last = spans.last().expect("tiles");
            assert_eq!(last.0 + last.1, 2000, "{spans:?}");
            for pair in spans.windows(2) {
                assert!(pair[0].0 + pair[0].1 >= pair[1].0 + 160, "{spans:?}");
            }
            for (_, size) in &spans {
                assert!(*size <= 640 && (!flexible || size % 32 == 0), "{spans:?}");
            }
        }
        // Flexible tiles shrink to the least overlap: 3 tiles of 544 instead of 640.
        assert_eq!(
            tile_spans(1300, 640, 160, false),
            vec![(0, 640), (330, 640), (660, 640)]
        );
        assert_eq!(
            tile_spans(1300, 640, 160, true),
            vec![(0, 544), (378, 544), (756, 544)]
        );
    }

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
