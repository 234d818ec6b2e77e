//! Image decoding: header probe (format, size, EXIF orientation) before any pixel is decoded,
//! then decoding to 8-bit BGR, optionally at a reduced scale, orientation applied: JPEGs
//! through libjpeg directly (`libjpeg`, falling back to OpenCV for what it cannot decode), PNG
//! and WebP through OpenCV.

use std::io::Cursor;

use facepass_domain::ports::EmbedError;
use opencv::core::{self, Mat};
use opencv::imgcodecs;
use opencv::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Jpeg,
    Png,
    Webp,
}

/// What the header says, before decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Probe {
    pub format: Format,
    /// Width of the orientation-corrected image.
    pub width: u32,
    /// Height of the orientation-corrected image.
    pub height: u32,
    /// EXIF orientation 1..=8 (1 when absent or invalid).
    pub orientation: u32,
}

impl Probe {
    /// The oriented size of the image decoded at 1/`reduction` scale (libjpeg rounds up; other
    /// formats are decoded whole).
    pub fn decoded_size(&self, reduction: u32) -> (i32, i32) {
        let r = if self.format == Format::Jpeg {
            reduction.max(1)
        } else {
            1
        };
        let side = |v: u32| i32::try_from(v.div_ceil(r)).unwrap_or(i32::MAX);
        (side(self.width), side(self.height))
    }

    /// [`Probe::decoded_size`] as stored in the file, before the EXIF orientation turns it.
    pub fn stored_size(&self, reduction: u32) -> (i32, i32) {
        let (w, h) = self.decoded_size(reduction);
        if self.orientation >= 5 {
            (h, w)
        } else {
            (w, h)
        }
    }
}

pub(crate) fn probe(bytes: &[u8], max_pixels: u64) -> Result<Probe, EmbedError> {
    let format = match imagesize::image_type(bytes) {
        Ok(imagesize::ImageType::Jpeg) => Format::Jpeg,
        Ok(imagesize::ImageType::Png) => Format::Png,
        Ok(imagesize::ImageType::Webp) => Format::Webp,
        Ok(other) => {
            return Err(EmbedError::InvalidImage(format!(
                "unsupported format {other:?}; send JPEG, PNG or WebP"
            )));
        }
        Err(_) => {
            return Err(EmbedError::InvalidImage(
                "not a JPEG, PNG or WebP image".to_owned(),
            ));
        }
    };
    if let Some(reason) = truncation(bytes, format) {
        return Err(EmbedError::TruncatedImage(reason.to_owned()));
    }
    let size = imagesize::blob_size(bytes)
        .map_err(|e| EmbedError::InvalidImage(format!("unreadable {format:?} header: {e}")))?;
    let (w, h) = (size.width as u64, size.height as u64);
    if w == 0 || h == 0 {
        return Err(EmbedError::InvalidImage(format!(
            "image has no pixels ({w}x{h})"
        )));
    }
    let pixels = w.saturating_mul(h);
    if pixels > max_pixels {
        return Err(EmbedError::ImageTooLarge {
            width: w,
            height: h,
            pixels,
            max_pixels,
        });
    }
    // OpenCV refuses sides beyond i32 anyway; the pixel limit normally stops far earlier.
    let (w, h) = (
        u32::try_from(w).unwrap_or(u32::MAX),
        u32::try_from(h).unwrap_or(u32::MAX),
    );
    let orientation = exif_orientation(bytes);
    let (width, height) = if orientation >= 5 { (h, w) } else { (w, h) };
    Ok(Probe {
        format,
        width,
        height,
        orientation,
    })
}

/// Why `bytes` cannot be the whole image, if they cannot: decoders fill what is missing
/// (grey rows) rather than refuse, so an interrupted upload would be indexed half-grey.
/// JPEG: no end-of-image marker after the last start-of-scan (neither can occur inside the
/// entropy-coded data, and data appended after the end is allowed); PNG: no `IEND` chunk at
/// the end; WebP: fewer bytes than the RIFF header declares.
fn truncation(bytes: &[u8], format: Format) -> Option<&'static str> {
    let find_last =
        |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).rposition(|w| w == needle);
    match format {
        Format::Jpeg => {
            // The end marker is searched from the end and the first scan from the start: on
            // a whole file both are found within its first and last few kilobytes, so the
            // check never reads the entropy-coded data of every photo (a truncated file is
            // read through once).
            let Some(end) = find_last(bytes, &[0xFF, 0xD9]) else {
                return Some("the JPEG data ends before its end marker");
            };
            let scan_after_end = find_last(&bytes[end..], &[0xFF, 0xDA]).is_some();
            let scan_before_end = bytes[..end].windows(2).any(|w| w == [0xFF, 0xDA]);
            if scan_after_end {
                Some("the JPEG data ends before its end marker")
            } else if !scan_before_end {
                Some("the JPEG ends before its image data")
            } else {
                None
            }
        }
        Format::Png => {
            // The IEND chunk's type, then its 4-byte CRC.
            let tail = &bytes[bytes.len().saturating_sub(1024)..];
            let end = tail.windows(4).rposition(|w| w == b"IEND");
            (end.is_none_or(|e| tail.len() - e < 8)).then_some("the PNG has no IEND chunk")
        }
        Format::Webp => {
            let declared = bytes
                .get(4..8)
                .map(|b| u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])) + 8)?;
            (declared > bytes.len() as u64)
                .then_some("the WebP file is shorter than its header declares")
        }
    }
}

fn exif_orientation(bytes: &[u8]) -> u32 {
    let Ok(exif) = exif::Reader::new().read_from_container(&mut Cursor::new(bytes)) else {
        return 1;
    };
    exif.get_field(exif::Tag::Orientation, exif::In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
        .filter(|o| (1..=8).contains(o))
        .unwrap_or(1)
}

/// The JPEG scale denominators libjpeg decodes natively (DCT scaling: fast, and a proper
/// low-pass downscale rather than a subsampling).
pub(crate) const REDUCTIONS: [u32; 4] = [1, 2, 4, 8];

/// Decodes at 1/`reduction` scale (JPEG only; 1 for other formats) and applies the EXIF
/// orientation. Always returns a continuous 8-bit, 3-channel BGR image.
pub(crate) fn decode(bytes: &[u8], probe: &Probe, reduction: u32) -> Result<Mat, EmbedError> {
    let reduction = if probe.format == Format::Jpeg {
        reduction
    } else {
        1
    };
    if probe.format == Format::Jpeg {
        // libjpeg straight to BGR; what it cannot decode (CMYK, corrupt data) goes through
        // OpenCV as before, which answers the same errors it always did.
        let (w, h) = probe.stored_size(reduction);
        match libjpeg::decode_bgr(bytes, reduction, w, h) {
            Ok(mat) => return orient(mat, probe.orientation).map_err(cv_err),
            Err(reason) => tracing::debug!(%reason, "libjpeg did not decode the JPEG; OpenCV will"),
        }
    }
    let mode = match reduction {
        1 => imgcodecs::IMREAD_COLOR,
        2 => imgcodecs::IMREAD_REDUCED_COLOR_2,
        4 => imgcodecs::IMREAD_REDUCED_COLOR_4,
        8 => imgcodecs::IMREAD_REDUCED_COLOR_8,
        other => {
            return Err(EmbedError::Unexpected(format!(
                "unsupported reduction 1/{other}"
            )));
        }
    };
    let mat = imgcodecs::imdecode(&bytes, mode | imgcodecs::IMREAD_IGNORE_ORIENTATION)
        .map_err(|e| EmbedError::InvalidImage(format!("decoder error: {}", e.message)))?;
    if mat.empty() || mat.typ() != core::CV_8UC3 {
        return Err(EmbedError::InvalidImage(format!(
            "{:?} data could not be decoded",
            probe.format
        )));
    }
    orient(mat, probe.orientation).map_err(cv_err)
}

/// JPEG decoding to BGR through the libjpeg shim (`src/jpeg.c`). OpenCV 4.6 decodes to RGB
/// and swaps every pixel in a scalar loop: on the camera-size corpus at half scale, 43 ms a
/// photo against 30 ms here, with identical pixels (libjpeg-turbo's `JCS_EXT_BGR` is the same
/// conversion written in the other order; a test compares them).
#[allow(unsafe_code)]
mod libjpeg {
    use std::ffi::{CStr, c_char, c_int, c_uchar, c_ulong};

    use opencv::core::{self, Mat};
    use opencv::prelude::*;

    const OK: c_int = 0;
    const MESSAGE_LEN: usize = 200;
    /// Columns libjpeg may add on either side of a region (whole iMCUs: at most 32 pixels).
    const WIDENING: i32 = 64;

    unsafe extern "C" {
        fn fp_jpeg_decode(
            data: *const c_uchar,
            len: c_ulong,
            denom: c_int,
            x: c_int,
            y: c_int,
            w: c_int,
            h: c_int,
            out: *mut c_uchar,
            stride: usize,
            max_width: c_int,
            out_x: *mut c_int,
            out_w: *mut c_int,
            message: *mut c_char,
            message_len: usize,
        ) -> c_int;
    }

    /// The whole of `bytes` (`width` x `height` at 1/`reduction` scale: 1, 2, 4 or 8) as a
    /// continuous 8-bit BGR image; libjpeg's message when it cannot decode it (a colour space
    /// without a BGR conversion, corrupt data).
    pub(super) fn decode_bgr(
        bytes: &[u8],
        reduction: u32,
        width: i32,
        height: i32,
    ) -> Result<Mat, String> {
        decode_into(
            bytes,
            reduction,
            core::Rect::new(0, 0, width, height),
            width,
        )
        .map(|(mat, _)| mat)
    }

    /// The rows `region.y..region.y + region.height` and at least its columns of `bytes`
    /// decoded at 1/`reduction` scale, as a continuous BGR image, with the column it starts
    /// at.
    pub(super) fn decode_region_bgr(
        bytes: &[u8],
        reduction: u32,
        region: core::Rect,
    ) -> Result<(Mat, i32), String> {
        let max_width = region
            .width
            .checked_add(2 * WIDENING)
            .ok_or("region too wide")?;
        decode_into(bytes, reduction, region, max_width)
    }

    /// `region` of `bytes` at 1/`reduction` scale decoded into a new image of up to
    /// `max_width` columns (libjpeg widens a region to whole iMCUs), with the column it
    /// starts at.
    fn decode_into(
        bytes: &[u8],
        reduction: u32,
        region: core::Rect,
        max_width: i32,
    ) -> Result<(Mat, i32), String> {
        let denom = c_int::try_from(reduction).map_err(|e| e.to_string())?;
        let len = c_ulong::try_from(bytes.len()).map_err(|e| e.to_string())?;
        if region.width <= 0 || region.height <= 0 || max_width < region.width {
            return Err(format!("empty region {region:?}"));
        }
        let cv = |e: opencv::Error| e.message;
        // SAFETY: the pixels start uninitialised; the Mat is returned only once the shim has
        // written every row (it answers an error for a decode that stops early).
        let mut mat =
            unsafe { Mat::new_rows_cols(region.height, max_width, core::CV_8UC3) }.map_err(cv)?;
        let stride = mat.step1(0).map_err(cv)?;
        let rows = usize::try_from(region.height).map_err(|e| e.to_string())?;
        if !mat.is_continuous() || mat.data_bytes().map_err(cv)?.len() < stride * rows {
            return Err("the output image is not one continuous buffer".to_owned());
        }
        let out = mat.data_bytes_mut().map_err(cv)?.as_mut_ptr();
        let (mut out_x, mut out_w): (c_int, c_int) = (0, 0);
        let mut message = [0u8; MESSAGE_LEN];
        // SAFETY: `bytes` is a live slice of `len` bytes that the shim only reads; `out`
        // points at `region.height` rows of `stride` bytes with room for `max_width` BGR
        // pixels each (checked above), and the shim writes `region.height` rows of at most
        // `max_width` pixels (it refuses a wider crop); `out_x`, `out_w` and `message` are
        // valid for writes of their sizes (the message is NUL-terminated by snprintf); every
        // libjpeg error is caught inside C (setjmp) and never unwinds into Rust.
        let status = unsafe {
            fp_jpeg_decode(
                bytes.as_ptr(),
                len,
                denom,
                region.x,
                region.y,
                region.width,
                region.height,
                out,
                stride,
                max_width,
                &mut out_x,
                &mut out_w,
                message.as_mut_ptr().cast::<c_char>(),
                MESSAGE_LEN,
            )
        };
        if status != OK {
            return Err(CStr::from_bytes_until_nul(&message).map_or_else(
                |_| format!("status {status}"),
                |m| m.to_string_lossy().into_owned(),
            ));
        }
        if out_w <= 0 || out_w > max_width {
            return Err(format!(
                "{out_w} columns decoded for a buffer of {max_width}"
            ));
        }
        if out_w == max_width {
            return Ok((mat, out_x));
        }
        let decoded = Mat::roi(&mat, core::Rect::new(0, 0, out_w, region.height))
            .and_then(|part| part.try_clone())
            .map_err(cv)?;
        Ok((decoded, out_x))
    }
}

/// The part `region` (pixels of the oriented image decoded at 1/`reduction` scale) of a JPEG,
/// at least, and its top-left corner in that image: only those rows of the stored image are
/// decoded (the ones above are skipped, the ones below never read), for face crops that need
/// finer pixels than the detector's decode. An EXIF orientation maps the region onto the
/// stored image and turns the part decoded. `None` where that does not apply (not a JPEG, a
/// region outside the image, a libjpeg failure): decode the whole image instead.
pub(crate) fn decode_region(
    bytes: &[u8],
    probe: &Probe,
    reduction: u32,
    region: core::Rect,
) -> Option<(Mat, core::Point)> {
    if probe.format != Format::Jpeg {
        return None;
    }
    let stored_size = probe.stored_size(reduction);
    let stored = to_stored(region, probe.orientation, stored_size);
    let decoded = libjpeg::decode_region_bgr(bytes, reduction, stored).and_then(|(mat, x)| {
        let part = core::Rect::new(x, stored.y, mat.cols(), mat.rows());
        let at = to_oriented(part, probe.orientation, stored_size);
        let mat = orient(mat, probe.orientation).map_err(|e| e.message)?;
        Ok((mat, core::Point::new(at.x, at.y)))
    });
    match decoded {
        Ok(part) => Some(part),
        Err(reason) => {
            tracing::debug!(%reason, "libjpeg did not decode the region; decoding the whole JPEG");
            None
        }
    }
}

/// The rectangle of the stored image (`stored` = its width and height) that EXIF
/// `orientation` shows as `r`.
fn to_stored(r: core::Rect, orientation: u32, stored: (i32, i32)) -> core::Rect {
    let (sw, sh) = stored;
    let (x, y, w, h) = (r.x, r.y, r.width, r.height);
    let (x, y, w, h) = match orientation {
        2 => (sw - x - w, y, w, h),
        3 => (sw - x - w, sh - y - h, w, h),
        4 => (x, sh - y - h, w, h),
        5 => (y, x, h, w),
        6 => (y, sh - x - w, h, w),
        7 => (sw - y - h, sh - x - w, h, w),
        8 => (sw - y - h, x, h, w),
        _ => (x, y, w, h),
    };
    core::Rect::new(x, y, w, h)
}

/// The rectangle EXIF `orientation` shows for the stored image's rectangle `r`: the stored
/// image is the shown one under the inverse orientation (a quarter turn the other way; flips
/// and the half turn are their own inverses).
fn to_oriented(r: core::Rect, orientation: u32, stored: (i32, i32)) -> core::Rect {
    let inverse = match orientation {
        6 => 8,
        8 => 6,
        o => o,
    };
    let shown = if orientation >= 5 {
        (stored.1, stored.0)
    } else {
        stored
    };
    to_stored(r, inverse, shown)
}

fn orient(mat: Mat, orientation: u32) -> opencv::Result<Mat> {
    let rotate = |src: &Mat, code: i32| -> opencv::Result<Mat> {
        let mut dst = Mat::default();
        core::rotate(src, &mut dst, code)?;
        Ok(dst)
    };
    let flip = |src: &Mat, code: i32| -> opencv::Result<Mat> {
        let mut dst = Mat::default();
        core::flip(src, &mut dst, code)?;
        Ok(dst)
    };
    match orientation {
        2 => flip(&mat, 1),
        3 => rotate(&mat, core::ROTATE_180),
        4 => flip(&mat, 0),
        5 => flip(&rotate(&mat, core::ROTATE_90_CLOCKWISE)?, 1),
        6 => rotate(&mat, core::ROTATE_90_CLOCKWISE),
        7 => flip(&rotate(&mat, core::ROTATE_90_CLOCKWISE)?, 0),
        8 => rotate(&mat, core::ROTATE_90_COUNTERCLOCKWISE),
        _ => Ok(mat),
    }
}

pub(crate) fn cv_err(e: opencv::Error) -> EmbedError {
    EmbedError::Unexpected(format!("OpenCV: {}", e.message))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(mat: &Mat, ext: &str) -> Vec<u8> {
        let mut buf = opencv::core::Vector::<u8>::new();
        imgcodecs::imencode(ext, mat, &mut buf, &opencv::core::Vector::new()).unwrap();
        buf.to_vec()
    }

    fn gradient(w: i32, h: i32) -> Mat {
        let mut m =
            Mat::new_rows_cols_with_default(h, w, core::CV_8UC3, core::Scalar::all(0.0)).unwrap();
        for y in 0..h {
            for x in 0..w {
                *m.at_2d_mut::<core::Vec3b>(y, x).unwrap() =
                    core::Vec3b::from([x as u8, y as u8, 128]);
            }
        }
        m
    }

    #[test]
    fn a_region_of_an_oriented_image_is_the_same_region_of_the_stored_one_turned() {
        let stored = gradient(37, 23);
        let size = (stored.cols(), stored.rows());
        let region = core::Rect::new(3, 5, 11, 7);
        for orientation in 1..=8 {
            let shown = orient(stored.clone(), orientation).unwrap();
            let inside = to_stored(region, orientation, size);
            assert_eq!(
                to_oriented(inside, orientation, size),
                region,
                "{orientation}"
            );
            let part = Mat::roi(&stored, inside).unwrap().try_clone().unwrap();
            let turned = orient(part, orientation).unwrap();
            let expected = Mat::roi(&shown, region).unwrap().try_clone().unwrap();
            assert_eq!(
                turned.data_bytes().unwrap(),
                expected.data_bytes().unwrap(),
                "orientation {orientation}"
            );
        }
    }

    #[test]
    fn garbage_and_truncated_files_are_invalid_images() {
        assert!(matches!(
            probe(b"hello world", 1_000_000),
            Err(EmbedError::InvalidImage(_))
        ));
        // Cut anywhere after the header (libjpeg and libpng would fill the missing rows):
        // refused as truncated before decoding. Whole files, with bytes appended after the
        // end, are not.
        for ext in [".jpg", ".png", ".webp"] {
            let whole = encode(&gradient(64, 48), ext);
            assert!(probe(&whole, 1_000_000).is_ok(), "{ext} whole");
            let mut padded = whole.clone();
            padded.extend_from_slice(&[0; 16]);
            assert!(
                probe(&padded, 1_000_000).is_ok(),
                "{ext} with trailing bytes"
            );
            for keep in [whole.len() / 3, whole.len() * 2 / 3, whole.len() - 1] {
                assert!(
                    matches!(
                        probe(&whole[..keep], 1_000_000),
                        Err(EmbedError::TruncatedImage(_))
                    ),
                    "{ext} cut at {keep} of {}",
                    whole.len()
                );
            }
        }
        let jpeg = encode(&gradient(64, 48), ".jpg");
        // Cut inside the header: truncated as well.
        assert!(matches!(
            probe(&jpeg[..20], 1_000_000),
            Err(EmbedError::TruncatedImage(_))
        ));
        assert!(matches!(
            probe(&[], 1_000_000),
            Err(EmbedError::InvalidImage(_))
        ));
    }

    #[test]
    fn oversized_images_are_refused_from_the_header() {
        let png = encode(&gradient(200, 100), ".png");
        assert!(matches!(
            probe(&png, 19_999),
            Err(EmbedError::ImageTooLarge {
                width: 200,
                height: 100,
                pixels: 20_000,
                max_pixels: 19_999
            })
        ));
        assert!(probe(&png, 20_000).is_ok());
    }

    #[test]
    fn png_webp_and_jpeg_decode_to_bgr() {
        for ext in [".png", ".webp", ".jpg"] {
            let bytes = encode(&gradient(40, 30), ext);
            let p = probe(&bytes, 1_000_000).unwrap();
            assert_eq!((p.width, p.height), (40, 30), "{ext}");
            let m = decode(&bytes, &p, 1).unwrap();
            assert_eq!(
                (m.cols(), m.rows(), m.typ()),
                (40, 30, core::CV_8UC3),
                "{ext}"
            );
        }
    }

    #[test]
    fn grayscale_and_rgba_pngs_become_three_channels() {
        let gray = Mat::new_rows_cols_with_default(20, 10, core::CV_8UC1, core::Scalar::all(77.0))
            .unwrap();
        let rgba = Mat::new_rows_cols_with_default(20, 10, core::CV_8UC4, core::Scalar::all(200.0))
            .unwrap();
        for m in [gray, rgba] {
            let bytes = encode(&m, ".png");
            let p = probe(&bytes, 1_000_000).unwrap();
            let out = decode(&bytes, &p, 1).unwrap();
            assert_eq!(out.typ(), core::CV_8UC3);
        }
    }

    /// What OpenCV alone decodes (the path before the libjpeg shim, and its fallback).
    fn opencv_decode(bytes: &[u8], reduction: u32) -> Mat {
        let mode = match reduction {
            1 => imgcodecs::IMREAD_COLOR,
            2 => imgcodecs::IMREAD_REDUCED_COLOR_2,
            4 => imgcodecs::IMREAD_REDUCED_COLOR_4,
            _ => imgcodecs::IMREAD_REDUCED_COLOR_8,
        };
        imgcodecs::imdecode(&bytes, mode | imgcodecs::IMREAD_IGNORE_ORIENTATION).unwrap()
    }

    /// The whole JPEG through libjpeg alone (no OpenCV fallback), as stored (no orientation).
    fn libjpeg_whole(bytes: &[u8], reduction: u32) -> Result<Mat, String> {
        let p = probe(bytes, u64::MAX).map_err(|e| e.to_string())?;
        let (w, h) = p.stored_size(reduction);
        libjpeg::decode_bgr(bytes, reduction, w, h)
    }

    /// Every decodable fixture JPEG (the corrupt one left out), with its probe.
    fn fixture_jpegs() -> Vec<(std::path::PathBuf, Vec<u8>, Probe)> {
        std::fs::read_dir(facepass_test_support::fixtures::faces_dir())
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.file_name().is_none_or(|n| n != "corrupt.jpg"))
            .filter_map(|path| {
                let bytes = std::fs::read(&path).unwrap();
                let p = probe(&bytes, u64::MAX).ok()?;
                (p.format == Format::Jpeg).then_some((path, bytes, p))
            })
            .collect()
    }

    fn identical(a: &Mat, b: &Mat) -> bool {
        a.size().unwrap() == b.size().unwrap()
            && a.typ() == b.typ()
            && core::norm2_def(a, b).unwrap() == 0.0
    }

    #[test]
    fn libjpeg_decodes_every_fixture_jpeg_exactly_as_opencv_at_every_reduction() {
        let mut checked = 0;
        for (path, bytes, _) in fixture_jpegs() {
            for reduction in REDUCTIONS {
                let ours = libjpeg_whole(&bytes, reduction)
                    .unwrap_or_else(|e| panic!("{} not decoded by libjpeg: {e}", path.display()));
                let theirs = opencv_decode(&bytes, reduction);
                assert!(
                    identical(&ours, &theirs),
                    "{} at 1/{reduction}",
                    path.display()
                );
                checked += 1;
            }
        }
        // 17 of the DEV JPEGs are progressive; all of them are here.
        assert!(checked >= 4 * 40, "{checked} decodes compared");
    }

    #[test]
    fn a_region_decodes_to_the_same_pixels_as_the_whole_image() {
        let mut checked = 0;
        for (path, bytes, p) in fixture_jpegs() {
            if p.orientation != 1 || p.width < 200 || p.height < 200 {
                continue;
            }
            for reduction in [1, 2] {
                let whole = decode(&bytes, &p, reduction).unwrap();
                let (w, h) = (whole.cols(), whole.rows());
                // Odd offsets and sizes (not on 8- or 16-pixel blocks), inside and at edges.
                let regions = [
                    core::Rect::new(w / 3 + 3, h / 4 + 5, w / 3 + 1, h / 3 + 7),
                    core::Rect::new(0, 0, w / 2 + 3, h / 5 + 1),
                    core::Rect::new(w / 2 - 1, h - h / 4, w - (w / 2 - 1), h / 4),
                ];
                for region in regions {
                    let (part, at) = decode_region(&bytes, &p, reduction, region)
                        .unwrap_or_else(|| panic!("{} {region:?}", path.display()));
                    assert!(at.x <= region.x && at.y == region.y, "{at:?} {region:?}");
                    assert!(at.x + part.cols() >= region.x + region.width);
                    // libjpeg upsamples the chroma of a cropped row's first and last column
                    // without their outer neighbour: those two columns may differ (warps never
                    // read them: `FOOTPRINT_MARGIN` in the pipeline); every other pixel may not.
                    let inner = |m: &Mat, x: i32| {
                        Mat::roi(m, core::Rect::new(x + 1, 0, part.cols() - 2, part.rows()))
                            .unwrap()
                            .try_clone()
                            .unwrap()
                    };
                    let rows = Mat::roi(&whole, core::Rect::new(0, at.y, w, part.rows())).unwrap();
                    assert!(
                        identical(&inner(&part, 0), &inner(&rows.try_clone().unwrap(), at.x)),
                        "{} at 1/{reduction}, {region:?}",
                        path.display()
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked >= 60, "{checked} regions compared");
    }

    /// `jpeg` with an EXIF block declaring `orientation` (big-endian TIFF, one IFD entry).
    fn with_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
        let mut tiff = b"MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01".to_vec();
        tiff.extend(orientation.to_be_bytes());
        tiff.extend([0, 0, 0, 0, 0, 0]);
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend(tiff);
        let mut out = jpeg[..2].to_vec();
        out.extend([0xff, 0xe1]);
        out.extend(u16::try_from(app1.len() + 2).unwrap().to_be_bytes());
        out.extend(app1);
        out.extend(&jpeg[2..]);
        out
    }

    #[test]
    fn a_region_of_an_exif_oriented_jpeg_decodes_to_the_whole_images_pixels() {
        let (_, plain, _) = fixture_jpegs()
            .into_iter()
            .find(|(_, _, p)| p.orientation == 1 && p.width >= 400 && p.height >= 300)
            .unwrap();
        for orientation in 1..=8 {
            let bytes = with_orientation(&plain, orientation);
            let p = probe(&bytes, u64::MAX).unwrap();
            assert_eq!(p.orientation, u32::from(orientation));
            for reduction in [1, 2] {
                let whole = decode(&bytes, &p, reduction).unwrap();
                let (w, h) = (whole.cols(), whole.rows());
                let region = core::Rect::new(w / 3 + 3, h / 4 + 5, w / 3 + 1, h / 3 + 7);
                let (part, at) = decode_region(&bytes, &p, reduction, region).unwrap();
                let got = core::Rect::new(at.x, at.y, part.cols(), part.rows());
                assert_eq!(
                    got & region,
                    region,
                    "{orientation} at 1/{reduction}: {got:?}"
                );
                // All but the part's outermost pixels (chroma at a cropped edge, which the
                // orientation may turn into a row).
                let inner = core::Rect::new(1, 1, part.cols() - 2, part.rows() - 2);
                let ours = Mat::roi(&part, inner).unwrap().try_clone().unwrap();
                let theirs = Mat::roi(&whole, inner + at).unwrap().try_clone().unwrap();
                assert!(identical(&ours, &theirs), "{orientation} at 1/{reduction}");
            }
        }
    }

    #[test]
    fn grayscale_jpegs_decode_as_opencv_and_corrupt_ones_fall_back_to_its_error() {
        let mut gray = Mat::default();
        imgproc_gray(&gradient(64, 48), &mut gray);
        let bytes = encode(&gray, ".jpg");
        for reduction in [1, 2] {
            let ours = libjpeg_whole(&bytes, reduction).unwrap();
            assert!(identical(&ours, &opencv_decode(&bytes, reduction)));
        }
        // The fixtures' corrupt JPEG: a valid header, then noise. libjpeg refuses it, and
        // `decode` answers OpenCV's error as before.
        let corrupt =
            std::fs::read(facepass_test_support::fixtures::faces_dir().join("corrupt.jpg"))
                .unwrap();
        let refused = libjpeg::decode_bgr(&corrupt, 1, 1, 1).expect_err("corrupt data decoded");
        assert!(!refused.is_empty(), "libjpeg's message is passed on");
        let p = Probe {
            format: Format::Jpeg,
            width: 1,
            height: 1,
            orientation: 1,
        };
        assert!(matches!(
            decode(&corrupt, &p, 1),
            Err(EmbedError::InvalidImage(_))
        ));
    }

    fn imgproc_gray(src: &Mat, dst: &mut Mat) {
        opencv::imgproc::cvt_color_def(src, dst, opencv::imgproc::COLOR_BGR2GRAY).unwrap();
    }

    #[test]
    fn jpeg_reduction_divides_the_size() {
        let bytes = encode(&gradient(400, 200), ".jpg");
        let p = probe(&bytes, 1_000_000).unwrap();
        let m = decode(&bytes, &p, 4).unwrap();
        assert_eq!((m.cols(), m.rows()), (100, 50));
    }
}
