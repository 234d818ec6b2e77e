//! End-to-end tests of the `facepass` binary's command line, run from the repository root
//! exactly as a user would.

// Test helpers outside #[test] functions unwrap too: a failure is a failed test.
#![allow(clippy::unwrap_used)]

mod embed;
mod memory;
mod serve;

fn repo_root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}
