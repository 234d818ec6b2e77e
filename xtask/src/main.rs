//! Project workflows, run as `cargo xtask <task>` (see the README).
//!
//! - `serve`: bootstrap the machine, then `facepass serve` on the embedded defaults.
//! - `test`: bootstrap the machine, start the dev services, then fmt check, clippy, and the
//!   whole test suite: the same command on a laptop and in CI.
//! - `migrate up|down|status`: the storage schema, through `facepass migrate`.
//! - `services up|down|env|status`: local PostgreSQL+pgvector and S3 (scripts/services.sh).
//! - `bench`: indexing throughput of FacePass, InsightFace (the anchor) and the compute floor
//!   on a generated camera-size corpus (see `bench.rs`).
//! - `fuzz [MAX_EXAMPLES]`: schemathesis against the running service and the committed spec
//!   (see `fuzz.rs`); `test` runs it with a small budget.
//! - `tidy`: the rules the compiler does not check (domain dependency allow-list, module
//!   docs, version pins from `versions.env`; see `tidy.rs`); `test` runs it.
//! - `codegen [--check]`: the OpenAPI document (`openapi/`) and the Python client generated
//!   from it (`clients/python/`); `--check` fails when either is stale.

// A developer tool: it reports on stdout and stops on what it cannot do.
#![allow(clippy::print_stdout, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

mod bench;
mod codegen;
mod fuzz;
mod tidy;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = project_root();
    std::env::set_current_dir(&root)?;
    match args.first().map(String::as_str) {
        Some("test") => test(&root),
        Some("bootstrap") => bootstrap(&root),
        Some("serve") => {
            bootstrap(&root)?;
            run(facepass("serve").args(&args[1..]))
        }
        Some("lint-docker") => lint_docker(),
        Some("tidy") => tidy::run(&root),
        Some("bench") => {
            bootstrap(&root)?;
            bench::run_bench(&root)
        }
        Some("bench-watches") => {
            bootstrap(&root)?;
            run(cargo()
                .args([
                    "run",
                    "--quiet",
                    "--release",
                    "-p",
                    "facepass",
                    "--example",
                    "watch_bench",
                    "--",
                ])
                .args(&args[1..]))
        }
        Some("fuzz") => {
            bootstrap(&root)?;
            run(cargo().args(["build", "--release", "--bin", "facepass"]))?;
            let examples = args.get(1).map(|n| n.parse()).transpose()?.unwrap_or(500);
            fuzz::run_fuzz(&root, examples)
        }
        Some("migrate") => run(facepass("migrate").args(&args[1..])),
        Some("codegen") => codegen::run(&root, args.get(1).map(String::as_str) == Some("--check")),
        Some("services") => run(Command::new("bash")
            .arg(root.join("scripts/services.sh"))
            .args(&args[1..])),
        _ => {
            eprintln!(
                "usage: cargo xtask <task>\n\ntasks:\n  serve      bootstrap, then run the service (facepass serve) on its embedded defaults\n  bootstrap  install system libraries, ONNX Runtime and Python tools\n  test       bootstrap, then fmt check, clippy, codegen --check and every test\n  bench      indexing photos/s: FacePass vs InsightFace vs the compute floor\n  bench-watches  indexing photos/s with 100 live guest watches against none, and the watch step's cost\n  fuzz       schemathesis against the service and the committed spec (default 500 examples per operation)\n  tidy       domain dependency allow-list, module docs, version pins (versions.env)\n  lint-docker  hadolint docker/Dockerfile, validate docker/docker-compose.yml\n  codegen    write openapi/openapi.json and clients/python (--check: fail when stale)\n  migrate    up|down|status of the storage schema\n  services   up|down|env|status of the local PostgreSQL+pgvector and S3"
            );
            bail!("unknown or missing task")
        }
    }
}

/// `cargo run --release --bin facepass -- <subcommand>`: the one build profile of the project.
pub(crate) fn facepass(subcommand: &str) -> Command {
    let mut command = cargo();
    command.args([
        "run",
        "--quiet",
        "--release",
        "--bin",
        "facepass",
        "--",
        subcommand,
    ]);
    command
}

/// A `cargo` command that builds as a plain `cargo` in the shell would. `cargo run` (which
/// runs xtask) gives its child the variables of the xtask package; a build script that
/// watches one of them (ring's watches `CARGO_MANIFEST_DIR`) would otherwise see it change
/// between `cargo xtask test` and a plain `cargo build`, and everything above it would be
/// compiled again each time.
pub(crate) fn cargo() -> Command {
    let mut command = Command::new("cargo");
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let set_by_cargo_run = name.starts_with("CARGO_PKG_")
            || matches!(
                name.as_ref(),
                "CARGO_MANIFEST_DIR"
                    | "CARGO_MANIFEST_PATH"
                    | "CARGO_MANIFEST_LINKS"
                    | "CARGO_CRATE_NAME"
                    | "CARGO_BIN_NAME"
                    | "CARGO_PRIMARY_PACKAGE"
            );
        if set_by_cargo_run {
            command.env_remove(name.as_ref());
        }
    }
    command
}

/// Fails when building the service binary after the tests compiles anything: the tests and
/// the binary share one feature set (see `crates/app/Cargo.toml`) and one environment
/// ([`cargo`]), so `cargo build --release --bin facepass` after `cargo xtask test` is a no-op.
fn check_build_is_a_no_op() -> anyhow::Result<()> {
    let mut command = cargo();
    command.args(["build", "--release", "--bin", "facepass"]);
    eprintln!(
        "\x1b[1;34m[xtask]\x1b[0m cargo build --release --bin facepass (must compile nothing)"
    );
    let out = command.output().context("cannot start cargo build")?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        bail!("cargo build --release --bin facepass failed:\n{stderr}");
    }
    let compiled: Vec<&str> = stderr
        .lines()
        .filter(|l| l.trim_start().starts_with("Compiling"))
        .collect();
    if !compiled.is_empty() {
        bail!(
            "building the binary after the tests compiled {} crates again (a feature or an \
             environment variable differs between the two builds):\n{}",
            compiled.len(),
            compiled.join("\n")
        );
    }
    Ok(())
}

fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn bootstrap(root: &Path) -> anyhow::Result<()> {
    run(Command::new("bash").arg(root.join("scripts/bootstrap.sh")))
}

/// Examples per operation of the contract fuzzing in `test` (about 30 s on 2 cores).
const FUZZ_EXAMPLES: u32 = 60;

fn test(root: &Path) -> anyhow::Result<()> {
    bootstrap(root)?;
    run(cargo().args(["fmt", "--all", "--check"]))?;
    tidy::run(root)?;
    // One profile (release) for lints, tests and the README's run command: on a 2-core CI
    // machine, building the OpenCV bindings once saves minutes.
    run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--release",
        "--",
        "-D",
        "warnings",
    ]))?;
    // Compile the tests first: that also builds target/release/facepass with the tests'
    // feature set, which codegen then runs (a separate `cargo run` would rebuild half the
    // dependency tree with other features).
    run(cargo().args(["test", "--workspace", "--release", "--no-run"]))?;
    codegen::run(root, true)?;
    lint_docker()?;
    fuzz::run_fuzz(root, FUZZ_EXAMPLES)?;
    // Tests get only their own variables (FACEPASS_TEST_*), not the service's FACEPASS__*
    // settings, so no test silently changes backend.
    let env = services_up(root)?
        .into_iter()
        .filter(|(k, _)| k.starts_with("FACEPASS_TEST_"));
    let tests = run(cargo().args(["test", "--workspace", "--release"]).envs(env));
    let stopped = run(Command::new("bash")
        .arg(root.join("scripts/services.sh"))
        .arg("down"));
    tests.and(stopped)?;
    check_build_is_a_no_op()
}

/// Docker cannot run here: lint the Dockerfile (hadolint) and validate the compose file
/// against the Compose specification's JSON schema (check-jsonschema), both from PyPI.
fn lint_docker() -> anyhow::Result<()> {
    run(Command::new("hadolint").args(["--config", "docker/.hadolint.yaml", "docker/Dockerfile"]))?;
    run(Command::new("check-jsonschema").args([
        "--builtin-schema",
        "vendor.compose-spec",
        "docker/docker-compose.yml",
    ]))
}

/// Starts the services and returns the environment they print (`export KEY=VALUE` lines).
fn services_up(root: &Path) -> anyhow::Result<Vec<(String, String)>> {
    eprintln!("\x1b[1;34m[xtask]\x1b[0m scripts/services.sh up");
    let out = Command::new("bash")
        .arg(root.join("scripts/services.sh"))
        .arg("up")
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("cannot start scripts/services.sh")?;
    if !out.status.success() {
        bail!("scripts/services.sh up failed with {}", out.status);
    }
    Ok(String::from_utf8(out.stdout)?
        .lines()
        .filter_map(|l| l.strip_prefix("export ")?.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect())
}

pub(crate) fn run(command: &mut Command) -> anyhow::Result<()> {
    // Program and arguments only: the environment may hold secrets.
    let args: Vec<_> = command.get_args().map(|a| a.to_string_lossy()).collect();
    eprintln!(
        "\x1b[1;34m[xtask]\x1b[0m {} {}",
        command.get_program().to_string_lossy(),
        args.join(" ")
    );
    let status = command
        .status()
        .with_context(|| format!("cannot start {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed with {status}");
    }
    Ok(())
}
