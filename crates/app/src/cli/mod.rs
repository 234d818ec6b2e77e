//! Command-line subcommands of the `facepass` binary.

pub mod embed;
pub mod index_dir;
pub mod migrate;
pub mod openapi;
pub mod serve;
