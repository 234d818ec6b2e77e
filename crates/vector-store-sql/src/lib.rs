//! The SQL vector store, written once: [`SqlStore`] implements `VectorStore` over a
//! [`Dialect`] (`vector-store-pgvector`, `vector-store-sqlite`), with the shared SQL (session
//! generations, writes, deletes, expiry, audit, diff, status, people), the sessions held in
//! memory that search scans and the grouping of faces into persons plans against (`cache`,
//! `index`, `grouping`), the migration runner over the files in `migrations/`, and the
//! classification of database errors into the port's `StoreError`. The `VectorStore` contract
//! suite that every dialect runs against its real backend is the dev-only crate
//! `facepass-store-contract`.

mod cache;
mod errors;
pub mod generation;
mod grouping;
mod index;
mod jobs;
pub mod lifecycle;
mod load;
pub mod migrate;
mod people;
mod store;
mod syntax;
mod watches;
mod writes;

pub use cache::CacheStats;
pub use errors::store_error;
/// The connection types in [`Dialect`]'s and [`Syntax`]'s signatures.
pub use sea_orm::{DatabaseConnection, DatabaseTransaction, DbBackend, QueryResult};
pub use store::{Dialect, FaceRow, SqlStore, StoreOptions};
pub use syntax::Syntax;
pub use watches::WATCH_MATCHED;

use facepass_domain::ports::StoreError;
use facepass_domain::{DetectedFace, Embedding, EmbeddingSpace};
use sea_orm::{ConnectionTrait, Statement};

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

/// The stored face count of a photo, or `None` when it is not indexed (both backends).
pub async fn indexed_faces(
    db: &DatabaseConnection,
    sql: &dyn Syntax,
    session: &facepass_domain::SessionId,
    photo: &facepass_domain::PhotoId,
) -> Result<Option<u64>, StoreError> {
    let row = db
        .query_one_raw(sql.statement(
            "SELECT CAST(face_count AS BIGINT) FROM photos WHERE session_id = $1 AND photo_id = $2",
            vec![session.as_str().into(), photo.as_str().into()],
        ))
        .await
        .map_err(store_error)?;
    row.map(|r| r.try_get_by_index::<i64>(0).map(|n| n as u64))
        .transpose()
        .map_err(store_error)
}

/// Photo and face counts of a session, and when it was last indexed (both backends).
pub async fn session_status(
    db: &DatabaseConnection,
    sql: &dyn Syntax,
    space: &EmbeddingSpace,
    session: &facepass_domain::SessionId,
    small_face_px: f32,
) -> Result<facepass_domain::ports::SessionStats, StoreError> {
    let last_ms = sql.millis_column("max(indexed_at)");
    let expires_ms = sql.millis_column("expires_at");
    let select = format!(
        "SELECT count(*), coalesce(sum(face_count), 0), \
         coalesce(sum(CASE WHEN face_count = 0 THEN 1 ELSE 0 END), 0), {last_ms}, \
         (SELECT count(*) FROM faces WHERE session_id = $1 AND bbox_height < $2), \
         (SELECT {expires_ms} FROM sessions WHERE session_id = $1) \
         FROM photos WHERE session_id = $1"
    );
    let row = db
        .query_one_raw(sql.statement(&select, vec![session.as_str().into(), small_face_px.into()]))
        .await
        .map_err(store_error)?
        .ok_or_else(|| StoreError::Unexpected("aggregate returned no row".into()))?;
    let count = |i: usize| {
        row.try_get_by_index::<i64>(i)
            .map(|n| n as u64)
            .map_err(store_error)
    };
    let photos = count(0)?;
    Ok(facepass_domain::ports::SessionStats {
        photos_indexed: photos,
        faces_indexed: count(1)?,
        photos_without_faces: count(2)?,
        small_faces: count(4)?,
        last_indexed_at: row
            .try_get_by_index::<Option<i64>>(3)
            .map_err(store_error)?
            .map(from_unix_millis),
        model: (photos > 0).then(|| space.model.clone()),
        expires_at: row
            .try_get_by_index::<Option<i64>>(5)
            .map_err(store_error)?
            .map(from_unix_millis),
    })
}

/// Photos and faces in the whole database (both backends; exact counts).
pub async fn totals(
    db: &DatabaseConnection,
) -> Result<facepass_domain::ports::StoreTotals, StoreError> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT (SELECT count(*) FROM photos), (SELECT count(*) FROM faces)",
        ))
        .await
        .map_err(store_error)?
        .ok_or_else(|| StoreError::Unexpected("count returned no row".into()))?;
    let count = |i: usize| {
        row.try_get_by_index::<i64>(i)
            .map(|n| n as u64)
            .map_err(store_error)
    };
    Ok(facepass_domain::ports::StoreTotals {
        photos: count(0)?,
        faces: count(1)?,
    })
}
