//! Request fields parsed into the domain's ids, page sizes and cursors: a bad one is a 400
//! `invalid_field` naming it.

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

/// The largest page of a listing route.
pub const MAX_PAGE: i64 = 1000;

/// A `limit` query field: 1 to [`MAX_PAGE`], `default` when left out.
pub fn page_limit(limit: Option<i64>, default: i64) -> Result<usize, ApiError> {
    let limit = limit.unwrap_or(default);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::invalid_field(
            "limit",
            format!("must be 1 to {MAX_PAGE}"),
        ));
    }
    Ok(limit as usize)
}

/// A `cursor` query field that is a row's positive sequence number (an audit event's, a
/// watch match's).
pub fn sequence_cursor(cursor: Option<&str>) -> Result<Option<i64>, ApiError> {
    cursor
        .map(|c| {
            c.parse::<i64>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| ApiError::invalid_field("cursor", "not a cursor of this route"))
        })
        .transpose()
}
