//! Data lifecycle on both backends: the deletion audit (written in the deleting
//! transaction), session expiry and its purge, and the diff of the platform's photo list
//! against the index. (A guest's erasure is a write of the store: `store.rs`.)

use std::time::SystemTime;

use facepass_domain::ports::{DeletedCounts, StoreError};
use facepass_domain::watches::{WatchEnd, WatchId};
use facepass_domain::{
    Actor, AuditAction, AuditEvent, AuditQuery, ExpiryUpdate, PhotoId, SessionDiff, SessionId,
};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, QueryResult, TransactionTrait, Value,
};

use crate::syntax::Syntax;
use crate::writes::delete_rows;
use crate::{from_unix_millis, store_error, unix_millis};

fn parse_session(s: String) -> Result<SessionId, StoreError> {
    SessionId::parse(s).map_err(|e| StoreError::Unexpected(format!("stored session id: {e}")))
}

fn parse_photo(s: String) -> Result<PhotoId, StoreError> {
    PhotoId::parse(s).map_err(|e| StoreError::Unexpected(format!("stored photo id: {e}")))
}

/// Records a deletion inside the transaction that makes it.
pub(crate) async fn record(
    txn: &DatabaseTransaction,
    sql: &dyn Syntax,
    action: AuditAction,
    session: &SessionId,
    photo: Option<&PhotoId>,
    counts: DeletedCounts,
    actor: &Actor,
) -> Result<(), StoreError> {
    let insert = format!(
        "INSERT INTO audit_events (at, action, session_id, photo_id, deleted_photos, \
         deleted_faces, key_id) VALUES ({}, $2, $3, $4, $5, $6, $7)",
        sql.millis_param(1)
    );
    txn.execute_raw(sql.statement(
        &insert,
        vec![
            unix_millis(SystemTime::now()).into(),
            action.as_str().into(),
            session.as_str().into(),
            photo.map(|p| p.as_str().to_owned()).into(),
            (counts.photos as i64).into(),
            (counts.faces as i64).into(),
            actor.key_id.clone().into(),
        ],
    ))
    .await
    .map_err(store_error)?;
    Ok(())
}

/// Records a watch's end inside the transaction that deletes it.
pub(crate) async fn record_watch_end(
    txn: &DatabaseTransaction,
    sql: &dyn Syntax,
    session: &SessionId,
    watch: &WatchId,
    reason: WatchEnd,
    actor: &Actor,
) -> Result<(), StoreError> {
    let insert = format!(
        "INSERT INTO audit_events (at, action, session_id, deleted_photos, deleted_faces, \
         key_id, watch_id, reason) VALUES ({}, $2, $3, 0, 0, $4, {}, $6)",
        sql.millis_param(1),
        sql.uuid_param(5)
    );
    txn.execute_raw(sql.statement(
        &insert,
        vec![
            unix_millis(SystemTime::now()).into(),
            AuditAction::WatchEnd.as_str().into(),
            session.as_str().into(),
            actor.key_id.clone().into(),
            watch.to_string().into(),
            reason.as_str().into(),
        ],
    ))
    .await
    .map_err(store_error)?;
    Ok(())
}

/// Deletes up to `max_sessions` expired sessions, one transaction each. The first statement
/// of each takes the session row (Postgres: the oldest expired one no other replica holds,
/// `SKIP LOCKED`; SQLite: under its one-writer lock), so replicas never delete the same
/// session and a concurrent indexer waits, then starts the session afresh.
pub async fn purge_expired(
    db: &DatabaseConnection,
    sql: &dyn Syntax,
    now: SystemTime,
    max_sessions: usize,
) -> Result<Vec<(SessionId, DeletedCounts)>, StoreError> {
    let due = format!("expires_at <= {}", sql.millis_param(1));
    let lock = sql.for_update_skip_locked();
    let take = format!(
        "DELETE FROM sessions WHERE session_id = (SELECT session_id FROM sessions WHERE {due} \
         ORDER BY expires_at, session_id LIMIT 1{lock}) AND {due} RETURNING session_id"
    );
    let mut purged = Vec::new();
    while purged.len() < max_sessions {
        let txn = db.begin().await.map_err(store_error)?;
        let row = txn
            .query_one_raw(sql.statement(&take, vec![unix_millis(now).into()]))
            .await
            .map_err(store_error)?;
        let Some(row) = row else {
            txn.commit().await.map_err(store_error)?;
            break;
        };
        let session = parse_session(row.try_get_by_index(0).map_err(store_error)?)?;
        let counts =
            delete_rows(&txn, sql, "session_id = $1", vec![session.as_str().into()]).await?;
        let server = Actor::server();
        crate::watches::end_session_watches(&txn, sql, &session, WatchEnd::SessionExpired, &server)
            .await?;
        record(
            &txn,
            sql,
            AuditAction::Expire,
            &session,
            None,
            counts,
            &Actor::server(),
        )
        .await?;
        txn.commit().await.map_err(store_error)?;
        purged.push((session, counts));
    }
    Ok(purged)
}

/// Sets or initialises a session's expiry (creating its row, with a fresh generation, when
/// it has none); returns the expiry it has afterwards.
pub async fn set_expiry(
    db: &DatabaseConnection,
    sql: &dyn Syntax,
    session: &SessionId,
    update: ExpiryUpdate,
) -> Result<Option<SystemTime>, StoreError> {
    let (at, overwrite) = match update {
        ExpiryUpdate::Set(at) => (at, true),
        ExpiryUpdate::Default(at) => (Some(at), false),
    };
    let on_conflict = if overwrite {
        "DO UPDATE SET expires_at = excluded.expires_at"
    } else {
        "DO NOTHING"
    };
    let txn = db.begin().await.map_err(store_error)?;
    if let Some(prelude) = sql.generation_prelude() {
        txn.execute_unprepared(prelude).await.map_err(store_error)?;
    }
    let insert = format!(
        "INSERT INTO sessions (session_id, generation, removed_generation, created_at, expires_at, \
         watches_generation) SELECT $1, g.v, g.v, {}, {}, g.v FROM {} WHERE true \
         ON CONFLICT (session_id) {on_conflict}",
        sql.millis_param(3),
        sql.millis_param(2),
        sql.fresh_generation()
    );
    let values: Vec<Value> = vec![
        session.as_str().into(),
        at.map(unix_millis).into(),
        unix_millis(SystemTime::now()).into(),
    ];
    txn.execute_raw(sql.statement(&insert, values))
        .await
        .map_err(store_error)?;
    let read = format!(
        "SELECT {} FROM sessions WHERE session_id = $1",
        sql.millis_column("expires_at")
    );
    let row = txn
        .query_one_raw(sql.statement(&read, vec![session.as_str().into()]))
        .await
        .map_err(store_error)?
        .ok_or_else(|| StoreError::Unexpected("the session row vanished".into()))?;
    let expires_at = row
        .try_get_by_index::<Option<i64>>(0)
        .map_err(store_error)?
        .map(from_unix_millis);
    txn.commit().await.map_err(store_error)?;
    Ok(expires_at)
}

/// `listed` (distinct ids) against the session's indexed photos: the set differences are
/// computed by the database from the list bound as one JSON array.
pub async fn diff(
    db: &DatabaseConnection,
    sql: &dyn Syntax,
    session: &SessionId,
    listed: &[PhotoId],
) -> Result<SessionDiff, StoreError> {
    let query = format!(
        "WITH listed(photo_id) AS ({}) \
         SELECT 0, l.photo_id FROM listed l WHERE NOT EXISTS \
           (SELECT 1 FROM photos p WHERE p.session_id = $1 AND p.photo_id = l.photo_id) \
         UNION ALL \
         SELECT 1, p.photo_id FROM photos p WHERE p.session_id = $1 AND NOT EXISTS \
           (SELECT 1 FROM listed l WHERE l.photo_id = p.photo_id)",
        sql.json_texts(2)
    );
    let ids: Vec<&str> = listed.iter().map(PhotoId::as_str).collect();
    let json = serde_json::to_string(&ids)
        .map_err(|e| StoreError::Unexpected(format!("photo ids as JSON: {e}")))?;
    let rows = db
        .query_all_raw(sql.statement(&query, vec![session.as_str().into(), json.into()]))
        .await
        .map_err(store_error)?;
    let mut out = SessionDiff::default();
    for row in rows {
        let side: i32 = row.try_get_by_index(0).map_err(store_error)?;
        let photo = parse_photo(row.try_get_by_index(1).map_err(store_error)?)?;
        if side == 0 {
            out.missing.push(photo);
        } else {
            out.orphaned.push(photo);
        }
    }
    // Bytewise, whatever the database's collation.
    out.missing
        .sort_unstable_by(|a, b| a.as_str().cmp(b.as_str()));
    out.orphaned
        .sort_unstable_by(|a, b| a.as_str().cmp(b.as_str()));
    out.indexed = (listed.len() - out.missing.len()) as u64;
    Ok(out)
}

/// Audit events, newest first.
pub async fn audit(
    db: &DatabaseConnection,
    sql: &dyn Syntax,
    query: &AuditQuery,
) -> Result<Vec<AuditEvent>, StoreError> {
    let mut filters = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    if let Some(session) = &query.session {
        values.push(session.as_str().into());
        filters.push(format!("session_id = ${}", values.len()));
    }
    if let Some(since) = query.since {
        values.push(unix_millis(since).into());
        filters.push(format!("at >= {}", sql.millis_param(values.len())));
    }
    if let Some(before) = query.before_id {
        values.push(before.into());
        filters.push(format!("id < ${}", values.len()));
    }
    values.push((query.limit as i64).into());
    let filter = if filters.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", filters.join(" AND "))
    };
    let query = format!(
        "SELECT id, {}, action, session_id, photo_id, deleted_photos, deleted_faces, key_id, \
         CAST(watch_id AS TEXT), reason FROM audit_events {filter} ORDER BY id DESC LIMIT ${}",
        sql.millis_column("at"),
        values.len()
    );
    let rows = db
        .query_all_raw(sql.statement(&query, values))
        .await
        .map_err(store_error)?;
    rows.iter().map(audit_event).collect()
}

fn audit_event(row: &QueryResult) -> Result<AuditEvent, StoreError> {
    let action: String = row.try_get_by_index(2).map_err(store_error)?;
    let count = |i: usize| {
        row.try_get_by_index::<i64>(i)
            .map(|n| n.max(0) as u64)
            .map_err(store_error)
    };
    Ok(AuditEvent {
        id: row.try_get_by_index(0).map_err(store_error)?,
        at: from_unix_millis(row.try_get_by_index(1).map_err(store_error)?),
        action: AuditAction::parse(&action)
            .ok_or_else(|| StoreError::Unexpected(format!("stored audit action {action:?}")))?,
        session: parse_session(row.try_get_by_index(3).map_err(store_error)?)?,
        photo: row
            .try_get_by_index::<Option<String>>(4)
            .map_err(store_error)?
            .map(parse_photo)
            .transpose()?,
        deleted_photos: count(5)?,
        deleted_faces: count(6)?,
        key_id: row.try_get_by_index(7).map_err(store_error)?,
        watch: row
            .try_get_by_index::<Option<String>>(8)
            .map_err(store_error)?
            .map(|w| WatchId::parse(&w).map_err(|e| StoreError::Unexpected(e.to_string())))
            .transpose()?,
        reason: row
            .try_get_by_index::<Option<String>>(9)
            .map_err(store_error)?
            .map(|r| {
                WatchEnd::parse(&r)
                    .ok_or_else(|| StoreError::Unexpected(format!("stored watch end {r:?}")))
            })
            .transpose()?,
    })
}
