//! `VectorStore` implemented once for every SQL backend. What differs between backends is a
//! [`Dialect`]: how a face row is written (pgvector `vector` or a float32 blob) and read back.
//! Everything else is shared: transactions and session generations, the in-memory session
//! index that search scans and the grouping plans against ([`crate::cache`]), deletes,
//! expiry, audit, diff, status and the people listings.
//!
//! Every write of a session takes its generation first (the session row's lock orders the
//! session's writers), brings this process's index of the session current with what was
//! committed before it, plans the people against it ([`crate::grouping`]), writes rows and
//! plan, commits, and only then applies the plan to the index. Searches wait for the index
//! while a write of the same session holds it, so none reads an uncommitted face.

use std::collections::HashSet;
use std::fmt::Debug;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use facepass_domain::people::{PeoplePolicy, ScoredFace, ScoredPerson, SessionScores};
use facepass_domain::ports::{
    DeletedCounts, PeopleQuery, PersonFace, PersonFacesQuery, PersonSummary, SessionStats,
    StoreError, StoreTotals, StoredFace, VectorStore, WatchStore,
};
use facepass_domain::use_cases::MatchRules;
use facepass_domain::{
    Actor, AuditAction, AuditEvent, AuditQuery, Cosine, DetectedFace, Embedding, EmbeddingSpace,
    ExpiryUpdate, FaceId, ForgetCounts, PersonId, PhotoId, Pixels, SessionDiff, SessionId,
};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, QueryResult, TransactionTrait,
};

use crate::cache::{CacheStats, Entry, SessionCache};
use crate::generation::{self, Bumped, Write};
use crate::grouping::{self, NewFace, Plan};
use crate::index::{Candidate, LoadedFace, SessionIndex, Slot};
use crate::load::{self, Loaded, Range};
use crate::migrate::{self, Migration};
use crate::syntax::Syntax;
use crate::watches::WatchQueries;
use crate::{check_space, ensure_faces_in_space, ensure_in_space, lifecycle, store_error, writes};

/// A readiness probe answers within this long: a stopped server otherwise holds it for the
/// pool's whole connect timeout while the pool retries.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(5);

/// The backend-specific part of a SQL vector store.
#[async_trait]
pub trait Dialect: Syntax + Debug + Send + Sync + 'static {
    /// Writes the face rows of a photo inside the transaction that replaces it; the photo row
    /// is already written.
    async fn insert_faces(
        &self,
        txn: &DatabaseTransaction,
        space: &EmbeddingSpace,
        session: &SessionId,
        photo: &PhotoId,
        rows: &[FaceRow<'_>],
    ) -> Result<(), StoreError>;

    /// One statement reading a session and the faces of the photos written in a range of
    /// generations: `$1` the session, `$2` after, `$3` before. Photos with generation in
    /// `($2, $3)` are read, or every photo below `$3` when the session's
    /// `removed_generation` is in `($2, $3)`. Columns: `generation`, `removed_generation`,
    /// `photo_id`, face id and person id as text, `bbox_x`, `bbox_y`, `bbox_width`,
    /// `bbox_height`, `det_score`, the person id, the embedding (see [`load::load`] for the
    /// order). A photo without faces is one row with NULL face columns; a session without
    /// photos in the range one row of NULLs after its generations; no row: no such session.
    fn load_sql(&self) -> &'static str;

    /// The embedding in column `index` of a [`Self::load_sql`] row (`None`: NULL).
    fn embedding(&self, row: &QueryResult, index: usize) -> Result<Option<Vec<f32>>, StoreError>;

    /// [`VectorStore::scores`] computed by the database, for a session this process does not
    /// hold in memory; `None` where the backend cannot (the store then reads the session).
    /// No default: a dialect that wraps others must forward it.
    async fn scores_in_database(
        &self,
        db: &DatabaseConnection,
        session: &SessionId,
        queries: &[Embedding],
        floor: f32,
    ) -> Result<Option<SessionScores>, StoreError>;
}

/// One face row a photo's write inserts: the face, its stored form (id, box, score) and the
/// person the grouping gave it.
#[derive(Debug, Clone, Copy)]
pub struct FaceRow<'a> {
    pub face: &'a DetectedFace,
    pub stored: &'a StoredFace,
    pub person: Option<PersonId>,
}

/// What a store holds in memory and how it groups faces.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StoreOptions {
    /// Memory for sessions held in process (0: none is held: every search reads its session
    /// from the database, and new faces are not grouped).
    pub cache_bytes: usize,
    pub people: PeoplePolicy,
}

/// A `VectorStore` on one SQL database, speaking its [`Dialect`].
#[derive(Debug, Clone)]
pub struct SqlStore<D> {
    db: DatabaseConnection,
    space: EmbeddingSpace,
    dialect: D,
    cache: Arc<SessionCache>,
    people: PeoplePolicy,
    watches: Arc<WatchQueries>,
}

/// Which faces a removing write takes away.
#[derive(Debug, Clone, Copy)]
enum Removal<'a> {
    Photo(&'a PhotoId),
    Faces(&'a [FaceId]),
}

/// The stored faces a write takes away, as the grouping plan finds them in the index.
enum Removed {
    Nothing,
    Photo(String),
    Faces(Vec<u128>),
}

impl Removed {
    fn slots(&self, index: &SessionIndex) -> Vec<Slot> {
        match self {
            Removed::Nothing => Vec::new(),
            Removed::Photo(photo) => index.photo(photo).to_vec(),
            Removed::Faces(faces) => faces.iter().filter_map(|&f| index.find(f)).collect(),
        }
    }
}

impl<D: Dialect> SqlStore<D> {
    /// Applies `migrations` first when given, then checks the database holds `space`.
    pub async fn open(
        db: DatabaseConnection,
        space: EmbeddingSpace,
        migrations: Option<&[Migration]>,
        dialect: D,
        options: StoreOptions,
    ) -> Result<Self, StoreError> {
        if let Some(steps) = migrations {
            migrate::up(&db, &dialect, steps, &space)
                .await
                .map_err(store_error)?;
        }
        check_space(&db, &space).await?;
        Ok(Self {
            db,
            space,
            dialect,
            cache: Arc::new(SessionCache::new(options.cache_bytes)),
            people: options.people,
            watches: Arc::default(),
        })
    }

    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    pub fn dialect(&self) -> &D {
        &self.dialect
    }

    pub(crate) fn space(&self) -> &EmbeddingSpace {
        &self.space
    }

    pub(crate) fn watch_queries(&self) -> &WatchQueries {
        &self.watches
    }

    /// Runs the dialect's erasure checkpoint after biometric data was deleted. Best effort: the
    /// deletion is committed either way (a busy checkpoint is completed by a later one).
    pub(crate) async fn checkpoint_erasure(&self) {
        if let Some(statement) = self.dialect.erasure_checkpoint()
            && let Err(error) = self.db.execute_unprepared(statement).await
        {
            tracing::warn!(%error, "checkpoint after an erasure failed");
        }
    }

    /// How searches were answered so far, and the memory held.
    pub fn cache_stats(&self) -> CacheStats {
        self.cache.stats()
    }

    fn holds_sessions(&self) -> bool {
        self.cache.budget_bytes() > 0
    }

    /// Runs `read` on the session's index brought current with what was committed (off the
    /// async runtime's threads: a scan is milliseconds at 100k faces); `None`: no session.
    pub(crate) async fn read_index<T: Send + 'static>(
        &self,
        session: &SessionId,
        read: impl FnOnce(&SessionIndex) -> T + Send + 'static,
    ) -> Result<Option<T>, StoreError> {
        let entry = self.cache.entry(session.as_str());
        let own = {
            let _one_at_a_time = entry.refreshing.lock().await;
            match self.refresh_for_read(session, &entry).await? {
                Ok(own) => own,
                Err(()) => return Ok(None),
            }
        };
        tokio::task::spawn_blocking(move || match own {
            Some(index) => Some(read(&index)),
            None => entry.read().as_ref().map(read),
        })
        .await
        .map_err(|e| StoreError::Unexpected(format!("session scan: {e}")))
    }

    /// Brings `entry` current for a reader; returns the index to read when the session is
    /// not held (too large), or nothing when the entry is current. `Err(None)`: no session.
    async fn refresh_for_read(
        &self,
        session: &SessionId,
        entry: &Entry,
    ) -> Result<Result<Option<SessionIndex>, ()>, StoreError> {
        let dim = self.space.dim;
        if entry.is_oversized() || !self.holds_sessions() {
            let whole = Range {
                after: -1,
                before: i64::MAX,
            };
            self.cache
                .loaded
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return Ok(
                match load::load(&self.db, &self.dialect, dim, session, whole, usize::MAX).await? {
                    Loaded::Rebuilt(index) | Loaded::TooLarge(index) => Ok(Some(index)),
                    _ => Err(()),
                },
            );
        }
        let base = entry.read().as_ref().map_or(-1, |i| i.generation);
        let range = Range {
            after: base,
            before: i64::MAX,
        };
        let loaded = load::load(
            &self.db,
            &self.dialect,
            dim,
            session,
            range,
            self.cache.budget_bytes(),
        )
        .await?;
        self.cache
            .from_memory
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(match loaded {
            Loaded::Missing => {
                entry.clear();
                self.cache.forget(session.as_str());
                Err(())
            }
            Loaded::Unchanged => Ok(None),
            Loaded::Rebuilt(index) => {
                *entry.write() = Some(index);
                self.cache.trim();
                Ok(None)
            }
            Loaded::Changed { generation, photos } => {
                let mut guard = entry.write();
                match guard.as_mut() {
                    Some(index) if index.generation == base => {
                        for (photo, faces) in photos {
                            index.set_photo(&photo, faces);
                        }
                        index.generation = generation;
                    }
                    // Nothing else changes the entry while `refreshing` is held.
                    _ => {
                        return Err(StoreError::Unexpected(
                            "session index changed under its lock".into(),
                        ));
                    }
                }
                drop(guard);
                self.cache.trim();
                Ok(None)
            }
            Loaded::TooLarge(index) => {
                entry.mark_oversized();
                tracing::warn!(
                    session = session.as_str(),
                    "session too large for storage.search_cache_mb: its searches read it from the database and its new faces are not grouped"
                );
                Ok(Some(index))
            }
        })
    }

    /// Brings `entry` current inside a writer's transaction (which holds the session's lock
    /// and took generation `bumped`) with what was committed before it. `false`: the session
    /// is not held in memory, and the write groups nothing.
    async fn refresh_for_write(
        &self,
        txn: &DatabaseTransaction,
        session: &SessionId,
        bumped: &Bumped,
        entry: &Entry,
    ) -> Result<bool, StoreError> {
        if entry.is_oversized() || !self.holds_sessions() {
            return Ok(false);
        }
        let base = entry.read().as_ref().map(|i| i.generation);
        let after = match (bumped.previous, base) {
            (Some(previous), Some(base)) if previous.removed_generation <= base => base,
            _ => -1,
        };
        let range = Range {
            after,
            before: bumped.generation,
        };
        let loaded = load::load(
            txn,
            &self.dialect,
            self.space.dim,
            session,
            range,
            self.cache.budget_bytes(),
        )
        .await?;
        match loaded {
            Loaded::Missing | Loaded::Unchanged => {
                if entry.read().is_none() {
                    *entry.write() = Some(SessionIndex::new(-1, self.space.dim));
                }
            }
            Loaded::Rebuilt(index) => *entry.write() = Some(index),
            Loaded::Changed { photos, .. } => {
                let mut guard = entry.write();
                let index = guard
                    .as_mut()
                    .ok_or_else(|| StoreError::Unexpected("no session index to update".into()))?;
                for (photo, faces) in photos {
                    index.set_photo(&photo, faces);
                }
            }
            Loaded::TooLarge(_) => {
                entry.mark_oversized();
                tracing::warn!(
                    session = session.as_str(),
                    "session too large for storage.search_cache_mb: its new faces are not grouped"
                );
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The plan of a write against the entry's index, with the stored ids of the faces it
    /// moves (and their photos). The planning is CPU work (milliseconds per new face in a
    /// large session): it runs off the async runtime's threads.
    async fn plan_write(
        &self,
        entry: &Arc<Entry>,
        grouped: bool,
        removed: Removed,
        added: Vec<(String, Vec<f32>)>,
    ) -> Result<(Vec<Slot>, Plan, Vec<writes::Move>), StoreError> {
        let (entry, people) = (entry.clone(), self.people);
        tokio::task::spawn_blocking(move || {
            let guard = entry.read();
            let index = guard
                .as_ref()
                .ok_or_else(|| StoreError::Unexpected("no session index to plan on".into()))?;
            let removed = removed.slots(index);
            let pending: Vec<Slot> = if grouped {
                Vec::new()
            } else {
                let gone: HashSet<Slot> = removed.iter().copied().collect();
                index.live_slots().filter(|s| !gone.contains(s)).collect()
            };
            let added: Vec<NewFace> = added
                .iter()
                .map(|(photo, vector)| NewFace { photo, vector })
                .collect();
            let plan = grouping::plan(index, &people, &removed, &pending, &added);
            let moves = plan
                .moved
                .iter()
                .map(|&(slot, person)| writes::Move {
                    face: index.slot(slot).face_id,
                    photo: index.photo_name(slot).to_owned(),
                    person,
                })
                .collect();
            Ok((removed, plan, moves))
        })
        .await
        .map_err(|e| StoreError::Unexpected(format!("grouping plan: {e}")))?
    }

    /// Runs `write` as one transaction of a session that took generation `bumped`, holding
    /// the session's entry; `apply` updates the index after the commit. On failure the
    /// entry is dropped (it is loaded again when next needed).
    async fn commit_write<T>(
        &self,
        txn: DatabaseTransaction,
        entry: &Entry,
        generation: i64,
        held: bool,
        apply: impl FnOnce(&mut SessionIndex),
        result: Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let committed = match result {
            Ok(value) => txn.commit().await.map_err(store_error).map(|()| value),
            Err(e) => Err(e),
        };
        match &committed {
            Ok(_) if held => {
                if let Some(index) = entry.write().as_mut() {
                    apply(index);
                    index.generation = generation;
                }
                self.cache.trim();
            }
            Ok(_) => {}
            Err(_) => entry.clear(),
        }
        committed
    }

    /// Deletes a photo's or some faces' rows in one transaction that takes the session's
    /// generation, groups again what is left of their persons, and records the deletion.
    async fn remove(
        &self,
        session: &SessionId,
        removal: Removal<'_>,
        actor: &Actor,
    ) -> Result<(DeletedCounts, u64), StoreError> {
        let txn = self.db.begin().await.map_err(store_error)?;
        let (action, photo) = match removal {
            Removal::Photo(p) => (AuditAction::DeletePhoto, Some(p)),
            Removal::Faces(_) => (AuditAction::Forget, None),
        };
        let Some(bumped) = generation::bump(&txn, &self.dialect, session, Write::Remove).await?
        else {
            // No session row: the session holds nothing to remove.
            let none = DeletedCounts::default();
            lifecycle::record(&txn, &self.dialect, action, session, photo, none, actor).await?;
            txn.commit().await.map_err(store_error)?;
            return Ok((none, 0));
        };
        let entry = self.cache.entry(session.as_str());
        let _writing = entry.refreshing.lock().await;
        let grouped = bumped.previous.is_none_or(|p| p.grouped);
        let mut removed_slots = Vec::new();
        let mut plan = Plan::default();
        let result = async {
            let held = self
                .refresh_for_write(&txn, session, &bumped, &entry)
                .await?;
            let mut moves = Vec::new();
            if held {
                let removed = match removal {
                    Removal::Photo(p) => Removed::Photo(p.as_str().to_owned()),
                    Removal::Faces(faces) => {
                        Removed::Faces(faces.iter().map(|f| f.as_uuid().as_u128()).collect())
                    }
                };
                let (slots, p, m) = self
                    .plan_write(&entry, grouped, removed, Vec::new())
                    .await?;
                (removed_slots, plan, moves) = (slots, p, m);
            }
            // A guest's erasure removes faces, not photos: audited with no photo deleted.
            let (counts, affected) = match removal {
                Removal::Photo(p) => {
                    let counts = writes::delete_photo_rows(&txn, &self.dialect, session, p).await?;
                    (counts, counts.photos)
                }
                Removal::Faces(faces) => {
                    let forgotten =
                        writes::delete_faces(&txn, &self.dialect, session, faces).await?;
                    let audited = DeletedCounts {
                        photos: 0,
                        faces: forgotten.faces,
                    };
                    (audited, forgotten.photos)
                }
            };
            writes::move_faces(&txn, &self.dialect, session, bumped.generation, &moves).await?;
            if !held {
                writes::drop_lone_persons(&txn, &self.dialect, session).await?;
            } else if !grouped {
                writes::mark_grouped(&txn, &self.dialect, session).await?;
            }
            lifecycle::record(&txn, &self.dialect, action, session, photo, counts, actor).await?;
            Ok::<_, StoreError>((counts, affected, held))
        }
        .await;
        let held = result.as_ref().is_ok_and(|(_, _, held)| *held);
        let apply = |index: &mut SessionIndex| {
            for &(slot, person) in &plan.moved {
                index.set_person(slot, person);
            }
            match removal {
                Removal::Photo(p) => index.set_photo(p.as_str(), Vec::new()),
                Removal::Faces(_) => index.remove_faces(&removed_slots),
            }
        };
        self.commit_write(txn, &entry, bumped.generation, held, apply, result)
            .await
            .map(|(counts, affected, _)| (counts, affected))
    }
}

impl<D: Dialect> SqlStore<D> {
    /// Groups the faces of a session indexed before persons existed, in one transaction that
    /// takes the session's generation (as a removal does: readers elsewhere load it again).
    /// `false`: nothing to do (no session, grouped already) or the session cannot be held.
    async fn group_session(&self, session: &SessionId) -> Result<bool, StoreError> {
        let txn = self.db.begin().await.map_err(store_error)?;
        let Some(bumped) = generation::bump(&txn, &self.dialect, session, Write::Remove).await?
        else {
            return Ok(false);
        };
        if bumped.previous.is_none_or(|p| p.grouped) {
            // Another replica grouped it first: nothing to write (the bump is rolled back).
            return Ok(false);
        }
        let entry = self.cache.entry(session.as_str());
        let _writing = entry.refreshing.lock().await;
        let mut plan = Plan::default();
        let result = async {
            if !self
                .refresh_for_write(&txn, session, &bumped, &entry)
                .await?
            {
                return Ok(false);
            }
            let (_, p, moves) = self
                .plan_write(&entry, false, Removed::Nothing, Vec::new())
                .await?;
            plan = p;
            writes::move_faces(&txn, &self.dialect, session, bumped.generation, &moves).await?;
            writes::mark_grouped(&txn, &self.dialect, session).await?;
            Ok::<_, StoreError>(true)
        }
        .await;
        if matches!(result, Ok(false)) {
            return Ok(false);
        }
        let apply = |index: &mut SessionIndex| {
            for &(slot, person) in &plan.moved {
                index.set_person(slot, person);
            }
        };
        self.commit_write(txn, &entry, bumped.generation, true, apply, result)
            .await
    }
}

impl<D: Dialect> SqlStore<D> {
    /// Writes a photo (see [`VectorStore::replace_photo`]); with `rules`, its matches for the
    /// session's live watches too. Where the session is held, the plan is applied to the index
    /// before the commit (readers wait for the writer's lock; a failed commit drops the
    /// entry), the photo scored there for each watch and its matches written in the same
    /// transaction; otherwise they are recorded right after the commit.
    async fn write_photo(
        &self,
        session: &SessionId,
        photo: &PhotoId,
        faces: Vec<DetectedFace>,
        rules: Option<&MatchRules>,
    ) -> Result<Vec<StoredFace>, StoreError> {
        ensure_faces_in_space(&self.space, &faces)?;
        let stored: Vec<StoredFace> = faces
            .iter()
            .map(|f| StoredFace {
                face_id: FaceId::new(),
                bbox: f.bbox,
                det_score: f.det_score,
            })
            .collect();
        let txn = self.db.begin().await.map_err(store_error)?;
        let bumped = generation::bump(&txn, &self.dialect, session, Write::Index)
            .await?
            .ok_or_else(|| StoreError::Unexpected("indexing took no generation".into()))?;
        let entry = self.cache.entry(session.as_str());
        let _writing = entry.refreshing.lock().await;
        let grouped = bumped.previous.is_none_or(|p| p.grouped);
        // A new session's row took this write's generation as its watches'.
        let watches = bumped
            .previous
            .map_or(bumped.generation, |p| p.watches_generation);
        let mut plan = Plan::default();
        let mut applied = false;
        let result = async {
            let held = self
                .refresh_for_write(&txn, session, &bumped, &entry)
                .await?;
            let mut moves = Vec::new();
            if held {
                let new: Vec<(String, Vec<f32>)> = faces
                    .iter()
                    .map(|f| (photo.as_str().to_owned(), f.embedding.as_slice().to_vec()))
                    .collect();
                let removed = Removed::Photo(photo.as_str().to_owned());
                let (_, p, m) = self.plan_write(&entry, grouped, removed, new).await?;
                (plan, moves) = (p, m);
            }
            let rows: Vec<FaceRow> = faces
                .iter()
                .zip(&stored)
                .enumerate()
                .map(|(i, (face, stored))| FaceRow {
                    face,
                    stored,
                    person: plan
                        .added
                        .get(i)
                        .copied()
                        .flatten()
                        .map(|p| PersonId::from_uuid(uuid::Uuid::from_u128(p))),
                })
                .collect();
            writes::write_photo_row(
                &txn,
                &self.dialect,
                &self.space,
                session,
                photo,
                faces.len(),
                bumped.generation,
            )
            .await?;
            if !faces.is_empty() {
                self.dialect
                    .insert_faces(&txn, &self.space, session, photo, &rows)
                    .await?;
            }
            writes::move_faces(&txn, &self.dialect, session, bumped.generation, &moves).await?;
            if !held {
                writes::drop_lone_persons(&txn, &self.dialect, session).await?;
            } else if !grouped {
                writes::mark_grouped(&txn, &self.dialect, session).await?;
            }
            if let Some(rules) = rules
                && held
                && !faces.is_empty()
            {
                if let Some(index) = entry.write().as_mut() {
                    apply_photo(index, photo, &faces, &stored, &plan);
                    applied = true;
                }
                self.match_in(&txn, &entry, session, photo, watches, rules)
                    .await?;
            }
            Ok::<_, StoreError>(held)
        }
        .await;
        let held = result.as_ref().is_ok_and(|held| *held);
        let apply = |index: &mut SessionIndex| {
            if !applied {
                apply_photo(index, photo, &faces, &stored, &plan);
            }
        };
        self.commit_write(txn, &entry, bumped.generation, held, apply, result)
            .await?;
        if let Some(rules) = rules
            && !held
            && !faces.is_empty()
        {
            let now = SystemTime::now();
            let scored = self
                .scores_of_photo(session, photo, now, Some(watches))
                .await?;
            let found = rules.decide(scored, now);
            WatchStore::record_matches(self, &found, false).await?;
        }
        Ok(stored)
    }
}

/// A photo's write applied to the session's index: the moves of the plan, then the photo's
/// faces with their persons.
fn apply_photo(
    index: &mut SessionIndex,
    photo: &PhotoId,
    faces: &[DetectedFace],
    stored: &[StoredFace],
    plan: &Plan,
) {
    for &(slot, person) in &plan.moved {
        index.set_person(slot, person);
    }
    let loaded = faces
        .iter()
        .zip(stored)
        .zip(&plan.added)
        .map(|((face, s), person)| LoadedFace {
            face_id: s.face_id.as_uuid().as_u128(),
            bbox: s.bbox,
            det_score: s.det_score,
            person: *person,
            vector: face.embedding.as_slice().to_vec(),
        })
        .collect();
    index.set_photo(photo.as_str(), loaded);
}

/// The store's answer for `queries` from a session index.
fn session_scores(
    index: &SessionIndex,
    queries: &[Vec<f32>],
    floor: f32,
) -> Result<SessionScores, StoreError> {
    let queries: Vec<&[f32]> = queries.iter().map(Vec::as_slice).collect();
    let found = index.scores(&queries, floor);
    scores_of(index, &queries, found)
}

/// What a store reports of `found` faces of a session index for `queries`: the faces, the
/// links of their persons, and the session's size.
pub(crate) fn scores_of(
    index: &SessionIndex,
    queries: &[&[f32]],
    found: Vec<Candidate>,
) -> Result<SessionScores, StoreError> {
    let mut persons: Vec<ScoredPerson> = Vec::new();
    let mut seen = HashSet::new();
    let mut candidates = Vec::with_capacity(found.len());
    for c in found {
        let slot = index.slot(c.slot);
        if let Some(person) = slot.person
            && seen.insert(person)
            && let Some((faces, links)) = index.person_links(person, queries)
        {
            persons.push(ScoredPerson {
                person: PersonId::from_uuid(uuid::Uuid::from_u128(person)),
                faces,
                links,
            });
        }
        candidates.push(ScoredFace {
            photo_id: PhotoId::parse(index.photo_name(c.slot))
                .map_err(|e| StoreError::Unexpected(format!("stored photo id: {e}")))?,
            face: StoredFace {
                face_id: FaceId::from_uuid(uuid::Uuid::from_u128(slot.face_id)),
                bbox: slot.bbox,
                det_score: slot.det_score,
            },
            person: slot
                .person
                .map(|p| PersonId::from_uuid(uuid::Uuid::from_u128(p))),
            cosines: c.cosines,
        });
    }
    Ok(SessionScores {
        faces: index.faces(),
        people: index.persons().len() as u64,
        candidates,
        persons,
    })
}

#[async_trait]
impl<D: Dialect> VectorStore for SqlStore<D> {
    async fn indexed_faces(
        &self,
        session: &SessionId,
        photo: &PhotoId,
    ) -> Result<Option<u64>, StoreError> {
        crate::indexed_faces(&self.db, &self.dialect, session, photo).await
    }

    async fn replace_photo(
        &self,
        session: &SessionId,
        photo: &PhotoId,
        faces: Vec<DetectedFace>,
    ) -> Result<Vec<StoredFace>, StoreError> {
        self.write_photo(session, photo, faces, None).await
    }

    async fn replace_photo_watched(
        &self,
        session: &SessionId,
        photo: &PhotoId,
        faces: Vec<DetectedFace>,
        rules: &MatchRules,
    ) -> Result<Vec<StoredFace>, StoreError> {
        self.write_photo(session, photo, faces, Some(rules)).await
    }

    async fn scores(
        &self,
        session: &SessionId,
        queries: &[Embedding],
        floor: Cosine,
    ) -> Result<SessionScores, StoreError> {
        let floor = floor.value();
        for query in queries {
            ensure_in_space(&self.space, query)?;
        }
        let entry = self.cache.entry(session.as_str());
        if (entry.is_oversized() || !self.holds_sessions())
            && let Some(scores) = self
                .dialect
                .scores_in_database(&self.db, session, queries, floor)
                .await?
        {
            self.cache
                .loaded
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return Ok(scores);
        }
        let queries: Vec<Vec<f32>> = queries.iter().map(|q| q.as_slice().to_vec()).collect();
        Ok(self
            .read_index(session, move |index| session_scores(index, &queries, floor))
            .await?
            .transpose()?
            .unwrap_or_default())
    }

    async fn delete_session(
        &self,
        session: &SessionId,
        actor: &Actor,
    ) -> Result<DeletedCounts, StoreError> {
        let counts = writes::delete_session(&self.db, &self.dialect, session, actor).await?;
        self.cache.forget(session.as_str());
        Ok(counts)
    }

    async fn delete_photo(
        &self,
        session: &SessionId,
        photo: &PhotoId,
        actor: &Actor,
    ) -> Result<DeletedCounts, StoreError> {
        Ok(self.remove(session, Removal::Photo(photo), actor).await?.0)
    }

    async fn forget(
        &self,
        session: &SessionId,
        faces: &[FaceId],
        actor: &Actor,
    ) -> Result<ForgetCounts, StoreError> {
        let (counts, photos) = self.remove(session, Removal::Faces(faces), actor).await?;
        if counts.faces > 0 {
            self.checkpoint_erasure().await;
        }
        Ok(ForgetCounts {
            faces: counts.faces,
            photos,
            watches_ended: 0,
        })
    }

    async fn people(
        &self,
        session: &SessionId,
        query: &PeopleQuery,
    ) -> Result<Vec<PersonSummary>, StoreError> {
        crate::people::people(&self.db, &self.dialect, session, query).await
    }

    async fn person_faces(
        &self,
        session: &SessionId,
        person: &PersonId,
        query: &PersonFacesQuery,
    ) -> Result<Option<Vec<PersonFace>>, StoreError> {
        crate::people::person_faces(&self.db, &self.dialect, session, person, query).await
    }

    async fn set_expiry(
        &self,
        session: &SessionId,
        update: ExpiryUpdate,
    ) -> Result<Option<SystemTime>, StoreError> {
        lifecycle::set_expiry(&self.db, &self.dialect, session, update).await
    }

    async fn purge_expired(
        &self,
        now: SystemTime,
        max_sessions: usize,
    ) -> Result<Vec<(SessionId, DeletedCounts)>, StoreError> {
        let purged = lifecycle::purge_expired(&self.db, &self.dialect, now, max_sessions).await?;
        for (session, _) in &purged {
            self.cache.forget(session.as_str());
        }
        Ok(purged)
    }

    async fn group_pending(&self, max_sessions: usize) -> Result<Vec<SessionId>, StoreError> {
        let mut grouped = Vec::new();
        for session in writes::ungrouped_sessions(&self.db, &self.dialect).await? {
            if grouped.len() >= max_sessions {
                break;
            }
            if self.cache.entry(session.as_str()).is_oversized() || !self.holds_sessions() {
                continue;
            }
            if self.group_session(&session).await? {
                grouped.push(session);
            }
        }
        Ok(grouped)
    }

    async fn diff(
        &self,
        session: &SessionId,
        listed: &[PhotoId],
    ) -> Result<SessionDiff, StoreError> {
        lifecycle::diff(&self.db, &self.dialect, session, listed).await
    }

    async fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>, StoreError> {
        lifecycle::audit(&self.db, &self.dialect, query).await
    }

    async fn session_status(
        &self,
        session: &SessionId,
        small_face: Pixels,
    ) -> Result<SessionStats, StoreError> {
        crate::session_status(
            &self.db,
            &self.dialect,
            &self.space,
            session,
            small_face.value(),
        )
        .await
    }

    async fn totals(&self) -> Result<StoreTotals, StoreError> {
        crate::totals(&self.db).await
    }

    async fn health(&self) -> Result<(), StoreError> {
        match tokio::time::timeout(HEALTH_TIMEOUT, self.db.ping()).await {
            Ok(result) => result.map_err(store_error),
            Err(_) => Err(StoreError::Unavailable(format!(
                "no answer from the database within {HEALTH_TIMEOUT:?}"
            ))),
        }
    }
}
