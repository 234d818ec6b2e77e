//! Use case: forget the faces of one photo (idempotent).

use std::sync::Arc;

use crate::ids::{PhotoId, SessionId};
use crate::lifecycle::Actor;
use crate::ports::{DeletedCounts, StoreError, VectorStore};

#[derive(Debug)]
pub struct DeletePhoto<S> {
    store: Arc<S>,
}

impl<S: VectorStore> DeletePhoto<S> {
    pub fn new(store: Arc<S>) -> Self {
        Self { store }
    }

    pub async fn execute(
        &self,
        session: &SessionId,
        photo: &PhotoId,
        actor: &Actor,
    ) -> Result<DeletedCounts, StoreError> {
        self.store.delete_photo(session, photo, actor).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::MockVectorStore;

    #[tokio::test]
    async fn deleting_an_unknown_photo_is_not_an_error() {
        let mut store = MockVectorStore::new();
        store
            .expect_delete_photo()
            .times(1)
            .returning(|_, _, _| Ok(DeletedCounts::default()));

        let counts = DeletePhoto::new(Arc::new(store))
            .execute(
                &SessionId::parse("s1").unwrap(),
                &PhotoId::parse("nope").unwrap(),
                &Actor::server(),
            )
            .await
            .unwrap();

        assert_eq!(
            counts,
            DeletedCounts {
                photos: 0,
                faces: 0
            }
        );
    }
}
