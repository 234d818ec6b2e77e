//! Evaluation sets generated from the labelled fixtures, and the reports over them.
//!
//! - [`scenes`]: camera-size (6000x4000) scenes with real fixture faces pasted at known
//!   heights from 24 to 256 px, plus the no-face fixtures upscaled as negatives.
//! - [`small_faces`]: recall per face-height bucket, false faces per photo, whether the faces
//!   found are still recognisable, and the cost per photo, for one embedder configuration.
//! - [`selfies`]: DEV photos degraded as guests' selfies go wrong, searched against a
//!   session of every DEV photo: recall, precision, refusals and silent misses per kind.
//! - [`scale`]: LFW photos indexed as one session of thousands of faces, one search per
//!   person: recall, wrong photos per search, the share of guests shown a stranger, and the
//!   recognizer's impostor tail.
//!
//! Everything is deterministic (seeded); nothing generated is committed.

pub mod fixtures;
pub mod rng;
pub mod scale;
pub mod scenes;
pub mod selfies;
pub mod small_faces;
pub mod watches;
