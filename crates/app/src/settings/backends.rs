//! `storage.*` and `photos.*`: one typed variant per backend. The TOML (and the environment
//! variables) stay flat — `backend` picks the variant and the other keys fill it — but a key
//! of another backend than the one chosen is refused by name, never silently ignored. The
//! keys of one backend have their defaults here, not in the compiled `config/default.toml`
//! (which documents them in comments that a test checks against these).

use std::path::PathBuf;
use std::time::Duration;

use facepass_photo_source_s3::S3Config;
use serde::Deserialize;

use super::{Secret, optional_secret};

/// `storage.max_connections` when unset (Postgres).
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;
/// `storage.url` when unset (SQLite).
pub const DEFAULT_SQLITE_PATH: &str = "var/facepass.db";
/// `photos.root` when unset (fs).
pub const DEFAULT_PHOTOS_ROOT: &str = "var/photos";
/// `photos.region` when unset (s3).
pub const DEFAULT_REGION: &str = "us-east-1";

/// `storage.*`: where face vectors live.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawStorage")]
pub struct StorageSettings {
    pub database: Database,
    /// Apply pending migrations at startup.
    pub migrate: bool,
    /// Memory (MiB) for the sessions held in process, which search scans and the grouping of
    /// people plans against: about 2.1 MiB per 1,000 faces at 512-d. A session larger than
    /// this is read from the database at each search and its new faces are not grouped; 0
    /// holds none.
    pub search_cache_mb: usize,
}

/// `storage.backend` and its keys.
#[derive(Debug, Clone, PartialEq)]
pub enum Database {
    /// `sqlite`: an embedded file, nothing to run. `url`: its path (`sqlite://` optional).
    Sqlite { path: PathBuf },
    /// `postgres`: PostgreSQL with the pgvector extension. `url`: `postgres://...`.
    Postgres { url: Secret, max_connections: u32 },
}

impl Database {
    /// The database a URL names: `postgres://` / `postgresql://` (with the default pool), else
    /// a SQLite file.
    pub fn from_url(url: &str) -> Self {
        if is_postgres_url(url) {
            Self::Postgres {
                url: Secret::new(url),
                max_connections: DEFAULT_MAX_CONNECTIONS,
            }
        } else {
            Self::Sqlite {
                path: sqlite_path(url),
            }
        }
    }
}

fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The file of a SQLite `storage.url`: a path, or sqlx's URL forms `sqlite://PATH`,
/// `sqlite:PATH` (both with `?` parameters, which FacePass sets itself: WAL, create the
/// file). `sqlite:///abs/f.db` is the absolute path `/abs/f.db`.
pub fn sqlite_path(url: &str) -> PathBuf {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .map_or(url, |rest| {
            rest.split_once('?').map_or(rest, |(path, _)| path)
        });
    PathBuf::from(path)
}

/// `photos.*`: where the photos to index are fetched from.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawPhotos")]
pub struct PhotoSettings {
    pub source: PhotoStore,
    /// Total time to fetch one photo, retries included.
    pub timeout_secs: u64,
    /// Largest photo accepted, in bytes.
    pub max_bytes: u64,
}

/// `photos.backend` and its keys.
#[derive(Debug, Clone, PartialEq)]
pub enum PhotoStore {
    /// `fs`: keys are paths below `root`.
    Fs { root: PathBuf },
    /// `s3`: keys are object keys of one bucket (the common keys' timeout and size limit
    /// included).
    S3(S3Config),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum StorageBackend {
    Sqlite,
    Postgres,
}

/// `storage.*` as written: every backend's keys, checked against the one chosen.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStorage {
    backend: StorageBackend,
    migrate: bool,
    search_cache_mb: usize,
    #[serde(default, deserialize_with = "optional_secret")]
    url: Option<Secret>,
    max_connections: Option<u32>,
}

impl TryFrom<RawStorage> for StorageSettings {
    type Error = String;

    fn try_from(raw: RawStorage) -> Result<Self, String> {
        let (migrate, search_cache_mb) = (raw.migrate, raw.search_cache_mb);
        Ok(Self {
            database: raw.database()?,
            migrate,
            search_cache_mb,
        })
    }
}

impl RawStorage {
    fn database(self) -> Result<Database, String> {
        if self.backend == StorageBackend::Sqlite {
            let postgres_only = [("max_connections", self.max_connections.is_some())];
            only_for("storage", "postgres", postgres_only)?;
            let url = self
                .url
                .as_ref()
                .map_or(DEFAULT_SQLITE_PATH, Secret::expose);
            if is_postgres_url(url) {
                return Err(
                    "storage.url is a postgres:// URL but storage.backend is \"sqlite\"".into(),
                );
            }
            return Ok(Database::Sqlite {
                path: sqlite_path(url),
            });
        }
        let url = self.url.filter(|u| is_postgres_url(u.expose())).ok_or(
            "storage.backend = \"postgres\" needs storage.url = \"postgres://user:password@host:5432/db\"",
        )?;
        match self.max_connections.unwrap_or(DEFAULT_MAX_CONNECTIONS) {
            0 => Err("storage.max_connections must be > 0".into()),
            max_connections => Ok(Database::Postgres {
                url,
                max_connections,
            }),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum PhotoBackend {
    Fs,
    S3,
}

/// `photos.*` as written: every backend's keys, checked against the one chosen.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPhotos {
    backend: PhotoBackend,
    timeout_secs: u64,
    max_bytes: u64,
    root: Option<PathBuf>,
    bucket: Option<String>,
    endpoint: Option<String>,
    region: Option<String>,
    access_key_id: Option<String>,
    #[serde(default, deserialize_with = "optional_secret")]
    secret_access_key: Option<Secret>,
    force_path_style: Option<bool>,
}

impl TryFrom<RawPhotos> for PhotoSettings {
    type Error = String;

    fn try_from(raw: RawPhotos) -> Result<Self, String> {
        let (timeout_secs, max_bytes) = (raw.timeout_secs, raw.max_bytes);
        let source = match raw.backend {
            PhotoBackend::Fs => raw.fs()?,
            PhotoBackend::S3 => PhotoStore::S3(raw.s3()?),
        };
        Ok(Self {
            source,
            timeout_secs,
            max_bytes,
        })
    }
}

impl RawPhotos {
    fn fs(self) -> Result<PhotoStore, String> {
        let s3_only = [
            ("bucket", self.bucket.is_some()),
            ("endpoint", self.endpoint.is_some()),
            ("region", self.region.is_some()),
            ("access_key_id", self.access_key_id.is_some()),
            ("secret_access_key", self.secret_access_key.is_some()),
            ("force_path_style", self.force_path_style.is_some()),
        ];
        only_for("photos", "s3", s3_only)?;
        let root = self.root.unwrap_or_else(|| DEFAULT_PHOTOS_ROOT.into());
        Ok(PhotoStore::Fs { root })
    }

    fn s3(self) -> Result<S3Config, String> {
        only_for("photos", "fs", [("root", self.root.is_some())])?;
        let bucket = self
            .bucket
            .filter(|b| !b.is_empty())
            .ok_or("photos.backend = \"s3\" needs photos.bucket")?;
        Ok(S3Config {
            endpoint: self.endpoint.filter(|e| !e.is_empty()),
            region: self.region.unwrap_or_else(|| DEFAULT_REGION.into()),
            access_key_id: self.access_key_id,
            secret_access_key: self.secret_access_key,
            force_path_style: self.force_path_style.unwrap_or(false),
            timeout: Duration::from_secs(self.timeout_secs.max(1)),
            max_bytes: self.max_bytes,
            ..S3Config::new(bucket)
        })
    }
}

/// Refuses keys that belong to `backend`, another backend than the section's.
fn only_for<const N: usize>(
    section: &str,
    backend: &str,
    keys: [(&str, bool); N],
) -> Result<(), String> {
    match keys.iter().find(|(_, set)| *set) {
        Some((key, _)) => Err(format!(
            "{section}.{key} is a setting of {section}.backend = \"{backend}\", which is not the \
             backend chosen: remove it or choose that backend"
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_and_paths_name_the_same_files() {
        for (url, path) in [
            ("var/facepass.db", "var/facepass.db"),
            ("/data/f.db", "/data/f.db"),
            ("sqlite://var/f.db", "var/f.db"),
            ("sqlite:///path/f.db?mode=rwc", "/path/f.db"),
            ("sqlite:var/f.db?mode=rwc&cache=shared", "var/f.db"),
        ] {
            assert_eq!(sqlite_path(url), PathBuf::from(path), "{url}");
            assert_eq!(
                Database::from_url(url),
                Database::Sqlite { path: path.into() }
            );
        }
        assert_eq!(
            Database::from_url("postgresql://db/facepass"),
            Database::Postgres {
                url: Secret::new("postgresql://db/facepass"),
                max_connections: DEFAULT_MAX_CONNECTIONS,
            }
        );
    }
}
