//! Use case: guest watches. A watch is created from a consenting guest's selfies (chosen and
//! judged as a search's; only their embeddings are kept) and answers the matches the session
//! already has; afterwards every photo indexed into the session is matched against the
//! session's live watches by the rules search uses ([`MatchRules`], applied by the store in the
//! transaction that writes the photo), on that photo's faces alone (no search over the session
//! per watch), and each new match is recorded once.

use std::sync::Arc;
use std::time::SystemTime;

use crate::calibration::SimilarityCalibration;
use crate::embedding::Threshold;
use crate::face::{ImageBytes, Pixels};
use crate::ids::{GuestRef, SessionId};
use crate::lifecycle::Actor;
use crate::people::{Matcher, PeoplePolicy};
use crate::ports::{Embedder, StoreError, VectorStore, WatchStore};
use crate::use_cases::search_by_selfie::{
    PoorSelfieReason, QueryFace, SearchBySelfie, SearchSelfieError, SelfieMatch, best_per_photo,
};
use crate::watches::{
    MAX_WATCH_DURATION, NewWatch, Watch, WatchEnd, WatchId, WatchMatch, WatchScores,
};

#[derive(Debug, Clone, PartialEq)]
pub struct WatchRequest {
    pub session: SessionId,
    /// One to three selfies of the guest, chosen and judged by the search's rules.
    pub selfies: Vec<ImageBytes>,
    pub face_index: Option<usize>,
    pub guest_ref: GuestRef,
    pub threshold: Threshold,
    pub expires_at: SystemTime,
    /// The guest agreed, in the platform's UI, to have their face matched against new photos.
    pub consent: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CreatedWatch {
    pub watch: Watch,
    pub query_faces: Vec<QueryFace>,
    /// The photos already indexed that match, as search returns them (all of them).
    pub matches: Vec<SelfieMatch>,
    pub warnings: Vec<PoorSelfieReason>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WatchError {
    #[error("the guest's consent is required (consent must be true)")]
    ConsentRequired,
    #[error("expires_at {0}")]
    Expiry(&'static str),
    #[error(transparent)]
    Selfie(#[from] SearchSelfieError),
}

impl From<StoreError> for WatchError {
    fn from(e: StoreError) -> Self {
        Self::Selfie(SearchSelfieError::Store(e))
    }
}

/// How a photo's faces are matched for watches: search's people rules and calibration. A
/// store applies it inside the transaction that writes the photo
/// ([`VectorStore::replace_photo_watched`]), so a photo and its matches commit together.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MatchRules {
    calibration: SimilarityCalibration,
    people: PeoplePolicy,
}

impl MatchRules {
    pub fn new(calibration: SimilarityCalibration, people: PeoplePolicy) -> Self {
        Self {
            calibration,
            people,
        }
    }

    /// The matches of each watch among what `scored` reports of one photo: what a search
    /// with the watch's selfies and threshold returns of that photo (its best face).
    pub fn decide(&self, scored: Vec<WatchScores>, now: SystemTime) -> Vec<(WatchId, WatchMatch)> {
        let mut found = Vec::new();
        for scored in scored {
            let matcher = Matcher {
                policy: &self.people,
                margin: scored.watch.margin,
            };
            let accepted = matcher.accept(&scored.scores, scored.watch.queries.len());
            let best = best_per_photo(&self.calibration, scored.scores, &accepted);
            found.extend(
                best.into_iter()
                    .map(|m| (scored.watch.id, watch_match(m, now))),
            );
        }
        found
    }
}

/// The rules indexing matches photos with (see [`MatchRules`]), and the end of the watches of
/// a guest who asked to be forgotten.
#[derive(Clone)]
pub struct WatchMatcher {
    watches: Arc<dyn WatchStore>,
    rules: MatchRules,
}

impl std::fmt::Debug for WatchMatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchMatcher").finish_non_exhaustive()
    }
}

impl WatchMatcher {
    /// Decides with `search`'s rules.
    pub fn new<E: Embedder, S: VectorStore>(
        watches: Arc<dyn WatchStore>,
        search: &SearchBySelfie<E, S>,
    ) -> Self {
        let (calibration, _, people) = search.rules();
        Self {
            watches,
            rules: MatchRules {
                calibration,
                people,
            },
        }
    }

    /// The rules a store applies when it writes a photo.
    pub fn rules(&self) -> &MatchRules {
        &self.rules
    }

    /// Ends the session's watches of the guest whose selfies are `queries` (a `forget`):
    /// a watch is that guest's when one of its selfies and one of these match as one face
    /// matches another at `threshold`. Returns how many ended.
    ///
    /// # Errors
    /// The store's.
    pub async fn end_for_guest(
        &self,
        session: &SessionId,
        queries: &[Vec<f32>],
        threshold: Threshold,
        actor: &Actor,
    ) -> Result<u64, StoreError> {
        let at = |t: Threshold| self.rules.calibration.cosine_at(t.value());
        let needed = self.rules.people.face_cosine(1) + (at(threshold) - at(Threshold::DEFAULT));
        let mut ended = 0;
        for watch in self
            .watches
            .live_watches(session, SystemTime::now())
            .await?
        {
            let same_guest = watch.queries.iter().any(|w| {
                queries
                    .iter()
                    .any(|q| crate::embedding::dot(w, q) >= needed)
            });
            if same_guest
                && self
                    .watches
                    .end_watch(session, &watch.id, WatchEnd::Forgotten, actor)
                    .await?
            {
                ended += 1;
            }
        }
        Ok(ended)
    }
}

fn watch_match(m: SelfieMatch, now: SystemTime) -> WatchMatch {
    WatchMatch {
        seq: 0,
        photo_id: m.photo_id,
        face: m.face,
        person: m.person,
        evidence: m.evidence,
        similarity: m.similarity,
        cosine: m.cosine,
        matched_at: now,
    }
}

/// Creates, reads and ends watches.
pub struct WatchGuest<E, S> {
    search: Arc<SearchBySelfie<E, S>>,
    store: Arc<S>,
    watches: Arc<dyn WatchStore>,
}

impl<E, S> std::fmt::Debug for WatchGuest<E, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchGuest").finish_non_exhaustive()
    }
}

impl<E: Embedder, S: VectorStore> WatchGuest<E, S> {
    pub fn new(
        search: Arc<SearchBySelfie<E, S>>,
        store: Arc<S>,
        watches: Arc<dyn WatchStore>,
    ) -> Self {
        Self {
            search,
            store,
            watches,
        }
    }

    /// Checks consent and expiry, chooses each selfie's face, finds the session's current
    /// matches and stores the watch (its embeddings, never the selfies).
    ///
    /// # Errors
    /// [`WatchError::ConsentRequired`] without consent; [`WatchError::Expiry`] for an expiry
    /// not in the future, more than [`MAX_WATCH_DURATION`] ahead or after the session's own;
    /// the search's errors for the selfies (`poor_selfie` when every selfie is poor and
    /// nothing matches: a watch that poor would not find the guest later either).
    pub async fn create(
        &self,
        request: WatchRequest,
        actor: &Actor,
        now: SystemTime,
    ) -> Result<CreatedWatch, WatchError> {
        if !request.consent {
            return Err(WatchError::ConsentRequired);
        }
        if request.expires_at <= now {
            return Err(WatchError::Expiry("must be in the future"));
        }
        if request.expires_at > now + MAX_WATCH_DURATION {
            return Err(WatchError::Expiry("must be at most 90 days ahead"));
        }
        let status = self
            .store
            .session_status(&request.session, Pixels::ZERO)
            .await?;
        if status
            .expires_at
            .is_some_and(|session_ends| request.expires_at > session_ends)
        {
            return Err(WatchError::Expiry("must not be after the session's expiry"));
        }
        let queries = self
            .search
            .query_faces(request.selfies, request.face_index)
            .await?;
        let (calibration, policy, _) = self.search.rules();
        let query_faces: Vec<QueryFace> = queries
            .iter()
            .map(|face| QueryFace {
                bbox: face.bbox,
                det_score: face.det_score,
                quality: face.quality,
                poor: policy.quality.reasons(&face.quality),
            })
            .collect();
        let matching = self
            .search
            .matching(&request.session, &queries, request.threshold)
            .await?;
        let first = best_per_photo(&calibration, matching.scores, &matching.accepted);
        let mut warnings: Vec<PoorSelfieReason> = query_faces
            .iter()
            .flat_map(|q| q.poor.iter().copied())
            .collect();
        warnings.sort();
        warnings.dedup();
        if first.is_empty() && query_faces.iter().all(|q| !q.poor.is_empty()) {
            return Err(SearchSelfieError::PoorSelfie {
                reasons: warnings,
                query_faces,
            }
            .into());
        }
        let watch = Watch {
            id: WatchId::new(),
            session: request.session,
            guest_ref: request.guest_ref,
            threshold: request.threshold,
            created_at: now,
            expires_at: request.expires_at,
        };
        self.watches
            .create_watch(NewWatch {
                watch: watch.clone(),
                margin: self.search.margin(request.threshold),
                queries: queries.iter().map(|q| q.embedding.clone()).collect(),
                key_id: actor.key_id.clone(),
                initial: first.into_iter().map(|m| watch_match(m, now)).collect(),
            })
            .await?;
        // A photo written while the watch was being created may have been matched against
        // the live watches before this one existed and missed by the search above: searched
        // again now that the watch is live, so no photo falls between the two.
        let again = self
            .search
            .matching(&watch.session, &queries, request.threshold)
            .await?;
        let matches = best_per_photo(&calibration, again.scores, &again.accepted);
        let answered: Vec<(WatchId, WatchMatch)> = matches
            .iter()
            .map(|m| (watch.id, watch_match(m.clone(), now)))
            .collect();
        if !answered.is_empty() {
            self.watches.record_matches(&answered, true).await?;
        }
        Ok(CreatedWatch {
            watch,
            query_faces,
            matches,
            warnings,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::face::BoundingBox;
    use crate::ids::{FaceId, PersonId, PhotoId};
    use crate::people::{Evidence, ScoredFace, ScoredPerson, SessionScores};
    use crate::ports::{MockEmbedder, MockVectorStore, MockWatchStore, SessionStats, StoredFace};
    use crate::use_cases::search_by_selfie::SelfiePolicy;
    use crate::use_cases::search_by_selfie::tests::people;
    use crate::use_cases::test_support::{analysis, face};
    use crate::watches::{LiveWatch, WatchScores};

    fn calibration() -> SimilarityCalibration {
        SimilarityCalibration::through(0.42, 0.7, 12.0).unwrap()
    }

    fn search_over(
        store: MockVectorStore,
    ) -> (
        Arc<SearchBySelfie<MockEmbedder, MockVectorStore>>,
        Arc<MockVectorStore>,
    ) {
        let mut embedder = MockEmbedder::new();
        embedder
            .expect_analyze()
            .returning(|_, _| Ok(analysis(vec![face(200.0, 0)])));
        let store = Arc::new(store);
        let search = SearchBySelfie::new(
            Arc::new(embedder),
            store.clone(),
            calibration(),
            SelfiePolicy::default(),
            people(),
        );
        (Arc::new(search), store)
    }

    fn scored(photo: &str, person: Option<PersonId>, cosine: f32) -> ScoredFace {
        ScoredFace {
            photo_id: PhotoId::parse(photo).unwrap(),
            face: StoredFace {
                face_id: FaceId::new(),
                bbox: BoundingBox {
                    x: 0.0,
                    y: 0.0,
                    width: 60.0,
                    height: 60.0,
                },
                det_score: 0.9,
            },
            person,
            cosines: vec![cosine],
        }
    }

    fn request(consent: bool, expires_in: Duration) -> WatchRequest {
        WatchRequest {
            session: SessionId::parse("s1").unwrap(),
            selfies: vec![b"selfie".to_vec().into()],
            face_index: None,
            guest_ref: GuestRef::parse("guest-1").unwrap(),
            threshold: Threshold::DEFAULT,
            expires_at: SystemTime::now() + expires_in,
            consent,
        }
    }

    #[tokio::test]
    async fn a_photo_is_matched_for_each_watch_as_search_decides_person_evidence_included() {
        let guest = PersonId::new();
        let watch = WatchId::new();
        let other = WatchId::new();
        let live = |id| LiveWatch {
            id,
            margin: 0.0,
            queries: Arc::new(vec![vec![1.0, 0.0, 0.0, 0.0]]),
        };
        let photo_scores =
            move |faces: Vec<ScoredFace>, persons: Vec<ScoredPerson>| SessionScores {
                faces: 800,
                people: 40,
                candidates: faces,
                persons,
            };
        // For `watch`: a face weak alone (0.36) whose person links to the selfie, and a
        // stranger's face of the same photo. For `other`: nothing close.
        let for_watch = photo_scores(
            vec![scored("p1", Some(guest), 0.36), scored("p1", None, 0.10)],
            vec![ScoredPerson {
                person: guest,
                faces: 6,
                links: vec![0.47],
            }],
        );
        let guest_face = for_watch.candidates[0].face.face_id;
        let for_other = photo_scores(vec![scored("p1", None, 0.20)], Vec::new());
        let rules = MatchRules::new(calibration(), people());

        let found = rules.decide(
            vec![
                WatchScores {
                    watch: live(watch),
                    scores: for_watch,
                },
                WatchScores {
                    watch: live(other),
                    scores: for_other,
                },
            ],
            SystemTime::now(),
        );

        assert_eq!(found.len(), 1, "{found:?}");
        let (id, m) = &found[0];
        assert_eq!(
            (*id, m.face.face_id, m.evidence),
            (watch, guest_face, Evidence::Person)
        );
        assert!(m.similarity >= 0.7, "{m:?}");
    }

    #[tokio::test]
    async fn a_watch_needs_consent_and_an_expiry_within_90_days_and_the_sessions() {
        let mut store = MockVectorStore::new();
        store.expect_session_status().returning(|_, _| {
            Ok(SessionStats {
                expires_at: Some(SystemTime::now() + Duration::from_secs(3600)),
                ..SessionStats::default()
            })
        });
        let (search, store) = search_over(store);
        let mut watches = MockWatchStore::new();
        watches.expect_create_watch().never();
        let guest = WatchGuest::new(search, store, Arc::new(watches));
        let actor = Actor::key("k-1");
        // A moment after the requests are made: an expiry of "now" is then in the past.
        let now = SystemTime::now() + Duration::from_secs(1);
        let day = Duration::from_secs(24 * 3600);
        for (request, expected) in [
            (request(false, day), WatchError::ConsentRequired),
            (
                request(true, Duration::ZERO),
                WatchError::Expiry("must be in the future"),
            ),
            (
                request(true, 91 * day),
                WatchError::Expiry("must be at most 90 days ahead"),
            ),
            (
                request(true, 2 * Duration::from_secs(3600)),
                WatchError::Expiry("must not be after the session's expiry"),
            ),
        ] {
            assert_eq!(
                guest.create(request, &actor, now).await.unwrap_err(),
                expected
            );
        }
    }

    #[tokio::test]
    async fn a_watch_keeps_the_selfies_embedding_and_answers_the_current_matches() {
        let mut store = MockVectorStore::new();
        store
            .expect_session_status()
            .returning(|_, _| Ok(SessionStats::default()));
        store.expect_scores().returning(|_, _, _| {
            Ok(SessionScores {
                faces: 3,
                people: 0,
                candidates: vec![scored("p1", None, 0.8)],
                persons: Vec::new(),
            })
        });
        let (search, store) = search_over(store);
        let mut watches = MockWatchStore::new();
        watches
            .expect_create_watch()
            .withf(|w| {
                w.queries.len() == 1
                    && w.queries[0].as_slice()[0] == 1.0
                    && w.initial.len() == 1
                    && w.initial[0].photo_id.as_str() == "p1"
                    && w.margin == 0.0
                    && w.key_id.as_deref() == Some("k-1")
            })
            .times(1)
            .returning(|_| Ok(()));
        // Searched again once the watch is live: what it finds is recorded as answered.
        watches
            .expect_record_matches()
            .withf(|m, announced| *announced && m.len() == 1)
            .times(1)
            .returning(|_, _| Ok(()));
        let guest = WatchGuest::new(search, store, Arc::new(watches));

        let created = guest
            .create(
                request(true, Duration::from_secs(3600)),
                &Actor::key("k-1"),
                SystemTime::now(),
            )
            .await
            .unwrap();

        assert_eq!(created.matches.len(), 1);
        assert_eq!(created.watch.guest_ref.as_str(), "guest-1");
    }

    #[tokio::test]
    async fn forget_ends_the_watches_whose_selfies_are_the_same_guests() {
        let (same, stranger) = (WatchId::new(), WatchId::new());
        let mut watches = MockWatchStore::new();
        watches.expect_live_watches().returning(move |_, _| {
            Ok(vec![
                LiveWatch {
                    id: same,
                    margin: 0.0,
                    queries: Arc::new(vec![vec![0.8, 0.6, 0.0, 0.0]]),
                },
                LiveWatch {
                    id: stranger,
                    margin: 0.0,
                    queries: Arc::new(vec![vec![0.2, 0.0, 0.98, 0.0]]),
                },
            ])
        });
        watches
            .expect_end_watch()
            .withf(move |_, id, reason, _| *id == same && *reason == WatchEnd::Forgotten)
            .times(1)
            .returning(|_, _, _, _| Ok(true));
        let (search, _) = search_over(MockVectorStore::new());
        let matcher = WatchMatcher::new(Arc::new(watches), &search);

        let ended = matcher
            .end_for_guest(
                &SessionId::parse("s1").unwrap(),
                &[vec![1.0, 0.0, 0.0, 0.0]],
                Threshold::DEFAULT,
                &Actor::key("k-1"),
            )
            .await
            .unwrap();

        assert_eq!(ended, 1);
    }
}
