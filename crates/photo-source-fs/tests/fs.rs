//! The folder adapter: the `PhotoSource` contract on a temporary folder, and no way out of
//! the root (symlinks, traversal, names longer than the filesystem allows).

// Test helpers outside #[test] functions unwrap too: a failure is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::os::unix::fs::symlink;

use facepass_domain::PhotoKey;
use facepass_domain::ports::{PhotoSource, PhotoSourceError};
use facepass_photo_source_fs::FsPhotoSource;
use facepass_test_support::Guarded;

fn key(k: &str) -> PhotoKey {
    PhotoKey::parse(k).unwrap()
}

/// A temporary folder holding `objects`, read through the adapter with `max_bytes`.
async fn seeded(objects: &[(&str, Vec<u8>)], max_bytes: u64) -> Guarded<FsPhotoSource> {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in objects {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    Guarded::new(FsPhotoSource::new(dir.path(), max_bytes).unwrap(), dir)
}

facepass_test_support::photo_source_contract!(seeded);

/// root/ holds sessions/s1/p1.jpg and links in and out of it; secret.txt is outside.
fn setup() -> (tempfile::TempDir, FsPhotoSource) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("sessions/s1")).unwrap();
    std::fs::write(root.join("sessions/s1/p1.jpg"), b"hello").unwrap();
    std::fs::write(dir.path().join("secret.txt"), b"secret").unwrap();
    symlink(dir.path().join("secret.txt"), root.join("escape.jpg")).unwrap();
    symlink(dir.path(), root.join("parent-link")).unwrap();
    symlink(
        root.join("sessions/s1/p1.jpg"),
        root.join("inside-link.jpg"),
    )
    .unwrap();
    let source = FsPhotoSource::new(&root, 50).unwrap();
    (dir, source)
}

#[tokio::test]
async fn a_symlink_inside_the_root_is_followed() {
    let (_dir, source) = setup();
    let bytes = source.fetch(&key("inside-link.jpg")).await.unwrap();
    assert_eq!(bytes.as_slice(), b"hello");
}

#[tokio::test]
async fn a_name_longer_than_the_filesystem_allows_is_not_found() {
    let (_dir, source) = setup();
    // A valid key (up to 1,024 bytes) whose name is longer than the filesystem allows.
    assert_eq!(
        source.fetch(&key(&"a".repeat(1024))).await,
        Err(PhotoSourceError::NotFound)
    );
}

#[tokio::test]
async fn symlinks_cannot_lead_out_of_the_root() {
    let (_dir, source) = setup();
    assert!(matches!(
        source.fetch(&key("escape.jpg")).await,
        Err(PhotoSourceError::AccessDenied(_))
    ));
    assert!(matches!(
        source.fetch(&key("parent-link/secret.txt")).await,
        Err(PhotoSourceError::AccessDenied(_))
    ));
}

#[test]
fn traversal_and_absolute_keys_never_reach_the_adapter() {
    assert!(PhotoKey::parse("../secret.txt").is_err());
    assert!(PhotoKey::parse("sessions/../../secret.txt").is_err());
    assert!(PhotoKey::parse("/etc/passwd").is_err());
}

#[test]
fn a_missing_root_is_refused_at_startup() {
    assert!(matches!(
        FsPhotoSource::new("/definitely/not/here", 10),
        Err(PhotoSourceError::Unavailable(_))
    ));
}
