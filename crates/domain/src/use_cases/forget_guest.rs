//! Use case: a guest's erasure request. Every face of the person in the selfies is deleted
//! from the session (faces, not photos: the other people in those photos stay findable).
//! The selfies are analysed like a search's and kept nowhere.

use std::sync::Arc;

use crate::embedding::Threshold;
use crate::face::ImageBytes;
use crate::ids::SessionId;
use crate::lifecycle::{Actor, ForgetCounts};
use crate::ports::{Embedder, VectorStore};
use crate::use_cases::search_by_selfie::{SearchBySelfie, SearchSelfieError};

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
}

impl<E, S> std::fmt::Debug for ForgetGuest<E, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForgetGuest").finish_non_exhaustive()
    }
}

impl<E: Embedder, S: VectorStore> ForgetGuest<E, S> {
    /// Uses `search`'s face choice and calibration.
    pub fn new(search: Arc<SearchBySelfie<E, S>>, store: Arc<S>) -> Self {
        Self { search, store }
    }

    pub async fn execute(
        &self,
        request: ForgetRequest,
        actor: &Actor,
    ) -> Result<ForgetCounts, SearchSelfieError> {
        let faces = self
            .search
            .query_faces(request.selfies, request.face_index)
            .await?;
        let queries: Vec<_> = faces.into_iter().map(|f| f.embedding).collect();
        let min_cosine = self.search.min_cosine(request.threshold);
        Ok(self
            .store
            .forget(&request.session, &queries, min_cosine, actor)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibration::SimilarityCalibration;
    use crate::face::DetectedFace;
    use crate::ports::{MockEmbedder, MockVectorStore};
    use crate::use_cases::search_by_selfie::SelfiePolicy;
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

    #[tokio::test]
    async fn the_guests_face_is_forgotten_at_the_threshold_as_a_cosine_bound_by_the_key() {
        let mut store = MockVectorStore::new();
        store
            .expect_forget()
            .withf(|s, q, c, a| {
                s.as_str() == "s1"
                    && q.len() == 1
                    && (c - 0.42).abs() < 1e-4
                    && a.key_id.as_deref() == Some("k-1")
            })
            .times(1)
            .returning(|_, _, _, _| {
                Ok(ForgetCounts {
                    faces: 6,
                    photos: 5,
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
                photos: 5
            }
        );
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
