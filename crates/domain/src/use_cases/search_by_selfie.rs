//! Use case: find every photo of a session showing the person in a selfie.

use std::collections::HashMap;
use std::sync::Arc;

use crate::calibration::SimilarityCalibration;
use crate::embedding::Threshold;
use crate::face::{BoundingBox, DetectedFace, FaceAnalysis, FaceQuality, ImageBytes, ImageKind};
use crate::ids::{PhotoId, SessionId};
use crate::ports::{
    EmbedError, Embedder, PhotoMatch, SearchHits, StoreError, StoredFace, VectorStore,
};

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
    /// face's area competes with it, and the selfie is refused as ambiguous.
    pub competing_area_ratio: f32,
    pub quality: QualityThresholds,
}

impl Default for SelfiePolicy {
    fn default() -> Self {
        Self {
            competing_area_ratio: 0.6,
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
    pub cosine: f32,
    /// The calibrated similarity in [0, 1].
    pub similarity: f32,
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
}

impl<E, S> std::fmt::Debug for SearchBySelfie<E, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchBySelfie")
            .field("calibration", &self.calibration)
            .field("policy", &self.policy)
            .finish()
    }
}

impl<E: Embedder, S: VectorStore> SearchBySelfie<E, S> {
    pub fn new(
        embedder: Arc<E>,
        store: Arc<S>,
        calibration: SimilarityCalibration,
        policy: SelfiePolicy,
    ) -> Self {
        Self {
            embedder,
            store,
            calibration,
            policy,
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
        let min_cosine = self.min_cosine(request.threshold);
        let hits = self
            .fused_search(&request.session, &queries, min_cosine, request.limit.get())
            .await?;

        let mut warnings: Vec<PoorSelfieReason> = query_faces
            .iter()
            .flat_map(|q| q.poor.iter().copied())
            .collect();
        warnings.sort();
        warnings.dedup();
        let all_poor = query_faces.iter().all(|q| !q.poor.is_empty());
        if hits.total_matches == 0 && all_poor && self.session_has_faces(&request.session).await? {
            return Err(SearchSelfieError::PoorSelfie {
                reasons: warnings,
                query_faces,
            });
        }
        let matches = hits
            .matches
            .into_iter()
            .map(|m| SelfieMatch {
                similarity: self.calibration.similarity(m.cosine),
                photo_id: m.photo_id,
                face: m.face,
                cosine: m.cosine,
            })
            .collect();
        Ok(SelfieSearch {
            query_faces,
            matches,
            total_matches: hits.total_matches,
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

    /// Similarity is monotone in cosine, so a threshold becomes a cosine bound that the store
    /// can filter on exactly; the infinities of thresholds 0 and 1 are clamped.
    pub(crate) fn min_cosine(&self, threshold: Threshold) -> f32 {
        self.calibration
            .cosine_at(threshold.value())
            .clamp(-1.0, 2.0)
    }

    /// The store's search for each query, fused by taking a photo's best cosine over them.
    /// Exact: the fused top `limit` is within each query's top `limit`, and when a query had
    /// more hits than it returned, it is asked again for all of them to count the union.
    async fn fused_search(
        &self,
        session: &SessionId,
        queries: &[DetectedFace],
        min_cosine: f32,
        limit: usize,
    ) -> Result<SearchHits, StoreError> {
        if let [query] = queries {
            return self
                .store
                .search(session, &query.embedding, min_cosine, limit)
                .await;
        }
        let mut best: HashMap<PhotoId, PhotoMatch> = HashMap::new();
        for query in queries {
            let mut hits = self
                .store
                .search(session, &query.embedding, min_cosine, limit)
                .await?;
            if hits.total_matches > hits.matches.len() as u64 {
                hits = self
                    .store
                    .search(
                        session,
                        &query.embedding,
                        min_cosine,
                        hits.total_matches as usize,
                    )
                    .await?;
            }
            for hit in hits.matches {
                match best.get_mut(&hit.photo_id) {
                    Some(kept) if kept.cosine >= hit.cosine => {}
                    Some(kept) => *kept = hit,
                    None => {
                        best.insert(hit.photo_id.clone(), hit);
                    }
                }
            }
        }
        let total_matches = best.len() as u64;
        let mut matches: Vec<PhotoMatch> = best.into_values().collect();
        matches.sort_by(|a, b| {
            b.cosine
                .total_cmp(&a.cosine)
                .then_with(|| a.photo_id.cmp(&b.photo_id))
        });
        matches.truncate(limit);
        Ok(SearchHits {
            matches,
            total_matches,
        })
    }

    /// Whether the session has anything a selfie could have matched (an unknown or empty
    /// session answers an empty 200, however poor the selfie).
    async fn session_has_faces(&self, session: &SessionId) -> Result<bool, StoreError> {
        Ok(self.store.session_status(session, 0.0).await?.faces_indexed > 0)
    }

    /// The face to search for in one selfie: `face_index` when given, else the largest
    /// visible face unless another visible face of similar size competes with it. Boxes are
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
        let competing: Vec<BoundingBox> = faces
            .iter()
            .take_while(|(visible, _)| *visible >= self.policy.competing_area_ratio * largest)
            .map(|(_, f)| f.bbox)
            .collect();
        if competing.len() > 1 {
            return Err(SearchSelfieError::MultipleFaces {
                selfie,
                faces: competing,
            });
        }
        Ok(faces.swap_remove(0).1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::FaceId;
    use crate::ports::{MockEmbedder, MockVectorStore, SessionStats};
    use crate::use_cases::test_support::{analysis, face};

    fn calibration() -> SimilarityCalibration {
        SimilarityCalibration::through(0.42, 0.7, 12.0).unwrap()
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

    fn hit(photo: &str, cosine: f32) -> PhotoMatch {
        PhotoMatch {
            photo_id: PhotoId::parse(photo).unwrap(),
            face: StoredFace {
                face_id: FaceId::new(),
                bbox: face(10.0, 0).bbox,
                det_score: 0.8,
            },
            cosine,
        }
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
        )
    }

    /// A store whose search answers by the query's axis: `hits[axis]`.
    fn store_answering(hits: Vec<Vec<PhotoMatch>>) -> MockVectorStore {
        let mut store = MockVectorStore::new();
        store
            .expect_search()
            .returning(move |_, query, min_cosine, limit| {
                let axis = query.as_slice().iter().position(|&x| x == 1.0).unwrap();
                let all: Vec<PhotoMatch> = hits[axis]
                    .iter()
                    .filter(|h| h.cosine >= min_cosine)
                    .cloned()
                    .collect();
                Ok(SearchHits {
                    total_matches: all.len() as u64,
                    matches: all.into_iter().take(limit).collect(),
                })
            });
        store
    }

    fn ids(matches: &[SelfieMatch]) -> Vec<&str> {
        matches.iter().map(|m| m.photo_id.as_str()).collect()
    }

    #[tokio::test]
    async fn the_largest_face_is_searched_with_the_threshold_as_a_cosine_bound() {
        let mut store = MockVectorStore::new();
        store
            .expect_search()
            .withf(|session, query, min_cosine, limit| {
                session.as_str() == "s1"
                    && query.as_slice()[2] == 1.0
                    && (*min_cosine - 0.42).abs() < 1e-4
                    && *limit == 10
            })
            .times(1)
            .returning(|_, _, _, _| {
                Ok(SearchHits {
                    matches: vec![hit("p7", 0.8), hit("p2", 0.5)],
                    total_matches: 12,
                })
            });
        // A large face along axis 2 and a small background face along axis 1.
        let embedder = embedder_finding(vec![vec![face(20.0, 1), face(100.0, 2)]]);

        let out = search(embedder, store).execute(request(0.7)).await.unwrap();

        assert_eq!(out.query_faces.len(), 1);
        assert_eq!(out.query_faces[0].bbox.width, 100.0);
        assert!(out.query_faces[0].poor.is_empty());
        assert!(out.warnings.is_empty());
        assert_eq!(out.total_matches, 12);
        assert_eq!(ids(&out.matches), ["p7", "p2"]);
        assert!(out.matches[0].similarity > out.matches[1].similarity);
        assert!(out.matches[1].similarity >= 0.7);
        assert_eq!(out.matches[0].cosine, 0.8);
    }

    #[tokio::test]
    async fn a_selfie_without_a_face_is_refused() {
        let mut store = MockVectorStore::new();
        store.expect_search().never();

        let err = search(embedder_finding(vec![vec![]]), store)
            .execute(request(0.7))
            .await
            .unwrap_err();

        assert_eq!(err, SearchSelfieError::NoFaceDetected { selfie: 0 });
    }

    #[tokio::test]
    async fn two_faces_of_similar_size_are_refused_with_their_boxes() {
        let mut store = MockVectorStore::new();
        store.expect_search().never();
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
    async fn faces_cut_off_by_the_frame_compete_with_what_is_visible() {
        // A 200 px face in the middle; two as large at the edges of the 640x480 frame,
        // mostly outside it (a press photo with people cut off behind the subject).
        let embedder = embedder_finding(vec![vec![
            at(face(200.0, 1), -150.0, 100.0),
            at(face(200.0, 2), 220.0, 140.0),
            at(face(200.0, 3), 560.0, 300.0),
        ]]);
        let store = store_answering(vec![vec![], vec![], vec![hit("p1", 0.9)], vec![]]);

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
        let store = store_answering(vec![vec![hit("a", 0.9)], vec![hit("b", 0.9)]]);
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
    async fn several_selfies_score_each_photo_by_its_best_match_and_count_the_union() {
        let embedder = embedder_finding(vec![vec![face(100.0, 1)], vec![face(100.0, 2)]]);
        // Photo "b" is found by both selfies, "a" and "d" by the first, "c" by the second.
        let store = store_answering(vec![
            vec![],
            vec![hit("a", 0.9), hit("b", 0.6), hit("d", 0.5)],
            vec![hit("b", 0.8), hit("c", 0.7)],
        ]);

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
        assert_eq!(out.matches[1].cosine, 0.8);
        // "c" and "d" are cut by the limit but counted (the first selfie's search is asked
        // again for all its hits); "b" once.
        assert_eq!(out.total_matches, 4);
    }

    #[tokio::test]
    async fn a_poor_selfie_that_matches_nothing_is_refused_with_its_reasons() {
        let mut dark = face(30.0, 1);
        dark.quality.face_px = 30.0;
        dark.quality.brightness = 10.0;
        let mut store = store_answering(vec![vec![], vec![]]);
        store.expect_session_status().returning(|_, _| {
            Ok(SessionStats {
                faces_indexed: 5,
                ..SessionStats::default()
            })
        });

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
        let store = store_answering(vec![vec![], vec![hit("p1", 0.9)]]);

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
        let mut store = store_answering(vec![vec![], vec![], vec![]]);
        store
            .expect_session_status()
            .returning(|_, _| Ok(SessionStats::default()));
        let out = search(embedder_finding(vec![vec![blurred.clone()]]), store)
            .execute(request(0.7))
            .await
            .unwrap();
        assert!(out.matches.is_empty());
        assert_eq!(out.warnings, [PoorSelfieReason::TooBlurry]);

        // The good selfie found nothing either: the guest is not in these photos.
        let store = store_answering(vec![vec![], vec![], vec![]]);
        let out = search(
            embedder_finding(vec![vec![blurred], vec![face(100.0, 2)]]),
            store,
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
    async fn thresholds_zero_and_one_become_finite_bounds() {
        for (threshold, bound) in [(0.0, -1.0), (1.0, 2.0)] {
            let mut store = MockVectorStore::new();
            store
                .expect_search()
                .withf(move |_, _, min_cosine, _| *min_cosine == bound)
                .times(1)
                .returning(|_, _, _, _| Ok(SearchHits::default()));
            let embedder = embedder_finding(vec![vec![face(100.0, 0)]]);

            let out = search(embedder, store)
                .execute(request(threshold))
                .await
                .unwrap();

            assert!(out.matches.is_empty());
        }
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
}
