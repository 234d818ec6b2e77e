//! Per-photo time of the face pipeline on a large JPEG, split into decode / detect /
//! align+embed, for the reference mode and the default pipeline.
//!
//!     cargo run --release -p facepass-embedder-onnx --example stage_timings -- [PHOTO] [WxH] [RUNS]
//!
//! Defaults: the fixture group photo `fr_two_people.jpg` upscaled to 6000x4000 (24 MP,
//! JPEG quality 92), 10 runs after 2 warm-up runs, one worker with one ONNX Runtime thread.

// An example tool: it reports on stdout and stops on the first failure.
#![allow(clippy::print_stdout, clippy::expect_used, clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::Duration;

use facepass_domain::{ImageKind, StageTimings};
use facepass_embedder_onnx::config::DEFAULT_FINE_DETECTOR;
use facepass_embedder_onnx::{Catalogue, OnnxEmbedder};
use opencv::core::{Mat, Size, Vector};
use opencv::prelude::*;
use opencv::{imgcodecs, imgproc};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures");
    let photo = args
        .first()
        .map(PathBuf::from)
        .unwrap_or_else(|| fixtures.join("faces/fr_two_people.jpg"));
    let (w, h) = args
        .get(1)
        .and_then(|s| s.split_once('x'))
        .map(|(w, h)| (w.parse().unwrap_or(6000), h.parse().unwrap_or(4000)))
        .unwrap_or((6000, 4000));
    let runs: u32 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10);

    let source = imgcodecs::imread(
        photo.to_str().ok_or("non-UTF-8 path")?,
        imgcodecs::IMREAD_COLOR,
    )?;
    let mut big = Mat::default();
    imgproc::resize(
        &source,
        &mut big,
        Size::new(w, h),
        0.0,
        0.0,
        imgproc::INTER_CUBIC,
    )?;
    let mut jpeg = Vector::<u8>::new();
    imgcodecs::imencode(
        ".jpg",
        &big,
        &mut jpeg,
        &Vector::from_slice(&[imgcodecs::IMWRITE_JPEG_QUALITY, 92]),
    )?;
    let jpeg = jpeg.to_vec();
    println!(
        "{} upscaled to {w}x{h}: {:.1} MB JPEG, {runs} runs",
        photo.display(),
        jpeg.len() as f64 / 1e6
    );

    for reference_mode in [true, false] {
        let mut config = Catalogue::repository_defaults()?.embedder(
            &fixtures.join("models"),
            "det_2.5g",
            "fr_feature",
            Some(DEFAULT_FINE_DETECTOR),
        )?;
        config.reference_mode = reference_mode;
        config.workers = 1;
        let embedder = OnnxEmbedder::start(&config)?;
        for _ in 0..2 {
            embedder.analyze_blocking(jpeg.clone().into(), ImageKind::Photo)?;
        }
        let mut total = StageTimings::default();
        let mut faces = 0;
        for _ in 0..runs {
            let a = embedder.analyze_blocking(jpeg.clone().into(), ImageKind::Photo)?;
            faces = a.faces.len();
            total.decode += a.timings.decode;
            total.detect += a.timings.detect;
            total.embed += a.timings.embed;
        }
        let ms = |d: Duration| d.as_secs_f64() * 1e3 / f64::from(runs);
        println!(
            "reference_mode={reference_mode:<5} faces={faces} decode {:7.1} ms | detect {:6.1} ms | align+embed {:6.1} ms | total {:7.1} ms",
            ms(total.decode),
            ms(total.detect),
            ms(total.embed),
            ms(total.decode + total.detect + total.embed)
        );
    }
    Ok(())
}
