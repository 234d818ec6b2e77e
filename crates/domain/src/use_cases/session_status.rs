//! Use case: what is indexed for a session.

use std::sync::Arc;

use crate::face::Pixels;
use crate::ids::SessionId;
use crate::ports::{SessionStats, StoreError, VectorStore};

#[derive(Debug)]
pub struct SessionStatus<S> {
    store: Arc<S>,
    /// Faces shorter than this are counted as below the recognizer's reliable size.
    reliable_face: Pixels,
}

impl<S: VectorStore> SessionStatus<S> {
    pub fn new(store: Arc<S>, reliable_face: Pixels) -> Self {
        Self {
            store,
            reliable_face,
        }
    }

    pub async fn execute(&self, session: &SessionId) -> Result<SessionStats, StoreError> {
        self.store.session_status(session, self.reliable_face).await
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
            .withf(|_, px| px.value() == 48.0)
            .returning(|_, _| Ok(SessionStats::default()));

        let stats = SessionStatus::new(Arc::new(store), Pixels::new(48.0).unwrap())
            .execute(&SessionId::parse("new").unwrap())
            .await
            .unwrap();

        assert_eq!(stats.photos_indexed, 0);
        assert!(stats.last_indexed_at.is_none());
    }
}
