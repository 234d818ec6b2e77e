//! `GET /index/{session_id}/people` and `GET /index/{session_id}/people/{person_id}`: the
//! session's faces grouped into persons as photos are indexed (API key: biometric grouping,
//! the platform decides what to show).

use std::sync::Arc;

use facepass_domain::ports::{
    Embedder, FaceCursor, PeopleCursor, PeopleQuery, PersonFace, PersonFacesQuery, PhotoSource,
    VectorStore,
};
use facepass_domain::{FaceId, PersonId};
use poem_openapi::param::{Path, Query};
use poem_openapi::{Object, OpenApi};

use super::auth::ApiKeyAuth;
use super::dto::{ApiTags, BBox, IdField, UuidField};
use super::errors::{ApiError, ErrorCode, endpoint_response, respond};
use super::fields::{page_limit, parse_session};
use super::state::AppState;

/// Default page size.
const DEFAULT_LIMIT: i64 = 100;

/// A face of a person, with its photo.
#[derive(Debug, Object)]
#[oai(rename = "PersonFace")]
pub struct PersonFaceBody {
    pub photo_id: String,
    pub face_id: String,
    pub bbox: BBox,
}

impl From<PersonFace> for PersonFaceBody {
    fn from(f: PersonFace) -> Self {
        Self {
            photo_id: f.photo_id.to_string(),
            face_id: f.face.face_id.to_string(),
            bbox: f.face.bbox.into(),
        }
    }
}

/// One person of a session, with its cover (the person's most confident face).
#[derive(Debug, Object)]
#[oai(rename = "Person")]
pub struct PersonBody {
    /// Stable while the person exists; when two persons merge, the older id stays.
    pub person_id: String,
    pub photo_count: u64,
    pub face_count: u64,
    // No doc comment: it would turn the `$ref` into an `allOf` and give generated clients a
    // second type for the same face.
    pub cover: PersonFaceBody,
}

#[derive(Debug, Object)]
#[oai(rename = "PeoplePage")]
pub struct PeopleBody {
    pub session_id: String,
    /// Most photos first, ties by `person_id`.
    pub people: Vec<PersonBody>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Object)]
#[oai(rename = "PersonPhotos")]
pub struct PersonPhotosBody {
    pub session_id: String,
    pub person_id: String,
    /// The person's faces with their photos, best first (highest detector confidence).
    pub photos: Vec<PersonFaceBody>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

endpoint_response!(
    /// Answers of `GET /index/{session_id}/people`.
    PeopleResponse => PeopleBody {
        400 BadRequest: "`invalid_request`: an invalid `session_id`, `min_photos`, `limit` or `cursor` (`details.field`).",
        401 Unauthorized: "`unauthorized`: missing or unknown `X-API-Key`.",
        503 Unavailable: "`database_unavailable`.",
    }
    retry_after "`rate_limited`: this API key is over its request rate; retry after `Retry-After` seconds."
);

endpoint_response!(
    /// Answers of `GET /index/{session_id}/people/{person_id}`.
    PersonResponse => PersonPhotosBody {
        400 BadRequest: "`invalid_request`: an invalid `session_id`, `person_id`, `limit` or `cursor` (`details.field`).",
        401 Unauthorized: "`unauthorized`: missing or unknown `X-API-Key`.",
        404 NotFound: "`not_found`: the session has no such person (never, or no longer: merged into another, or its faces deleted).",
        503 Unavailable: "`database_unavailable`.",
    }
    retry_after "`rate_limited`: this API key is over its request rate; retry after `Retry-After` seconds."
);

#[derive(Debug)]
pub struct PeopleApi<E, S, P>(pub Arc<AppState<E, S, P>>);

#[OpenApi(tag = "ApiTags::Indexing")]
impl<E: Embedder, S: VectorStore, P: PhotoSource> PeopleApi<E, S, P> {
    /// People of a session
    ///
    /// The session's faces grouped into persons, kept up to date as photos are indexed,
    /// re-indexed, deleted, forgotten or purged. Most photos first, paged by `cursor`. A face
    /// grouped with no other face is no person. Not public: this is biometric grouping.
    #[oai(
        path = "/index/:session_id/people",
        method = "get",
        operation_id = "list_people"
    )]
    async fn people(
        &self,
        auth: ApiKeyAuth,
        session_id: Path<IdField>,
        /// Only persons in at least this many photos, 1.. (default 2).
        #[oai(validator(minimum(value = "1"), maximum(value = "1000000")))]
        min_photos: Query<Option<i64>>,
        /// Persons per page, 1..1000 (default 100).
        #[oai(validator(minimum(value = "1"), maximum(value = "1000")))]
        limit: Query<Option<i64>>,
        /// The previous page's `next_cursor`.
        cursor: Query<Option<String>>,
    ) -> PeopleResponse {
        respond(async {
            self.0.authorize(&auth)?;
            let session = parse_session("session_id", &session_id.0)?;
            let min_photos = match min_photos.0 {
                None => 2,
                Some(n) if n >= 1 => n as u64,
                Some(_) => return Err(ApiError::invalid_field("min_photos", "must be >= 1")),
            };
            let query = PeopleQuery {
                min_photos,
                limit: page_size(limit.0)?,
                after: cursor.0.as_deref().map(people_cursor).transpose()?,
            };
            let page = self.0.people.people(&session, query).await?;
            Ok(PeopleBody {
                session_id: session.to_string(),
                people: page
                    .people
                    .into_iter()
                    .map(|p| PersonBody {
                        person_id: p.person.to_string(),
                        photo_count: p.photos,
                        face_count: p.faces,
                        cover: p.cover.into(),
                    })
                    .collect(),
                next_cursor: page.next.map(|c| format!("{}.{}", c.photos, c.person)),
            })
        })
        .await
    }

    /// Photos of one person
    ///
    /// The person's faces with their photos, best first, paged by `cursor`.
    #[oai(
        path = "/index/:session_id/people/:person_id",
        method = "get",
        operation_id = "person_photos"
    )]
    async fn person(
        &self,
        auth: ApiKeyAuth,
        session_id: Path<IdField>,
        /// A `person_id` of the people list or of a search match (a UUID).
        person_id: Path<UuidField>,
        /// Photos per page, 1..1000 (default 100).
        #[oai(validator(minimum(value = "1"), maximum(value = "1000")))]
        limit: Query<Option<i64>>,
        /// The previous page's `next_cursor`.
        cursor: Query<Option<String>>,
    ) -> PersonResponse {
        respond(async {
            self.0.authorize(&auth)?;
            let session = parse_session("session_id", &session_id.0)?;
            let person = PersonId::parse(&person_id.0)
                .map_err(|e| ApiError::invalid_field("person_id", e))?;
            let query = PersonFacesQuery {
                limit: page_size(limit.0)?,
                after: cursor.0.as_deref().map(face_cursor).transpose()?,
            };
            let page = self
                .0
                .people
                .person(&session, &person, query)
                .await?
                .ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::NotFound,
                        format!("session {session} has no person {person}"),
                    )
                })?;
            Ok(PersonPhotosBody {
                session_id: session.to_string(),
                person_id: person.to_string(),
                photos: page.faces.into_iter().map(Into::into).collect(),
                next_cursor: page
                    .next
                    .map(|c| format!("{:08x}.{}", c.det_score.to_bits(), c.face)),
            })
        })
        .await
    }
}

fn page_size(limit: Option<i64>) -> Result<usize, ApiError> {
    page_limit(limit, DEFAULT_LIMIT)
}

fn bad_cursor() -> ApiError {
    ApiError::invalid_field("cursor", "not a cursor of this route")
}

/// `{photo_count}.{person_id}`.
fn people_cursor(raw: &str) -> Result<PeopleCursor, ApiError> {
    let (photos, person) = raw.split_once('.').ok_or_else(bad_cursor)?;
    Ok(PeopleCursor {
        photos: photos.parse().map_err(|_| bad_cursor())?,
        person: PersonId::parse(person).map_err(|_| bad_cursor())?,
    })
}

/// `{det_score as f32 bits, hex}.{face_id}`.
fn face_cursor(raw: &str) -> Result<FaceCursor, ApiError> {
    let (score, face) = raw.split_once('.').ok_or_else(bad_cursor)?;
    let det_score = u32::from_str_radix(score, 16)
        .map(f32::from_bits)
        .ok()
        .filter(|s| s.is_finite())
        .ok_or_else(bad_cursor)?;
    let face = uuid::Uuid::parse_str(face).map_err(|_| bad_cursor())?;
    Ok(FaceCursor {
        det_score,
        face: FaceId::from_uuid(face),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_junk_is_refused() {
        let person = PersonId::new();
        let c = people_cursor(&format!("14.{person}")).unwrap();
        assert_eq!((c.photos, c.person), (14, person));
        let face = FaceId::new();
        let c = face_cursor(&format!("{:08x}.{face}", 0.875f32.to_bits())).unwrap();
        assert_eq!((c.det_score, c.face), (0.875, face));
        for junk in ["", "14", "x.y", "14.not-a-uuid"] {
            assert!(people_cursor(junk).is_err(), "{junk:?}");
            assert!(face_cursor(junk).is_err(), "{junk:?}");
        }
    }
}
