//! Degraded DEV selfies against a session of every DEV photo, at the service's defaults
//! (the full report: `cargo run --release -p facepass-eval -- selfies`,
//! docs/benchmarks.md). Real models, the search use case, the SQLite store.

// Tests: a failed expectation is a failed test; measurements are printed.
#![allow(clippy::print_stdout, clippy::expect_used, clippy::unwrap_used)]

use facepass_eval::fixtures::default_embedder_config;
use facepass_eval::scenes::read_bgr;
use facepass_eval::selfies::{self, BLURRED_NOISY, Degradation, DevSession, Outcome, PAIR, Tally};

async fn dev_session() -> DevSession {
    let config = default_embedder_config().expect("default configuration");
    DevSession::index(&config).await.expect("DEV session")
}

/// One DEV single degraded by `kind`, searched alone.
async fn search_one(session: &DevSession, file: &str, kind: Degradation) -> Outcome {
    let (label, height) = session
        .singles
        .iter()
        .find(|(l, _)| l.file == file)
        .unwrap_or_else(|| panic!("{file} is a DEV single"));
    let selfie = kind
        .apply(&read_bgr(label).expect("fixture"), *height, 1)
        .expect("degraded");
    session
        .search(&kind.name(), &label.identities[0], &[file], vec![selfie])
        .await
        .expect("search")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn degraded_selfies_are_found_or_explained_and_never_match_strangers() {
    let session = dev_session().await;
    let kinds = Degradation::standard();
    let outcomes = session.degraded(&kinds).await.expect("searches");
    println!("{}", selfies::report(&kinds, &outcomes));

    let tally = |f: &dyn Fn(&Outcome) -> bool| Tally::of(outcomes.iter().filter(|o| f(o)));
    let clean = tally(&|o| o.kind == "clean");
    let degraded = tally(&|o| o.kind != "clean");
    let rotated_names: Vec<String> = kinds
        .iter()
        .filter(|k| k.is_rotation())
        .map(Degradation::name)
        .collect();
    let rotated = tally(&|o| rotated_names.contains(&o.kind));
    // Measured: clean 0.979; degraded 0.860 at precision 0.999, no silent miss of 510
    // searches; rotated 0.973; night 0.489 (0.396 before small dark faces were smoothed);
    // blurred 0.834 (0.783 sharpened, 0.311 as they were); dark 0.962 (0.923 unlit).
    assert!(clean.recall() >= 0.95, "clean recall {:.3}", clean.recall());
    assert!(
        degraded.recall() >= 0.85,
        "degraded recall {:.3}",
        degraded.recall()
    );
    assert!(
        degraded.precision() >= 0.98,
        "degraded precision {:.3}",
        degraded.precision()
    );
    assert!(
        rotated.recall() >= 0.90,
        "rotated recall {:.3}",
        rotated.recall()
    );
    let all = Tally::of(&outcomes);
    assert!(
        all.silent_share() <= 0.10,
        "{} silent empty answers of {}",
        all.silent,
        all.searches
    );
    // Night shots: 0.396 before small dark selfie faces were smoothed.
    let night = tally(&|o| o.kind.starts_with("night"));
    assert!(night.recall() >= 0.45, "{}", night.row("night"));
    // Blurred selfies: 0.783 with unsharp masking before they were deconvolved; dark ones
    // 0.923 before they were brightened.
    let blurred = tally(&|o| o.kind.starts_with("blurred"));
    assert!(blurred.recall() >= 0.80, "{}", blurred.row("blurred"));
    let dark = tally(&|o| o.kind.starts_with("dark"));
    assert!(dark.recall() >= 0.95, "{}", dark.row("dark"));
    // Upside down without EXIF was found 0 % of the time before the turned retries.
    let upside_down = tally(&|o| o.kind == "upside down");
    assert!(
        upside_down.recall() >= 0.90,
        "{}",
        upside_down.row("upside down")
    );
    // Blurred selfies with sensor noise (not a kind of the report): while noise read as
    // sharpness, 9 of 51 were silent empty answers and recall was 0.58; measured 0.745 and
    // none since.
    let noisy = Tally::of(&session.degraded(&[BLURRED_NOISY]).await.expect("searches"));
    let row = noisy.row(&BLURRED_NOISY.name());
    println!("{row}");
    assert_eq!(noisy.silent, 0, "{row}");
    assert!(noisy.recall() >= 0.65, "{row}");
    assert!(noisy.precision() >= 0.98, "{row}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_poor_selfies_of_a_guest_find_more_together_than_either_alone() {
    let session = dev_session().await;
    let [first, second] = PAIR;
    let [a, b, both] = session.pairs(first, second).await.expect("searches");
    let (a, b, both) = (Tally::of(&a), Tally::of(&b), Tally::of(&both));
    println!("{}", Tally::header());
    println!("{}", a.row(&first.name()));
    println!("{}", b.row(&second.name()));
    println!("{}", both.row("both"));
    assert!(both.searches >= 10, "{} guests", both.searches);
    assert!(
        both.true_positives > a.true_positives.max(b.true_positives),
        "together {} vs alone {} and {}",
        both.true_positives,
        a.true_positives,
        b.true_positives
    );
    assert!(both.precision() >= 0.98, "{}", both.row("both"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_poor_selfie_reason_is_given_for_real_degraded_photos() {
    let mut session = dev_session().await;
    let cases = [
        (Degradation::Thumbnail { face_px: 20.0 }, "too_small"),
        (Degradation::Blurred { share: 0.05 }, "too_blurry"),
        (
            Degradation::Dark {
                gain: 0.1,
                gamma: 1.5,
            },
            "too_dark",
        ),
        // Sensor noise on a blurred face is not detail (measured raw it read as sharp).
        (BLURRED_NOISY, "too_blurry"),
    ];
    for (kind, reason) in cases {
        let outcome = search_one(&session, "fr_obama.jpg", kind).await;
        assert!(
            outcome.reasons().contains(&reason),
            "{}: {:?}",
            kind.name(),
            outcome.answer
        );
        assert!(!outcome.is_silent_miss(), "{outcome:?}");
    }
    // The sharp original is not poor.
    let clean = search_one(&session, "fr_obama.jpg", Degradation::Clean).await;
    assert!(clean.reasons().is_empty(), "{:?}", clean.answer);

    // No DEV face is in profile (the largest yaw measured is 28°): the pose reason is
    // checked on the most turned DEV face against a tighter limit.
    session.policy.quality.max_pose = 15.0;
    let turned = search_one(&session, "fr_kit_harington_john2.jpeg", Degradation::Clean).await;
    assert!(
        turned.reasons().contains(&"extreme_pose"),
        "{:?}",
        turned.answer
    );
}
