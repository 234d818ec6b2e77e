//! `facepass` binary: parses the command line and dispatches to a subcommand.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use facepass::cli;
use facepass::settings::Settings;

#[derive(Debug, Parser)]
#[command(
    name = "facepass",
    version,
    about = "Self-hostable face search for event photography"
)]
struct Cli {
    /// Extra TOML config file, read after config/default.toml (also: FACEPASS_CONFIG).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP API (Swagger UI at /docs).
    Serve(cli::serve::ServeArgs),
    /// Index a local folder of photos into a session, with a progress bar.
    IndexDir(cli::index_dir::IndexDirArgs),
    /// Detect and embed the faces of local image files; one JSON line per file.
    Embed(cli::embed::EmbedArgs),
    /// Print the OpenAPI document (no model, database or bucket needed).
    Openapi(cli::openapi::OpenapiArgs),
    /// Apply or revert storage schema migrations (`up`, `down`, `status`).
    Migrate(cli::migrate::MigrateArgs),
    /// Check the configured models against their files (`check`).
    Models(cli::models::ModelsArgs),
    /// Measure the configured recognizer on a labelled folder and print its calibration.
    Calibrate(cli::calibrate::CalibrateArgs),
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,ort=warn,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let settings = Settings::load(cli.config)?;
    match cli.command {
        Command::Serve(args) => cli::serve::run(settings, args),
        Command::Openapi(args) => cli::openapi::run(settings, args),
        Command::IndexDir(args) => cli::index_dir::run(settings, args),
        Command::Embed(args) => cli::embed::run(settings, args),
        Command::Migrate(args) => cli::migrate::run(settings, args),
        Command::Models(args) => cli::models::run(settings, args),
        Command::Calibrate(args) => cli::calibrate::run(settings, args),
    }
}
