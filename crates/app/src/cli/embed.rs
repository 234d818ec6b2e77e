//! `facepass embed FILE...`: run the face pipeline on local files and print one JSON object
//! per file and line (faces with boxes, landmarks, scores and embeddings, or an error), or
//! with `--summary` one line of throughput figures (what `cargo xtask bench` reads).

use std::collections::VecDeque;
use std::io::Write;
use std::path::PathBuf;

use facepass_domain::ports::EmbedError;
use facepass_domain::{DetectedFace, FaceAnalysis, ImageKind};
use facepass_embedder_onnx::OnnxEmbedder;
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::process;
use crate::settings::Settings;

#[derive(Debug, clap::Args)]
pub struct EmbedArgs {
    /// Images (JPEG, PNG, WebP).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Detector entry (overrides models.detector), e.g. det_2.5g, det_500m, yunet.
    #[arg(long)]
    pub detector: Option<String>,
    /// Recognizer entry (overrides models.recognizer), e.g. fr_feature, mobilefacenet.
    #[arg(long)]
    pub recognizer: Option<String>,
    /// Folder of the ONNX models (overrides models.dir).
    #[arg(long)]
    pub models_dir: Option<PathBuf>,
    /// Add per-stage timings (decode, detect, align+embed) in milliseconds.
    #[arg(long)]
    pub timings: bool,
    /// Print no per-file lines: a progress bar on stderr, then one JSON line with photos,
    /// faces, errors, seconds, photos/s, CPU seconds and peak RSS, timed from the first file
    /// read to the last result (model loading excluded).
    #[arg(long)]
    pub summary: bool,
    /// Treat the images as query selfies (the search path: a coarse detector pass first).
    #[arg(long)]
    pub selfie: bool,
}

/// What a `--summary` run counts.
#[derive(Debug, Default)]
struct Tally {
    photos: usize,
    faces: usize,
    errors: usize,
}

/// Stable machine-readable code of an embedder error.
pub fn error_code(error: &EmbedError) -> &'static str {
    match error {
        EmbedError::InvalidImage(_) | EmbedError::TruncatedImage(_) => "invalid_image",
        EmbedError::ImageTooLarge { .. } => "image_too_large",
        EmbedError::Overloaded => "overloaded",
        EmbedError::Unavailable(_) => "models_unavailable",
        EmbedError::Unexpected(_) => "internal_error",
    }
}

type Pending = oneshot::Receiver<Result<FaceAnalysis, EmbedError>>;

pub fn run(settings: Settings, args: EmbedArgs) -> anyhow::Result<()> {
    let mut models = settings.models;
    if let Some(d) = args.detector {
        models.detector = d;
    }
    if let Some(r) = args.recognizer {
        models.recognizer = r;
    }
    if let Some(dir) = args.models_dir {
        models.dir = dir;
    }
    let config = models.embedder_config()?;
    let embedder = OnnxEmbedder::start(&config)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    // Keep a few images queued so reading files overlaps inference.
    let depth = config.worker_count() * 2;
    let mut in_flight: VecDeque<(PathBuf, Result<Pending, Value>)> = VecDeque::new();
    let mut tally = args.summary.then(Tally::default);
    let kind = match args.selfie {
        true => ImageKind::Selfie,
        false => ImageKind::Photo,
    };
    let bar = match args.summary {
        true => indicatif::ProgressBar::new(args.files.len() as u64),
        false => indicatif::ProgressBar::hidden(),
    };
    let (started, cpu_before) = (std::time::Instant::now(), process::cpu_seconds());
    for file in args.files {
        let job = match std::fs::read(&file) {
            Ok(bytes) => embedder
                .submit_blocking(bytes.into(), kind)
                .map_err(|e| error_json(&e)),
            Err(e) => Err(json!({"code": "file_unreadable", "message": e.to_string()})),
        };
        in_flight.push_back((file, job));
        while in_flight.len() > depth {
            print_next(&mut out, &mut in_flight, args.timings, tally.as_mut())?;
            bar.inc(1);
        }
    }
    while !in_flight.is_empty() {
        print_next(&mut out, &mut in_flight, args.timings, tally.as_mut())?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    if let Some(tally) = tally {
        let seconds = started.elapsed().as_secs_f64();
        let line = json!({
            "photos": tally.photos,
            "faces": tally.faces,
            "errors": tally.errors,
            "seconds": seconds,
            "photos_per_s": tally.photos as f64 / seconds,
            "cpu_seconds": process::cpu_seconds() - cpu_before,
            "peak_rss_mb": process::peak_rss_mb(),
            "workers": config.worker_count(),
        });
        writeln!(out, "{line}")?;
    }
    Ok(())
}

fn print_next(
    out: &mut impl Write,
    in_flight: &mut VecDeque<(PathBuf, Result<Pending, Value>)>,
    timings: bool,
    tally: Option<&mut Tally>,
) -> anyhow::Result<()> {
    let Some((file, job)) = in_flight.pop_front() else {
        return Ok(());
    };
    let file = file.display().to_string();
    let result = job.and_then(|rx| {
        rx.blocking_recv()
            .unwrap_or_else(|_| Err(EmbedError::Unavailable("inference worker stopped".into())))
            .map_err(|e| error_json(&e))
    });
    if let Some(tally) = tally {
        tally.photos += 1;
        match &result {
            Ok(analysis) => tally.faces += analysis.faces.len(),
            Err(_) => tally.errors += 1,
        }
        return Ok(());
    }
    let line = match result {
        Ok(analysis) => {
            let mut line = json!({
                "file": file,
                "width": analysis.width,
                "height": analysis.height,
                "faces": analysis.faces.iter().map(face_json).collect::<Vec<_>>(),
            });
            if timings {
                let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
                line["timings_ms"] = json!({
                    "decode": ms(analysis.timings.decode),
                    "detect": ms(analysis.timings.detect),
                    "align_embed": ms(analysis.timings.embed),
                });
            }
            line
        }
        Err(error) => json!({"file": file, "error": error}),
    };
    serde_json::to_writer(&mut *out, &line)?;
    writeln!(out)?;
    Ok(())
}

fn error_json(error: &EmbedError) -> Value {
    json!({"code": error_code(error), "message": error.to_string()})
}

fn face_json(face: &DetectedFace) -> Value {
    json!({
        "bbox": {"x": face.bbox.x, "y": face.bbox.y, "width": face.bbox.width, "height": face.bbox.height},
        "det_score": face.det_score,
        "landmarks": face.landmarks.iter().map(|p| [p.x, p.y]).collect::<Vec<_>>(),
        "embedding": face.embedding.as_slice(),
    })
}
