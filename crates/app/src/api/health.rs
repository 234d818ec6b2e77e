//! `GET /health`: readiness (database, photo source, models) for load balancers.

use std::sync::Arc;

use facepass_domain::ports::{Embedder, PhotoSource, VectorStore};
use poem_openapi::{Object, OpenApi};
use serde_json::json;

use super::dto::ApiTags;
use super::errors::{ApiError, ErrorCode, endpoint_response};
use super::state::AppState;

#[derive(Debug, Object)]
pub struct HealthChecks {
    /// `ok` when the vector database answers.
    pub database: String,
    /// `ok` when the photo store (folder or bucket) is reachable.
    pub photo_source: String,
    /// `ok` when the face models are loaded.
    pub models: String,
}

#[derive(Debug, Object)]
#[oai(rename = "Health")]
pub struct HealthBody {
    /// `ok`.
    pub status: String,
    /// FacePass version.
    pub version: String,
    pub checks: HealthChecks,
}

endpoint_response!(
    /// Answers of `GET /health`.
    HealthResponse => HealthBody {
        503 Unavailable: "`not_ready`: a dependency is down; `details.checks` names it.",
    }
);

#[derive(Debug)]
pub struct HealthApi<E, S, P>(pub Arc<AppState<E, S, P>>);

#[OpenApi(tag = "ApiTags::Operations")]
impl<E: Embedder, S: VectorStore, P: PhotoSource> HealthApi<E, S, P> {
    /// Readiness
    ///
    /// 200 when the database, the photo source and the models are all usable; 503 with the
    /// failing check otherwise.
    #[oai(path = "/health", method = "get", operation_id = "health")]
    pub async fn health(&self) -> HealthResponse {
        let report = self.0.health.execute().await;
        let show = |name: &str, result: Result<(), String>| match result {
            Ok(()) => "ok".to_owned(),
            Err(reason) => {
                tracing::warn!(check = name, %reason, "health check failed");
                "unavailable".to_owned()
            }
        };
        let checks = HealthChecks {
            database: show(
                "database",
                report.database.clone().map_err(|e| e.to_string()),
            ),
            photo_source: show(
                "photo_source",
                report.photo_source.clone().map_err(|e| e.to_string()),
            ),
            models: show("models", report.models.clone().map_err(|e| e.to_string())),
        };
        if report.is_ready() {
            Ok(HealthBody {
                status: "ok".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                checks,
            })
        } else {
            Err(
                ApiError::new(ErrorCode::NotReady, "a dependency is not ready").with_details(
                    json!({"status": "unavailable", "checks": {
                        "database": checks.database,
                        "photo_source": checks.photo_source,
                        "models": checks.models,
                    }}),
                ),
            )
        }
        .into()
    }
}
