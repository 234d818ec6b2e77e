//! Identifiers that cross the service boundary, validated once at the edge.

use std::fmt;

/// Why a session or photo id was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {max} characters, got {len}")]
    TooLong { max: usize, len: usize },
    #[error("character {ch:?} at position {position} is not allowed (use A-Z a-z 0-9 _ . : -)")]
    InvalidChar { ch: char, position: usize },
}

/// The longest session or photo id, in characters.
pub const ID_MAX_LEN: usize = 128;

fn check_id(raw: &str) -> Result<(), IdError> {
    if raw.is_empty() {
        return Err(IdError::Empty);
    }
    if let Some((position, ch)) = raw
        .chars()
        .enumerate()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-')))
    {
        return Err(IdError::InvalidChar { ch, position });
    }
    // Only ASCII is left, so bytes == characters.
    if raw.len() > ID_MAX_LEN {
        return Err(IdError::TooLong {
            max: ID_MAX_LEN,
            len: raw.len(),
        });
    }
    Ok(())
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Validates `raw`: 1–128 characters of `[A-Za-z0-9_.:-]`.
            pub fn parse(raw: impl Into<String>) -> Result<Self, IdError> {
                let raw = raw.into();
                check_id(&raw)?;
                Ok(Self(raw))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

string_id!(
    /// One photo session (event) of the platform; all search is scoped to one session.
    SessionId
);
string_id!(
    /// One photo of a session, unique within that session.
    PhotoId
);

string_id!(
    /// The platform's own id of a guest (opaque to FacePass), on a guest watch.
    GuestRef
);

/// A UUIDv7 id type (time-ordered: the newest has the largest id) with its parse error.
macro_rules! time_ordered_id {
    ($(#[$doc:meta])* $name:ident, $error:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(uuid::Uuid);

        #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
        #[error("{} is a UUID, got {:?}", $what, .0)]
        pub struct $error(pub String);

        impl $name {
            pub fn new() -> Self {
                Self(uuid::Uuid::now_v7())
            }

            pub fn parse(raw: &str) -> Result<Self, $error> {
                uuid::Uuid::parse_str(raw)
                    .map(Self)
                    .map_err(|_| $error(raw.chars().take(64).collect()))
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }
    };
}
pub(crate) use time_ordered_id;

/// Why a photo key (object key / relative path) was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhotoKeyError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {max} bytes, got {len}")]
    TooLong { max: usize, len: usize },
    #[error("must not start with '/'")]
    Absolute,
    #[error("must not contain a '..' segment")]
    ParentSegment,
    #[error("must not contain control characters or backslashes")]
    BadCharacter,
}

/// Where a photo lives in the configured photo source (an S3 object key, or a path below
/// the local root). Never absolute, never climbs with `..`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PhotoKey(String);

impl PhotoKey {
    pub const MAX_BYTES: usize = 1024;

    pub fn parse(raw: impl Into<String>) -> Result<Self, PhotoKeyError> {
        let raw = raw.into();
        if raw.is_empty() {
            return Err(PhotoKeyError::Empty);
        }
        if raw.len() > Self::MAX_BYTES {
            return Err(PhotoKeyError::TooLong {
                max: Self::MAX_BYTES,
                len: raw.len(),
            });
        }
        if raw.starts_with('/') {
            return Err(PhotoKeyError::Absolute);
        }
        if raw.chars().any(|c| c.is_control() || c == '\\') {
            return Err(PhotoKeyError::BadCharacter);
        }
        if raw.split('/').any(|segment| segment == "..") {
            return Err(PhotoKeyError::ParentSegment);
        }
        Ok(Self(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PhotoKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A stored face. Time-ordered (UUIDv7) so that ids sort roughly by insertion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FaceId(uuid::Uuid);

impl FaceId {
    pub fn new() -> Self {
        Self(uuid::Uuid::now_v7())
    }

    pub fn from_uuid(id: uuid::Uuid) -> Self {
        Self(id)
    }

    pub fn as_uuid(&self) -> uuid::Uuid {
        self.0
    }
}

impl Default for FaceId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for FaceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A person of a session: faces grouped as one individual. Time-ordered (UUIDv7): when two
/// persons merge, the older id (the smaller) stays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PersonId(uuid::Uuid);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a person id is a UUID, got {0:?}")]
pub struct PersonIdError(pub String);

impl PersonId {
    pub fn new() -> Self {
        Self(uuid::Uuid::now_v7())
    }

    pub fn from_uuid(id: uuid::Uuid) -> Self {
        Self(id)
    }

    pub fn parse(raw: &str) -> Result<Self, PersonIdError> {
        uuid::Uuid::parse_str(raw)
            .map(Self)
            .map_err(|_| PersonIdError(raw.chars().take(64).collect()))
    }

    pub fn as_uuid(&self) -> uuid::Uuid {
        self.0
    }
}

impl Default for PersonId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for PersonId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn person_ids_are_uuids_and_later_ones_sort_after() {
        let first = PersonId::new();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = PersonId::new();
        assert!(first < second);
        assert_eq!(PersonId::parse(&first.to_string()), Ok(first));
        assert!(PersonId::parse("not-a-uuid").is_err());
    }

    #[test]
    fn ids_accept_uuids_and_the_documented_alphabet() {
        assert!(SessionId::parse("f1896ee0-d548-4676-a0a5-02ac09e6aad9").is_ok());
        assert!(PhotoId::parse("photo_001.jpg:v2").is_ok());
        assert!(SessionId::parse("a".repeat(128)).is_ok());
    }

    #[test]
    fn ids_reject_empty_long_and_foreign_characters() {
        assert_eq!(SessionId::parse(""), Err(IdError::Empty));
        assert_eq!(
            SessionId::parse("a".repeat(129)),
            Err(IdError::TooLong { max: 128, len: 129 })
        );
        assert_eq!(
            PhotoId::parse("a/b"),
            Err(IdError::InvalidChar {
                ch: '/',
                position: 1
            })
        );
        assert!(matches!(
            PhotoId::parse("фото"),
            Err(IdError::InvalidChar { position: 0, .. })
        ));
        assert!(PhotoId::parse("a b").is_err());
    }

    #[test]
    fn photo_keys_reject_traversal_absolute_and_control_characters() {
        assert!(PhotoKey::parse("sessions/s1/p1.jpg").is_ok());
        assert!(PhotoKey::parse("sessions/s1/..hidden.jpg").is_ok());
        assert_eq!(PhotoKey::parse("/etc/passwd"), Err(PhotoKeyError::Absolute));
        assert_eq!(
            PhotoKey::parse("a/../../b"),
            Err(PhotoKeyError::ParentSegment)
        );
        assert_eq!(PhotoKey::parse(".."), Err(PhotoKeyError::ParentSegment));
        assert_eq!(PhotoKey::parse("a\nb"), Err(PhotoKeyError::BadCharacter));
        assert_eq!(
            PhotoKey::parse("a\\..\\b"),
            Err(PhotoKeyError::BadCharacter)
        );
        assert_eq!(PhotoKey::parse(""), Err(PhotoKeyError::Empty));
        assert!(matches!(
            PhotoKey::parse("k".repeat(1025)),
            Err(PhotoKeyError::TooLong { .. })
        ));
    }
}
