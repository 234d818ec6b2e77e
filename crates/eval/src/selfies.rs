//! Selfies as guests take them: every DEV `single` photo degraded in the ways phone selfies
//! go wrong (thumbnail-sized, blurred, dark, tilted, over-compressed, noisy, a night shot,
//! sideways or upside down without EXIF), searched at the default threshold against a
//! session of every DEV photo, through the search use case with the real models and the
//! SQLite store.
//!
//! Per kind the report counts photo-level recall and precision over the guest's other
//! photos, refusals by code, and silent misses: a 200 without matches and without warnings
//! for a guest who is in the session's photos (the answer a guest cannot act on).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use facepass::settings::Settings;
use facepass_domain::SimilarityCalibration;
use facepass_domain::people::PeoplePolicy;
use facepass_domain::ports::{Embedder, VectorStore};
use facepass_domain::use_cases::{
    SearchBySelfie, SearchLimit, SearchSelfieError, SelfiePolicy, SelfieSearch, SelfieSearchRequest,
};
use facepass_domain::{FaceQuality, ImageBytes, ImageKind, PhotoId, SessionId, Threshold};
use facepass_embedder_onnx::{EmbedderConfig, OnnxEmbedder};
use facepass_vector_store_sqlite::SqliteVectorStore;
use opencv::core::{self, Mat, Point2f, Scalar, Size, Vector};
use opencv::prelude::*;
use opencv::{imgcodecs, imgproc};

use crate::fixtures::{Label, labels, repo_root};
use crate::scenes::read_bgr;

/// One way a selfie goes wrong, with its strength.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Degradation {
    /// The photo as it is (re-encoded as a quality-90 JPEG).
    Clean,
    /// Scaled down so that the face is `face_px` tall.
    Thumbnail { face_px: f32 },
    /// Gaussian blur of `share` x the face height (defocus, shake).
    Blurred { share: f32 },
    /// Blurred as `Blurred`, then sensor noise as `Noisy` (a shaken shot in dim light).
    BlurredNoisy { share: f32, sigma: f32 },
    /// Underexposed: `255 * gain * (v / 255)^gamma`.
    Dark { gain: f32, gamma: f32 },
    /// The phone held at an angle: turned by `degrees` about the centre, same frame.
    Tilted { degrees: f32 },
    /// Over-compressed JPEG.
    Jpeg { quality: i32 },
    /// Sensor noise: Gaussian with this standard deviation (8-bit levels).
    Noisy { sigma: f32 },
    /// A small, dark, noisy, compressed night shot.
    Night {
        face_px: f32,
        gain: f32,
        sigma: f32,
        quality: i32,
    },
    /// Uploaded turned by `quarters` x 90° clockwise with no EXIF orientation.
    Turned { quarters: u8 },
}

impl Degradation {
    /// The kinds of the report, each at the strength it is evaluated at.
    pub fn standard() -> Vec<Degradation> {
        vec![
            Degradation::Clean,
            Degradation::Thumbnail { face_px: 28.0 },
            Degradation::Blurred { share: 0.025 },
            Degradation::Dark {
                gain: 0.15,
                gamma: 1.5,
            },
            Degradation::Tilted { degrees: 45.0 },
            Degradation::Jpeg { quality: 5 },
            Degradation::Noisy { sigma: 25.0 },
            NIGHT,
            Degradation::Turned { quarters: 1 },
            Degradation::Turned { quarters: 2 },
        ]
    }

    /// The kinds a selfie is restored for (small, blurred, dark, night), each at a milder and
    /// a harsher strength around the report's, and blur with sensor noise: a restoration
    /// fitted to the report's one strength shows here.
    pub fn sweep() -> Vec<Degradation> {
        let night = |face_px, gain| Degradation::Night {
            face_px,
            gain,
            sigma: 6.0,
            quality: 35,
        };
        vec![
            Degradation::Thumbnail { face_px: 22.0 },
            Degradation::Thumbnail { face_px: 34.0 },
            Degradation::Blurred { share: 0.015 },
            Degradation::Blurred { share: 0.04 },
            Degradation::Dark {
                gain: 0.3,
                gamma: 1.2,
            },
            Degradation::Dark {
                gain: 0.1,
                gamma: 1.8,
            },
            BLURRED_NOISY,
            night(48.0, 0.35),
            night(96.0, 0.25),
        ]
    }

    pub fn name(&self) -> String {
        match *self {
            Degradation::Clean => "clean".to_owned(),
            Degradation::Thumbnail { face_px } => format!("thumbnail {face_px} px"),
            Degradation::Blurred { share } => format!("blurred {:.1}%", share * 100.0),
            Degradation::BlurredNoisy { share, sigma } => {
                format!("blurred {:.1}% σ{sigma}", share * 100.0)
            }
            Degradation::Dark { gain, gamma } => format!("dark x{gain} ^{gamma}"),
            Degradation::Tilted { degrees } => format!("tilted {degrees}°"),
            Degradation::Jpeg { quality } => format!("jpeg q{quality}"),
            Degradation::Noisy { sigma } => format!("noisy σ{sigma}"),
            Degradation::Night { face_px, .. } => format!("night {face_px} px"),
            Degradation::Turned { quarters: 2 } => "upside down".to_owned(),
            Degradation::Turned { quarters } => format!("turned {}°", u32::from(quarters) * 90),
        }
    }

    /// A turned or tilted selfie (the "rotated" group).
    pub fn is_rotation(&self) -> bool {
        matches!(
            self,
            Degradation::Tilted { .. } | Degradation::Turned { .. }
        )
    }

    /// `image` (BGR) with a face `face_height` px tall, degraded and encoded as a JPEG.
    pub fn apply(&self, image: &Mat, face_height: f32, seed: u64) -> anyhow::Result<Vec<u8>> {
        let mut quality = 90;
        let out = match *self {
            Degradation::Clean => image.try_clone()?,
            Degradation::Thumbnail { face_px } => shrink(image, face_px / face_height)?,
            Degradation::Blurred { share } => blur(image, share * face_height)?,
            Degradation::BlurredNoisy { share, sigma } => {
                noisy(&blur(image, share * face_height)?, sigma, seed)?
            }
            Degradation::Dark { gain, gamma } => darken(image, gain, gamma)?,
            Degradation::Tilted { degrees } => tilt(image, degrees)?,
            Degradation::Jpeg { quality: q } => {
                quality = q;
                image.try_clone()?
            }
            Degradation::Noisy { sigma } => noisy(image, sigma, seed)?,
            Degradation::Night {
                face_px,
                gain,
                sigma,
                quality: q,
            } => {
                quality = q;
                let small = shrink(image, face_px / face_height)?;
                noisy(&darken(&small, gain, 1.0)?, sigma, seed)?
            }
            Degradation::Turned { quarters } => {
                let mut out = image.try_clone()?;
                for _ in 0..quarters % 4 {
                    let mut turned = Mat::default();
                    core::rotate(&out, &mut turned, core::ROTATE_90_CLOCKWISE)?;
                    out = turned;
                }
                out
            }
        };
        jpeg(&out, quality)
    }
}

fn blur(image: &Mat, sigma: f32) -> anyhow::Result<Mat> {
    let mut out = Mat::default();
    let sigma = f64::from(sigma).max(0.5);
    imgproc::gaussian_blur_def(image, &mut out, Size::new(0, 0), sigma)?;
    Ok(out)
}

fn shrink(image: &Mat, scale: f32) -> anyhow::Result<Mat> {
    if scale >= 1.0 {
        return Ok(image.try_clone()?);
    }
    let size = Size::new(
        ((image.cols() as f32 * scale).round() as i32).max(1),
        ((image.rows() as f32 * scale).round() as i32).max(1),
    );
    let mut out = Mat::default();
    imgproc::resize(image, &mut out, size, 0.0, 0.0, imgproc::INTER_AREA)?;
    Ok(out)
}

fn darken(image: &Mat, gain: f32, gamma: f32) -> anyhow::Result<Mat> {
    let table: Vec<u8> = (0..256)
        .map(|v| (255.0 * gain * (v as f32 / 255.0).powf(gamma)).round() as u8)
        .collect();
    let lut = Mat::from_slice(&table)?;
    let mut out = Mat::default();
    core::lut(image, &lut, &mut out)?;
    Ok(out)
}

fn tilt(image: &Mat, degrees: f32) -> anyhow::Result<Mat> {
    let centre = Point2f::new(image.cols() as f32 / 2.0, image.rows() as f32 / 2.0);
    let m = imgproc::get_rotation_matrix_2d(centre, f64::from(degrees), 1.0)?;
    let mut out = Mat::default();
    imgproc::warp_affine(
        image,
        &mut out,
        &m,
        image.size()?,
        imgproc::INTER_LINEAR,
        core::BORDER_CONSTANT,
        Scalar::all(0.0),
    )?;
    Ok(out)
}

fn noisy(image: &Mat, sigma: f32, seed: u64) -> anyhow::Result<Mat> {
    core::set_rng_seed(seed as i32)?;
    let mut noise = Mat::new_size_with_default(image.size()?, core::CV_16SC3, Scalar::all(0.0))?;
    core::randn(
        &mut noise,
        &Scalar::all(0.0),
        &Scalar::all(f64::from(sigma)),
    )?;
    let mut wide = Mat::default();
    image.convert_to(&mut wide, core::CV_16SC3, 1.0, 0.0)?;
    let mut sum = Mat::default();
    core::add(&wide, &noise, &mut sum, &core::no_array(), -1)?;
    let mut out = Mat::default();
    sum.convert_to(&mut out, core::CV_8UC3, 1.0, 0.0)?;
    Ok(out)
}

fn jpeg(image: &Mat, quality: i32) -> anyhow::Result<Vec<u8>> {
    let mut buf = Vector::<u8>::new();
    let params = Vector::from_slice(&[imgcodecs::IMWRITE_JPEG_QUALITY, quality]);
    imgcodecs::imencode(".jpg", image, &mut buf, &params)?;
    Ok(buf.to_vec())
}

/// What one search answered.
#[derive(Debug, Clone)]
pub enum Answer {
    /// Matched photos (the selfie's own photos left out) and the warnings.
    Found {
        photos: BTreeSet<String>,
        /// Raw cosine of each matched photo's best face.
        cosines: BTreeMap<String, f32>,
        warnings: Vec<&'static str>,
        quality: Vec<FaceQuality>,
    },
    /// A 422 with this code (`poor_selfie`, `no_face_detected`, `multiple_faces`) and, for
    /// `poor_selfie`, its reasons.
    Refused {
        code: &'static str,
        reasons: Vec<&'static str>,
        quality: Vec<FaceQuality>,
    },
}

/// One search of the set.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub kind: String,
    pub files: Vec<String>,
    /// The guest's other photos in the session.
    pub expected: BTreeSet<String>,
    pub answer: Answer,
    pub latency: Duration,
}

impl Outcome {
    pub fn true_positives(&self) -> usize {
        match &self.answer {
            Answer::Found { photos, .. } => photos.intersection(&self.expected).count(),
            Answer::Refused { .. } => 0,
        }
    }

    pub fn false_positives(&self) -> usize {
        match &self.answer {
            Answer::Found { photos, .. } => photos.difference(&self.expected).count(),
            Answer::Refused { .. } => 0,
        }
    }

    /// A 200 with nothing found and nothing said, for a guest who is in the photos.
    /// The poor-selfie reasons given, as warnings or as the refusal's reasons.
    pub fn reasons(&self) -> &[&'static str] {
        match &self.answer {
            Answer::Found { warnings, .. } => warnings,
            Answer::Refused { reasons, .. } => reasons,
        }
    }

    pub fn is_silent_miss(&self) -> bool {
        matches!(&self.answer, Answer::Found { photos, warnings, .. }
            if photos.is_empty() && warnings.is_empty() && !self.expected.is_empty())
    }
}

/// Counts over a group of searches.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    pub searches: usize,
    pub expected: usize,
    pub true_positives: usize,
    pub false_positives: usize,
    pub silent: usize,
    pub warned: usize,
    pub refused: BTreeMap<&'static str, usize>,
    pub latency: Duration,
}

impl Tally {
    pub fn of<'a>(outcomes: impl IntoIterator<Item = &'a Outcome>) -> Self {
        let mut t = Tally::default();
        for o in outcomes {
            t.searches += 1;
            t.expected += o.expected.len();
            t.true_positives += o.true_positives();
            t.false_positives += o.false_positives();
            t.silent += usize::from(o.is_silent_miss());
            t.latency += o.latency;
            match &o.answer {
                Answer::Found { warnings, .. } => t.warned += usize::from(!warnings.is_empty()),
                Answer::Refused { code, .. } => *t.refused.entry(code).or_default() += 1,
            }
        }
        t
    }

    pub fn recall(&self) -> f64 {
        self.true_positives as f64 / self.expected.max(1) as f64
    }

    pub fn precision(&self) -> f64 {
        let found = self.true_positives + self.false_positives;
        if found == 0 {
            1.0
        } else {
            self.true_positives as f64 / found as f64
        }
    }

    pub fn silent_share(&self) -> f64 {
        self.silent as f64 / self.searches.max(1) as f64
    }

    pub fn header() -> String {
        format!(
            "{:<16} {:>8} {:>7} {:>9} {:>7} {:>8} {:>8}  {}",
            "kind", "searches", "recall", "precision", "silent", "warned", "ms/query", "refused"
        )
    }

    pub fn row(&self, name: &str) -> String {
        let refused: Vec<String> = self
            .refused
            .iter()
            .map(|(c, n)| format!("{c} {n}"))
            .collect();
        format!(
            "{:<16} {:>8} {:>7.3} {:>9.3} {:>7} {:>8} {:>8.1}  {}",
            name,
            self.searches,
            self.recall(),
            self.precision(),
            self.silent,
            self.warned,
            self.latency.as_secs_f64() * 1e3 / self.searches.max(1) as f64,
            refused.join(", ")
        )
    }
}

/// The session of every DEV photo, indexed once, and the search over it.
#[allow(missing_debug_implementations)]
pub struct DevSession {
    embedder: Arc<OnnxEmbedder>,
    store: Arc<SqliteVectorStore>,
    calibration: SimilarityCalibration,
    /// How selfie faces are judged (the service's defaults unless changed).
    pub policy: SelfiePolicy,
    /// How the session's people are grouped and matched (the service's defaults).
    pub people: PeoplePolicy,
    /// The search threshold (the API's default unless changed).
    pub threshold: Threshold,
    session: SessionId,
    /// Which photos show each identity.
    shows: BTreeMap<String, BTreeSet<String>>,
    /// Every DEV single with the height of its largest face.
    pub singles: Vec<(Label, f32)>,
    _dir: tempfile::TempDir,
}

impl DevSession {
    /// Indexes every decodable DEV photo with `config` (photo ids are the file names) and
    /// prepares the search with the service's default calibration and selfie policy.
    pub async fn index(config: &EmbedderConfig) -> anyhow::Result<Self> {
        let settings = Settings::load_from(
            Some(repo_root().join("config/default.toml")),
            None,
            std::iter::empty(),
        )?;
        let embedder = Arc::new(OnnxEmbedder::start(config)?);
        let dir = tempfile::tempdir()?;
        let store = Arc::new(
            facepass_vector_store_sqlite::open(
                &dir.path().join("dev.db"),
                embedder.space(),
                true,
                settings.store_options()?,
            )
            .await?,
        );
        let session = SessionId::parse("dev")?;
        let mut shows: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut singles = Vec::new();
        for label in labels()?.into_iter().filter(|l| l.kind != "corrupt") {
            let bytes = std::fs::read(label.path())?;
            let analysis = embedder
                .analyze(ImageBytes::from(bytes), ImageKind::Photo)
                .await?;
            for identity in &label.identities {
                shows
                    .entry(identity.clone())
                    .or_default()
                    .insert(label.file.clone());
            }
            if label.kind == "single" {
                let height = analysis
                    .faces
                    .iter()
                    .map(|f| f.bbox.height)
                    .fold(0.0, f32::max);
                anyhow::ensure!(height > 0.0, "{}: no face", label.file);
                singles.push((label.clone(), height));
            }
            store
                .replace_photo(&session, &PhotoId::parse(&label.file)?, analysis.faces)
                .await?;
        }
        Ok(Self {
            embedder,
            store,
            calibration: settings.similarity()?,
            policy: settings.selfie_policy(),
            people: settings.people()?,
            threshold: Threshold::default(),
            session,
            shows,
            singles,
            _dir: dir,
        })
    }

    /// Searches with `selfies` of `identity` (made from `files`) at `self.threshold`.
    pub async fn search(
        &self,
        kind: &str,
        identity: &str,
        files: &[&str],
        selfies: Vec<Vec<u8>>,
    ) -> anyhow::Result<Outcome> {
        let own: BTreeSet<String> = files.iter().map(|f| (*f).to_owned()).collect();
        let expected: BTreeSet<String> = self.shows[identity].difference(&own).cloned().collect();
        let started = Instant::now();
        let search = SearchBySelfie::new(
            self.embedder.clone(),
            self.store.clone(),
            self.calibration,
            self.policy,
            self.people,
        );
        let result = search
            .execute(SelfieSearchRequest {
                session: self.session.clone(),
                selfies: selfies.into_iter().map(ImageBytes::from).collect(),
                face_index: None,
                threshold: self.threshold,
                limit: SearchLimit::new(SearchLimit::MAX as i64)?,
            })
            .await;
        let latency = started.elapsed();
        let answer = match result {
            Ok(SelfieSearch {
                matches,
                warnings,
                query_faces,
                ..
            }) => Answer::Found {
                cosines: matches
                    .iter()
                    .map(|m| (m.photo_id.to_string(), m.cosine))
                    .filter(|(p, _)| !own.contains(p))
                    .collect(),
                photos: matches
                    .into_iter()
                    .map(|m| m.photo_id.to_string())
                    .filter(|p| !own.contains(p))
                    .collect(),
                warnings: warnings.iter().map(|r| r.code()).collect(),
                quality: query_faces.iter().map(|q| q.quality).collect(),
            },
            Err(SearchSelfieError::PoorSelfie {
                query_faces,
                reasons,
            }) => Answer::Refused {
                code: "poor_selfie",
                reasons: reasons.iter().map(|r| r.code()).collect(),
                quality: query_faces.iter().map(|q| q.quality).collect(),
            },
            Err(SearchSelfieError::NoFaceDetected { .. }) => Answer::Refused {
                code: "no_face_detected",
                reasons: Vec::new(),
                quality: Vec::new(),
            },
            Err(SearchSelfieError::MultipleFaces { .. }) => Answer::Refused {
                code: "multiple_faces",
                reasons: Vec::new(),
                quality: Vec::new(),
            },
            Err(e) => anyhow::bail!("{kind} {files:?}: {e}"),
        };
        Ok(Outcome {
            kind: kind.to_owned(),
            files: files.iter().map(|f| (*f).to_owned()).collect(),
            expected,
            answer,
            latency,
        })
    }

    /// Every single degraded by every kind of `kinds`, searched one by one.
    pub async fn degraded(&self, kinds: &[Degradation]) -> anyhow::Result<Vec<Outcome>> {
        let mut outcomes = Vec::new();
        for (i, (label, face_height)) in self.singles.iter().enumerate() {
            let image = read_bgr(label)?;
            for kind in kinds {
                let selfie = kind.apply(&image, *face_height, i as u64 + 1)?;
                outcomes.push(
                    self.search(
                        &kind.name(),
                        &label.identities[0],
                        &[label.file.as_str()],
                        vec![selfie],
                    )
                    .await?,
                );
            }
        }
        Ok(outcomes)
    }

    /// Two poor selfies of each guest with at least two single photos, made from two
    /// different photos, searched alone and together: (first, second, both).
    pub async fn pairs(
        &self,
        first: Degradation,
        second: Degradation,
    ) -> anyhow::Result<[Vec<Outcome>; 3]> {
        let mut by_identity: BTreeMap<&str, Vec<(&Label, f32)>> = BTreeMap::new();
        for (label, height) in &self.singles {
            by_identity
                .entry(label.identities[0].as_str())
                .or_default()
                .push((label, *height));
        }
        let mut out: [Vec<Outcome>; 3] = Default::default();
        for (identity, photos) in by_identity {
            let [(a, ha), (b, hb), ..] = photos[..] else {
                continue;
            };
            let sa = first.apply(&read_bgr(a)?, ha, 1)?;
            let sb = second.apply(&read_bgr(b)?, hb, 2)?;
            let files = [a.file.as_str(), b.file.as_str()];
            // Each alone is judged against the same photos as the pair (both own photos out).
            out[0].push(
                self.search(&first.name(), identity, &files, vec![sa.clone()])
                    .await?,
            );
            out[1].push(
                self.search(&second.name(), identity, &files, vec![sb.clone()])
                    .await?,
            );
            out[2].push(self.search("both", identity, &files, vec![sa, sb]).await?);
        }
        Ok(out)
    }
}

/// The two poor selfies of the multi-selfie comparison: one blurred, one small and dark.
pub const PAIR: [Degradation; 2] = [Degradation::Blurred { share: 0.025 }, NIGHT];

/// A blurred selfie with sensor noise (not in the report: `--sweep`, and the tests of the
/// sharpness that noise must not fake).
pub const BLURRED_NOISY: Degradation = Degradation::BlurredNoisy {
    share: 0.025,
    sigma: 8.0,
};

/// The night shot of the report.
pub const NIGHT: Degradation = Degradation::Night {
    face_px: 64.0,
    gain: 0.35,
    sigma: 6.0,
    quality: 35,
};

/// The kinds' report, one row per kind, then the rotated ones and all degraded ones.
pub fn report(kinds: &[Degradation], outcomes: &[Outcome]) -> String {
    let mut lines = vec![Tally::header()];
    for kind in kinds {
        let name = kind.name();
        lines.push(Tally::of(outcomes.iter().filter(|o| o.kind == name)).row(&name));
    }
    let rotated: BTreeSet<String> = kinds
        .iter()
        .filter(|k| k.is_rotation())
        .map(Degradation::name)
        .collect();
    if !rotated.is_empty() {
        lines.push(Tally::of(outcomes.iter().filter(|o| rotated.contains(&o.kind))).row("rotated"));
    }
    lines.push(Tally::of(outcomes.iter().filter(|o| o.kind != "clean")).row("all degraded"));
    lines.join("\n")
}

/// Per kind, the raw cosines of the searches' matches (run them at a low threshold): the
/// guest's photos (genuine) and everyone else's (impostor), to fit thresholds on.
pub fn cosine_report(kinds: &[Degradation], outcomes: &[Outcome]) -> String {
    let mut out = String::from(
        "kind             genuine p10   p25   p50  impostor max  p99.9  >=0.35 >=0.38 >=0.40 >=0.42 of",
    );
    for kind in kinds.iter().map(Degradation::name) {
        let (mut genuine, mut impostor) = (Vec::new(), Vec::new());
        for o in outcomes.iter().filter(|o| o.kind == kind) {
            if let Answer::Found { cosines, .. } = &o.answer {
                for (photo, &c) in cosines {
                    if o.expected.contains(photo) {
                        genuine.push(c);
                    } else {
                        impostor.push(c);
                    }
                }
            }
        }
        genuine.sort_by(f32::total_cmp);
        impostor.sort_by(f32::total_cmp);
        let q = |v: &[f32], p: f64| {
            v.get(((v.len() as f64 - 1.0) * p).round() as usize)
                .copied()
                .unwrap_or(f32::NAN)
        };
        let over = |t: f32| impostor.iter().filter(|&&c| c >= t).count();
        out.push_str(&format!(
            "\n{kind:<16} {:>11.3} {:>5.3} {:>5.3} {:>13.3} {:>6.3} {:>7} {:>6} {:>6} {:>6} {}",
            q(&genuine, 0.10),
            q(&genuine, 0.25),
            q(&genuine, 0.50),
            impostor.last().copied().unwrap_or(f32::NAN),
            q(&impostor, 0.999),
            over(0.35),
            over(0.38),
            over(0.40),
            over(0.42),
            impostor.len()
        ));
    }
    out
}
