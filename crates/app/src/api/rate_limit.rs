//! Token-bucket rate limits (governor): per API key for indexing, per client IP for search.

use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use super::errors::ApiError;
use crate::settings::RateLimitSettings;

/// Which bucket family a request draws from (also the metrics label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Search,
    Index,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Search => "search",
            Self::Index => "index",
        }
    }
}

pub struct RateLimits {
    search: Option<DefaultKeyedRateLimiter<String>>,
    index: Option<DefaultKeyedRateLimiter<String>>,
    clock: DefaultClock,
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits")
            .field("enabled", &self.search.is_some())
            .finish()
    }
}

fn quota(per_minute: u32, burst: u32) -> Quota {
    let positive = |n: u32| NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(positive(per_minute)).allow_burst(positive(burst))
}

impl RateLimits {
    pub fn new(settings: &RateLimitSettings) -> Self {
        let enabled = settings.enabled;
        Self {
            search: enabled.then(|| {
                DefaultKeyedRateLimiter::keyed(quota(
                    settings.search_per_minute,
                    settings.search_burst,
                ))
            }),
            index: enabled.then(|| {
                DefaultKeyedRateLimiter::keyed(quota(
                    settings.index_per_minute,
                    settings.index_burst,
                ))
            }),
            clock: DefaultClock::default(),
        }
    }

    /// Takes one token from `key`'s bucket, or answers `rate_limited` with the seconds until
    /// the next token.
    pub fn check(&self, scope: Scope, key: &str) -> Result<(), ApiError> {
        let limiter = match scope {
            Scope::Search => &self.search,
            Scope::Index => &self.index,
        };
        let Some(limiter) = limiter else {
            return Ok(());
        };
        limiter.check_key(&key.to_owned()).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            ApiError::rate_limited(wait.as_secs_f64().ceil() as u64)
        })
    }

    /// Forgets buckets that are full again (idle clients), so memory stays bounded.
    pub fn forget_idle(&self) {
        for limiter in [&self.search, &self.index].into_iter().flatten() {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(enabled: bool) -> RateLimitSettings {
        RateLimitSettings {
            enabled,
            search_per_minute: 60,
            search_burst: 2,
            index_per_minute: 60,
            index_burst: 1,
        }
    }

    #[test]
    fn a_burst_passes_then_the_next_request_waits_about_a_second() {
        let limits = RateLimits::new(&settings(true));
        limits.check(Scope::Search, "10.0.0.1").unwrap();
        limits.check(Scope::Search, "10.0.0.1").unwrap();
        let err = limits.check(Scope::Search, "10.0.0.1").unwrap_err();
        assert_eq!(err.code, super::super::errors::ErrorCode::RateLimited);
        assert_eq!(err.retry_after.map(|s| s.get()), Some(1));
        // Another client and the other scope have their own buckets.
        limits.check(Scope::Search, "10.0.0.2").unwrap();
        limits.check(Scope::Index, "10.0.0.1").unwrap();
    }

    #[test]
    fn disabled_limits_never_refuse() {
        let limits = RateLimits::new(&settings(false));
        for _ in 0..100 {
            limits.check(Scope::Index, "k").unwrap();
        }
    }
}
