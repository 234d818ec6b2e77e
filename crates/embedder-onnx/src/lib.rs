//! placeholder
pub use opencv;
pub use ort;
