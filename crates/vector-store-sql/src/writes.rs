//! The SQL of a session's writes, shared by both backends: a photo's row, deletions, and
//! the people a write moves. Every function runs inside the writer's transaction, after it
//! took the session's generation (see [`crate::generation`]).

use std::collections::BTreeMap;

use facepass_domain::ports::{DeletedCounts, StoreError};
use facepass_domain::watches::WatchEnd;
use facepass_domain::{Actor, AuditAction, EmbeddingSpace, FaceId, PhotoId, SessionId};
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, TransactionTrait, Value};

use crate::syntax::Syntax;
use crate::{generation, lifecycle, store_error, unix_millis};

/// A stored face the write gives another person (`None`: no person).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Move {
    pub face: u128,
    pub photo: String,
    pub person: Option<u128>,
}

fn json_array<T: AsRef<str>>(ids: &[T]) -> Result<String, StoreError> {
    let ids: Vec<&str> = ids.iter().map(AsRef::as_ref).collect();
    serde_json::to_string(&ids).map_err(|e| StoreError::Unexpected(format!("ids as JSON: {e}")))
}

fn uuid_text(id: u128) -> String {
    uuid::Uuid::from_u128(id).hyphenated().to_string()
}

/// Upserts the photo's row with the write's generation and removes its old faces.
pub(crate) async fn write_photo_row(
    txn: &DatabaseTransaction,
    sql: &dyn Syntax,
    space: &EmbeddingSpace,
    session: &SessionId,
    photo: &PhotoId,
    face_count: usize,
    generation: i64,
) -> Result<(), StoreError> {
    let indexed_at = sql.millis_param(5);
    let upsert = format!(
        "INSERT INTO photos (session_id, photo_id, face_count, model_id, indexed_at, generation) \
         VALUES ($1, $2, $3, $4, {indexed_at}, $6) \
         ON CONFLICT (session_id, photo_id) DO UPDATE \
         SET face_count = excluded.face_count, model_id = excluded.model_id, \
             indexed_at = excluded.indexed_at, generation = excluded.generation"
    );
    txn.execute_raw(sql.statement(
        &upsert,
        vec![
            session.as_str().into(),
            photo.as_str().into(),
            (face_count as i64).into(),
            space.model.as_str().into(),
            unix_millis(std::time::SystemTime::now()).into(),
            generation.into(),
        ],
    ))
    .await
    .map_err(store_error)?;
    txn.execute_raw(sql.statement(
        "DELETE FROM faces WHERE session_id = $1 AND photo_id = $2",
        vec![session.as_str().into(), photo.as_str().into()],
    ))
    .await
    .map_err(store_error)?;
    Ok(())
}

/// Gives each moved face its new person, and the photos of those faces the write's
/// generation, so that other processes holding the session read them again.
pub(crate) async fn move_faces(
    txn: &DatabaseTransaction,
    sql: &dyn Syntax,
    session: &SessionId,
    generation: i64,
    moves: &[Move],
) -> Result<(), StoreError> {
    if moves.is_empty() {
        return Ok(());
    }
    let mut by_person: BTreeMap<Option<u128>, Vec<String>> = BTreeMap::new();
    for m in moves {
        by_person
            .entry(m.person)
            .or_default()
            .push(uuid_text(m.face));
    }
    let query = format!(
        "UPDATE faces SET person_id = {} WHERE session_id = $1 AND face_id IN ({})",
        sql.uuid_param(2),
        sql.json_uuids(3)
    );
    for (person, faces) in by_person {
        txn.execute_raw(sql.statement(
            &query,
            vec![
                session.as_str().into(),
                person.map(uuid_text).into(),
                json_array(&faces)?.into(),
            ],
        ))
        .await
        .map_err(store_error)?;
    }
    let mut photos: Vec<&str> = moves.iter().map(|m| m.photo.as_str()).collect();
    photos.sort_unstable();
    photos.dedup();
    let query = format!(
        "UPDATE photos SET generation = $2 WHERE session_id = $1 AND photo_id IN ({})",
        sql.json_texts(3)
    );
    txn.execute_raw(sql.statement(
        &query,
        vec![
            session.as_str().into(),
            generation.into(),
            json_array(&photos)?.into(),
        ],
    ))
    .await
    .map_err(store_error)?;
    Ok(())
}

/// Where the session is not held in memory, a removal cannot group the rest of a person
/// again; at least a person left with one face is no person any more.
pub(crate) async fn drop_lone_persons(
    txn: &DatabaseTransaction,
    sql: &dyn Syntax,
    session: &SessionId,
) -> Result<(), StoreError> {
    txn.execute_raw(sql.statement(
        "UPDATE faces SET person_id = NULL WHERE session_id = $1 AND person_id IN ( \
             SELECT person_id FROM faces WHERE session_id = $1 AND person_id IS NOT NULL \
             GROUP BY person_id HAVING count(*) = 1)",
        vec![session.as_str().into()],
    ))
    .await
    .map_err(store_error)?;
    Ok(())
}

/// Records that every face of the session is grouped (the write grouped the pending ones).
pub(crate) async fn mark_grouped(
    txn: &DatabaseTransaction,
    sql: &dyn Syntax,
    session: &SessionId,
) -> Result<(), StoreError> {
    let query = "UPDATE sessions SET grouped = TRUE WHERE session_id = $1";
    txn.execute_raw(sql.statement(query, vec![session.as_str().into()]))
        .await
        .map_err(store_error)?;
    Ok(())
}

/// The sessions whose faces were never grouped (indexed before persons existed), in id order.
pub(crate) async fn ungrouped_sessions(
    db: &DatabaseConnection,
    sql: &dyn Syntax,
) -> Result<Vec<SessionId>, StoreError> {
    let query = format!(
        "SELECT session_id FROM sessions WHERE NOT grouped ORDER BY session_id{}",
        sql.bytewise()
    );
    let rows = db
        .query_all_raw(sql.statement(&query, Vec::new()))
        .await
        .map_err(store_error)?;
    rows.iter()
        .map(|row| {
            let id: String = row.try_get_by_index(0).map_err(store_error)?;
            SessionId::parse(&id)
                .map_err(|e| StoreError::Unexpected(format!("stored session id: {e}")))
        })
        .collect()
}

/// Deletes the faces, then the photos, matching `filter` inside `txn`.
pub(crate) async fn delete_rows(
    txn: &DatabaseTransaction,
    sql: &dyn Syntax,
    filter: &str,
    values: Vec<Value>,
) -> Result<DeletedCounts, StoreError> {
    let mut counts = [0u64; 2];
    for (table, count) in ["faces", "photos"].into_iter().zip(&mut counts) {
        let query = format!("DELETE FROM {table} WHERE {filter}");
        *count = txn
            .execute_raw(sql.statement(&query, values.clone()))
            .await
            .map_err(store_error)?
            .rows_affected();
    }
    Ok(DeletedCounts {
        faces: counts[0],
        photos: counts[1],
    })
}

/// Deletes one photo's faces and row.
pub(crate) async fn delete_photo_rows(
    txn: &DatabaseTransaction,
    sql: &dyn Syntax,
    session: &SessionId,
    photo: &PhotoId,
) -> Result<DeletedCounts, StoreError> {
    delete_rows(
        txn,
        sql,
        "session_id = $1 AND photo_id = $2",
        vec![session.as_str().into(), photo.as_str().into()],
    )
    .await
}

/// Deletes these faces (those still stored) and lowers their photos' face counts: the faces
/// deleted and the photos that lost one.
pub(crate) async fn delete_faces(
    txn: &DatabaseTransaction,
    sql: &dyn Syntax,
    session: &SessionId,
    faces: &[FaceId],
) -> Result<DeletedCounts, StoreError> {
    if faces.is_empty() {
        return Ok(DeletedCounts::default());
    }
    let ids: Vec<String> = faces
        .iter()
        .map(|f| f.as_uuid().hyphenated().to_string())
        .collect();
    let query = format!(
        "DELETE FROM faces WHERE session_id = $1 AND face_id IN ({}) RETURNING photo_id",
        sql.json_uuids(2)
    );
    let rows = txn
        .query_all_raw(sql.statement(
            &query,
            vec![session.as_str().into(), json_array(&ids)?.into()],
        ))
        .await
        .map_err(store_error)?;
    let mut per_photo: BTreeMap<String, i64> = BTreeMap::new();
    for row in rows {
        let photo: String = row.try_get_by_index(0).map_err(store_error)?;
        *per_photo.entry(photo).or_default() += 1;
    }
    for (photo, n) in &per_photo {
        txn.execute_raw(sql.statement("UPDATE photos SET face_count = face_count - $3 WHERE session_id = $1 AND photo_id = $2",
            vec![session.as_str().into(), photo.as_str().into(), (*n).into()],
        ))
        .await
        .map_err(store_error)?;
    }
    Ok(DeletedCounts {
        faces: per_photo.values().sum::<i64>() as u64,
        photos: per_photo.len() as u64,
    })
}

/// Deletes a whole session (its faces, photos and row) in one transaction that records the
/// deletion in the audit.
pub(crate) async fn delete_session(
    db: &DatabaseConnection,
    sql: &dyn Syntax,
    session: &SessionId,
    actor: &Actor,
) -> Result<DeletedCounts, StoreError> {
    let txn = db.begin().await.map_err(store_error)?;
    // The session row first, as every writer does: one lock order, no deadlock.
    generation::lock_for_delete(&txn, sql, session).await?;
    txn.execute_raw(sql.statement(
        "DELETE FROM sessions WHERE session_id = $1",
        vec![session.as_str().into()],
    ))
    .await
    .map_err(store_error)?;
    let counts = delete_rows(&txn, sql, "session_id = $1", vec![session.as_str().into()]).await?;
    crate::watches::end_session_watches(&txn, sql, session, WatchEnd::SessionDeleted, actor)
        .await?;
    lifecycle::record(
        &txn,
        sql,
        AuditAction::DeleteSession,
        session,
        None,
        counts,
        actor,
    )
    .await?;
    txn.commit().await.map_err(store_error)?;
    Ok(counts)
}
