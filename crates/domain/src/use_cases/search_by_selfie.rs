//! Use case: find every photo of a session showing the person in a selfie.

use std::sync::Arc;

use crate::calibration::SimilarityCalibration;
use crate::embedding::Threshold;
use crate::face::{BoundingBox, DetectedFace, ImageBytes, ImageKind};
use crate::ids::{PhotoId, SessionId};
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

/// How the selfie's face is chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SelfiePolicy {
    /// Another face whose area is at least this fraction of the largest face's area competes
    /// with it, and the selfie is refused as ambiguous.
    pub competing_area_ratio: f32,
}

impl Default for SelfiePolicy {
    fn default() -> Self {
        Self {
            competing_area_ratio: 0.6,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SelfieSearchRequest {
    pub session: SessionId,
    pub selfie: ImageBytes,
    pub threshold: Threshold,
    pub limit: SearchLimit,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QueryFace {
    pub bbox: BoundingBox,
    pub det_score: f32,
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
    pub query_face: QueryFace,
    /// Best face per photo, by similarity descending, ties by photo id.
    pub matches: Vec<SelfieMatch>,
    /// Photos at or above the threshold, including those cut by the limit.
    pub total_matches: u64,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SearchSelfieError {
    #[error("no face was found in the selfie")]
    NoFaceDetected,
    #[error("{} faces of similar size were found in the selfie; send a photo of one person", .0.len())]
    MultipleFaces(Vec<BoundingBox>),
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
        let analysis = self
            .embedder
            .analyze(request.selfie, ImageKind::Selfie)
            .await?;
        let face = self.pick_face(analysis.faces)?;
        // Similarity is monotone in cosine, so the threshold becomes a cosine bound that the
        // store can filter on exactly. Clamp the infinities of thresholds 0 and 1.
        let min_cosine = self
            .calibration
            .cosine_at(request.threshold.value())
            .clamp(-1.0, 2.0);
        let hits = self
            .store
            .search(
                &request.session,
                &face.embedding,
                min_cosine,
                request.limit.get(),
            )
            .await?;
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
            query_face: QueryFace {
                bbox: face.bbox,
                det_score: face.det_score,
            },
            matches,
            total_matches: hits.total_matches,
        })
    }

    /// The largest face, unless another face of similar size competes with it.
    fn pick_face(&self, mut faces: Vec<DetectedFace>) -> Result<DetectedFace, SearchSelfieError> {
        faces.sort_by(|a, b| b.bbox.area().total_cmp(&a.bbox.area()));
        let largest = faces
            .first()
            .ok_or(SearchSelfieError::NoFaceDetected)?
            .bbox
            .area();
        let competing: Vec<BoundingBox> = faces
            .iter()
            .map(|f| f.bbox)
            .take_while(|b| b.area() >= self.policy.competing_area_ratio * largest)
            .collect();
        if competing.len() > 1 {
            return Err(SearchSelfieError::MultipleFaces(competing));
        }
        Ok(faces.swap_remove(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::FaceId;
    use crate::ports::{MockEmbedder, MockVectorStore, PhotoMatch, SearchHits};
    use crate::use_cases::test_support::{analysis, face};

    fn calibration() -> SimilarityCalibration {
        SimilarityCalibration::through(0.42, 0.7, 12.0).unwrap()
    }

    fn request(threshold: f32) -> SelfieSearchRequest {
        SelfieSearchRequest {
            session: SessionId::parse("s1").unwrap(),
            selfie: b"selfie".to_vec().into(),
            threshold: Threshold::new(threshold).unwrap(),
            limit: SearchLimit::new(10).unwrap(),
        }
    }

    fn embedder_finding(faces: Vec<DetectedFace>) -> MockEmbedder {
        let mut embedder = MockEmbedder::new();
        embedder
            .expect_analyze()
            .withf(|_, kind| *kind == ImageKind::Selfie)
            .return_once(move |_, _| Ok(analysis(faces)));
        embedder
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
        let embedder = embedder_finding(vec![face(20.0, 1), face(100.0, 2)]);

        let out = SearchBySelfie::new(
            Arc::new(embedder),
            Arc::new(store),
            calibration(),
            SelfiePolicy::default(),
        )
        .execute(request(0.7))
        .await
        .unwrap();

        assert_eq!(out.query_face.bbox.width, 100.0);
        assert_eq!(out.total_matches, 12);
        assert_eq!(out.matches.len(), 2);
        assert_eq!(out.matches[0].photo_id.as_str(), "p7");
        assert!(out.matches[0].similarity > out.matches[1].similarity);
        assert!(out.matches[1].similarity >= 0.7);
        assert_eq!(out.matches[0].cosine, 0.8);
    }

    #[tokio::test]
    async fn a_selfie_without_a_face_is_refused() {
        let mut store = MockVectorStore::new();
        store.expect_search().never();

        let err = SearchBySelfie::new(
            Arc::new(embedder_finding(vec![])),
            Arc::new(store),
            calibration(),
            SelfiePolicy::default(),
        )
        .execute(request(0.7))
        .await
        .unwrap_err();

        assert_eq!(err, SearchSelfieError::NoFaceDetected);
    }

    #[tokio::test]
    async fn two_faces_of_similar_size_are_refused_with_their_boxes() {
        let mut store = MockVectorStore::new();
        store.expect_search().never();
        let embedder = embedder_finding(vec![face(100.0, 0), face(90.0, 1), face(20.0, 2)]);

        let err = SearchBySelfie::new(
            Arc::new(embedder),
            Arc::new(store),
            calibration(),
            SelfiePolicy::default(),
        )
        .execute(request(0.7))
        .await
        .unwrap_err();

        match err {
            SearchSelfieError::MultipleFaces(boxes) => {
                assert_eq!(
                    boxes.iter().map(|b| b.width).collect::<Vec<_>>(),
                    vec![100.0, 90.0]
                );
            }
            other => panic!("expected MultipleFaces, got {other:?}"),
        }
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
            let embedder = embedder_finding(vec![face(100.0, 0)]);

            let out = SearchBySelfie::new(
                Arc::new(embedder),
                Arc::new(store),
                calibration(),
                SelfiePolicy::default(),
            )
            .execute(request(threshold))
            .await
            .unwrap();

            assert!(out.matches.is_empty());
        }
    }

    #[test]
    fn limits_are_bounded() {
        assert!(SearchLimit::new(0).is_err());
        assert!(SearchLimit::new(1001).is_err());
        assert_eq!(SearchLimit::new(1000).unwrap().get(), 1000);
    }
}
