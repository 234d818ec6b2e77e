//! Port: fetch a photo's bytes by its key.

use std::time::Duration;

use async_trait::async_trait;

use crate::face::ImageBytes;
use crate::ids::PhotoKey;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PhotoSourceError {
    #[error("no photo at that key")]
    NotFound,
    #[error("access to the photo was denied: {0}")]
    AccessDenied(String),
    #[error("the photo is larger than the {limit_bytes}-byte limit")]
    TooLarge { limit_bytes: u64 },
    #[error("fetching the photo took longer than {0:?}")]
    Timeout(Duration),
    /// The backing store cannot be reached or keeps failing (after retries).
    #[error("the photo store is unavailable: {0}")]
    Unavailable(String),
    #[error("photo store failure: {0}")]
    Unexpected(String),
}

/// Where indexed photos come from.
///
/// Contract:
/// - `fetch` returns the complete object or an error, never a truncated body;
/// - a missing key is [`PhotoSourceError::NotFound`]; an object over the configured size
///   limit is [`PhotoSourceError::TooLarge`] (checked before and while downloading);
/// - one call takes at most the configured timeout, retries included, then
///   [`PhotoSourceError::Timeout`];
/// - transient failures are retried inside the adapter; what reaches the caller is final.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PhotoSource: Send + Sync + 'static {
    /// The whole object stored under `key`.
    ///
    /// # Errors
    /// [`PhotoSourceError::NotFound`] for a missing key, [`PhotoSourceError::AccessDenied`]
    /// when the source refuses it, [`PhotoSourceError::TooLarge`] over the size limit,
    /// [`PhotoSourceError::Timeout`] past the deadline, [`PhotoSourceError::Unavailable`] when
    /// the source cannot be reached after retries, [`PhotoSourceError::Unexpected`] otherwise.
    async fn fetch(&self, key: &PhotoKey) -> Result<ImageBytes, PhotoSourceError>;

    /// Cheap reachability check for readiness probes.
    ///
    /// # Errors
    /// [`PhotoSourceError::Unavailable`] (or another variant) when the source cannot be read.
    async fn health(&self) -> Result<(), PhotoSourceError>;
}
