//! The FacePass application: configuration, wiring of adapters into the use cases, the
//! command-line interface (and, soon, the HTTP API).

pub mod cli;
pub mod settings;
