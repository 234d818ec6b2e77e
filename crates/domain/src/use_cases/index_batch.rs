//! Use case: index many photos of one session concurrently, each committed on its own, so one
//! bad photo never fails the others and every stored photo stays stored.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::StreamExt;

use super::index_photo::{
    IndexPhoto, IndexPhotoError, IndexPhotoRequest, IndexStatus, IndexedPhoto,
};
use crate::ids::{PhotoId, PhotoKey, SessionId};
use crate::ports::{Embedder, PhotoSource, VectorStore};

#[derive(Debug, Clone, PartialEq)]
pub struct BatchItem {
    pub photo: PhotoId,
    pub key: PhotoKey,
}

/// The result of one photo of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchOutcome {
    pub photo: PhotoId,
    pub result: Result<IndexedPhoto, IndexPhotoError>,
}

/// Totals of a batch. `indexed + failed == total`; `skipped` photos count as indexed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BatchReport {
    /// Distinct photos in the request (a repeated photo id counts, and is indexed, once).
    pub total: u64,
    pub indexed: u64,
    pub skipped: u64,
    pub failed: u64,
    /// Faces the indexed photos (skipped ones included) have in the store.
    pub faces_indexed: u64,
    /// Indexed photos (skipped ones included) with no face.
    pub photos_without_faces: u64,
    /// One entry per distinct photo, in request order.
    pub outcomes: Vec<BatchOutcome>,
}

impl BatchReport {
    fn from_outcomes(outcomes: Vec<BatchOutcome>) -> Self {
        let mut report = BatchReport {
            total: outcomes.len() as u64,
            ..Default::default()
        };
        for outcome in &outcomes {
            match &outcome.result {
                Ok(photo) => {
                    report.indexed += 1;
                    report.skipped += u64::from(photo.status == IndexStatus::Skipped);
                    report.faces_indexed += photo.face_count;
                    report.photos_without_faces += u64::from(photo.face_count == 0);
                }
                Err(_) => report.failed += 1,
            }
        }
        report.outcomes = outcomes;
        report
    }

    pub fn errors(&self) -> impl Iterator<Item = (&PhotoId, &IndexPhotoError)> {
        self.outcomes
            .iter()
            .filter_map(|o| o.result.as_ref().err().map(|e| (&o.photo, e)))
    }
}

pub struct IndexBatch<E, S, P> {
    index: IndexPhoto<E, S, P>,
    concurrency: usize,
    stop: Option<Arc<AtomicBool>>,
}

impl<E, S, P> std::fmt::Debug for IndexBatch<E, S, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexBatch")
            .field("concurrency", &self.concurrency)
            .finish()
    }
}

impl<E: Embedder, S: VectorStore, P: PhotoSource> IndexBatch<E, S, P> {
    /// `concurrency` photos are in flight at once (at least 1).
    pub fn new(index: IndexPhoto<E, S, P>, concurrency: usize) -> Self {
        Self {
            index,
            concurrency: concurrency.max(1),
            stop: None,
        }
    }

    /// Once `stop` is set (the service is shutting down), photos not yet started are not
    /// started: they are reported as [`IndexPhotoError::Interrupted`]; photos in flight finish.
    pub fn stop_when(mut self, stop: Arc<AtomicBool>) -> Self {
        self.stop = Some(stop);
        self
    }

    fn stopping(&self) -> bool {
        self.stop.as_ref().is_some_and(|s| s.load(Ordering::SeqCst))
    }

    /// Indexes `items`; `on_photo(done, total, outcome)` is called as each photo finishes
    /// (for progress reporting).
    pub async fn execute(
        &self,
        session: &SessionId,
        items: Vec<BatchItem>,
        force: bool,
        on_photo: impl Fn(usize, usize, &BatchOutcome) + Send + Sync,
    ) -> BatchReport {
        let mut seen = HashSet::new();
        let requests: Vec<IndexPhotoRequest> = items
            .into_iter()
            .filter(|item| seen.insert(item.photo.clone()))
            .map(|item| IndexPhotoRequest {
                session: session.clone(),
                photo: item.photo,
                key: item.key,
                force,
            })
            .collect();
        let total = requests.len();

        let mut finished: Vec<(usize, BatchOutcome)> = Vec::with_capacity(total);
        let mut stream = futures::stream::iter(requests.into_iter().enumerate())
            .map(|(position, request)| async move {
                let result = if self.stopping() {
                    Err(IndexPhotoError::Interrupted)
                } else {
                    self.index.execute(&request).await
                };
                (
                    position,
                    BatchOutcome {
                        photo: request.photo,
                        result,
                    },
                )
            })
            .buffer_unordered(self.concurrency);
        while let Some((position, outcome)) = stream.next().await {
            on_photo(finished.len() + 1, total, &outcome);
            finished.push((position, outcome));
        }
        finished.sort_by_key(|(position, _)| *position);
        BatchReport::from_outcomes(finished.into_iter().map(|(_, outcome)| outcome).collect())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::ids::FaceId;
    use crate::ports::{
        MockEmbedder, MockPhotoSource, MockVectorStore, PhotoSourceError, StoredFace,
    };
    use crate::use_cases::test_support::{analysis, face};

    fn item(photo: &str) -> BatchItem {
        BatchItem {
            photo: PhotoId::parse(photo).unwrap(),
            key: PhotoKey::parse(format!("k/{photo}.jpg")).unwrap(),
        }
    }

    /// p-missing is not in the photo source, p-skip is already indexed (2 faces),
    /// p-empty has no face, anything else has one face.
    fn batch() -> IndexBatch<MockEmbedder, MockVectorStore, MockPhotoSource> {
        let mut store = MockVectorStore::new();
        store
            .expect_indexed_faces()
            .returning(|_, p| Ok((p.as_str() == "p-skip").then_some(2)));
        store.expect_replace_photo().returning(|_, _, faces| {
            Ok(faces
                .iter()
                .map(|f| StoredFace {
                    face_id: FaceId::new(),
                    bbox: f.bbox,
                    det_score: f.det_score,
                })
                .collect())
        });
        let mut photos = MockPhotoSource::new();
        photos.expect_fetch().returning(|key| match key.as_str() {
            "k/p-missing.jpg" => Err(PhotoSourceError::NotFound),
            "k/p-empty.jpg" => Ok(b"empty".to_vec().into()),
            _ => Ok(b"face".to_vec().into()),
        });
        let mut embedder = MockEmbedder::new();
        embedder.expect_analyze().returning(|bytes, _| {
            Ok(analysis(if bytes.as_slice() == b"empty" {
                vec![]
            } else {
                vec![face(30.0, 0)]
            }))
        });
        IndexBatch::new(
            IndexPhoto::new(Arc::new(embedder), Arc::new(store), Arc::new(photos)),
            4,
        )
    }

    #[tokio::test]
    async fn one_bad_photo_does_not_fail_the_others_and_the_counts_add_up() {
        let progress = AtomicUsize::new(0);
        let items = vec![
            item("p1"),
            item("p-missing"),
            item("p-skip"),
            item("p-empty"),
            item("p2"),
        ];

        let report = batch()
            .execute(
                &SessionId::parse("s1").unwrap(),
                items,
                false,
                |done, total, _| {
                    assert_eq!(total, 5);
                    progress.store(done, Ordering::SeqCst);
                },
            )
            .await;

        assert_eq!(
            (report.total, report.indexed, report.skipped, report.failed),
            (5, 4, 1, 1)
        );
        assert_eq!(report.indexed + report.failed, report.total);
        assert_eq!(report.faces_indexed, 1 + 2 + 1);
        assert_eq!(report.photos_without_faces, 1);
        let errors: Vec<_> = report
            .errors()
            .map(|(p, e)| (p.as_str().to_owned(), e.clone()))
            .collect();
        assert_eq!(
            errors,
            vec![(
                "p-missing".to_owned(),
                IndexPhotoError::Fetch(PhotoSourceError::NotFound)
            )]
        );
        let order: Vec<_> = report.outcomes.iter().map(|o| o.photo.as_str()).collect();
        assert_eq!(order, ["p1", "p-missing", "p-skip", "p-empty", "p2"]);
        assert_eq!(progress.load(Ordering::SeqCst), 5);
    }

    #[tokio::test]
    async fn a_repeated_photo_id_is_indexed_once() {
        let report = batch()
            .execute(
                &SessionId::parse("s1").unwrap(),
                vec![item("p1"), item("p1"), item("p2")],
                false,
                |_, _, _| {},
            )
            .await;

        assert_eq!((report.total, report.indexed, report.failed), (2, 2, 0));
    }

    #[tokio::test]
    async fn after_stop_is_set_photos_not_started_are_reported_interrupted() {
        let stop = Arc::new(AtomicBool::new(false));
        let mut batch = batch().stop_when(stop.clone());
        batch.concurrency = 1;

        let report = batch
            .execute(
                &SessionId::parse("s1").unwrap(),
                vec![item("p1"), item("p2"), item("p3")],
                false,
                |done, _, _| {
                    if done == 1 {
                        stop.store(true, Ordering::SeqCst);
                    }
                },
            )
            .await;

        assert_eq!((report.total, report.indexed, report.failed), (3, 1, 2));
        assert!(report.outcomes[0].result.is_ok());
        for outcome in &report.outcomes[1..] {
            assert_eq!(outcome.result, Err(IndexPhotoError::Interrupted));
        }
    }
}
