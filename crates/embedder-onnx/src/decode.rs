//! Image decoding: header probe (format, size, EXIF orientation) before any pixel is decoded,
//! then OpenCV decoding to 8-bit BGR, optionally at a reduced scale, orientation applied.

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

    #[test]
    fn jpeg_reduction_divides_the_size() {
        let bytes = encode(&gradient(400, 200), ".jpg");
        let p = probe(&bytes, 1_000_000).unwrap();
        let m = decode(&bytes, &p, 4).unwrap();
        assert_eq!((m.cols(), m.rows()), (100, 50));
    }
}
