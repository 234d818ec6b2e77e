//! FacePass domain: the validated vocabulary (ids, keys, embeddings, faces, jobs, watches),
//! the ports the outside world plugs into (`Embedder`, `VectorStore`, `PhotoSource`,
//! `JobQueue`, `WatchStore`) and the use cases that combine them. Nothing here knows about HTTP, SQL, ONNX or S3.

pub mod calibration;
pub mod embedding;
pub mod face;
pub mod ids;
pub mod jobs;
pub mod lifecycle;
pub mod people;
pub mod ports;
pub mod secret;
pub mod use_cases;
pub mod watches;

pub use calibration::SimilarityCalibration;
pub use embedding::{
    Cosine, CosineError, Embedding, EmbeddingError, EmbeddingSpace, ModelId, Threshold,
};
pub use face::{
    BoundingBox, DetectedFace, FaceAnalysis, FaceQuality, ImageBytes, ImageKind, Landmarks, Pixels,
    PixelsError, Point, StageTimings,
};
pub use ids::{
    FaceId, GuestRef, IdError, PersonId, PersonIdError, PhotoId, PhotoKey, PhotoKeyError, SessionId,
};
pub use lifecycle::{
    Actor, AuditAction, AuditEvent, AuditQuery, ExpiryUpdate, ForgetCounts, SessionDiff,
};
pub use secret::Secret;
