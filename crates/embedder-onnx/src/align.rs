//! Face alignment: the least-squares similarity transform (rotation, uniform scale,
//! translation) of the 5 landmarks onto the standard 112x112 ArcFace template, then a
//! bilinear warp with a black border.

use facepass_domain::ports::EmbedError;
use opencv::core::{self, Mat, Scalar, Size};
use opencv::imgproc;

use crate::decode::cv_err;

pub(crate) const CROP: usize = 112;

/// Left eye, right eye, nose tip, left and right mouth corners of the 112x112 template.
const TEMPLATE: [[f64; 2]; 5] = [
    [38.2946, 51.6963],
    [73.5318, 51.5014],
    [56.0252, 71.7366],
    [41.5493, 92.3655],
    [70.7299, 92.2041],
];

/// `[[a, -b, tx], [b, a, ty]]` mapping source pixels to template pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Similarity {
    pub a: f64,
    pub b: f64,
    pub tx: f64,
    pub ty: f64,
}

impl Similarity {
    /// Least-squares fit of `src` onto the template. For 2-D point sets this closed form is
    /// the same optimum as Umeyama's SVD solution (skimage `SimilarityTransform.estimate`).
    pub fn to_template(src: &[[f32; 2]; 5]) -> Self {
        let n = src.len() as f64;
        let mean = |pts: &mut dyn Iterator<Item = [f64; 2]>| {
            let (sx, sy) = pts.fold((0.0, 0.0), |(ax, ay), [x, y]| (ax + x, ay + y));
            [sx / n, sy / n]
        };
        let ms = mean(&mut src.iter().map(|p| [f64::from(p[0]), f64::from(p[1])]));
        let md = mean(&mut TEMPLATE.iter().copied());
        let (mut num_a, mut num_b, mut den) = (0.0, 0.0, 0.0);
        for (s, d) in src.iter().zip(TEMPLATE.iter()) {
            let (x, y) = (f64::from(s[0]) - ms[0], f64::from(s[1]) - ms[1]);
            let (u, v) = (d[0] - md[0], d[1] - md[1]);
            num_a += x * u + y * v;
            num_b += x * v - y * u;
            den += x * x + y * y;
        }
        if den <= f64::EPSILON {
            // All landmarks on one point: degenerate; map it to the template centre.
            return Self {
                a: 1.0,
                b: 0.0,
                tx: md[0] - ms[0],
                ty: md[1] - ms[1],
            };
        }
        let (a, b) = (num_a / den, num_b / den);
        Self {
            a,
            b,
            tx: md[0] - (a * ms[0] - b * ms[1]),
            ty: md[1] - (b * ms[0] + a * ms[1]),
        }
    }

    /// Template pixels per source pixel.
    pub fn scale(&self) -> f64 {
        self.a.hypot(self.b)
    }

    /// The source point that maps to the template point `p`.
    pub fn inverse_apply(&self, [u, v]: [f64; 2]) -> [f64; 2] {
        let det = self.a * self.a + self.b * self.b;
        let (du, dv) = (u - self.tx, v - self.ty);
        [
            (self.a * du + self.b * dv) / det,
            (-self.b * du + self.a * dv) / det,
        ]
    }
}

/// Warps `image` into a 112x112 aligned crop with `interpolation` (an OpenCV `INTER_*`).
pub(crate) fn warp(image: &Mat, t: &Similarity, interpolation: i32) -> Result<Mat, EmbedError> {
    let m = Mat::from_slice_2d(&[[t.a, -t.b, t.tx], [t.b, t.a, t.ty]]).map_err(cv_err)?;
    let mut crop = Mat::default();
    imgproc::warp_affine(
        image,
        &mut crop,
        &m,
        Size::new(CROP as i32, CROP as i32),
        interpolation,
        core::BORDER_CONSTANT,
        Scalar::all(0.0),
    )
    .map_err(cv_err)?;
    Ok(crop)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(t: &Similarity, p: [f64; 2]) -> [f64; 2] {
        [
            t.a * p[0] - t.b * p[1] + t.tx,
            t.b * p[0] + t.a * p[1] + t.ty,
        ]
    }

    #[test]
    fn an_exact_similarity_is_recovered() {
        // The template rotated by 30 degrees, scaled by 3 and moved: the fit must undo it.
        let (angle, scale, dx, dy) = (30f64.to_radians(), 3.0, 400.0, -20.0);
        let src: [[f32; 2]; 5] = TEMPLATE.map(|[x, y]| {
            [
                (scale * (angle.cos() * x - angle.sin() * y) + dx) as f32,
                (scale * (angle.sin() * x + angle.cos() * y) + dy) as f32,
            ]
        });
        let t = Similarity::to_template(&src);
        assert!((t.scale() - 1.0 / scale).abs() < 1e-6);
        for (s, d) in src.iter().zip(TEMPLATE) {
            let p = apply(&t, [f64::from(s[0]), f64::from(s[1])]);
            assert!((p[0] - d[0]).abs() < 1e-3 && (p[1] - d[1]).abs() < 1e-3);
        }
    }

    #[test]
    fn the_inverse_maps_template_points_back_to_the_source() {
        let t = Similarity {
            a: 0.3,
            b: -0.1,
            tx: 12.0,
            ty: -40.0,
        };
        for p in [[0.0, 0.0], [112.0, 0.0], [56.0, 71.7], [-3.0, 250.0]] {
            let [u, v] = apply(&t, t.inverse_apply(p));
            assert!((u - p[0]).abs() < 1e-9 && (v - p[1]).abs() < 1e-9, "{p:?}");
        }
    }

    #[test]
    fn a_mirrored_face_gets_a_proper_rotation_not_a_reflection() {
        let src: [[f32; 2]; 5] = TEMPLATE.map(|[x, y]| [(112.0 - x) as f32, y as f32]);
        // `Similarity` has no reflection by its form ([[a, -b], [b, a]]); what can go wrong is
        // a degenerate fit, so the fit must be a usable, finite, non-zero transform.
        let t = Similarity::to_template(&src);
        assert!(
            t.scale().is_finite() && t.scale() > 1e-3,
            "scale {}",
            t.scale()
        );
        for s in src {
            let p = apply(&t, [f64::from(s[0]), f64::from(s[1])]);
            assert!(p.iter().all(|v| v.is_finite()), "{p:?}");
        }
    }
}
