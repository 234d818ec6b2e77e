//! The compute floor: ONNX Runtime alone on exactly the detector and recognizer calls a set of
//! photos needs, on as many threads as the pipeline has workers, each with the same session
//! options. No decoding, resizing, packing, output decoding or alignment is timed: this is
//! what the models cost, the throughput FacePass could reach if everything else were free.

use std::sync::Barrier;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use facepass_domain::{EmbeddingSpace, ModelId};

use crate::config::EmbedderConfig;
use crate::detector::Detector;
use crate::pipeline::{FloorWork, Pipeline};
use crate::recognizer::Recognizer;
use crate::runtime;

/// What the floor run measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Floor {
    pub photos: usize,
    pub faces: usize,
    /// Wall time of all model calls over all workers.
    pub elapsed: Duration,
    pub workers: usize,
}

impl Floor {
    pub fn photos_per_second(&self) -> f64 {
        self.photos as f64 / self.elapsed.as_secs_f64()
    }
}

/// Prepares every photo's model inputs (one pipeline, untimed), then times the model calls
/// alone on `config.worker_count()` threads.
pub fn measure(config: &EmbedderConfig, photos: &[Vec<u8>]) -> Result<Floor, String> {
    let space = EmbeddingSpace {
        model: ModelId::parse(config.recognizer.id.clone()).map_err(|e| e.to_string())?,
        dim: config.recognizer.dim,
    };
    let env = runtime::environment(config.onnxruntime.as_deref()).map_err(|e| e.to_string())?;
    let mut pipeline = Pipeline::load(env, config, space.clone()).map_err(|e| e.to_string())?;
    let work: Vec<FloorWork> = photos
        .iter()
        .filter_map(|bytes| pipeline.floor_work(bytes).ok())
        .collect();
    drop(pipeline);
    let workers = config.worker_count();
    let next = AtomicUsize::new(0);
    // Every worker loads its models, then all start together with the clock.
    let start = Barrier::new(workers + 1);
    let elapsed = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let (work, next, start, space) = (&work, &next, &start, space.clone());
                scope.spawn(move || -> Result<(), String> {
                    let fine = config.fine_detector.as_ref().unwrap_or(&config.detector);
                    let models = Detector::load(env, config, &config.detector).and_then(|d| {
                        Ok((
                            d,
                            Detector::load(env, config, fine)?,
                            Recognizer::load(env, config, space)?,
                        ))
                    });
                    start.wait();
                    let (mut detector, mut fine, mut recognizer) =
                        models.map_err(|e| e.to_string())?;
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = work.get(i) else {
                            return Ok(());
                        };
                        for (is_fine, canvas, input) in &item.passes {
                            let model = if *is_fine { &mut fine } else { &mut detector };
                            model
                                .run_prepared(*canvas, input)
                                .map_err(|e| e.to_string())?;
                        }
                        recognizer
                            .run_blank(item.faces)
                            .map_err(|e| e.to_string())?;
                    }
                })
            })
            .collect();
        start.wait();
        let started = Instant::now();
        handles
            .into_iter()
            .map(|h| h.join().map_err(|_| "a floor worker panicked".to_owned())?)
            .collect::<Result<Vec<()>, String>>()
            .map(|_| started.elapsed())
    })?;
    Ok(Floor {
        photos: work.len(),
        faces: work.iter().map(|w| w.faces).sum(),
        elapsed,
        workers,
    })
}
