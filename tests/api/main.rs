//! HTTP API tests, one binary: handlers over mocked ports, and the real service on port 0
//! with real adapters and models (SQLite + folder, PostgreSQL + S3), the Pixora client and
//! the DEV accuracy acceptance.

// Test helpers outside #[test] functions unwrap too: a failure is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod accuracy;
mod concurrency;
mod faults;
mod handlers;
mod hostile;
mod in_process;
mod jobs;
mod lifecycle;
mod models;
mod pixora;
mod services;
mod shutdown;
mod support;
mod watches;
mod workflow;
