//! ONNX Runtime plumbing: the process-wide environment, session loading, and packing
//! 8-bit BGR pixels into normalised NCHW float tensors.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ort::environment::Environment;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;

use crate::InitError;

/// Where `scripts/bootstrap.sh` puts the library, relative to the repository root.
const BOOTSTRAPPED: &str = ".deps/onnxruntime/libonnxruntime.so.1.31.1";

/// ONNX Runtime allows one environment per process; the first embedder creates it.
static ENVIRONMENT: OnceLock<Result<Environment, String>> = OnceLock::new();

pub(crate) fn environment(library: Option<&Path>) -> Result<&'static Environment, InitError> {
    ENVIRONMENT
        .get_or_init(|| {
            let path: PathBuf = library
                .map(Path::to_path_buf)
                .or_else(|| std::env::var_os("ORT_DYLIB_PATH").map(PathBuf::from))
                .or_else(|| Some(PathBuf::from(BOOTSTRAPPED)).filter(|p| p.is_file()))
                .ok_or_else(|| {
                    "no ONNX Runtime library configured: set models.onnxruntime or ORT_DYLIB_PATH \
                     (scripts/bootstrap.sh fetches it into .deps/onnxruntime/)"
                        .to_owned()
                })?;
            if !path.is_file() {
                return Err(format!(
                    "ONNX Runtime library {} does not exist",
                    path.display()
                ));
            }
            ort::init_from(&path)
                .map_err(|e| format!("cannot load ONNX Runtime from {}: {e}", path.display()))?
                .with_name("facepass")
                .with_telemetry(false)
                .build()
                .map_err(|e| format!("cannot create the ONNX Runtime environment: {e}"))
        })
        .as_ref()
        .map_err(|e| InitError::Runtime(e.clone()))
}

pub(crate) fn load_session(
    env: &Environment,
    path: &Path,
    intra_threads: usize,
) -> Result<Session, InitError> {
    if !path.is_file() {
        return Err(InitError::ModelMissing(path.to_path_buf()));
    }
    let fail = |e: String| InitError::Model {
        path: path.to_path_buf(),
        reason: e,
    };
    let mut builder = Session::builder(env)
        .map_err(|e| fail(e.to_string()))?
        .with_optimization_level(GraphOptimizationLevel::All)
        .map_err(|e| fail(e.to_string()))?
        // Subnormal activations (smooth, dark or padded inputs) can slow CPU kernels several
        // fold; flushing them to zero changes outputs by far less than float noise.
        .with_flush_to_zero()
        .map_err(|e| fail(e.to_string()))?;
    if intra_threads > 0 {
        builder = builder
            .with_intra_threads(intra_threads)
            .map_err(|e| fail(e.to_string()))?;
    }
    builder
        .commit_from_file(path)
        .map_err(|e| fail(e.to_string()))
}

pub(crate) fn ort_err(e: ort::Error) -> facepass_domain::ports::EmbedError {
    facepass_domain::ports::EmbedError::Unexpected(format!("ONNX Runtime: {e}"))
}

/// How to turn 8-bit BGR pixels into a model input.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PixelNorm {
    /// Feed channels as R, G, B (true) or B, G, R (false).
    pub rgb: bool,
    pub mean: f32,
    pub std: f32,
}

/// Writes a `width`x`height` BGR image (tightly packed rows) into the top-left corner of a
/// `side`x`side` NCHW plane set `out` (len 3*side*side); the rest is black after
/// normalisation.
pub(crate) fn pack_nchw(
    bgr: &[u8],
    width: usize,
    height: usize,
    side: usize,
    norm: PixelNorm,
    out: &mut [f32],
) {
    debug_assert_eq!(out.len(), 3 * side * side);
    debug_assert!(width <= side && height <= side && bgr.len() >= width * height * 3);
    let plane = side * side;
    let black = (0.0 - norm.mean) / norm.std;
    if width < side || height < side {
        out.fill(black);
    }
    let scale = 1.0 / norm.std;
    // Source channel feeding output plane 0, 1, 2.
    let order: [usize; 3] = if norm.rgb { [2, 1, 0] } else { [0, 1, 2] };
    for y in 0..height {
        let row = &bgr[y * width * 3..(y + 1) * width * 3];
        for (c, &src) in order.iter().enumerate() {
            let dst = &mut out[c * plane + y * side..c * plane + y * side + width];
            for (x, d) in dst.iter_mut().enumerate() {
                *d = (f32::from(row[x * 3 + src]) - norm.mean) * scale;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_swaps_channels_normalises_and_pads_black() {
        // One pixel, B=10 G=20 R=30, in a 2x2 canvas.
        let mut out = vec![0.0; 12];
        pack_nchw(
            &[10, 20, 30],
            1,
            1,
            2,
            PixelNorm {
                rgb: true,
                mean: 0.0,
                std: 1.0,
            },
            &mut out,
        );
        assert_eq!(&out[0..4], &[30.0, 0.0, 0.0, 0.0]);
        assert_eq!(&out[4..8], &[20.0, 0.0, 0.0, 0.0]);
        assert_eq!(&out[8..12], &[10.0, 0.0, 0.0, 0.0]);
        pack_nchw(
            &[10, 20, 30],
            1,
            1,
            2,
            PixelNorm {
                rgb: false,
                mean: 127.5,
                std: 128.0,
            },
            &mut out,
        );
        assert_eq!(out[0], (10.0 - 127.5) / 128.0);
        assert_eq!(out[1], -127.5 / 128.0);
    }
}
