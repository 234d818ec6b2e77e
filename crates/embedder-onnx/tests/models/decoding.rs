//! Decoding edge cases on real photos: EXIF orientation, reduced decoding of very large
//! JPEGs, the pixel limit, tight crops.

use facepass_domain::ImageKind;
use facepass_domain::ports::EmbedError;
use facepass_embedder_onnx::OnnxEmbedder;
use opencv::core::{self, Mat, Size, Vector};
use opencv::prelude::*;
use opencv::{imgcodecs, imgproc};

use crate::support::{analyze, config, dot, embedder, read_face};

/// Inserts an EXIF APP1 segment carrying only `orientation` right after the JPEG SOI marker.
fn with_exif_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"II*\0");
    tiff.extend_from_slice(&8u32.to_le_bytes()); // first IFD offset
    tiff.extend_from_slice(&1u16.to_le_bytes()); // one entry
    tiff.extend_from_slice(&0x0112u16.to_le_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_le_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_le_bytes()); // count
    tiff.extend_from_slice(&orientation.to_le_bytes());
    tiff.extend_from_slice(&[0, 0]);
    tiff.extend_from_slice(&0u32.to_le_bytes()); // no next IFD
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn encode_jpeg(mat: &Mat, quality: i32) -> Vec<u8> {
    let mut buf = Vector::<u8>::new();
    let params = Vector::<i32>::from_slice(&[imgcodecs::IMWRITE_JPEG_QUALITY, quality]);
    imgcodecs::imencode(".jpg", mat, &mut buf, &params).expect("encode");
    buf.to_vec()
}

fn decode(bytes: &[u8]) -> Mat {
    imgcodecs::imdecode(&bytes, imgcodecs::IMREAD_COLOR).expect("decode")
}

#[test]
fn exif_orientation_is_applied_and_coordinates_follow_it() {
    let embedder = embedder("det_2.5g", "fr_feature");
    let jpeg = read_face("fr_obama.jpg");
    let upright = analyze(&embedder, jpeg.clone()).unwrap();
    // Orientation 6: the stored pixels must be turned 90 degrees clockwise for display.
    // Store the upright photo turned counter-clockwise, then tag it 6.
    let mut ccw = Mat::default();
    core::rotate(&decode(&jpeg), &mut ccw, core::ROTATE_90_COUNTERCLOCKWISE).unwrap();
    let tagged = with_exif_orientation(&encode_jpeg(&ccw, 97), 6);

    let rotated = analyze(&embedder, tagged).unwrap();

    assert_eq!(
        (rotated.width, rotated.height),
        (upright.width, upright.height)
    );
    assert_eq!(rotated.faces.len(), upright.faces.len());
    let (a, b) = (&upright.faces[0], &rotated.faces[0]);
    assert!(
        a.bbox.iou(&b.bbox) > 0.8,
        "boxes {:?} vs {:?}",
        a.bbox,
        b.bbox
    );
    let cos = dot(a.embedding.as_slice(), b.embedding.as_slice());
    assert!(cos > 0.95, "cosine {cos}");
}

#[test]
fn a_huge_jpeg_is_decoded_reduced_without_losing_its_faces() {
    // A group photo upscaled to 6000x4000 (24 MP).
    let group = decode(&read_face("fr_two_people.jpg"));
    let mut big = Mat::default();
    imgproc::resize(
        &group,
        &mut big,
        Size::new(6000, 4000),
        0.0,
        0.0,
        imgproc::INTER_CUBIC,
    )
    .unwrap();
    let bytes = encode_jpeg(&big, 92);
    // The one pass isolates decoding: the same detector as the reference on a reduced
    // decode. The default two-scale mode finds the faces with YuNet instead (other boxes and
    // landmarks), so it is held to the same faces and a looser cosine.
    let mut one_pass_config = config("det_2.5g", "fr_feature");
    one_pass_config.min_face_px = 0;
    let one_pass = OnnxEmbedder::start(&one_pass_config).unwrap();
    let reduced = embedder("det_2.5g", "fr_feature");
    let mut reference_config = config("det_2.5g", "fr_feature");
    reference_config.reference_mode = true;
    let full = OnnxEmbedder::start(&reference_config).unwrap();

    let fast = analyze(&reduced, bytes.clone()).unwrap();
    let slow = analyze(&full, bytes.clone()).unwrap();
    let one = analyze(&one_pass, bytes).unwrap();

    assert_eq!((fast.width, fast.height), (6000, 4000));
    assert_eq!(slow.faces.len(), 2);
    for (run, min_iou, min_cos) in [(&one, 0.9, 0.98), (&fast, 0.75, 0.9)] {
        assert_eq!(run.faces.len(), 2);
        for f in &run.faces {
            let g = slow
                .faces
                .iter()
                .max_by(|a, b| a.bbox.iou(&f.bbox).total_cmp(&b.bbox.iou(&f.bbox)))
                .unwrap();
            let iou = f.bbox.iou(&g.bbox);
            let cos = dot(f.embedding.as_slice(), g.embedding.as_slice());
            println!("reduced vs full decoding: IoU {iou:.3}, cosine {cos:.4}");
            assert!(iou > min_iou, "reduced vs full decoding IoU {iou}");
            assert!(cos > min_cos, "reduced vs full decoding cosine {cos}");
        }
    }
    println!(
        "6000x4000 JPEG: reduced decode {:?} detect {:?} embed {:?}; full decode {:?} detect {:?} embed {:?}",
        fast.timings.decode,
        fast.timings.detect,
        fast.timings.embed,
        slow.timings.decode,
        slow.timings.detect,
        slow.timings.embed
    );
}

#[test]
fn images_over_the_pixel_limit_are_refused_before_decoding() {
    let mut cfg = config("det_2.5g", "fr_feature");
    cfg.max_pixels = 100_000;
    let embedder = OnnxEmbedder::start(&cfg).unwrap();

    let err = analyze(&embedder, read_face("deepface_img49.jpg")).unwrap_err();

    assert!(
        matches!(
            err,
            EmbedError::ImageTooLarge {
                width: 4352,
                height: 2903,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn a_face_filling_the_frame_is_found_by_padding() {
    let embedder = embedder("det_2.5g", "fr_feature");

    let analysis = analyze(&embedder, read_face("insightface_Tom_Hanks_54745.png")).unwrap();

    assert_eq!(analysis.faces.len(), 1);
    assert_eq!((analysis.width, analysis.height), (112, 112));
}

#[test]
fn non_image_bytes_are_invalid_images() {
    let embedder = embedder("det_2.5g", "fr_feature");
    for bytes in [
        b"".to_vec(),
        b"GIF89a not supported".to_vec(),
        b"%PDF-1.4".to_vec(),
        read_face("corrupt.jpg"),
    ] {
        let err = analyze(&embedder, bytes).unwrap_err();
        // corrupt.jpg is a JPEG header followed by noise: no image data, as if cut short.
        assert!(
            matches!(
                err,
                EmbedError::InvalidImage(_) | EmbedError::TruncatedImage(_)
            ),
            "{err:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_answers_overloaded_instead_of_waiting() {
    use facepass_domain::ports::Embedder;
    let mut cfg = config("det_2.5g", "fr_feature");
    cfg.workers = 1;
    cfg.queue = 1;
    let embedder = std::sync::Arc::new(OnnxEmbedder::start(&cfg).unwrap());
    let photo: facepass_domain::ImageBytes = read_face("deepface_img49.jpg").into();

    // One image runs, one waits in the queue; the others must be refused at once.
    let calls: Vec<_> = (0..6)
        .map(|_| {
            let (embedder, photo) = (embedder.clone(), photo.clone());
            tokio::spawn(async move { embedder.analyze(photo, ImageKind::Photo).await })
        })
        .collect();
    let mut results = Vec::new();
    for call in calls {
        results.push(call.await.unwrap());
    }

    let overloaded = results
        .iter()
        .filter(|r| matches!(r, Err(EmbedError::Overloaded)))
        .count();
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert!(overloaded >= 1, "{results:?}");
    assert_eq!(ok + overloaded, 6, "nothing else may fail");
}

#[test]
fn yunet_runs_at_any_size_and_relaxing_its_declared_shape_changes_nothing_at_640() {
    // Reference mode: square 640 input, where the declared and relaxed models must agree.
    let mut declared = config("yunet", "fr_feature");
    declared.reference_mode = true;
    declared.detector.dynamic_input = false;
    let mut relaxed = declared.clone();
    relaxed.detector.dynamic_input = true;
    let photo = read_face("fr_two_people.jpg");
    let run = |cfg: &facepass_embedder_onnx::EmbedderConfig| {
        OnnxEmbedder::start(cfg)
            .expect("embedder")
            .analyze_blocking(photo.clone().into(), ImageKind::Photo)
            .expect("analysis")
    };
    let (a, b) = (run(&declared), run(&relaxed));
    assert_eq!(a.faces.len(), 2);
    assert_eq!(
        a.faces.iter().map(|f| f.bbox).collect::<Vec<_>>(),
        b.faces.iter().map(|f| f.bbox).collect::<Vec<_>>()
    );
    // The default pipeline runs YuNet at the photo's aspect ratio (640x448 here, tiles of
    // the high-resolution pass): the same two faces.
    let mut aspect = config("yunet", "fr_feature");
    aspect.min_face_px = 0;
    assert_eq!(run(&aspect).faces.len(), 2);
}
