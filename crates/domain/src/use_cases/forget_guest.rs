//! Use case: a guest's erasure request. Every face of the person in the selfies is deleted
//! from the session (faces, not photos: the other people in those photos stay findable):
//! exactly the faces a search with the same selfies and threshold accepts, the faces of the
//! guest's person included. The selfies are analysed like a search's and kept nowhere.

use std::sync::Arc;

use crate::embedding::Threshold;
use crate::face::ImageBytes;
use crate::ids::{FaceId, SessionId};
use crate::lifecycle::{Actor, ForgetCounts};
use crate::ports::{Embedder, VectorStore};
use crate::use_cases::search_by_selfie::{SearchBySelfie, SearchSelfieError};
use crate::use_cases::watch_guest::WatchMatcher;

#[derive(Debug, Clone, PartialEq)]
pub struct ForgetRequest {
    pub session: SessionId,
    /// One to three selfies of the guest, chosen by the search's rules.
    pub selfies: Vec<ImageBytes>,
    pub face_index: Option<usize>,
    pub threshold: Threshold,
}

pub struct ForgetGuest<E, S> {
    search: Arc<SearchBySelfie<E, S>>,
    store: Arc<S>,
    watches: Option<WatchMatcher>,
}

impl<E, S> std::fmt::Debug for ForgetGuest<E, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForgetGuest").finish_non_exhaustive()
    }
}

impl<E: Embedder, S: VectorStore> ForgetGuest<E, S> {
    /// Uses `search`'s face choice and calibration.
    pub fn new(search: Arc<SearchBySelfie<E, S>>, store: Arc<S>) -> Self {
        Self {
            search,
            store,
            watches: None,
        }
    }

    /// Also ends the session's watches of the same guest.
    pub fn with_watches(mut self, watches: WatchMatcher) -> Self {
        self.watches = Some(watches);
        self
    }

    pub async fn execute(
        &self,
        request: ForgetRequest,
        actor: &Actor,
    ) -> Result<ForgetCounts, SearchSelfieError> {
        let queries = self
            .search
            .query_faces(request.selfies, request.face_index)
            .await?;
        let matching = self
            .search
            .matching(&request.session, &queries, request.threshold)
            .await?;
        let faces: Vec<FaceId> = matching
            .accepted
            .iter()
            .map(|a| matching.scores.candidates[a.candidate].face.face_id)
            .collect();
        // Even when nothing matched: the request is audited, with zero counts.
        let mut counts = self.store.forget(&request.session, &faces, actor).await?;
        if let Some(watches) = &self.watches {
            let selfies: Vec<Vec<f32>> = queries
                .iter()
                .map(|q| q.embedding.as_slice().to_vec())
                .collect();
            counts.watches_ended = watches
                .end_for_guest(&request.session, &selfies, request.threshold, actor)
                .await?;
        }
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibration::SimilarityCalibration;
    use crate::face::DetectedFace;
    use crate::ids::PhotoId;
    use crate::people::{ScoredFace, SessionScores};
    use crate::ports::{MockEmbedder, MockVectorStore, StoredFace};
    use crate::use_cases::search_by_selfie::SelfiePolicy;
    use crate::use_cases::search_by_selfie::tests::people;
    use crate::use_cases::test_support::{analysis, face};

    fn forget_with(
        faces: Vec<DetectedFace>,
        store: MockVectorStore,
    ) -> ForgetGuest<MockEmbedder, MockVectorStore> {
        let mut embedder = MockEmbedder::new();
        embedder
            .expect_analyze()
            .returning(move |_, _| Ok(analysis(faces.clone())));
        let store = Arc::new(store);
        let calibration = SimilarityCalibration::through(0.42, 0.7, 12.0).unwrap();
        let search = SearchBySelfie::new(
            Arc::new(embedder),
            store.clone(),
            calibration,
            SelfiePolicy::default(),
            people(),
        );
        ForgetGuest::new(Arc::new(search), store)
    }

    fn request() -> ForgetRequest {
        ForgetRequest {
            session: SessionId::parse("s1").unwrap(),
            selfies: vec![b"selfie".to_vec().into()],
            face_index: None,
            threshold: Threshold::new(0.7).unwrap(),
        }
    }

    fn scored(photo: &str, cosine: f32) -> ScoredFace {
        ScoredFace {
            photo_id: PhotoId::parse(photo).unwrap(),
            face: StoredFace {
                face_id: FaceId::new(),
                bbox: face(10.0, 0).bbox,
                det_score: 0.9,
            },
            person: None,
            cosines: vec![cosine],
        }
    }

    #[tokio::test]
    async fn the_faces_a_search_accepts_are_forgotten_by_the_key() {
        let mut store = MockVectorStore::new();
        let found = scored("p1", 0.8);
        let weak = scored("p2", 0.35);
        let wanted = found.face.face_id;
        store
            .expect_scores()
            .withf(|s, q, floor| {
                s.as_str() == "s1" && q.len() == 1 && (floor.value() - 0.30).abs() < 1e-6
            })
            .times(1)
            .return_once(move |_, _, _| {
                Ok(SessionScores {
                    faces: 10,
                    people: 0,
                    candidates: vec![found, weak],
                    persons: Vec::new(),
                })
            });
        store
            .expect_forget()
            .withf(move |s, faces, a| {
                s.as_str() == "s1" && faces == [wanted] && a.key_id.as_deref() == Some("k-1")
            })
            .times(1)
            .returning(|_, _, _| {
                Ok(ForgetCounts {
                    faces: 6,
                    photos: 5,
                    watches_ended: 0,
                })
            });
        let counts = forget_with(vec![face(200.0, 0)], store)
            .execute(request(), &Actor::key("k-1"))
            .await
            .unwrap();
        assert_eq!(
            counts,
            ForgetCounts {
                faces: 6,
                photos: 5,
                watches_ended: 0,
            }
        );
    }

    #[tokio::test]
    async fn a_guest_nobody_matches_deletes_nothing_and_is_audited() {
        let mut store = MockVectorStore::new();
        store
            .expect_scores()
            .returning(|_, _, _| Ok(SessionScores::default()));
        store
            .expect_forget()
            .withf(|_, faces, _| faces.is_empty())
            .times(1)
            .returning(|_, _, _| Ok(ForgetCounts::default()));
        let counts = forget_with(vec![face(200.0, 0)], store)
            .execute(request(), &Actor::key("k-1"))
            .await
            .unwrap();
        assert_eq!(counts, ForgetCounts::default());
    }

    #[tokio::test]
    async fn a_selfie_without_a_face_deletes_nothing() {
        let mut store = MockVectorStore::new();
        store.expect_forget().never();
        let err = forget_with(vec![], store)
            .execute(request(), &Actor::key("k-1"))
            .await
            .unwrap_err();
        assert_eq!(err, SearchSelfieError::NoFaceDetected { selfie: 0 });
    }
}
