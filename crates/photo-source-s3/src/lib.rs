//! `PhotoSource` over one S3 bucket (AWS or any S3-compatible store: endpoint URL, region,
//! static or default-chain credentials, path-style addressing).
//!
//! Every fetch is bounded: one total deadline (retries included), the SDK's standard retries
//! with backoff for transient failures only (throttling, 5xx, dropped connections), and the
//! object size checked from `Content-Length` before downloading and counted while streaming.
//! Failures reach the caller classified as the port's variants.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::get_object::GetObjectError;
use facepass_domain::ports::{PhotoSource, PhotoSourceError};
use facepass_domain::{ImageBytes, PhotoKey};

pub use facepass_domain::Secret;

#[derive(Debug, Clone, PartialEq)]
pub struct S3Config {
    pub bucket: String,
    /// S3-compatible endpoint (`http://127.0.0.1:8333`); AWS when unset.
    pub endpoint: Option<String>,
    pub region: String,
    /// Static credentials; the default provider chain (env, profile, IMDS...) when unset.
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<Secret>,
    /// `endpoint/bucket/key` instead of `bucket.endpoint/key` (most S3-compatible stores).
    pub force_path_style: bool,
    /// Total time for one photo, retries included.
    pub timeout: Duration,
    /// Largest object accepted, in bytes.
    pub max_bytes: u64,
    /// Attempts per request, the first included (standard retry mode, exponential backoff).
    pub max_attempts: u32,
}

impl S3Config {
    pub fn new(bucket: impl Into<String>) -> Self {
        Self {
            bucket: bucket.into(),
            endpoint: None,
            region: "us-east-1".into(),
            access_key_id: None,
            secret_access_key: None,
            force_path_style: false,
            timeout: Duration::from_secs(30),
            max_bytes: 50 * 1024 * 1024,
            max_attempts: 3,
        }
    }
}

#[derive(Debug, Clone)]
pub struct S3PhotoSource {
    client: aws_sdk_s3::Client,
    bucket: String,
    timeout: Duration,
    max_bytes: u64,
}

impl S3PhotoSource {
    pub async fn new(config: &S3Config) -> Self {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(config.region.clone()));
        if let (Some(id), Some(secret)) = (&config.access_key_id, &config.secret_access_key) {
            loader = loader.credentials_provider(Credentials::new(
                id,
                secret.expose(),
                None,
                None,
                "facepass-config",
            ));
        }
        let shared = loader.load().await;
        // Each attempt gets the whole budget's share; the total deadline is enforced in `fetch`.
        let attempt = config.timeout / config.max_attempts.max(1);
        // Backoff scaled to the budget (the SDK's 1 s start and 20 s cap would spend a short
        // deadline sleeping): a store that refuses connections is reported unavailable within
        // the deadline instead of timing out between retries.
        let retry = RetryConfig::standard()
            .with_max_attempts(config.max_attempts.max(1))
            .with_initial_backoff((config.timeout / 10).min(Duration::from_secs(1)))
            .with_max_backoff((config.timeout / 4).min(Duration::from_secs(20)));
        let mut builder = aws_sdk_s3::config::Builder::from(&shared)
            .force_path_style(config.force_path_style)
            .retry_config(retry)
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(attempt.min(Duration::from_secs(5)))
                    .operation_attempt_timeout(attempt)
                    .operation_timeout(config.timeout)
                    .build(),
            );
        if let Some(endpoint) = &config.endpoint {
            builder = builder.endpoint_url(endpoint);
        }
        Self {
            client: aws_sdk_s3::Client::from_conf(builder.build()),
            bucket: config.bucket.clone(),
            timeout: config.timeout,
            max_bytes: config.max_bytes,
        }
    }

    pub fn client(&self) -> &aws_sdk_s3::Client {
        &self.client
    }

    async fn download(&self, key: &PhotoKey) -> Result<ImageBytes, PhotoSourceError> {
        let response = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await
            .map_err(|e| classify(e, self.timeout))?;
        let declared = response.content_length().unwrap_or(0).max(0) as u64;
        if declared > self.max_bytes {
            return Err(PhotoSourceError::TooLarge {
                limit_bytes: self.max_bytes,
            });
        }
        let mut body = response.body;
        let mut bytes = Vec::with_capacity(declared as usize);
        while let Some(chunk) = body
            .try_next()
            .await
            .map_err(|e| PhotoSourceError::Unavailable(format!("download interrupted: {e}")))?
        {
            if (bytes.len() + chunk.len()) as u64 > self.max_bytes {
                return Err(PhotoSourceError::TooLarge {
                    limit_bytes: self.max_bytes,
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes.into())
    }
}

/// SDK errors → the port's variants. Retries already happened inside the SDK; a request that
/// ran out of (attempt) time is a `Timeout` of the photo's budget.
fn classify<R>(e: SdkError<GetObjectError, R>, budget: Duration) -> PhotoSourceError
where
    R: HttpStatus + fmt::Debug,
{
    match &e {
        SdkError::ServiceError(service) => {
            let status = service.raw().status_code();
            let err = service.err();
            let code = err.code().unwrap_or_default();
            if matches!(err, GetObjectError::NoSuchKey(_))
                || code == "NoSuchKey"
                || status == 404 && code != "NoSuchBucket"
            {
                PhotoSourceError::NotFound
            } else if status == 403
                || matches!(
                    code,
                    "AccessDenied"
                        | "InvalidAccessKeyId"
                        | "SignatureDoesNotMatch"
                        | "ExpiredToken"
                )
            {
                PhotoSourceError::AccessDenied(format!("{code} (HTTP {status})"))
            } else if status >= 500 || code == "NoSuchBucket" || code == "SlowDown" {
                PhotoSourceError::Unavailable(format!("{code} (HTTP {status})"))
            } else {
                PhotoSourceError::Unexpected(format!(
                    "{code} (HTTP {status}): {}",
                    err.message().unwrap_or_default()
                ))
            }
        }
        SdkError::TimeoutError(_) => PhotoSourceError::Timeout(budget),
        SdkError::DispatchFailure(d) if d.is_timeout() => PhotoSourceError::Timeout(budget),
        SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            PhotoSourceError::Unavailable(format!(
                "S3 unreachable: {}",
                aws_sdk_s3::error::DisplayErrorContext(&e)
            ))
        }
        _ => PhotoSourceError::Unexpected(aws_sdk_s3::error::DisplayErrorContext(&e).to_string()),
    }
}

/// The HTTP status of a raw response, for classification.
pub trait HttpStatus {
    fn status_code(&self) -> u16;
}

impl HttpStatus for aws_sdk_s3::config::http::HttpResponse {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

const HEALTH_TIMEOUT: Duration = Duration::from_secs(5);

#[async_trait]
impl PhotoSource for S3PhotoSource {
    async fn fetch(&self, key: &PhotoKey) -> Result<ImageBytes, PhotoSourceError> {
        match tokio::time::timeout(self.timeout, self.download(key)).await {
            Ok(result) => result,
            Err(_) => Err(PhotoSourceError::Timeout(self.timeout)),
        }
    }

    /// A readiness probe answers fast: at most 5 s (or the fetch timeout, if shorter), so a
    /// stalled store shows as not ready before a load balancer's own probe gives up.
    async fn health(&self) -> Result<(), PhotoSourceError> {
        let budget = self.timeout.min(HEALTH_TIMEOUT);
        let check = self.client.head_bucket().bucket(&self.bucket).send();
        match tokio::time::timeout(budget, check).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(PhotoSourceError::Unavailable(
                aws_sdk_s3::error::DisplayErrorContext(&e).to_string(),
            )),
            Err(_) => Err(PhotoSourceError::Timeout(budget)),
        }
    }
}
