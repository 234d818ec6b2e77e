//! Face recognition: aligned 112x112 crops in, L2-normalised embeddings out, batched when the
//! model has a dynamic batch dimension.

use facepass_domain::ports::EmbedError;
use facepass_domain::{Embedding, EmbeddingSpace};
use opencv::core::Mat;
use opencv::prelude::*;
use ort::environment::Environment;
use ort::session::Session;
use ort::value::{TensorRef, ValueType};

use crate::InitError;
use crate::align::CROP;
use crate::config::EmbedderConfig;
use crate::decode::cv_err;
use crate::runtime::{
    Buffers, Canvas, PixelNorm, Shapes, flush_denormals, load_session, ort_err, pack_nchw,
};

pub(crate) struct Recognizer {
    session: Session,
    space: EmbeddingSpace,
    norm: PixelNorm,
    max_batch: usize,
    input: Vec<f32>,
}

impl Recognizer {
    pub fn load(
        env: &Environment,
        config: &EmbedderConfig,
        space: EmbeddingSpace,
    ) -> Result<Self, InitError> {
        let rec = &config.recognizer;
        let path = config.model_path(&rec.file);
        let session = load_session(
            env,
            &path,
            config.intra_threads,
            Shapes::Declared,
            Buffers::PerCall,
        )?;
        let bad = |reason: String| InitError::Model {
            path: path.clone(),
            reason,
        };
        let input = session
            .inputs()
            .first()
            .ok_or_else(|| bad("model has no input".into()))?;
        let dims: Vec<i64> = match input.dtype() {
            ValueType::Tensor { shape, .. } => shape.iter().copied().collect(),
            other => return Err(bad(format!("input is {other:?}, expected a tensor"))),
        };
        if dims.len() != 4 || dims[1] != 3 || dims[2] != CROP as i64 || dims[3] != CROP as i64 {
            return Err(bad(format!(
                "input shape {dims:?}, expected [N, 3, 112, 112]"
            )));
        }
        let max_batch = if dims[0] < 0 { rec.max_batch.max(1) } else { 1 };
        Ok(Self {
            session,
            space,
            norm: PixelNorm {
                rgb: true,
                mean: rec.mean,
                std: rec.std,
            },
            max_batch,
            input: Vec::new(),
        })
    }

    /// Runs the model alone on `faces` mid-grey crops, batched as `embed` batches them (the
    /// compute floor: no alignment, packing or normalisation).
    pub fn run_blank(&mut self, faces: usize) -> Result<(), EmbedError> {
        let plane = 3 * CROP * CROP;
        let mut left = faces;
        while left > 0 {
            let n = left.min(self.max_batch);
            self.input.resize(plane * n, 0.0);
            self.input.fill(0.0);
            let tensor = TensorRef::from_array_view(([n, 3, CROP, CROP], self.input.as_slice()))
                .map_err(ort_err)?;
            flush_denormals(|| self.session.run(ort::inputs![tensor])).map_err(ort_err)?;
            left -= n;
        }
        Ok(())
    }

    /// Embeds aligned crops, `max_batch` at a time, preserving order.
    pub fn embed(&mut self, crops: &[Mat]) -> Result<Vec<Embedding>, EmbedError> {
        let plane = 3 * CROP * CROP;
        let mut out = Vec::with_capacity(crops.len());
        for chunk in crops.chunks(self.max_batch) {
            self.input.resize(plane * chunk.len(), 0.0);
            for (crop, slot) in chunk.iter().zip(self.input.chunks_mut(plane)) {
                pack_nchw(
                    crop.data_bytes().map_err(cv_err)?,
                    CROP,
                    CROP,
                    Canvas::square(CROP),
                    self.norm,
                    slot,
                );
            }
            let tensor =
                TensorRef::from_array_view(([chunk.len(), 3, CROP, CROP], self.input.as_slice()))
                    .map_err(ort_err)?;
            let outputs =
                flush_denormals(|| self.session.run(ort::inputs![tensor])).map_err(ort_err)?;
            let (_, values) = outputs[0].try_extract_tensor::<f32>().map_err(ort_err)?;
            if values.len() != chunk.len() * self.space.dim {
                return Err(EmbedError::Unexpected(format!(
                    "recognizer returned {} values for {} faces of dimension {}",
                    values.len(),
                    chunk.len(),
                    self.space.dim
                )));
            }
            for raw in values.chunks(self.space.dim) {
                out.push(
                    Embedding::normalise(&self.space, raw.to_vec())
                        .map_err(|e| EmbedError::Unexpected(format!("recognizer output: {e}")))?,
                );
            }
        }
        Ok(out)
    }
}
