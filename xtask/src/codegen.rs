//! `cargo xtask codegen [--check]`: the OpenAPI document, built by `facepass openapi` from the
//! API's types (no server, no database), written to `openapi/openapi.json`; and the Python
//! client that PyPI's `openapi-python-client` generates from it, in `clients/python/`.
//! `--check` generates both into a scratch folder and fails if the committed copies differ.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

use crate::tidy::pin;

/// Pinned so that a given spec always generates the same files.
const SPEC: &str = "openapi/openapi.json";
const CLIENT: &str = "clients/python";
const CONFIG: &str = "clients/openapi-python-client.yaml";
const NOTE: &str = "GENERATED.md";

pub fn run(root: &Path, check: bool) -> anyhow::Result<()> {
    ensure_tools()?;
    let scratch = std::env::temp_dir().join(format!("facepass-codegen-{}", std::process::id()));
    let _ = fs::remove_dir_all(&scratch);
    fs::create_dir_all(&scratch)?;
    let result = generate(root, &scratch).and_then(|()| {
        if check {
            compare(root, &scratch)
        } else {
            install(root, &scratch)
        }
    });
    let _ = fs::remove_dir_all(&scratch);
    result
}

fn ensure_tools() -> anyhow::Result<()> {
    let version = Command::new("openapi-python-client")
        .arg("--version")
        .output();
    let (generator, formatter) = (pin("OPENAPI_PYTHON_CLIENT")?, pin("RUFF")?);
    let ok = version.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(generator))
        && Command::new("ruff")
            .arg("--version")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(formatter));
    if !ok {
        crate::run(Command::new("python3").args([
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            &format!("openapi-python-client=={generator}"),
            &format!("ruff=={formatter}"),
        ]))?;
    }
    Ok(())
}

/// Writes `scratch/openapi.json` and `scratch/python/`.
fn generate(root: &Path, scratch: &Path) -> anyhow::Result<()> {
    // The same build (and so the same features) as `cargo xtask test`: a no-op right after it.
    crate::run(crate::cargo().args(["test", "--workspace", "--release", "--no-run"]))?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let binary = target.join("release/facepass");
    let out = Command::new(&binary)
        .arg("openapi")
        .current_dir(root)
        .output()
        .with_context(|| format!("cannot run {} openapi", binary.display()))?;
    if !out.status.success() {
        bail!(
            "`facepass openapi` failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let spec = scratch.join("openapi.json");
    fs::write(&spec, &out.stdout)?;
    crate::run(
        Command::new("openapi-python-client")
            .arg("generate")
            .arg("--path")
            .arg(&spec)
            .arg("--output-path")
            .arg(scratch.join("python"))
            .arg("--config")
            .arg(root.join(CONFIG))
            .arg("--meta")
            .arg("uv")
            .current_dir(scratch),
    )?;
    fs::write(
        scratch.join("python").join(NOTE),
        "# Generated code: do not edit\n\nThis client is generated from `openapi/openapi.json` by \
         `cargo xtask codegen` (PyPI `openapi-python-client`, configured by \
         `clients/openapi-python-client.yaml`). Change the API in `crates/app/src/api/` and \
         run `cargo xtask codegen`; CI fails when this folder is stale.\n",
    )?;
    Ok(())
}

fn install(root: &Path, scratch: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(root.join("openapi"))?;
    fs::copy(scratch.join("openapi.json"), root.join(SPEC))?;
    let client = root.join(CLIENT);
    let _ = fs::remove_dir_all(&client);
    copy_dir(&scratch.join("python"), &client)?;
    eprintln!("wrote {SPEC} and {CLIENT}/");
    Ok(())
}

fn compare(root: &Path, scratch: &Path) -> anyhow::Result<()> {
    let mut stale = Vec::new();
    if fs::read(root.join(SPEC)).ok() != fs::read(scratch.join("openapi.json")).ok() {
        stale.push(SPEC.to_owned());
    }
    let (committed, fresh) = (files(&root.join(CLIENT))?, files(&scratch.join("python"))?);
    for file in committed.union(&fresh) {
        let (a, b) = (
            root.join(CLIENT).join(file),
            scratch.join("python").join(file),
        );
        if fs::read(&a).ok() != fs::read(&b).ok() {
            stale.push(format!("{CLIENT}/{}", file.display()));
        }
    }
    if !stale.is_empty() {
        bail!(
            "generated files are stale (run `cargo xtask codegen` and commit):\n  {}",
            stale.join("\n  ")
        );
    }
    eprintln!("{SPEC} and {CLIENT}/ are up to date");
    Ok(())
}

/// Relative paths of the files below `dir` (none when it does not exist); caches skipped.
fn files(dir: &Path) -> anyhow::Result<BTreeSet<PathBuf>> {
    let mut out = BTreeSet::new();
    if !dir.exists() {
        return Ok(out);
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in fs::read_dir(&current)? {
            let path = entry?.path();
            if path
                .file_name()
                .is_some_and(|n| n == "__pycache__" || n == ".ruff_cache")
            {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                out.insert(path.strip_prefix(dir)?.to_path_buf());
            }
        }
    }
    Ok(out)
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    for file in files(from)? {
        let target = to.join(&file);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::copy(from.join(&file), target)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A root with a committed spec and client, and a scratch folder with fresh copies.
    fn layout(name: &str) -> (PathBuf, PathBuf) {
        let base = std::env::temp_dir().join(format!("xtask-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        let (root, scratch) = (base.join("root"), base.join("scratch"));
        for (dir, spec) in [
            (root.join("openapi"), "openapi.json"),
            (scratch.clone(), "openapi.json"),
        ] {
            fs::create_dir_all(&dir).expect("dir");
            fs::write(dir.join(spec), "{\"paths\": {}}").expect("spec");
        }
        for dir in [
            root.join(CLIENT).join("pkg"),
            scratch.join("python").join("pkg"),
        ] {
            fs::create_dir_all(&dir).expect("dir");
            fs::write(dir.join("api.py"), "def search(): ...\n").expect("client");
        }
        (root, scratch)
    }

    #[test]
    fn identical_output_is_up_to_date() {
        let (root, scratch) = layout("same");
        compare(&root, &scratch).expect("up to date");
    }

    #[test]
    fn a_changed_spec_or_client_file_is_stale_and_named() {
        let (root, scratch) = layout("changed");
        fs::write(scratch.join("openapi.json"), "{\"paths\": {\"/x\": {}}}").expect("write");
        fs::write(scratch.join("python/pkg/new.py"), "").expect("write");
        let message = compare(&root, &scratch).expect_err("stale").to_string();
        assert!(message.contains(SPEC), "{message}");
        assert!(message.contains("pkg/new.py"), "{message}");
        assert!(!message.contains("api.py"), "{message}");
    }

    #[test]
    fn a_client_file_removed_from_the_output_is_stale() {
        let (root, scratch) = layout("removed");
        fs::remove_file(scratch.join("python/pkg/api.py")).expect("remove");
        let message = compare(&root, &scratch).expect_err("stale").to_string();
        assert!(message.contains("pkg/api.py"), "{message}");
    }
}
