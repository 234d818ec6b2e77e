//! A testable startup: `Application::build(settings)` loads the models, opens the stores,
//! binds the listener (port 0 allowed) and exposes the port; `run_until_stopped` serves until
//! the shutdown signal, then drains requests and photos in flight.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use facepass_embedder_onnx::OnnxEmbedder;
use poem::Server;
use poem::listener::TcpAcceptor;

use crate::adapters::{self, Photos, Store};
use crate::api::state::AppState;
use crate::settings::Settings;

/// The state of the running service, with its real adapters.
pub type ServiceState = AppState<OnnxEmbedder, Store, Photos>;

pub struct Application {
    acceptor: TcpAcceptor,
    address: SocketAddr,
    state: Arc<ServiceState>,
    shutdown_timeout: Duration,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("address", &self.address)
            .finish()
    }
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        if settings.auth.api_keys.is_empty() {
            tracing::warn!(
                "NO API KEY CONFIGURED (auth.api_keys / FACEPASS__AUTH__API_KEYS): every \
                 indexing and delete request will be refused with 401 until one is set"
            );
        }
        let embedder_config = settings.models.embedder_config()?;
        let embedder =
            tokio::task::spawn_blocking(move || OnnxEmbedder::start(&embedder_config)).await??;
        let store = adapters::open_store(
            &settings,
            facepass_domain::ports::Embedder::space(&embedder),
        )
        .await?;
        let photos = Photos::open(&settings.photos).await?;
        let store = Arc::new(store);
        let state = Arc::new(AppState::new(
            Arc::new(embedder),
            store.clone(),
            Arc::new(photos),
            store.clone(),
            store,
            &settings,
        )?);
        let listener =
            tokio::net::TcpListener::bind((settings.server.host.as_str(), settings.server.port))
                .await
                .map_err(|e| {
                    anyhow::anyhow!(
                        "cannot listen on {}:{}: {e}",
                        settings.server.host,
                        settings.server.port
                    )
                })?;
        let address = listener.local_addr()?;
        Ok(Self {
            acceptor: TcpAcceptor::from_tokio(listener)?,
            address,
            state,
            shutdown_timeout: settings.server.shutdown_timeout(),
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// Serves until `shutdown` completes. Then: batches start no new photo, the server stops
    /// accepting and waits for requests in flight, and detached indexing work is awaited, all
    /// within `server.shutdown_timeout_secs`.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let state = self.state.clone();
        let sweeper = tokio::spawn({
            let state = state.clone();
            async move {
                let mut tick = tokio::time::interval(Duration::from_secs(60));
                loop {
                    tick.tick().await;
                    state.rate_limits.forget_idle();
                }
            }
        });
        // The retention purge and the people backfill: their state is in the database (each
        // session's expiry, its `grouped` flag), so a restart loses nothing, and replicas split
        // the work (see `VectorStore::purge_expired`, `VectorStore::group_pending`).
        let purger = tokio::spawn({
            let state = state.clone();
            async move {
                let mut tick = tokio::time::interval(state.purge_interval);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tick.tick().await;
                    if let Err(error) = state.purge_expired().await {
                        tracing::warn!(%error, "retention purge failed; retrying at the next interval");
                    }
                    if let Err(error) = state.group_pending().await {
                        tracing::warn!(%error, "grouping sessions indexed before persons failed; retrying at the next interval");
                    }
                }
            }
        });
        crate::jobs::start(&state);
        crate::webhooks::start(&state)?;
        let stopping = state.stopping.clone();
        let signal = async move {
            shutdown.await;
            stopping.store(true, Ordering::SeqCst);
            tracing::info!("shutting down: finishing requests and photos in flight");
        };
        tracing::info!(address = %self.address, docs = %format!("http://{}/docs", self.address), "FacePass listening");
        let served = Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(
                crate::api::routes(state.clone()),
                signal,
                Some(self.shutdown_timeout),
            )
            .await;
        sweeper.abort();
        purger.abort();
        state.tasks.close();
        if tokio::time::timeout(self.shutdown_timeout, state.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!("shutdown timeout: some photos in flight were abandoned");
        }
        tracing::info!("stopped");
        Ok(served?)
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
