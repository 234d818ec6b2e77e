//! Evaluation reports over sets generated from the fixtures.
//!
//!     cargo run --release -p facepass-eval -- small-faces [--scenes 24] [--faces 12]
//!         [--detectors det_2.5g,det_500m,yunet] [--min-face-px 0,32,40,48,64]
//!
//!     cargo run --release -p facepass-eval -- selfies [--verbose] [--threshold 0.7]
//!
//!     cargo run --release -p facepass-eval -- scale [--sizes 1k,5k,all] [--held-out] [--tail]
//!
//!     cargo run --release -p facepass-eval -- watches [--sizes 1k,5k]
//!
//! `--config FILE` (before the command) reads a TOML file over `config/default.toml`, as
//! `facepass --config` does: the "defaults" of the reports are then that configuration.
//!
//! `small-faces` prints, for the service's default configuration and then for every
//! detector x `min_face_px` pair, recall per face-height bucket, false faces per photo, the
//! share of found faces (48 px and up) still recognisable, and the cost per photo with all
//! workers busy (24 MP JPEGs). `selfies` prints, per kind of degraded selfie, recall,
//! precision, silent misses, warnings, refusals and latency of the search at the defaults,
//! and what two poor selfies of a guest find together against each alone (`--verbose`: one
//! line per search with the query face's quality). `scale` indexes LFW folds 1–5 as sessions
//! of ~1k, ~5k and all faces and searches each person with two photos or more by their first:
//! recall, precision, wrong photos per search and the share of guests shown a stranger, for
//! every guest and for those with five photos or more (`--held-out`: the selfies' photos left
//! out of the session; `--tail`: the recognizer's impostor tail on the central faces).
//! `watches` gives every guest of those sessions a watch (their first photo as the selfie, not
//! indexed) before the photos arrive, indexes the photos in a shuffled order matching each
//! against the watches, and compares each watch's matches with the final search's.

// A report tool: it prints its tables on stdout and stops on the first failure.
#![allow(clippy::print_stdout, clippy::expect_used, clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use clap::{Parser, Subcommand};
use facepass_domain::Threshold;
use facepass_domain::ports::Embedder;
use facepass_embedder_onnx::{Catalogue, EmbedderConfig, OnnxEmbedder};
use facepass_eval::fixtures::{self, analyse_singles, embedder_config};
use facepass_eval::scale::{self, LfwPhoto, Memo, Plan, ScaleSession};
use facepass_eval::scenes::{self, Scene};
use facepass_eval::selfies::{self, Degradation, DevSession, PAIR, Tally};
use facepass_eval::small_faces::{Gallery, Report, evaluate};

#[derive(Debug, Parser)]
#[command(about = "FacePass evaluation reports over sets generated from the fixtures")]
struct Cli {
    /// Extra TOML config file read over config/default.toml (a candidate default).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Small faces in 24-megapixel scenes: recall per size, false faces, recognisability, cost.
    SmallFaces {
        /// Scenes with faces (the no-face fixtures are added as negatives).
        #[arg(long, default_value_t = 24)]
        scenes: usize,
        /// Faces pasted per scene.
        #[arg(long, default_value_t = 12)]
        faces: usize,
        #[arg(long, default_value_t = 2024)]
        seed: u64,
        /// Detector entries to compare for the high-resolution pass.
        #[arg(long, value_delimiter = ',', default_value = "det_2.5g,det_500m,yunet")]
        detectors: Vec<String>,
        /// `models.min_face_px` values to compare.
        #[arg(long, value_delimiter = ',', default_value = "0,32,40,48,64")]
        min_face_px: Vec<u32>,
        /// Detector score thresholds to compare (empty: each entry's own).
        #[arg(long, value_delimiter = ',')]
        score: Vec<f32>,
    },
    /// Degraded DEV selfies against a session of every DEV photo, at the defaults.
    Selfies {
        /// One line per search, with what was found and the query face's quality.
        #[arg(long)]
        verbose: bool,
        /// Search threshold (similarity, 0..1) instead of the API's default.
        #[arg(long)]
        threshold: Option<f32>,
        /// Also print, per kind, the raw cosines of genuine and impostor matches (with a low
        /// `--threshold`, to fit thresholds on).
        #[arg(long)]
        cosines: bool,
        /// Run the restorable kinds at milder and harsher strengths instead of the report's
        /// (a restoration fitted to one strength shows here).
        #[arg(long)]
        sweep: bool,
    },
    /// LFW photos as sessions of thousands of faces: one search per person, first photo as
    /// the selfie.
    Scale {
        /// Session sizes: `1k` (fold 5), `5k` (folds 1-3), `all` (folds 1-5).
        #[arg(long, value_delimiter = ',', default_value = "1k,5k,all")]
        sizes: Vec<String>,
        /// Also each session without the selfies' photos.
        #[arg(long)]
        held_out: bool,
        /// Print the impostor tail (different-person pairs per cosine) of the largest session.
        #[arg(long)]
        tail: bool,
        /// Search threshold (similarity, 0..1) instead of the API's default.
        #[arg(long)]
        threshold: Option<f32>,
        /// Write every match of every session to this folder (one TSV per session), and keep
        /// the SQLite store there (`scale.db`).
        #[arg(long)]
        dump: Option<PathBuf>,
    },
    /// Guest watches against the final search on LFW sessions.
    Watches {
        /// Session sizes: 1k (fold 5), 5k (folds 1-3), all (folds 1-5).
        #[arg(long, value_delimiter = ',', default_value = "1k,5k")]
        sizes: Vec<String>,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = fixtures::settings(cli.config.clone())?;
    let defaults = embedder_config(cli.config)?;
    match cli.command {
        Command::SmallFaces {
            scenes: count,
            faces,
            seed,
            detectors,
            min_face_px,
            score,
        } => small_faces(
            &defaults,
            count,
            faces,
            seed,
            &detectors,
            &min_face_px,
            &score,
        ),
        Command::Selfies {
            verbose,
            threshold,
            cosines,
            sweep,
        } => tokio::runtime::Runtime::new()?
            .block_on(selfies(&defaults, verbose, threshold, cosines, sweep)),
        Command::Scale {
            sizes,
            held_out,
            tail,
            threshold,
            dump,
        } => tokio::runtime::Runtime::new()?.block_on(scale_report(
            &settings,
            &defaults,
            &sizes,
            held_out,
            tail,
            threshold,
            dump.as_deref(),
        )),
        Command::Watches { sizes } => {
            tokio::runtime::Runtime::new()?.block_on(watches_report(&settings, &defaults, &sizes))
        }
    }
}

async fn watches_report(
    settings: &facepass::settings::Settings,
    defaults: &EmbedderConfig,
    sizes: &[String],
) -> anyhow::Result<()> {
    let photos: Vec<LfwPhoto> = scale::lfw_photos()?;
    let embedder = Arc::new(Memo::new(Arc::new(OnnxEmbedder::start(defaults)?)));
    let dir = tempfile::tempdir()?;
    let store = Arc::new(
        facepass_vector_store_sqlite::open(
            &dir.path().join("watches.db"),
            embedder.space(),
            true,
            settings.store_options()?,
        )
        .await?,
    );
    println!(
        "LFW sessions, a watch per person with >= 2 photos (first photo as the selfie, not indexed) before the photos arrive, photos shuffled; each watch's matches against a search with its selfie at the end\n"
    );
    println!("{}", facepass_eval::watches::Agreement::header());
    for size in sizes {
        let plan = Plan::of_folds(
            &format!("lfw {size} watched"),
            &photos,
            folds_of(size)?,
            true,
        );
        let (agreement, faces) = facepass_eval::watches::compare(
            &plan,
            embedder.clone(),
            store.clone(),
            settings,
            defaults.worker_count() * 2,
        )
        .await?;
        println!("{}", agreement.row(&plan.name, faces));
    }
    Ok(())
}

/// The folds of each session size.
fn folds_of(size: &str) -> anyhow::Result<&'static [u32]> {
    Ok(match size {
        "1k" => &[5],
        "5k" => &[1, 2, 3],
        "all" => &[1, 2, 3, 4, 5],
        other => anyhow::bail!("unknown session size {other:?} (1k, 5k, all)"),
    })
}

async fn scale_report(
    settings: &facepass::settings::Settings,
    defaults: &EmbedderConfig,
    sizes: &[String],
    held_out: bool,
    tail: bool,
    threshold: Option<f32>,
    dump: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let threshold = threshold
        .map(Threshold::new)
        .transpose()?
        .unwrap_or_default();
    let photos: Vec<LfwPhoto> = scale::lfw_photos()?;
    let embedder = Arc::new(Memo::new(Arc::new(OnnxEmbedder::start(defaults)?)));
    let dir = tempfile::tempdir()?;
    let db = match dump {
        Some(out) => {
            std::fs::create_dir_all(out)?;
            let db = out.join("scale.db");
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
            }
            db
        }
        None => dir.path().join("scale.db"),
    };
    let store = Arc::new(
        facepass_vector_store_sqlite::open(&db, embedder.space(), true, settings.store_options()?)
            .await?,
    );
    let mut plans = Vec::new();
    for size in sizes {
        let folds = folds_of(size)?;
        plans.push(Plan::of_folds(
            &format!("lfw {size}"),
            &photos,
            folds,
            false,
        ));
        if held_out {
            plans.push(Plan::of_folds(
                &format!("lfw {size} held out"),
                &photos,
                folds,
                true,
            ));
        }
    }
    println!(
        "LFW folds 1-5 as sessions, one search per person with >= 2 photos (first photo as the selfie), threshold {}\n",
        threshold.value()
    );
    println!("{}", scale::Tally::header());
    let mut largest: Option<ScaleSession<OnnxEmbedder>> = None;
    let mut groupings = Vec::new();
    for plan in plans {
        let started = Instant::now();
        let session = ScaleSession::index(
            plan,
            embedder.clone(),
            store.clone(),
            defaults.worker_count() * 2,
        )
        .await?;
        eprintln!(
            "{}: {} photos, {} faces indexed in {:.1} s",
            session.plan.name,
            session.plan.indexed.len(),
            session.faces,
            started.elapsed().as_secs_f64()
        );
        let outcomes = session.search_all(settings, threshold).await?;
        if let Some(dir) = dump {
            std::fs::create_dir_all(dir)?;
            let file = dir.join(format!("{}.tsv", session.plan.name.replace(' ', "-")));
            std::fs::write(file, session.matches_tsv(&outcomes))?;
        }
        let all = session.tally(&outcomes, |_| true);
        let five = session.tally(&outcomes, |o| session.photos_of(&o.guest) >= 5);
        println!("{}", all.row(&session.plan.name, session.faces));
        println!(
            "{}",
            five.row(
                &format!("{}, >= 5 photos", session.plan.name),
                session.faces
            )
        );
        groupings.push((session.plan.name.clone(), session.grouping().await?));
        if largest.as_ref().is_none_or(|l| l.faces < session.faces) {
            largest = Some(session);
        }
    }
    println!(
        "\npeople of each session, on its central (labelled) faces:\n\
         | session | faces | persons | pairwise precision | pairwise recall | BCubed precision | BCubed recall |\n\
         |---|---:|---:|---:|---:|---:|---:|"
    );
    for (name, g) in &groupings {
        println!(
            "| {name} | {} | {} | {:.3} | {:.3} | {:.3} | {:.3} |",
            g.faces,
            g.persons,
            g.pairwise_precision,
            g.pairwise_recall,
            g.bcubed_precision,
            g.bcubed_recall
        );
    }
    if tail && let Some(session) = largest {
        println!(
            "\nimpostor tail, {}:\n{}",
            session.plan.name,
            scale::tail_report(&session.central_faces()?, session.faces)
        );
    }
    Ok(())
}

async fn selfies(
    defaults: &EmbedderConfig,
    verbose: bool,
    threshold: Option<f32>,
    cosines: bool,
    sweep: bool,
) -> anyhow::Result<()> {
    let mut session = DevSession::index(defaults).await?;
    if let Some(t) = threshold {
        session.threshold = Threshold::new(t)?;
    }
    let kinds = if sweep {
        Degradation::sweep()
    } else {
        Degradation::standard()
    };
    let outcomes = session.degraded(&kinds).await?;
    if verbose {
        for o in &outcomes {
            println!("{o:?}");
        }
    }
    println!(
        "{} DEV singles x {} kinds against {} DEV photos, threshold {}\n",
        session.singles.len(),
        kinds.len(),
        fixtures::labels()?.len() - 1,
        session.threshold.value()
    );
    println!("{}\n", selfies::report(&kinds, &outcomes));
    if cosines {
        println!("{}\n", selfies::cosine_report(&kinds, &outcomes));
    }
    let [first, second] = PAIR;
    let [a, b, both] = session.pairs(first, second).await?;
    println!("two selfies of each guest (different photos), alone and together:");
    println!("{}", Tally::header());
    println!("{}", Tally::of(&a).row(&first.name()));
    println!("{}", Tally::of(&b).row(&second.name()));
    println!("{}", Tally::of(&both).row("both"));
    Ok(())
}

fn small_faces(
    defaults: &EmbedderConfig,
    count: usize,
    faces: usize,
    seed: u64,
    detectors: &[String],
    min_face_px: &[u32],
    scores: &[f32],
) -> anyhow::Result<()> {
    let mut one_pass = defaults.clone();
    one_pass.min_face_px = 0;
    // The scenes are cut from det_2.5g's boxes whatever the configuration, so that every
    // configuration is measured on the same faces; the gallery is the configuration's own.
    let mut cutter = one_pass.clone();
    let catalogue = Catalogue::repository_defaults()?;
    cutter.detector = catalogue.detector(&defaults.models_dir, "cutter", "det_2.5g")?;
    let (gallery, photos) = {
        let singles = analyse_singles(&OnnxEmbedder::start(&one_pass)?)?;
        let sources = if cutter == one_pass {
            scenes::source_faces(&singles)?
        } else {
            scenes::source_faces(&analyse_singles(&OnnxEmbedder::start(&cutter)?)?)?
        };
        eprintln!(
            "{} source faces; generating {count} scenes of {faces} faces...",
            sources.len()
        );
        let mut photos: Vec<Scene> = scenes::scenes(&sources, count, faces, seed)?;
        photos.extend(scenes::negatives()?);
        (Gallery::build(&singles), photos)
    };
    let pasted: usize = photos.iter().map(|s| s.faces.len()).sum();
    println!(
        "{} photos of 6000x4000 ({} with {pasted} faces, {} without), seed {seed}, {} workers\n",
        photos.len(),
        count,
        photos.len() - count,
        defaults.worker_count()
    );
    println!("{}", Report::header());
    let report = evaluate(defaults, &photos, &gallery)?;
    println!(
        "{}",
        report.row(&format!(
            "**defaults** (min_face_px {}, fine pass {})",
            defaults.min_face_px,
            defaults
                .fine_detector
                .as_ref()
                .map_or("–", |d| d.file.trim_end_matches(".onnx"))
        ))
    );
    for &min_px in min_face_px {
        if min_px == 0 {
            let mut config = defaults.clone();
            config.min_face_px = 0;
            let report = evaluate(&config, &photos, &gallery)?;
            println!("{}", report.row("one pass (min_face_px 0)"));
            continue;
        }
        for detector in detectors {
            let entry = catalogue.detector(&defaults.models_dir, "--detectors", detector)?;
            let scores = if scores.is_empty() {
                vec![entry.score_threshold]
            } else {
                scores.to_vec()
            };
            for &score in &scores {
                let mut config = defaults.clone();
                let mut fine = entry.clone();
                fine.score_threshold = score;
                config.fine_detector = Some(fine);
                config.min_face_px = min_px;
                let report = evaluate(&config, &photos, &gallery)?;
                println!(
                    "{}",
                    report.row(&format!(
                        "min_face_px {min_px}, fine pass {detector} @ {score}"
                    ))
                );
            }
        }
    }
    Ok(())
}
