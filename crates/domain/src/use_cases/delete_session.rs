//! Use case: forget every face of a session (idempotent).

use std::sync::Arc;

use crate::ids::SessionId;
use crate::lifecycle::Actor;
use crate::ports::{DeletedCounts, StoreError, VectorStore};

#[derive(Debug)]
pub struct DeleteSession<S> {
    store: Arc<S>,
}

impl<S: VectorStore> DeleteSession<S> {
    pub fn new(store: Arc<S>) -> Self {
        Self { store }
    }

    pub async fn execute(
        &self,
        session: &SessionId,
        actor: &Actor,
    ) -> Result<DeletedCounts, StoreError> {
        self.store.delete_session(session, actor).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::MockVectorStore;

    #[tokio::test]
    async fn deleting_a_session_reports_what_the_store_removed() {
        let mut store = MockVectorStore::new();
        store
            .expect_delete_session()
            .withf(|s, a| s.as_str() == "s1" && a.key_id.as_deref() == Some("k-1"))
            .times(1)
            .returning(|_, _| {
                Ok(DeletedCounts {
                    photos: 13,
                    faces: 27,
                })
            });

        let counts = DeleteSession::new(Arc::new(store))
            .execute(&SessionId::parse("s1").unwrap(), &Actor::key("k-1"))
            .await
            .unwrap();

        assert_eq!(
            counts,
            DeletedCounts {
                photos: 13,
                faces: 27
            }
        );
    }
}
