//! The per-image pipeline on one thread: probe → decode → detect (pad and retry when the face
//! fills the frame) → align from the best pixels needed → batched recognition.
//!
//! Resolution policy (the default). A large JPEG is decoded at 1/2, 1/4 or 1/8 scale (libjpeg
//! DCT scaling) as long as its long side stays at or above the detector input, which cuts the
//! decode of a 24 MP photo several-fold. The detector input follows the photo's aspect ratio
//! where the model takes dynamic shapes (640x448 for 3:2 instead of 640x640). Each face's
//! 112x112 crop is warped from the decoded image when the face still spans at least as
//! many pixels there as in the crop (the warp only shrinks); the other faces' crops come from
//! a second decode at the finest scale they need (full resolution for small faces in big
//! group photos), for a JPEG only the rectangle their crops read (`decode::decode_region`:
//! rows above it are skipped, rows below never decoded). The detector sees an anti-aliased input
//! instead of the reference's sub-sampled one, which moves landmarks by a pixel or so:
//! identification accuracy on DEV is unchanged (tests/models/accuracy.rs) while embeddings
//! differ from the reference by a few percent.
//! With `min_face_px`, a photo large enough for it is detected at two scales on one detector
//! (`FinePass`, YuNet by default): the whole photo at the one-pass size for large faces, and
//! overlapping tiles at the scale where a face of `min_face_px` spans `TILE_FACE_PX`. Every
//! tile detection from `CANDIDATE_SCORE` up is only a candidate: it becomes a face when the
//! detector finds it again on a finer window around it (`Pipeline::confirm`).
//!
//! A selfie is first searched at a coarse detector input (`SELFIE_SIDE`): a guest's face is
//! large, and when the largest face found there is big enough for any competing face to be
//! found too, that pass is the only one. Otherwise the photo path runs. A selfie whose best
//! face scores below `UPRIGHT_SCORE` (or has none), or whose face lies on its side by its
//! own landmarks (`LYING_ROLL`), is detected again turned 180°, 90° and 270° (uploads
//! without EXIF orientation). Every face's quality is measured on its crop; selfie crops are
//! restored by it before recognition (`quality::restore`: blurred ones deconvolved, dark
//! ones brightened, small dark ones smoothed), and small selfie faces warped bicubic.
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
use crate::align::{CROP, Similarity, warp};
use crate::config::EmbedderConfig;
use crate::decode::{self, Probe, REDUCTIONS, cv_err};
use crate::detector::{Detection, Detector, InputSize, nms, nms_in_order};
use crate::quality;
use crate::recognizer::Recognizer;
use crate::runtime::Canvas;

/// The model calls one photo costs: a detector pass and `faces` recognitions.
pub(crate) struct FloorWork {
    /// Every detector call (on the two-scale mode's detector?), with its input.
    pub passes: Vec<(bool, Canvas, Vec<f32>)>,
    pub faces: usize,
}

/// The pixels face crops are warped from: a decoded image or a part of one.
struct CropSource {
    image: Mat,
    /// Original pixels per image pixel, per axis.
    per_pixel: (f32, f32),
    /// The image's top-left corner in the decoded photo (a part's offset; else 0).
    origin: (f32, f32),
}

impl CropSource {
    /// The 112x112 crop of `d` (original pixels).
    fn warp(&self, d: &Detection, interpolation: i32) -> Result<Mat, EmbedError> {
        let local = d
            .transformed(0.0, 0.0, 1.0 / self.per_pixel.0, 1.0 / self.per_pixel.1)
            .transformed(-self.origin.0, -self.origin.1, 1.0, 1.0);
        warp(
            &self.image,
            &Similarity::to_template(&local.landmarks),
            interpolation,
        )
    }
}

/// The two-scale mode of `models.min_face_px` (photos only): its detector runs the coarse
/// whole-photo pass and the high-resolution tiles.
struct FinePass {
    detector: Detector,
    /// Smallest face height (original pixels) it must find; > 0.
    min_face_px: u32,
    /// Largest tile side (the detector's input size).
    tile: usize,
    /// Tiles may be any multiple of the stride up to `tile` (the model takes dynamic shapes).
    flexible: bool,
}

/// The high-resolution pass of one photo.
#[derive(Debug, Clone, Copy)]
struct FineScale {
    /// Long side of the scaled photo the tiles cut.
    side: usize,
    /// Score from which tile detections are kept: below the detector's threshold, they are
    /// candidates to confirm.
    floor: f32,
}

/// What the two-scale detection found, in pixels of the image it ran on.
#[derive(Default)]
struct TwoScales {
    /// Final faces, in priority order: the coarse pass's faces of a reliable size, and every
    /// face where the tiles' faces are not confirmed.
    faces: Vec<Detection>,
    /// The tiles' detections from the candidate floor, for `Pipeline::confirm`.
    candidates: Vec<Detection>,
    /// The coarse pass's faces below the reliable size, kept after the confirmed ones.
    small: Vec<Detection>,
}

/// The photo scaled for the high-resolution pass and its tiles.
struct Tiles {
    /// `None` when the decoded image is already at the pass's scale.
    scaled: Option<Mat>,
    /// Scaled photo pixels to decoded image pixels, per axis.
    back: (f32, f32),
    /// Each tile's rectangle in the scaled photo and its detector input.
    tiles: Vec<(core::Rect, InputSize)>,
}

/// Detector pixels a face must span to be found reliably (YuNet's and SCRFD's score 0.7/0.5
/// on most faces from there): the coarse pass's faces below it are left to the tiles, and
/// without confirmation `models.min_face_px` scales the photo so that its faces reach it.
const RELIABLE_FACE_PX: f32 = 24.0;

/// A tile face with more than this share of its box inside a larger face of the coarse pass
/// is a part of that face.
const CONTAINED: f32 = 0.6;

/// Detector pixels a face of `models.min_face_px` spans in the tiles when their faces are
/// confirmed (`Pipeline::confirm`): the detector still sees it, often below its threshold,
/// and the confirmation decides. 18 instead of 24 px is 0.56x the tiles' pixels.
const TILE_FACE_PX: f32 = 18.0;

/// The tiles keep every detection from this score (far below the detector's threshold) as a
/// candidate; only what the confirmation finds again is a face. Labelled 24 MP scenes at the
/// defaults, 32-48 px recall from 0.05 / 0.04 / 0.02: 0.81 / 0.88 / 0.96, no false face; the
/// camera corpus 1.5 % slower from 0.04 than from 0.05 (alternating runs), 14 % from 0.02
/// (docs/benchmarks.md).
const CANDIDATE_SCORE: f32 = 0.04;
/// A candidate's window: this many times its size, around its centre.
const CONFIRM_WINDOW: f32 = 3.0;
/// A candidate at least this tall in the detector's image is confirmed there, its window
/// scaled so that it spans this; smaller ones at full resolution.
const CONFIRM_FACE_PX: f32 = 48.0;
/// Windows narrower than this (clipped at the photo's edge) are not looked at.
const MIN_WINDOW: i32 = 8;

/// Long side of the coarse detector pass on selfies.
const SELFIE_SIDE: usize = 256;
/// The coarse pass is enough when the largest face is at least this tall in detector pixels:
/// a competing face (>= 60 % of its area, so >= 77 % of its height) is then >= 31 px, well
/// within what the detectors find reliably.
const SELFIE_MIN_FACE: f32 = 40.0;

/// A selfie whose best face scores below this is also searched turned: upright faces of
/// the DEV photos score 0.77-0.91 on det_2.5g, faces lying on their side 0.52-0.84, upside
/// down 0.52-0.77.
const UPRIGHT_SCORE: f32 = 0.8;
/// How much more confident a turned face must be to replace the upright detections (a face
/// tilted by 45° scores about the same either way).
const TURN_MARGIN: f32 = 0.05;
/// A turned face must also score like an upright one: turning a selfie without a face gives
/// the detector three more chances at a false face (a coffee cup scored 0.65).
const TURNED_MIN_SCORE: f32 = 0.7;
/// A face whose eyes' line is turned more than this (degrees) lies on its side or upside
/// down: DEV selfies tilted by 45° stay under it, turned by 90° and 180° are over it.
const LYING_ROLL: f32 = 60.0;

pub(crate) struct Pipeline {
    detector: Detector,
    /// The small-face pass, when `min_face_px` asks for one.
    fine: Option<FinePass>,
    recognizer: Recognizer,
    /// The photo pass.
    photo_input: InputSize,
    /// The coarse selfie pass, where the detector takes dynamic shapes.
    selfie_input: Option<InputSize>,
    max_pixels: u64,
    reduced_decoding: bool,
}

/// An image decoded for its first detector pass, and the passes it gets.
struct Decoded {
    probe: Probe,
    image: Mat,
    /// The JPEG reduction `image` was decoded at (1: full resolution).
    reduction: u32,
    /// A selfie's coarse pass.
    coarse: Option<InputSize>,
    /// A large photo's high-resolution pass.
    fine: Option<FineScale>,
}

impl Decoded {
    /// Original pixels per pixel of `image`, per axis (libjpeg rounds up).
    fn per_pixel(&self) -> (f32, f32) {
        (
            self.probe.width as f32 / self.image.cols() as f32,
            self.probe.height as f32 / self.image.rows() as f32,
        )
    }
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
        let fine = match min_face_px {
            0 => None,
            min_face_px => {
                let det = config.fine_detector.as_ref().unwrap_or(&config.detector);
                Some(FinePass {
                    detector: Detector::load(env, config, det)?,
                    min_face_px,
                    tile: det.input_size as usize,
                    flexible: det.dynamic_input,
                })
            }
        };
        Ok(Self {
            detector: Detector::load(env, config, &config.detector)?,
            fine,
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
        let mut decoded = self.decode_for_detection(bytes, kind)?;
        timings.decode = started.elapsed();

        let started = Instant::now();
        let (detections, redecode) = self.detect_faces(bytes, kind, &mut decoded)?;
        timings.decode += redecode;
        timings.detect = started.elapsed().saturating_sub(redecode);

        let started = Instant::now();
        let (width, height) = (decoded.probe.width, decoded.probe.height);
        let (faces, redecode) = self.embed_faces(bytes, kind, decoded, detections)?;
        timings.decode += redecode;
        timings.embed = started.elapsed();
        Ok(FaceAnalysis {
            width,
            height,
            faces,
            timings,
        })
    }

    /// Probes the image and decodes it at the reduction its first detector pass needs.
    fn decode_for_detection(&self, bytes: &[u8], kind: ImageKind) -> Result<Decoded, EmbedError> {
        let probe = decode::probe(bytes, self.max_pixels)?;
        let coarse = match kind {
            ImageKind::Selfie => self.selfie_input,
            ImageKind::Photo => None,
        };
        let fine = match kind {
            ImageKind::Photo => self.fine_scale(&probe),
            ImageKind::Selfie => None,
        };
        let first_input = coarse.unwrap_or(self.photo_input);
        let detector_side = fine.map_or(first_input.long_side, |f| f.side);
        let reduction = self.detection_reduction(&probe, detector_side);
        let image = decode::decode(bytes, &probe, reduction)?;
        Ok(Decoded {
            probe,
            image,
            reduction,
            coarse,
            fine,
        })
    }

    /// Every face of the image, in original pixels (with the time spent decoding again):
    /// the two scales of a large photo with their candidates confirmed, or one pass (a
    /// selfie's coarse one first, then the full one and the turned retries as needed).
    fn detect_faces(
        &mut self,
        bytes: &[u8],
        kind: ImageKind,
        d: &mut Decoded,
    ) -> Result<(Vec<Detection>, std::time::Duration), EmbedError> {
        let mut redecode = std::time::Duration::ZERO;
        let mut unsure = TwoScales::default();
        let first_input = d.coarse.unwrap_or(self.photo_input);
        let mut found = match d.fine {
            Some(FineScale { side, floor }) => {
                let mut two = self.detect_two_scales(&d.image, side, floor)?;
                let faces = std::mem::take(&mut two.faces);
                unsure = two;
                faces
            }
            None => self.detect_with_padding(&d.image, first_input)?,
        };
        let mut used = first_input;
        if let Some(input) = d.coarse {
            let scale = input.long_side as f32 / d.image.cols().max(d.image.rows()) as f32;
            let largest = found.iter().map(|d| d.y2 - d.y1).fold(0.0, f32::max) * scale;
            if largest < SELFIE_MIN_FACE {
                redecode += self.redecode_for_full_pass(bytes, d)?;
                found = self.detect_with_padding(&d.image, self.photo_input)?;
                used = self.photo_input;
            }
        }
        if kind == ImageKind::Selfie {
            found = self.turn_upright(&d.image, used, found)?;
        }
        // Scale from the decoded image to the oriented original (per axis: libjpeg rounds up).
        let (sx, sy) = d.per_pixel();
        let to_original = |d: Detection| d.transformed(0.0, 0.0, sx, sy);
        let mut detections: Vec<Detection> = found.into_iter().map(to_original).collect();
        if !unsure.candidates.is_empty() || !unsure.small.is_empty() {
            // Confirmed tile faces before the coarse pass's small ones: the tiles (or the
            // confirmation's finer window) saw them with more pixels.
            let candidates: Vec<Detection> =
                unsure.candidates.into_iter().map(to_original).collect();
            let (confirmed, decoding) =
                self.confirm(bytes, &d.probe, &d.image, d.reduction, &candidates)?;
            redecode += decoding;
            detections.extend(confirmed);
            detections.extend(unsure.small.into_iter().map(to_original));
            detections = nms_in_order(detections, self.detector.nms_threshold());
        }
        Ok((detections, redecode))
    }

    /// Decodes `d` again at the reduction of the full photo pass when the selfie pass's was
    /// coarser; returns the time it took.
    fn redecode_for_full_pass(
        &self,
        bytes: &[u8],
        d: &mut Decoded,
    ) -> Result<std::time::Duration, EmbedError> {
        let finer = self.detection_reduction(&d.probe, self.photo_input.long_side);
        if finer == d.reduction {
            return Ok(std::time::Duration::ZERO);
        }
        let again = Instant::now();
        d.image = decode::decode(bytes, &d.probe, finer)?;
        d.reduction = finer;
        Ok(again.elapsed())
    }

    /// A selfie is known to show a face. None found, or only with the low score a detector
    /// gives a face lying on its side or upside down: maybe it was uploaded turned without an
    /// EXIF orientation. A turn with a clearly more confident face wins (alignment then turns
    /// the face upright from its landmarks). A face whose own landmarks say it lies on its
    /// side is turned upright as well, first the way that undoes it: the detector's landmarks
    /// of a sideways face are poorer even when it is sure of the face, and an upright one
    /// about as sure wins.
    fn turn_upright(
        &mut self,
        image: &Mat,
        used: InputSize,
        found: Vec<Detection>,
    ) -> Result<Vec<Detection>, EmbedError> {
        let score = best_score(&found);
        let roll = found
            .iter()
            .max_by(|a, b| a.score.total_cmp(&b.score))
            .map_or(0.0, |d| quality::roll_degrees(&d.landmarks));
        let lying = roll.abs() > LYING_ROLL;
        if score >= UPRIGHT_SCORE && !lying {
            return Ok(found);
        }
        let to_beat = if lying {
            score - TURN_MARGIN
        } else {
            score + TURN_MARGIN
        };
        let first = lying.then(|| undoing_turn(roll));
        Ok(self
            .detect_rotated(image, used, to_beat, first)?
            .unwrap_or(found))
    }

    /// Each face aligned, measured, restored where it is a selfie's, and embedded (with the
    /// time spent decoding finer pixels for small faces' crops).
    fn embed_faces(
        &mut self,
        bytes: &[u8],
        kind: ImageKind,
        d: Decoded,
        detections: Vec<Detection>,
    ) -> Result<(Vec<DetectedFace>, std::time::Duration), EmbedError> {
        let (mut crops, decoding) = self.crops(bytes, kind, d, &detections)?;
        let qualities = detections
            .iter()
            .zip(&crops)
            .map(|(d, crop)| quality::measure(crop, &d.landmarks, d.y2 - d.y1))
            .collect::<Result<Vec<_>, _>>()?;
        if kind == ImageKind::Selfie {
            // A selfie is the one query worth restoring (one guest, one face, and a photo's
            // faces are compared with it, never with each other): a blurred one is
            // deblurred, a dark one brightened, a small dark (noisy) one smoothed.
            crops = crops
                .into_iter()
                .zip(&qualities)
                .map(|(crop, q)| quality::restore(crop, q))
                .collect::<Result<_, _>>()?;
        }
        let embeddings = self.recognizer.embed(&crops)?;
        let faces = detections
            .into_iter()
            .zip(embeddings)
            .zip(qualities)
            .map(|((d, embedding), quality)| DetectedFace {
                bbox: BoundingBox::from_corners(d.x1, d.y1, d.x2, d.y2),
                landmarks: d.landmarks.map(|[x, y]| Point { x, y }),
                det_score: d.score,
                embedding,
                quality,
            })
            .collect();
        Ok((faces, decoding))
    }

    /// The aligned 112x112 crop of each detection (original pixels). Each is warped from the
    /// coarsest decode at which it is still a pure downscale: the detector's image where that
    /// is fine enough, else one finer decode of the region the other faces' crops read.
    fn crops(
        &self,
        bytes: &[u8],
        kind: ImageKind,
        d: Decoded,
        detections: &[Detection],
    ) -> Result<(Vec<Mat>, std::time::Duration), EmbedError> {
        let reduction = d.reduction;
        let needed: Vec<u32> = detections
            .iter()
            .map(|d| finest_needed(Similarity::to_template(&d.landmarks).scale()).min(reduction))
            .collect();
        let finest = needed.iter().copied().min().unwrap_or(reduction);
        let mut decoding = std::time::Duration::ZERO;
        let finer = if finest < reduction {
            let again = Instant::now();
            let small: Vec<Detection> = detections
                .iter()
                .zip(&needed)
                .filter(|&(_, &n)| n < reduction)
                .map(|(d, _)| *d)
                .collect();
            let finer = self.decode_for_crops(bytes, &d.probe, finest, &small)?;
            decoding = again.elapsed();
            Some(finer)
        } else {
            None
        };
        let source = CropSource {
            per_pixel: d.per_pixel(),
            image: d.image,
            origin: (0.0, 0.0),
        };
        let crops = detections
            .iter()
            .zip(&needed)
            .map(|(d, &n)| {
                // A small selfie face is upscaled 3x and more: bicubic keeps more of it.
                let interpolation =
                    if kind == ImageKind::Selfie && d.y2 - d.y1 < quality::SMALL_FACE_PX {
                        imgproc::INTER_CUBIC
                    } else {
                        imgproc::INTER_LINEAR
                    };
                match &finer {
                    Some(finer) if n < reduction => finer.warp(d, interpolation),
                    _ => source.warp(d, interpolation),
                }
            })
            .collect::<Result<Vec<Mat>, _>>()?;
        Ok((crops, decoding))
    }

    /// The pixels the crops of `detections` (original pixels) are warped from, decoded at
    /// 1/`reduction`: only the rows and columns their crops read where the format allows it
    /// (a group photo's faces span a band of it), else the whole image.
    fn decode_for_crops(
        &self,
        bytes: &[u8],
        probe: &Probe,
        reduction: u32,
        detections: &[Detection],
    ) -> Result<CropSource, EmbedError> {
        let (w, h) = probe.decoded_size(reduction);
        let factor = (
            probe.width as f32 / w as f32,
            probe.height as f32 / h as f32,
        );
        let region = detections
            .iter()
            .map(|d| {
                let local = d.transformed(0.0, 0.0, 1.0 / factor.0, 1.0 / factor.1);
                crop_footprint(&Similarity::to_template(&local.landmarks))
            })
            .reduce(|a, b| a | b)
            .map(|r| r & core::Rect::new(0, 0, w, h));
        // A region of most of the image saves too little to be worth a second libjpeg setup.
        let worth = |r: &core::Rect| {
            r.width > 0
                && r.height > 0
                && i64::from(r.width) * i64::from(r.height) < i64::from(w) * i64::from(h) * 3 / 4
        };
        if let Some(region) = region.filter(worth)
            && let Some((part, at)) = decode::decode_region(bytes, probe, reduction, region)
        {
            return Ok(CropSource {
                image: part,
                per_pixel: factor,
                origin: (at.x as f32, at.y as f32),
            });
        }
        Ok(CropSource {
            image: decode::decode(bytes, probe, reduction)?,
            per_pixel: factor,
            origin: (0.0, 0.0),
        })
    }

    /// The detector input of the first pass this pipeline runs on a photo, and the faces it
    /// then embeds (for the compute floor).
    pub fn floor_work(&mut self, bytes: &[u8]) -> Result<FloorWork, EmbedError> {
        let faces = self.analyze(bytes, ImageKind::Photo)?.faces.len();
        let probe = decode::probe(bytes, self.max_pixels)?;
        let fine = self.fine_scale(&probe);
        let reduction =
            self.detection_reduction(&probe, fine.map_or(self.photo_input.long_side, |f| f.side));
        let image = decode::decode(bytes, &probe, reduction)?;
        let mut passes = Vec::new();
        if let (Some(FineScale { side, .. }), Some(pass)) = (fine, &self.fine) {
            let coarse_input = pass.coarse_input(self.photo_input.long_side);
            let (canvas, input) = pass.detector.prepare(&image, coarse_input)?;
            passes.push((true, canvas, input));
            let tiles = pass.tiles(&image, side, self.photo_input.long_side)?;
            let scaled = tiles.scaled.as_ref().unwrap_or(&image);
            for &(rect, input) in &tiles.tiles {
                let tile = Mat::roi(scaled, rect).map_err(cv_err)?;
                let (canvas, input) = pass.detector.prepare(&tile, input)?;
                passes.push((true, canvas, input));
            }
        } else {
            let (canvas, input) = self.detector.prepare(&image, self.photo_input)?;
            passes.push((false, canvas, input));
        }
        Ok(FloorWork { passes, faces })
    }

    /// The high-resolution pass of a photo, where `min_face_px` asks for one: the photo scaled
    /// so that a face of `min_face_px` spans `TILE_FACE_PX` detector pixels, its tiles'
    /// candidates confirmed at full resolution, where that scale is at most 3/4 of the
    /// original and the detector takes windows of any size; else the scale where it spans
    /// `RELIABLE_FACE_PX` (never above the original size), without candidates. None when
    /// that does not exceed the one-pass input.
    fn fine_scale(&self, probe: &Probe) -> Option<FineScale> {
        let pass = self.fine.as_ref()?;
        let min_face_px = pass.min_face_px as f32;
        let one_pass = self.photo_input.long_side;
        let long = probe.width.max(probe.height) as f32;
        let threshold = pass.detector.score_threshold();
        let side = (long * TILE_FACE_PX / min_face_px).ceil() as usize;
        if pass.flexible && side > one_pass && side as f32 <= long * 0.75 {
            return Some(FineScale {
                side,
                floor: CANDIDATE_SCORE.min(threshold),
            });
        }
        let side = (long * (RELIABLE_FACE_PX / min_face_px).min(1.0)).ceil() as usize;
        (side > one_pass).then_some(FineScale {
            side,
            floor: threshold,
        })
    }

    /// The two-scale mode on the fine pass's detector: a coarse pass over the whole photo at
    /// the one-pass size (large faces, with the padding retry) plus the high-resolution tiles
    /// (small faces), merged by NMS; boxes in `image` pixels.
    ///
    /// With a `floor` below the detector's threshold, every tile detection from `floor` up
    /// comes back as a candidate for [`Pipeline::confirm`], and the coarse pass's faces below
    /// `RELIABLE_FACE_PX` apart (they rank after the confirmed ones).
    fn detect_two_scales(
        &mut self,
        image: &Mat,
        side: usize,
        floor: f32,
    ) -> Result<TwoScales, EmbedError> {
        let one_pass_side = self.photo_input.long_side;
        // Merging across scales and tiles keeps the photo detector's threshold (SCRFD's 0.4
        // by default, against YuNet's 0.3 within one call): neighbours in a crowd overlap.
        let iou = self.detector.nms_threshold();
        let Some(pass) = self.fine.as_mut() else {
            return Ok(TwoScales {
                faces: detect_padded(&mut self.detector, image, self.photo_input)?,
                candidates: Vec::new(),
                small: Vec::new(),
            });
        };
        // The coarse pass sees an area-averaged copy (a proper low-pass, as reduced JPEG
        // decoding gives it) rather than a subsampling of the large image.
        let long = image.cols().max(image.rows()) as f32;
        let coarse = resize_area(image, (one_pass_side as f32 / long).min(1.0))?;
        let back = (
            image.cols() as f32 / coarse.cols() as f32,
            image.rows() as f32 / coarse.rows() as f32,
        );
        // Both scales run on the fine pass's detector: a pyramid of one model (YuNet by
        // default: a fifth of SCRFD-2.5G's cost per pixel, the same recall and accuracy on
        // the labelled sets, docs/benchmarks.md). Faces the coarse pass sees at a reliable
        // size keep its boxes and landmarks; the tiles have the final word on smaller ones.
        let coarse_input = pass.coarse_input(one_pass_side);
        let (mut reliable, mut small): (Vec<Detection>, Vec<Detection>) =
            detect_padded(&mut pass.detector, &coarse, coarse_input)?
                .into_iter()
                .partition(|d| d.y2 - d.y1 >= RELIABLE_FACE_PX);
        for d in reliable.iter_mut().chain(small.iter_mut()) {
            *d = d.transformed(0.0, 0.0, back.0, back.1);
        }
        let limit = pass.overlap(side, one_pass_side) as f32;
        let tiles = pass.tiles(image, side, one_pass_side)?;
        let scaled = tiles.scaled.as_ref().unwrap_or(image);
        let threshold = pass.detector.score_threshold();
        let confirming = floor < threshold;
        let mut fine = Vec::new();
        for &(rect, input) in &tiles.tiles {
            let tile = Mat::roi(scaled, rect).map_err(cv_err)?;
            let (dx, dy) = (rect.x as f32, rect.y as f32);
            // The tiles answer for the faces that fit in a tile overlap; larger ones are the
            // coarse pass's (a tile may see only part of them).
            fine.extend(
                pass.detector
                    .detect_down_to(&tile, input, floor)?
                    .into_iter()
                    .filter(|d| d.y2 - d.y1 <= limit && d.x2 - d.x1 <= limit)
                    .map(|d| d.transformed(dx, dy, 1.0, 1.0))
                    .map(|d| d.transformed(0.0, 0.0, tiles.back.0, tiles.back.1)),
            );
        }
        drop_parts_of(&mut fine, &reliable);
        let reliable = nms(reliable, iou);
        if !confirming {
            let mut found = reliable;
            found.extend(nms(fine, iou));
            found.extend(nms(small, iou));
            return Ok(TwoScales {
                faces: nms_in_order(found, iou),
                candidates: Vec::new(),
                small: Vec::new(),
            });
        }
        // A candidate where the coarse pass already found a face would find it again.
        let candidates = nms(fine, iou)
            .into_iter()
            .filter(|c| reliable.iter().all(|f| c.iou(f) <= iou))
            .collect();
        Ok(TwoScales {
            faces: reliable,
            candidates,
            small: nms(small, iou),
        })
    }

    /// Looks again at the tiles' candidates (original pixels): each candidate's window
    /// (`CONFIRM_WINDOW` times its size) is detected again with the detector's own threshold,
    /// and a face found there centred inside the candidate's box confirms it. A 32-48 px face
    /// is 12-18 px in the tiles of `min_face_px = 48`, where YuNet often scores it far below
    /// its threshold; on a window with more pixels it scores like any face of its size.
    /// Returns the confirmed faces and the time spent decoding full-resolution bands.
    fn confirm(
        &mut self,
        bytes: &[u8],
        probe: &Probe,
        image: &Mat,
        reduction: u32,
        candidates: &[Detection],
    ) -> Result<(Vec<Detection>, std::time::Duration), EmbedError> {
        let Some(pass) = self.fine.as_mut() else {
            return Ok((Vec::new(), std::time::Duration::ZERO));
        };
        let per_pixel = (
            probe.width as f32 / image.cols() as f32,
            probe.height as f32 / image.rows() as f32,
        );
        let (coarse, fine): (Vec<&Detection>, Vec<&Detection>) = candidates
            .iter()
            .partition(|c| (c.y2 - c.y1) / per_pixel.1 >= CONFIRM_FACE_PX);
        let mut confirmed = confirm_in_image(pass, image, per_pixel, &coarse)?;
        let source = Source {
            bytes,
            probe,
            image,
            reduction,
        };
        let (finer, decoding) = confirm_at_full_resolution(pass, &source, &fine)?;
        confirmed.extend(finer);
        Ok((nms(confirmed, pass.detector.nms_threshold()), decoding))
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

    /// Detects on `image` turned by `first` (an OpenCV rotate code), then by the other
    /// turns (upside down, then a quarter either way), until a turn's best face scores
    /// `UPRIGHT_SCORE`; the detections of the turn whose best face scores most above
    /// `to_beat` (and reaches `TURNED_MIN_SCORE`), mapped back to `image`.
    fn detect_rotated(
        &mut self,
        image: &Mat,
        input: InputSize,
        to_beat: f32,
        first: Option<i32>,
    ) -> Result<Option<Vec<Detection>>, EmbedError> {
        let (w, h) = (image.cols() as f32, image.rows() as f32);
        let mut turns = vec![
            core::ROTATE_180,
            core::ROTATE_90_CLOCKWISE,
            core::ROTATE_90_COUNTERCLOCKWISE,
        ];
        if let Some(first) = first {
            turns.retain(|&t| t != first);
            turns.insert(0, first);
        }
        let to_beat = to_beat.max(TURNED_MIN_SCORE);
        let mut best: Option<(f32, i32, Vec<Detection>)> = None;
        for turn in turns {
            let mut turned = Mat::default();
            core::rotate(image, &mut turned, turn).map_err(cv_err)?;
            let found = self.detect_with_padding(&turned, input)?;
            let turned_score = best_score(&found);
            if turned_score > best.as_ref().map_or(to_beat, |b| b.0) {
                best = Some((turned_score, turn, found));
                if turned_score >= UPRIGHT_SCORE {
                    break;
                }
            }
        }
        Ok(best.map(|(_, turn, found)| {
            found
                .into_iter()
                .map(|d| turned_back(d, turn, w, h))
                .collect()
        }))
    }

    /// [`detect_padded`] with the photo and selfie detector.
    fn detect_with_padding(
        &mut self,
        image: &Mat,
        input: InputSize,
    ) -> Result<Vec<Detection>, EmbedError> {
        detect_padded(&mut self.detector, image, input)
    }
}

/// Detects with `detector`; when nothing is found, retries on the image padded by half its
/// size on every side, because detectors miss faces that fill the whole frame (tight
/// selfies, crops).
fn detect_padded(
    detector: &mut Detector,
    image: &Mat,
    input: InputSize,
) -> Result<Vec<Detection>, EmbedError> {
    let found = detector.detect(image, input)?;
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
    let found = detector.detect(&padded, input)?;
    Ok(found
        .into_iter()
        .map(|d| d.transformed(-(pw as f32), -(ph as f32), 1.0, 1.0))
        .collect())
}

impl FinePass {
    /// The detector input of the coarse pass: the one pass's long side, on this detector.
    fn coarse_input(&self, one_pass_side: usize) -> InputSize {
        InputSize {
            long_side: one_pass_side,
            fit_aspect: self.flexible,
        }
    }

    /// Overlap of neighbouring tiles (scaled-photo pixels) for a pass at long side `side`:
    /// the height from which the coarse pass (at `one_pass_side`) finds faces reliably, with
    /// a 25 % margin, so that every face is whole in some tile or found by the coarse pass
    /// (at most half a tile). A floor of a quarter tile (160 px instead of 141 at the
    /// defaults) cost 4 % of the throughput and found no face more.
    fn overlap(&self, side: usize, one_pass_side: usize) -> usize {
        let one_pass_reliable = RELIABLE_FACE_PX * side as f32 / one_pass_side as f32 * 1.25;
        (one_pass_reliable.ceil() as usize).min(self.tile / 2)
    }

    /// `image` scaled to a long side of `side` and cut in overlapping tiles of at most the
    /// detector's input size. Tiles even where the model takes any size: ONNX Runtime runs
    /// a 24 MP photo at half scale faster as 640-px tiles than as one large input
    /// (cache-friendly feature maps), overlap included.
    fn tiles(&self, image: &Mat, side: usize, one_pass_side: usize) -> Result<Tiles, EmbedError> {
        let long = image.cols().max(image.rows()) as f32;
        let scale = side as f32 / long;
        let scaled = if scale < 1.0 {
            Some(resize_area(image, scale)?)
        } else {
            None
        };
        let (w, h) = scaled
            .as_ref()
            .map_or((image.cols(), image.rows()), |m| (m.cols(), m.rows()));
        let back = (
            image.cols() as f32 / w as f32,
            image.rows() as f32 / h as f32,
        );
        let overlap = self.overlap(side, one_pass_side);
        let mut tiles = Vec::new();
        for (y, th) in tile_spans(h as usize, self.tile, overlap, self.flexible) {
            for (x, tw) in tile_spans(w as usize, self.tile, overlap, self.flexible) {
                let rect = core::Rect::new(x as i32, y as i32, tw as i32, th as i32);
                let input = InputSize {
                    long_side: if self.flexible { tw.max(th) } else { self.tile },
                    fit_aspect: self.flexible,
                };
                tiles.push((rect, input));
            }
        }
        Ok(Tiles {
            scaled,
            back,
            tiles,
        })
    }
}

/// The image a photo's candidates are confirmed on: its bytes (for full-resolution regions)
/// and the detector's decode of it.
struct Source<'a> {
    bytes: &'a [u8],
    probe: &'a Probe,
    image: &'a Mat,
    reduction: u32,
}

/// Candidates the detector's image shows at `CONFIRM_FACE_PX` or more (original pixels),
/// confirmed on a window of that image scaled so that the face spans `CONFIRM_FACE_PX`. A
/// face the tiles were sure of keeps the tiles' landmarks (more pixels than the window's).
fn confirm_in_image(
    pass: &mut FinePass,
    image: &Mat,
    per_pixel: (f32, f32),
    candidates: &[&Detection],
) -> Result<Vec<Detection>, EmbedError> {
    let threshold = pass.detector.score_threshold();
    let bounds = core::Rect::new(0, 0, image.cols(), image.rows());
    let mut confirmed = Vec::new();
    for c in candidates {
        let local = c.transformed(0.0, 0.0, 1.0 / per_pixel.0, 1.0 / per_pixel.1);
        let window = window_around(&local, bounds);
        if window.width < MIN_WINDOW || window.height < MIN_WINDOW {
            continue;
        }
        let part = Mat::roi(image, window).map_err(cv_err)?;
        let scale = CONFIRM_FACE_PX / (local.y2 - local.y1).max(local.x2 - local.x1);
        let found = detect_window(&mut pass.detector, &part, scale.min(1.0))?;
        let origin = (window.x as f32, window.y as f32);
        let best = best_inside(
            found
                .into_iter()
                .map(|d| d.transformed(origin.0, origin.1, per_pixel.0, per_pixel.1)),
            c,
        );
        confirmed.extend(best.map(|d| if c.score >= threshold { **c } else { d }));
    }
    Ok(confirmed)
}

/// Smaller candidates, confirmed on windows at full resolution (the detector's image itself
/// when it is at full resolution), read from one region decode per band of rows; the face
/// found there replaces the candidate (finer landmarks). Returns them with the decoding time.
fn confirm_at_full_resolution(
    pass: &mut FinePass,
    source: &Source<'_>,
    candidates: &[&Detection],
) -> Result<(Vec<Detection>, std::time::Duration), EmbedError> {
    let mut decoding = std::time::Duration::ZERO;
    let mut confirmed = Vec::new();
    let probe = source.probe;
    let bounds = core::Rect::new(0, 0, probe.width as i32, probe.height as i32);
    let windows = candidates
        .iter()
        .map(|c| window_around(c, bounds))
        .collect();
    for (band, windows) in bands(merge_windows(windows)) {
        let decoded;
        let (pixels, origin) = if source.reduction == 1 {
            (source.image, core::Point::new(0, 0))
        } else {
            let started = Instant::now();
            let part = decode::decode_region(source.bytes, probe, 1, band);
            decoding += started.elapsed();
            match part {
                Some((part, at)) => {
                    decoded = part;
                    (&decoded, at)
                }
                None => continue,
            }
        };
        let inside = core::Rect::new(origin.x, origin.y, pixels.cols(), pixels.rows());
        for window in windows {
            let window = window & inside;
            if window.width < MIN_WINDOW || window.height < MIN_WINDOW {
                continue;
            }
            let part = Mat::roi(pixels, window - origin).map_err(cv_err)?;
            let found: Vec<Detection> = detect_window(&mut pass.detector, &part, 1.0)?
                .into_iter()
                .map(|d| d.transformed(window.x as f32, window.y as f32, 1.0, 1.0))
                .collect();
            let inside_window = |c: &&&Detection| {
                let (x, y) = c.centre();
                window.contains(core::Point::new(x as i32, y as i32))
            };
            for c in candidates.iter().filter(inside_window) {
                confirmed.extend(best_inside(found.iter().copied(), c));
            }
        }
    }
    Ok((confirmed, decoding))
}

/// A candidate's window (`CONFIRM_WINDOW` times its size around its centre) within `bounds`.
fn window_around(c: &Detection, bounds: core::Rect) -> core::Rect {
    let side = (c.y2 - c.y1).max(c.x2 - c.x1) * CONFIRM_WINDOW;
    let (cx, cy) = c.centre();
    core::Rect::new(
        (cx - side / 2.0).floor() as i32,
        (cy - side / 2.0).floor() as i32,
        side.ceil() as i32,
        side.ceil() as i32,
    ) & bounds
}

/// The detector on a window scaled by `scale` (its input rounded up to the detector's
/// stride); boxes in the window's pixels.
fn detect_window(
    detector: &mut Detector,
    window: &impl crate::detector::Image,
    scale: f32,
) -> Result<Vec<Detection>, EmbedError> {
    let long = window.cols().max(window.rows()) as f32 * scale;
    let input = InputSize {
        long_side: (long.ceil() as usize).div_ceil(32) * 32,
        fit_aspect: true,
    };
    detector.detect(window, input)
}

/// The most confident of `found` whose centre lies in `c`'s box.
fn best_inside(found: impl Iterator<Item = Detection>, c: &Detection) -> Option<Detection> {
    found
        .filter(|d| {
            let (x, y) = d.centre();
            x >= c.x1 && x <= c.x2 && y >= c.y1 && y <= c.y2
        })
        .max_by(|a, b| a.score.total_cmp(&b.score))
}

/// Rows of windows closer than this share one region decode. 512 gave the same speed on the
/// corpus with a peak RSS of 463 MB instead of 359 (taller full-resolution bands).
const BAND_GAP: i32 = 128;

/// Groups windows into horizontal bands, each the rectangle one region decode reads.
fn bands(mut windows: Vec<core::Rect>) -> Vec<(core::Rect, Vec<core::Rect>)> {
    windows.sort_by_key(|w| w.y);
    let mut bands: Vec<(core::Rect, Vec<core::Rect>)> = Vec::new();
    for w in windows {
        match bands.last_mut() {
            Some((band, members)) if w.y <= band.y + band.height + BAND_GAP => {
                *band |= w;
                members.push(w);
            }
            _ => bands.push((w, vec![w])),
        }
    }
    bands
}

/// Merges overlapping windows while one rectangle is no larger than the two it replaces.
/// Each window absorbs the kept ones it merges with before it is kept, so the kept windows
/// never merge with each other: quadratic in the number of windows (a textured photo gives
/// over a thousand candidates).
fn merge_windows(windows: Vec<core::Rect>) -> Vec<core::Rect> {
    let area = |r: &core::Rect| i64::from(r.width) * i64::from(r.height);
    let mut kept: Vec<core::Rect> = Vec::with_capacity(windows.len());
    for mut window in windows {
        while let Some(k) = kept
            .iter()
            .position(|o| area(&(*o | window)) <= area(o) + area(&window))
        {
            window |= kept.swap_remove(k);
        }
        kept.push(window);
    }
    kept
}

/// Drops the tile faces that are parts of a larger face the coarse pass found: a tile that
/// cuts a large face can see a part of it (eyes and a nose, a chin) as a small face of its
/// own, and no face lies inside another. On the camera-size corpus: 3 such false faces of
/// 116, none on the labelled small-face scenes.
fn drop_parts_of(fine: &mut Vec<Detection>, coarse: &[Detection]) {
    fine.retain(|f| {
        !coarse
            .iter()
            .any(|c| c.y2 - c.y1 > f.y2 - f.y1 && f.share_inside(c) > CONTAINED)
    });
}

/// Margin (pixels) around the source pixels a crop's warp reads: bilinear neighbours, and
/// libjpeg's chroma upsampling, which reads a neighbouring row and column of chroma.
const FOOTPRINT_MARGIN: f64 = 16.0;

/// The rectangle of source pixels the warp of `t` to the 112x112 crop reads, with a margin.
fn crop_footprint(t: &Similarity) -> core::Rect {
    let corners = [
        [0.0, 0.0],
        [CROP as f64, 0.0],
        [0.0, CROP as f64],
        [CROP as f64; 2],
    ]
    .map(|p| t.inverse_apply(p));
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for [x, y] in corners {
        (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
    }
    let clamp = |v: f64| v.clamp(f64::from(i32::MIN / 2), f64::from(i32::MAX / 2)) as i32;
    let (x0, y0) = (
        clamp((x0 - FOOTPRINT_MARGIN).floor()),
        clamp((y0 - FOOTPRINT_MARGIN).floor()),
    );
    let (x1, y1) = (
        clamp((x1 + FOOTPRINT_MARGIN).ceil()),
        clamp((y1 + FOOTPRINT_MARGIN).ceil()),
    );
    core::Rect::new(x0, y0, x1 - x0, y1 - y0)
}

/// The highest detector score among `found` (0 when empty).
fn best_score(found: &[Detection]) -> f32 {
    found.iter().map(|d| d.score).fold(0.0, f32::max)
}

/// The turn (an OpenCV rotate code) that sets upright a face whose eyes' line is at `roll`
/// degrees ([`quality::roll_degrees`]).
fn undoing_turn(roll: f32) -> i32 {
    if roll.abs() > 135.0 {
        core::ROTATE_180
    } else if roll > 0.0 {
        core::ROTATE_90_COUNTERCLOCKWISE
    } else {
        core::ROTATE_90_CLOCKWISE
    }
}

/// A detection in an image turned by `turn` (an OpenCV rotate code) mapped back to the
/// `w` x `h` image it was turned from. Landmarks keep their order, so alignment turns the
/// face upright again.
fn turned_back(d: Detection, turn: i32, w: f32, h: f32) -> Detection {
    let back = |[u, v]: [f32; 2]| match turn {
        core::ROTATE_90_CLOCKWISE => [v, h - u],
        core::ROTATE_180 => [w - u, h - v],
        _ => [w - v, u],
    };
    let [a, b] = [back([d.x1, d.y1]), back([d.x2, d.y2])];
    Detection {
        x1: a[0].min(b[0]),
        y1: a[1].min(b[1]),
        x2: a[0].max(b[0]),
        y2: a[1].max(b[1]),
        score: d.score,
        landmarks: d.landmarks.map(back),
    }
}

/// `image` scaled by `scale` (< 1) with area averaging. Below half size it is halved first:
/// OpenCV averages exact 2x2 blocks on a fast path and any other ratio on a general one,
/// and the two steps together take half the time (a 3000x2000 photo to 640 px: 5.9 ms
/// against 12.0); the odd last row or column is left out of the halving.
fn resize_area(image: &Mat, scale: f32) -> Result<Mat, EmbedError> {
    let size = core::Size::new(
        ((image.cols() as f32 * scale).round() as i32).max(1),
        ((image.rows() as f32 * scale).round() as i32).max(1),
    );
    let mut out = Mat::default();
    if scale <= 0.5 && image.cols() >= 4 && image.rows() >= 4 {
        let (w, h) = (image.cols() & !1, image.rows() & !1);
        let even = Mat::roi(image, core::Rect::new(0, 0, w, h)).map_err(cv_err)?;
        let mut half = Mat::default();
        imgproc::resize(
            &even,
            &mut half,
            core::Size::new(w / 2, h / 2),
            0.0,
            0.0,
            imgproc::INTER_AREA,
        )
        .map_err(cv_err)?;
        if half.size().map_err(cv_err)? == size {
            return Ok(half);
        }
        imgproc::resize(&half, &mut out, size, 0.0, 0.0, imgproc::INTER_AREA).map_err(cv_err)?;
    } else {
        imgproc::resize(image, &mut out, size, 0.0, 0.0, imgproc::INTER_AREA).map_err(cv_err)?;
    }
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
    use super::{
        BAND_GAP, Detection, LYING_ROLL, bands, drop_parts_of, finest_needed, merge_windows,
        tile_spans, turned_back, undoing_turn,
    };
    use crate::quality;
    use opencv::core;

    #[test]
    fn detections_in_a_turned_image_map_back_onto_the_original() {
        // A 40x30 image; the point (10, 5) of it, turned each way, must come back.
        let (w, h) = (40.0, 30.0);
        let turned = [
            (core::ROTATE_90_CLOCKWISE, [h - 5.0, 10.0]),
            (core::ROTATE_180, [w - 10.0, h - 5.0]),
            (core::ROTATE_90_COUNTERCLOCKWISE, [5.0, w - 10.0]),
        ];
        for (turn, [u, v]) in turned {
            let d = Detection {
                x1: u - 2.0,
                y1: v - 2.0,
                x2: u + 2.0,
                y2: v + 2.0,
                score: 0.9,
                landmarks: [[u, v]; 5],
            };
            let back = turned_back(d, turn, w, h);
            assert_eq!(back.landmarks[0], [10.0, 5.0], "turn {turn}");
            assert_eq!(
                [back.x1, back.y1, back.x2, back.y2],
                [8.0, 3.0, 12.0, 7.0],
                "turn {turn}"
            );
        }
    }

    #[test]
    fn a_face_lying_on_its_side_is_turned_upright_first() {
        // An upright face's eyes in a 40x30 image turned each way: its roll says it lies,
        // and the turn it picks first is the one that undoes the image's turn.
        let (w, h) = (40.0, 30.0);
        let (le, re) = ([12.0, 10.0], [24.0, 10.0]);
        let cases = [
            (core::ROTATE_90_CLOCKWISE, core::ROTATE_90_COUNTERCLOCKWISE),
            (core::ROTATE_180, core::ROTATE_180),
            (core::ROTATE_90_COUNTERCLOCKWISE, core::ROTATE_90_CLOCKWISE),
        ];
        for (turn, undo) in cases {
            let forward = |[x, y]: [f32; 2]| match turn {
                core::ROTATE_90_CLOCKWISE => [h - y, x],
                core::ROTATE_180 => [w - x, h - y],
                _ => [y, w - x],
            };
            let mut landmarks = [[0.0; 2]; 5];
            (landmarks[0], landmarks[1]) = (forward(le), forward(re));
            // The mapping above is the turn's own: `turned_back` undoes it.
            let back = turned_back(
                Detection {
                    x1: 0.0,
                    y1: 0.0,
                    x2: 1.0,
                    y2: 1.0,
                    score: 0.9,
                    landmarks,
                },
                turn,
                w,
                h,
            );
            assert_eq!(
                [back.landmarks[0], back.landmarks[1]],
                [le, re],
                "turn {turn}"
            );
            let roll = quality::roll_degrees(&landmarks);
            assert!(roll.abs() > LYING_ROLL, "turn {turn}: roll {roll}");
            assert_eq!(undoing_turn(roll), undo, "turn {turn}: roll {roll}");
        }
        // Upright, and tilted by 45°, is not lying.
        let mut tilted = [[0.0; 2]; 5];
        (tilted[0], tilted[1]) = ([10.0, 10.0], [20.0, 20.0]);
        assert!(quality::roll_degrees(&tilted).abs() < LYING_ROLL);
        (tilted[0], tilted[1]) = (le, re);
        assert_eq!(quality::roll_degrees(&tilted), 0.0);
    }

    fn boxed(x1: f32, y1: f32, side: f32) -> Detection {
        Detection {
            x1,
            y1,
            x2: x1 + side,
            y2: y1 + side,
            score: 0.8,
            landmarks: [[x1, y1]; 5],
        }
    }

    #[test]
    fn tile_faces_inside_a_larger_coarse_face_are_dropped_and_neighbours_kept() {
        // The coarse pass's face: 300 px at (1000, 1000).
        let coarse = [boxed(1000.0, 1000.0, 300.0)];
        let mut fine = vec![
            boxed(1100.0, 1150.0, 100.0), // its chin: inside
            boxed(1250.0, 1100.0, 100.0), // half outside its edge: a neighbour's face
            boxed(1400.0, 1000.0, 100.0), // beside it
            boxed(1000.0, 1000.0, 300.0), // the same face, as large (the NMS's to merge)
        ];
        drop_parts_of(&mut fine, &coarse);
        let kept: Vec<f32> = fine.iter().map(|d| d.x1).collect();
        assert_eq!(kept, [1250.0, 1400.0, 1000.0]);
    }

    #[test]
    fn overlapping_windows_merge_while_that_reads_no_more_pixels_and_rows_share_bands() {
        let r = core::Rect::new;
        // Two windows mostly on top of each other become one; one far away stays alone;
        // two that only touch at a corner would cost more merged than apart.
        let mut merged = merge_windows(vec![
            r(100, 100, 60, 60),
            r(110, 105, 60, 60),
            r(2000, 100, 60, 60),
            r(300, 300, 60, 60),
            r(359, 359, 60, 60),
        ]);
        merged.sort_by_key(|w| (w.x, w.y));
        assert_eq!(
            merged,
            vec![
                r(100, 100, 70, 65),
                r(300, 300, 60, 60),
                r(359, 359, 60, 60),
                r(2000, 100, 60, 60)
            ]
        );
        // A thousand overlapping windows in a row become one, quickly.
        let row: Vec<core::Rect> = (0..1000).map(|i| r(i * 10, 0, 40, 40)).collect();
        assert_eq!(merge_windows(row), vec![r(0, 0, 10_030, 40)]);
        // Windows whose rows are close share a band (one region decode); a window far
        // below starts another.
        let near = 50 + BAND_GAP;
        let far = near + 50 + BAND_GAP + 1;
        let grouped = bands(vec![
            r(0, near, 50, 50),
            r(3000, 0, 50, 50),
            r(0, far, 50, 50),
        ]);
        assert_eq!(grouped.len(), 2, "{grouped:?}");
        assert_eq!(grouped[0].0, r(0, 0, 3050, near + 50));
        assert_eq!(grouped[0].1.len(), 2);
        assert_eq!(grouped[1], (r(0, far, 50, 50), vec![r(0, far, 50, 50)]));
    }

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
