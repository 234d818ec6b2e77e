//! The compute floor of a set of photos: ONNX Runtime alone on exactly the detector and
//! recognizer calls the default pipeline makes for them (see `facepass_embedder_onnx::floor`),
//! printed as one JSON line. `cargo xtask bench` runs it beside FacePass and the anchor.
//!
//!     cargo run --release -p facepass-embedder-onnx --example compute_floor -- PHOTO...
//!
//! Models from `FACEPASS_MODELS` (default `../shared/fixtures/models`), det_2.5g + fr_feature
//! with the embedder's defaults (workers, threads, the small-face pass of `min_face_px`).

// An example tool: it reports on stdout and stops on the first failure.
#![allow(clippy::print_stdout, clippy::expect_used, clippy::unwrap_used)]

use std::path::PathBuf;

use facepass_embedder_onnx::config::DEFAULT_FINE_DETECTOR;
use facepass_embedder_onnx::{Catalogue, floor};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let models = std::env::var_os("FACEPASS_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/fixtures/models"));
    let config = Catalogue::repository_defaults()?.embedder(
        &models,
        "det_2.5g",
        "fr_feature",
        Some(DEFAULT_FINE_DETECTOR),
    )?;
    let photos = std::env::args()
        .skip(1)
        .map(std::fs::read)
        .collect::<Result<Vec<_>, _>>()?;
    let floor = floor::measure(&config, &photos)?;
    println!(
        "{{\"photos\": {}, \"faces\": {}, \"seconds\": {:.4}, \"photos_per_s\": {:.3}, \"workers\": {}}}",
        floor.photos,
        floor.faces,
        floor.elapsed.as_secs_f64(),
        floor.photos_per_second(),
        floor.workers
    );
    Ok(())
}
