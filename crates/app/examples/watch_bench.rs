//! Guest-watch benchmark: indexing throughput of a session with 100 live watches against the
//! same photos in a session with none, through the use cases the API runs (real models, the
//! configured store: SQLite in a temporary folder by default, `--pg URL` for Postgres), and
//! the watch step's own cost per photo.
//!
//!     cargo run --release -p facepass --example watch_bench -- [--rounds 5] [--pg URL] [--photos DIR]
//!
//! The 100 watches are made from the DEV selfies (cycled), through `WatchGuest` as
//! `POST /index/{session_id}/watches` makes them, so some of them match the photos. Each round
//! indexes every photo of `--photos` (default: the fixture faces) once into each session
//! (`force`, as one batch), alternating which session goes first; the medians are compared.
//! The machine is noisy (the compute floor varies by about 12 % run to run), so the watch
//! step is also timed alone: every photo's faces (analysed beforehand) written to the watched
//! session without its watches and with them (the matches decided and written in the
//! photo's transaction), alternately; no inference in either.

// A benchmark: it reports on stdout and stops on the first failure.
#![allow(clippy::print_stdout, clippy::expect_used, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use facepass::metrics::Metrics;
use facepass::settings::Settings;
use facepass::wiring::UseCases;
use facepass_domain::ports::{Embedder, VectorStore, WatchStore};
use facepass_domain::use_cases::{BatchItem, WatchMatcher, WatchRequest};
use facepass_domain::{Actor, GuestRef, PhotoId, PhotoKey, SessionId, Threshold};
use facepass_embedder_onnx::OnnxEmbedder;
use facepass_photo_source_fs::FsPhotoSource;
use facepass_test_support::fixtures::{faces_dir, labels, models_dir};

const WATCHES: usize = 100;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[tokio::main]
async fn main() {
    let rounds: usize = arg("--rounds").map_or(5, |r| r.parse().unwrap());
    let photos_dir = arg("--photos").map_or_else(faces_dir, Into::into);
    let dir = tempfile::tempdir().unwrap();
    let mut env = vec![
        (
            "FACEPASS__MODELS__DIR".to_owned(),
            models_dir().display().to_string(),
        ),
        (
            "FACEPASS__STORAGE__URL".to_owned(),
            dir.path().join("bench.db").display().to_string(),
        ),
        ("FACEPASS__AUTH__API_KEYS".to_owned(), "bench".to_owned()),
    ];
    if let Some(url) = arg("--pg") {
        env.push(("FACEPASS__STORAGE__BACKEND".into(), "postgres".into()));
        env.push(("FACEPASS__STORAGE__URL".into(), url));
    }
    let mut settings = Settings::load_from(None, None, env).unwrap();
    settings.indexing.batch_concurrency = settings
        .indexing
        .batch_concurrency
        .clamp(1, settings.models.queue.max(1));
    let embedder =
        Arc::new(OnnxEmbedder::start(&settings.models.embedder_config().unwrap()).unwrap());
    let store = Arc::new(
        facepass::adapters::open_store(&settings, embedder.space())
            .await
            .unwrap(),
    );
    let photos = Arc::new(FsPhotoSource::new(&photos_dir, settings.photos.max_bytes).unwrap());
    let analyser = embedder.clone();
    let use_cases = UseCases::new(
        embedder,
        store.clone(),
        photos,
        store.clone(),
        &settings,
        Arc::new(Metrics::new().unwrap()),
        Arc::default(),
    )
    .unwrap();

    let (none, watched) = (
        SessionId::parse("bench-none").unwrap(),
        SessionId::parse("bench-watched").unwrap(),
    );
    for session in [&none, &watched] {
        store
            .delete_session(session, &Actor::server())
            .await
            .unwrap();
    }
    // 100 watches from the DEV selfies, cycled (a selfie the rules refuse is skipped).
    let selfies: Vec<Vec<u8>> = labels()
        .into_iter()
        .filter(|l| l.kind == "single")
        .map(|l| std::fs::read(faces_dir().join(&l.file)).unwrap())
        .collect();
    let mut made = 0;
    for (i, selfie) in selfies.iter().cycle().enumerate().take(WATCHES * 4) {
        if made == WATCHES {
            break;
        }
        let request = WatchRequest {
            session: watched.clone(),
            selfies: vec![selfie.clone().into()],
            face_index: None,
            guest_ref: GuestRef::parse(format!("guest-{i}")).unwrap(),
            threshold: Threshold::DEFAULT,
            expires_at: SystemTime::now() + Duration::from_secs(24 * 3600),
            consent: true,
        };
        if use_cases
            .watch
            .create(request, &Actor::key("bench"), SystemTime::now())
            .await
            .is_ok()
        {
            made += 1;
        }
    }
    assert_eq!(made, WATCHES, "the DEV selfies give {WATCHES} watches");
    let live = store
        .live_watch_count(&watched, SystemTime::now())
        .await
        .unwrap();

    let items: Vec<BatchItem> = std::fs::read_dir(&photos_dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|f| {
            [".jpg", ".jpeg", ".png", ".webp"]
                .iter()
                .any(|x| f.ends_with(x))
        })
        .filter(|f| !f.contains("corrupt"))
        .map(|f| BatchItem {
            photo: PhotoId::parse(facepass::cli::index_dir::photo_id_for(&f)).unwrap(),
            key: PhotoKey::parse(f).unwrap(),
        })
        .collect();
    let count = items.len();
    println!(
        "{count} photos per run, {live} live watches, {rounds} rounds (+1 warm-up), {}",
        if arg("--pg").is_some() {
            "Postgres"
        } else {
            "SQLite"
        }
    );
    let mut rates = (Vec::new(), Vec::new());
    for round in 0..=rounds {
        let order = if round % 2 == 0 {
            [&none, &watched]
        } else {
            [&watched, &none]
        };
        for session in order {
            let start = Instant::now();
            let report = use_cases
                .index_batch
                .execute(session, items.clone(), true, |_, _, _| {})
                .await;
            let seconds = start.elapsed().as_secs_f64();
            assert_eq!(report.failed, 0, "{:?}", report.outcomes.first());
            let rate = count as f64 / seconds;
            println!("round {round} {session}: {rate:.2} photos/s");
            if round > 0 {
                if session == &none {
                    rates.0.push(rate);
                } else {
                    rates.1.push(rate);
                }
            }
        }
    }
    let (a, b) = (median(rates.0), median(rates.1));
    println!(
        "median photos/s: no watches {a:.2}, {live} watches {b:.2}: {:+.2} %",
        (b / a - 1.0) * 100.0
    );

    // The watch step alone, as indexing runs it: each photo's faces (analysed beforehand)
    // written to the watched session, then matched; the write and the step timed apart.
    let mut analysed = Vec::with_capacity(count);
    for item in &items {
        let bytes = std::fs::read(photos_dir.join(item.key.as_str())).unwrap();
        let analysis = analyser
            .analyze(bytes.into(), facepass_domain::ImageKind::Photo)
            .await
            .unwrap();
        analysed.push((item.photo.clone(), analysis.faces));
    }
    let matcher = WatchMatcher::new(store.clone(), &use_cases.search);
    let (mut plain, mut watched_write) = (Duration::ZERO, Duration::ZERO);
    let passes = 3;
    for _ in 0..passes {
        for (photo, faces) in &analysed {
            let start = Instant::now();
            store
                .replace_photo(&watched, photo, faces.clone())
                .await
                .unwrap();
            let written = Instant::now();
            store
                .replace_photo_watched(&watched, photo, faces.clone(), matcher.rules())
                .await
                .unwrap();
            plain += written - start;
            watched_write += written.elapsed();
        }
    }
    let per = |d: Duration| d.as_secs_f64() * 1e3 / (count * passes) as f64;
    let step = per(watched_write) - per(plain);
    let photo_ms = 1e3 / a;
    println!(
        "watch step: a photo's write with its matches {:.3} ms, without {:.3} ms: {step:.3} ms = {:.2} % of the {photo_ms:.1} ms a photo takes to index",
        per(watched_write),
        per(plain),
        step / photo_ms * 100.0
    );
}
