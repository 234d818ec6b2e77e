//! End-to-end tests of the `facepass` binary's command line, run from the repository root
//! exactly as a user would.

mod embed;
