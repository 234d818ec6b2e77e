//! `facepass migrate up|down|status`: the storage schema, against `DATABASE_URL` when set,
//! else `storage.url`. The vector dimension comes from `models.recognizer`.

use facepass_vector_store_sql::{Syntax, migrate};

use crate::settings::{Database, Settings};

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

pub fn run(settings: Settings, args: MigrateArgs) -> anyhow::Result<()> {
    let space = settings.models.space()?;
    let database = match args.url.or_else(|| std::env::var("DATABASE_URL").ok()) {
        Some(url) => Database::from_url(&url),
        None => settings.storage.database,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let (db, steps, syntax): (_, _, &dyn Syntax) = match &database {
            Database::Postgres { url, .. } => (
                facepass_vector_store_pgvector::connect(url.expose(), &Default::default()).await?,
                facepass_vector_store_pgvector::MIGRATIONS,
                &facepass_vector_store_pgvector::PgDialect,
            ),
            Database::Sqlite { path } => (
                facepass_vector_store_sqlite::connect(path).await?,
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
