//! Precision at event scale: LFW photos (`fixtures/lfw`, folds 1–5: 6,165 photos of 2,835
//! people) indexed as one session through the indexing use case (the folder photo source, the
//! SQLite store), then one search per person with at least two photos, their first photo as
//! the selfie, through the search use case at the service's defaults.
//!
//! LFW labels the central face of each photo only; about a fifth of the photos show
//! bystanders, often other LFW people. A match on a face away from the centre is therefore
//! counted as neither right nor wrong; a match on a central face is right when the photo is
//! labelled with the guest, wrong otherwise. The selfie's own photo is left out of both.
//!
//! The sessions: `~1k` (fold 5), `~5k` (folds 1–3) and `all` (folds 1–5) faces, each also
//! `held out` (the selfies' photos not indexed: the guest's selfie is not one of the event's
//! photos, as in real use). Every image is analysed once ([`Memo`]); the sessions share the
//! analyses.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use async_trait::async_trait;
use facepass::settings::Settings;
use facepass_domain::people::Evidence;
use facepass_domain::ports::{
    EmbedError, Embedder, FaceCursor, PeopleCursor, PeopleQuery, PersonFacesQuery, VectorStore,
};
use facepass_domain::use_cases::{
    BatchItem, IndexBatch, IndexPhoto, SearchBySelfie, SearchLimit, SearchSelfieError,
    SelfieSearchRequest,
};
use facepass_domain::{
    BoundingBox, EmbeddingSpace, FaceAnalysis, ImageBytes, ImageKind, PhotoId, PhotoKey, SessionId,
    Threshold,
};
use facepass_photo_source_fs::FsPhotoSource;
use facepass_vector_store_sqlite::SqliteVectorStore;

use crate::fixtures::fixtures;

/// The LFW fixture folder.
pub fn lfw_dir() -> PathBuf {
    fixtures().join("lfw")
}

/// One row of `lfw/labels.csv` (`file,identity,kind,fold`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LfwPhoto {
    /// Path below [`lfw_dir`], e.g. `Abel_Pacheco/Abel_Pacheco_0001.jpg`.
    pub file: String,
    pub identity: String,
    pub fold: u32,
}

impl LfwPhoto {
    /// The photo id it is indexed under (the path with `/` as `_`).
    pub fn photo_id(&self) -> String {
        self.file.replace('/', "_")
    }
}

/// Every labelled LFW photo, in file order.
pub fn lfw_photos() -> anyhow::Result<Vec<LfwPhoto>> {
    let path = lfw_dir().join("labels.csv");
    let text = std::fs::read_to_string(&path).with_context(|| path.display().to_string())?;
    let mut photos = Vec::new();
    for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.trim_end().split(',').collect();
        let [file, identity, _kind, fold] = cols[..] else {
            anyhow::bail!("{}: malformed row {line:?}", path.display());
        };
        photos.push(LfwPhoto {
            file: file.to_owned(),
            identity: identity.to_owned(),
            fold: fold.parse().with_context(|| format!("fold of {file}"))?,
        });
    }
    photos.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(photos)
}

/// An [`Embedder`] that analyses each distinct photo once: the sessions of the report share
/// their photos, and the impostor tail reads the analyses back. Selfies are analysed every
/// time (their latency is part of the search's).
pub struct Memo<E> {
    inner: Arc<E>,
    analyses: Mutex<HashMap<(u64, usize), FaceAnalysis>>,
}

impl<E> std::fmt::Debug for Memo<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Memo")
    }
}

fn content_key(image: &[u8]) -> (u64, usize) {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    image.hash(&mut hasher);
    (hasher.finish(), image.len())
}

impl<E: Embedder> Memo<E> {
    pub fn new(inner: Arc<E>) -> Self {
        Self {
            inner,
            analyses: Mutex::new(HashMap::new()),
        }
    }

    /// The analysis of `image` as a photo, if it was analysed.
    pub fn photo_analysis(&self, image: &[u8]) -> Option<FaceAnalysis> {
        let key = content_key(image);
        self.analyses
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned()
    }
}

#[async_trait]
impl<E: Embedder> Embedder for Memo<E> {
    fn space(&self) -> EmbeddingSpace {
        self.inner.space()
    }

    async fn analyze(
        &self,
        image: ImageBytes,
        kind: ImageKind,
    ) -> Result<FaceAnalysis, EmbedError> {
        if kind == ImageKind::Selfie {
            return self.inner.analyze(image, kind).await;
        }
        let key = content_key(image.as_slice());
        if let Some(found) = self
            .analyses
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(found.clone());
        }
        let analysis = self.inner.analyze(image, kind).await?;
        self.analyses
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, analysis.clone());
        Ok(analysis)
    }

    async fn health(&self) -> Result<(), EmbedError> {
        self.inner.health().await
    }
}

/// Whether a face box is the photo's central (labelled) face: its centre within 12 % of the
/// photo's width of the photo's centre. On LFW the labelled face's centre lies within 30 px
/// of the 250x250 photo's centre (99.9 % of photos) and every other face further than 35 px.
pub fn is_central(bbox: &BoundingBox, width: f32, height: f32) -> bool {
    let cx = bbox.x + bbox.width / 2.0 - width / 2.0;
    let cy = bbox.y + bbox.height / 2.0 - height / 2.0;
    cx.hypot(cy) <= 0.12 * width
}

/// One session of the report: which photos are indexed and who searches.
#[derive(Debug, Clone)]
pub struct Plan {
    pub name: String,
    pub indexed: Vec<LfwPhoto>,
    /// Each guest (a person with >= 2 photos in the plan's folds) and their selfie (their
    /// first photo).
    pub guests: Vec<(String, LfwPhoto)>,
    /// How many photos each person has in the plan's folds (indexed or held out).
    pub photos_per_person: HashMap<String, usize>,
}

impl Plan {
    /// The photos of `folds`, every guest's first photo indexed too unless `held_out`.
    pub fn of_folds(name: &str, photos: &[LfwPhoto], folds: &[u32], held_out: bool) -> Plan {
        let mut by_identity: BTreeMap<&str, Vec<&LfwPhoto>> = BTreeMap::new();
        for photo in photos.iter().filter(|p| folds.contains(&p.fold)) {
            by_identity.entry(&photo.identity).or_default().push(photo);
        }
        let guests: Vec<(String, LfwPhoto)> = by_identity
            .iter()
            .filter(|(_, photos)| photos.len() >= 2)
            .map(|(identity, photos)| ((*identity).to_owned(), photos[0].clone()))
            .collect();
        let selfies: BTreeSet<&str> = guests.iter().map(|(_, p)| p.file.as_str()).collect();
        let indexed = by_identity
            .values()
            .flatten()
            .filter(|p| !held_out || !selfies.contains(p.file.as_str()))
            .map(|p| (*p).clone())
            .collect();
        Plan {
            name: name.to_owned(),
            indexed,
            guests,
            photos_per_person: by_identity
                .iter()
                .map(|(identity, photos)| ((*identity).to_owned(), photos.len()))
                .collect(),
        }
    }
}

impl Plan {
    /// The indexed photos as batch items (ids as [`LfwPhoto::photo_id`]), in plan order.
    pub fn items(&self) -> anyhow::Result<Vec<BatchItem>> {
        self.indexed
            .iter()
            .map(|p| {
                Ok(BatchItem {
                    photo: PhotoId::parse(p.photo_id())?,
                    key: PhotoKey::parse(p.file.as_str())?,
                })
            })
            .collect()
    }
}

/// The embedder of `config` (analysing each distinct photo once) and a fresh SQLite store at
/// `db` opened with `settings`' store options: what an LFW report runs on.
pub async fn lfw_harness(
    config: &facepass_embedder_onnx::EmbedderConfig,
    settings: &facepass::settings::Settings,
    db: &std::path::Path,
) -> anyhow::Result<(
    Arc<Memo<facepass_embedder_onnx::OnnxEmbedder>>,
    Arc<SqliteVectorStore>,
)> {
    let embedder = Arc::new(Memo::new(Arc::new(
        facepass_embedder_onnx::OnnxEmbedder::start(config)?,
    )));
    let store = Arc::new(
        facepass_vector_store_sqlite::open(db, embedder.space(), true, settings.store_options()?)
            .await?,
    );
    Ok((embedder, store))
}

/// A photo match as the search answered it.
#[derive(Debug, Clone)]
pub struct Found {
    pub photo_id: String,
    pub bbox: BoundingBox,
    pub cosine: f32,
    pub evidence: Evidence,
}

/// What one search answered.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub guest: String,
    pub selfie: String,
    /// A 422's code, or the matches.
    pub answer: Result<Vec<Found>, &'static str>,
    pub latency: Duration,
}

/// Counts over a group of searches.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    pub searches: usize,
    /// The guests' other photos in the session.
    pub expected: usize,
    pub right: usize,
    pub wrong: usize,
    /// Wrong photos returned on a person's evidence (the rest on the face's own cosine).
    pub wrong_on_person: usize,
    /// Searches with at least one wrong photo.
    pub showing_stranger: usize,
    pub refused: BTreeMap<&'static str, usize>,
    pub latencies: Vec<Duration>,
}

impl Tally {
    pub fn recall(&self) -> f64 {
        self.right as f64 / self.expected.max(1) as f64
    }

    pub fn precision(&self) -> f64 {
        let found = self.right + self.wrong;
        if found == 0 {
            1.0
        } else {
            self.right as f64 / found as f64
        }
    }

    pub fn wrong_per_search(&self) -> f64 {
        self.wrong as f64 / self.searches.max(1) as f64
    }

    pub fn stranger_share(&self) -> f64 {
        self.showing_stranger as f64 / self.searches.max(1) as f64
    }

    pub fn p50_ms(&self) -> f64 {
        let mut v: Vec<f64> = self
            .latencies
            .iter()
            .map(|d| d.as_secs_f64() * 1e3)
            .collect();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    }

    pub fn header() -> String {
        format!(
            "| {:<30} | {:>6} | {:>8} | {:>6} | {:>9} | {:>12} | {:>10} | {:>10} | {:>7} | {} |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
            "session",
            "faces",
            "searches",
            "recall",
            "precision",
            "wrong/search",
            "on person",
            "stranger %",
            "p50 ms",
            "refused"
        )
    }

    pub fn row(&self, name: &str, faces: u64) -> String {
        let refused: Vec<String> = self
            .refused
            .iter()
            .map(|(c, n)| format!("{c} {n}"))
            .collect();
        format!(
            "| {:<30} | {:>6} | {:>8} | {:>6.3} | {:>9.3} | {:>12.3} | {:>10} | {:>10.1} | {:>7.1} | {} |",
            name,
            faces,
            self.searches,
            self.recall(),
            self.precision(),
            self.wrong_per_search(),
            self.wrong_on_person,
            self.stranger_share() * 100.0,
            self.p50_ms(),
            refused.join(", ")
        )
    }
}

/// One indexed session and its searches.
pub struct ScaleSession<E: Embedder> {
    pub plan: Plan,
    pub session: SessionId,
    pub faces: u64,
    store: Arc<SqliteVectorStore>,
    embedder: Arc<Memo<E>>,
    /// Photo id → (identity, width, height) of every indexed photo.
    photos: HashMap<String, (String, f32, f32)>,
    /// Identity → its indexed photo ids.
    shows: HashMap<String, BTreeSet<String>>,
}

impl<E: Embedder> std::fmt::Debug for ScaleSession<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScaleSession")
            .field("plan", &self.plan.name)
            .field("faces", &self.faces)
            .finish()
    }
}

impl<E: Embedder> ScaleSession<E> {
    /// Indexes the plan's photos into session `plan.name` of `store` through the batch use
    /// case (photo ids as [`LfwPhoto::photo_id`]).
    pub async fn index(
        plan: Plan,
        embedder: Arc<Memo<E>>,
        store: Arc<SqliteVectorStore>,
        concurrency: usize,
    ) -> anyhow::Result<Self> {
        let session = SessionId::parse(plan.name.replace(' ', "-").as_str())?;
        let source = Arc::new(FsPhotoSource::new(lfw_dir(), 50 << 20)?);
        let batch = IndexBatch::new(
            IndexPhoto::new(embedder.clone(), store.clone(), source),
            concurrency,
        );
        let items = plan.items()?;
        let report = batch.execute(&session, items, false, |_, _, _| {}).await;
        if let Some((photo, error)) = report.errors().next() {
            anyhow::bail!("indexing {photo}: {error}");
        }
        let mut photos = HashMap::new();
        let mut shows: HashMap<String, BTreeSet<String>> = HashMap::new();
        for p in &plan.indexed {
            let size = imagesize::size(lfw_dir().join(&p.file))
                .with_context(|| format!("size of {}", p.file))?;
            photos.insert(
                p.photo_id(),
                (p.identity.clone(), size.width as f32, size.height as f32),
            );
            shows
                .entry(p.identity.clone())
                .or_default()
                .insert(p.photo_id());
        }
        Ok(Self {
            plan,
            session,
            faces: report.faces_indexed,
            store,
            embedder,
            photos,
            shows,
        })
    }

    /// Every guest's search, one after the other, through the search use case with the
    /// service's `settings`.
    pub async fn search_all(
        &self,
        settings: &Settings,
        threshold: Threshold,
    ) -> anyhow::Result<Vec<Outcome>> {
        let search = SearchBySelfie::new(
            self.embedder.clone(),
            self.store.clone(),
            settings.similarity()?,
            settings.selfie_policy(),
            settings.people()?,
        );
        let mut outcomes = Vec::with_capacity(self.plan.guests.len());
        for (guest, selfie) in &self.plan.guests {
            let bytes = std::fs::read(lfw_dir().join(&selfie.file))?;
            let started = Instant::now();
            let result = search
                .execute(SelfieSearchRequest {
                    session: self.session.clone(),
                    selfies: vec![ImageBytes::from(bytes)],
                    face_index: None,
                    threshold,
                    limit: SearchLimit::new(SearchLimit::MAX as i64)?,
                })
                .await;
            let latency = started.elapsed();
            let answer = match result {
                Ok(found) => Ok(found
                    .matches
                    .into_iter()
                    .map(|m| Found {
                        photo_id: m.photo_id.to_string(),
                        bbox: m.face.bbox,
                        cosine: m.cosine,
                        evidence: m.evidence,
                    })
                    .collect()),
                Err(SearchSelfieError::MultipleFaces { .. }) => Err("multiple_faces"),
                Err(SearchSelfieError::NoFaceDetected { .. }) => Err("no_face_detected"),
                Err(SearchSelfieError::PoorSelfie { .. }) => Err("poor_selfie"),
                Err(e) => anyhow::bail!("search for {guest}: {e}"),
            };
            outcomes.push(Outcome {
                guest: guest.clone(),
                selfie: selfie.photo_id(),
                answer,
                latency,
            });
        }
        Ok(outcomes)
    }

    /// The guest's photos in the session other than the selfie's own.
    pub fn expected(&self, outcome: &Outcome) -> usize {
        self.shows
            .get(&outcome.guest)
            .map_or(0, |s| s.iter().filter(|p| **p != outcome.selfie).count())
    }

    /// Counts `outcomes` whose guest passes `filter` (by their number of LFW photos).
    pub fn tally(&self, outcomes: &[Outcome], filter: impl Fn(&Outcome) -> bool) -> Tally {
        let mut t = Tally::default();
        for o in outcomes.iter().filter(|o| filter(o)) {
            t.searches += 1;
            t.expected += self.expected(o);
            t.latencies.push(o.latency);
            let found = match &o.answer {
                Ok(found) => found,
                Err(code) => {
                    *t.refused.entry(code).or_default() += 1;
                    continue;
                }
            };
            let mut wrong = 0;
            for m in found.iter().filter(|m| m.photo_id != o.selfie) {
                let Some((identity, w, h)) = self.photos.get(&m.photo_id) else {
                    continue;
                };
                if !is_central(&m.bbox, *w, *h) {
                    continue;
                }
                if *identity == o.guest {
                    t.right += 1;
                } else {
                    wrong += 1;
                    t.wrong_on_person += usize::from(m.evidence == Evidence::Person);
                }
            }
            t.wrong += wrong;
            t.showing_stranger += usize::from(wrong > 0);
        }
        t
    }

    /// One tab-separated line per match of `outcomes`: guest, selfie, photo, the photo's
    /// identity, whether the face is the central one, cosine, evidence.
    pub fn matches_tsv(&self, outcomes: &[Outcome]) -> String {
        let mut out = String::from("guest\tselfie\tphoto\tidentity\tcentral\tcosine\tevidence\n");
        for o in outcomes {
            for m in o.answer.iter().flatten() {
                let (identity, central) = self
                    .photos
                    .get(&m.photo_id)
                    .map_or(("?", false), |(id, w, h)| {
                        (id.as_str(), is_central(&m.bbox, *w, *h))
                    });
                out.push_str(&format!(
                    "{}\t{}\t{}\t{identity}\t{central}\t{:.4}\t{}\n",
                    o.guest,
                    o.selfie,
                    m.photo_id,
                    m.cosine,
                    m.evidence.as_str()
                ));
            }
        }
        out
    }

    /// How many photos the guest has in the plan's folds, the selfie's included (the ">= 5
    /// photos" group).
    pub fn photos_of(&self, guest: &str) -> usize {
        self.plan.photos_per_person.get(guest).copied().unwrap_or(0)
    }

    /// The central face's embedding of every indexed photo that has one, with its identity.
    pub fn central_faces(&self) -> anyhow::Result<Vec<(String, Vec<f32>)>> {
        let mut out = Vec::new();
        for p in &self.plan.indexed {
            let bytes = std::fs::read(lfw_dir().join(&p.file))?;
            let analysis = self
                .embedder
                .photo_analysis(&bytes)
                .with_context(|| format!("{} was not analysed", p.file))?;
            let (w, h) = (analysis.width as f32, analysis.height as f32);
            if let Some(face) = analysis.faces.iter().find(|f| is_central(&f.bbox, w, h)) {
                out.push((p.identity.clone(), face.embedding.as_slice().to_vec()));
            }
        }
        Ok(out)
    }

    /// The store the session lives in.
    pub fn store(&self) -> &SqliteVectorStore {
        &self.store
    }

    /// How well the session's people match LFW's labels, on the central (labelled) faces: a
    /// face in no person is a group of its own.
    pub async fn grouping(&self) -> anyhow::Result<Grouping> {
        let mut groups: Vec<Vec<String>> = Vec::new();
        let mut grouped: BTreeSet<String> = BTreeSet::new();
        let mut after = None;
        loop {
            let page = self
                .store
                .people(
                    &self.session,
                    &PeopleQuery {
                        min_photos: 1,
                        limit: 1000,
                        after,
                    },
                )
                .await?;
            for person in &page {
                let mut labels = Vec::new();
                let mut cursor = None;
                loop {
                    let faces = self
                        .store
                        .person_faces(
                            &self.session,
                            &person.person,
                            &PersonFacesQuery {
                                limit: 1000,
                                after: cursor,
                            },
                        )
                        .await?
                        .unwrap_or_default();
                    for f in &faces {
                        let photo = f.photo_id.to_string();
                        if let Some((identity, w, h)) = self.photos.get(&photo)
                            && is_central(&f.face.bbox, *w, *h)
                        {
                            labels.push(identity.clone());
                            grouped.insert(photo);
                        }
                    }
                    if faces.len() < 1000 {
                        break;
                    }
                    cursor = faces.last().map(|f| FaceCursor {
                        det_score: f.face.det_score,
                        face: f.face.face_id,
                    });
                }
                if !labels.is_empty() {
                    groups.push(labels);
                }
            }
            if page.len() < 1000 {
                break;
            }
            after = page.last().map(|p| PeopleCursor {
                photos: p.photos,
                person: p.person,
            });
        }
        // Central faces in no person: one group each.
        for p in &self.plan.indexed {
            if !grouped.contains(&p.photo_id()) && self.has_central_face(p)? {
                groups.push(vec![p.identity.clone()]);
            }
        }
        Ok(Grouping::of(&groups))
    }

    fn has_central_face(&self, photo: &LfwPhoto) -> anyhow::Result<bool> {
        let bytes = std::fs::read(lfw_dir().join(&photo.file))?;
        let analysis = self
            .embedder
            .photo_analysis(&bytes)
            .with_context(|| format!("{} was not analysed", photo.file))?;
        let (w, h) = (analysis.width as f32, analysis.height as f32);
        Ok(analysis.faces.iter().any(|f| is_central(&f.bbox, w, h)))
    }
}

/// Precision and recall of a grouping against labels, pairwise and BCubed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grouping {
    pub faces: usize,
    /// Groups of two faces or more.
    pub persons: usize,
    pub pairwise_precision: f64,
    pub pairwise_recall: f64,
    pub bcubed_precision: f64,
    pub bcubed_recall: f64,
}

impl Grouping {
    /// `groups`: the label of every face, group by group.
    pub fn of(groups: &[Vec<String>]) -> Grouping {
        let pairs = |n: usize| (n * n.saturating_sub(1) / 2) as f64;
        let mut per_label: HashMap<&str, usize> = HashMap::new();
        for g in groups {
            for label in g {
                *per_label.entry(label).or_default() += 1;
            }
        }
        let (mut same, mut predicted) = (0.0, 0.0);
        let (mut precision, mut recall, mut faces) = (0.0, 0.0, 0usize);
        for g in groups {
            let mut counts: HashMap<&str, usize> = HashMap::new();
            for label in g {
                *counts.entry(label).or_default() += 1;
            }
            predicted += pairs(g.len());
            for (label, n) in &counts {
                same += pairs(*n);
                // Each of the n faces: n of its group share its label, of the group's len.
                precision += (*n * *n) as f64 / g.len() as f64;
                recall += (*n * *n) as f64 / per_label[label] as f64;
            }
            faces += g.len();
        }
        let truth: f64 = per_label.values().map(|n| pairs(*n)).sum();
        Grouping {
            faces,
            persons: groups.iter().filter(|g| g.len() >= 2).count(),
            pairwise_precision: if predicted > 0.0 {
                same / predicted
            } else {
                1.0
            },
            pairwise_recall: if truth > 0.0 { same / truth } else { 1.0 },
            bcubed_precision: precision / faces.max(1) as f64,
            bcubed_recall: recall / faces.max(1) as f64,
        }
    }
}

/// Different-person pairs of central faces at or above each cosine, and same-person pairs
/// (the recognizer's impostor tail and its acceptance), from `faces` (identity, embedding).
pub fn impostor_tail(faces: &[(String, Vec<f32>)], cosines: &[f32]) -> Vec<(f32, u64, u64)> {
    let mut impostor = vec![0u64; cosines.len()];
    let mut genuine = vec![0u64; cosines.len()];
    for (i, (a_id, a)) in faces.iter().enumerate() {
        for (b_id, b) in &faces[i + 1..] {
            let c = facepass_domain::embedding::dot(a, b);
            let counts = if a_id == b_id {
                &mut genuine
            } else {
                &mut impostor
            };
            for (k, t) in cosines.iter().enumerate() {
                if c >= *t {
                    counts[k] += 1;
                }
            }
        }
    }
    cosines
        .iter()
        .zip(impostor.iter().zip(genuine))
        .map(|(t, (i, g))| (*t, *i, g))
        .collect()
}

/// The impostor tail as a table: per cosine, the share of different-person pairs at or above
/// it (FAR), the strangers per search it implies at `faces` faces, and the share of
/// same-person pairs (TAR).
pub fn tail_report(faces: &[(String, Vec<f32>)], session_faces: u64) -> String {
    let n = faces.len() as u64;
    let mut per_identity: HashMap<&str, u64> = HashMap::new();
    for (id, _) in faces {
        *per_identity.entry(id).or_default() += 1;
    }
    let genuine_pairs: u64 = per_identity
        .values()
        .map(|k| k * k.saturating_sub(1) / 2)
        .sum();
    let impostor_pairs = n * n.saturating_sub(1) / 2 - genuine_pairs;
    let cosines: Vec<f32> = (0..=15).map(|i| 0.30 + 0.02 * i as f32).collect();
    let mut out = format!(
        "{n} central faces: {impostor_pairs} different-person pairs, {genuine_pairs} same-person pairs\n\
         | cosine | different-person pairs | FAR | strangers per search at {session_faces} faces | TAR |\n|---:|---:|---:|---:|---:|"
    );
    for (t, imp, gen_) in impostor_tail(faces, &cosines) {
        let far = imp as f64 / impostor_pairs.max(1) as f64;
        out.push_str(&format!(
            "\n| {t:.2} | {imp} | {far:.2e} | {:.3} | {:.3} |",
            far * session_faces as f64,
            gen_ as f64 / genuine_pairs.max(1) as f64
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping_scores_count_pairs_and_faces() {
        let g = |labels: &[&str]| labels.iter().map(|l| (*l).to_owned()).collect::<Vec<_>>();
        // Perfect: one group per label.
        let perfect = Grouping::of(&[g(&["a", "a", "a"]), g(&["b", "b"]), g(&["c"])]);
        assert_eq!(
            (perfect.pairwise_precision, perfect.pairwise_recall),
            (1.0, 1.0)
        );
        assert_eq!(
            (perfect.bcubed_precision, perfect.bcubed_recall),
            (1.0, 1.0)
        );
        assert_eq!((perfect.faces, perfect.persons), (6, 2));
        // One group of everything: recall 1, precision the share of same-label pairs.
        let merged = Grouping::of(&[g(&["a", "a", "b", "b"])]);
        assert_eq!(merged.pairwise_recall, 1.0);
        assert!((merged.pairwise_precision - 2.0 / 6.0).abs() < 1e-12);
        assert!((merged.bcubed_precision - 0.5).abs() < 1e-12);
        // Every face alone: precision 1, pairwise recall 0, BCubed recall 1/|label|.
        let split = Grouping::of(&[g(&["a"]), g(&["a"]), g(&["b"])]);
        assert_eq!(
            (split.pairwise_precision, split.pairwise_recall),
            (1.0, 0.0)
        );
        assert!((split.bcubed_recall - (0.5 + 0.5 + 1.0) / 3.0).abs() < 1e-12);
    }
}
