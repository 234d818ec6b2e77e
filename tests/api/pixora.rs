//! Python clients against the live service: the migration guide's `FacePassClient` (read from
//! ../shared/seeds and run unmodified by tests/pixora/seed_client.py) with its base URL at
//! `/api/v2` and at the deprecated `/api/v1`; and the client generated from our OpenAPI
//! document (clients/python, driven by tests/pixora/generated_client.py).

use std::process::Command;

use std::path::PathBuf;

use facepass_domain::ImageKind;
use facepass_embedder_onnx::OnnxEmbedder;
use opencv::core::{Mat, Rect, Scalar, Size, Vector};
use opencv::prelude::*;
use opencv::{imgcodecs, imgproc};

use crate::support::{API_KEY, faces_dir, fixture_bytes, repo_root, spawn_app};

/// Runs a Python script of tests/pixora with `args`; its stdout, or the test fails.
async fn python(script: &str, args: Vec<String>) -> String {
    let path: PathBuf = repo_root().join("tests/pixora").join(script);
    let output = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(path)
            .args(args)
            .output()
            .expect("python3 runs")
    })
    .await
    .expect("joined");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "{script} failed\n{stdout}\n{stderr}"
    );
    stdout
}

#[tokio::test]
async fn the_migration_guides_client_works_unchanged_on_v2_and_v1() {
    let app = spawn_app(&[]).await;
    for prefix in ["/api/v2", "/api/v1"] {
        let seeds = repo_root().join("../shared/seeds");
        let stdout = python(
            "seed_client.py",
            vec![
                app.url(prefix),
                API_KEY.to_owned(),
                seeds.display().to_string(),
                faces_dir().display().to_string(),
            ],
        )
        .await;
        assert!(stdout.contains("ok "), "{prefix}: {stdout}");
    }
    app.stop().await;
}

/// The largest face box of a fixture as found by `embedder`: x, y, width, height.
fn face_box(embedder: &OnnxEmbedder, file: &str) -> Rect {
    let analysis = embedder
        .analyze_blocking(fixture_bytes(file).into(), ImageKind::Photo)
        .expect("analysed");
    let b = analysis
        .faces
        .iter()
        .map(|f| f.bbox)
        .max_by(|a, b| a.area().total_cmp(&b.area()))
        .expect("a face");
    Rect::new(b.x as i32, b.y as i32, b.width as i32, b.height as i32)
}

/// `file`'s face with `margin` x its size of context on each side, scaled so that the face
/// is `height` px tall; with the face's left edge and width in the crop.
fn face_crop(embedder: &OnnxEmbedder, file: &str, margin: f64, height: i32) -> (Mat, i32, i32) {
    let image =
        imgcodecs::imread(faces_dir().join(file), imgcodecs::IMREAD_COLOR).expect("fixture");
    let b = face_box(embedder, file);
    let (mx, my) = (
        (f64::from(b.width) * margin) as i32,
        (f64::from(b.height) * margin) as i32,
    );
    let x = (b.x - mx).max(0);
    let y = (b.y - my).max(0);
    let w = (b.width + 2 * mx).min(image.cols() - x);
    let h = (b.height + 2 * my).min(image.rows() - y);
    let crop = Mat::roi(&image, Rect::new(x, y, w, h)).expect("roi");
    let scale = f64::from(height) / f64::from(b.height);
    let mut out = Mat::default();
    imgproc::resize(
        &crop,
        &mut out,
        Size::new(0, 0),
        scale,
        scale,
        imgproc::INTER_AREA,
    )
    .expect("resized");
    let face_left = (f64::from(b.x - x) * scale) as i32;
    (out, face_left, (f64::from(b.width) * scale) as i32)
}

/// A press-style photo: Obama whole in the middle, and two faces nearly as large at the left
/// and right edges of the frame, each half cut off by it.
fn press_photo(embedder: &OnnxEmbedder) -> Vec<u8> {
    let (w, h) = (900, 600);
    let mut canvas =
        Mat::new_size_with_default(Size::new(w, h), opencv::core::CV_8UC3, Scalar::all(90.0))
            .expect("canvas");
    let mut paste = |crop: &Mat, x: i32, y: i32| {
        // The part of `crop` placed at (x, y) that falls inside the canvas.
        let (sx, sy) = ((-x).max(0), (-y).max(0));
        let (dx, dy) = (x.max(0), y.max(0));
        let cw = (crop.cols() - sx).min(w - dx);
        let ch = (crop.rows() - sy).min(h - dy);
        let src = Mat::roi(crop, Rect::new(sx, sy, cw, ch)).expect("source");
        let mut dst = Mat::roi_mut(&mut canvas, Rect::new(dx, dy, cw, ch)).expect("target");
        src.copy_to(&mut dst).expect("pasted");
    };
    let (left, left_x, left_w) = face_crop(embedder, "fr_biden.jpg", 0.3, 180);
    let (right, right_x, right_w) = face_crop(embedder, "fr_rose_leslie_img1.jpg", 0.3, 180);
    let (main, _, _) = face_crop(embedder, "fr_obama2.jpg", 0.5, 200);
    // Half of each edge face's width outside the frame.
    paste(&left, -left_x - left_w / 2, 150);
    paste(&right, w - right_x - right_w / 2, 110);
    paste(&main, (w - main.cols()) / 2, (h - main.rows()) / 2);
    let mut jpeg = Vector::<u8>::new();
    imgcodecs::imencode(".jpg", &canvas, &mut jpeg, &Vector::new()).expect("encoded");
    jpeg.to_vec()
}

#[tokio::test]
async fn the_guides_client_searches_with_a_photo_whose_background_faces_are_cut_off() {
    let dir = tempfile::tempdir().expect("temp dir");
    let settings = crate::support::settings(dir.path(), &[]);
    let config = settings.models.embedder_config().expect("models");
    let (selfie, analysis) = tokio::task::spawn_blocking(move || {
        let embedder = OnnxEmbedder::start(&config).expect("embedder");
        let selfie = press_photo(&embedder);
        let analysis = embedder
            .analyze_blocking(selfie.clone().into(), ImageKind::Selfie)
            .expect("analysed");
        (selfie, analysis)
    })
    .await
    .expect("joined");
    // The photo is the case of the issue: the edge faces are found, their boxes reach out
    // of the frame and, unclipped, are as large as the subject's.
    let largest = analysis
        .faces
        .iter()
        .map(|f| f.bbox.area())
        .fold(0.0, f32::max);
    let cut_off = analysis
        .faces
        .iter()
        .filter(|f| f.bbox.x < 0.0 || f.bbox.x + f.bbox.width > analysis.width as f32)
        .filter(|f| f.bbox.area() >= 0.6 * largest)
        .count();
    assert!(
        analysis.faces.len() >= 2 && cut_off >= 1,
        "{:?}",
        analysis.faces.iter().map(|f| f.bbox).collect::<Vec<_>>()
    );
    let path = dir.path().join("press.jpg");
    std::fs::write(&path, &selfie).expect("written");

    let app = spawn_app(&[]).await;
    let stdout = python(
        "seed_client.py",
        vec![
            app.url("/api/v2"),
            API_KEY.to_owned(),
            repo_root().join("../shared/seeds").display().to_string(),
            faces_dir().display().to_string(),
            path.display().to_string(),
        ],
    )
    .await;
    assert!(stdout.contains("ok "), "{stdout}");
    app.stop().await;
}

#[tokio::test]
async fn the_generated_client_indexes_searches_and_deletes() {
    let app = spawn_app(&[]).await;
    let stdout = python(
        "generated_client.py",
        vec![
            app.url(""),
            API_KEY.to_owned(),
            faces_dir().display().to_string(),
        ],
    )
    .await;
    assert!(stdout.contains("ok generated client"), "{stdout}");
    app.stop().await;
}
