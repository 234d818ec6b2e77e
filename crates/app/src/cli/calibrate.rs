//! `facepass calibrate --faces DIR`: measures the configured recognizer on a labelled folder
//! and prints its `[calibration.NAME]` section.
//!
//! `DIR/labels.csv` has the columns `file,identity` (more are allowed; rows whose `kind`
//! column is present and not `single` are skipped), as the fixtures' `faces/` and `lfw/`
//! folders do. Each photo's face nearest its centre is embedded with the configured models
//! (LFW labels the central face). Then, over every pair of faces:
//!
//! - the false accept rate (FAR: share of different-person pairs at or above a cosine) and
//!   the true accept rate (TAR: share of same-person pairs) at FAR 1e-3, 1e-4 and 1e-5;
//! - `operating_cosine`: the cosine at the target FAR, which the API's default threshold 0.7
//!   stands for; `slope`: the similarity map's, putting the median same-person cosine at 0.95;
//! - the impostor tail (`false_match_rate` at the operating cosine and `cosine_per_decade`,
//!   the cosine that divides it by ten, averaged over the decades around the target), which
//!   raises the face threshold with a session's size;
//! - the people cosines at fixed points of that tail: `join_cosine` where twice the operating
//!   point's false matches happen, `merge_cosine` at a third of them, `floor_cosine` at fifty
//!   times (where `fr_feature`'s were measured on LFW, README "Precision at event scale").

use std::path::{Path, PathBuf};
use std::sync::Arc;

use facepass_domain::{FaceAnalysis, ImageKind};
use facepass_embedder_onnx::OnnxEmbedder;

use crate::settings::{OPERATING_SIMILARITY, Settings};

/// The similarity the median same-person cosine maps to.
const MEDIAN_SAME_SIMILARITY: f64 = 0.95;

#[derive(Debug, clap::Args)]
pub struct CalibrateArgs {
    /// A folder with `labels.csv` (`file,identity[,kind,...]`) and the photos it names.
    #[arg(long)]
    pub faces: PathBuf,
    /// The false accept rate the operating cosine is set at.
    #[arg(long, default_value_t = 1e-4)]
    pub target_far: f64,
}

/// One labelled photo.
#[derive(Debug, Clone)]
struct Labelled {
    file: String,
    identity: String,
}

fn labels(dir: &Path) -> anyhow::Result<Vec<Labelled>> {
    let path = dir.join("labels.csv");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let column = |name: &str| header.iter().position(|h| h.trim() == name);
    let (Some(file), Some(identity)) = (column("file"), column("identity")) else {
        anyhow::bail!(
            "{}: the header needs `file` and `identity` columns",
            path.display()
        );
    };
    let kind = column("kind");
    let mut out = Vec::new();
    for (n, line) in lines.enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        if line.trim().is_empty() {
            continue;
        }
        let cell = |i: usize| {
            cells.get(i).map(|c| c.trim()).ok_or_else(|| {
                anyhow::anyhow!("{} line {}: too few columns", path.display(), n + 2)
            })
        };
        if let Some(k) = kind
            && cell(k)? != "single"
        {
            continue;
        }
        out.push(Labelled {
            file: cell(file)?.to_owned(),
            identity: cell(identity)?.to_owned(),
        });
    }
    Ok(out)
}

/// The face nearest the photo's centre.
fn central(analysis: &FaceAnalysis) -> Option<Vec<f32>> {
    let (w, h) = (analysis.width as f32, analysis.height as f32);
    analysis
        .faces
        .iter()
        .min_by(|a, b| {
            let d = |f: &facepass_domain::DetectedFace| {
                let b = f.bbox;
                (b.x + b.width / 2.0 - w / 2.0).hypot(b.y + b.height / 2.0 - h / 2.0)
            };
            d(a).total_cmp(&d(b))
        })
        .map(|f| f.embedding.as_slice().to_vec())
}

/// Same- and different-person cosines: every same-person pair, and the different-person
/// pairs above a low cosine (the tail is all that is read), with the count of all of them.
#[derive(Debug, Default)]
pub struct Pairs {
    pub same: Vec<f32>,
    /// Sorted high to low.
    pub different_tail: Vec<f32>,
    pub different: u64,
}

/// Different-person cosines below this are counted, not kept.
const TAIL_FROM: f32 = 0.1;

impl Pairs {
    pub fn of(faces: &[(String, Vec<f32>)]) -> Self {
        let mut pairs = Pairs::default();
        for (i, (a_id, a)) in faces.iter().enumerate() {
            for (b_id, b) in &faces[i + 1..] {
                let c = facepass_domain::embedding::dot(a, b);
                if a_id == b_id {
                    pairs.same.push(c);
                } else {
                    pairs.different += 1;
                    if c >= TAIL_FROM {
                        pairs.different_tail.push(c);
                    }
                }
            }
        }
        pairs.different_tail.sort_by(|a, b| b.total_cmp(a));
        pairs.same.sort_by(f32::total_cmp);
        pairs
    }

    /// The cosine at which `far` of the different-person pairs match (`None`: too few pairs
    /// to tell, under ten above it).
    pub fn cosine_at(&self, far: f64) -> Option<f32> {
        let k = (far * self.different as f64).floor() as usize;
        if k < 10 || k > self.different_tail.len() {
            return None;
        }
        Some(self.different_tail[k - 1])
    }

    /// Share of different-person pairs at or above `cosine`.
    pub fn far(&self, cosine: f32) -> f64 {
        let above = self.different_tail.partition_point(|&c| c >= cosine);
        above as f64 / self.different.max(1) as f64
    }

    /// Share of same-person pairs at or above `cosine`.
    pub fn tar(&self, cosine: f32) -> f64 {
        let below = self.same.partition_point(|&c| c < cosine);
        (self.same.len() - below) as f64 / self.same.len().max(1) as f64
    }
}

/// The `[calibration.NAME]` lines `pairs` give at `target_far`.
pub fn calibration(name: &str, pairs: &Pairs, target_far: f64) -> anyhow::Result<String> {
    let need = |far: f64| {
        pairs.cosine_at(far).ok_or_else(|| {
            anyhow::anyhow!(
                "{} different-person pairs cannot resolve FAR {far:.0e}: use a larger labelled set \
                 (LFW folds 1-5 give 19 million) or a larger --target-far",
                pairs.different
            )
        })
    };
    let operating = need(target_far)?;
    let false_match_rate = pairs.far(operating);
    let median_same = pairs
        .same
        .get(pairs.same.len() / 2)
        .copied()
        .ok_or_else(|| {
            anyhow::anyhow!("no two photos of one identity: the set needs same-person pairs")
        })?;
    let logit = |p: f64| (p / (1.0 - p)).ln();
    let slope = (logit(MEDIAN_SAME_SIMILARITY) - logit(f64::from(OPERATING_SIMILARITY)))
        / f64::from(median_same - operating);
    // The tail's slope over the decades around the target that the set resolves.
    let decades: Vec<(f64, f32)> = [10.0, 1.0, 0.1]
        .iter()
        .filter_map(|m| pairs.cosine_at(target_far * m).map(|c| (target_far * m, c)))
        .collect();
    let cosine_per_decade = match (decades.first(), decades.last()) {
        (Some(&(f0, c0)), Some(&(f1, c1))) if f0 > f1 => f64::from(c1 - c0) / (f0 / f1).log10(),
        _ => anyhow::bail!("the set resolves no decade of the tail around FAR {target_far:.0e}"),
    };
    let at = |times: f64| {
        pairs
            .cosine_at(false_match_rate * times)
            .map_or_else(|| "nan".to_owned(), |c| format!("{c:.2}"))
    };
    Ok(format!(
        "[calibration.{name}]\n\
         operating_cosine = {operating:.2}   # FAR {false_match_rate:.1e}, TAR {:.3}\n\
         slope = {slope:.2}                # median same-person cosine {median_same:.3} -> 0.95\n\
         false_match_rate = {false_match_rate:.1e}\n\
         cosine_per_decade = {cosine_per_decade:.3}\n\
         join_cosine = {}\n\
         merge_cosine = {}\n\
         floor_cosine = {}",
        pairs.tar(operating),
        at(2.0),
        at(1.0 / 3.0),
        at(50.0),
    ))
}

pub fn run(settings: Settings, args: CalibrateArgs) -> anyhow::Result<()> {
    let photos = labels(&args.faces)?;
    if photos.is_empty() {
        anyhow::bail!("{}/labels.csv names no photo", args.faces.display());
    }
    let name = settings.models.recognizer_name()?;
    let config = settings.models.embedder_config()?;
    let embedder = Arc::new(OnnxEmbedder::start(&config)?);
    eprintln!(
        "embedding {} photos with {} + {name}...",
        photos.len(),
        settings.models.catalogue()?.1
    );
    let faces = embed_all(&embedder, &args.faces, &photos, config.worker_count())?;
    let identities: std::collections::HashSet<&str> =
        faces.iter().map(|(id, _)| id.as_str()).collect();
    let pairs = Pairs::of(&faces);
    println!(
        "{} of {} photos with a face, {} identities: {} same-person pairs, {} different-person pairs\n",
        faces.len(),
        photos.len(),
        identities.len(),
        pairs.same.len(),
        pairs.different
    );
    println!("| FAR | cosine | TAR |\n|---:|---:|---:|");
    for far in [1e-3, 1e-4, 1e-5] {
        match pairs.cosine_at(far) {
            Some(c) => println!("| {far:.0e} | {c:.3} | {:.4} |", pairs.tar(c)),
            None => println!("| {far:.0e} | – | – (too few different-person pairs) |"),
        }
    }
    println!();
    println!("{}", calibration(&name, &pairs, args.target_far)?);
    Ok(())
}

/// Each labelled photo's central face, `workers` photos in flight.
fn embed_all(
    embedder: &Arc<OnnxEmbedder>,
    dir: &Path,
    photos: &[Labelled],
    workers: usize,
) -> anyhow::Result<Vec<(String, Vec<f32>)>> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(vec![None; photos.len()]);
    std::thread::scope(|scope| {
        for _ in 0..workers.max(1) * 2 {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(photo) = photos.get(i) else { break };
                    let face = std::fs::read(dir.join(&photo.file))
                        .ok()
                        .and_then(|bytes| {
                            embedder
                                .analyze_blocking(bytes.into(), ImageKind::Photo)
                                .ok()
                        })
                        .and_then(|a| central(&a));
                    if let Ok(mut r) = results.lock() {
                        r[i] = face.map(|f| (photo.identity.clone(), f));
                    }
                }
            });
        }
    });
    let results = results
        .into_inner()
        .map_err(|_| anyhow::anyhow!("an embedding thread panicked"))?;
    Ok(results.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Faces on a circle: identity `k` at angle k; two photos per identity, a little apart.
    fn faces(identities: usize) -> Vec<(String, Vec<f32>)> {
        let mut out = Vec::new();
        for k in 0..identities {
            for j in 0..2 {
                let a = k as f32 * 0.7 + j as f32 * 0.05;
                let mut v = vec![0.0; 64];
                v[k % 64] = 1.0;
                v[(k * 7 + 3) % 64] += a.sin();
                v[(k * 13 + 5) % 64] += a.cos() * 0.5;
                let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                out.push((format!("id{k}"), v.iter().map(|x| x / n).collect()));
            }
        }
        out
    }

    #[test]
    fn pairs_count_every_pair_and_read_far_and_tar_back() {
        let f = faces(200);
        let pairs = Pairs::of(&f);
        let n = f.len() as u64;
        assert_eq!(pairs.same.len(), 200);
        assert_eq!(pairs.different, n * (n - 1) / 2 - 200);
        let t = pairs.cosine_at(1e-2).expect("resolved");
        let far = pairs.far(t);
        assert!((far - 1e-2).abs() < 2e-3, "{far}");
        assert!(pairs.tar(-1.0) == 1.0 && pairs.tar(1.1) == 0.0);
        assert!(pairs.cosine_at(1e-9).is_none(), "too few pairs for that");
    }

    #[test]
    fn the_calibration_lines_load_as_the_settings_read_them() {
        let pairs = Pairs::of(&faces(300));
        let text = calibration("mine", &pairs, 1e-2).unwrap();
        let loaded: crate::settings::CalibrationSettings = config::Config::builder()
            .add_source(config::File::from_str(&text, config::FileFormat::Toml))
            .build()
            .unwrap()
            .get("calibration.mine")
            .unwrap();
        let operating = pairs.cosine_at(1e-2).unwrap();
        assert!(
            (loaded.operating_cosine - operating).abs() < 0.006,
            "{text}"
        );
        assert!(
            loaded.slope > 0.0 && loaded.cosine_per_decade > 0.0,
            "{text}"
        );
        assert!(loaded.join_cosine < loaded.operating_cosine, "{text}");
        assert!(loaded.merge_cosine > loaded.operating_cosine, "{text}");
    }
}
