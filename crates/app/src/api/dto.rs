//! Shapes shared by several endpoints and by the error details (the selfie's face), and the
//! field types that put the handlers' limits into the spec. Depends on no other module of
//! the API: the errors use its shapes, not the other way round.

use facepass_domain::ports::StoredFace;
use facepass_domain::use_cases::QueryFace;
use facepass_domain::{BoundingBox, PhotoKey};
use std::borrow::Cow;

use chrono::{DateTime, Utc};
use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};

use poem::web::Field as PoemField;
use poem_openapi::types::{
    ParseError, ParseFromJSON, ParseFromMultipartField, ParseFromParameter, ParseResult, ToJSON,
    Type,
};
use poem_openapi::{Object, Tags};
use serde_json::Value;
use std::marker::PhantomData;

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

impl ParseFromParameter for JsonString {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        Ok(Self(value.to_owned()))
    }
}

/// A constraint the spec states for a field. The handler enforces it (a 400 naming the field
/// in `details.field`, with the domain's own message), so parsing does not: the spec tells
/// clients and generated code what the server refuses, and the server refuses exactly that.
pub trait Constraint: Send + Sync + 'static {
    /// Adds the constraint to the field's schema.
    fn apply(schema: &mut MetaSchema);
}

/// `T` with the spec constraint `C`; parsed as `T` is.
pub struct Constrained<T, C>(pub T, PhantomData<C>);

impl<T: std::fmt::Debug, C> std::fmt::Debug for Constrained<T, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<T, C> Constrained<T, C> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T, C> std::ops::Deref for Constrained<T, C> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Type, C: Constraint> Type for Constrained<T, C> {
    const IS_REQUIRED: bool = T::IS_REQUIRED;

    type RawValueType = T::RawValueType;

    type RawElementValueType = T::RawElementValueType;

    fn name() -> Cow<'static, str> {
        T::name()
    }

    fn schema_ref() -> MetaSchemaRef {
        match T::schema_ref() {
            MetaSchemaRef::Inline(mut schema) => {
                C::apply(&mut schema);
                MetaSchemaRef::Inline(schema)
            }
            reference => reference,
        }
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        self.0.as_raw_value()
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        self.0.raw_element_iter()
    }
}

impl<T: ParseFromJSON, C: Constraint> ParseFromJSON for Constrained<T, C> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        T::parse_from_json(value)
            .map(|v| Self(v, PhantomData))
            .map_err(ParseError::propagate)
    }
}

impl<T: ToJSON, C: Constraint> ToJSON for Constrained<T, C> {
    fn to_json(&self) -> Option<Value> {
        self.0.to_json()
    }
}

impl<T: ParseFromParameter, C: Constraint> ParseFromParameter for Constrained<T, C> {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        T::parse_from_parameter(value)
            .map(|v| Self(v, PhantomData))
            .map_err(ParseError::propagate)
    }
}

impl<T: ParseFromMultipartField, C: Constraint> ParseFromMultipartField for Constrained<T, C> {
    async fn parse_from_multipart(field: Option<PoemField>) -> ParseResult<Self> {
        T::parse_from_multipart(field)
            .await
            .map(|v| Self(v, PhantomData))
            .map_err(ParseError::propagate)
    }
}

/// Session and photo ids: 1–128 characters of `[A-Za-z0-9_.:-]` (`SessionId`, `PhotoId`).
#[derive(Debug)]
pub struct IdChars;

impl Constraint for IdChars {
    fn apply(schema: &mut MetaSchema) {
        schema.pattern = Some(format!(
            "^[A-Za-z0-9_.:-]{{1,{}}}$",
            facepass_domain::ids::ID_MAX_LEN
        ));
        schema.min_length = Some(1);
        schema.max_length = Some(facepass_domain::ids::ID_MAX_LEN);
    }
}

/// Photo keys: 1–1024 bytes (`PhotoKey`; no `..` segment, no leading `/`).
#[derive(Debug)]
pub struct KeyLength;

impl Constraint for KeyLength {
    fn apply(schema: &mut MetaSchema) {
        schema.min_length = Some(1);
        schema.max_length = Some(PhotoKey::MAX_BYTES);
    }
}

/// A closed range of numbers (`limit`, `threshold`).
#[derive(Debug)]
pub struct Range<const MIN: i64, const MAX: i64>;

impl<const MIN: i64, const MAX: i64> Constraint for Range<MIN, MAX> {
    fn apply(schema: &mut MetaSchema) {
        schema.minimum = Some(MIN as f64);
        schema.maximum = Some(MAX as f64);
    }
}

/// A list of `MIN` to `MAX` items.
#[derive(Debug)]
pub struct Items<const MIN: usize, const MAX: usize>;

impl<const MIN: usize, const MAX: usize> Constraint for Items<MIN, MAX> {
    fn apply(schema: &mut MetaSchema) {
        schema.min_items = Some(MIN);
        schema.max_items = Some(MAX);
    }
}

/// A boolean that is false when left out.
#[derive(Debug)]
pub struct DefaultFalse;

impl Constraint for DefaultFalse {
    fn apply(schema: &mut MetaSchema) {
        schema.default = Some(Value::Bool(false));
    }
}

/// `force`: false when left out, never `null`.
pub type ForceField = Constrained<Optional<bool>, DefaultFalse>;

impl ForceField {
    pub fn get(&self) -> bool {
        self.0.0.unwrap_or(false)
    }
}

/// A UUID (a watch's or a person's id), hyphenated.
#[derive(Debug)]
pub struct UuidChars;

impl Constraint for UuidChars {
    fn apply(schema: &mut MetaSchema) {
        schema.pattern = Some(
            "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
                .to_owned(),
        );
    }
}

/// A UUID path field (checked by the id type's `parse`).
pub type UuidField = Constrained<String, UuidChars>;

/// A session or photo id field (checked by `parse_session` / `parse_photo`).
pub type IdField = Constrained<JsonString, IdChars>;
/// A photo key field (checked by `parse_key`).
pub type KeyField = Constrained<JsonString, KeyLength>;
/// A `threshold` on `similarity` (checked by `Threshold::new`).
pub type ThresholdField = Constrained<f64, Range<0, 1>>;
/// A `limit` on matches or events (checked by the handler).
pub type LimitField = Constrained<i64, Range<1, 1000>>;

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

/// An optional field of type `T`: left out, it is `None`; `null` is refused with a 400, as the
/// spec declares a `T` (poem-openapi's `Option` and `#[oai(default)]` take `null` for "left
/// out", which the spec does not allow).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Optional<T>(pub Option<T>);

impl<T> Default for Optional<T> {
    fn default() -> Self {
        Self(None)
    }
}

impl<T: Type> Type for Optional<T> {
    const IS_REQUIRED: bool = false;

    type RawValueType = T::RawValueType;

    type RawElementValueType = T::RawElementValueType;

    fn name() -> Cow<'static, str> {
        T::name()
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        self.0.as_ref().and_then(Type::as_raw_value)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        match &self.0 {
            Some(value) => value.raw_element_iter(),
            None => Box::new(std::iter::empty()),
        }
    }

    fn is_none(&self) -> bool {
        self.0.is_none()
    }
}

impl<T: ParseFromJSON> ParseFromJSON for Optional<T> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            None => Ok(Self(None)),
            Some(Value::Null) => Err(ParseError::custom(
                "null is not allowed here: leave the field out instead",
            )),
            value => T::parse_from_json(value)
                .map(|v| Self(Some(v)))
                .map_err(ParseError::propagate),
        }
    }
}

impl<T: ToJSON> ToJSON for Optional<T> {
    fn to_json(&self) -> Option<Value> {
        self.0.as_ref().and_then(ToJSON::to_json)
    }
}

/// Milliseconds since `start`, for `processing_time_ms` / `query_time_ms`.
pub fn elapsed_ms(start: std::time::Instant) -> f64 {
    (start.elapsed().as_secs_f64() * 1e6).round() / 1e3
}

/// The selfie face that was searched for.
#[derive(Debug, Object)]
#[oai(rename = "QueryFace")]
pub struct QueryFaceBody {
    pub bbox: BBox,
    pub det_score: f64,
    pub quality: QualityBody,
    /// Why this face is a poor query (`too_small`, `too_blurry`, `too_dark`,
    /// `extreme_pose`; thresholds in `search.quality.*`); empty when it is not.
    pub warnings: Vec<String>,
}

/// How recognisable a selfie face is.
#[derive(Debug, Object)]
#[oai(rename = "FaceQuality")]
pub struct QualityBody {
    /// Face height in pixels of the selfie.
    pub face_px: f64,
    /// Variance of the Laplacian of the aligned 112x112 grey face crop smoothed by σ 1 px
    /// (detail, not noise), as if exposed to mid-grey (low: blurred; sharp faces 20 and up).
    pub sharpness: f64,
    /// Mean grey level of the aligned face crop, 0..255.
    pub brightness: f64,
    /// Head yaw estimated from the landmarks, degrees (0 frontal, 90 profile).
    pub pose: f64,
}

impl From<&QueryFace> for QueryFaceBody {
    fn from(face: &QueryFace) -> Self {
        let q = &face.quality;
        Self {
            bbox: face.bbox.into(),
            det_score: round(face.det_score, SCORE),
            quality: QualityBody {
                face_px: round(q.face_px, PIXELS),
                sharpness: round(q.sharpness, PIXELS),
                brightness: round(q.brightness, PIXELS),
                pose: round(q.pose, PIXELS),
            },
            warnings: face.poor.iter().map(|r| r.code().to_owned()).collect(),
        }
    }
}
