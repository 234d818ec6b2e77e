//! Data lifecycle: who deleted what (the audit), when a session expires, and how the
//! platform's list of photos compares with the index.

use std::time::SystemTime;

use crate::ids::{PhotoId, SessionId};

/// Who asked for a deletion, as the audit records it: a configured API key's id (a name or a
/// fingerprint, never the key); `None` for the server's own purge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actor {
    pub key_id: Option<String>,
}

impl Actor {
    pub fn key(key_id: impl Into<String>) -> Self {
        Self {
            key_id: Some(key_id.into()),
        }
    }

    /// The server itself (expiry).
    pub fn server() -> Self {
        Self::default()
    }
}

/// What a deletion did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    DeleteSession,
    DeletePhoto,
    Expire,
    Forget,
    /// A guest watch ended (its reason in [`AuditEvent::reason`]).
    WatchEnd,
}

impl AuditAction {
    pub const ALL: [AuditAction; 5] = [
        Self::DeleteSession,
        Self::DeletePhoto,
        Self::Expire,
        Self::Forget,
        Self::WatchEnd,
    ];

    /// The stored and published name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DeleteSession => "delete_session",
            Self::DeletePhoto => "delete_photo",
            Self::Expire => "expire",
            Self::Forget => "forget",
            Self::WatchEnd => "watch_end",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// One recorded deletion.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    /// Increasing with every event: newest first is highest first.
    pub id: i64,
    pub at: SystemTime,
    pub action: AuditAction,
    pub session: SessionId,
    pub photo: Option<PhotoId>,
    pub deleted_photos: u64,
    pub deleted_faces: u64,
    pub key_id: Option<String>,
    /// The watch a `watch_end` event ended, and why.
    pub watch: Option<crate::watches::WatchId>,
    pub reason: Option<crate::watches::WatchEnd>,
}

/// Which events to read, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditQuery {
    pub session: Option<SessionId>,
    /// Events at or after this time.
    pub since: Option<SystemTime>,
    /// Events older than this id (the previous page's last).
    pub before_id: Option<i64>,
    pub limit: usize,
}

/// A change of a session's expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiryUpdate {
    /// Sets it (`None`: the session is kept until deleted), creating the session if needed.
    Set(Option<SystemTime>),
    /// The server's default retention: applies only to a session that does not exist yet.
    Default(SystemTime),
}

/// The platform's list of a session's photos against the index.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SessionDiff {
    /// Listed photos that are indexed.
    pub indexed: u64,
    /// Listed, not indexed; sorted bytewise.
    pub missing: Vec<PhotoId>,
    /// Indexed, not listed; sorted bytewise.
    pub orphaned: Vec<PhotoId>,
}

/// What a guest's erasure removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ForgetCounts {
    pub faces: u64,
    /// Photos that lost at least one face (they stay indexed for the other people in them).
    pub photos: u64,
    /// The guest's watches of the session that ended with the erasure.
    pub watches_ended: u64,
}
