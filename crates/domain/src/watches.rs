//! Guest watches: a guest who consented gives their selfies once, and every photo indexed
//! into the session afterwards is matched against them by the rules search uses. Only the
//! selfies' embeddings are kept, never an image, and only until the watch ends.

use std::time::{Duration, SystemTime};

use crate::embedding::{Embedding, Threshold};
use crate::ids::{GuestRef, PersonId, PhotoId, SessionId};
use crate::people::{Evidence, SessionScores};
use crate::ports::StoredFace;

crate::ids::time_ordered_id!(
    /// A watch's id: time-ordered (UUIDv7).
    WatchId,
    WatchIdError,
    "a watch id"
);

/// A watch runs at most this long.
pub const MAX_WATCH_DURATION: Duration = Duration::from_secs(90 * 24 * 3600);

/// Why a watch ended, as the audit records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WatchEnd {
    /// The platform deleted it.
    Deleted,
    /// Its `expires_at` passed.
    Expired,
    /// Its session was deleted.
    SessionDeleted,
    /// Its session expired and was purged.
    SessionExpired,
    /// The same guest's erasure (`forget`).
    Forgotten,
}

impl WatchEnd {
    pub const ALL: [WatchEnd; 5] = [
        Self::Deleted,
        Self::Expired,
        Self::SessionDeleted,
        Self::SessionExpired,
        Self::Forgotten,
    ];

    /// The stored and published name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deleted => "deleted",
            Self::Expired => "expired",
            Self::SessionDeleted => "session_deleted",
            Self::SessionExpired => "session_expired",
            Self::Forgotten => "forgotten",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// A watch as the platform sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Watch {
    pub id: WatchId,
    pub session: SessionId,
    pub guest_ref: GuestRef,
    pub threshold: Threshold,
    pub created_at: SystemTime,
    pub expires_at: SystemTime,
}

/// One photo matched for a watch (its best face, as search would return it).
#[derive(Debug, Clone, PartialEq)]
pub struct WatchMatch {
    /// Increasing with every match recorded (0 before it is stored): the order of the
    /// matches' listing and its cursor.
    pub seq: i64,
    pub photo_id: PhotoId,
    pub face: StoredFace,
    pub person: Option<PersonId>,
    pub evidence: Evidence,
    /// Calibrated, as search's `similarity`.
    pub similarity: f32,
    /// The raw cosine of the best selfie to the face.
    pub cosine: f32,
    pub matched_at: SystemTime,
}

/// A new watch, with the matches its session already had (answered, not notified).
#[derive(Debug, Clone, PartialEq)]
pub struct NewWatch {
    pub watch: Watch,
    /// The threshold as the matcher's cosine margin (see [`crate::people::Matcher`]).
    pub margin: f32,
    /// The face embedding of each selfie, in request order.
    pub queries: Vec<Embedding>,
    /// The configured API key that created it (audit).
    pub key_id: Option<String>,
    pub initial: Vec<WatchMatch>,
}

/// A live watch as the matcher needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveWatch {
    pub id: WatchId,
    pub margin: f32,
    /// The selfies' embeddings as stored (unit vectors of the store's space); shared, as a
    /// store may keep them between photos (a watch's never change).
    pub queries: std::sync::Arc<Vec<Vec<f32>>>,
}

/// What a store reports of one indexed photo for one live watch: the photo's faces as
/// candidates (their cosines to the watch's selfies), their persons' links and the session's
/// size: what search would see of those faces.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchScores {
    pub watch: LiveWatch,
    pub scores: SessionScores,
}

/// A page of a watch's matches, oldest first.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MatchQuery {
    /// Matches recorded at or after this time.
    pub since: Option<SystemTime>,
    /// Matches after this one (the previous page's last `seq`).
    pub after: Option<i64>,
    pub limit: usize,
}

/// A watch's new matches to announce in one `watch.matched` webhook.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchNotice {
    pub watch: Watch,
    pub matches: Vec<WatchMatch>,
}

/// A watch that ended, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct EndedWatch {
    pub session: SessionId,
    pub watch: WatchId,
    pub reason: WatchEnd,
}
