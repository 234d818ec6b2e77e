//! `X-API-Key` authentication of the indexing routes: keys compared in constant time, never
//! logged; with no key configured every indexing request is refused.

use poem_openapi::SecurityScheme;
use poem_openapi::auth::ApiKey;
use subtle::ConstantTimeEq;

use super::errors::{ApiError, ErrorCode};
use crate::settings::Secret;

/// The API key Pixora sends with every indexing and delete request.
#[derive(Debug, SecurityScheme)]
#[oai(ty = "api_key", key_name = "X-API-Key", key_in = "header")]
pub struct ApiKeyAuth(pub ApiKey);

/// The configured keys.
#[derive(Debug, Clone)]
pub struct ApiKeys(Vec<Secret>);

/// Which configured key matched: its position, a safe rate-limit bucket name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyIndex(pub usize);

impl ApiKeys {
    pub fn new(keys: Vec<Secret>) -> Self {
        Self(keys)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The matching key's position. Every configured key is compared (constant time per key,
    /// no early exit), so timing tells nothing about which key, or how much of one, matched.
    pub fn verify(&self, presented: &ApiKeyAuth) -> Result<KeyIndex, ApiError> {
        if self.0.is_empty() {
            return Err(ApiError::new(
                ErrorCode::Unauthorized,
                "indexing is disabled: no API key is configured on this server (auth.api_keys)",
            ));
        }
        let presented = presented.0.key.as_bytes();
        let mut found = None;
        for (i, key) in self.0.iter().enumerate() {
            if bool::from(key.expose().as_bytes().ct_eq(presented)) {
                found = found.or(Some(KeyIndex(i)));
            }
        }
        found.ok_or_else(|| ApiError::new(ErrorCode::Unauthorized, "invalid X-API-Key"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn presented(key: &str) -> ApiKeyAuth {
        ApiKeyAuth(ApiKey { key: key.into() })
    }

    #[test]
    fn only_configured_keys_pass() {
        let keys = ApiKeys::new(vec![Secret::new("alpha"), Secret::new("beta")]);
        assert_eq!(keys.verify(&presented("beta")).unwrap(), KeyIndex(1));
        for bad in ["", "alph", "alphaa", "BETA"] {
            assert_eq!(
                keys.verify(&presented(bad)).unwrap_err().code,
                ErrorCode::Unauthorized
            );
        }
    }

    #[test]
    fn no_configured_key_refuses_everything() {
        let err = ApiKeys::new(vec![])
            .verify(&presented("anything"))
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::Unauthorized);
        assert!(err.message.contains("no API key is configured"));
    }
}
