//! Equivalence with the Python reference pipeline (`verify.py`): for every face both find
//! (box IoU >= 0.5), the embeddings agree to cosine >= 0.99. The reference is the committed
//! golden file written by `scripts/gen_golden.py`.

use facepass_domain::BoundingBox;
use serde_json::Value;

use facepass_embedder_onnx::OnnxEmbedder;

use crate::support::{analyze, config, dot, read_face};

const GOLDEN: &str = include_str!("../golden/reference.json");

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number") as f32)
        .collect()
}

/// Compares against the reference; every matched face must reach `min_cosine`.
fn check_pipeline(detector: &str, recognizer: &str, reduced_decoding: bool, min_cosine: f32) {
    let golden: Value = serde_json::from_str(GOLDEN).expect("golden file parses");
    let pipeline = golden["pipelines"]
        .as_array()
        .expect("pipelines")
        .iter()
        .find(|p| p["detector"] == detector && p["recognizer"] == recognizer)
        .expect("pipeline in golden file");
    let mut cfg = config(detector, recognizer);
    cfg.reduced_decoding = reduced_decoding;
    let embedder = OnnxEmbedder::start(&cfg).expect("embedder starts");
    let (mut reference_faces, mut matched, mut ours_total) = (0, 0, 0);
    let (mut min_cos, mut sum_cos) = (f32::INFINITY, 0.0f64);
    let mut failures = Vec::new();

    for (file, faces) in pipeline["files"].as_object().expect("files") {
        let ours = analyze(&embedder, read_face(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        ours_total += ours.faces.len();
        for reference in faces.as_array().expect("faces") {
            reference_faces += 1;
            let b = floats(&reference["bbox"]);
            let ref_box = BoundingBox::from_corners(b[0], b[1], b[2], b[3]);
            let Some((iou, face)) = ours
                .faces
                .iter()
                .map(|f| (f.bbox.iou(&ref_box), f))
                .max_by(|a, b| a.0.total_cmp(&b.0))
            else {
                continue;
            };
            if iou < 0.5 {
                continue;
            }
            matched += 1;
            let cos = dot(face.embedding.as_slice(), &floats(&reference["embedding"]));
            min_cos = min_cos.min(cos);
            sum_cos += f64::from(cos);
            if cos < min_cosine {
                failures.push(format!(
                    "{file}: face at {ref_box:?} cosine {cos:.4} (IoU {iou:.2})"
                ));
            }
        }
    }
    println!(
        "{detector}+{recognizer} (reduced decoding: {reduced_decoding}) vs verify.py: reference faces {reference_faces}, FacePass faces {ours_total}, \
         matched {matched}; cosine min {min_cos:.4} mean {:.4}",
        sum_cos / matched as f64
    );
    assert!(
        failures.is_empty(),
        "embeddings diverge from the reference:\n{}",
        failures.join("\n")
    );
    // Not a vacuous comparison: nearly every reference face is found by FacePass too.
    assert!(
        matched as f64 >= 0.95 * reference_faces as f64,
        "only {matched}/{reference_faces} faces matched"
    );
}

#[test]
fn scrfd_and_fr_feature_match_the_reference_pipeline() {
    check_pipeline("det_2.5g", "fr_feature", false, 0.99);
}

#[test]
fn yunet_and_mobilefacenet_match_the_reference_pipeline() {
    check_pipeline("yunet", "mobilefacenet", false, 0.99);
}

/// The opt-in fast path sees anti-aliased detector input; it stays close to the reference.
#[test]
fn reduced_decoding_stays_close_to_the_reference_pipeline() {
    check_pipeline("det_2.5g", "fr_feature", true, 0.95);
}
