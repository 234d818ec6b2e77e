//! `Embedder` adapter: libjpeg/OpenCV decoding, OpenCV alignment, ONNX Runtime detection (SCRFD, YuNet)
//! and recognition. Inference runs on a bounded pool of worker threads, each owning its own
//! ONNX sessions; async callers wait on a channel and never block the executor.

mod align;
pub mod config;
mod decode;
mod detector;
pub mod floor;
pub mod models;
pub mod onnx_shapes;
mod pipeline;
mod quality;
mod recognizer;
mod runtime;

use std::path::PathBuf;
use std::thread::JoinHandle;

use async_trait::async_trait;
use crossbeam_channel::{Sender, TrySendError};
use facepass_domain::ports::{EmbedError, Embedder};
use facepass_domain::{EmbeddingSpace, FaceAnalysis, ImageBytes, ImageKind, ModelId};
use tokio::sync::oneshot;

pub use config::{
    DetectorConfig, DetectorEntry, DetectorKind, EmbedderConfig, RecognizerConfig, RecognizerEntry,
};
pub use models::Catalogue;

/// Why the embedder could not start.
#[derive(Debug, Clone, thiserror::Error)]
pub enum InitError {
    #[error("ONNX Runtime: {0}")]
    Runtime(String),
    #[error("model file {0} does not exist (see models.dir in the README)")]
    ModelMissing(PathBuf),
    #[error("model {path}: {reason}")]
    Model { path: PathBuf, reason: String },
    #[error("invalid embedder configuration: {0}")]
    Config(String),
}

struct Job {
    image: ImageBytes,
    kind: ImageKind,
    reply: oneshot::Sender<Result<FaceAnalysis, EmbedError>>,
}

/// The ONNX face pipeline behind the [`Embedder`] port.
pub struct OnnxEmbedder {
    jobs: Option<Sender<Job>>,
    workers: Vec<JoinHandle<()>>,
    space: EmbeddingSpace,
}

impl std::fmt::Debug for OnnxEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxEmbedder")
            .field("space", &self.space)
            .field("workers", &self.workers.len())
            .finish()
    }
}

impl OnnxEmbedder {
    /// Loads the models on `config.worker_count()` threads; returns once all are ready, or the first
    /// error.
    pub fn start(config: &EmbedderConfig) -> Result<Self, InitError> {
        let model = ModelId::parse(config.recognizer.id.clone())
            .map_err(|e| InitError::Config(e.to_string()))?;
        let space = EmbeddingSpace {
            model,
            dim: config.recognizer.dim,
        };
        let env = runtime::environment(config.onnxruntime.as_deref())?;
        let (jobs, queue) = crossbeam_channel::bounded::<Job>(config.queue.max(1));
        let mut workers = Vec::new();
        for index in 0..config.worker_count() {
            let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel(1);
            let (queue, config, space) = (queue.clone(), config.clone(), space.clone());
            let handle = std::thread::Builder::new()
                .name(format!("facepass-infer-{index}"))
                .spawn(move || {
                    let mut pipeline = match pipeline::Pipeline::load(env, &config, space) {
                        Ok(p) => {
                            let _ = ready_tx.send(Ok(()));
                            p
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    for job in queue {
                        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            pipeline.analyze(job.image.as_slice(), job.kind)
                        }))
                        .unwrap_or_else(|_| {
                            Err(EmbedError::Unexpected("the face pipeline panicked".into()))
                        });
                        // The caller may have gone away (request cancelled): nothing to do.
                        let _ = job.reply.send(result);
                    }
                })
                .map_err(|e| {
                    InitError::Runtime(format!("cannot spawn an inference thread: {e}"))
                })?;
            workers.push(handle);
            ready_rx
                .recv()
                .map_err(|_| InitError::Runtime("inference thread died while loading".into()))??;
        }
        Ok(Self {
            jobs: Some(jobs),
            workers,
            space,
        })
    }

    /// Blocking variant of [`Embedder::analyze`] for command-line use: waits for a queue slot
    /// instead of answering `Overloaded`. Must not be called from an async context.
    pub fn analyze_blocking(
        &self,
        image: ImageBytes,
        kind: ImageKind,
    ) -> Result<FaceAnalysis, EmbedError> {
        self.submit_blocking(image, kind)?
            .blocking_recv()
            .map_err(|_| worker_gone())?
    }

    /// Queues an image (waiting for room) and returns the receiver of its result, so callers
    /// can keep several images in flight.
    pub fn submit_blocking(
        &self,
        image: ImageBytes,
        kind: ImageKind,
    ) -> Result<oneshot::Receiver<Result<FaceAnalysis, EmbedError>>, EmbedError> {
        let (reply, rx) = oneshot::channel();
        self.sender()?
            .send(Job { image, kind, reply })
            .map_err(|_| worker_gone())?;
        Ok(rx)
    }

    fn sender(&self) -> Result<&Sender<Job>, EmbedError> {
        self.jobs.as_ref().ok_or_else(worker_gone)
    }
}

fn worker_gone() -> EmbedError {
    EmbedError::Unavailable("the inference workers have stopped".into())
}

#[async_trait]
impl Embedder for OnnxEmbedder {
    fn space(&self) -> EmbeddingSpace {
        self.space.clone()
    }

    async fn analyze(
        &self,
        image: ImageBytes,
        kind: ImageKind,
    ) -> Result<FaceAnalysis, EmbedError> {
        let (reply, rx) = oneshot::channel();
        match self.sender()?.try_send(Job { image, kind, reply }) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(EmbedError::Overloaded),
            Err(TrySendError::Disconnected(_)) => return Err(worker_gone()),
        }
        rx.await.map_err(|_| worker_gone())?
    }

    /// Ready while the queue is open and every worker thread (which loaded the models at
    /// start) is still running.
    async fn health(&self) -> Result<(), EmbedError> {
        self.sender()?;
        if self.workers.iter().any(JoinHandle::is_finished) {
            return Err(EmbedError::Unavailable(
                "an inference worker has stopped".into(),
            ));
        }
        Ok(())
    }
}

impl Drop for OnnxEmbedder {
    /// Closes the queue, lets the workers finish what is queued, and joins them.
    fn drop(&mut self) {
        self.jobs.take();
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}
