//! The one place where failures become HTTP: every error has a status and a stable,
//! machine-readable `code`, and travels as `{"error": {"code", "message", "details"}}`.
//! 500s log their cause and tell the client nothing about internals.

use std::num::NonZeroU32;

use facepass_domain::BoundingBox;
use facepass_domain::ports::{EmbedError, PhotoSourceError, StoreError};
use facepass_domain::use_cases::{IndexPhotoError, SearchSelfieError, WatchError};
use poem::http::StatusCode;
use poem_openapi::types::ToJSON;
use poem_openapi::{Enum, Object};
use serde_json::{Value, json};

use super::dto::{BBox, QueryFaceBody};

/// Declares [`ErrorCode`] from one table: each row is a code's status, variant, wire string
/// and meaning, and `ALL`, `as_str` and `status` are generated from it, so a code cannot be
/// added without its status or left out of the list.
macro_rules! error_codes {
    ($($(#[doc = $doc:literal])+ $status:ident $variant:ident = $code:literal,)+) => {
        /// Every `code` the API answers with; never renamed or reused. 400 `invalid_request`;
        /// 401 `unauthorized`; 404 `not_found`; 405 `method_not_allowed`; 409
        /// `idempotency_conflict`; 413 `payload_too_large`;
        /// 415 `unsupported_media_type`; 422 `invalid_image`, `image_too_large`, `photo_not_found`,
        /// `photo_too_large`, `no_face_detected`, `multiple_faces`, `poor_selfie`; 429 `rate_limited`, `overloaded`
        /// (with `Retry-After`); 500 `internal_error`; 502 `storage_unavailable`,
        /// `storage_access_denied`; 503 `database_unavailable`, `models_unavailable`, `not_ready`,
        /// `shutting_down`; 504 `storage_timeout`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Enum)]
        #[oai(rename_all = "snake_case")]
        pub enum ErrorCode {
            $($(#[doc = $doc])+ $variant,)+
        }

        impl ErrorCode {
            pub const ALL: &[ErrorCode] = &[$(Self::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $code,)+
                }
            }

            pub fn status(self) -> StatusCode {
                match self {
                    $(Self::$variant => StatusCode::$status,)+
                }
            }

            /// The code of its wire string.
            pub fn parse(code: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|c| c.as_str() == code)
            }
        }
    };
}

error_codes! {
    /// 400: the request is malformed (bad JSON, missing or invalid field).
    BAD_REQUEST InvalidRequest = "invalid_request",
    /// 401: `X-API-Key` is missing or not one of the configured keys.
    UNAUTHORIZED Unauthorized = "unauthorized",
    /// 404: no such route, or no such resource where a route says so (a person).
    NOT_FOUND NotFound = "not_found",
    /// 405: the route exists, the method does not.
    METHOD_NOT_ALLOWED MethodNotAllowed = "method_not_allowed",
    /// 409: the `Idempotency-Key` was used for another request; `details.job_id` names the
    /// job it created.
    CONFLICT IdempotencyConflict = "idempotency_conflict",
    /// 413: the request body (or the selfie in it) is over the limit.
    PAYLOAD_TOO_LARGE PayloadTooLarge = "payload_too_large",
    /// 415: the body's content type is not the one the route takes.
    UNSUPPORTED_MEDIA_TYPE UnsupportedMediaType = "unsupported_media_type",
    /// 422: the bytes are not a decodable JPEG, PNG or WebP image.
    UNPROCESSABLE_ENTITY InvalidImage = "invalid_image",
    /// 422: the image declares more pixels than allowed.
    UNPROCESSABLE_ENTITY ImageTooLarge = "image_too_large",
    /// 422: there is no photo at `s3_key`.
    UNPROCESSABLE_ENTITY PhotoNotFound = "photo_not_found",
    /// 422: the photo at `s3_key` is larger than the configured byte limit.
    UNPROCESSABLE_ENTITY PhotoTooLarge = "photo_too_large",
    /// 422: no face was found in the selfie.
    UNPROCESSABLE_ENTITY NoFaceDetected = "no_face_detected",
    /// 422: the selfie shows several faces of similar size; `details.faces` has their boxes.
    UNPROCESSABLE_ENTITY MultipleFaces = "multiple_faces",
    /// 422: nothing matched and the selfie is a poor query; `details.reason` says why.
    UNPROCESSABLE_ENTITY PoorSelfie = "poor_selfie",
    /// 422: a guest watch needs the guest's consent (`consent` must be `true`).
    UNPROCESSABLE_ENTITY ConsentRequired = "consent_required",
    /// 429: the client exceeded its rate limit; see `Retry-After`.
    TOO_MANY_REQUESTS RateLimited = "rate_limited",
    /// 429: the face pipeline is at capacity; see `Retry-After`.
    TOO_MANY_REQUESTS Overloaded = "overloaded",
    /// 500: an unexpected failure (logged with request id).
    INTERNAL_SERVER_ERROR InternalError = "internal_error",
    /// 502: the photo store failed or could not be reached.
    BAD_GATEWAY StorageUnavailable = "storage_unavailable",
    /// 502: the photo store refused access (credentials, permissions, or a key outside the
    /// photo root).
    BAD_GATEWAY StorageAccessDenied = "storage_access_denied",
    /// 503: the vector database cannot be reached.
    SERVICE_UNAVAILABLE DatabaseUnavailable = "database_unavailable",
    /// 503: the face models are not loaded.
    SERVICE_UNAVAILABLE ModelsUnavailable = "models_unavailable",
    /// 503: a readiness check failed (health).
    SERVICE_UNAVAILABLE NotReady = "not_ready",
    /// 503: the service is shutting down; the photo was not started, retry elsewhere.
    SERVICE_UNAVAILABLE ShuttingDown = "shutting_down",
    /// 504: fetching the photo took longer than the configured deadline.
    GATEWAY_TIMEOUT StorageTimeout = "storage_timeout",
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
    pub retry_after: Option<NonZeroU32>,
    /// What went wrong inside, for the log only: never sent. Logged once, where the error
    /// becomes a response ([`ApiError::log`]).
    pub cause: Option<Box<str>>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: json!({}),
            retry_after: None,
            cause: None,
        }
    }

    /// Keeps `cause` for the log (see [`ApiError::cause`]).
    pub fn caused_by(mut self, cause: impl std::fmt::Display) -> Self {
        self.cause = Some(cause.to_string().into());
        self
    }

    /// Logs a server-side failure's cause; called once per error, as it becomes a response.
    pub fn log(&self) {
        if !self.status().is_server_error() {
            return;
        }
        let cause = self.cause.as_deref().unwrap_or(&self.message);
        if self.code == ErrorCode::InternalError {
            tracing::error!(code = self.code.as_str(), cause, "request failed");
        } else {
            tracing::warn!(code = self.code.as_str(), cause, "request failed");
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
            retry_after: Some(
                NonZeroU32::new(u32::try_from(retry_after).unwrap_or(u32::MAX))
                    .unwrap_or(NonZeroU32::MIN),
            ),
            ..Self::new(ErrorCode::RateLimited, "rate limit exceeded; retry later")
        }
    }

    /// An unexpected failure: the cause goes to the log, the client gets a generic message.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::new(ErrorCode::InternalError, "internal error").caused_by(cause)
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
        self.log();
        let mut response = poem::Response::builder()
            .status(self.status())
            .content_type("application/json; charset=utf-8")
            .body(self.body().to_json_string());
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(
                poem::http::header::RETRY_AFTER,
                poem::http::HeaderValue::from(seconds.get()),
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
                retry_after: Some(NonZeroU32::MIN),
                ..Self::new(ErrorCode::Overloaded, error.to_string())
            },
            EmbedError::Unavailable(_) => Self::new(
                ErrorCode::ModelsUnavailable,
                "the face models are not available",
            )
            .caused_by(&error),
            EmbedError::Unexpected(_) => Self::internal(&error),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match &error {
            StoreError::Unavailable(_) => Self::new(
                ErrorCode::DatabaseUnavailable,
                "the vector database is unavailable",
            )
            .caused_by(&error),
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

impl From<WatchError> for ApiError {
    fn from(error: WatchError) -> Self {
        let message = error.to_string();
        match error {
            WatchError::ConsentRequired => Self::new(ErrorCode::ConsentRequired, message),
            WatchError::Expiry(reason) => Self::invalid_field("expires_at", reason),
            WatchError::Selfie(e) => e.into(),
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

/// An endpoint's body, run and turned into its response enum (`R`: the enum
/// `endpoint_response!` declared), so a handler is one function with `?` inside.
pub async fn respond<T, R>(body: impl std::future::Future<Output = Result<T, ApiError>>) -> R
where
    R: From<Result<T, ApiError>>,
{
    body.await.into()
}

/// One response enum per endpoint: `200` with the endpoint's body (`=> created Body`: `201`
/// with it and a `Location` header) plus the error statuses it can answer, so the spec lists
/// every status. `429` (with `Retry-After`) is declared by a
/// trailing `retry_after "..."` where the endpoint is rate-limited or can be overloaded;
/// `500` always. `From<ApiError>` picks the variant by status and logs a server error's
/// cause; parse failures (bad JSON, missing API key, wrong content type) arrive through
/// poem-openapi's `bad_request_handler` in the same shape. A status the endpoint does not
/// declare is a bug: it is logged and answered as a 500 (tests check none occurs).
macro_rules! endpoint_response {
    (
        $(#[$meta:meta])*
        $name:ident => created $ok:ty { $($errors:tt)* }
        $(retry_after $limited:literal)?
    ) => {
        crate::api::errors::endpoint_response!(@build [$(#[$meta])*] $name [
            /// Created; `Location` is where to follow it.
            #[oai(status = 201)]
            Created(
                poem_openapi::payload::Json<$ok>,
                #[oai(header = "Location")] String,
            ),
        ] { $($errors)* } $(retry_after $limited)?);

        impl From<Result<($ok, String), crate::api::errors::ApiError>> for $name {
            fn from(result: Result<($ok, String), crate::api::errors::ApiError>) -> Self {
                match result {
                    Ok((body, location)) => {
                        Self::Created(poem_openapi::payload::Json(body), location)
                    }
                    Err(error) => error.into(),
                }
            }
        }
    };
    (
        $(#[$meta:meta])*
        $name:ident => $ok:ty { $($errors:tt)* }
        $(retry_after $limited:literal)?
    ) => {
        crate::api::errors::endpoint_response!(@build [$(#[$meta])*] $name [
            /// Success.
            #[oai(status = 200)]
            Ok(poem_openapi::payload::Json<$ok>),
        ] { $($errors)* } $(retry_after $limited)?);

        impl From<Result<$ok, crate::api::errors::ApiError>> for $name {
            fn from(result: Result<$ok, crate::api::errors::ApiError>) -> Self {
                match result {
                    Ok(body) => Self::Ok(poem_openapi::payload::Json(body)),
                    Err(error) => error.into(),
                }
            }
        }
    };
    (
        @build [$($meta:tt)*] $name:ident [$($success:tt)*] {
            $($status:tt $variant:ident: $doc:literal),* $(,)?
        }
        $(retry_after $limited:literal)?
    ) => {
        $($meta)*
        #[derive(Debug, poem_openapi::ApiResponse)]
        #[oai(bad_request_handler = "crate::api::errors::from_poem_error")]
        pub enum $name {
            $($success)*
            $(
                #[doc = $doc]
                #[oai(status = $status)]
                $variant(poem_openapi::payload::Json<crate::api::errors::ErrorBody>),
            )*
            $(
                #[doc = $limited]
                #[oai(status = 429)]
                TooManyRequests(
                    poem_openapi::payload::Json<crate::api::errors::ErrorBody>,
                    #[oai(header = "Retry-After")] u64,
                ),
            )?
            /// `internal_error`: an unexpected failure, logged with the request id.
            #[oai(status = 500)]
            Internal(poem_openapi::payload::Json<crate::api::errors::ErrorBody>),
        }

        impl From<crate::api::errors::ApiError> for $name {
            fn from(error: crate::api::errors::ApiError) -> Self {
                use poem_openapi::payload::Json;
                error.log();
                match error.status().as_u16() {
                    $($status => Self::$variant(Json(error.body())),)*
                    $(429 => {
                        let _: &str = $limited;
                        Self::TooManyRequests(Json(error.body()), u64::from(error.retry_after.map_or(1, std::num::NonZeroU32::get)))
                    })?
                    500 => Self::Internal(Json(error.body())),
                    other => {
                        let bug = crate::api::errors::ApiError::internal(format!(
                            "{} answered undeclared status {other}: {:?}",
                            stringify!($name),
                            error
                        ));
                        bug.log();
                        Self::Internal(Json(bug.body()))
                    }
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
            assert_eq!(code.to_json(), Some(json!(s)), "the wire form of {code:?}");
        }
    }

    #[test]
    fn the_error_body_is_the_documented_shape() {
        let error = ApiError::invalid_field("limit", "must be 1-100").caused_by("not sent");
        let response = error.into_response();
        let bytes = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(response.into_body().into_vec())
            .expect("body");
        let body: Value = serde_json::from_slice(&bytes).expect("json");
        assert_eq!(
            body,
            json!({"error": {
                "code": "invalid_request",
                "message": "limit: must be 1-100",
                "details": {"field": "limit"},
            }})
        );
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
