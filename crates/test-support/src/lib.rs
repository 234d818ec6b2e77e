//! Helpers shared by FacePass's tests (a dev-dependency only; never part of the service):
//! the labelled fixtures beside the repository, fresh PostgreSQL databases and S3 buckets that
//! are removed when their guard drops (a failing test included), and the `PhotoSource`
//! contract suite every photo source runs on its real backend.

// Test support: a failed expectation is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

pub mod fixtures;
pub mod photo_source;
pub mod postgres;
pub mod s3;
pub mod webhooks;

/// A value under test and whatever keeps its backend alive (a temporary folder, a database
/// or bucket guard). Fields drop in order: the value first, then its backend, whether the
/// case passed or not.
pub struct Guarded<T> {
    pub value: T,
    pub guard: Box<dyn std::any::Any + Send>,
}

impl<T> Guarded<T> {
    pub fn new(value: T, guard: impl std::any::Any + Send) -> Self {
        Self {
            value,
            guard: Box::new(guard),
        }
    }
}

impl<T> std::fmt::Debug for Guarded<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Guarded")
    }
}

/// Runs `cleanup` to completion on a thread of its own: a guard's `Drop` cannot await, and
/// may run inside a test's runtime or while a failed test unwinds.
pub(crate) fn run_detached<F>(cleanup: F)
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let thread = std::thread::spawn(move || {
        if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            runtime.block_on(cleanup);
        }
    });
    let _ = thread.join();
}
