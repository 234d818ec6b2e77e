//! The embedder on the real fixture models and photos (`../shared/fixtures`, or
//! `$FACEPASS_FIXTURES`): accuracy on the labelled DEV set, equivalence with the Python
//! reference pipeline, and decoding edge cases.

// Tests: a failed expectation is a failed test; measurements are printed.
#![allow(clippy::print_stdout, clippy::expect_used, clippy::unwrap_used)]

mod accuracy;
mod catalogue;
mod decoding;
mod golden;
mod support;
