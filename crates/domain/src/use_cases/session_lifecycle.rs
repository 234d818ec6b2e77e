//! Use case: a session's data lifecycle — its expiry (set by the platform or by the server's
//! default retention) and the purge of expired sessions, the diff of the platform's photo
//! list against the index, and the deletion audit.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::ids::{PhotoId, SessionId};
use crate::lifecycle::{AuditEvent, AuditQuery, ExpiryUpdate, SessionDiff};
use crate::ports::{DeletedCounts, StoreError, VectorStore};

/// Most photo ids one diff compares.
pub const MAX_DIFF_IDS: usize = 100_000;

/// One page of the audit, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    /// The `before_id` of the next page, when there is one.
    pub next: Option<i64>,
}

#[derive(Debug)]
pub struct SessionLifecycle<S> {
    store: Arc<S>,
    /// How long a new session is kept when its indexing request names no expiry.
    default_retention: Option<Duration>,
}

impl<S: VectorStore> SessionLifecycle<S> {
    pub fn new(store: Arc<S>, default_retention: Option<Duration>) -> Self {
        Self {
            store,
            default_retention,
        }
    }

    /// Before photos of `session` are indexed: the expiry the request names, else the
    /// default retention for a session that does not exist yet.
    pub async fn before_indexing(
        &self,
        session: &SessionId,
        expires_at: Option<SystemTime>,
    ) -> Result<(), StoreError> {
        let update = match (expires_at, self.default_retention) {
            (Some(at), _) => ExpiryUpdate::Set(Some(at)),
            (None, Some(keep)) => ExpiryUpdate::Default(SystemTime::now() + keep),
            (None, None) => return Ok(()),
        };
        self.store.set_expiry(session, update).await.map(drop)
    }

    /// Sets the session's expiry (`None`: keep until deleted); returns it.
    pub async fn set_expiry(
        &self,
        session: &SessionId,
        expires_at: Option<SystemTime>,
    ) -> Result<Option<SystemTime>, StoreError> {
        self.store
            .set_expiry(session, ExpiryUpdate::Set(expires_at))
            .await
    }

    /// Deletes up to `max_sessions` sessions expired by `now`.
    pub async fn purge(
        &self,
        now: SystemTime,
        max_sessions: usize,
    ) -> Result<Vec<(SessionId, DeletedCounts)>, StoreError> {
        self.store.purge_expired(now, max_sessions).await
    }

    /// Groups the faces of up to `max_sessions` sessions indexed before persons existed.
    pub async fn group_pending(&self, max_sessions: usize) -> Result<Vec<SessionId>, StoreError> {
        self.store.group_pending(max_sessions).await
    }

    /// The platform's list (duplicates allowed) against the index.
    pub async fn diff(
        &self,
        session: &SessionId,
        mut listed: Vec<PhotoId>,
    ) -> Result<SessionDiff, StoreError> {
        listed.sort_unstable_by(|a, b| a.as_str().cmp(b.as_str()));
        listed.dedup();
        self.store.diff(session, &listed).await
    }

    /// One page of the audit: `query.limit` events and the cursor of the next page.
    pub async fn audit(&self, query: AuditQuery) -> Result<AuditPage, StoreError> {
        let limit = query.limit;
        let mut events = self
            .store
            .audit(&AuditQuery {
                limit: limit + 1,
                ..query
            })
            .await?;
        let next = if events.len() > limit {
            events.truncate(limit);
            events.last().map(|e| e.id)
        } else {
            None
        };
        Ok(AuditPage { events, next })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::AuditAction;
    use crate::ports::MockVectorStore;

    fn session() -> SessionId {
        SessionId::parse("s1").unwrap()
    }

    #[tokio::test]
    async fn indexing_sets_the_requested_expiry_else_the_default_for_new_sessions_only() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(2_000_000_000);
        let mut store = MockVectorStore::new();
        store
            .expect_set_expiry()
            .withf(move |_, u| *u == ExpiryUpdate::Set(Some(at)))
            .times(2)
            .returning(|_, _| Ok(None));
        store
            .expect_set_expiry()
            .withf(|_, u| matches!(u, ExpiryUpdate::Default(t) if *t > SystemTime::now() + Duration::from_secs(86_000)))
            .times(1)
            .returning(|_, _| Ok(None));
        let store = Arc::new(store);
        let with_default = SessionLifecycle::new(store.clone(), Some(Duration::from_secs(86_400)));
        with_default
            .before_indexing(&session(), Some(at))
            .await
            .unwrap();
        with_default
            .before_indexing(&session(), None)
            .await
            .unwrap();
        let keep_forever = SessionLifecycle::new(store, None);
        keep_forever
            .before_indexing(&session(), Some(at))
            .await
            .unwrap();
        keep_forever
            .before_indexing(&session(), None)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn the_diff_sends_each_listed_id_once_in_order() {
        let mut store = MockVectorStore::new();
        store
            .expect_diff()
            .withf(|_, ids| ids.iter().map(PhotoId::as_str).collect::<Vec<_>>() == ["a", "b"])
            .times(1)
            .returning(|_, _| Ok(SessionDiff::default()));
        let ids = ["b", "a", "b"].map(|p| PhotoId::parse(p).unwrap()).to_vec();
        SessionLifecycle::new(Arc::new(store), None)
            .diff(&session(), ids)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn an_audit_page_has_a_cursor_only_when_more_events_follow() {
        let event = |id| AuditEvent {
            id,
            at: SystemTime::UNIX_EPOCH,
            action: AuditAction::DeletePhoto,
            session: session(),
            photo: None,
            deleted_photos: 1,
            deleted_faces: 2,
            key_id: None,
            watch: None,
            reason: None,
        };
        let mut store = MockVectorStore::new();
        store
            .expect_audit()
            .returning(move |q| Ok((0..q.limit.min(3)).map(|i| event(10 - i as i64)).collect()));
        let lifecycle = SessionLifecycle::new(Arc::new(store), None);
        let query = |limit| AuditQuery {
            session: None,
            since: None,
            before_id: None,
            limit,
        };
        let page = lifecycle.audit(query(2)).await.unwrap();
        assert_eq!(page.events.len(), 2);
        assert_eq!(page.next, Some(9));
        let page = lifecycle.audit(query(3)).await.unwrap();
        assert_eq!(page.events.len(), 3);
        assert_eq!(page.next, None);
    }
}
