//! A session's people as the database holds them (`faces.person_id`, migration 0004), read
//! for the listing routes: persons by photo count with their cover face, and one person's
//! faces best first. Both are keyset pages.

use facepass_domain::ports::{
    PeopleQuery, PersonFace, PersonFacesQuery, PersonSummary, StoreError, StoredFace,
};
use facepass_domain::{BoundingBox, FaceId, PersonId, PhotoId, SessionId};
use sea_orm::{ConnectionTrait, DatabaseConnection, QueryResult, Value};

use crate::load::parse_uuid;
use crate::store_error;
use crate::syntax::Syntax;

/// The face columns of [`face_of`], from table alias `f`.
const FACE_COLUMNS: &str = "f.photo_id, CAST(f.face_id AS TEXT), f.bbox_x, f.bbox_y, f.bbox_width, \
                            f.bbox_height, f.det_score";

/// A face from the columns of [`FACE_COLUMNS`] starting at `at`.
fn face_of(row: &QueryResult, at: usize) -> Result<PersonFace, StoreError> {
    let f = |i: usize| {
        row.try_get_by_index::<f32>(at + i)
            .or_else(|_| row.try_get_by_index::<f64>(at + i).map(|v| v as f32))
            .map_err(store_error)
    };
    let photo: String = row.try_get_by_index(at).map_err(store_error)?;
    let face: String = row.try_get_by_index(at + 1).map_err(store_error)?;
    Ok(PersonFace {
        photo_id: PhotoId::parse(photo)
            .map_err(|e| StoreError::Unexpected(format!("stored photo id: {e}")))?,
        face: StoredFace {
            face_id: FaceId::from_uuid(uuid::Uuid::from_u128(parse_uuid(&face)?)),
            bbox: BoundingBox {
                x: f(2)?,
                y: f(3)?,
                width: f(4)?,
                height: f(5)?,
            },
            det_score: f(6)?,
        },
    })
}

/// A page of the session's persons, most photos first (ties by id), each with its cover: its
/// face with the highest detector score, then the tallest, then the oldest.
pub async fn people(
    db: &DatabaseConnection,
    sql: &dyn Syntax,
    session: &SessionId,
    query: &PeopleQuery,
) -> Result<Vec<PersonSummary>, StoreError> {
    // Without a cursor the page starts above every count (the person id is then never read).
    let (before_photos, after_person) = match query.after {
        Some(c) => (c.photos as i64, c.person.to_string()),
        None => (i64::MAX, uuid::Uuid::nil().to_string()),
    };
    let after = sql.uuid_param(4);
    let select = format!(
        "WITH p AS ( \
             SELECT person_id, count(DISTINCT photo_id) AS photos, count(*) AS faces FROM faces \
             WHERE session_id = $1 AND person_id IS NOT NULL GROUP BY person_id \
         ), c AS ( \
             SELECT person_id, photo_id, face_id, bbox_x, bbox_y, bbox_width, bbox_height, \
                 det_score, row_number() OVER (PARTITION BY person_id \
                 ORDER BY det_score DESC, bbox_height DESC, face_id) AS rank \
             FROM faces WHERE session_id = $1 AND person_id IS NOT NULL \
         ) \
         SELECT CAST(p.person_id AS TEXT), p.photos, p.faces, {FACE_COLUMNS} \
         FROM p JOIN c f ON f.person_id = p.person_id AND f.rank = 1 \
         WHERE p.photos >= $2 AND (p.photos < $3 OR (p.photos = $3 AND p.person_id > {after})) \
         ORDER BY p.photos DESC, p.person_id LIMIT $5"
    );
    let values: Vec<Value> = vec![
        session.as_str().into(),
        (query.min_photos as i64).into(),
        before_photos.into(),
        after_person.into(),
        (query.limit as i64).into(),
    ];
    let rows = db
        .query_all_raw(sql.statement(&select, values))
        .await
        .map_err(store_error)?;
    rows.iter()
        .map(|row| {
            let person: String = row.try_get_by_index(0).map_err(store_error)?;
            let count = |i: usize| {
                row.try_get_by_index::<i64>(i)
                    .map(|n| n.max(0) as u64)
                    .map_err(store_error)
            };
            Ok(PersonSummary {
                person: PersonId::from_uuid(uuid::Uuid::from_u128(parse_uuid(&person)?)),
                photos: count(1)?,
                faces: count(2)?,
                cover: face_of(row, 3)?,
            })
        })
        .collect()
}

/// A page of one person's faces, highest detector score first (ties by face id); `None`
/// when the session has no face of that person.
pub async fn person_faces(
    db: &DatabaseConnection,
    sql: &dyn Syntax,
    session: &SessionId,
    person: &PersonId,
    query: &PersonFacesQuery,
) -> Result<Option<Vec<PersonFace>>, StoreError> {
    let person_param = sql.uuid_param(2);
    // Without a cursor the page starts above every score (the face id is then never read).
    let select = format!(
        "SELECT {FACE_COLUMNS} FROM faces f WHERE f.session_id = $1 AND f.person_id = {person_param} \
         AND (f.det_score < $3 OR (f.det_score = $3 AND f.face_id > {})) \
         ORDER BY f.det_score DESC, f.face_id LIMIT $5",
        sql.uuid_param(4)
    );
    let (score, face) = match query.after {
        Some(c) => (c.det_score, c.face.to_string()),
        None => (f32::INFINITY, uuid::Uuid::nil().to_string()),
    };
    let values: Vec<Value> = vec![
        session.as_str().into(),
        person.to_string().into(),
        score.into(),
        face.into(),
        (query.limit as i64).into(),
    ];
    let rows = db
        .query_all_raw(sql.statement(&select, values))
        .await
        .map_err(store_error)?;
    if rows.is_empty() {
        let exists = format!(
            "SELECT 1 FROM faces WHERE session_id = $1 AND person_id = {person_param} LIMIT 1"
        );
        let found = db
            .query_one_raw(sql.statement(
                &exists,
                vec![session.as_str().into(), person.to_string().into()],
            ))
            .await
            .map_err(store_error)?;
        if found.is_none() {
            return Ok(None);
        }
    }
    rows.iter()
        .map(|r| face_of(r, 0))
        .collect::<Result<_, _>>()
        .map(Some)
}
