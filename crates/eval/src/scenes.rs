//! Camera-size scenes with real faces at known heights.
//!
//! Every DEV `single` fixture in which the one-pass pipeline finds exactly one face gives a
//! source face: its detector box plus a margin of context (hair, shoulders, the photo's own
//! background). Each scene is a 6000x4000 background (a no-face fixture scaled to cover the
//! frame, or a procedural texture) with `faces_per_scene` of those crops pasted at heights
//! drawn evenly over the buckets of [`BUCKETS`] (log-uniform inside a bucket), feathered
//! into the background, never overlapping, then written as a quality-92 JPEG, as a camera
//! would. The pasted face's box is the source box scaled, so a face of "48 px" is one whose
//! detector box is 48 px tall. The no-face fixtures scaled to 6000x4000 are the negatives.

use facepass_domain::FaceAnalysis;
use opencv::core::{self, Mat, Rect, Scalar, Size, Vec3b, Vector};
use opencv::prelude::*;
use opencv::{imgcodecs, imgproc};

use crate::fixtures::{Label, labels};
use crate::rng::Rng;

pub const SCENE_WIDTH: i32 = 6000;
pub const SCENE_HEIGHT: i32 = 4000;
/// Face-height buckets (px, lower bound inclusive): 24–32, 32–48, …, 160–256.
pub const BUCKETS: [f32; 7] = [24.0, 32.0, 48.0, 64.0, 96.0, 160.0, 256.0];
/// Context kept around the detector box, as a share of its size on each side.
const MARGIN: f32 = 0.4;
/// Feathered border of a pasted crop, as a share of its shorter side (inside the margin).
const FEATHER: f32 = 0.12;

/// A face to paste: a fixture crop around one detected face.
#[derive(Debug)]
pub struct SourceFace {
    pub file: String,
    pub identity: String,
    /// The crop (box plus margin), BGR.
    pub crop: Mat,
    /// The detector box inside `crop`: x1, y1, x2, y2.
    pub bbox: [f32; 4],
}

/// A face placed in a scene.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedFace {
    pub identity: String,
    pub source_file: String,
    /// x1, y1, x2, y2 in scene pixels.
    pub bbox: [f32; 4],
}

impl PlacedFace {
    pub fn height(&self) -> f32 {
        self.bbox[3] - self.bbox[1]
    }
}

/// One photo of the set: a scene with faces, or a negative.
#[derive(Debug)]
pub struct Scene {
    pub name: String,
    pub jpeg: Vec<u8>,
    pub faces: Vec<PlacedFace>,
}

/// The bucket index of a face height (`None` outside 24–256 px).
pub fn bucket(height: f32) -> Option<usize> {
    BUCKETS
        .windows(2)
        .position(|w| height >= w[0] && height < w[1])
        .or_else(|| (height == BUCKETS[BUCKETS.len() - 1]).then_some(BUCKETS.len() - 2))
}

pub fn bucket_name(index: usize) -> String {
    format!("{}–{}", BUCKETS[index], BUCKETS[index + 1])
}

/// The source faces: one per DEV single (analysed by the one-pass pipeline,
/// [`crate::fixtures::analyse_singles`]) with exactly one face.
pub fn source_faces(singles: &[(Label, FaceAnalysis)]) -> anyhow::Result<Vec<SourceFace>> {
    let mut out = Vec::new();
    for (label, analysis) in singles {
        let [face] = analysis.faces.as_slice() else {
            continue;
        };
        let image = read_bgr(label)?;
        let b = &face.bbox;
        let (mx, my) = (b.width * MARGIN, b.height * MARGIN);
        let x0 = (b.x - mx).floor().max(0.0) as i32;
        let y0 = (b.y - my).floor().max(0.0) as i32;
        let x1 = ((b.x + b.width + mx).ceil() as i32).min(image.cols());
        let y1 = ((b.y + b.height + my).ceil() as i32).min(image.rows());
        let crop = Mat::roi(&image, Rect::new(x0, y0, x1 - x0, y1 - y0))?.try_clone()?;
        out.push(SourceFace {
            file: label.file.clone(),
            identity: label.identities[0].clone(),
            crop,
            bbox: [
                b.x - x0 as f32,
                b.y - y0 as f32,
                b.x + b.width - x0 as f32,
                b.y + b.height - y0 as f32,
            ],
        });
    }
    Ok(out)
}

/// `count` scenes of `faces_per_scene` faces, the same for the same `seed`.
pub fn scenes(
    sources: &[SourceFace],
    count: usize,
    faces_per_scene: usize,
    seed: u64,
) -> anyhow::Result<Vec<Scene>> {
    anyhow::ensure!(!sources.is_empty(), "no source faces");
    let backgrounds = backgrounds()?;
    let mut rng = Rng::new(seed);
    let buckets = BUCKETS.len() - 1;
    let mut out = Vec::with_capacity(count);
    for index in 0..count {
        // Each fixture background in turn, then two procedural ones.
        let mut scene = match backgrounds.get(index % (backgrounds.len() + 2)) {
            Some((_, bg)) => bg.try_clone()?,
            None => procedural(&mut rng)?,
        };
        let mut placed: Vec<(Rect, PlacedFace)> = Vec::new();
        for slot in 0..faces_per_scene {
            let source = &sources[rng.below(sources.len())];
            let b = (index * faces_per_scene + slot) % buckets;
            let height = (rng.range(f64::from(BUCKETS[b]).ln(), f64::from(BUCKETS[b + 1]).ln()))
                .exp() as f32;
            if let Some(face) = paste(&mut scene, source, height, &placed, &mut rng)? {
                placed.push(face);
            }
        }
        out.push(Scene {
            name: format!("scene-{index:03}"),
            jpeg: encode(&scene)?,
            faces: placed.into_iter().map(|(_, f)| f).collect(),
        });
    }
    Ok(out)
}

/// The no-face fixtures scaled to cover a 6000x4000 frame: photos without any face.
pub fn negatives() -> anyhow::Result<Vec<Scene>> {
    backgrounds()?
        .into_iter()
        .map(|(name, bg)| {
            Ok(Scene {
                name: format!("negative-{name}"),
                jpeg: encode(&bg)?,
                faces: Vec::new(),
            })
        })
        .collect()
}

fn backgrounds() -> anyhow::Result<Vec<(String, Mat)>> {
    labels()?
        .into_iter()
        .filter(|l| l.kind == "noface")
        .map(|l| Ok((l.file.clone(), cover(&read_bgr(&l)?)?)))
        .collect()
}

pub fn read_bgr(label: &Label) -> anyhow::Result<Mat> {
    let path = label.path();
    let image = imgcodecs::imread(&*path.to_string_lossy(), imgcodecs::IMREAD_COLOR)?;
    anyhow::ensure!(!image.empty(), "{} does not decode", path.display());
    Ok(image)
}

/// Scaled (cubic) to cover the scene and centre-cropped.
fn cover(image: &Mat) -> anyhow::Result<Mat> {
    let scale = (f64::from(SCENE_WIDTH) / f64::from(image.cols()))
        .max(f64::from(SCENE_HEIGHT) / f64::from(image.rows()));
    let size = Size::new(
        ((f64::from(image.cols()) * scale).ceil() as i32).max(SCENE_WIDTH),
        ((f64::from(image.rows()) * scale).ceil() as i32).max(SCENE_HEIGHT),
    );
    let mut big = Mat::default();
    imgproc::resize(image, &mut big, size, 0.0, 0.0, imgproc::INTER_CUBIC)?;
    let x = (size.width - SCENE_WIDTH) / 2;
    let y = (size.height - SCENE_HEIGHT) / 2;
    Ok(Mat::roi(&big, Rect::new(x, y, SCENE_WIDTH, SCENE_HEIGHT))?.try_clone()?)
}

/// A smooth colour field with texture: low-resolution noise scaled up (cubic), plus fine
/// grain, like an out-of-focus crowd or venue.
fn procedural(rng: &mut Rng) -> anyhow::Result<Mat> {
    let (w, h) = (24, 16);
    let mut small = Mat::new_rows_cols_with_default(h, w, core::CV_8UC3, Scalar::all(0.0))?;
    for y in 0..h {
        for x in 0..w {
            *small.at_2d_mut::<Vec3b>(y, x)? = Vec3b::from([
                rng.range(20.0, 235.0) as u8,
                rng.range(20.0, 235.0) as u8,
                rng.range(20.0, 235.0) as u8,
            ]);
        }
    }
    let mut big = Mat::default();
    imgproc::resize(
        &small,
        &mut big,
        Size::new(SCENE_WIDTH, SCENE_HEIGHT),
        0.0,
        0.0,
        imgproc::INTER_CUBIC,
    )?;
    let mut grain = Mat::new_rows_cols_with_default(
        SCENE_HEIGHT,
        SCENE_WIDTH,
        core::CV_8UC3,
        Scalar::all(0.0),
    )?;
    core::randn(&mut grain, &Scalar::all(0.0), &Scalar::all(6.0))?;
    let mut out = Mat::default();
    core::add(&big, &grain, &mut out, &core::no_array(), -1)?;
    Ok(out)
}

/// Pastes `source` scaled so its face is `height` px tall at a free random place; `None`
/// when no free place was found.
fn paste(
    scene: &mut Mat,
    source: &SourceFace,
    height: f32,
    placed: &[(Rect, PlacedFace)],
    rng: &mut Rng,
) -> anyhow::Result<Option<(Rect, PlacedFace)>> {
    let box_h = source.bbox[3] - source.bbox[1];
    let k = height / box_h;
    let size = Size::new(
        ((source.crop.cols() as f32 * k).round() as i32).max(1),
        ((source.crop.rows() as f32 * k).round() as i32).max(1),
    );
    let interpolation = if k < 1.0 {
        imgproc::INTER_AREA
    } else {
        imgproc::INTER_CUBIC
    };
    let mut crop = Mat::default();
    imgproc::resize(&source.crop, &mut crop, size, 0.0, 0.0, interpolation)?;
    for _ in 0..100 {
        let x = rng.below((SCENE_WIDTH - size.width).max(1) as usize) as i32;
        let y = rng.below((SCENE_HEIGHT - size.height).max(1) as usize) as i32;
        let rect = Rect::new(x, y, size.width, size.height);
        if placed.iter().any(|(r, _)| (*r & rect).area() > 0) {
            continue;
        }
        blend(scene, &crop, rect)?;
        let [x1, y1, x2, y2] = source.bbox;
        let face = PlacedFace {
            identity: source.identity.clone(),
            source_file: source.file.clone(),
            bbox: [
                x as f32 + x1 * k,
                y as f32 + y1 * k,
                x as f32 + x2 * k,
                y as f32 + y2 * k,
            ],
        };
        return Ok(Some((rect, face)));
    }
    Ok(None)
}

/// Alpha-blends `crop` into `scene` at `rect` with a linear ramp over its border.
fn blend(scene: &mut Mat, crop: &Mat, rect: Rect) -> anyhow::Result<()> {
    let ramp = (FEATHER * rect.width.min(rect.height) as f32).max(1.0);
    for y in 0..rect.height {
        for x in 0..rect.width {
            let edge = x.min(y).min(rect.width - 1 - x).min(rect.height - 1 - y) as f32;
            let alpha = ((edge + 0.5) / ramp).min(1.0);
            let src = *crop.at_2d::<Vec3b>(y, x)?;
            let dst = scene.at_2d_mut::<Vec3b>(rect.y + y, rect.x + x)?;
            for c in 0..3 {
                dst[c] =
                    (alpha * f32::from(src[c]) + (1.0 - alpha) * f32::from(dst[c])).round() as u8;
            }
        }
    }
    Ok(())
}

fn encode(image: &Mat) -> anyhow::Result<Vec<u8>> {
    let mut buf = Vector::<u8>::new();
    let params = Vector::from_slice(&[imgcodecs::IMWRITE_JPEG_QUALITY, 92]);
    imgcodecs::imencode(".jpg", image, &mut buf, &params)?;
    Ok(buf.to_vec())
}

#[cfg(test)]
mod tests {
    use super::{BUCKETS, bucket};

    #[test]
    fn heights_fall_in_their_bucket() {
        assert_eq!(bucket(23.9), None);
        assert_eq!(bucket(24.0), Some(0));
        assert_eq!(bucket(47.9), Some(1));
        assert_eq!(bucket(48.0), Some(2));
        assert_eq!(bucket(256.0), Some(BUCKETS.len() - 2));
        assert_eq!(bucket(300.0), None);
    }
}
