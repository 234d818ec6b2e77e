//! `facepass embed FILE...`: one JSON object per file and line.

use std::process::Command;

use serde_json::Value;

use super::repo_root;

fn fixture(file: &str) -> String {
    repo_root()
        .join("../shared/fixtures/faces")
        .join(file)
        .display()
        .to_string()
}

fn embed(args: &[&str]) -> (Vec<Value>, String, bool) {
    let out = Command::new(env!("CARGO_BIN_EXE_facepass"))
        .current_dir(repo_root())
        .arg("embed")
        .args(args)
        .output()
        .expect("facepass runs");
    let lines = String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    (
        lines,
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.success(),
    )
}

#[test]
fn each_file_gets_one_line_with_faces_or_a_typed_error_in_order() {
    let files = [
        fixture("fr_two_people.jpg"),
        fixture("corrupt.jpg"),
        fixture("skimage_coffee.png"),
        fixture("nope.jpg"),
    ];
    let args: Vec<&str> = files.iter().map(String::as_str).collect();

    let (lines, stderr, ok) = embed(&args);

    assert!(ok, "{stderr}");
    assert_eq!(lines.len(), 4);
    for (line, file) in lines.iter().zip(&files) {
        assert_eq!(line["file"], file.as_str());
    }
    let group = &lines[0];
    assert_eq!(group["faces"].as_array().unwrap().len(), 2);
    let (w, h) = (
        group["width"].as_f64().unwrap(),
        group["height"].as_f64().unwrap(),
    );
    for face in group["faces"].as_array().unwrap() {
        let b = &face["bbox"];
        let (x, y) = (b["x"].as_f64().unwrap(), b["y"].as_f64().unwrap());
        assert!(x >= -1.0 && y >= -1.0 && x + b["width"].as_f64().unwrap() <= w + 1.0);
        assert!(y + b["height"].as_f64().unwrap() <= h + 1.0);
        assert_eq!(face["landmarks"].as_array().unwrap().len(), 5);
        let e: Vec<f64> = face["embedding"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(e.len(), 512);
        assert!((e.iter().map(|v| v * v).sum::<f64>() - 1.0).abs() < 1e-3);
        assert!(face["det_score"].as_f64().unwrap() > 0.5);
    }
    assert_eq!(lines[1]["error"]["code"], "invalid_image");
    assert_eq!(lines[2]["faces"].as_array().unwrap().len(), 0);
    assert_eq!(lines[3]["error"]["code"], "file_unreadable");
}

#[test]
fn the_second_pipeline_is_selected_by_flags_and_reports_timings() {
    let (lines, stderr, ok) = embed(&[
        "--detector",
        "yunet",
        "--recognizer",
        "mobilefacenet",
        "--timings",
        &fixture("fr_obama.jpg"),
    ]);

    assert!(ok, "{stderr}");
    let face = &lines[0]["faces"][0];
    assert_eq!(face["embedding"].as_array().unwrap().len(), 192);
    assert!(lines[0]["timings_ms"]["decode"].as_f64().unwrap() >= 0.0);
}

#[test]
fn an_unknown_model_entry_is_a_clear_startup_error() {
    let (lines, stderr, ok) = embed(&["--detector", "mtcnn", &fixture("fr_obama.jpg")]);

    assert!(!ok);
    assert!(lines.is_empty());
    assert!(
        stderr.contains("models.detector = \"mtcnn\" names no [models.detectors.mtcnn] entry"),
        "{stderr}"
    );
}
