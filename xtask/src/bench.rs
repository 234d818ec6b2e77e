//! `cargo xtask bench`: indexing throughput side by side on the camera-size corpus.
//!
//! 1. `scripts/bench_corpus.py` builds the corpus (DEV photos as 6000x4000 q92 JPEGs plus
//!    multi-face composites) under `var/bench/`, once.
//! 2. The anchor runs in a venv this command creates (`.deps/bench-venv`: PyPI insightface,
//!    onnxruntime, opencv-python-headless): `scripts/bench_anchor.py`, InsightFace's
//!    `FaceAnalysis` on det_2.5g + fr_feature at 640x640.
//! 3. FacePass in-process: `facepass embed --summary` on the defaults.
//! 4. FacePass through the API: the project's services (`scripts/services.sh up`: Postgres +
//!    pgvector, SeaweedFS S3), `facepass serve` on its defaults with those backends, and
//!    `scripts/bench_api.py` uploading 100 corpus photos to S3 and timing one batch request.
//! 5. The compute floor: the `compute_floor` example (ONNX Runtime alone on the same calls).
//!
//! Each contender runs as its own process, one after the other, and reports its own photos/s
//! (model loading excluded), CPU seconds and peak RSS; this prints the table.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};

use crate::run;

const VENV: &str = ".deps/bench-venv";
/// The anchor's packages; `onnxruntime` comes at the version pinned in `versions.env`.
const ANCHOR_PACKAGES: &[&str] = &[
    "insightface==0.7.3",
    "opencv-python-headless",
    "numpy<3",
    "psycopg[binary]",
    "boto3",
    "requests",
];

/// Photos in the API run's batch.
const API_BATCH: usize = 100;

/// One contender's figures, as its summary line reports them.
struct Figures {
    name: &'static str,
    photos: f64,
    faces: f64,
    seconds: f64,
    cpu_seconds: Option<f64>,
    peak_rss_mb: Option<f64>,
}

impl Figures {
    fn photos_per_s(&self) -> f64 {
        self.photos / self.seconds
    }
}

pub fn run_bench(root: &Path) -> anyhow::Result<()> {
    step(1, "corpus (scripts/bench_corpus.py)");
    run(Command::new("python3").arg(root.join("scripts/bench_corpus.py")))?;
    let corpus = corpus_files(&root.join("var/bench/corpus"))?;
    step(2, "anchor venv (insightface from PyPI)");
    let python = anchor_venv(root)?;
    step(3, "build (release)");
    run(crate::cargo().args([
        "build",
        "--quiet",
        "--release",
        "--bin",
        "facepass",
        "-p",
        "facepass",
        "-p",
        "facepass-embedder-onnx",
        "--example",
        "compute_floor",
    ]))?;
    let models = root.join("../shared/fixtures/models");

    step(4, "anchor: InsightFace FaceAnalysis");
    let anchor = figures(
        "InsightFace FaceAnalysis (anchor)",
        Command::new(&python)
            .arg(root.join("scripts/bench_anchor.py"))
            .arg("index")
            .arg(&models)
            .args(&corpus),
    )?;
    step(
        5,
        "FacePass in-process (facepass embed --summary: defaults, then min_face_px = 0)",
    );
    let facepass = figures(
        "FacePass in-process, defaults",
        Command::new(root.join("target/release/facepass"))
            .args(["embed", "--summary"])
            .args(&corpus),
    )?;
    let one_pass = figures(
        "FacePass in-process, min_face_px = 0 (one pass)",
        Command::new(root.join("target/release/facepass"))
            .env("FACEPASS__MODELS__MIN_FACE_PX", "0")
            .args(["embed", "--summary"])
            .args(&corpus),
    )?;
    step(
        6,
        "FacePass through the API (S3 -> facepass serve -> Postgres)",
    );
    let (api, job) = api_figures(root, &python, &corpus)?;
    step(7, "compute floor (ONNX Runtime alone)");
    let floor = figures(
        "compute floor (models only)",
        Command::new(root.join("target/release/examples/compute_floor"))
            .env("FACEPASS_MODELS", &models)
            .args(&corpus),
    )?;

    println!(
        "\n{} photos ({} faces by the anchor), {}",
        corpus.len(),
        anchor.faces,
        machine()
    );
    println!(
        "| run | photos/s | faces | x anchor | x floor | CPU s/photo | peak RSS MB |\n|---|---:|---:|---:|---:|---:|---:|"
    );
    for f in [&anchor, &facepass, &one_pass, &api, &job, &floor] {
        let opt =
            |v: Option<f64>, digits: usize| v.map_or("–".to_owned(), |v| format!("{v:.digits$}"));
        println!(
            "| {} | {:.2} | {} | {:.2} | {:.2} | {} | {} |",
            f.name,
            f.photos_per_s(),
            f.faces,
            f.photos_per_s() / anchor.photos_per_s(),
            f.photos_per_s() / floor.photos_per_s(),
            opt(f.cpu_seconds.map(|c| c / f.photos), 3),
            opt(f.peak_rss_mb, 0),
        );
    }
    println!(
        "API / in-process: {:.2}; job / batch through the API: {:.2}",
        api.photos_per_s() / facepass.photos_per_s(),
        job.photos_per_s() / api.photos_per_s()
    );
    if facepass.faces < anchor.faces {
        bail!(
            "FacePass found {} faces, the anchor {}",
            facepass.faces,
            anchor.faces
        );
    }
    Ok(())
}

fn step(n: usize, what: &str) {
    eprintln!("\x1b[1;34m[bench {n}/7]\x1b[0m {what}");
}

/// Starts the services and `facepass serve` on them, runs `scripts/bench_api.py` for one batch
/// request and then one job of the same photos, stops the server (the services stay up, as
/// `cargo xtask services up` leaves them).
fn api_figures(
    root: &Path,
    python: &Path,
    corpus: &[PathBuf],
) -> anyhow::Result<(Figures, Figures)> {
    let out = Command::new("bash")
        .arg(root.join("scripts/services.sh"))
        .arg("up")
        .stderr(Stdio::inherit())
        .output()
        .context("starting the services")?;
    if !out.status.success() {
        bail!("scripts/services.sh up failed with {}", out.status);
    }
    let env: Vec<(String, String)> = String::from_utf8(out.stdout)?
        .lines()
        .filter_map(|l| l.strip_prefix("export "))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let key = "bench-key";
    let mut server = Command::new(root.join("target/release/facepass"))
        .arg("serve")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("FACEPASS__SERVER__PORT", port.to_string())
        .env("FACEPASS__AUTH__API_KEYS", key)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting facepass serve")?;
    let run = |name: &'static str, mode: &str| {
        figures(
            name,
            Command::new(python)
                .arg(root.join("scripts/bench_api.py"))
                .arg(mode)
                .arg(format!("http://127.0.0.1:{port}"))
                .arg(key)
                .arg(server.id().to_string())
                .arg(API_BATCH.to_string())
                .args(corpus)
                .envs(env.iter().map(|(k, v)| (k, v))),
        )
    };
    let result = run("FacePass through the API (S3 -> Postgres)", "index")
        .and_then(|batch| Ok((batch, run("FacePass indexing job through the API", "job")?)));
    let _ = server.kill();
    let _ = server.wait();
    result
}

fn corpus_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .collect();
    files.sort();
    Ok(files)
}

/// The venv's python, creating the venv and installing the anchor's packages when missing.
fn anchor_venv(root: &Path) -> anyhow::Result<PathBuf> {
    let venv = root.join(VENV);
    let python = venv.join("bin/python");
    let ready = python.is_file()
        && Command::new(&python)
            .args([
                "-c",
                "import insightface, onnxruntime, cv2, psycopg, boto3, requests",
            ])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    if !ready {
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
        run(Command::new(&python)
            .args(["-m", "pip", "install", "-q", "--disable-pip-version-check"])
            .args(ANCHOR_PACKAGES)
            .arg(format!("onnxruntime=={}", crate::tidy::pin("ONNXRUNTIME")?)))?;
    }
    Ok(python)
}

/// Runs a contender (its progress on stderr) and parses the JSON summary on its last line.
fn figures(name: &'static str, command: &mut Command) -> anyhow::Result<Figures> {
    let out = command
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot start {name}"))?;
    if !out.status.success() {
        bail!("{name} failed with {}", out.status);
    }
    let stdout = String::from_utf8(out.stdout)?;
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .with_context(|| format!("{name} printed no summary"))?;
    let v: serde_json::Value = serde_json::from_str(line)?;
    let num = |k: &str| v.get(k).and_then(serde_json::Value::as_f64);
    Ok(Figures {
        name,
        photos: num("photos").context("photos")?,
        faces: num("faces").context("faces")?,
        seconds: num("seconds").context("seconds")?,
        cpu_seconds: num("cpu_seconds"),
        peak_rss_mb: num("peak_rss_mb"),
    })
}

/// CPU model and core count, for the table's caption.
fn machine() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    format!("{model}, {cores} cores")
}
