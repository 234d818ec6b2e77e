//! `cargo xtask fuzz [MAX_EXAMPLES]`: contract fuzzing. Schemathesis (PyPI, in a venv this
//! command creates) generates requests from the committed spec (`openapi/openapi.json`) and
//! sends them to `facepass serve` on a temporary SQLite store, the fixture photos and models,
//! rate limits off. Checks: no server error, status codes, content types, response schemas
//! and headers as the spec declares them, schema-violating requests refused, unsupported
//! methods answered 405. `cargo xtask test` runs it with a small budget; the default here is
//! a longer run.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::run;

const VENV: &str = ".deps/schemathesis-venv";
const PACKAGE: &str = "schemathesis==4.32.5";
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
response_schema_conformance,response_headers_conformance,negative_data_rejection,\
unsupported_method,missing_required_header";
const KEY: &str = "fuzz-key";

pub fn run_fuzz(root: &Path, max_examples: u32) -> anyhow::Result<()> {
    let st = venv(root)?;
    let data = tempdir(root)?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut server = Command::new(root.join("target/release/facepass"))
        .arg("serve")
        .env("FACEPASS__SERVER__PORT", port.to_string())
        .env("FACEPASS__AUTH__API_KEYS", KEY)
        .env("FACEPASS__RATE_LIMIT__ENABLED", "false")
        .env("FACEPASS__STORAGE__URL", data.join("facepass.db"))
        .env(
            "FACEPASS__PHOTOS__ROOT",
            root.join("../shared/fixtures/faces"),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting target/release/facepass serve (build it first)")?;
    let base = format!("http://127.0.0.1:{port}");
    let result = wait_healthy(port).and_then(|()| {
        run(Command::new(&st)
            .arg("run")
            .arg(root.join("openapi/openapi.json"))
            .args(["--url", &base])
            .args(["--checks", CHECKS])
            .args(["--header", &format!("X-API-Key: {KEY}")])
            .args(["--max-examples", &max_examples.to_string()])
            .args(["--seed", "20261123", "--no-color"]))
    });
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&data);
    result
}

/// The venv's `st`, creating the venv when missing.
fn venv(root: &Path) -> anyhow::Result<std::path::PathBuf> {
    let venv = root.join(VENV);
    let st = venv.join("bin/st");
    if !st.exists() {
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
        run(Command::new(venv.join("bin/python")).args([
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            PACKAGE,
        ]))?;
    }
    Ok(st)
}

fn tempdir(root: &Path) -> anyhow::Result<std::path::PathBuf> {
    let dir = root.join(format!("target/fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn wait_healthy(port: u16) -> anyhow::Result<()> {
    use std::io::{Read, Write};
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(120) {
        let answer = std::net::TcpStream::connect(("127.0.0.1", port)).and_then(|mut s| {
            s.write_all(b"GET /api/v2/health HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
            let mut out = String::new();
            s.read_to_string(&mut out)?;
            Ok(out)
        });
        if answer.is_ok_and(|a| a.starts_with("HTTP/1.0 200") || a.starts_with("HTTP/1.1 200")) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    bail!("facepass serve did not become healthy within 120 s")
}
