//! The folder adapter: normal reads, typed failures, and no way out of the root.

// Test helpers outside #[test] functions unwrap too: a failure is a failed test.
#![allow(clippy::unwrap_used)]

use std::os::unix::fs::symlink;

use facepass_domain::PhotoKey;
use facepass_domain::ports::{PhotoSource, PhotoSourceError};
use facepass_photo_source_fs::FsPhotoSource;

fn key(k: &str) -> PhotoKey {
    PhotoKey::parse(k).unwrap()
}

/// root/ holds sessions/s1/p1.jpg (5 bytes) and big.jpg (100 bytes); secret.txt is outside.
fn setup() -> (tempfile::TempDir, FsPhotoSource) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("sessions/s1")).unwrap();
    std::fs::write(root.join("sessions/s1/p1.jpg"), b"hello").unwrap();
    std::fs::write(root.join("big.jpg"), vec![0u8; 100]).unwrap();
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
async fn a_photo_below_the_root_is_read_whole() {
    let (_dir, source) = setup();
    assert_eq!(
        source
            .fetch(&key("sessions/s1/p1.jpg"))
            .await
            .unwrap()
            .as_slice(),
        b"hello"
    );
    assert_eq!(
        source
            .fetch(&key("inside-link.jpg"))
            .await
            .unwrap()
            .as_slice(),
        b"hello"
    );
    source.health().await.unwrap();
}

#[tokio::test]
async fn missing_files_and_folders_are_not_found() {
    let (_dir, source) = setup();
    assert_eq!(
        source.fetch(&key("sessions/s1/nope.jpg")).await,
        Err(PhotoSourceError::NotFound)
    );
    assert_eq!(
        source.fetch(&key("sessions/s1")).await,
        Err(PhotoSourceError::NotFound)
    );
    assert_eq!(
        source.fetch(&key("sessions/s1/p1.jpg/x")).await,
        Err(PhotoSourceError::NotFound)
    );
    // A valid key (up to 1,024 bytes) whose name is longer than the filesystem allows.
    assert_eq!(
        source.fetch(&key(&"a".repeat(1024))).await,
        Err(PhotoSourceError::NotFound)
    );
}

#[tokio::test]
async fn files_over_the_limit_are_too_large() {
    let (_dir, source) = setup();
    assert_eq!(
        source.fetch(&key("big.jpg")).await,
        Err(PhotoSourceError::TooLarge { limit_bytes: 50 })
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
