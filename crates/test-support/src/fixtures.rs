//! The labelled fixtures: `../shared/fixtures` beside the repository, or `$FACEPASS_FIXTURES`.

use std::path::{Path, PathBuf};

/// The repository root (this crate lives in `crates/test-support`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn fixtures_dir() -> PathBuf {
    std::env::var_os("FACEPASS_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/fixtures"))
}

pub fn faces_dir() -> PathBuf {
    fixtures_dir().join("faces")
}

pub fn models_dir() -> PathBuf {
    fixtures_dir().join("models")
}

/// The bytes of a face fixture; a missing file fails the test with its name.
pub fn face_bytes(file: &str) -> Vec<u8> {
    std::fs::read(faces_dir().join(file)).unwrap_or_else(|e| panic!("fixture {file}: {e}"))
}

/// One row of `faces/labels.csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub file: String,
    pub identities: Vec<String>,
    /// `single`, `group`, `noface` or `corrupt`.
    pub kind: String,
}

impl Label {
    pub fn path(&self) -> PathBuf {
        faces_dir().join(&self.file)
    }
}

/// The rows of `faces/labels.csv` (`file,identity[;identity...],kind`).
pub fn try_labels() -> std::io::Result<Vec<Label>> {
    let text = std::fs::read_to_string(faces_dir().join("labels.csv"))?;
    Ok(text
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .filter_map(|line| {
            let cols: Vec<&str> = line.trim_end().split(',').collect();
            (cols.len() == 3).then(|| Label {
                file: cols[0].to_owned(),
                identities: cols[1]
                    .split(';')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
                kind: cols[2].to_owned(),
            })
        })
        .collect())
}

/// [`try_labels`], failing the test when the labels cannot be read.
pub fn labels() -> Vec<Label> {
    try_labels().unwrap_or_else(|e| panic!("{}: {e}", faces_dir().join("labels.csv").display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_names_an_existing_file_and_a_known_kind() {
        let labels = labels();
        assert!(labels.len() > 10, "{} labels", labels.len());
        for label in &labels {
            assert!(label.path().is_file(), "{}", label.file);
            assert!(
                ["single", "group", "noface", "corrupt"].contains(&label.kind.as_str()),
                "{label:?}"
            );
        }
    }
}
