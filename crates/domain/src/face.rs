//! What the embedder finds in an image: faces with a box, five landmarks, a detector score
//! and an embedding. Coordinates are pixels of the original, orientation-corrected image.

use std::sync::Arc;
use std::time::Duration;

use crate::embedding::Embedding;

/// Raw bytes of an encoded image (JPEG, PNG, WebP). Cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageBytes(Arc<[u8]>);

impl ImageBytes {
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Vec<u8>> for ImageBytes {
    fn from(bytes: Vec<u8>) -> Self {
        Self(bytes.into())
    }
}

impl From<&[u8]> for ImageBytes {
    fn from(bytes: &[u8]) -> Self {
        Self(bytes.into())
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub x: f32,
    pub y: f32,
}

/// Left-of-image eye, right-of-image eye, nose tip, left and right mouth corners.
pub type Landmarks = [Point; 5];

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoundingBox {
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
}

impl BoundingBox {
    pub fn from_corners(x1: f32, y1: f32, x2: f32, y2: f32) -> Self {
        Self {
            x: x1,
            y: y1,
            width: x2 - x1,
            height: y2 - y1,
        }
    }

    pub fn area(&self) -> f32 {
        self.width.max(0.0) * self.height.max(0.0)
    }

    /// Intersection over union.
    pub fn iou(&self, other: &BoundingBox) -> f32 {
        let w = ((self.x + self.width).min(other.x + other.width) - self.x.max(other.x)).max(0.0);
        let h = ((self.y + self.height).min(other.y + other.height) - self.y.max(other.y)).max(0.0);
        let inter = w * h;
        let union = self.area() + other.area() - inter;
        if union > 0.0 { inter / union } else { 0.0 }
    }

    /// The part of the box inside a `width` x `height` frame (a face cut by the frame edge
    /// keeps only what is visible).
    pub fn clipped(&self, width: f32, height: f32) -> BoundingBox {
        let x1 = self.x.clamp(0.0, width);
        let y1 = self.y.clamp(0.0, height);
        let x2 = (self.x + self.width).clamp(0.0, width);
        let y2 = (self.y + self.height).clamp(0.0, height);
        BoundingBox::from_corners(x1, y1, x2, y2)
    }
}

/// A length in pixels of the image it was measured in (a face's height); finite and >= 0.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Pixels(f32);

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("a length in pixels must be a finite number >= 0, got {0}")]
pub struct PixelsError(pub f32);

impl Pixels {
    pub const ZERO: Pixels = Pixels(0.0);

    pub fn new(value: f32) -> Result<Self, PixelsError> {
        if value.is_finite() && value >= 0.0 {
            Ok(Self(value))
        } else {
            Err(PixelsError(value))
        }
    }

    pub fn value(self) -> f32 {
        self.0
    }
}

/// How well a face can be recognised, measured on what the recognizer sees.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FaceQuality {
    /// Face height in pixels of the original image (the detector box).
    pub face_px: f32,
    /// Variance of the Laplacian of the aligned grey crop smoothed by σ 1 px (the face's
    /// detail, not pixel noise), as if exposed to mid-grey: low when blurred (or upscaled
    /// from a few pixels).
    pub sharpness: f32,
    /// Mean grey level of the aligned crop, 0..255.
    pub brightness: f32,
    /// Estimated head yaw in degrees from the landmarks: 0 frontal, 90 profile.
    pub pose: f32,
}

/// One face found in an image.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectedFace {
    pub bbox: BoundingBox,
    pub landmarks: Landmarks,
    /// Detector confidence in [0, 1].
    pub det_score: f32,
    pub embedding: Embedding,
    pub quality: FaceQuality,
}

/// Where the time of one image went.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StageTimings {
    pub decode: Duration,
    pub detect: Duration,
    /// Alignment, recognition and normalisation of every face.
    pub embed: Duration,
}

/// What an image is for; the embedder may spend its effort differently on each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    /// An event photo to index: every face matters, however small.
    Photo,
    /// A guest's query selfie: what matters is the dominant face and any face competing with
    /// it, so the embedder may look at a coarser resolution first.
    Selfie,
}

/// Everything found in one image.
#[derive(Debug, Clone, PartialEq)]
pub struct FaceAnalysis {
    /// Width of the orientation-corrected image.
    pub width: u32,
    /// Height of the orientation-corrected image.
    pub height: u32,
    pub faces: Vec<DetectedFace>,
    pub timings: StageTimings,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipping_keeps_the_visible_part() {
        let cut = BoundingBox {
            x: -20.0,
            y: 50.0,
            width: 60.0,
            height: 100.0,
        };
        assert_eq!(
            cut.clipped(200.0, 120.0),
            BoundingBox::from_corners(0.0, 50.0, 40.0, 120.0)
        );
        let outside = BoundingBox { x: 300.0, ..cut };
        assert_eq!(outside.clipped(200.0, 120.0).area(), 0.0);
    }

    #[test]
    fn iou_of_identical_disjoint_and_half_overlapping_boxes() {
        let a = BoundingBox {
            x: 0.0,
            y: 0.0,
            width: 10.0,
            height: 10.0,
        };
        assert!((a.iou(&a) - 1.0).abs() < 1e-6);
        let far = BoundingBox { x: 20.0, ..a };
        assert_eq!(a.iou(&far), 0.0);
        let half = BoundingBox { x: 5.0, ..a };
        assert!((a.iou(&half) - 50.0 / 150.0).abs() < 1e-6);
    }
}
