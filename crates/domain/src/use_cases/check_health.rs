//! Use case: is every port the service depends on ready? (the readiness probe)

use std::sync::Arc;

use crate::ports::{EmbedError, Embedder, PhotoSource, PhotoSourceError, StoreError, VectorStore};

/// One result per dependency; the service is ready when all are `Ok`.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthReport {
    pub database: Result<(), StoreError>,
    pub photo_source: Result<(), PhotoSourceError>,
    pub models: Result<(), EmbedError>,
}

impl HealthReport {
    pub fn is_ready(&self) -> bool {
        self.database.is_ok() && self.photo_source.is_ok() && self.models.is_ok()
    }
}

pub struct CheckHealth<E, S, P> {
    embedder: Arc<E>,
    store: Arc<S>,
    photos: Arc<P>,
}

impl<E, S, P> std::fmt::Debug for CheckHealth<E, S, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CheckHealth")
    }
}

impl<E: Embedder, S: VectorStore, P: PhotoSource> CheckHealth<E, S, P> {
    pub fn new(embedder: Arc<E>, store: Arc<S>, photos: Arc<P>) -> Self {
        Self {
            embedder,
            store,
            photos,
        }
    }

    /// Runs the three checks concurrently.
    pub async fn execute(&self) -> HealthReport {
        let (database, photo_source, models) = futures::join!(
            self.store.health(),
            self.photos.health(),
            self.embedder.health()
        );
        HealthReport {
            database,
            photo_source,
            models,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{MockEmbedder, MockPhotoSource, MockVectorStore};

    fn ports(db_up: bool) -> CheckHealth<MockEmbedder, MockVectorStore, MockPhotoSource> {
        let mut store = MockVectorStore::new();
        store.expect_health().returning(move || {
            if db_up {
                Ok(())
            } else {
                Err(StoreError::Unavailable("connection refused".into()))
            }
        });
        let mut photos = MockPhotoSource::new();
        photos.expect_health().returning(|| Ok(()));
        let mut embedder = MockEmbedder::new();
        embedder.expect_health().returning(|| Ok(()));
        CheckHealth::new(Arc::new(embedder), Arc::new(store), Arc::new(photos))
    }

    #[tokio::test]
    async fn all_ports_up_is_ready() {
        assert!(ports(true).execute().await.is_ready());
    }

    #[tokio::test]
    async fn a_database_down_is_not_ready_and_named() {
        let report = ports(false).execute().await;
        assert!(!report.is_ready());
        assert!(matches!(report.database, Err(StoreError::Unavailable(_))));
        assert!(report.photo_source.is_ok() && report.models.is_ok());
    }
}
