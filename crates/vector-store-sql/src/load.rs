//! Bringing a session's [`SessionIndex`] current from the database: the dialect's
//! [`Dialect::load_sql`] reads the session's generations and the faces of the photos written
//! in a range of generations, in one statement (one snapshot), streamed so that memory grows
//! with the index, never with the result set.

use std::collections::HashMap;

use facepass_domain::ports::StoreError;
use facepass_domain::{BoundingBox, SessionId};
use futures::StreamExt;
use sea_orm::{ConnectionTrait, QueryResult, StreamTrait};

use crate::index::{LoadedFace, SessionIndex};
use crate::store::Dialect;
use crate::store_error;

/// Which rows to read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Range {
    /// Photos written after this generation (-1: every photo). When photos were removed after
    /// it (and before `before`), every photo is read instead: the index must be rebuilt.
    pub after: i64,
    /// Photos written before this generation (a writer reads what was committed before its
    /// own write); `i64::MAX` for a reader.
    pub before: i64,
}

/// What a load found.
#[derive(Debug)]
pub(crate) enum Loaded {
    /// The session has no row: never indexed, or deleted.
    Missing,
    /// The session's generation is `after`: nothing changed.
    Unchanged,
    /// Every photo of the session (a rebuild), at `generation`.
    Rebuilt(SessionIndex),
    /// The photos written since, each with all its faces (none: the photo has no face).
    Changed {
        generation: i64,
        photos: HashMap<String, Vec<LoadedFace>>,
    },
    /// The session is larger than `max_bytes`; what was read is in the index (complete when
    /// `complete`), which must not be kept.
    TooLarge(SessionIndex),
}

/// Reads `range` of `session` through `conn` (a connection, or a writer's transaction).
/// A rebuild stops keeping rows past `max_bytes` unless `finish_too_large`.
pub(crate) async fn load<C: ConnectionTrait + StreamTrait, D: Dialect>(
    conn: &C,
    dialect: &D,
    dim: usize,
    session: &SessionId,
    range: Range,
    max_bytes: usize,
) -> Result<Loaded, StoreError> {
    let stream = conn
        .stream_raw(dialect.statement(
            dialect.load_sql(),
            vec![
                session.as_str().into(),
                range.after.into(),
                range.before.into(),
            ],
        ))
        .await
        .map_err(store_error)?;
    let mut stream = std::pin::pin!(stream);
    let Some(first) = stream.next().await else {
        return Ok(Loaded::Missing);
    };
    let first = first.map_err(store_error)?;
    let generation: i64 = first.try_get_by_index(0).map_err(store_error)?;
    let removed: i64 = first.try_get_by_index(1).map_err(store_error)?;
    if generation == range.after && range.before == i64::MAX {
        return Ok(Loaded::Unchanged);
    }
    let rebuild = range.after < 0 || (removed > range.after && removed < range.before);
    let mut row = Some(first);
    if rebuild {
        let mut index = SessionIndex::new(generation, dim);
        let mut too_large = false;
        while let Some(r) = row {
            if let Some((photo, face)) = face_row(dialect, &r)? {
                index.add_face(&photo, face);
            }
            if !too_large && index.bytes() > max_bytes {
                too_large = true;
            }
            row = stream.next().await.transpose().map_err(store_error)?;
        }
        return Ok(if too_large {
            Loaded::TooLarge(index)
        } else {
            Loaded::Rebuilt(index)
        });
    }
    let mut photos: HashMap<String, Vec<LoadedFace>> = HashMap::new();
    while let Some(r) = row {
        if let Some(photo) = r
            .try_get_by_index::<Option<String>>(2)
            .map_err(store_error)?
        {
            let faces = photos.entry(photo).or_default();
            if let Some((_, face)) = face_row(dialect, &r)? {
                faces.push(face);
            }
        }
        row = stream.next().await.transpose().map_err(store_error)?;
    }
    Ok(Loaded::Changed { generation, photos })
}

/// One row's face, with its photo, if the row has one.
fn face_row<D: Dialect>(
    dialect: &D,
    row: &QueryResult,
) -> Result<Option<(String, LoadedFace)>, StoreError> {
    let photo = row
        .try_get_by_index::<Option<String>>(2)
        .map_err(store_error)?;
    let face = row
        .try_get_by_index::<Option<String>>(3)
        .map_err(store_error)?;
    let (Some(photo), Some(face)) = (photo, face) else {
        return Ok(None);
    };
    let vector = dialect
        .embedding(row, 10)?
        .ok_or_else(|| StoreError::Unexpected(format!("face {face} has no embedding")))?;
    let f = |i: usize| {
        row.try_get_by_index::<f32>(i)
            .or_else(|_| row.try_get_by_index::<f64>(i).map(|v| v as f32))
            .map_err(store_error)
    };
    Ok(Some((
        photo,
        LoadedFace {
            face_id: parse_uuid(&face)?,
            bbox: BoundingBox {
                x: f(4)?,
                y: f(5)?,
                width: f(6)?,
                height: f(7)?,
            },
            det_score: f(8)?,
            person: row
                .try_get_by_index::<Option<String>>(9)
                .map_err(store_error)?
                .map(|p| parse_uuid(&p))
                .transpose()?,
            vector,
        },
    )))
}

pub(crate) fn parse_uuid(text: &str) -> Result<u128, StoreError> {
    uuid::Uuid::parse_str(text)
        .map(|u| u.as_u128())
        .map_err(|e| StoreError::Unexpected(format!("stored id {text:?}: {e}")))
}
