//! Use case: what is indexed for a session.

use std::sync::Arc;

use crate::ids::SessionId;
use crate::ports::{SessionStats, StoreError, VectorStore};

#[derive(Debug)]
pub struct SessionStatus<S> {
    store: Arc<S>,
    /// Faces shorter than this (pixels) are counted as below the recognizer's reliable size.
    reliable_face_px: f32,
}

impl<S: VectorStore> SessionStatus<S> {
    pub fn new(store: Arc<S>, reliable_face_px: f32) -> Self {
        Self {
            store,
            reliable_face_px,
        }
    }

    pub async fn execute(&self, session: &SessionId) -> Result<SessionStats, StoreError> {
        self.store
            .session_status(session, self.reliable_face_px)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::MockVectorStore;

    #[tokio::test]
    async fn an_unknown_session_has_nothing_indexed() {
        let mut store = MockVectorStore::new();
        store
            .expect_session_status()
            .withf(|_, px| *px == 48.0)
            .returning(|_, _| Ok(SessionStats::default()));

        let stats = SessionStatus::new(Arc::new(store), 48.0)
            .execute(&SessionId::parse("new").unwrap())
            .await
            .unwrap();

        assert_eq!(stats.photos_indexed, 0);
        assert!(stats.last_indexed_at.is_none());
    }
}
