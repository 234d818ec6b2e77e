//! Use case: the people of a session (faces grouped into persons as photos are indexed), and
//! one person's photos, in pages.

use std::sync::Arc;

use crate::ids::{PersonId, SessionId};
use crate::ports::{
    FaceCursor, PeopleCursor, PeopleQuery, PersonFace, PersonFacesQuery, PersonSummary, StoreError,
    VectorStore,
};

/// A page of people and where the next one starts (`None`: this is the last).
#[derive(Debug, Clone, PartialEq)]
pub struct PeoplePage {
    pub people: Vec<PersonSummary>,
    pub next: Option<PeopleCursor>,
}

/// A page of one person's faces and where the next one starts (`None`: this is the last).
#[derive(Debug, Clone, PartialEq)]
pub struct PersonPage {
    pub faces: Vec<PersonFace>,
    pub next: Option<FaceCursor>,
}

pub struct ListPeople<S> {
    store: Arc<S>,
}

impl<S> std::fmt::Debug for ListPeople<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ListPeople")
    }
}

impl<S: VectorStore> ListPeople<S> {
    pub fn new(store: Arc<S>) -> Self {
        Self { store }
    }

    /// The session's people with at least `query.min_photos` photos, most photos first.
    pub async fn people(
        &self,
        session: &SessionId,
        query: PeopleQuery,
    ) -> Result<PeoplePage, StoreError> {
        let limit = query.limit.max(1);
        let mut people = self
            .store
            .people(
                session,
                &PeopleQuery {
                    limit: limit + 1,
                    ..query
                },
            )
            .await?;
        let more = people.len() > limit;
        people.truncate(limit);
        let next = more
            .then(|| people.last())
            .flatten()
            .map(|last| PeopleCursor {
                photos: last.photos,
                person: last.person,
            });
        Ok(PeoplePage { people, next })
    }

    /// One person's faces, best first; `None` for a person the session does not have.
    pub async fn person(
        &self,
        session: &SessionId,
        person: &PersonId,
        query: PersonFacesQuery,
    ) -> Result<Option<PersonPage>, StoreError> {
        let limit = query.limit.max(1);
        let Some(mut faces) = self
            .store
            .person_faces(
                session,
                person,
                &PersonFacesQuery {
                    limit: limit + 1,
                    ..query
                },
            )
            .await?
        else {
            return Ok(None);
        };
        let more = faces.len() > limit;
        faces.truncate(limit);
        let next = more.then(|| faces.last()).flatten().map(|last| FaceCursor {
            det_score: last.face.det_score,
            face: last.face.face_id,
        });
        Ok(Some(PersonPage { faces, next }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{FaceId, PhotoId};
    use crate::ports::{MockVectorStore, StoredFace};
    use crate::use_cases::test_support::face;

    fn summary(photos: u64) -> PersonSummary {
        PersonSummary {
            person: PersonId::new(),
            photos,
            faces: photos,
            cover: person_face(0.9),
        }
    }

    fn person_face(det_score: f32) -> PersonFace {
        PersonFace {
            photo_id: PhotoId::parse("p1").unwrap(),
            face: StoredFace {
                face_id: FaceId::new(),
                bbox: face(10.0, 0).bbox,
                det_score,
            },
        }
    }

    #[tokio::test]
    async fn a_full_page_points_at_the_next_and_the_last_page_does_not() {
        let mut store = MockVectorStore::new();
        let listed = vec![summary(9), summary(4), summary(2)];
        let second = listed[1].person;
        store
            .expect_people()
            .withf(|_, q| q.limit == 3 && q.min_photos == 2)
            .returning(move |_, _| Ok(listed.clone()));
        let people = ListPeople::new(Arc::new(store));
        let session = SessionId::parse("s1").unwrap();

        let page = people
            .people(
                &session,
                PeopleQuery {
                    min_photos: 2,
                    limit: 2,
                    after: None,
                },
            )
            .await
            .unwrap();

        assert_eq!(page.people.len(), 2);
        assert_eq!(
            page.next,
            Some(PeopleCursor {
                photos: 4,
                person: second
            })
        );
    }

    #[tokio::test]
    async fn an_unknown_person_is_none_and_a_last_page_has_no_cursor() {
        let mut store = MockVectorStore::new();
        store.expect_person_faces().returning(|_, _, _| Ok(None));
        let people = ListPeople::new(Arc::new(store));
        let session = SessionId::parse("s1").unwrap();
        let query = PersonFacesQuery {
            limit: 10,
            after: None,
        };
        assert_eq!(
            people
                .person(&session, &PersonId::new(), query)
                .await
                .unwrap(),
            None
        );

        let mut store = MockVectorStore::new();
        store
            .expect_person_faces()
            .returning(|_, _, _| Ok(Some(vec![person_face(0.9), person_face(0.8)])));
        let page = ListPeople::new(Arc::new(store))
            .person(&session, &PersonId::new(), query)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(page.faces.len(), 2);
        assert_eq!(page.next, None);
    }
}
