//! Request fields parsed into the domain's ids: a bad one is a 400 `invalid_field` naming it.

use facepass_domain::{PhotoId, PhotoKey, SessionId};

use super::errors::ApiError;

pub fn parse_session(field: &str, raw: &str) -> Result<SessionId, ApiError> {
    SessionId::parse(raw).map_err(|e| ApiError::invalid_field(field, e))
}

pub fn parse_photo(field: &str, raw: &str) -> Result<PhotoId, ApiError> {
    PhotoId::parse(raw).map_err(|e| ApiError::invalid_field(field, e))
}

pub fn parse_key(field: &str, raw: &str) -> Result<PhotoKey, ApiError> {
    PhotoKey::parse(raw).map_err(|e| ApiError::invalid_field(field, e))
}
