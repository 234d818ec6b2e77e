//! Port: turn an encoded image into faces with embeddings.

use async_trait::async_trait;

use crate::embedding::EmbeddingSpace;
use crate::face::{FaceAnalysis, ImageBytes, ImageKind};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EmbedError {
    /// The bytes are not a decodable JPEG, PNG or WebP image.
    #[error("not a decodable image: {0}")]
    InvalidImage(String),
    /// The image ends before its data does (an interrupted upload or copy); nothing of it
    /// was used.
    #[error("the image is truncated: {0}")]
    TruncatedImage(String),
    /// The image declares more pixels than allowed (decompression-bomb guard); nothing was
    /// decoded.
    #[error("image is {width}x{height} = {pixels} pixels, the limit is {max_pixels}")]
    ImageTooLarge {
        width: u64,
        height: u64,
        pixels: u64,
        max_pixels: u64,
    },
    /// Every inference worker is busy and the queue is full; retry later.
    #[error("the face pipeline is overloaded")]
    Overloaded,
    /// The models are not loaded or the inference runtime is down.
    #[error("the face pipeline is unavailable: {0}")]
    Unavailable(String),
    #[error("face pipeline failure: {0}")]
    Unexpected(String),
}

/// Detects every face of an image and embeds each one.
///
/// Contract:
/// - every returned embedding is L2-normalised and belongs to [`Embedder::space`];
/// - boxes and landmarks are in pixels of the orientation-corrected original image, whatever
///   resolution the adapter worked at internally; `width`/`height` are that image's size;
/// - an image without faces is `Ok` with an empty `faces` list, never an error;
/// - undecodable bytes are [`EmbedError::InvalidImage`], bytes cut off before the image's
///   end [`EmbedError::TruncatedImage`] (never decoded with the rest filled in), oversized images
///   [`EmbedError::ImageTooLarge`] (checked before decoding pixels);
/// - faces filling the whole frame (a tight selfie) are still found;
/// - for an [`ImageKind::Selfie`], the largest face and every face whose size competes with
///   it are found; much smaller background faces may be left out;
/// - the call never blocks the async executor: CPU work runs elsewhere.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Embedder: Send + Sync + 'static {
    /// The embedding space of everything this embedder returns.
    fn space(&self) -> EmbeddingSpace;

    /// Every face of the image: box, landmarks, score, embedding and quality.
    ///
    /// # Errors
    /// [`EmbedError::InvalidImage`] / [`EmbedError::TruncatedImage`] for bytes that are not a
    /// whole image of a supported format, [`EmbedError::ImageTooLarge`] over the pixel limit,
    /// [`EmbedError::Overloaded`] when the inference queue is full (retry later),
    /// [`EmbedError::Unavailable`] when the models cannot run, [`EmbedError::Unexpected`] for a
    /// failure of the pipeline itself.
    async fn analyze(&self, image: ImageBytes, kind: ImageKind)
    -> Result<FaceAnalysis, EmbedError>;

    /// Readiness: `Ok` while the models are loaded and inference can run. Cheap: runs no
    /// inference.
    ///
    /// # Errors
    /// [`EmbedError::Unavailable`] when inference cannot run.
    async fn health(&self) -> Result<(), EmbedError>;
}
