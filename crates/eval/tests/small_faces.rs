//! The small-faces evaluation at the service's defaults on a reduced generated set (the full
//! report: `cargo run --release -p facepass-eval -- small-faces`, docs/benchmarks.md).
//! Real models, real fixture faces pasted into 24 MP scenes, JPEG-encoded.

// Tests: a failed expectation is a failed test; measurements are printed.
#![allow(clippy::print_stdout, clippy::expect_used, clippy::unwrap_used)]

use facepass_embedder_onnx::OnnxEmbedder;
use facepass_eval::fixtures::{analyse_singles, default_embedder_config};
use facepass_eval::scenes::{self, BUCKETS};
use facepass_eval::small_faces::{Gallery, LARGE_FACE_PX, Report, evaluate};

#[test]
fn defaults_find_faces_of_48_px_and_up_in_24_mp_scenes_without_false_faces() {
    let defaults = default_embedder_config().expect("default configuration");
    assert!(
        defaults.min_face_px > 0,
        "small-face search is on by default"
    );
    let mut one_pass = defaults.clone();
    one_pass.min_face_px = 0;
    let embedder = OnnxEmbedder::start(&one_pass).expect("embedder");
    let singles = analyse_singles(&embedder).expect("DEV singles");
    drop(embedder);
    let sources = scenes::source_faces(&singles).expect("source faces");
    assert!(sources.len() >= 40, "{} source faces", sources.len());
    let gallery = Gallery::build(&singles);
    let mut photos = scenes::scenes(&sources, 6, 12, 7).expect("scenes");
    photos.extend(scenes::negatives().expect("negatives"));

    let report = evaluate(&defaults, &photos, &gallery).expect("evaluation");
    println!("{}\n{}", Report::header(), report.row("defaults"));
    let pasted: usize = report.per_bucket.iter().map(|b| b.1).sum();
    assert!(pasted >= 66, "only {pasted} faces placed");
    // The targets: >= 0.95 from 48 px, <= 0.05 false faces per photo, >= 90 % of
    // the faces found from 48 px recognisable.
    assert!(
        report.recall_from(LARGE_FACE_PX) >= 0.95,
        "recall from 48 px {:.3}",
        report.recall_from(LARGE_FACE_PX)
    );
    assert!(
        report.false_per_photo() <= 0.05,
        "{} false faces",
        report.false_faces
    );
    assert!(
        report.recognisable_share() >= 0.90,
        "recognisable {:?}",
        report.recognisable
    );
    // 32-48 px: the target, 0.80 (0.88 on the full set, 0.92 here: the tiles' candidates
    // confirmed at full resolution).
    let small = BUCKETS.iter().position(|&b| b == 32.0).expect("bucket");
    assert!(
        report.recall(small) >= 0.8,
        "32-48 px recall {:.2}",
        report.recall(small)
    );

    // The one pass (InsightFace's behaviour) misses most of them: the set is not trivial.
    let baseline = evaluate(&one_pass, &photos, &gallery).expect("evaluation");
    assert!(
        baseline.recall_from(LARGE_FACE_PX) < 0.6,
        "one pass from 48 px {:.3}",
        baseline.recall_from(LARGE_FACE_PX)
    );
}
