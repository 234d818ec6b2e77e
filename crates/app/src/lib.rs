//! The FacePass application: configuration, the adapters chosen by it, the HTTP API
//! (poem-openapi) over the domain's use cases, and the command-line interface.

pub mod adapters;
pub mod api;
pub mod cli;
pub mod embedder;
pub mod jobs;
pub mod metrics;
pub mod process;
pub mod settings;
pub mod startup;
pub mod webhooks;
pub mod wiring;
