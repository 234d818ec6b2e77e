//! The small-faces report for one embedder configuration over the generated scenes.
//!
//! A detection matches a pasted face when their boxes overlap by IoU >= [`MATCH_IOU`]
//! (greedy, best overlap first); every other detection is a false face (the source crops hold
//! exactly one face each, and the negatives none). A found face is *recognisable* when its
//! embedding reaches the recognizer's operating cosine against at least one other DEV photo
//! of the same person (what a guest's selfie search needs); faces of people with a single
//! photo are left out of that share.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use facepass_domain::{FaceAnalysis, ImageKind};
use facepass_embedder_onnx::{EmbedderConfig, OnnxEmbedder};

use crate::fixtures::Label;
use crate::scenes::{BUCKETS, Scene, bucket, bucket_name};

pub const MATCH_IOU: f32 = 0.4;
/// Faces of this height and up are the "48 px and up" of the acceptance.
pub const LARGE_FACE_PX: f32 = 48.0;

/// Per-identity embeddings of the DEV singles, by file.
#[derive(Debug, Default)]
pub struct Gallery {
    by_identity: BTreeMap<String, Vec<(String, Vec<f32>)>>,
}

impl Gallery {
    /// The largest face of every DEV single ([`crate::fixtures::analyse_singles`]).
    pub fn build(singles: &[(Label, FaceAnalysis)]) -> Self {
        let mut gallery = Self::default();
        for (label, analysis) in singles {
            if let Some(face) = analysis
                .faces
                .iter()
                .max_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area()))
            {
                gallery
                    .by_identity
                    .entry(label.identities[0].clone())
                    .or_default()
                    .push((label.file.clone(), face.embedding.as_slice().to_vec()));
            }
        }
        gallery
    }

    /// The best cosine of `embedding` to `identity`'s photos other than `exclude`; `None`
    /// when the identity has no other photo.
    pub fn best_cosine(&self, identity: &str, exclude: &str, embedding: &[f32]) -> Option<f32> {
        self.by_identity
            .get(identity)?
            .iter()
            .filter(|(file, _)| file != exclude)
            .map(|(_, e)| e.iter().zip(embedding).map(|(a, b)| a * b).sum::<f32>())
            .reduce(f32::max)
    }
}

/// What one configuration did on the set.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Per bucket of [`BUCKETS`]: (found, pasted).
    pub per_bucket: Vec<(usize, usize)>,
    pub photos: usize,
    pub false_faces: usize,
    /// Found faces of [`LARGE_FACE_PX`] and up with a gallery to compare with: (recognisable,
    /// compared).
    pub recognisable: (usize, usize),
    /// The same for found faces under [`LARGE_FACE_PX`].
    pub recognisable_small: (usize, usize),
    pub elapsed: Duration,
    /// Summed stage times over all photos (one worker's view): decode, detect, align+embed.
    pub stages: [Duration; 3],
}

impl Report {
    pub fn recall(&self, bucket: usize) -> f64 {
        let (found, total) = self.per_bucket[bucket];
        found as f64 / total.max(1) as f64
    }

    /// Recall over every face of at least `min_px` (a bucket boundary).
    pub fn recall_from(&self, min_px: f32) -> f64 {
        let (found, total) = BUCKETS
            .windows(2)
            .zip(&self.per_bucket)
            .filter(|(w, _)| w[0] >= min_px)
            .fold((0, 0), |(f, t), (_, &(bf, bt))| (f + bf, t + bt));
        found as f64 / total.max(1) as f64
    }

    pub fn false_per_photo(&self) -> f64 {
        self.false_faces as f64 / self.photos.max(1) as f64
    }

    pub fn recognisable_share(&self) -> f64 {
        self.recognisable.0 as f64 / self.recognisable.1.max(1) as f64
    }

    pub fn photos_per_second(&self) -> f64 {
        self.photos as f64 / self.elapsed.as_secs_f64()
    }

    /// A markdown table row: label, recall per bucket, >= 48 px, false faces per photo,
    /// recognisable share, ms per photo (all workers), photos/s.
    pub fn row(&self, label: &str) -> String {
        let buckets: Vec<String> = (0..self.per_bucket.len())
            .map(|b| format!("{:.2}", self.recall(b)))
            .collect();
        format!(
            "| {label} | {} | {:.3} | {:.3} | {:.3} | {} | {} | {:.0} | {:.2} |",
            buckets.join(" | "),
            self.recall_from(LARGE_FACE_PX),
            self.false_per_photo(),
            self.recognisable_share(),
            match self.recognisable_small {
                (_, 0) => "–".to_owned(),
                (r, n) => format!("{:.2} ({n})", r as f64 / n as f64),
            },
            self.stages_ms(),
            1000.0 / self.photos_per_second(),
            self.photos_per_second(),
        )
    }

    /// Mean decode / detect / embed milliseconds per photo on one worker.
    pub fn stages_ms(&self) -> String {
        let per = |d: Duration| d.as_secs_f64() * 1000.0 / self.photos.max(1) as f64;
        format!(
            "{:.0} / {:.0} / {:.0}",
            per(self.stages[0]),
            per(self.stages[1]),
            per(self.stages[2])
        )
    }

    pub fn header() -> String {
        let buckets: Vec<String> = (0..BUCKETS.len() - 1).map(bucket_name).collect();
        format!(
            "| configuration | {} | recall >= 48 | false faces / photo | recognisable >= 48 | recognisable < 48 (found) | decode / detect / embed ms | ms / photo | photos/s |\n|---|{}---:|---:|---:|---:|---:|---:|---:|",
            buckets.join(" | "),
            "---:|".repeat(buckets.len())
        )
    }
}

/// Runs `config` over `photos` (all its workers busy) and scores the answers.
pub fn evaluate(
    config: &EmbedderConfig,
    photos: &[Scene],
    gallery: &Gallery,
) -> anyhow::Result<Report> {
    let embedder = OnnxEmbedder::start(config)?;
    let (analyses, elapsed) = analyze_all(&embedder, photos, config.worker_count())?;
    let threshold = crate::fixtures::operating_cosine()?;
    let mut report = Report {
        per_bucket: vec![(0, 0); BUCKETS.len() - 1],
        photos: photos.len(),
        elapsed,
        ..Report::default()
    };
    for (scene, analysis) in photos.iter().zip(&analyses) {
        let t = &analysis.timings;
        report.stages[0] += t.decode;
        report.stages[1] += t.detect;
        report.stages[2] += t.embed;
        let found: Vec<[f32; 4]> = analysis
            .faces
            .iter()
            .map(|f| {
                let b = &f.bbox;
                [b.x, b.y, b.x + b.width, b.y + b.height]
            })
            .collect();
        let pairs = match_boxes(
            &scene.faces.iter().map(|f| f.bbox).collect::<Vec<_>>(),
            &found,
        );
        report.false_faces += found.len() - pairs.len();
        let mut matched = vec![None; scene.faces.len()];
        for (truth, detection) in pairs {
            matched[truth] = Some(detection);
        }
        for (face, detection) in scene.faces.iter().zip(matched) {
            let Some(b) = bucket(face.height()) else {
                continue;
            };
            report.per_bucket[b].1 += 1;
            let Some(d) = detection else {
                continue;
            };
            report.per_bucket[b].0 += 1;
            let tally = if face.height() < LARGE_FACE_PX {
                &mut report.recognisable_small
            } else {
                &mut report.recognisable
            };
            let embedding = analysis.faces[d].embedding.as_slice();
            if let Some(cos) = gallery.best_cosine(&face.identity, &face.source_file, embedding) {
                tally.1 += 1;
                if cos >= threshold {
                    tally.0 += 1;
                }
            }
        }
    }
    Ok(report)
}

/// Every photo through the embedder from `workers` threads at once; the wall time of all.
fn analyze_all(
    embedder: &OnnxEmbedder,
    photos: &[Scene],
    workers: usize,
) -> anyhow::Result<(Vec<FaceAnalysis>, Duration)> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<FaceAnalysis>>> = Mutex::new(vec![None; photos.len()]);
    let started = Instant::now();
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let handles: Vec<_> = (0..workers.max(1))
            .map(|_| {
                scope.spawn(|| -> anyhow::Result<()> {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(scene) = photos.get(i) else {
                            return Ok(());
                        };
                        let analysis = embedder
                            .analyze_blocking(scene.jpeg.clone().into(), ImageKind::Photo)?;
                        results.lock().map_err(|_| anyhow::anyhow!("poisoned"))?[i] =
                            Some(analysis);
                    }
                })
            })
            .collect();
        for handle in handles {
            handle
                .join()
                .map_err(|_| anyhow::anyhow!("an evaluation thread panicked"))??;
        }
        Ok(())
    })?;
    let elapsed = started.elapsed();
    let analyses = results
        .into_inner()
        .map_err(|_| anyhow::anyhow!("poisoned"))?
        .into_iter()
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| anyhow::anyhow!("a photo was not analysed"))?;
    Ok((analyses, elapsed))
}

/// Greedy one-to-one matching by IoU (best first) at [`MATCH_IOU`] and up:
/// (truth index, detection index) pairs.
pub fn match_boxes(truth: &[[f32; 4]], found: &[[f32; 4]]) -> Vec<(usize, usize)> {
    let mut candidates: Vec<(f32, usize, usize)> = Vec::new();
    for (t, a) in truth.iter().enumerate() {
        for (d, b) in found.iter().enumerate() {
            let iou = iou(a, b);
            if iou >= MATCH_IOU {
                candidates.push((iou, t, d));
            }
        }
    }
    candidates.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut used_t, mut used_d) = (vec![false; truth.len()], vec![false; found.len()]);
    let mut pairs = Vec::new();
    for (_, t, d) in candidates {
        if !used_t[t] && !used_d[d] {
            used_t[t] = true;
            used_d[d] = true;
            pairs.push((t, d));
        }
    }
    pairs
}

fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = w * h;
    let area = |r: &[f32; 4]| (r[2] - r[0]) * (r[3] - r[1]);
    inter / (area(a) + area(b) - inter).max(f32::EPSILON)
}

#[cfg(test)]
mod tests {
    use super::match_boxes;

    #[test]
    fn matching_is_one_to_one_and_prefers_the_best_overlap() {
        let truth = [[0.0, 0.0, 10.0, 10.0], [100.0, 100.0, 110.0, 110.0]];
        let found = [
            [1.0, 1.0, 11.0, 11.0],
            [0.0, 0.0, 10.0, 10.0],
            [50.0, 50.0, 60.0, 60.0],
        ];
        assert_eq!(match_boxes(&truth, &found), vec![(0, 1)]);
    }
}
