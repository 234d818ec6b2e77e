//! The VectorStore contract on PostgreSQL + pgvector: each test gets a fresh database on the
//! server at `FACEPASS_TEST_DATABASE_URL` (default: the dev services of `cargo xtask services
//! up`), and more that only a server can show (a connection killed mid-batch).

// Test helpers outside #[test] functions unwrap too: a failure is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;

use facepass_store_contract::vector_store_contract;

use support::fresh;

vector_store_contract!(fresh);

mod durability;
mod migrations;
mod replicas;
