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

/// How a model file is loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shapes {
    /// As the file declares them.
    Declared,
    /// Input height and width made symbolic ([`crate::onnx_shapes`]).
    RelaxSpatial,
}

/// Where a session's intermediate tensors live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Buffers {
    /// ONNX Runtime's CPU arena, which keeps its high-water mark (grown in powers of two).
    Arena,
    /// Plain allocations per call: for a model whose input size varies from call to call
    /// (the recognizer's batch), where the arena would hold the largest batch's activations
    /// for good. Measured on the camera-size corpus: peak RSS -90 MB, same photos/s.
    PerCall,
}

pub(crate) fn load_session(
    env: &Environment,
    path: &Path,
    intra_threads: usize,
    shapes: Shapes,
    buffers: Buffers,
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
        .map_err(|e| fail(e.to_string()))?
        // Spinning threads burn the cores that the other workers' decoding needs.
        .with_intra_op_spinning(false)
        .map_err(|e| fail(e.to_string()))?
        .with_inter_op_spinning(false)
        .map_err(|e| fail(e.to_string()))?
        // A memory pattern is planned and kept per input shape; ours vary with the photo's
        // aspect ratio, the tiles and the number of faces. Off: -55 MB peak RSS, same speed.
        .with_memory_pattern(false)
        .map_err(|e| fail(e.to_string()))?;
    if buffers == Buffers::PerCall {
        builder = builder
            .with_execution_providers([ort::ep::CPU::default().with_arena_allocator(false).build()])
            .map_err(|e| fail(e.to_string()))?;
    }
    if intra_threads > 0 {
        builder = builder
            .with_intra_threads(intra_threads)
            .map_err(|e| fail(e.to_string()))?;
    }
    match shapes {
        Shapes::Declared => builder.commit_from_file(path),
        Shapes::RelaxSpatial => {
            let bytes = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
            let relaxed = crate::onnx_shapes::relax_spatial_dims(&bytes)
                .map_err(|e| fail(format!("not a readable ONNX model: {e}")))?;
            builder.commit_from_memory(&relaxed)
        }
    }
    .map_err(|e| fail(e.to_string()))
}

/// Runs `f` (an ONNX Runtime call) with subnormal floats flushed to zero on this thread, then
/// restores the thread's FPU mode.
///
/// Why: subnormal activations (smooth, dark or padded inputs) slow CPU kernels down several
/// fold (a 6x slower recognizer was measured on crops from reduced decoding). ONNX Runtime's
/// `set_denormal_as_zero` only reaches its own pool threads and, once per process, the thread
/// that creates the first session; with one intra-op thread per worker, inference runs on our
/// worker threads, so the mode is set here around each call. Only the C++ kernels run in that
/// mode: Rust code never sees it.
pub(crate) fn flush_denormals<T>(f: impl FnOnce() -> T) -> T {
    let saved = fpu::enter_flush_to_zero();
    let out = f();
    fpu::restore(saved);
    out
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod fpu {
    use std::arch::asm;

    /// MXCSR flush-to-zero (bit 15) and denormals-are-zero (bit 6).
    const FTZ_DAZ: u32 = 0x8040;

    pub fn enter_flush_to_zero() -> u32 {
        let mut saved: u32 = 0;
        // SAFETY: stmxcsr stores the 32-bit MXCSR into a valid, writable u32 on our stack.
        unsafe { asm!("stmxcsr [{}]", in(reg) &mut saved, options(nostack, preserves_flags)) };
        let flushed = saved | FTZ_DAZ;
        // SAFETY: ldmxcsr loads a valid MXCSR value (the current one with two mode bits set);
        // the caller restores the saved value before any Rust float code runs again.
        unsafe { asm!("ldmxcsr [{}]", in(reg) &flushed, options(nostack, preserves_flags)) };
        saved
    }

    pub fn restore(saved: u32) {
        // SAFETY: `saved` was read from MXCSR by `enter_flush_to_zero` on this thread.
        unsafe { asm!("ldmxcsr [{}]", in(reg) &saved, options(nostack, preserves_flags)) };
    }
}

#[cfg(target_arch = "aarch64")]
#[allow(unsafe_code)]
mod fpu {
    use std::arch::asm;

    /// FPCR flush-to-zero (bit 24).
    const FZ: u64 = 1 << 24;

    pub fn enter_flush_to_zero() -> u64 {
        let saved: u64;
        // SAFETY: reading FPCR has no side effects.
        unsafe { asm!("mrs {}, fpcr", out(reg) saved, options(nomem, nostack, preserves_flags)) };
        // SAFETY: writes FPCR with one mode bit set; restored by the caller.
        unsafe {
            asm!("msr fpcr, {}", in(reg) saved | FZ, options(nomem, nostack, preserves_flags))
        };
        saved
    }

    pub fn restore(saved: u64) {
        // SAFETY: `saved` was read from FPCR by `enter_flush_to_zero` on this thread.
        unsafe { asm!("msr fpcr, {}", in(reg) saved, options(nomem, nostack, preserves_flags)) };
    }
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
mod fpu {
    pub fn enter_flush_to_zero() {}
    pub fn restore(_: ()) {}
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

/// The size of an NCHW input plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Canvas {
    pub width: usize,
    pub height: usize,
}

impl Canvas {
    pub fn square(side: usize) -> Self {
        Self {
            width: side,
            height: side,
        }
    }

    pub fn area(self) -> usize {
        self.width * self.height
    }
}

/// Writes a `width`x`height` BGR image (tightly packed rows) into the top-left corner of the
/// NCHW planes `out` (len 3 * canvas area); the rest is black after normalisation.
pub(crate) fn pack_nchw(
    bgr: &[u8],
    width: usize,
    height: usize,
    canvas: Canvas,
    norm: PixelNorm,
    out: &mut [f32],
) {
    debug_assert_eq!(out.len(), 3 * canvas.area());
    debug_assert!(width <= canvas.width && height <= canvas.height);
    debug_assert!(bgr.len() >= width * height * 3);
    let plane = canvas.area();
    let stride = canvas.width;
    let black = (0.0 - norm.mean) / norm.std;
    if width < canvas.width || height < canvas.height {
        out.fill(black);
    }
    let scale = 1.0 / norm.std;
    // Source channel feeding output plane 0, 1, 2.
    let order: [usize; 3] = if norm.rgb { [2, 1, 0] } else { [0, 1, 2] };
    let (first, rest) = out.split_at_mut(plane);
    let (second, third) = rest.split_at_mut(plane);
    for y in 0..height {
        let row = &bgr[y * width * 3..(y + 1) * width * 3];
        let span = y * stride..y * stride + width;
        // One pass over the row's pixels writing the three planes (a plane at a time,
        // gathered with stride 3, was 5.9 % of indexing CPU; this is 3.5 %).
        let planes = first[span.clone()]
            .iter_mut()
            .zip(second[span.clone()].iter_mut())
            .zip(third[span].iter_mut());
        for (px, ((a, b), c)) in row.chunks_exact(3).zip(planes) {
            let v = [px[order[0]], px[order[1]], px[order[2]]]
                .map(|v| (f32::from(v) - norm.mean) * scale);
            (*a, *b, *c) = (v[0], v[1], v[2]);
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
            Canvas::square(2),
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
            Canvas::square(2),
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
