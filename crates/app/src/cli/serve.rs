//! `facepass serve`: the HTTP API on the configured adapters.

use crate::settings::Settings;
use crate::startup::{Application, shutdown_signal};

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Port to listen on (overrides server.port; 0 picks a free one).
    #[arg(long)]
    pub port: Option<u16>,
}

pub fn run(mut settings: Settings, args: ServeArgs) -> anyhow::Result<()> {
    if let Some(port) = args.port {
        settings.server.port = port;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let app = Application::build(settings).await?;
        // One line on stdout with the bound address, for scripts that start on port 0.
        println!("listening on http://{}", app.address());
        app.run_until_stopped(shutdown_signal()).await
    })
}
