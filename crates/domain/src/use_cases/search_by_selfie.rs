//! Use case: find every photo of a session showing the person in a selfie, by the session's
//! people (see [`crate::people`]): a face is returned when it matches the selfie at the
//! threshold the session's size needs, or when the person it belongs to does.

use std::collections::HashMap;
use std::sync::Arc;

use crate::calibration::SimilarityCalibration;
use crate::embedding::Threshold;
use crate::face::{BoundingBox, DetectedFace, FaceAnalysis, FaceQuality, ImageBytes, ImageKind};
use crate::ids::{PersonId, PhotoId, SessionId};
use crate::people::{Accepted, Evidence, Matcher, PeoplePolicy, SessionScores};
use crate::ports::{EmbedError, Embedder, StoreError, StoredFace, VectorStore};

/// How many photos a search returns at most: 1..=1000.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchLimit(usize);

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("limit must be between 1 and {max}, got {0}", max = SearchLimit::MAX)]
pub struct SearchLimitError(pub i64);

impl SearchLimit {
    pub const MAX: usize = 1000;
    pub const DEFAULT: SearchLimit = SearchLimit(100);

    pub fn new(value: i64) -> Result<Self, SearchLimitError> {
        if (1..=Self::MAX as i64).contains(&value) {
            Ok(Self(value as usize))
        } else {
            Err(SearchLimitError(value))
        }
    }

    pub fn get(self) -> usize {
        self.0
    }
}

/// At most this many selfies of one guest per search.
pub const MAX_SELFIES: usize = 3;

/// Why a selfie face is a poor query. Ordered by how much each explains a miss: the first
/// one found is the `reason` reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PoorSelfieReason {
    TooSmall,
    TooBlurry,
    TooDark,
    ExtremePose,
}

impl PoorSelfieReason {
    /// The stable code in answers (`details.reason`, `warnings`).
    pub fn code(self) -> &'static str {
        match self {
            Self::TooSmall => "too_small",
            Self::TooBlurry => "too_blurry",
            Self::TooDark => "too_dark",
            Self::ExtremePose => "extreme_pose",
        }
    }
}

/// Below (above, for pose) these a selfie face is poor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QualityThresholds {
    /// Smallest face height, original pixels.
    pub min_face_px: f32,
    /// Smallest sharpness ([`FaceQuality::sharpness`]).
    pub min_sharpness: f32,
    /// Smallest mean grey level of the aligned crop.
    pub min_brightness: f32,
    /// Largest estimated yaw, degrees.
    pub max_pose: f32,
}

/// Fitted on DEV selfies degraded by `facepass-eval selfies` (docs/benchmarks.md): sharp
/// upright selfies measure face_px >= 114, sharpness >= 21 (turned, compressed and noisy
/// ones included), brightness >= 109, pose <= 28; faces of 28 px are found at recall 0.62,
/// blurred ones measure sharpness 2.3-9.3 (with sensor noise too: up to 10), dark ones
/// brightness 12-25 and night shots 40-67. No DEV face is in profile: `max_pose` is the
/// landmark geometry's limit, not a fit.
impl Default for QualityThresholds {
    fn default() -> Self {
        Self {
            min_face_px: 40.0,
            min_sharpness: 15.0,
            min_brightness: 70.0,
            max_pose: 50.0,
        }
    }
}

impl QualityThresholds {
    /// Every reason `quality` is poor, in [`PoorSelfieReason`] order (empty: a good face).
    pub fn reasons(&self, quality: &FaceQuality) -> Vec<PoorSelfieReason> {
        [
            (
                quality.face_px < self.min_face_px,
                PoorSelfieReason::TooSmall,
            ),
            (
                quality.sharpness < self.min_sharpness,
                PoorSelfieReason::TooBlurry,
            ),
            (
                quality.brightness < self.min_brightness,
                PoorSelfieReason::TooDark,
            ),
            (quality.pose > self.max_pose, PoorSelfieReason::ExtremePose),
        ]
        .into_iter()
        .filter_map(|(poor, reason)| poor.then_some(reason))
        .collect()
    }
}

/// How the selfie's face is chosen and judged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SelfiePolicy {
    /// Another face whose visible area is at least this fraction of the largest visible
    /// face's area competes with it.
    pub competing_area_ratio: f32,
    /// Among competing faces, the one nearest the frame's centre is searched for when it is
    /// at most this fraction of the next one's distance from the centre (the photo is framed
    /// on it); otherwise the selfie is refused as ambiguous. On LFW, where the labelled
    /// person is the central face, every photo with competing faces has a ratio of 0.38 or
    /// less (median 0.07).
    pub central_distance_ratio: f32,
    pub quality: QualityThresholds,
}

impl Default for SelfiePolicy {
    fn default() -> Self {
        Self {
            competing_area_ratio: 0.6,
            central_distance_ratio: 0.5,
            quality: QualityThresholds::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SelfieSearchRequest {
    pub session: SessionId,
    /// One to [`MAX_SELFIES`] selfies of the same guest.
    pub selfies: Vec<ImageBytes>,
    /// Which face of a single selfie to search for, in the order of
    /// [`SearchSelfieError::MultipleFaces`]'s boxes (largest visible area first).
    pub face_index: Option<usize>,
    pub threshold: Threshold,
    pub limit: SearchLimit,
}

/// The face searched for in one selfie.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryFace {
    pub bbox: BoundingBox,
    pub det_score: f32,
    pub quality: FaceQuality,
    /// Why this face is a poor query (empty: it is not).
    pub poor: Vec<PoorSelfieReason>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SelfieMatch {
    pub photo_id: PhotoId,
    pub face: StoredFace,
    /// The raw cosine of the selfie (the best of several) to this face.
    pub cosine: f32,
    /// The calibrated similarity in [0, 1] of the evidence the match was decided on.
    pub similarity: f32,
    /// The person the face belongs to (`None`: a face grouped with no other yet).
    pub person: Option<PersonId>,
    pub evidence: Evidence,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SelfieSearch {
    /// One per selfie, in request order.
    pub query_faces: Vec<QueryFace>,
    /// Best face per photo over all selfies, by similarity descending, ties by photo id.
    pub matches: Vec<SelfieMatch>,
    /// Photos at or above the threshold for any selfie, including those cut by the limit.
    pub total_matches: u64,
    /// Why some selfie is a poor query although the search went ahead (sorted, unique).
    pub warnings: Vec<PoorSelfieReason>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SearchSelfieError {
    #[error("send 1 to {MAX_SELFIES} selfies, got {0}")]
    SelfieCount(usize),
    #[error("face_index picks a face of a single selfie; {0} selfies were sent")]
    FaceIndexWithSeveralSelfies(usize),
    #[error("face_index {index} is out of range: the selfie has {} faces", .faces.len())]
    FaceIndexOutOfRange {
        index: usize,
        faces: Vec<BoundingBox>,
    },
    #[error("no face was found in selfie {selfie}")]
    NoFaceDetected { selfie: usize },
    #[error("{} faces of similar size were found in selfie {selfie}; send a photo of one person or pick one with face_index", .faces.len())]
    MultipleFaces {
        selfie: usize,
        faces: Vec<BoundingBox>,
    },
    /// Nothing matched and every selfie is a poor query: the selfie, not the session, is
    /// the likely cause.
    #[error("nothing matched and the selfie is a poor query ({})", .reasons.iter().map(|r| r.code()).collect::<Vec<_>>().join(", "))]
    PoorSelfie {
        /// Every reason over the selfies, in [`PoorSelfieReason`] order; the first is the
        /// main one.
        reasons: Vec<PoorSelfieReason>,
        query_faces: Vec<QueryFace>,
    },
    #[error(transparent)]
    Embed(#[from] EmbedError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct SearchBySelfie<E, S> {
    embedder: Arc<E>,
    store: Arc<S>,
    calibration: SimilarityCalibration,
    policy: SelfiePolicy,
    people: PeoplePolicy,
}

impl<E, S> std::fmt::Debug for SearchBySelfie<E, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchBySelfie")
            .field("calibration", &self.calibration)
            .field("policy", &self.policy)
            .field("people", &self.people)
            .finish()
    }
}

/// The faces the rules accept for a guest's selfies, with what the store reported.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Matching {
    pub scores: SessionScores,
    pub accepted: Vec<Accepted>,
}

impl<E: Embedder, S: VectorStore> SearchBySelfie<E, S> {
    pub fn new(
        embedder: Arc<E>,
        store: Arc<S>,
        calibration: SimilarityCalibration,
        policy: SelfiePolicy,
        people: PeoplePolicy,
    ) -> Self {
        Self {
            embedder,
            store,
            calibration,
            policy,
            people,
        }
    }

    pub async fn execute(
        &self,
        request: SelfieSearchRequest,
    ) -> Result<SelfieSearch, SearchSelfieError> {
        let queries = self
            .query_faces(request.selfies, request.face_index)
            .await?;
        let query_faces: Vec<QueryFace> = queries
            .iter()
            .map(|face| QueryFace {
                bbox: face.bbox,
                det_score: face.det_score,
                quality: face.quality,
                poor: self.policy.quality.reasons(&face.quality),
            })
            .collect();
        let matching = self
            .matching(&request.session, &queries, request.threshold)
            .await?;
        let matches = best_per_photo(
            &self.calibration,
            matching.scores.clone(),
            &matching.accepted,
        );

        let mut warnings: Vec<PoorSelfieReason> = query_faces
            .iter()
            .flat_map(|q| q.poor.iter().copied())
            .collect();
        warnings.sort();
        warnings.dedup();
        let all_poor = query_faces.iter().all(|q| !q.poor.is_empty());
        // An unknown or empty session answers an empty 200, however poor the selfie.
        if matches.is_empty() && all_poor && matching.scores.faces > 0 {
            return Err(SearchSelfieError::PoorSelfie {
                reasons: warnings,
                query_faces,
            });
        }
        let total_matches = matches.len() as u64;
        let mut matches = matches;
        matches.truncate(request.limit.get());
        Ok(SelfieSearch {
            query_faces,
            matches,
            total_matches,
            warnings,
        })
    }

    /// The face of each selfie to search for (analysed concurrently: the embedder has several
    /// workers), by the rules of [`SelfieSearchRequest`].
    pub(crate) async fn query_faces(
        &self,
        selfies: Vec<ImageBytes>,
        face_index: Option<usize>,
    ) -> Result<Vec<DetectedFace>, SearchSelfieError> {
        let count = selfies.len();
        if !(1..=MAX_SELFIES).contains(&count) {
            return Err(SearchSelfieError::SelfieCount(count));
        }
        if face_index.is_some() && count > 1 {
            return Err(SearchSelfieError::FaceIndexWithSeveralSelfies(count));
        }
        let analyses = futures::future::try_join_all(
            selfies
                .into_iter()
                .map(|selfie| self.embedder.analyze(selfie, ImageKind::Selfie)),
        )
        .await?;
        analyses
            .into_iter()
            .enumerate()
            .map(|(selfie, analysis)| self.pick_face(selfie, analysis, face_index))
            .collect()
    }

    /// Every face of the session the rules accept for these query faces at `threshold`.
    pub(crate) async fn matching(
        &self,
        session: &SessionId,
        queries: &[DetectedFace],
        threshold: Threshold,
    ) -> Result<Matching, StoreError> {
        let matcher = Matcher {
            policy: &self.people,
            margin: self.margin(threshold),
        };
        let embeddings: Vec<_> = queries.iter().map(|q| q.embedding.clone()).collect();
        let scores = self
            .store
            .scores(session, &embeddings, matcher.scan_floor())
            .await?;
        let accepted = matcher.accept(&scores, queries.len());
        Ok(Matching { scores, accepted })
    }

    /// The threshold as a cosine offset from the default's: similarity is monotone in
    /// cosine, so a threshold moves every rule by one cosine amount (clamped where thresholds
    /// 0 and 1 give infinities).
    pub(crate) fn margin(&self, threshold: Threshold) -> f32 {
        let at = |t: Threshold| self.calibration.cosine_at(t.value());
        (at(threshold) - at(Threshold::DEFAULT)).clamp(-2.0, 2.0)
    }

    /// The calibration, selfie and people rules search decides with.
    pub(crate) fn rules(&self) -> (SimilarityCalibration, SelfiePolicy, PeoplePolicy) {
        (self.calibration, self.policy, self.people)
    }

    /// The face to search for in one selfie: `face_index` when given, else the largest
    /// visible face, or, when other visible faces of similar size compete with it, the one of
    /// them the frame is centred on (see [`SelfiePolicy::central_distance_ratio`]). Boxes are
    /// compared clipped to the frame: a face cut off by the edge counts for what shows.
    fn pick_face(
        &self,
        selfie: usize,
        analysis: FaceAnalysis,
        face_index: Option<usize>,
    ) -> Result<DetectedFace, SearchSelfieError> {
        let (w, h) = (analysis.width as f32, analysis.height as f32);
        let mut faces: Vec<(f32, DetectedFace)> = analysis
            .faces
            .into_iter()
            .map(|f| (f.bbox.clipped(w, h).area(), f))
            .filter(|(visible, _)| *visible > 0.0)
            .collect();
        faces.sort_by(|a, b| b.0.total_cmp(&a.0));
        if let Some(index) = face_index {
            if index >= faces.len() {
                return Err(SearchSelfieError::FaceIndexOutOfRange {
                    index,
                    faces: faces.iter().map(|(_, f)| f.bbox).collect(),
                });
            }
            return Ok(faces.swap_remove(index).1);
        }
        let largest = faces
            .first()
            .ok_or(SearchSelfieError::NoFaceDetected { selfie })?
            .0;
        let competing = faces
            .iter()
            .take_while(|(visible, _)| *visible >= self.policy.competing_area_ratio * largest)
            .count();
        if competing == 1 {
            return Ok(faces.swap_remove(0).1);
        }
        // Distance of each competing face's visible centre from the frame's centre.
        let off_centre = |b: &BoundingBox| {
            let v = b.clipped(w, h);
            (v.x + v.width / 2.0 - w / 2.0).hypot(v.y + v.height / 2.0 - h / 2.0)
        };
        let mut by_distance: Vec<(f32, usize)> = faces[..competing]
            .iter()
            .enumerate()
            .map(|(i, (_, f))| (off_centre(&f.bbox), i))
            .collect();
        by_distance.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (nearest, next) = (by_distance[0], by_distance[1]);
        if nearest.0 <= self.policy.central_distance_ratio * next.0 {
            return Ok(faces.swap_remove(nearest.1).1);
        }
        Err(SearchSelfieError::MultipleFaces {
            selfie,
            faces: faces[..competing].iter().map(|(_, f)| f.bbox).collect(),
        })
    }
}

/// One match per photo (its face with the strongest evidence, then the highest cosine,
/// then the smallest face id), by similarity descending, ties by photo id.
pub(crate) fn best_per_photo(
    calibration: &SimilarityCalibration,
    scores: SessionScores,
    accepted: &[Accepted],
) -> Vec<SelfieMatch> {
    let base = calibration.cosine_at(Threshold::DEFAULT.value());
    let mut candidates: Vec<Option<_>> = scores.candidates.into_iter().map(Some).collect();
    let mut best: HashMap<PhotoId, (f32, SelfieMatch)> = HashMap::new();
    for a in accepted {
        let Some(face) = candidates[a.candidate].take() else {
            continue;
        };
        let cosine = face.best_cosine();
        let m = SelfieMatch {
            similarity: calibration.similarity(base + a.score),
            photo_id: face.photo_id,
            face: face.face,
            cosine,
            person: face.person,
            evidence: a.evidence,
        };
        let better = |kept: &(f32, SelfieMatch)| {
            a.score
                .total_cmp(&kept.0)
                .then(m.cosine.total_cmp(&kept.1.cosine))
                .then(kept.1.face.face_id.cmp(&m.face.face_id))
                .is_gt()
        };
        match best.get(&m.photo_id) {
            Some(kept) if !better(kept) => {}
            _ => {
                best.insert(m.photo_id.clone(), (a.score, m));
            }
        }
    }
    let mut matches: Vec<(f32, SelfieMatch)> = best.into_values().collect();
    matches.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then_with(|| a.1.photo_id.cmp(&b.1.photo_id))
    });
    matches.into_iter().map(|(_, m)| m).collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::embedding::Embedding;
    use crate::ids::FaceId;
    use crate::people::{ImpostorTail, ScoredFace, ScoredPerson};
    use crate::ports::{MockEmbedder, MockVectorStore};
    use crate::use_cases::test_support::{analysis, face, space};

    fn calibration() -> SimilarityCalibration {
        SimilarityCalibration::through(0.42, 0.7, 12.0).unwrap()
    }

    pub(crate) fn people() -> PeoplePolicy {
        PeoplePolicy {
            tail: ImpostorTail {
                operating_cosine: 0.42,
                false_match_rate: 9.6e-5,
                cosine_per_decade: 0.066,
            },
            stranger_budget: 0.05,
            join_cosine: 0.40,
            merge_cosine: 0.45,
            floor_cosine: 0.30,
        }
    }

    fn request(threshold: f32) -> SelfieSearchRequest {
        SelfieSearchRequest {
            session: SessionId::parse("s1").unwrap(),
            selfies: vec![b"selfie".to_vec().into()],
            face_index: None,
            threshold: Threshold::new(threshold).unwrap(),
            limit: SearchLimit::new(10).unwrap(),
        }
    }

    /// An embedder answering the selfies in order with these faces (in a 640x480 frame).
    fn embedder_finding(selfies: Vec<Vec<DetectedFace>>) -> MockEmbedder {
        let mut embedder = MockEmbedder::new();
        let mut seq = mockall::Sequence::new();
        for faces in selfies {
            embedder
                .expect_analyze()
                .withf(|_, kind| *kind == ImageKind::Selfie)
                .times(1)
                .in_sequence(&mut seq)
                .return_once(move |_, _| Ok(analysis(faces)));
        }
        embedder
    }

    fn at(mut f: DetectedFace, x: f32, y: f32) -> DetectedFace {
        f.bbox.x = x;
        f.bbox.y = y;
        f
    }

    /// A stored face of `photo` whose cosine to the unit vector along `axis` is `cosine`.
    struct Stored {
        photo: &'static str,
        person: Option<PersonId>,
        vector: Vec<f32>,
        face_id: FaceId,
    }

    fn stored(photo: &'static str, axis: usize, cosine: f32) -> Stored {
        // The rest of the length along the last axis, which no query uses.
        let mut vector = vec![0.0; 4];
        vector[axis] = cosine;
        vector[3] = (1.0 - cosine * cosine).max(0.0).sqrt();
        Stored {
            photo,
            person: None,
            vector,
            face_id: FaceId::new(),
        }
    }

    fn of(person: PersonId, mut face: Stored) -> Stored {
        face.person = Some(person);
        face
    }

    /// A store holding `faces` in a session of `session_faces` faces, scoring exactly as the
    /// port's contract says.
    fn store_with(faces: Vec<Stored>, session_faces: u64) -> MockVectorStore {
        let mut store = MockVectorStore::new();
        store.expect_scores().returning(move |_, queries, floor| {
            let cos = |q: &Embedding, v: &[f32]| crate::embedding::dot(q.as_slice(), v);
            let candidates: Vec<ScoredFace> = faces
                .iter()
                .map(|f| ScoredFace {
                    photo_id: PhotoId::parse(f.photo).unwrap(),
                    face: StoredFace {
                        face_id: f.face_id,
                        bbox: face(10.0, 0).bbox,
                        det_score: 0.8,
                    },
                    person: f.person,
                    cosines: queries.iter().map(|q| cos(q, &f.vector)).collect(),
                })
                .filter(|c| c.best_cosine() >= floor.value())
                .collect();
            let mut persons: Vec<ScoredPerson> = Vec::new();
            for person in candidates.iter().filter_map(|c| c.person) {
                if persons.iter().any(|p| p.person == person) {
                    continue;
                }
                let members: Vec<&Stored> =
                    faces.iter().filter(|f| f.person == Some(person)).collect();
                persons.push(ScoredPerson {
                    person,
                    faces: members.len() as u64,
                    links: queries
                        .iter()
                        .map(|q| {
                            members.iter().map(|m| cos(q, &m.vector)).sum::<f32>()
                                / members.len() as f32
                        })
                        .collect(),
                });
            }
            let people = {
                let mut all: Vec<PersonId> = faces.iter().filter_map(|f| f.person).collect();
                all.sort();
                all.dedup();
                all.len() as u64
            };
            Ok(SessionScores {
                faces: session_faces,
                people,
                candidates,
                persons,
            })
        });
        store
    }

    fn search(
        embedder: MockEmbedder,
        store: MockVectorStore,
    ) -> SearchBySelfie<MockEmbedder, MockVectorStore> {
        SearchBySelfie::new(
            Arc::new(embedder),
            Arc::new(store),
            calibration(),
            SelfiePolicy::default(),
            people(),
        )
    }

    fn ids(matches: &[SelfieMatch]) -> Vec<&str> {
        matches.iter().map(|m| m.photo_id.as_str()).collect()
    }

    #[tokio::test]
    async fn the_largest_face_is_searched_and_each_photo_answers_with_its_best_face() {
        let mut store = MockVectorStore::new();
        store
            .expect_scores()
            .withf(|session, queries, floor| {
                session.as_str() == "s1"
                    && queries.len() == 1
                    && queries[0].as_slice()[2] == 1.0
                    && (floor.value() - 0.30).abs() < 1e-6
            })
            .times(1)
            .returning(|_, _, _| Ok(SessionScores::default()));
        // A large face along axis 2 and a small background face along axis 1.
        let embedder = embedder_finding(vec![vec![face(20.0, 1), face(100.0, 2)]]);
        let out = search(embedder, store).execute(request(0.7)).await.unwrap();
        assert_eq!(out.query_faces[0].bbox.width, 100.0);
        assert!(out.matches.is_empty());

        let store = store_with(
            vec![
                stored("p7", 2, 0.8),
                stored("p2", 2, 0.5),
                stored("p2", 2, 0.43),
                stored("p9", 2, 0.41),
            ],
            100,
        );
        let embedder = embedder_finding(vec![vec![face(20.0, 1), face(100.0, 2)]]);
        let out = search(embedder, store).execute(request(0.7)).await.unwrap();

        assert!(out.query_faces[0].poor.is_empty());
        assert!(out.warnings.is_empty());
        assert_eq!(ids(&out.matches), ["p7", "p2"]);
        assert_eq!(out.total_matches, 2);
        assert!((out.matches[1].cosine - 0.5).abs() < 1e-6);
        assert!(out.matches[0].similarity > out.matches[1].similarity);
        assert!(out.matches[1].similarity >= 0.7);
        assert!(out.matches.iter().all(|m| m.evidence == Evidence::Face));
    }

    #[tokio::test]
    async fn a_large_session_raises_the_face_threshold_and_the_guests_person_brings_their_photos() {
        let guest = PersonId::new();
        let stranger = PersonId::new();
        let mut faces = vec![
            // The guest's person: six photos, one of them weak alone.
            of(guest, stored("g1", 2, 0.62)),
            of(guest, stored("g2", 2, 0.55)),
            of(guest, stored("g3", 2, 0.48)),
            of(guest, stored("g4", 2, 0.45)),
            of(guest, stored("g5", 2, 0.40)),
            of(guest, stored("g6", 2, 0.36)),
            // A stranger's face scoring 0.46 whose person is far from the selfie.
            of(stranger, stored("s1", 2, 0.46)),
            // A lone face at 0.46: enough at 60 faces, not at 10,000.
            stored("x1", 2, 0.46),
        ];
        for i in 0..5 {
            faces.push(of(
                stranger,
                stored(["s2", "s3", "s4", "s5", "s6"][i], 2, 0.05),
            ));
        }
        let embedder = embedder_finding(vec![vec![face(100.0, 2)]]);
        let out = search(embedder, store_with(faces, 10_000))
            .execute(request(0.7))
            .await
            .unwrap();

        assert_eq!(ids(&out.matches), ["g1", "g2", "g3", "g4", "g5", "g6"]);
        assert_eq!(out.matches[0].evidence, Evidence::Face);
        assert_eq!(out.matches[5].evidence, Evidence::Person);
        assert!(out.matches.iter().all(|m| m.person == Some(guest)));
        assert!(out.matches.iter().all(|m| m.similarity >= 0.7));

        let small = store_with(vec![stored("x1", 2, 0.46)], 60);
        let embedder = embedder_finding(vec![vec![face(100.0, 2)]]);
        let out = search(embedder, small).execute(request(0.7)).await.unwrap();
        assert_eq!(ids(&out.matches), ["x1"]);
    }

    #[tokio::test]
    async fn a_selfie_without_a_face_is_refused() {
        let mut store = MockVectorStore::new();
        store.expect_scores().never();

        let err = search(embedder_finding(vec![vec![]]), store)
            .execute(request(0.7))
            .await
            .unwrap_err();

        assert_eq!(err, SearchSelfieError::NoFaceDetected { selfie: 0 });
    }

    #[tokio::test]
    async fn two_faces_of_similar_size_are_refused_with_their_boxes() {
        let mut store = MockVectorStore::new();
        store.expect_scores().never();
        let embedder = embedder_finding(vec![vec![
            face(90.0, 1),
            at(face(100.0, 0), 200.0, 0.0),
            face(20.0, 2),
        ]]);

        let err = search(embedder, store)
            .execute(request(0.7))
            .await
            .unwrap_err();

        match err {
            SearchSelfieError::MultipleFaces { selfie: 0, faces } => {
                assert_eq!(
                    faces.iter().map(|b| b.width).collect::<Vec<_>>(),
                    vec![100.0, 90.0]
                );
            }
            other => panic!("expected MultipleFaces, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn of_two_faces_of_similar_size_the_one_the_frame_is_centred_on_is_searched() {
        // A 100 px face off to the side and a 90 px face in the middle of the 640x480 frame
        // (a friend leaning into the guest's selfie): the centred one is the guest.
        let embedder = embedder_finding(vec![vec![
            at(face(100.0, 0), 0.0, 0.0),
            at(face(90.0, 2), 275.0, 195.0),
        ]]);
        let store = store_with(vec![stored("guest", 2, 0.9), stored("friend", 0, 0.9)], 10);

        let out = search(embedder, store).execute(request(0.7)).await.unwrap();

        assert_eq!(out.query_faces[0].bbox.width, 90.0);
        assert_eq!(ids(&out.matches), ["guest"]);
    }

    #[tokio::test]
    async fn faces_cut_off_by_the_frame_compete_with_what_is_visible() {
        // A 200 px face in the middle; two as large at the edges of the 640x480 frame,
        // mostly outside it (a press photo with people cut off behind the subject).
        let embedder = embedder_finding(vec![vec![
            at(face(200.0, 0), -150.0, 100.0),
            at(face(200.0, 2), 220.0, 140.0),
            at(face(200.0, 1), 560.0, 300.0),
        ]]);
        let store = store_with(vec![stored("p1", 2, 0.9), stored("p0", 0, 0.9)], 10);

        let out = search(embedder, store).execute(request(0.7)).await.unwrap();

        assert_eq!(out.query_faces[0].bbox.x, 220.0);
        assert_eq!(ids(&out.matches), ["p1"]);
    }

    #[tokio::test]
    async fn face_index_picks_a_face_in_the_order_of_the_refusal() {
        let faces = || vec![face(90.0, 1), at(face(100.0, 0), 200.0, 0.0)];
        let refused = search(embedder_finding(vec![faces()]), MockVectorStore::new())
            .execute(request(0.7))
            .await
            .unwrap_err();
        let SearchSelfieError::MultipleFaces { faces: boxes, .. } = refused else {
            panic!("expected MultipleFaces, got {refused:?}");
        };
        let store = store_with(vec![stored("a", 0, 0.9), stored("b", 1, 0.9)], 10);
        let out = search(embedder_finding(vec![faces()]), store)
            .execute(SelfieSearchRequest {
                face_index: Some(1),
                ..request(0.7)
            })
            .await
            .unwrap();

        assert_eq!(out.query_faces[0].bbox, boxes[1]);
        assert_eq!(ids(&out.matches), ["b"]);

        let err = search(embedder_finding(vec![faces()]), MockVectorStore::new())
            .execute(SelfieSearchRequest {
                face_index: Some(2),
                ..request(0.7)
            })
            .await
            .unwrap_err();
        assert!(
            matches!(err, SearchSelfieError::FaceIndexOutOfRange { index: 2, ref faces } if faces.len() == 2),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn selfie_counts_and_face_index_with_several_selfies_are_refused_before_any_work() {
        for selfies in [0, 4] {
            let err = search(MockEmbedder::new(), MockVectorStore::new())
                .execute(SelfieSearchRequest {
                    selfies: vec![b"x".to_vec().into(); selfies],
                    ..request(0.7)
                })
                .await
                .unwrap_err();
            assert_eq!(err, SearchSelfieError::SelfieCount(selfies));
        }
        let err = search(MockEmbedder::new(), MockVectorStore::new())
            .execute(SelfieSearchRequest {
                selfies: vec![b"x".to_vec().into(); 2],
                face_index: Some(0),
                ..request(0.7)
            })
            .await
            .unwrap_err();
        assert_eq!(err, SearchSelfieError::FaceIndexWithSeveralSelfies(2));
    }

    #[tokio::test]
    async fn several_selfies_score_each_photo_by_its_best_match_and_count_every_photo() {
        let embedder = embedder_finding(vec![vec![face(100.0, 1)], vec![face(100.0, 2)]]);
        // Photo "b" is found by both selfies, "a" and "d" by the first, "c" by the second.
        let store = store_with(
            vec![
                stored("a", 1, 0.9),
                stored("b", 1, 0.6),
                stored("b", 2, 0.8),
                stored("c", 2, 0.7),
                stored("d", 1, 0.5),
            ],
            10,
        );

        let out = search(embedder, store)
            .execute(SelfieSearchRequest {
                selfies: vec![b"one".to_vec().into(), b"two".to_vec().into()],
                limit: SearchLimit::new(2).unwrap(),
                ..request(0.7)
            })
            .await
            .unwrap();

        assert_eq!(out.query_faces.len(), 2);
        assert_eq!(ids(&out.matches), ["a", "b"]);
        assert!((out.matches[1].cosine - 0.8).abs() < 1e-6);
        // "c" and "d" are cut by the limit but counted; "b" once.
        assert_eq!(out.total_matches, 4);
    }

    #[tokio::test]
    async fn a_poor_selfie_that_matches_nothing_is_refused_with_its_reasons() {
        let mut dark = face(30.0, 1);
        dark.quality.face_px = 30.0;
        dark.quality.brightness = 10.0;
        let store = store_with(vec![stored("p1", 2, 0.9)], 5);

        let err = search(embedder_finding(vec![vec![dark]]), store)
            .execute(request(0.7))
            .await
            .unwrap_err();

        match err {
            SearchSelfieError::PoorSelfie {
                reasons,
                query_faces,
            } => {
                assert_eq!(
                    reasons,
                    [PoorSelfieReason::TooSmall, PoorSelfieReason::TooDark]
                );
                assert_eq!(query_faces[0].quality.brightness, 10.0);
            }
            other => panic!("expected PoorSelfie, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_poor_selfie_that_matches_is_answered_with_warnings() {
        let mut blurred = face(100.0, 1);
        blurred.quality.sharpness = 1.0;
        let store = store_with(vec![stored("p1", 1, 0.9)], 5);

        let out = search(embedder_finding(vec![vec![blurred]]), store)
            .execute(request(0.7))
            .await
            .unwrap();

        assert_eq!(ids(&out.matches), ["p1"]);
        assert_eq!(out.warnings, [PoorSelfieReason::TooBlurry]);
        assert_eq!(out.query_faces[0].poor, [PoorSelfieReason::TooBlurry]);
    }

    #[tokio::test]
    async fn a_poor_selfie_against_an_empty_session_or_beside_a_good_one_is_an_empty_answer() {
        let mut blurred = face(100.0, 1);
        blurred.quality.sharpness = 1.0;
        let out = search(
            embedder_finding(vec![vec![blurred.clone()]]),
            store_with(Vec::new(), 0),
        )
        .execute(request(0.7))
        .await
        .unwrap();
        assert!(out.matches.is_empty());
        assert_eq!(out.warnings, [PoorSelfieReason::TooBlurry]);

        // The good selfie found nothing either: the guest is not in these photos.
        let out = search(
            embedder_finding(vec![vec![blurred], vec![face(100.0, 2)]]),
            store_with(vec![stored("p1", 0, 0.9)], 5),
        )
        .execute(SelfieSearchRequest {
            selfies: vec![b"one".to_vec().into(), b"two".to_vec().into()],
            ..request(0.7)
        })
        .await
        .unwrap();
        assert!(out.matches.is_empty());
        assert_eq!(out.warnings, [PoorSelfieReason::TooBlurry]);
    }

    #[tokio::test]
    async fn thresholds_move_every_rule_and_zero_and_one_stay_finite() {
        let faces = || {
            vec![
                stored("hi", 2, 0.9),
                stored("mid", 2, 0.5),
                stored("lo", 2, -0.9),
            ]
        };
        let run = |threshold: f32| async move {
            let embedder = embedder_finding(vec![vec![face(100.0, 2)]]);
            search(embedder, store_with(faces(), 10))
                .execute(request(threshold))
                .await
                .unwrap()
        };
        assert_eq!(ids(&run(0.0).await.matches), ["hi", "mid", "lo"]);
        assert_eq!(ids(&run(0.7).await.matches), ["hi", "mid"]);
        assert_eq!(ids(&run(0.95).await.matches), ["hi"]);
        assert!(run(1.0).await.matches.is_empty());
    }

    #[test]
    fn quality_reasons_follow_the_thresholds_in_order() {
        let thresholds = QualityThresholds::default();
        let good = crate::use_cases::test_support::good_quality();
        assert!(thresholds.reasons(&good).is_empty());
        let poor = FaceQuality {
            face_px: 10.0,
            sharpness: 0.0,
            brightness: 0.0,
            pose: 80.0,
        };
        assert_eq!(
            thresholds.reasons(&poor),
            [
                PoorSelfieReason::TooSmall,
                PoorSelfieReason::TooBlurry,
                PoorSelfieReason::TooDark,
                PoorSelfieReason::ExtremePose
            ]
        );
        assert_eq!(PoorSelfieReason::ExtremePose.code(), "extreme_pose");
    }

    #[test]
    fn limits_are_bounded() {
        assert!(SearchLimit::new(0).is_err());
        assert!(SearchLimit::new(1001).is_err());
        assert_eq!(SearchLimit::new(1000).unwrap().get(), 1000);
    }

    #[test]
    fn test_vectors_have_the_spaces_dimension() {
        assert_eq!(stored("x", 0, 0.5).vector.len(), space().dim);
    }
}
