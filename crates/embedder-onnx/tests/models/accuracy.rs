//! Detection and verification accuracy of the primary pipeline on the labelled DEV photos.

use std::collections::BTreeMap;

use facepass_domain::ports::EmbedError;

use facepass_embedder_onnx::OnnxEmbedder;

use crate::support::{analyze, config, dot, labels, operating_cosine, read_face};

#[test]
fn default_pipeline_finds_exactly_the_expected_faces_and_separates_identities() {
    check_accuracy(false);
}

#[test]
fn reference_mode_has_the_same_accuracy() {
    check_accuracy(true);
}

fn check_accuracy(reference_mode: bool) {
    let mut cfg = config("det_2.5g", "fr_feature");
    cfg.reference_mode = reference_mode;
    let embedder = OnnxEmbedder::start(&cfg).expect("embedder starts");
    let threshold = operating_cosine("fr_feature");
    let mut singles: Vec<(String, Vec<f32>)> = Vec::new();
    let mut groups: Vec<(Vec<String>, Vec<Vec<f32>>)> = Vec::new();
    let mut problems = Vec::new();

    for label in labels() {
        let result = analyze(&embedder, read_face(&label.file));
        match label.kind.as_str() {
            "corrupt" => {
                if !matches!(
                    result,
                    Err(EmbedError::InvalidImage(_) | EmbedError::TruncatedImage(_))
                ) {
                    problems.push(format!(
                        "{}: expected invalid_image, got {result:?}",
                        label.file
                    ));
                }
            }
            "noface" => match result {
                Ok(a) if a.faces.is_empty() => {}
                other => problems.push(format!("{}: expected no face, got {other:?}", label.file)),
            },
            kind => {
                let analysis = result.unwrap_or_else(|e| panic!("{}: {e}", label.file));
                if analysis.faces.is_empty() {
                    problems.push(format!("{}: no face found in a {kind} photo", label.file));
                    continue;
                }
                if kind == "single" {
                    let largest = analysis
                        .faces
                        .iter()
                        .max_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area()))
                        .expect("non-empty");
                    singles.push((
                        label.identities[0].clone(),
                        largest.embedding.as_slice().to_vec(),
                    ));
                } else {
                    let embeddings = analysis
                        .faces
                        .iter()
                        .map(|f| f.embedding.as_slice().to_vec())
                        .collect();
                    groups.push((label.identities.clone(), embeddings));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "detection problems:\n{}",
        problems.join("\n")
    );

    let (mut same, mut diff) = (Vec::new(), Vec::new());
    for (i, (id_a, a)) in singles.iter().enumerate() {
        for (id_b, b) in &singles[i + 1..] {
            if id_a == id_b {
                same.push(dot(a, b))
            } else {
                diff.push(dot(a, b))
            }
        }
    }
    let tpr = same.iter().filter(|&&c| c >= threshold).count() as f64 / same.len() as f64;
    let tnr = diff.iter().filter(|&&c| c < threshold).count() as f64 / diff.len() as f64;
    let balanced = (tpr + tnr) / 2.0;
    let min_same = same.iter().copied().fold(f32::INFINITY, f32::min);
    let max_diff = diff.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    println!(
        "det_2.5g+fr_feature (reference mode: {reference_mode}) on DEV: {} single photos; same pairs n={} min={min_same:.3}; \
         different pairs n={} max={max_diff:.3}; at threshold {threshold}: TPR={tpr:.4} TNR={tnr:.4} \
         balanced accuracy={balanced:.4}",
        singles.len(),
        same.len(),
        diff.len()
    );
    assert_eq!(singles.len(), 51);
    assert!(balanced >= 0.99, "balanced accuracy {balanced:.4} < 0.99");

    // Every labelled identity of a group photo is found among its faces.
    let mut by_identity: BTreeMap<&str, Vec<&Vec<f32>>> = BTreeMap::new();
    for (id, e) in &singles {
        by_identity.entry(id.as_str()).or_default().push(e);
    }
    let (mut found, mut total) = (0, 0);
    for (identities, faces) in &groups {
        for id in identities {
            total += 1;
            let best = by_identity[id.as_str()]
                .iter()
                .flat_map(|q| faces.iter().map(move |f| dot(q, f)))
                .fold(f32::NEG_INFINITY, f32::max);
            found += usize::from(best >= threshold);
        }
    }
    println!("group photos: {found}/{total} labelled identities found at {threshold}");
    assert_eq!(found, total);
}
