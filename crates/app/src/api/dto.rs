//! Shapes shared by several endpoints, and the parsing of raw request strings into domain
//! types (the only place the API handles ids as plain strings).

use facepass_domain::ports::StoredFace;
use facepass_domain::{BoundingBox, PhotoId, PhotoKey, SessionId};
use std::borrow::Cow;

use chrono::{DateTime, Utc};
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
use poem_openapi::{Object, Tags};
use serde_json::Value;

use super::errors::ApiError;

#[derive(Debug, Tags)]
pub enum ApiTags {
    /// Index a session's photos (needs `X-API-Key`).
    Indexing,
    /// Find a guest's photos by selfie (public, rate-limited per client IP).
    Search,
    /// Health and metrics.
    Operations,
}

/// A face box in pixels of the original, orientation-corrected image.
#[derive(Debug, Clone, Copy, PartialEq, Object)]
#[oai(rename = "BoundingBox")]
pub struct BBox {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

impl From<BoundingBox> for BBox {
    fn from(b: BoundingBox) -> Self {
        Self {
            x: round(b.x, PIXELS),
            y: round(b.y, PIXELS),
            width: round(b.width, PIXELS),
            height: round(b.height, PIXELS),
        }
    }
}

/// Decimals in answers: boxes to a tenth of a pixel, scores to 1e-6 (f32 noise otherwise
/// shows as `0.9348368644714355`).
pub const PIXELS: i32 = 1;
pub const SCORE: i32 = 6;

/// `value` rounded to `decimals` places, as the f64 the JSON carries.
pub fn round(value: f32, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (f64::from(value) * scale).round() / scale
}

/// One stored face.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Face")]
pub struct FaceBody {
    /// Stable id of this face (a UUID); changes when the photo is re-indexed.
    pub face_id: String,
    pub bbox: BBox,
    /// Detector confidence in [0, 1].
    pub det_score: f64,
}

impl From<&StoredFace> for FaceBody {
    fn from(face: &StoredFace) -> Self {
        Self {
            face_id: face.face_id.to_string(),
            bbox: face.bbox.into(),
            det_score: round(face.det_score, SCORE),
        }
    }
}

/// Counts removed by a delete.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Deleted")]
pub struct DeletedBody {
    pub session_id: String,
    /// Set when one photo was deleted.
    #[oai(skip_serializing_if_is_none)]
    pub photo_id: Option<String>,
    pub deleted_photos: u64,
    pub deleted_faces: u64,
}

/// A JSON string field that is a string: poem-openapi's `String` also accepts numbers and
/// booleans (`"session_id": false` would be the session `"false"`); this refuses them with
/// a 400. Same schema as `String`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonString(pub String);

impl std::ops::Deref for JsonString {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl Type for JsonString {
    const IS_REQUIRED: bool = true;

    type RawValueType = String;

    type RawElementValueType = String;

    fn name() -> Cow<'static, str> {
        String::name()
    }

    fn schema_ref() -> MetaSchemaRef {
        String::schema_ref()
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl ParseFromJSON for JsonString {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value.unwrap_or_default() {
            Value::String(s) => Ok(Self(s)),
            other => Err(ParseError::expected_type(other)),
        }
    }
}

impl ToJSON for JsonString {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.clone()))
    }
}

/// A required RFC 3339 timestamp that may be `null` (`"expires_at": null`: no expiry),
/// declared `nullable` in the spec (poem-openapi's `Option` only makes a field optional).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NullableTime(pub Option<DateTime<Utc>>);

impl Type for NullableTime {
    const IS_REQUIRED: bool = true;

    type RawValueType = Self;

    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "string_date-time_nullable".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            nullable: true,
            ..MetaSchema::new_with_format("string", "date-time")
        }))
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl ParseFromJSON for NullableTime {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            Some(Value::Null) => Ok(Self(None)),
            Some(Value::String(s)) => DateTime::parse_from_rfc3339(&s)
                .map(|t| Self(Some(t.with_timezone(&Utc))))
                .map_err(|e| ParseError::custom(format!("not an RFC 3339 timestamp: {e}"))),
            Some(other) => Err(ParseError::expected_type(other)),
            None => Err(ParseError::custom("required: a timestamp or null")),
        }
    }
}

impl ToJSON for NullableTime {
    fn to_json(&self) -> Option<Value> {
        Some(
            self.0
                .map_or(Value::Null, |t| Value::String(t.to_rfc3339())),
        )
    }
}

pub fn parse_session(field: &str, raw: &str) -> Result<SessionId, ApiError> {
    SessionId::parse(raw).map_err(|e| ApiError::invalid_field(field, e))
}

pub fn parse_photo(field: &str, raw: &str) -> Result<PhotoId, ApiError> {
    PhotoId::parse(raw).map_err(|e| ApiError::invalid_field(field, e))
}

pub fn parse_key(field: &str, raw: &str) -> Result<PhotoKey, ApiError> {
    PhotoKey::parse(raw).map_err(|e| ApiError::invalid_field(field, e))
}

/// Milliseconds since `start`, for `processing_time_ms` / `query_time_ms`.
pub fn elapsed_ms(start: std::time::Instant) -> f64 {
    (start.elapsed().as_secs_f64() * 1e6).round() / 1e3
}
