//! Use case: what is indexed for a session.

use std::sync::Arc;

use crate::ids::SessionId;
use crate::ports::{SessionStats, StoreError, VectorStore};

#[derive(Debug)]
pub struct SessionStatus<S> {
    store: Arc<S>,
}

impl<S: VectorStore> SessionStatus<S> {
    pub fn new(store: Arc<S>) -> Self {
        Self { store }
    }

    pub async fn execute(&self, session: &SessionId) -> Result<SessionStats, StoreError> {
        self.store.session_status(session).await
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
            .returning(|_| Ok(SessionStats::default()));

        let stats = SessionStatus::new(Arc::new(store))
            .execute(&SessionId::parse("new").unwrap())
            .await
            .unwrap();

        assert_eq!(stats.photos_indexed, 0);
        assert!(stats.last_indexed_at.is_none());
    }
}
