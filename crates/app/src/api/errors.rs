//! The one place where failures become HTTP: every error has a status and a stable,
//! machine-readable `code`, and travels as `{"error": {"code", "message", "details"}}`.
//! 500s log their cause and tell the client nothing about internals.

use facepass_domain::BoundingBox;
use facepass_domain::ports::{EmbedError, PhotoSourceError, StoreError};
use facepass_domain::use_cases::{IndexPhotoError, SearchSelfieError};
use poem::http::StatusCode;
use poem_openapi::types::ToJSON;
use poem_openapi::{Enum, Object};
use serde_json::{Value, json};

use super::dto::BBox;
use super::search::QueryFaceBody;

/// Every `code` the API answers with; never renamed or reused. 400 `invalid_request`;
/// 401 `unauthorized`; 404 `not_found`; 405 `method_not_allowed`; 413 `payload_too_large`;
/// 415 `unsupported_media_type`; 422 `invalid_image`, `image_too_large`, `photo_not_found`,
/// `photo_too_large`, `no_face_detected`, `multiple_faces`, `poor_selfie`; 429 `rate_limited`, `overloaded`
/// (with `Retry-After`); 500 `internal_error`; 502 `storage_unavailable`,
/// `storage_access_denied`; 503 `database_unavailable`, `models_unavailable`, `not_ready`,
/// `shutting_down`; 504 `storage_timeout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Enum)]
#[oai(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: the request is malformed (bad JSON, missing or invalid field).
    InvalidRequest,
    /// 401: `X-API-Key` is missing or not one of the configured keys.
    Unauthorized,
    /// 404: no such route.
    NotFound,
    /// 405: the route exists, the method does not.
    MethodNotAllowed,
    /// 413: the request body (or the selfie in it) is over the limit.
    PayloadTooLarge,
    /// 415: the body's content type is not the one the route takes.
    UnsupportedMediaType,
    /// 422: the bytes are not a decodable JPEG, PNG or WebP image.
    InvalidImage,
    /// 422: the image declares more pixels than allowed.
    ImageTooLarge,
    /// 422: there is no photo at `s3_key`.
    PhotoNotFound,
    /// 422: the photo at `s3_key` is larger than the configured byte limit.
    PhotoTooLarge,
    /// 422: no face was found in the selfie.
    NoFaceDetected,
    /// 422: the selfie shows several faces of similar size; `details.faces` has their boxes.
    MultipleFaces,
    /// 422: nothing matched and the selfie is a poor query; `details.reason` says why.
    PoorSelfie,
    /// 429: the client exceeded its rate limit; see `Retry-After`.
    RateLimited,
    /// 429: the face pipeline is at capacity; see `Retry-After`.
    Overloaded,
    /// 500: an unexpected failure (logged with request id).
    InternalError,
    /// 502: the photo store failed or could not be reached.
    StorageUnavailable,
    /// 502: the photo store refused access (credentials, permissions, or a key outside the
    /// photo root).
    StorageAccessDenied,
    /// 503: the vector database cannot be reached.
    DatabaseUnavailable,
    /// 503: the face models are not loaded.
    ModelsUnavailable,
    /// 503: a readiness check failed (health).
    NotReady,
    /// 503: the service is shutting down; the photo was not started, retry elsewhere.
    ShuttingDown,
    /// 504: fetching the photo took longer than the configured deadline.
    StorageTimeout,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 23] = [
        Self::InvalidRequest,
        Self::Unauthorized,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::PayloadTooLarge,
        Self::UnsupportedMediaType,
        Self::InvalidImage,
        Self::ImageTooLarge,
        Self::PhotoNotFound,
        Self::PhotoTooLarge,
        Self::NoFaceDetected,
        Self::MultipleFaces,
        Self::PoorSelfie,
        Self::RateLimited,
        Self::Overloaded,
        Self::InternalError,
        Self::StorageUnavailable,
        Self::StorageAccessDenied,
        Self::DatabaseUnavailable,
        Self::ModelsUnavailable,
        Self::NotReady,
        Self::ShuttingDown,
        Self::StorageTimeout,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::Unauthorized => "unauthorized",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::InvalidImage => "invalid_image",
            Self::ImageTooLarge => "image_too_large",
            Self::PhotoNotFound => "photo_not_found",
            Self::PhotoTooLarge => "photo_too_large",
            Self::NoFaceDetected => "no_face_detected",
            Self::MultipleFaces => "multiple_faces",
            Self::PoorSelfie => "poor_selfie",
            Self::RateLimited => "rate_limited",
            Self::Overloaded => "overloaded",
            Self::InternalError => "internal_error",
            Self::StorageUnavailable => "storage_unavailable",
            Self::StorageAccessDenied => "storage_access_denied",
            Self::DatabaseUnavailable => "database_unavailable",
            Self::ModelsUnavailable => "models_unavailable",
            Self::NotReady => "not_ready",
            Self::ShuttingDown => "shutting_down",
            Self::StorageTimeout => "storage_timeout",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            Self::InvalidRequest => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::InvalidImage
            | Self::ImageTooLarge
            | Self::PhotoNotFound
            | Self::PhotoTooLarge
            | Self::NoFaceDetected
            | Self::MultipleFaces
            | Self::PoorSelfie => StatusCode::UNPROCESSABLE_ENTITY,
            Self::RateLimited | Self::Overloaded => StatusCode::TOO_MANY_REQUESTS,
            Self::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
            Self::StorageUnavailable | Self::StorageAccessDenied => StatusCode::BAD_GATEWAY,
            Self::DatabaseUnavailable
            | Self::ModelsUnavailable
            | Self::NotReady
            | Self::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
            Self::StorageTimeout => StatusCode::GATEWAY_TIMEOUT,
        }
    }
}

/// The body of every non-2xx response: `error.code` is stable and machine-readable,
/// `error.message` human-readable (wording may change), `error.details` structured context.
#[derive(Debug, Clone, Object)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Object)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    /// Human-readable explanation; wording may change.
    pub message: String,
    /// Structured context, e.g. the offending `field`, or `faces` for `multiple_faces`.
    pub details: Value,
}

/// A failure on its way to the client.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub details: Value,
    /// Seconds, for 429s.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: json!({}),
            retry_after: None,
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    /// A 400 naming the offending field.
    pub fn invalid_field(field: &str, reason: impl std::fmt::Display) -> Self {
        Self::new(ErrorCode::InvalidRequest, format!("{field}: {reason}"))
            .with_details(json!({ "field": field }))
    }

    pub fn rate_limited(retry_after: u64) -> Self {
        Self {
            retry_after: Some(retry_after.max(1)),
            ..Self::new(ErrorCode::RateLimited, "rate limit exceeded; retry later")
        }
    }

    /// An unexpected failure: the cause is logged here, the client gets a generic message.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(ErrorCode::InternalError, "internal error")
    }

    pub fn status(&self) -> StatusCode {
        self.code.status()
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message.clone(),
                details: self.details.clone(),
            },
        }
    }

    /// The same error as a plain poem response (for middleware and the router's errors).
    pub fn into_response(self) -> poem::Response {
        let mut response = poem::Response::builder()
            .status(self.status())
            .content_type("application/json; charset=utf-8")
            .body(
                serde_json::to_vec(&json!({"error": {
                    "code": self.code.as_str(),
                    "message": self.message,
                    "details": self.details,
                }}))
                .unwrap_or_default(),
            );
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(
                poem::http::header::RETRY_AFTER,
                poem::http::HeaderValue::from(seconds),
            );
        }
        response
    }
}

/// poem's and poem-openapi's own errors (routing, parsing, auth, body limits) in our shape.
impl From<&poem::Error> for ApiError {
    fn from(error: &poem::Error) -> Self {
        let code = match error.status() {
            StatusCode::UNAUTHORIZED => ErrorCode::Unauthorized,
            StatusCode::NOT_FOUND => ErrorCode::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
            StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
            StatusCode::TOO_MANY_REQUESTS => ErrorCode::RateLimited,
            s if s.is_client_error() => ErrorCode::InvalidRequest,
            _ => return Self::internal(error),
        };
        let message = match code {
            ErrorCode::Unauthorized => "missing or invalid X-API-Key header".to_owned(),
            ErrorCode::NotFound => "no such route".to_owned(),
            _ => error.to_string(),
        };
        Self::new(code, message)
    }
}

/// poem-openapi's `bad_request_handler` for every endpoint's response enum.
pub fn from_poem_error<T: From<ApiError>>(error: poem::Error) -> T {
    ApiError::from(&error).into()
}

impl From<PhotoSourceError> for ApiError {
    fn from(error: PhotoSourceError) -> Self {
        let code = match &error {
            PhotoSourceError::NotFound => ErrorCode::PhotoNotFound,
            PhotoSourceError::TooLarge { .. } => ErrorCode::PhotoTooLarge,
            PhotoSourceError::AccessDenied(_) => ErrorCode::StorageAccessDenied,
            PhotoSourceError::Timeout(_) => ErrorCode::StorageTimeout,
            PhotoSourceError::Unavailable(_) | PhotoSourceError::Unexpected(_) => {
                tracing::warn!(error = %error, "photo store failure");
                ErrorCode::StorageUnavailable
            }
        };
        Self::new(code, error.to_string())
    }
}

impl From<EmbedError> for ApiError {
    fn from(error: EmbedError) -> Self {
        match &error {
            EmbedError::InvalidImage(_) => Self::new(ErrorCode::InvalidImage, error.to_string()),
            EmbedError::TruncatedImage(_) => Self::new(ErrorCode::InvalidImage, error.to_string())
                .with_details(json!({ "reason": "truncated" })),
            EmbedError::ImageTooLarge {
                width,
                height,
                max_pixels,
                ..
            } => Self::new(ErrorCode::ImageTooLarge, error.to_string())
                .with_details(json!({"width": width, "height": height, "max_pixels": max_pixels})),
            EmbedError::Overloaded => Self {
                retry_after: Some(1),
                ..Self::new(ErrorCode::Overloaded, error.to_string())
            },
            EmbedError::Unavailable(_) => {
                tracing::error!(error = %error, "face pipeline unavailable");
                Self::new(
                    ErrorCode::ModelsUnavailable,
                    "the face models are not available",
                )
            }
            EmbedError::Unexpected(_) => Self::internal(&error),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match &error {
            StoreError::Unavailable(_) => {
                tracing::error!(error = %error, "vector store unavailable");
                Self::new(
                    ErrorCode::DatabaseUnavailable,
                    "the vector database is unavailable",
                )
            }
            StoreError::ModelMismatch { .. } | StoreError::Unexpected(_) => Self::internal(&error),
        }
    }
}

impl From<IndexPhotoError> for ApiError {
    fn from(error: IndexPhotoError) -> Self {
        match error {
            IndexPhotoError::Fetch(e) => e.into(),
            IndexPhotoError::Embed(e) => e.into(),
            IndexPhotoError::Store(e) => e.into(),
            IndexPhotoError::Interrupted => Self::new(
                ErrorCode::ShuttingDown,
                IndexPhotoError::Interrupted.to_string(),
            ),
        }
    }
}

impl From<SearchSelfieError> for ApiError {
    fn from(error: SearchSelfieError) -> Self {
        let message = error.to_string();
        match error {
            SearchSelfieError::SelfieCount(_) => Self::invalid_field("file", message),
            SearchSelfieError::FaceIndexWithSeveralSelfies(_) => {
                Self::invalid_field("face_index", message)
            }
            SearchSelfieError::FaceIndexOutOfRange { faces, .. } => {
                Self::invalid_field("face_index", message)
                    .with_details(json!({"field": "face_index", "faces": boxes(&faces)}))
            }
            SearchSelfieError::NoFaceDetected { selfie } => {
                Self::new(ErrorCode::NoFaceDetected, message)
                    .with_details(json!({ "selfie": selfie }))
            }
            SearchSelfieError::MultipleFaces { selfie, faces } => {
                Self::new(ErrorCode::MultipleFaces, message)
                    .with_details(json!({ "selfie": selfie, "faces": boxes(&faces) }))
            }
            SearchSelfieError::PoorSelfie {
                reasons,
                query_faces,
            } => {
                let codes: Vec<&str> = reasons.iter().map(|r| r.code()).collect();
                let faces: Vec<QueryFaceBody> = query_faces.iter().map(Into::into).collect();
                Self::new(ErrorCode::PoorSelfie, message).with_details(json!({
                    "reason": codes.first(),
                    "reasons": codes,
                    "query_faces": faces.to_json(),
                }))
            }
            SearchSelfieError::Embed(e) => e.into(),
            SearchSelfieError::Store(e) => e.into(),
        }
    }
}

/// Boxes as the JSON of `BoundingBox`.
fn boxes(faces: &[BoundingBox]) -> Vec<Value> {
    faces
        .iter()
        .map(|&b| {
            let b = BBox::from(b);
            json!({"x": b.x, "y": b.y, "width": b.width, "height": b.height})
        })
        .collect()
}

/// One response enum per endpoint: `200` with the endpoint's body plus the error statuses it
/// can answer, so the spec lists every status. `From<ApiError>` picks the variant by status;
/// parse failures (bad JSON, missing API key, wrong content type) arrive through poem-openapi's
/// `bad_request_handler` in the same shape.
macro_rules! endpoint_response {
    (
        $(#[$meta:meta])*
        $name:ident => $ok:ty {
            $($status:tt $variant:ident: $doc:literal),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, poem_openapi::ApiResponse)]
        #[oai(bad_request_handler = "crate::api::errors::from_poem_error")]
        pub enum $name {
            /// Success.
            #[oai(status = 200)]
            Ok(poem_openapi::payload::Json<$ok>),
            $(
                #[doc = $doc]
                #[oai(status = $status)]
                $variant(poem_openapi::payload::Json<crate::api::errors::ErrorBody>),
            )*
            /// `rate_limited` or `overloaded`: retry after `Retry-After` seconds.
            #[oai(status = 429)]
            TooManyRequests(
                poem_openapi::payload::Json<crate::api::errors::ErrorBody>,
                #[oai(header = "Retry-After")] u64,
            ),
            /// `internal_error`: an unexpected failure, logged with the request id.
            #[oai(status = 500)]
            Internal(poem_openapi::payload::Json<crate::api::errors::ErrorBody>),
        }

        impl From<crate::api::errors::ApiError> for $name {
            fn from(error: crate::api::errors::ApiError) -> Self {
                use poem_openapi::payload::Json;
                match error.status().as_u16() {
                    $($status => Self::$variant(Json(error.body())),)*
                    429 => Self::TooManyRequests(Json(error.body()), error.retry_after.unwrap_or(1)),
                    500 => Self::Internal(Json(error.body())),
                    other => Self::Internal(Json(crate::api::errors::ApiError::internal(
                        format!("{} answered undeclared status {other}: {:?}", stringify!($name), error),
                    ).body())),
                }
            }
        }

        impl From<Result<$ok, crate::api::errors::ApiError>> for $name {
            fn from(result: Result<$ok, crate::api::errors::ApiError>) -> Self {
                match result {
                    Ok(body) => Self::Ok(poem_openapi::payload::Json(body)),
                    Err(error) => error.into(),
                }
            }
        }
    };
}

pub(crate) use endpoint_response;

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn codes_are_unique_snake_case_and_every_one_has_a_status() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "duplicate {s}");
            assert!(s.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{s}");
            assert!(code.status().is_client_error() || code.status().is_server_error());
        }
    }

    /// The domain's failures that never reach a client as a 5xx in the test suite's HTTP
    /// requests are mapped here, one by one.
    #[test]
    fn every_port_failure_maps_to_its_code_and_status() {
        let cases: Vec<(ApiError, ErrorCode, u16)> = vec![
            (
                PhotoSourceError::NotFound.into(),
                ErrorCode::PhotoNotFound,
                422,
            ),
            (
                PhotoSourceError::TooLarge { limit_bytes: 1 }.into(),
                ErrorCode::PhotoTooLarge,
                422,
            ),
            (
                PhotoSourceError::AccessDenied("403".into()).into(),
                ErrorCode::StorageAccessDenied,
                502,
            ),
            (
                PhotoSourceError::Timeout(Duration::from_secs(30)).into(),
                ErrorCode::StorageTimeout,
                504,
            ),
            (
                PhotoSourceError::Unavailable("refused".into()).into(),
                ErrorCode::StorageUnavailable,
                502,
            ),
            (
                EmbedError::InvalidImage("x".into()).into(),
                ErrorCode::InvalidImage,
                422,
            ),
            (EmbedError::Overloaded.into(), ErrorCode::Overloaded, 429),
            (
                EmbedError::Unavailable("gone".into()).into(),
                ErrorCode::ModelsUnavailable,
                503,
            ),
            (
                EmbedError::Unexpected("panic".into()).into(),
                ErrorCode::InternalError,
                500,
            ),
            (
                StoreError::Unavailable("down".into()).into(),
                ErrorCode::DatabaseUnavailable,
                503,
            ),
            (
                StoreError::Unexpected("bad sql".into()).into(),
                ErrorCode::InternalError,
                500,
            ),
            (
                IndexPhotoError::Interrupted.into(),
                ErrorCode::ShuttingDown,
                503,
            ),
            (
                SearchSelfieError::NoFaceDetected { selfie: 0 }.into(),
                ErrorCode::NoFaceDetected,
                422,
            ),
        ];
        for (error, code, status) in cases {
            assert_eq!((error.code, error.status().as_u16()), (code, status));
        }
    }

    #[test]
    fn internal_errors_leak_nothing() {
        let error: ApiError =
            StoreError::Unexpected("relation \"faces\" does not exist".into()).into();
        assert_eq!(error.message, "internal error");
        assert_eq!(error.details, json!({}));
    }

    #[test]
    fn a_429_carries_retry_after() {
        let response = ApiError::rate_limited(0).into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()["retry-after"], "1");
    }
}
