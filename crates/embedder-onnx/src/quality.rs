//! How recognisable a face is, measured on what the recognizer sees: the aligned crop's
//! sharpness and brightness, the face's size and its pose from the landmarks.

use facepass_domain::FaceQuality;
use facepass_domain::ports::EmbedError;
use opencv::core::{self, Mat, Rect};
use opencv::imgproc;
use opencv::prelude::*;

use crate::align::CROP;
use crate::decode::cv_err;

/// The inner part of the 112x112 crop measured: the face without the warp's border and
/// little of the background.
const INNER: i32 = 16;

const MID_GREY: f64 = 128.0;

/// Below this sharpness a face at least `DEBLUR_MIN_FACE_PX` tall is blurred (the camera's
/// focus or the guest's hand): DEV selfies blurred by 2.5 % of the face height measure
/// 4-28, the sharp ones 208 and up.
pub(crate) const BLURRED: f32 = 60.0;
/// A face this tall spans the 112-px crop at least once: low sharpness is blur in the photo
/// rather than the crop's upscaling of a small face (where sharpening amplifies noise).
pub(crate) const DEBLUR_MIN_FACE_PX: f32 = 100.0;

/// Unsharp masking (the crop plus 3x its difference from a σ = 2 blur), for a blurred
/// selfie face before recognition: on DEV selfies blurred by 2.5 % of the face height,
/// recall 0.31 -> 0.78 at precision 1.00 (docs/benchmarks.md: amounts 2-6 at σ 1-3
/// measured, 3 at σ 2 best).
pub(crate) fn sharpen(crop: &Mat) -> Result<Mat, EmbedError> {
    let mut blurred = Mat::default();
    imgproc::gaussian_blur_def(crop, &mut blurred, core::Size::new(0, 0), 2.0).map_err(cv_err)?;
    let mut out = Mat::default();
    core::add_weighted_def(crop, 4.0, &blurred, -3.0, 0.0, &mut out).map_err(cv_err)?;
    Ok(out)
}

/// Below this brightness (mean grey of the crop, as `search.quality.min_brightness` by
/// default) a small selfie face is underexposed: its pixels carry more sensor and compression
/// noise than face, and the crop's upscaling magnifies it.
pub(crate) const DARK: f32 = 70.0;

/// A Gaussian blur (σ = 1 px on the 112-px crop) for a small, dark selfie face before
/// recognition: on DEV night shots (face 64 px, gain 0.35, noise σ 6, JPEG q35) recall
/// 0.396 -> 0.494 at precision 0.99 (σ 0.7/1.0/1.2/1.5: 0.460/0.494/0.498/0.434); without
/// the darkness gate it costs thumbnails (0.626 -> 0.596), with it nothing else changes
/// (docs/benchmarks.md).
pub(crate) fn smooth(crop: &Mat) -> Result<Mat, EmbedError> {
    let mut out = Mat::default();
    imgproc::gaussian_blur_def(crop, &mut out, core::Size::new(0, 0), 1.0).map_err(cv_err)?;
    Ok(out)
}

/// Whether a selfie face of this quality is smoothed before recognition.
pub(crate) fn needs_smoothing(quality: &FaceQuality) -> bool {
    quality.face_px < DEBLUR_MIN_FACE_PX && quality.brightness < DARK
}

/// Whether a selfie face of this quality is sharpened before recognition.
pub(crate) fn needs_sharpening(quality: &FaceQuality) -> bool {
    quality.face_px >= DEBLUR_MIN_FACE_PX && quality.sharpness < BLURRED
}

/// Quality of one face: `crop` is its aligned BGR crop, `landmarks` and `face_px` are in
/// pixels of the image it was found in.
pub(crate) fn measure(
    crop: &Mat,
    landmarks: &[[f32; 2]; 5],
    face_px: f32,
) -> Result<FaceQuality, EmbedError> {
    let side = CROP as i32 - 2 * INNER;
    let inner = Mat::roi(crop, Rect::new(INNER, INNER, side, side)).map_err(cv_err)?;
    let mut grey = Mat::default();
    imgproc::cvt_color_def(&inner, &mut grey, imgproc::COLOR_BGR2GRAY).map_err(cv_err)?;
    let brightness = core::mean_def(&grey).map_err(cv_err)?[0];
    // Sharpness as if exposed to a mid-grey mean: a dark face has proportionally weaker
    // edges without being any blurrier (that is `brightness`'s to report).
    let exposure = MID_GREY / brightness.max(8.0);
    let mut laplacian = Mat::default();
    imgproc::laplacian(
        &grey,
        &mut laplacian,
        core::CV_32F,
        1,
        exposure,
        0.0,
        core::BORDER_DEFAULT,
    )
    .map_err(cv_err)?;
    let (mut mean, mut std) = (Mat::default(), Mat::default());
    core::mean_std_dev_def(&laplacian, &mut mean, &mut std).map_err(cv_err)?;
    let spread = *std.at_2d::<f64>(0, 0).map_err(cv_err)?;
    Ok(FaceQuality {
        face_px,
        sharpness: (spread * spread) as f32,
        brightness: brightness as f32,
        pose: yaw_degrees(landmarks),
    })
}

/// Head yaw from the 5 landmarks: the nose tip's distance from the line through the eyes'
/// and the mouth corners' midpoints, against half the eye distance. For a head turned by
/// θ the eyes close up by cos θ and the nose tip (about half an eye distance in front of
/// the eyes) moves out by sin θ, so the ratio is about tan θ. 0 frontal, up to 90 in profile.
pub(crate) fn yaw_degrees(landmarks: &[[f32; 2]; 5]) -> f32 {
    let [le, re, nose, lm, rm] = *landmarks;
    let eyes = [(le[0] + re[0]) / 2.0, (le[1] + re[1]) / 2.0];
    let mouth = [(lm[0] + rm[0]) / 2.0, (lm[1] + rm[1]) / 2.0];
    let axis = [mouth[0] - eyes[0], mouth[1] - eyes[1]];
    let length = axis[0].hypot(axis[1]);
    let half_eyes = (re[0] - le[0]).hypot(re[1] - le[1]) / 2.0;
    if length <= f32::EPSILON {
        return 90.0;
    }
    let offset = ((nose[0] - eyes[0]) * axis[1] - (nose[1] - eyes[1]) * axis[0]).abs() / length;
    offset.atan2(half_eyes).to_degrees()
}

#[cfg(test)]
mod tests {
    use super::*;
    use opencv::core::{Scalar, Size};

    /// The alignment template's landmarks (a frontal face).
    const FRONTAL: [[f32; 2]; 5] = [
        [38.3, 51.7],
        [73.5, 51.5],
        [56.0, 71.7],
        [41.5, 92.4],
        [70.7, 92.2],
    ];

    #[test]
    fn a_frontal_face_has_no_yaw_and_a_turned_one_has_it_whatever_the_roll() {
        assert!(yaw_degrees(&FRONTAL) < 3.0, "{}", yaw_degrees(&FRONTAL));
        // Turned by about 45 degrees: eyes closer by cos, nose out by sin (half an eye
        // distance in front of them).
        let (c, s) = (45f32.to_radians().cos(), 45f32.to_radians().sin());
        let turned = FRONTAL.map(|[x, y]| [56.0 + (x - 56.0) * c, y]);
        let mut turned = turned;
        turned[2][0] += 17.6 * s;
        let yaw = yaw_degrees(&turned);
        assert!((yaw - 45.0).abs() < 5.0, "{yaw}");
        // The same face upside down has the same yaw.
        let flipped = turned.map(|[x, y]| [200.0 - x, 200.0 - y]);
        assert!((yaw_degrees(&flipped) - yaw).abs() < 1e-3);
    }

    #[test]
    fn only_blurred_large_faces_are_sharpened_and_only_small_dark_ones_smoothed() {
        let q = |face_px, sharpness, brightness| FaceQuality {
            face_px,
            sharpness,
            brightness,
            pose: 0.0,
        };
        let cases = [
            // (quality, sharpened, smoothed)
            (q(200.0, 20.0, 120.0), true, false), // blurred, large
            (q(64.0, 20.0, 40.0), false, true),   // night shot: small and dark
            (q(28.0, 20.0, 120.0), false, false), // thumbnail: small, well exposed
            (q(200.0, 300.0, 30.0), false, false), // large, dark, sharp
            (q(200.0, 300.0, 120.0), false, false), // a good selfie
        ];
        for (quality, sharpened, smoothed) in cases {
            assert_eq!(
                (needs_sharpening(&quality), needs_smoothing(&quality)),
                (sharpened, smoothed),
                "{quality:?}"
            );
        }
    }

    #[test]
    fn blur_lowers_sharpness_and_darkness_lowers_brightness() {
        let mut crop =
            Mat::new_size_with_default(Size::new(112, 112), core::CV_8UC3, Scalar::all(0.0))
                .unwrap();
        // A checkerboard of 4-px squares: sharp and mid-grey.
        for y in 0..112 {
            for x in 0..112 {
                let v = if (x / 4 + y / 4) % 2 == 0 { 200 } else { 60 };
                *crop.at_2d_mut::<core::Vec3b>(y, x).unwrap() = core::Vec3b::from([v, v, v]);
            }
        }
        let sharp = measure(&crop, &FRONTAL, 120.0).unwrap();
        let mut blurred = Mat::default();
        imgproc::gaussian_blur_def(&crop, &mut blurred, Size::new(0, 0), 3.0).unwrap();
        let soft = measure(&blurred, &FRONTAL, 120.0).unwrap();
        let mut dark = Mat::default();
        crop.convert_to(&mut dark, -1, 0.2, 0.0).unwrap();
        let dim = measure(&dark, &FRONTAL, 120.0).unwrap();

        assert!((sharp.brightness - 130.0).abs() < 2.0, "{sharp:?}");
        assert!(
            soft.sharpness < sharp.sharpness / 20.0,
            "{soft:?} vs {sharp:?}"
        );
        assert!(dim.brightness < 30.0, "{dim:?}");
        assert_eq!(sharp.face_px, 120.0);
    }
}
