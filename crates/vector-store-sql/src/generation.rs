//! Session generations (migration 0002): every write to a session takes a new generation from
//! one database-wide counter, in its own transaction and before it changes anything else, and
//! records it on the `sessions` row (whose lock orders the session's writers) and on each photo
//! it (re)indexes. A reader that sees generation G therefore sees exactly the writes up to G,
//! which is what lets a search cache prove it is current.

use facepass_domain::SessionId;
use facepass_domain::ports::StoreError;
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, Statement};

use crate::{migrate, store_error, unix_millis};

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
}

/// A write's generation, and the session as it was before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bumped {
    pub generation: i64,
    /// `None`: the session had no row (a new session).
    pub previous: Option<Previous>,
}

const PREVIOUS_SQL: &str =
    "SELECT generation, removed_generation, grouped FROM sessions WHERE session_id = $1";

/// Takes the session's next generation inside `txn` and returns it with the session's row as
/// it was committed before; `None` when a removal finds no session (then there is nothing to
/// remove either).
pub async fn bump(
    txn: &DatabaseTransaction,
    session: &SessionId,
    write: Write,
) -> Result<Option<Bumped>, StoreError> {
    let backend = txn.get_database_backend();
    let one = |sql: &str| {
        Statement::from_sql_and_values(
            backend,
            migrate::placeholders(txn, sql),
            [session.as_str().into()],
        )
    };
    let (previous, generation) = match backend {
        DbBackend::Postgres => {
            // The row's lock first (when there is a row): its committed values are read under
            // it, so no writer of the session comes between them and this write.
            let lock = format!("{PREVIOUS_SQL} FOR UPDATE");
            let previous = query_previous(txn, one(&lock)).await?;
            if write == Write::Remove && previous.is_none() {
                return Ok(None);
            }
            let sql = match write {
                // ON CONFLICT DO UPDATE locks the row before it evaluates `nextval`, so
                // generations grow in the order the session's writers commit. A new session
                // starts with removed_generation = generation: a reader holding a deleted
                // namesake rebuilds.
                Write::Index => {
                    "WITH g AS (SELECT nextval('facepass_generation') AS v) \
                     INSERT INTO sessions (session_id, generation, removed_generation) SELECT $1, v, v FROM g \
                     ON CONFLICT (session_id) DO UPDATE SET generation = nextval('facepass_generation') \
                     RETURNING generation"
                }
                Write::Remove => {
                    "UPDATE sessions SET generation = g.v, removed_generation = g.v \
                     FROM (SELECT nextval('facepass_generation') AS v) g \
                     WHERE session_id = $1 RETURNING generation"
                }
            };
            (previous, query_i64(txn, one(sql)).await?)
        }
        // SQLite has one writer at a time: a counter row does what the sequence does, and
        // taking it first takes the database's write lock before anything is read.
        _ => {
            let next = Statement::from_string(
                backend,
                "UPDATE facepass_generation SET value = value + 1 RETURNING value",
            );
            let g = query_i64(txn, next)
                .await?
                .ok_or_else(|| StoreError::Unexpected("facepass_generation is empty".into()))?;
            let previous = query_previous(txn, one(PREVIOUS_SQL)).await?;
            if write == Write::Remove && previous.is_none() {
                return Ok(None);
            }
            let removed = if write == Write::Remove {
                "excluded.removed_generation"
            } else {
                "sessions.removed_generation"
            };
            let sql = format!(
                "INSERT INTO sessions (session_id, generation, removed_generation, created_at) \
                 VALUES (?1, ?2, ?2, ?3) ON CONFLICT (session_id) DO UPDATE \
                 SET generation = excluded.generation, removed_generation = {removed} \
                 RETURNING generation"
            );
            let stmt = Statement::from_sql_and_values(
                backend,
                sql,
                [
                    session.as_str().into(),
                    g.into(),
                    unix_millis(std::time::SystemTime::now()).into(),
                ],
            );
            (previous, query_i64(txn, stmt).await?)
        }
    };
    let generation =
        generation.ok_or_else(|| StoreError::Unexpected("no generation returned".into()))?;
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
    }))
}

/// Takes the session row's lock for a session delete, inside `txn` and before it removes
/// anything. Where no row exists yet, one is created for the delete to remove: an indexer that
/// is creating the session at this moment then commits before the delete (which waits for it)
/// or after it (it waits for the delete), never between the delete's statements.
/// SQLite needs nothing: its first write already holds the database's only write lock.
pub async fn lock_for_delete(
    txn: &DatabaseTransaction,
    session: &SessionId,
) -> Result<(), StoreError> {
    if txn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let sql = "INSERT INTO sessions (session_id, generation) VALUES ($1, 0) \
         ON CONFLICT (session_id) DO UPDATE SET generation = sessions.generation";
    txn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        sql,
        [session.as_str().into()],
    ))
    .await
    .map_err(store_error)?;
    Ok(())
}

async fn query_i64(txn: &DatabaseTransaction, stmt: Statement) -> Result<Option<i64>, StoreError> {
    txn.query_one_raw(stmt)
        .await
        .map_err(store_error)?
        .map(|row| row.try_get_by_index::<i64>(0).map_err(store_error))
        .transpose()
}
