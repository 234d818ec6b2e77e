//! Command-line subcommands of the `facepass` binary.
// The command line answers on stdout; the service (everything outside `cli`) logs instead.
#![allow(clippy::print_stdout)]

pub mod calibrate;
pub mod embed;
pub mod index_dir;
pub mod migrate;
pub mod models;
pub mod openapi;
pub mod serve;
