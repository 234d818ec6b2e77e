//! `PhotoSource` over a local folder: the embedded default. A key is a relative path below
//! the root; after resolving symlinks the file must still be inside the root.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use facepass_domain::ports::{PhotoSource, PhotoSourceError};
use facepass_domain::{ImageBytes, PhotoKey};
use tokio::io::AsyncReadExt;

#[derive(Debug, Clone)]
pub struct FsPhotoSource {
    root: PathBuf,
    max_bytes: u64,
}

impl FsPhotoSource {
    /// `root` must exist; files larger than `max_bytes` are refused.
    pub fn new(root: impl AsRef<Path>, max_bytes: u64) -> Result<Self, PhotoSourceError> {
        let root = root.as_ref();
        let root = std::fs::canonicalize(root).map_err(|e| {
            PhotoSourceError::Unavailable(format!("photo root {}: {e}", root.display()))
        })?;
        if !root.is_dir() {
            return Err(PhotoSourceError::Unavailable(format!(
                "photo root {} is not a folder",
                root.display()
            )));
        }
        Ok(Self { root, max_bytes })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file a key names, symlinks resolved, refused when it lies outside the root.
    async fn resolve(&self, key: &PhotoKey) -> Result<PathBuf, PhotoSourceError> {
        // PhotoKey already forbids absolute paths and `..` segments; symlinks are checked here.
        let path = tokio::fs::canonicalize(self.root.join(key.as_str()))
            .await
            .map_err(io_error)?;
        if !path.starts_with(&self.root) {
            return Err(PhotoSourceError::AccessDenied(
                "the key resolves outside the photo root".into(),
            ));
        }
        Ok(path)
    }
}

fn io_error(e: std::io::Error) -> PhotoSourceError {
    match e.kind() {
        // A name too long for the filesystem (ENAMETOOLONG) cannot name a file there either.
        ErrorKind::NotFound
        | ErrorKind::NotADirectory
        | ErrorKind::IsADirectory
        | ErrorKind::InvalidFilename => PhotoSourceError::NotFound,
        ErrorKind::PermissionDenied => PhotoSourceError::AccessDenied(e.to_string()),
        _ => PhotoSourceError::Unexpected(e.to_string()),
    }
}

#[async_trait]
impl PhotoSource for FsPhotoSource {
    async fn fetch(&self, key: &PhotoKey) -> Result<ImageBytes, PhotoSourceError> {
        let path = self.resolve(key).await?;
        let file = tokio::fs::File::open(&path).await.map_err(io_error)?;
        let meta = file.metadata().await.map_err(io_error)?;
        if !meta.is_file() {
            return Err(PhotoSourceError::NotFound);
        }
        if meta.len() > self.max_bytes {
            return Err(PhotoSourceError::TooLarge {
                limit_bytes: self.max_bytes,
            });
        }
        // The file may grow between stat and read: read at most one byte past the limit.
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        file.take(self.max_bytes + 1)
            .read_to_end(&mut bytes)
            .await
            .map_err(io_error)?;
        if bytes.len() as u64 > self.max_bytes {
            return Err(PhotoSourceError::TooLarge {
                limit_bytes: self.max_bytes,
            });
        }
        Ok(bytes.into())
    }

    async fn health(&self) -> Result<(), PhotoSourceError> {
        match tokio::fs::metadata(&self.root).await {
            Ok(m) if m.is_dir() => Ok(()),
            Ok(_) => Err(PhotoSourceError::Unavailable(
                "the photo root is not a folder".into(),
            )),
            Err(e) => Err(PhotoSourceError::Unavailable(format!("photo root: {e}"))),
        }
    }
}
