//! Session generations (migration 0002): every write to a session takes a new generation from
//! one database-wide counter, in its own transaction and before it changes anything else, and
//! records it on the `sessions` row (whose lock orders the session's writers) and on each photo
//! it (re)indexes. A reader that sees generation G therefore sees exactly the writes up to G,
//! which is what lets a search cache prove it is current.

use facepass_domain::SessionId;
use facepass_domain::ports::StoreError;
use sea_orm::{ConnectionTrait, DatabaseTransaction, Statement};

use crate::syntax::Syntax;
use crate::{store_error, unix_millis};

/// What a write does to the session's photos.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    /// Indexes or re-indexes one photo (creates the session row if needed).
    Index,
    /// Removes photos: readers holding an older generation must rebuild, not just add.
    Remove,
}

/// The session's row as committed before a write took its lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Previous {
    pub generation: i64,
    /// The generation of the latest write that removed photos or faces.
    pub removed_generation: i64,
    /// Whether every face of the session has been grouped into persons (false for sessions
    /// indexed before persons existed, until they are grouped).
    pub grouped: bool,
    /// The generation of the latest change to the session's watches (or of the row's
    /// creation), migration 0006.
    pub watches_generation: i64,
}

/// A write's generation, and the session as it was before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bumped {
    pub generation: i64,
    /// `None`: the session had no row (a new session).
    pub previous: Option<Previous>,
}

/// Takes the session's next generation inside `txn` and returns it with the session's row as
/// it was committed before; `None` when a removal finds no session (then there is nothing to
/// remove either).
///
/// The order of the statements is the protocol: the backend's prelude (SQLite's counter, which
/// takes its one write lock), then the session row read under its lock (Postgres: `FOR
/// UPDATE`, so no writer of the session comes between the read and this write), then the
/// generation, taken where it is written: inside `ON CONFLICT DO UPDATE`, which holds the row's
/// lock when it evaluates it, so generations grow in the order the session's writers commit. A
/// new session starts with `removed_generation = generation`: a reader holding a deleted
/// namesake rebuilds.
pub async fn bump(
    txn: &DatabaseTransaction,
    sql: &dyn Syntax,
    session: &SessionId,
    write: Write,
) -> Result<Option<Bumped>, StoreError> {
    if let Some(prelude) = sql.generation_prelude() {
        txn.execute_unprepared(prelude).await.map_err(store_error)?;
    }
    let read = format!(
        "SELECT generation, removed_generation, grouped, watches_generation FROM sessions \
         WHERE session_id = $1{}",
        sql.for_update()
    );
    let previous = query_previous(txn, sql.statement(&read, vec![session.as_str().into()])).await?;
    let (statement, values) = match write {
        Write::Remove if previous.is_none() => return Ok(None),
        Write::Remove => (
            format!(
                "UPDATE sessions SET generation = g.v, removed_generation = g.v \
                 FROM {} WHERE session_id = $1 RETURNING generation",
                sql.fresh_generation()
            ),
            vec![session.as_str().into()],
        ),
        Write::Index => (
            format!(
                "INSERT INTO sessions (session_id, generation, removed_generation, created_at, \
                 watches_generation) SELECT $1, g.v, g.v, {}, g.v FROM {} WHERE true \
                 ON CONFLICT (session_id) \
                 DO UPDATE SET generation = {} RETURNING generation",
                sql.millis_param(2),
                sql.fresh_generation(),
                sql.fresh_generation_value()
            ),
            vec![
                session.as_str().into(),
                unix_millis(std::time::SystemTime::now()).into(),
            ],
        ),
    };
    let generation = query_i64(txn, sql.statement(&statement, values))
        .await?
        .ok_or_else(|| StoreError::Unexpected("no generation returned".into()))?;
    Ok(Some(Bumped {
        generation,
        previous,
    }))
}

async fn query_previous(
    txn: &DatabaseTransaction,
    stmt: Statement,
) -> Result<Option<Previous>, StoreError> {
    let Some(row) = txn.query_one_raw(stmt).await.map_err(store_error)? else {
        return Ok(None);
    };
    Ok(Some(Previous {
        generation: row.try_get_by_index::<i64>(0).map_err(store_error)?,
        removed_generation: row.try_get_by_index::<i64>(1).map_err(store_error)?,
        grouped: row.try_get_by_index::<bool>(2).map_err(store_error)?,
        watches_generation: row.try_get_by_index::<i64>(3).map_err(store_error)?,
    }))
}

/// Takes the session row's lock for a session delete, inside `txn` and before it removes
/// anything. Where no row exists yet, one is created for the delete to remove: an indexer that
/// is creating the session at this moment then commits before the delete (which waits for it)
/// or after it (it waits for the delete), never between the delete's statements. A backend
/// whose first write holds its only write lock needs nothing.
pub async fn lock_for_delete(
    txn: &DatabaseTransaction,
    sql: &dyn Syntax,
    session: &SessionId,
) -> Result<(), StoreError> {
    if let Some(lock) = sql.lock_session_for_delete() {
        txn.execute_raw(sql.statement(lock, vec![session.as_str().into()]))
            .await
            .map_err(store_error)?;
    }
    Ok(())
}

async fn query_i64(txn: &DatabaseTransaction, stmt: Statement) -> Result<Option<i64>, StoreError> {
    txn.query_one_raw(stmt)
        .await
        .map_err(store_error)?
        .map(|row| row.try_get_by_index::<i64>(0).map_err(store_error))
        .transpose()
}
