//! Acceptance: the DEV fixtures indexed as one session through the API; each identity's
//! single photos used as selfies at the default threshold. Photo-level precision and recall
//! over all queries (the selfie's own photo excluded) must reach 0.98 and 0.95.

use std::collections::{BTreeMap, BTreeSet};

use crate::support::{fixture_bytes, labels, photo_id, spawn_app};

#[tokio::test]
async fn dev_selfie_search_has_the_precision_and_recall_of_the_operating_point() {
    let app = spawn_app(&[]).await;
    let session = "dev-fixtures";
    let rows = labels();
    let photos: Vec<(String, String)> = rows
        .iter()
        .map(|label| (photo_id(&label.file), label.file.clone()))
        .collect();
    let report = app.batch(session, &photos, false).await.expect(200);
    // Everything but corrupt.jpg is indexed (no-face images with zero faces).
    assert_eq!(report["failed"], 1, "{report:#}");
    assert_eq!(report["errors"][0]["code"], "invalid_image");

    // Which photos show each identity.
    let mut shows: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for label in &rows {
        for identity in &label.identities {
            shows
                .entry(identity)
                .or_default()
                .insert(photo_id(&label.file));
        }
    }

    let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
    let mut failures = Vec::new();
    for label in &rows {
        let (file, identities) = (&label.file, &label.identities);
        if label.kind != "single" {
            continue;
        }
        let own = photo_id(file);
        let expected: BTreeSet<String> = shows[identities[0].as_str()]
            .iter()
            .filter(|p| **p != own)
            .cloned()
            .collect();
        let answer = app
            .search(session, fixture_bytes(file), &[("limit", "1000")])
            .await
            .expect(200);
        let found: BTreeSet<String> = answer["matches"]
            .as_array()
            .expect("matches")
            .iter()
            .map(|m| m["photo_id"].as_str().unwrap_or_default().to_owned())
            .filter(|p| *p != own)
            .collect();
        let hits = found.intersection(&expected).count();
        tp += hits;
        fp += found.len() - hits;
        fn_ += expected.len() - hits;
        if found != expected {
            failures.push(format!(
                "{file}: missed {:?}, wrong {:?}",
                expected.difference(&found).collect::<Vec<_>>(),
                found.difference(&expected).collect::<Vec<_>>()
            ));
        }
    }
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / (tp + fn_).max(1) as f64;
    println!(
        "DEV selfie search at threshold 0.7: tp {tp}, fp {fp}, fn {fn_}, precision {precision:.4}, recall {recall:.4}"
    );
    for failure in &failures {
        println!("  {failure}");
    }
    assert!(tp > 100, "enough true matches to mean something: {tp}");
    assert!(precision >= 0.98, "precision {precision:.4}");
    assert!(recall >= 0.95, "recall {recall:.4}");
    app.stop().await;
}
