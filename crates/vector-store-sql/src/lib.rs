//! Shared plumbing of the SQL vector stores (`vector-store-pgvector`, `vector-store-sqlite`):
//! the migration runner over the SQL files in `migrations/`, the classification of database
//! errors into the port's `StoreError`, and (feature `contract`) the `VectorStore` contract
//! suite that every adapter runs against its real backend.

#[cfg(feature = "contract")]
pub mod contract;
mod errors;
pub mod migrate;

pub use errors::store_error;

use facepass_domain::ports::StoreError;
use facepass_domain::{DetectedFace, Embedding, EmbeddingSpace};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

/// Checks that the database was migrated for `space` (same model id and dimension).
pub async fn check_space(
    db: &DatabaseConnection,
    space: &EmbeddingSpace,
) -> Result<(), StoreError> {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), "SELECT model_id, dim FROM facepass_space"))
        .await
        .map_err(|e| match store_error(e) {
            StoreError::Unexpected(m) => StoreError::Unexpected(format!(
                "the database has no FacePass schema ({m}); run `cargo xtask migrate up` or enable storage.migrate"
            )),
            other => other,
        })?
        .ok_or_else(|| StoreError::Unexpected("facepass_space is empty".into()))?;
    let model: String = row.try_get_by_index(0).map_err(store_error)?;
    let dim: i64 = row
        .try_get_by_index::<i32>(1)
        .map(i64::from)
        .map_err(store_error)?;
    if model != space.model.as_str() || dim != space.dim as i64 {
        return Err(StoreError::ModelMismatch {
            expected: format!("{model} ({dim}-d)"),
            actual: format!("{} ({}-d)", space.model, space.dim),
        });
    }
    Ok(())
}

/// Refuses an embedding of another space than the store's.
pub fn ensure_in_space(space: &EmbeddingSpace, embedding: &Embedding) -> Result<(), StoreError> {
    if embedding.is_in(space) {
        Ok(())
    } else {
        Err(StoreError::ModelMismatch {
            expected: format!("{} ({}-d)", space.model, space.dim),
            actual: format!("{} ({}-d)", embedding.model(), embedding.dim()),
        })
    }
}

/// Refuses a photo whose faces are not all of the store's space.
pub fn ensure_faces_in_space(
    space: &EmbeddingSpace,
    faces: &[DetectedFace],
) -> Result<(), StoreError> {
    faces
        .iter()
        .try_for_each(|f| ensure_in_space(space, &f.embedding))
}

/// Milliseconds since the Unix epoch.
pub fn unix_millis(t: std::time::SystemTime) -> i64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub fn from_unix_millis(ms: i64) -> std::time::SystemTime {
    std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64)
}
