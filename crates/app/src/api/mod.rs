//! The HTTP API v2 (poem-openapi): one file per endpoint, all generic over the ports so tests
//! can swap mocks in. `routes` assembles them with the spec, Swagger UI, the deprecated
//! `/api/v1` alias and the cross-cutting layers (request ids, body limits, metrics, errors).

pub mod audit;
pub mod auth;
pub mod delete_photo;
pub mod delete_session;
pub mod diff;
pub mod dto;
pub mod errors;
pub mod expiry;
pub mod fields;
pub mod forget;
pub mod health;
pub mod index;
pub mod index_batch;
pub mod jobs;
pub mod metrics;
pub mod people;
pub mod rate_limit;
pub mod search;
pub mod session_status;
pub mod state;
pub mod watches;

use std::sync::Arc;
use std::time::Instant;

use facepass_domain::ports::{Embedder, PhotoSource, VectorStore};
use poem::error::ReadBodyError;
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Route};
use poem_openapi::{OpenApiService, OperationId};
use tracing::Instrument;

use self::errors::{ApiError, ErrorCode};
use self::state::AppState;

/// The base path of the current API.
pub const V2: &str = "/api/v2";
/// The deprecated alias the migration guide's example configuration points at.
pub const V1: &str = "/api/v1";

type Apis<E, S, P> = (
    index::IndexApi<E, S, P>,
    index_batch::IndexBatchApi<E, S, P>,
    jobs::JobsApi<E, S, P>,
    delete_session::DeleteSessionApi<E, S, P>,
    delete_photo::DeletePhotoApi<E, S, P>,
    diff::DiffApi<E, S, P>,
    expiry::ExpiryApi<E, S, P>,
    forget::ForgetApi<E, S, P>,
    audit::AuditApi<E, S, P>,
    people::PeopleApi<E, S, P>,
    watches::WatchesApi<E, S, P>,
    search::SearchApi<E, S, P>,
    session_status::SessionStatusApi<E, S, P>,
    health::HealthApi<E, S, P>,
    metrics::MetricsApi<E, S, P>,
);

/// The API with its OpenAPI document, paths under `/api/v2`.
pub fn service<E: Embedder, S: VectorStore, P: PhotoSource>(
    state: &Arc<AppState<E, S, P>>,
) -> OpenApiService<Apis<E, S, P>, ()> {
    let apis = (
        index::IndexApi(state.clone()),
        index_batch::IndexBatchApi(state.clone()),
        jobs::JobsApi(state.clone()),
        delete_session::DeleteSessionApi(state.clone()),
        delete_photo::DeletePhotoApi(state.clone()),
        diff::DiffApi(state.clone()),
        expiry::ExpiryApi(state.clone()),
        forget::ForgetApi(state.clone()),
        audit::AuditApi(state.clone()),
        people::PeopleApi(state.clone()),
        watches::WatchesApi(state.clone()),
        search::SearchApi(state.clone()),
        session_status::SessionStatusApi(state.clone()),
        health::HealthApi(state.clone()),
        metrics::MetricsApi(state.clone()),
    );
    OpenApiService::new(apis, "FacePass", env!("CARGO_PKG_VERSION"))
        .description(
            "Self-hostable face search for event photography. The platform indexes a \
             session's photos by S3 key; a guest's selfie then finds every photo of them in \
             that session. FacePass stores face vectors only, never photos or selfies.\n\n\
             Every error answers `{\"error\": {\"code\", \"message\", \"details\"}}` with a \
             stable `code`, and every response carries `X-Request-Id`. Every route is also \
             served under the deprecated prefix `/api/v1`.",
        )
        .url_prefix(V2)
}

/// The OpenAPI document as served at `/api/v2/openapi.json` and committed in `openapi/`.
pub fn spec_json<E: Embedder, S: VectorStore, P: PhotoSource>(
    state: &Arc<AppState<E, S, P>>,
) -> String {
    service(state).spec()
}

/// Every route of the service with its middleware.
pub fn routes<E: Embedder, S: VectorStore, P: PhotoSource>(
    state: Arc<AppState<E, S, P>>,
) -> impl Endpoint<Output = Response> {
    let v2 = service(&state);
    let spec = v2.spec_endpoint();
    let docs = v2.swagger_ui();
    let limits = BodyLimits {
        json: state.max_json_bytes,
        diff: state.max_json_bytes.max(MAX_DIFF_BYTES),
        multipart: state.max_selfie_bytes + MULTIPART_OVERHEAD,
    };
    let metrics = state.metrics.clone();
    let allow = Arc::new(SpecRoutes::from_spec(&v2.spec()));
    // Closed unless origins are configured: without CORS headers, browsers keep other
    // sites' scripts from reading any answer.
    let cors = poem::middleware::Cors::new()
        .allow_origins(state.cors_origins.iter().map(String::as_str))
        .allow_methods(["GET", "POST", "PUT", "DELETE"])
        .allow_headers(["x-api-key", "content-type", "x-request-id"])
        .expose_headers(["x-request-id", "retry-after"]);
    let with_cors = !state.cors_origins.is_empty();
    Route::new()
        .at(format!("{V2}/openapi.json"), spec)
        .nest(V2, v2)
        .nest(V1, service(&state))
        .nest("/docs", docs)
        .around(move |ep, req| limit_body(ep, req, limits))
        .catch_all_error(|error| async move { ApiError::from(&error).into_response() })
        .around(move |ep, req| with_allow(ep, req, allow.clone()))
        .with_if(with_cors, cors)
        .around(move |ep, req| observe(ep, req, metrics.clone()))
}

/// The body limit of `POST /index/{session_id}/diff`: 100,000 ids of up to 128 characters.
const MAX_DIFF_BYTES: u64 = 16 * 1024 * 1024;

/// Room for the form fields and multipart framing around a selfie.
const MULTIPART_OVERHEAD: u64 = 64 * 1024;

#[derive(Debug, Clone, Copy)]
struct BodyLimits {
    json: u64,
    diff: u64,
    multipart: u64,
}

/// Reads the body up to its limit (declared length first, then while reading, so a chunked
/// body without a length cannot slip past), or answers 413.
async fn limit_body<E: Endpoint>(
    ep: Arc<E>,
    mut req: Request,
    limits: BodyLimits,
) -> poem::Result<Response> {
    // No route reads the body of these: leave it unread rather than answer a status they do
    // not declare.
    if matches!(
        *req.method(),
        poem::http::Method::GET | poem::http::Method::HEAD | poem::http::Method::DELETE
    ) {
        return ep.call(req).await.map(IntoResponse::into_response);
    }
    let multipart = req
        .content_type()
        .is_some_and(|t| t.starts_with("multipart/"));
    let limit = if multipart {
        // Up to three selfies (search, forget).
        limits.multipart
    } else if req.uri().path().ends_with("/diff") {
        limits.diff
    } else {
        limits.json
    };
    let too_large = || {
        ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("the request body is larger than {limit} bytes"),
        )
        .into_response()
    };
    let declared = req
        .header("content-length")
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Ok(too_large());
    }
    match req.take_body().into_bytes_limit(limit as usize).await {
        Ok(bytes) => req.set_body(bytes),
        Err(ReadBodyError::PayloadTooLarge) => return Ok(too_large()),
        Err(e) => {
            return Ok(ApiError::new(
                ErrorCode::InvalidRequest,
                format!("cannot read the request body: {e}"),
            )
            .into_response());
        }
    }
    ep.call(req).await.map(IntoResponse::into_response)
}

/// The spec's operations by path template, under `/api/v2` and `/api/v1`: each route's
/// methods and the statuses each method declares. A 405 names the methods in `Allow`
/// (RFC 9110); tests check every answer's status against the declared ones.
#[derive(Debug, Default)]
pub struct SpecRoutes(Vec<SpecRoute>);

#[derive(Debug)]
struct SpecRoute {
    segments: Vec<String>,
    /// Upper-case method and its declared statuses.
    methods: Vec<(String, Vec<u16>)>,
}

impl SpecRoutes {
    pub fn from_spec(spec: &str) -> Self {
        let Ok(spec) = serde_json::from_str::<serde_json::Value>(spec) else {
            return Self::default();
        };
        let Some(paths) = spec["paths"].as_object() else {
            return Self::default();
        };
        let mut routes = Vec::new();
        for (path, operations) in paths {
            let methods: Vec<(String, Vec<u16>)> = operations
                .as_object()
                .into_iter()
                .flatten()
                .map(|(method, operation)| {
                    let statuses = operation["responses"]
                        .as_object()
                        .into_iter()
                        .flat_map(|r| r.keys())
                        .filter_map(|status| status.parse().ok())
                        .collect();
                    (method.to_uppercase(), statuses)
                })
                .collect();
            for prefix in [V2, V1] {
                let segments = path
                    .strip_prefix(V2)
                    .map(|rest| format!("{prefix}{rest}"))
                    .unwrap_or_else(|| path.clone())
                    .split('/')
                    .map(str::to_owned)
                    .collect();
                routes.push(SpecRoute {
                    segments,
                    methods: methods.clone(),
                });
            }
        }
        Self(routes)
    }

    /// The route `path` matches (`{...}` matches one non-empty segment).
    fn route(&self, path: &str) -> Option<&SpecRoute> {
        let parts: Vec<&str> = path.split('/').collect();
        self.0.iter().find(|route| {
            route.segments.len() == parts.len()
                && route
                    .segments
                    .iter()
                    .zip(&parts)
                    .all(|(t, p)| t == p || (t.starts_with('{') && !p.is_empty()))
        })
    }

    /// The `Allow` value of the route `path` matches (HEAD wherever GET is).
    pub fn allowed(&self, path: &str) -> Option<String> {
        let route = self.route(path)?;
        let mut methods: Vec<&str> = route.methods.iter().map(|(m, _)| m.as_str()).collect();
        if methods.contains(&"GET") {
            methods.push("HEAD");
        }
        Some(methods.join(", "))
    }

    /// The statuses the spec declares for `method` on `path`; `None` when the spec has no
    /// such operation (unknown routes, 405s, the spec and docs themselves). HEAD is GET's.
    pub fn declared(&self, method: &str, path: &str) -> Option<&[u16]> {
        let method = if method == "HEAD" { "GET" } else { method };
        self.route(path)?
            .methods
            .iter()
            .find(|(m, _)| m == method)
            .map(|(_, statuses)| statuses.as_slice())
    }
}

/// Adds `Allow` to a 405.
async fn with_allow<E: Endpoint>(
    ep: Arc<E>,
    req: Request,
    allow: Arc<SpecRoutes>,
) -> poem::Result<Response> {
    let path = req.uri().path().to_owned();
    let mut response = ep.call(req).await?.into_response();
    if response.status() == poem::http::StatusCode::METHOD_NOT_ALLOWED
        && let Some(value) = allow
            .allowed(&path)
            .and_then(|m| poem::http::HeaderValue::from_str(&m).ok())
    {
        response
            .headers_mut()
            .insert(poem::http::header::ALLOW, value);
    }
    Ok(response)
}

/// A request id (echoed, or a new UUIDv7) on the response and the request's tracing span;
/// request count and latency by route; one log line per request.
async fn observe<E: Endpoint>(
    ep: Arc<E>,
    req: Request,
    metrics: Arc<crate::metrics::Metrics>,
) -> poem::Result<Response> {
    let request_id = req
        .header("x-request-id")
        .filter(|id| !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let method = req.method().to_string();
    let span = tracing::info_span!("request", id = %request_id, %method, path = %req.uri().path());
    let start = Instant::now();
    let mut response = match ep.call(req).instrument(span.clone()).await {
        Ok(response) => response.into_response(),
        Err(error) => ApiError::from(&error).into_response(),
    };
    let route = response
        .data::<OperationId>()
        .map(|id| id.0)
        .unwrap_or("unmatched");
    let status = response.status();
    let seconds = start.elapsed().as_secs_f64();
    metrics
        .http_requests
        .with_label_values(&[route, &method, status.as_str()])
        .inc();
    metrics
        .http_duration
        .with_label_values(&[route])
        .observe(seconds);
    span.in_scope(|| {
        if matches!(route, "health" | "metrics") && status.is_success() {
            tracing::debug!(%status, ms = seconds * 1e3, route, "request done");
        } else {
            tracing::info!(%status, ms = seconds * 1e3, route, "request done");
        }
    });
    if let Ok(value) = poem::http::HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", value);
    }
    Ok(response)
}
