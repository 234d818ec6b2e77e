//! End-to-end tests of the `facepass` binary's command line, run from the repository root
//! exactly as a user would.

// Test helpers outside #[test] functions unwrap too: a failure is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod embed;
mod index_dir;
mod jobs;
mod memory;
mod models;
mod serve;

fn repo_root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Starts `facepass serve --port 0` from the repository root with `env` set (stdout piped for
/// its first line, stderr as `stderr` says) and returns it with its base URL.
fn spawn_serve(
    env: &[(&str, &std::ffi::OsStr)],
    stderr: std::process::Stdio,
) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_facepass"));
    command
        .current_dir(repo_root())
        .args(["serve", "--port", "0"])
        .env_remove("FACEPASS__AUTH__API_KEYS")
        .stdout(std::process::Stdio::piped())
        .stderr(stderr);
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("facepass starts");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("a first line");
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    (child, base)
}
