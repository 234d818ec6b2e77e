//! The ports: what the use cases need from the outside world. Adapter crates implement them;
//! `mocks` (feature) exports mockall doubles for tests of the layers above.

mod embedder;
mod job_queue;
mod photo_source;
mod vector_store;
mod watch_store;

pub use embedder::{EmbedError, Embedder};
pub use job_queue::{Finished, JobQueue};
pub use photo_source::{PhotoSource, PhotoSourceError};
pub use vector_store::{
    DeletedCounts, FaceCursor, PeopleCursor, PeopleQuery, PersonFace, PersonFacesQuery,
    PersonSummary, SessionStats, StoreError, StoreTotals, StoredFace, VectorStore,
};
pub use watch_store::{NoticeRenderer, WatchStore};

#[cfg(any(test, feature = "mocks"))]
pub use embedder::MockEmbedder;
#[cfg(any(test, feature = "mocks"))]
pub use job_queue::MockJobQueue;
#[cfg(any(test, feature = "mocks"))]
pub use photo_source::MockPhotoSource;
#[cfg(any(test, feature = "mocks"))]
pub use vector_store::MockVectorStore;
#[cfg(any(test, feature = "mocks"))]
pub use watch_store::MockWatchStore;
