//! Use case: index one photo (fetch → detect/embed → store), skipping photos already indexed.

use std::sync::Arc;

use crate::face::{ImageBytes, ImageKind};
use crate::ids::{PhotoId, PhotoKey, SessionId};
use crate::ports::{
    EmbedError, Embedder, PhotoSource, PhotoSourceError, StoreError, StoredFace, VectorStore,
};
use crate::use_cases::watch_guest::WatchMatcher;

#[derive(Debug, Clone, PartialEq)]
pub struct IndexPhotoRequest {
    pub session: SessionId,
    pub photo: PhotoId,
    pub key: PhotoKey,
    /// Recompute and replace even when the photo is already indexed.
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexStatus {
    /// Faces were computed and stored (possibly none).
    Indexed,
    /// Already indexed and `force` was false: nothing was fetched or recomputed.
    Skipped,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IndexedPhoto {
    pub status: IndexStatus,
    /// The faces stored by this call (empty when skipped).
    pub faces: Vec<StoredFace>,
    /// How many faces the photo has in the store now.
    pub face_count: u64,
}

/// Each failure keeps the port's own classification, so callers can map it precisely.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IndexPhotoError {
    #[error(transparent)]
    Fetch(#[from] PhotoSourceError),
    #[error(transparent)]
    Embed(#[from] EmbedError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The service began shutting down before this photo was started: nothing was fetched or
    /// stored, and indexing it again later is safe.
    #[error("the service is shutting down; this photo was not started")]
    Interrupted,
}

pub struct IndexPhoto<E, S, P> {
    embedder: Arc<E>,
    store: Arc<S>,
    photos: Arc<P>,
    watches: Option<WatchMatcher>,
}

impl<E, S, P> Clone for IndexPhoto<E, S, P> {
    fn clone(&self) -> Self {
        Self {
            embedder: self.embedder.clone(),
            store: self.store.clone(),
            photos: self.photos.clone(),
            watches: self.watches.clone(),
        }
    }
}

impl<E, S, P> std::fmt::Debug for IndexPhoto<E, S, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IndexPhoto")
    }
}

impl<E: Embedder, S: VectorStore, P: PhotoSource> IndexPhoto<E, S, P> {
    pub fn new(embedder: Arc<E>, store: Arc<S>, photos: Arc<P>) -> Self {
        Self {
            embedder,
            store,
            photos,
            watches: None,
        }
    }

    /// Matches every photo written against its session's live watches.
    pub fn with_watches(mut self, watches: WatchMatcher) -> Self {
        self.watches = Some(watches);
        self
    }

    /// Indexes the photo (unless it is indexed and `force` is false); with watches, the
    /// store matches it against the session's live watches in the transaction that writes
    /// it (a photo written before a watch existed is found by the watch's creation).
    pub async fn execute(
        &self,
        request: &IndexPhotoRequest,
    ) -> Result<IndexedPhoto, IndexPhotoError> {
        if !request.force
            && let Some(face_count) = self
                .store
                .indexed_faces(&request.session, &request.photo)
                .await?
        {
            return Ok(IndexedPhoto {
                status: IndexStatus::Skipped,
                faces: Vec::new(),
                face_count,
            });
        }
        let bytes: ImageBytes = self.photos.fetch(&request.key).await?;
        let analysis = self.embedder.analyze(bytes, ImageKind::Photo).await?;
        let faces = match &self.watches {
            Some(watches) => {
                self.store
                    .replace_photo_watched(
                        &request.session,
                        &request.photo,
                        analysis.faces,
                        watches.rules(),
                    )
                    .await?
            }
            None => {
                self.store
                    .replace_photo(&request.session, &request.photo, analysis.faces)
                    .await?
            }
        };
        Ok(IndexedPhoto {
            status: IndexStatus::Indexed,
            face_count: faces.len() as u64,
            faces,
        })
    }
}

#[cfg(test)]
mod tests {
    use mockall::predicate::eq;

    use super::*;
    use crate::ids::FaceId;
    use crate::ports::{MockEmbedder, MockPhotoSource, MockVectorStore};
    use crate::use_cases::test_support::{analysis, face};

    fn request(force: bool) -> IndexPhotoRequest {
        IndexPhotoRequest {
            session: SessionId::parse("s1").unwrap(),
            photo: PhotoId::parse("p1").unwrap(),
            key: PhotoKey::parse("sessions/s1/p1.jpg").unwrap(),
            force,
        }
    }

    fn stored(n: usize) -> Vec<StoredFace> {
        (0..n)
            .map(|i| StoredFace {
                face_id: FaceId::new(),
                bbox: face(10.0 + i as f32, 0).bbox,
                det_score: 0.9,
            })
            .collect()
    }

    #[tokio::test]
    async fn a_new_photo_is_fetched_embedded_and_stored() {
        let mut store = MockVectorStore::new();
        store
            .expect_indexed_faces()
            .times(1)
            .returning(|_, _| Ok(None));
        store
            .expect_replace_photo()
            .withf(|s, p, faces| s.as_str() == "s1" && p.as_str() == "p1" && faces.len() == 2)
            .times(1)
            .returning(|_, _, faces| Ok(stored(faces.len())));
        let mut photos = MockPhotoSource::new();
        photos
            .expect_fetch()
            .with(eq(PhotoKey::parse("sessions/s1/p1.jpg").unwrap()))
            .times(1)
            .returning(|_| Ok(vec![1, 2, 3].into()));
        let mut embedder = MockEmbedder::new();
        embedder
            .expect_analyze()
            .times(1)
            .returning(|_, _| Ok(analysis(vec![face(50.0, 0), face(40.0, 1)])));

        let out = IndexPhoto::new(Arc::new(embedder), Arc::new(store), Arc::new(photos))
            .execute(&request(false))
            .await
            .unwrap();

        assert_eq!(out.status, IndexStatus::Indexed);
        assert_eq!(out.face_count, 2);
        assert_eq!(out.faces.len(), 2);
    }

    #[tokio::test]
    async fn an_indexed_photo_is_skipped_without_fetching() {
        let mut store = MockVectorStore::new();
        store.expect_indexed_faces().returning(|_, _| Ok(Some(3)));
        store.expect_replace_photo().never();
        let mut photos = MockPhotoSource::new();
        photos.expect_fetch().never();
        let mut embedder = MockEmbedder::new();
        embedder.expect_analyze().never();

        let out = IndexPhoto::new(Arc::new(embedder), Arc::new(store), Arc::new(photos))
            .execute(&request(false))
            .await
            .unwrap();

        assert_eq!(
            out,
            IndexedPhoto {
                status: IndexStatus::Skipped,
                faces: vec![],
                face_count: 3
            }
        );
    }

    #[tokio::test]
    async fn force_recomputes_an_indexed_photo() {
        let mut store = MockVectorStore::new();
        store.expect_indexed_faces().never();
        store
            .expect_replace_photo()
            .times(1)
            .returning(|_, _, faces| Ok(stored(faces.len())));
        let mut photos = MockPhotoSource::new();
        photos
            .expect_fetch()
            .times(1)
            .returning(|_| Ok(vec![0].into()));
        let mut embedder = MockEmbedder::new();
        embedder
            .expect_analyze()
            .times(1)
            .returning(|_, _| Ok(analysis(vec![])));

        let out = IndexPhoto::new(Arc::new(embedder), Arc::new(store), Arc::new(photos))
            .execute(&request(true))
            .await
            .unwrap();

        assert_eq!(out.status, IndexStatus::Indexed);
        assert_eq!(out.face_count, 0);
    }

    /// What the photo source and the embedder answer, and the error the use case must give.
    type Case = (
        Result<(), PhotoSourceError>,
        Result<(), EmbedError>,
        IndexPhotoError,
    );

    #[tokio::test]
    async fn each_failure_keeps_its_port_classification_and_stores_nothing() {
        let cases: Vec<Case> = vec![
            (
                Err(PhotoSourceError::NotFound),
                Ok(()),
                IndexPhotoError::Fetch(PhotoSourceError::NotFound),
            ),
            (
                Err(PhotoSourceError::Timeout(std::time::Duration::from_secs(
                    30,
                ))),
                Ok(()),
                IndexPhotoError::Fetch(PhotoSourceError::Timeout(std::time::Duration::from_secs(
                    30,
                ))),
            ),
            (
                Ok(()),
                Err(EmbedError::InvalidImage("garbage".into())),
                IndexPhotoError::Embed(EmbedError::InvalidImage("garbage".into())),
            ),
        ];
        for (fetch, embed, expected) in cases {
            let mut store = MockVectorStore::new();
            store.expect_indexed_faces().returning(|_, _| Ok(None));
            store.expect_replace_photo().never();
            let mut photos = MockPhotoSource::new();
            photos
                .expect_fetch()
                .returning(move |_| fetch.clone().map(|()| vec![0].into()));
            let mut embedder = MockEmbedder::new();
            embedder
                .expect_analyze()
                .returning(move |_, _| embed.clone().map(|()| analysis(vec![])));

            let err = IndexPhoto::new(Arc::new(embedder), Arc::new(store), Arc::new(photos))
                .execute(&request(false))
                .await
                .unwrap_err();

            assert_eq!(err, expected);
        }
    }

    #[tokio::test]
    async fn a_store_failure_is_reported_as_such() {
        let mut store = MockVectorStore::new();
        store
            .expect_indexed_faces()
            .returning(|_, _| Err(StoreError::Unavailable("db down".into())));
        let photos = MockPhotoSource::new();
        let embedder = MockEmbedder::new();

        let err = IndexPhoto::new(Arc::new(embedder), Arc::new(store), Arc::new(photos))
            .execute(&request(false))
            .await
            .unwrap_err();

        assert_eq!(
            err,
            IndexPhotoError::Store(StoreError::Unavailable("db down".into()))
        );
    }
}
