//! The embedder on the real fixture models and photos (`../shared/fixtures`, or
//! `$FACEPASS_FIXTURES`): accuracy on the labelled DEV set, equivalence with the Python
//! reference pipeline, and decoding edge cases.

mod accuracy;
mod decoding;
mod golden;
mod support;
