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

/// Sharpness is measured on the crop smoothed by this Gaussian (σ, px): detail of the face
/// at the crop's scale, not pixel noise (measured raw, a blurred selfie with sensor noise
/// read as sharp as a clean one and its empty answer was silent).
const DETAIL_SIGMA: f64 = 1.0;

/// Below this sharpness a face at least `RESTORE_MIN_FACE_PX` tall is blurred (the camera's
/// focus or the guest's hand): DEV selfies blurred by 2.5 % of the face height measure
/// 2.3-9.3 (with noise σ 8 as well: 2.3-10.0), by 1.5 % 5-32, the sharp ones 21 and up
/// (every other kind of `facepass-eval selfies`, turned and compressed ones included).
pub(crate) const BLURRED: f32 = 15.0;
/// A face this tall spans the 112-px crop at least once: low sharpness is blur in the photo
/// rather than the crop's upscaling of a small face, and a dark crop is not mostly noise;
/// such faces are restored (deblurred, brightened), smaller ones only smoothed when dark.
pub(crate) const RESTORE_MIN_FACE_PX: f32 = 100.0;

/// Richardson-Lucy iterations of [`deblur`].
const DEBLUR_ITERATIONS: usize = 50;
/// The blur [`deblur`] assumes (σ on the 112-px crop, px) for a face of sharpness
/// `SHARPNESS_AT_REFERENCE`, the median of DEV selfies blurred by 2.5 % of the face height.
/// That blur is about 2.5 px on the crop (a face box spans some 99 px of it); 2.2 was set a
/// little under it and gave the measured recall, other values were not swept. Sharpness
/// falls about as the blur's σ squared (1.5 %: 10.7, 4 %: 2.5).
const REFERENCE_BLUR: f32 = 2.2;
const SHARPNESS_AT_REFERENCE: f32 = 4.4;

/// The Gaussian blur (σ on the 112-px crop) a face of this sharpness is taken to have.
pub(crate) fn blur_sigma(sharpness: f32) -> f64 {
    let sigma = REFERENCE_BLUR * (SHARPNESS_AT_REFERENCE / sharpness.max(0.5)).sqrt();
    f64::from(sigma.clamp(0.8, 3.0))
}

/// Richardson-Lucy deconvolution of a blurred selfie crop before recognition, with a
/// Gaussian blur of `sigma` (`blur_sigma` of its sharpness). On DEV selfies blurred by 2.5 %
/// of the face height recall 0.31 unrestored, 0.78 with unsharp masking (its best of amounts
/// 2-6 at σ 1-3), 0.83 deconvolved; blurred by 1.5 % 0.97 -> 0.98, with noise σ 8 as well
/// 0.58 -> 0.75 (docs/benchmarks.md).
pub(crate) fn deblur(crop: &Mat, sigma: f64) -> Result<Mat, EmbedError> {
    let blur = |m: &Mat| -> Result<Mat, EmbedError> {
        let mut out = Mat::default();
        imgproc::gaussian_blur_def(m, &mut out, core::Size::new(0, 0), sigma).map_err(cv_err)?;
        Ok(out)
    };
    // Offset by one level so that black pixels divide.
    let mut observed = Mat::default();
    crop.convert_to(&mut observed, core::CV_32FC3, 1.0, 1.0)
        .map_err(cv_err)?;
    let mut estimate = observed.try_clone().map_err(cv_err)?;
    let (mut ratio, mut next) = (Mat::default(), Mat::default());
    for _ in 0..DEBLUR_ITERATIONS {
        core::divide2_def(&observed, &blur(&estimate)?, &mut ratio).map_err(cv_err)?;
        core::multiply_def(&estimate, &blur(&ratio)?, &mut next).map_err(cv_err)?;
        std::mem::swap(&mut estimate, &mut next);
    }
    let mut out = Mat::default();
    estimate
        .convert_to(&mut out, core::CV_8UC3, 1.0, -1.0)
        .map_err(cv_err)?;
    Ok(out)
}

/// Below this brightness (mean grey of the crop, as `search.quality.min_brightness` by
/// default) a selfie face is underexposed; a small one's pixels carry more sensor and
/// compression noise than face, and the crop's upscaling magnifies it.
pub(crate) const DARK: f32 = 70.0;

/// The mean grey [`brighten`] lifts a dark crop to.
const EXPOSED: f32 = 100.0;

/// A gamma curve taking the crop's mean grey `brightness` to `EXPOSED`, for a large dark
/// selfie face before recognition: on DEV selfies darkened to x0.15 ^1.5 recall 0.923 ->
/// 0.962 (genuine cosine p10 0.47 -> 0.57, strangers' highest 0.39 -> 0.37), x0.1 ^1.8
/// 0.73 -> 0.96, x0.3 ^1.2 0.966 -> 0.979; night shots (small faces) gain nothing from it.
pub(crate) fn brighten(crop: &Mat, brightness: f32) -> Result<Mat, EmbedError> {
    let mean = f64::from(brightness.clamp(1.0, 254.0)) / 255.0;
    let gamma = (f64::from(EXPOSED) / 255.0).ln() / mean.ln();
    let curve: Vec<u8> = (0..=255u8)
        .map(|v| (255.0 * (f64::from(v) / 255.0).powf(gamma)).round() as u8)
        .collect();
    let lut = Mat::from_slice(&curve).map_err(cv_err)?;
    let mut out = Mat::default();
    core::lut(crop, &lut, &mut out).map_err(cv_err)?;
    Ok(out)
}

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

/// Restores a selfie face's `crop` for recognition by its `quality`: a large blurred face
/// is deblurred, a large dark one brightened (both when both), a small dark one smoothed.
pub(crate) fn restore(crop: Mat, quality: &FaceQuality) -> Result<Mat, EmbedError> {
    if quality.face_px < RESTORE_MIN_FACE_PX {
        return if quality.brightness < DARK {
            smooth(&crop)
        } else {
            Ok(crop)
        };
    }
    let crop = if quality.sharpness < BLURRED {
        deblur(&crop, blur_sigma(quality.sharpness))?
    } else {
        crop
    };
    if quality.brightness < DARK {
        brighten(&crop, quality.brightness)
    } else {
        Ok(crop)
    }
}

/// Below this height (px, the default `search.quality.min_face_px`) a selfie face's crop is
/// warped with bicubic interpolation (an upscale by 3x and more): thumbnails with a 28-px
/// face 0.583 -> 0.621, 22 px 0.149 -> 0.153, 34 px 0.826 -> 0.855 (Lanczos: 0.626, but a
/// false match at 22 px); up to 70 px the 64-px night shots moved +0.01 alone and -0.03 in
/// the two-selfie pair, so larger faces keep bilinear.
pub(crate) const SMALL_FACE_PX: f32 = 40.0;

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
    let mut detail = Mat::default();
    imgproc::gaussian_blur_def(&grey, &mut detail, core::Size::new(0, 0), DETAIL_SIGMA)
        .map_err(cv_err)?;
    let mut laplacian = Mat::default();
    imgproc::laplacian(
        &detail,
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

/// The angle (degrees, -180..180, clockwise in image coordinates) of the line from the
/// face's first eye to its second: 0 for an upright face, 90 for one turned a quarter
/// clockwise, -90 a quarter the other way, ±180 upside down.
pub(crate) fn roll_degrees(landmarks: &[[f32; 2]; 5]) -> f32 {
    let [le, re, ..] = *landmarks;
    (re[1] - le[1]).atan2(re[0] - le[0]).to_degrees()
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

    /// A real face's aligned 112x112 crop (BGR): DEV single deepface_img1.jpg warped by
    /// det_2.5g's landmarks of its face (`facepass embed`).
    fn face_crop() -> Mat {
        let path = facepass_test_support::fixtures::faces_dir().join("deepface_img1.jpg");
        let image = opencv::imgcodecs::imread_def(path.to_str().unwrap()).unwrap();
        assert!(!image.empty(), "{path:?}");
        let landmarks = [
            [582.2, 518.9],
            [873.2, 520.2],
            [732.8, 685.5],
            [590.9, 787.0],
            [859.2, 787.0],
        ];
        crate::align::warp(
            &image,
            &crate::align::Similarity::to_template(&landmarks),
            imgproc::INTER_LINEAR,
        )
        .unwrap()
    }

    fn blurred(crop: &Mat, sigma: f64) -> Mat {
        let mut out = Mat::default();
        imgproc::gaussian_blur_def(crop, &mut out, Size::new(0, 0), sigma).unwrap();
        out
    }

    /// Mean absolute difference per channel value.
    fn distance(a: &Mat, b: &Mat) -> f64 {
        let mut diff = Mat::default();
        core::absdiff(a, b, &mut diff).unwrap();
        core::mean_def(&diff).unwrap().0[..3].iter().sum::<f64>() / 3.0
    }

    #[test]
    fn sensor_noise_does_not_make_a_blurred_face_sharp() {
        let crop = face_crop();
        let sharp = measure(&crop, &FRONTAL, 200.0).unwrap();
        let soft = blurred(&crop, 2.2);
        let mut noise =
            Mat::new_size_with_default(crop.size().unwrap(), core::CV_32FC3, Scalar::all(0.0))
                .unwrap();
        core::randn(&mut noise, &Scalar::all(0.0), &Scalar::all(8.0)).unwrap();
        let mut noisy = Mat::default();
        core::add(&soft, &noise, &mut noisy, &core::no_array(), core::CV_8UC3).unwrap();
        let soft = measure(&soft, &FRONTAL, 200.0).unwrap();
        let noisy = measure(&noisy, &FRONTAL, 200.0).unwrap();
        assert!(sharp.sharpness >= BLURRED, "{sharp:?}");
        assert!(soft.sharpness < BLURRED, "{soft:?}");
        assert!(noisy.sharpness < BLURRED, "{noisy:?}");
    }

    #[test]
    fn deblurring_brings_a_blurred_face_back_towards_the_sharp_one() {
        let crop = face_crop();
        let soft = blurred(&crop, 2.2);
        let sharpness = measure(&soft, &FRONTAL, 200.0).unwrap().sharpness;
        let sigma = blur_sigma(sharpness);
        assert!(
            (1.4..=3.0).contains(&sigma),
            "estimated blur {sigma} for 2.2"
        );
        let restored = deblur(&soft, sigma).unwrap();
        let (before, after) = (distance(&soft, &crop), distance(&restored, &crop));
        assert!(after < 0.85 * before, "{after} vs {before}");
        let again = measure(&restored, &FRONTAL, 200.0).unwrap().sharpness;
        assert!(again > 1.5 * sharpness, "{again} vs {sharpness}");
    }

    #[test]
    fn brightening_lifts_a_dark_face_to_the_exposed_grey() {
        let crop = face_crop();
        let mut dark = Mat::default();
        crop.convert_to(&mut dark, -1, 0.2, 0.0).unwrap();
        let dim = measure(&dark, &FRONTAL, 200.0).unwrap();
        assert!(dim.brightness < DARK, "{dim:?}");
        let lifted = measure(&brighten(&dark, dim.brightness).unwrap(), &FRONTAL, 200.0).unwrap();
        assert!((lifted.brightness - EXPOSED).abs() < 15.0, "{lifted:?}");
    }

    #[test]
    fn restoration_depends_on_size_sharpness_and_brightness() {
        let q = |face_px, sharpness, brightness| FaceQuality {
            face_px,
            sharpness,
            brightness,
            pose: 0.0,
        };
        let crop = face_crop();
        let restored =
            |quality: FaceQuality| distance(&restore(crop.clone(), &quality).unwrap(), &crop) > 0.0;
        // A good selfie, a small well-exposed one (thumbnail), a large dark sharp one, a
        // blurred one, a small dark one (night shot): only the good and the small ones as
        // they are.
        assert!(!restored(q(200.0, 100.0, 120.0)));
        assert!(!restored(q(28.0, 5.0, 120.0)));
        assert!(restored(q(200.0, 100.0, 30.0)));
        assert!(restored(q(200.0, 5.0, 120.0)));
        assert!(restored(q(64.0, 40.0, 40.0)));
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
            soft.sharpness < sharp.sharpness / 10.0,
            "{soft:?} vs {sharp:?}"
        );
        assert!(dim.brightness < 30.0, "{dim:?}");
        assert_eq!(sharp.face_px, 120.0);
    }
}
