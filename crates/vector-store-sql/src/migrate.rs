//! A small migration runner over the SQL files in the repository's `migrations/<backend>/`:
//! numbered steps, each with an up and a down script, applied one transaction per step and
//! recorded in `facepass_migrations`. Scripts may use `{{dim}}` and `{{model_id}}`, filled in
//! from the configured recognizer (the vector column's type depends on it).

use facepass_domain::EmbeddingSpace;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement, TransactionTrait};

use crate::syntax::Syntax;

/// One step: `version` orders steps; `up` and `down` undo each other.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub up: &'static str,
    pub down: &'static str,
}

/// The steps of `migrations/<backend>/`, in order: `sql_migrations!("sqlite", 1 "init", ...)`
/// embeds `NNNN_<name>.up.sql` and `.down.sql` of each numbered step.
#[macro_export]
macro_rules! sql_migrations {
    ($backend:literal, $($version:literal $name:literal),+ $(,)?) => {
        &[$($crate::migrate::Migration {
            version: $version,
            name: $name,
            up: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"), "/../../migrations/", $backend, "/000",
                stringify!($version), "_", $name, ".up.sql"
            )),
            down: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"), "/../../migrations/", $backend, "/000",
                stringify!($version), "_", $name, ".down.sql"
            )),
        }),+]
    };
}

const TRACKING: &str = "CREATE TABLE IF NOT EXISTS facepass_migrations (\
     version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)";

fn render(sql: &str, space: &EmbeddingSpace) -> String {
    // Model ids are validated to [A-Za-z0-9_.:@-]: safe inside a quoted SQL literal.
    sql.replace("{{dim}}", &space.dim.to_string())
        .replace("{{model_id}}", space.model.as_str())
}

/// Versions applied so far, ascending.
pub async fn applied(db: &DatabaseConnection) -> Result<Vec<i64>, DbErr> {
    db.execute_unprepared(TRACKING).await?;
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT version FROM facepass_migrations ORDER BY version",
        ))
        .await?;
    rows.iter().map(|r| r.try_get_by_index::<i64>(0)).collect()
}

/// Applies every pending step in order; returns the versions applied now. Safe to run from
/// several processes at once (replicas starting together): each step's transaction first takes
/// the backend's migration lock, then re-checks whether the step is applied.
pub async fn up(
    db: &DatabaseConnection,
    sql: &dyn Syntax,
    steps: &[Migration],
    space: &EmbeddingSpace,
) -> Result<Vec<i64>, DbErr> {
    let mut now = Vec::new();
    for step in steps {
        let txn = db.begin().await?;
        if let Some(lock) = sql.migration_lock() {
            txn.execute_unprepared(lock).await?;
        }
        txn.execute_unprepared(TRACKING).await?;
        let done = txn
            .query_one_raw(sql.statement(
                "SELECT 1 FROM facepass_migrations WHERE version = $1",
                vec![step.version.into()],
            ))
            .await?
            .is_some();
        if done {
            txn.commit().await?;
            continue;
        }
        tracing::info!(
            version = step.version,
            name = step.name,
            "applying migration"
        );
        txn.execute_unprepared(&render(step.up, space)).await?;
        txn.execute_raw(sql.statement(
            "INSERT INTO facepass_migrations (version, name) VALUES ($1, $2)",
            vec![step.version.into(), step.name.into()],
        ))
        .await?;
        txn.commit().await?;
        now.push(step.version);
    }
    Ok(now)
}

/// Reverts the latest applied step; returns its version, or `None` when nothing is applied.
pub async fn down(
    db: &DatabaseConnection,
    sql: &dyn Syntax,
    steps: &[Migration],
    space: &EmbeddingSpace,
) -> Result<Option<i64>, DbErr> {
    let Some(&latest) = applied(db).await?.last() else {
        return Ok(None);
    };
    let step = steps.iter().find(|s| s.version == latest).ok_or_else(|| {
        DbErr::Custom(format!(
            "applied migration {latest} is unknown to this build"
        ))
    })?;
    tracing::info!(
        version = step.version,
        name = step.name,
        "reverting migration"
    );
    let txn = db.begin().await?;
    txn.execute_unprepared(&render(step.down, space)).await?;
    txn.execute_raw(sql.statement(
        "DELETE FROM facepass_migrations WHERE version = $1",
        vec![latest.into()],
    ))
    .await?;
    txn.commit().await?;
    Ok(Some(latest))
}
