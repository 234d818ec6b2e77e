//! `facepass migrate up|down|status`: the storage schema, against `DATABASE_URL` when set,
//! else `storage.url`. The vector dimension comes from `models.recognizer`.

use std::path::PathBuf;

use facepass_vector_store_sql::{Syntax, migrate};

use crate::settings::{Settings, StorageBackend};

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Direction {
    /// Apply every pending step.
    Up,
    /// Revert the latest applied step.
    Down,
    /// List the applied steps.
    Status,
}

#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    #[arg(value_enum, default_value = "up")]
    pub direction: Direction,
    /// Database URL (overrides DATABASE_URL and storage.url).
    #[arg(long)]
    pub url: Option<String>,
}

/// Which backend a URL names: `postgres://`/`postgresql://`, else a SQLite path.
pub fn backend_of(url: &str) -> StorageBackend {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        StorageBackend::Postgres
    } else {
        StorageBackend::Sqlite
    }
}

/// A SQLite location without its optional `sqlite://` scheme.
/// The file of a SQLite `storage.url`: a path, or sqlx's URL forms `sqlite://PATH`,
/// `sqlite:PATH` (both with `?` parameters, which FacePass sets itself: WAL, create the
/// file). `sqlite:///abs/f.db` is the absolute path `/abs/f.db`.
pub fn sqlite_path(url: &str) -> PathBuf {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .map_or(url, |rest| {
            rest.split_once('?').map_or(rest, |(path, _)| path)
        });
    PathBuf::from(path)
}

pub fn run(settings: Settings, args: MigrateArgs) -> anyhow::Result<()> {
    let space = settings.models.space()?;
    let (url, backend) = match args.url.or_else(|| std::env::var("DATABASE_URL").ok()) {
        Some(url) => {
            let backend = backend_of(&url);
            (url, backend)
        }
        None => (
            settings.storage.url.expose().to_owned(),
            settings.storage.backend,
        ),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let (db, steps, syntax): (_, _, &dyn Syntax) = match backend {
            StorageBackend::Postgres => (
                facepass_vector_store_pgvector::connect(&url, &Default::default()).await?,
                facepass_vector_store_pgvector::MIGRATIONS,
                &facepass_vector_store_pgvector::PgDialect,
            ),
            StorageBackend::Sqlite => (
                facepass_vector_store_sqlite::connect(&sqlite_path(&url)).await?,
                facepass_vector_store_sqlite::MIGRATIONS,
                &facepass_vector_store_sqlite::SqliteDialect,
            ),
        };
        match args.direction {
            Direction::Up => {
                let applied = migrate::up(&db, syntax, steps, &space).await?;
                println!("applied {applied:?} ({} {}-d)", space.model, space.dim);
            }
            Direction::Down => match migrate::down(&db, syntax, steps, &space).await? {
                Some(v) => println!("reverted {v}"),
                None => println!("nothing to revert"),
            },
            Direction::Status => {
                let applied = migrate::applied(&db).await?;
                let pending: Vec<i64> = steps
                    .iter()
                    .map(|s| s.version)
                    .filter(|v| !applied.contains(v))
                    .collect();
                println!("applied {applied:?}, pending {pending:?}");
            }
        }
        anyhow::Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_and_paths_name_the_same_files() {
        for (url, path) in [
            ("var/facepass.db", "var/facepass.db"),
            ("/data/f.db", "/data/f.db"),
            ("sqlite://var/f.db", "var/f.db"),
            ("sqlite:///path/f.db?mode=rwc", "/path/f.db"),
            ("sqlite:var/f.db?mode=rwc&cache=shared", "var/f.db"),
        ] {
            assert_eq!(sqlite_path(url), PathBuf::from(path), "{url}");
        }
    }
}
