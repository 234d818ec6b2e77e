//! The use cases, each a struct generic over the ports it needs. The app wires them once.

mod check_health;
mod delete_photo;
mod delete_session;
mod forget_guest;
mod index_batch;
mod index_photo;
mod list_people;
mod search_by_selfie;
mod session_lifecycle;
mod session_status;
mod watch_guest;

pub use check_health::{CheckHealth, HealthReport};
pub use delete_photo::DeletePhoto;
pub use delete_session::DeleteSession;
pub use forget_guest::{ForgetGuest, ForgetRequest};
pub use index_batch::{BatchItem, BatchOutcome, BatchReport, IndexBatch};
pub use index_photo::{IndexPhoto, IndexPhotoError, IndexPhotoRequest, IndexStatus, IndexedPhoto};
pub use list_people::{ListPeople, PeoplePage, PersonPage};
pub use search_by_selfie::{
    MAX_SELFIES, PoorSelfieReason, QualityThresholds, QueryFace, SearchBySelfie, SearchLimit,
    SearchLimitError, SearchSelfieError, SelfieMatch, SelfiePolicy, SelfieSearch,
    SelfieSearchRequest,
};
pub use session_lifecycle::{AuditPage, MAX_DIFF_IDS, SessionLifecycle};
pub use session_status::SessionStatus;
pub use watch_guest::{
    CreatedWatch, MatchRules, WatchError, WatchGuest, WatchMatcher, WatchRequest,
};

#[cfg(test)]
pub(crate) mod test_support {
    use crate::embedding::{Embedding, EmbeddingSpace, ModelId};
    use crate::face::{BoundingBox, DetectedFace, FaceAnalysis, FaceQuality, Point, StageTimings};

    pub fn space() -> EmbeddingSpace {
        EmbeddingSpace {
            model: ModelId::parse("test-model").unwrap(),
            dim: 4,
        }
    }

    /// A face of the given size whose embedding points along axis `axis`.
    pub fn face(width: f32, axis: usize) -> DetectedFace {
        let mut v = vec![0.0; 4];
        v[axis] = 1.0;
        DetectedFace {
            bbox: BoundingBox {
                x: 0.0,
                y: 0.0,
                width,
                height: width,
            },
            landmarks: [Point { x: 0.0, y: 0.0 }; 5],
            det_score: 0.9,
            embedding: Embedding::normalise(&space(), v).unwrap(),
            quality: good_quality(),
        }
    }

    /// A quality no default threshold objects to.
    pub fn good_quality() -> FaceQuality {
        FaceQuality {
            face_px: 200.0,
            sharpness: 300.0,
            brightness: 120.0,
            pose: 5.0,
        }
    }

    pub fn analysis(faces: Vec<DetectedFace>) -> FaceAnalysis {
        FaceAnalysis {
            width: 640,
            height: 480,
            faces,
            timings: StageTimings::default(),
        }
    }
}
