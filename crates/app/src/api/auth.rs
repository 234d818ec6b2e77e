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

/// The configured keys, with the id each is known by in the audit.
#[derive(Debug, Clone)]
pub struct ApiKeys(Vec<(Secret, String)>);

/// Which configured key matched: its position, a safe rate-limit bucket name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyIndex(pub usize);

impl ApiKeys {
    pub fn new(keys: Vec<Secret>) -> Self {
        Self(
            keys.into_iter()
                .map(|k| {
                    let id = key_id(&k);
                    (k, id)
                })
                .collect(),
        )
    }

    /// The audit's name of a verified key: `k-` and the first 12 hex digits of its SHA-256,
    /// stable across restarts and replicas, useless for finding the key.
    pub fn id_of(&self, key: KeyIndex) -> &str {
        self.0.get(key.0).map_or("", |(_, id)| id.as_str())
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
        for (i, (key, _)) in self.0.iter().enumerate() {
            if bool::from(key.expose().as_bytes().ct_eq(presented)) {
                found = found.or(Some(KeyIndex(i)));
            }
        }
        found.ok_or_else(|| ApiError::new(ErrorCode::Unauthorized, "invalid X-API-Key"))
    }
}

fn key_id(key: &Secret) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(key.expose().as_bytes());
    let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("k-{hex}")
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
    fn a_key_is_known_by_a_stable_fingerprint_that_does_not_contain_it() {
        let keys = ApiKeys::new(vec![Secret::new("alpha"), Secret::new("beta")]);
        let alpha = keys.id_of(KeyIndex(0));
        // SHA-256("alpha") starts 8ed3f6ad685b.
        assert_eq!(alpha, "k-8ed3f6ad685b");
        assert_ne!(keys.id_of(KeyIndex(1)), alpha);
        assert!(!alpha.contains("alpha"));
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
