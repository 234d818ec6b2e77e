//! Guest watches (migration 0006) on both backends: a watch row with its selfies' embeddings
//! (float32 blobs, never images), one match row per photo and watch (it goes with its face),
//! `watch.matched` webhooks written to the job queue's outbox with their data, and each end of
//! a watch audited in the transaction that deletes it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use facepass_domain::people::Evidence;
use facepass_domain::ports::{NoticeRenderer, StoreError, StoredFace, WatchStore};
use facepass_domain::use_cases::MatchRules;
use facepass_domain::watches::{
    EndedWatch, LiveWatch, MatchQuery, NewWatch, Watch, WatchEnd, WatchId, WatchMatch, WatchNotice,
    WatchScores,
};
use facepass_domain::{
    Actor, BoundingBox, FaceId, GuestRef, PersonId, PhotoId, SessionId, Threshold,
};
use sea_orm::{ConnectionTrait, DatabaseTransaction, QueryResult, TransactionTrait, Value};

use crate::cache::Entry;
use crate::index::SessionIndex;
use crate::jobs::{begin_write, exists, millis, unexpected};
use crate::lifecycle::record_watch_end;
use crate::store::{Dialect, SqlStore, scores_of};
use crate::syntax::Syntax;
use crate::{ensure_in_space, store_error, unix_millis};

/// The `webhook-type` of a watch's new matches.
pub const WATCH_MATCHED: &str = "watch.matched";

/// The columns [`watch_of`] reads, from `watches`.
const WATCH_COLUMNS: &str =
    "CAST(watch_id AS TEXT), session_id, guest_ref, threshold, created_at, expires_at";

/// The columns [`match_of`] reads, from `watch_matches`.
const MATCH_COLUMNS: &str = "seq, photo_id, CAST(face_id AS TEXT), CAST(person_id AS TEXT), \
     evidence, similarity, cosine, det_score, bbox_x, bbox_y, bbox_width, bbox_height, matched_at";

/// What this process knows of watches. A watch's embeddings never change: they are read
/// once. A session's live watches are kept with the session's `watches_generation` (migration
/// 0006: a fresh generation taken by every creation or end of one of its watches, and by the
/// session row's creation): a photo's write reads it under the session's lock, and while it is
/// the one the list was kept at, matching the photo needs no query. A watch created after that
/// read waits for the write's commit (it takes the same lock), and its creation searches the
/// session once it is live: the photo is not missed.
#[derive(Debug, Default)]
pub(crate) struct WatchQueries {
    known: Mutex<HashMap<WatchId, Arc<Vec<Vec<f32>>>>>,
    sessions: Mutex<HashMap<String, Generation<Arc<Vec<Listed>>>>>,
}

/// A value and the session's watch generation it holds at.
type Generation<T> = (i64, T);

/// A live watch as listed for a session.
#[derive(Debug, Clone)]
struct Listed {
    id: WatchId,
    margin: f32,
    expires_at: i64,
}

/// Watches whose embeddings and sessions whose watch lists are kept at most (about 6 KB per
/// watch at 512-d and three selfies).
const KNOWN_WATCHES: usize = 20_000;
const KNOWN_SESSIONS: usize = 4_096;

fn locked<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Inserts into a map kept under `cap` entries (emptied when full: what it holds can always
/// be read again).
fn insert_capped<K: std::hash::Hash + Eq, V>(map: &mut HashMap<K, V>, cap: usize, k: K, v: V) {
    if map.len() >= cap {
        map.clear();
    }
    map.insert(k, v);
}

impl WatchQueries {
    fn get(&self, id: &WatchId) -> Option<Arc<Vec<Vec<f32>>>> {
        locked(&self.known).get(id).cloned()
    }

    fn put(&self, id: WatchId, queries: Arc<Vec<Vec<f32>>>) {
        insert_capped(&mut locked(&self.known), KNOWN_WATCHES, id, queries);
    }

    fn forget(&self, id: &WatchId) {
        locked(&self.known).remove(id);
    }

    fn listed(&self, session: &str, generation: i64) -> Option<Arc<Vec<Listed>>> {
        locked(&self.sessions)
            .get(session)
            .filter(|(g, _)| *g == generation)
            .map(|(_, list)| list.clone())
    }

    fn list(&self, session: &str, generation: i64, list: Arc<Vec<Listed>>) {
        let mut sessions = locked(&self.sessions);
        insert_capped(
            &mut sessions,
            KNOWN_SESSIONS,
            session.to_owned(),
            (generation, list),
        );
    }
}

/// What `index` holds of `photo` for each watch: its faces (all of them) with their cosines to
/// the watch's selfies, their persons' links and the session's size.
fn score_photo(
    index: &SessionIndex,
    photo: &str,
    live: Vec<LiveWatch>,
) -> Result<Vec<WatchScores>, StoreError> {
    live.into_iter()
        .map(|watch| {
            let queries: Vec<&[f32]> = watch.queries.iter().map(Vec::as_slice).collect();
            let found = index.photo_candidates(photo, &queries);
            let scores = scores_of(index, &queries, found)?;
            Ok(WatchScores { watch, scores })
        })
        .collect()
}

/// Takes a fresh generation as the session's watches' inside a transaction that creates or
/// ends one of its watches. A creation also creates the session's row if it has none (waiting,
/// on Postgres, for a write that is creating it): every photo write of the session is then
/// ordered with the creation by the row's lock.
async fn bump_watches(
    txn: &DatabaseTransaction,
    sql: &dyn Syntax,
    session: &SessionId,
    creating: bool,
) -> Result<(), StoreError> {
    if let Some(prelude) = sql.generation_prelude() {
        txn.execute_unprepared(prelude).await.map_err(store_error)?;
    }
    let (statement, values): (String, Vec<Value>) = if creating {
        (
            format!(
                "INSERT INTO sessions (session_id, generation, removed_generation, created_at, \
                 watches_generation) SELECT $1, g.v, g.v, {}, g.v FROM {} WHERE true \
                 ON CONFLICT (session_id) DO UPDATE SET watches_generation = {}",
                sql.millis_param(2),
                sql.fresh_generation(),
                sql.fresh_generation_value()
            ),
            vec![
                session.as_str().into(),
                unix_millis(SystemTime::now()).into(),
            ],
        )
    } else {
        (
            format!(
                "UPDATE sessions SET watches_generation = {} WHERE session_id = $1",
                sql.fresh_generation_value()
            ),
            vec![session.as_str().into()],
        )
    };
    txn.execute_raw(sql.statement(&statement, values))
        .await
        .map_err(store_error)?;
    Ok(())
}

fn watch_id(raw: &str) -> Result<WatchId, StoreError> {
    WatchId::parse(raw).map_err(|e| unexpected("watch id", e))
}

fn watch_of(row: &QueryResult) -> Result<Watch, StoreError> {
    let text = |i: usize| row.try_get_by_index::<String>(i).map_err(store_error);
    let threshold = row.try_get_by_index::<f32>(3).map_err(store_error)?;
    Ok(Watch {
        id: watch_id(&text(0)?)?,
        session: SessionId::parse(text(1)?).map_err(|e| unexpected("session id", e))?,
        guest_ref: GuestRef::parse(text(2)?).map_err(|e| unexpected("guest ref", e))?,
        threshold: Threshold::new(threshold).map_err(|e| unexpected("threshold", e))?,
        created_at: millis(row, 4)?.unwrap_or(SystemTime::UNIX_EPOCH),
        expires_at: millis(row, 5)?.unwrap_or(SystemTime::UNIX_EPOCH),
    })
}

fn match_of(row: &QueryResult) -> Result<WatchMatch, StoreError> {
    let f = |i: usize| row.try_get_by_index::<f32>(i).map_err(store_error);
    let uuid = |i: usize, what: &str| -> Result<Option<uuid::Uuid>, StoreError> {
        row.try_get_by_index::<Option<String>>(i)
            .map_err(store_error)?
            .map(|s| uuid::Uuid::parse_str(&s).map_err(|e| unexpected(what, e)))
            .transpose()
    };
    let photo: String = row.try_get_by_index(1).map_err(store_error)?;
    let evidence: String = row.try_get_by_index(4).map_err(store_error)?;
    Ok(WatchMatch {
        seq: row.try_get_by_index(0).map_err(store_error)?,
        photo_id: PhotoId::parse(photo).map_err(|e| unexpected("photo id", e))?,
        face: StoredFace {
            face_id: FaceId::from_uuid(
                uuid(2, "face id")?.ok_or_else(|| unexpected("face id", "NULL"))?,
            ),
            bbox: BoundingBox {
                x: f(8)?,
                y: f(9)?,
                width: f(10)?,
                height: f(11)?,
            },
            det_score: f(7)?,
        },
        person: uuid(3, "person id")?.map(PersonId::from_uuid),
        evidence: match evidence.as_str() {
            "person" => Evidence::Person,
            _ => Evidence::Face,
        },
        similarity: f(5)?,
        cosine: f(6)?,
        matched_at: millis(row, 12)?.unwrap_or(SystemTime::UNIX_EPOCH),
    })
}

fn blob(queries: &[Vec<f32>]) -> Vec<u8> {
    queries
        .iter()
        .flat_map(|q| q.iter().flat_map(|x| x.to_le_bytes()))
        .collect()
}

fn unblob(bytes: &[u8], dim: usize) -> Result<Vec<Vec<f32>>, StoreError> {
    if dim == 0 || !bytes.len().is_multiple_of(4 * dim) {
        return Err(unexpected("watch embeddings", "length"));
    }
    Ok(bytes
        .chunks_exact(4 * dim)
        .map(|q| {
            q.chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect()
        })
        .collect())
}

/// Matches one insert writes at most (14 parameters each).
const MATCH_CHUNK: usize = 64;

/// Inserts matches (`notified` as given), leaving out a photo a watch has already and a face
/// or watch no longer stored: one statement per [`MATCH_CHUNK`] matches, through `c` (a
/// connection: each statement commits alone, or a transaction).
async fn insert_matches(
    c: &impl ConnectionTrait,
    sql: &dyn Syntax,
    matches: &[(WatchId, WatchMatch)],
    notified: bool,
) -> Result<(), StoreError> {
    for chunk in matches.chunks(MATCH_CHUNK) {
        let mut rows = Vec::with_capacity(chunk.len());
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 14);
        for (id, m) in chunk {
            let n = values.len();
            let p = |i: usize| format!("${}", n + i);
            rows.push(format!(
                "({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
                sql.uuid_param(n + 1),
                p(2),
                sql.uuid_param(n + 3),
                sql.uuid_param(n + 4),
                p(5),
                p(6),
                p(7),
                p(8),
                p(9),
                p(10),
                p(11),
                p(12),
                p(13),
                p(14)
            ));
            let b = m.face.bbox;
            values.extend([
                id.to_string().into(),
                m.photo_id.as_str().into(),
                m.face.face_id.to_string().into(),
                m.person.map(|p| p.to_string()).into(),
                m.evidence.as_str().into(),
                m.similarity.into(),
                m.cosine.into(),
                m.face.det_score.into(),
                b.x.into(),
                b.y.into(),
                b.width.into(),
                b.height.into(),
                unix_millis(m.matched_at).into(),
                notified.into(),
            ]);
        }
        let insert = format!(
            "INSERT INTO watch_matches (watch_id, photo_id, face_id, person_id, evidence, \
             similarity, cosine, det_score, bbox_x, bbox_y, bbox_width, bbox_height, matched_at, \
             notified) SELECT * FROM (VALUES {}) AS m \
             WHERE EXISTS (SELECT 1 FROM faces f WHERE f.face_id = m.column3) \
             AND EXISTS (SELECT 1 FROM watches w WHERE w.watch_id = m.column1) \
             ON CONFLICT (watch_id, photo_id) DO NOTHING",
            rows.join(", ")
        );
        c.execute_raw(sql.statement(&insert, values))
            .await
            .map_err(store_error)?;
    }
    Ok(())
}

/// Deletes the watch rows `delete` returns (`CAST(watch_id AS TEXT), session_id`) and audits
/// each end, inside `txn`.
async fn end_returned(
    txn: &DatabaseTransaction,
    sql: &dyn Syntax,
    delete: &str,
    values: Vec<Value>,
    reason: WatchEnd,
    actor: &Actor,
) -> Result<Vec<EndedWatch>, StoreError> {
    let rows = txn
        .query_all_raw(sql.statement(delete, values))
        .await
        .map_err(store_error)?;
    let mut ended = Vec::with_capacity(rows.len());
    for row in rows {
        let id: String = row.try_get_by_index(0).map_err(store_error)?;
        let session: String = row.try_get_by_index(1).map_err(store_error)?;
        let ended_watch = EndedWatch {
            session: SessionId::parse(session).map_err(|e| unexpected("session id", e))?,
            watch: watch_id(&id)?,
            reason,
        };
        record_watch_end(
            txn,
            sql,
            &ended_watch.session,
            &ended_watch.watch,
            reason,
            actor,
        )
        .await?;
        ended.push(ended_watch);
    }
    Ok(ended)
}

/// Ends every watch of a session inside the transaction that deletes it.
pub(crate) async fn end_session_watches(
    txn: &DatabaseTransaction,
    sql: &dyn Syntax,
    session: &SessionId,
    reason: WatchEnd,
    actor: &Actor,
) -> Result<Vec<EndedWatch>, StoreError> {
    end_returned(
        txn,
        sql,
        "DELETE FROM watches WHERE session_id = $1 RETURNING CAST(watch_id AS TEXT), session_id",
        vec![session.as_str().into()],
        reason,
        actor,
    )
    .await
}

impl<D: Dialect> SqlStore<D> {
    /// The session's watches live at `now` with their embeddings; `known`: the session's
    /// watch generation a write of this process read, whose list may be held already.
    async fn live(
        &self,
        c: &impl ConnectionTrait,
        session: &SessionId,
        now: SystemTime,
        known: Option<i64>,
    ) -> Result<Vec<LiveWatch>, StoreError> {
        let held = known.and_then(|g| self.watch_queries().listed(session.as_str(), g));
        let listed = match held {
            Some(list) => list,
            None => self.list_live(c, session, now).await?,
        };
        let now = unix_millis(now);
        let mut live = Vec::with_capacity(listed.len());
        for w in listed.iter().filter(|w| w.expires_at > now) {
            if let Some(queries) = self.queries_of(c, &w.id).await? {
                live.push(LiveWatch {
                    id: w.id,
                    margin: w.margin,
                    queries,
                });
            }
        }
        Ok(live)
    }

    /// Reads the session's live watches with its watch generation (in one statement, so the
    /// two agree) and keeps them under it.
    async fn list_live(
        &self,
        c: &impl ConnectionTrait,
        session: &SessionId,
        now: SystemTime,
    ) -> Result<Arc<Vec<Listed>>, StoreError> {
        let sql: &dyn Syntax = self.dialect();
        let rows = c
            .query_all_raw(sql.statement(
                "SELECT (SELECT watches_generation FROM sessions WHERE session_id = $1), \
                 CAST(w.watch_id AS TEXT), w.margin, w.expires_at \
                 FROM (SELECT 1 AS one) o LEFT JOIN watches w \
                 ON w.session_id = $1 AND w.expires_at > $2 ORDER BY w.watch_id",
                vec![session.as_str().into(), unix_millis(now).into()],
            ))
            .await
            .map_err(store_error)?;
        let mut generation = None;
        let mut listed = Vec::with_capacity(rows.len());
        for row in rows {
            generation = row
                .try_get_by_index::<Option<i64>>(0)
                .map_err(store_error)?;
            let Some(id) = row
                .try_get_by_index::<Option<String>>(1)
                .map_err(store_error)?
            else {
                continue;
            };
            listed.push(Listed {
                id: watch_id(&id)?,
                margin: row.try_get_by_index(2).map_err(store_error)?,
                expires_at: row.try_get_by_index(3).map_err(store_error)?,
            });
        }
        let listed = Arc::new(listed);
        if let Some(generation) = generation {
            self.watch_queries()
                .list(session.as_str(), generation, listed.clone());
        }
        Ok(listed)
    }

    /// A watch's embeddings, read once; `None` when it ended meanwhile.
    async fn queries_of(
        &self,
        c: &impl ConnectionTrait,
        id: &WatchId,
    ) -> Result<Option<Arc<Vec<Vec<f32>>>>, StoreError> {
        if let Some(known) = self.watch_queries().get(id) {
            return Ok(Some(known));
        }
        let sql: &dyn Syntax = self.dialect();
        let select = format!(
            "SELECT queries FROM watches WHERE watch_id = {}",
            sql.uuid_param(1)
        );
        let Some(row) = c
            .query_one_raw(sql.statement(&select, vec![id.to_string().into()]))
            .await
            .map_err(store_error)?
        else {
            return Ok(None);
        };
        let bytes: Vec<u8> = row.try_get_by_index(0).map_err(store_error)?;
        let queries = Arc::new(unblob(&bytes, self.space().dim)?);
        self.watch_queries().put(*id, queries.clone());
        Ok(Some(queries))
    }

    /// For each watch of the session live at `now`, what the session (read as search reads
    /// it) holds of `photo` for it; `known`: the session's watch generation the photo's write
    /// read, whose list of live watches may be held already.
    pub(crate) async fn scores_of_photo(
        &self,
        session: &SessionId,
        photo: &PhotoId,
        now: SystemTime,
        known: Option<i64>,
    ) -> Result<Vec<WatchScores>, StoreError> {
        let live = self.live(self.connection(), session, now, known).await?;
        if live.is_empty() {
            return Ok(Vec::new());
        }
        let photo = photo.as_str().to_owned();
        Ok(self
            .read_index(session, move |index| score_photo(index, &photo, live))
            .await?
            .transpose()?
            .unwrap_or_default())
    }

    /// Inside the transaction that writes `photo` (whose faces `entry`'s index already holds,
    /// under the writer's lock): its matches for the session's watches live now, as `rules`
    /// decide them, written with it. `known`: the session's watch generation the write read.
    pub(crate) async fn match_in(
        &self,
        txn: &DatabaseTransaction,
        entry: &Entry,
        session: &SessionId,
        photo: &PhotoId,
        known: i64,
        rules: &MatchRules,
    ) -> Result<(), StoreError> {
        let now = SystemTime::now();
        let live = self.live(txn, session, now, Some(known)).await?;
        if live.is_empty() {
            return Ok(());
        }
        let scored = match entry.read().as_ref() {
            Some(index) => score_photo(index, photo.as_str(), live)?,
            None => return Ok(()),
        };
        let found = rules.decide(scored, now);
        insert_matches(txn, self.dialect(), &found, false).await
    }

    /// Writes one due watch's `watch.matched` webhook; `false` when it was not due any more
    /// (another replica took it, or it ended).
    async fn notify_one(
        &self,
        id: &WatchId,
        now: SystemTime,
        interval: Duration,
        render: &NoticeRenderer,
    ) -> Result<bool, StoreError> {
        let sql: &dyn Syntax = self.dialect();
        let txn = begin_write(self.connection(), sql).await?;
        let due_by = unix_millis(now.checked_sub(interval).unwrap_or(SystemTime::UNIX_EPOCH));
        let select = format!(
            "SELECT {WATCH_COLUMNS} FROM watches WHERE watch_id = {} AND expires_at > $2 \
             AND (last_notified_at IS NULL OR last_notified_at <= $3){}",
            sql.uuid_param(1),
            sql.for_update_skip_locked()
        );
        let values: Vec<Value> = vec![
            id.to_string().into(),
            unix_millis(now).into(),
            due_by.into(),
        ];
        let Some(row) = txn
            .query_one_raw(sql.statement(&select, values))
            .await
            .map_err(store_error)?
        else {
            return Ok(false);
        };
        let watch = watch_of(&row)?;
        let pending = format!(
            "SELECT {MATCH_COLUMNS} FROM watch_matches WHERE watch_id = {} AND NOT notified \
             ORDER BY seq",
            sql.uuid_param(1)
        );
        let matches = txn
            .query_all_raw(sql.statement(&pending, vec![id.to_string().into()]))
            .await
            .map_err(store_error)?
            .iter()
            .map(match_of)
            .collect::<Result<Vec<_>, _>>()?;
        let oldest = matches.iter().map(|m| m.matched_at).min();
        if oldest.is_none_or(|at| unix_millis(at) > due_by) {
            return Ok(false);
        }
        let last = matches.last().map_or(0, |m| m.seq);
        let payload = render(&WatchNotice { watch, matches });
        let outbox = format!(
            "INSERT INTO webhook_outbox (event_id, event_type, job_id, target_url, created_at, \
             next_attempt_at, payload) VALUES ($2, $3, {}, NULL, $4, $4, $5)",
            sql.uuid_param(1)
        );
        let now_ms = unix_millis(now);
        txn.execute_raw(sql.statement(
            &outbox,
            vec![
                id.to_string().into(),
                format!("msg_{}", uuid::Uuid::now_v7().simple()).into(),
                WATCH_MATCHED.into(),
                now_ms.into(),
                payload.into(),
            ],
        ))
        .await
        .map_err(store_error)?;
        let watch_param = sql.uuid_param(1);
        for update in [
            format!(
                "UPDATE watch_matches SET notified = TRUE WHERE watch_id = {watch_param} \
                 AND NOT notified AND seq <= $2"
            ),
            format!("UPDATE watches SET last_notified_at = $2 WHERE watch_id = {watch_param}"),
        ] {
            let second: Value = if update.contains("seq") {
                last.into()
            } else {
                now_ms.into()
            };
            txn.execute_raw(sql.statement(&update, vec![id.to_string().into(), second]))
                .await
                .map_err(store_error)?;
        }
        txn.commit().await.map_err(store_error)?;
        Ok(true)
    }
}

#[async_trait]
impl<D: Dialect> WatchStore for SqlStore<D> {
    async fn create_watch(&self, new: NewWatch) -> Result<(), StoreError> {
        for query in &new.queries {
            ensure_in_space(self.space(), query)?;
        }
        let sql: &dyn Syntax = self.dialect();
        let queries: Vec<Vec<f32>> = new.queries.iter().map(|q| q.as_slice().to_vec()).collect();
        let w = &new.watch;
        let txn = self.connection().begin().await.map_err(store_error)?;
        bump_watches(&txn, sql, &w.session, true).await?;
        let insert = format!(
            "INSERT INTO watches (watch_id, session_id, guest_ref, threshold, margin, \
             query_count, queries, key_id, created_at, expires_at) \
             VALUES ({}, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            sql.uuid_param(1)
        );
        txn.execute_raw(sql.statement(
            &insert,
            vec![
                w.id.to_string().into(),
                w.session.as_str().into(),
                w.guest_ref.as_str().into(),
                w.threshold.value().into(),
                new.margin.into(),
                (queries.len() as i32).into(),
                blob(&queries).into(),
                new.key_id.clone().into(),
                unix_millis(w.created_at).into(),
                unix_millis(w.expires_at).into(),
            ],
        ))
        .await
        .map_err(store_error)?;
        let initial: Vec<(WatchId, WatchMatch)> =
            new.initial.iter().map(|m| (w.id, m.clone())).collect();
        insert_matches(&txn, sql, &initial, true).await?;
        txn.commit().await.map_err(store_error)?;
        self.watch_queries().put(w.id, Arc::new(queries));
        Ok(())
    }

    async fn watch(&self, session: &SessionId, id: &WatchId) -> Result<Option<Watch>, StoreError> {
        let sql: &dyn Syntax = self.dialect();
        let select = format!(
            "SELECT {WATCH_COLUMNS} FROM watches WHERE watch_id = {} AND session_id = $2 \
             AND expires_at > $3",
            sql.uuid_param(1)
        );
        self.connection()
            .query_one_raw(sql.statement(
                &select,
                vec![
                    id.to_string().into(),
                    session.as_str().into(),
                    unix_millis(SystemTime::now()).into(),
                ],
            ))
            .await
            .map_err(store_error)?
            .map(|row| watch_of(&row))
            .transpose()
    }

    async fn watch_matches(
        &self,
        id: &WatchId,
        query: &MatchQuery,
    ) -> Result<Vec<WatchMatch>, StoreError> {
        let sql: &dyn Syntax = self.dialect();
        let select = format!(
            "SELECT {MATCH_COLUMNS} FROM watch_matches WHERE watch_id = {} AND seq > $2 \
             AND matched_at >= $3 ORDER BY seq LIMIT $4",
            sql.uuid_param(1)
        );
        let rows = self
            .connection()
            .query_all_raw(sql.statement(
                &select,
                vec![
                    id.to_string().into(),
                    query.after.unwrap_or(0).into(),
                    query.since.map_or(0, unix_millis).into(),
                    (query.limit as i64).into(),
                ],
            ))
            .await
            .map_err(store_error)?;
        rows.iter().map(match_of).collect()
    }

    async fn live_watches(
        &self,
        session: &SessionId,
        now: SystemTime,
    ) -> Result<Vec<LiveWatch>, StoreError> {
        self.live(self.connection(), session, now, None).await
    }

    async fn live_watch_count(
        &self,
        session: &SessionId,
        now: SystemTime,
    ) -> Result<u64, StoreError> {
        let sql: &dyn Syntax = self.dialect();
        let row = self
            .connection()
            .query_one_raw(sql.statement(
                "SELECT count(*) FROM watches WHERE session_id = $1 AND expires_at > $2",
                vec![session.as_str().into(), unix_millis(now).into()],
            ))
            .await
            .map_err(store_error)?
            .ok_or_else(|| StoreError::Unexpected("count returned no row".into()))?;
        Ok(row.try_get_by_index::<i64>(0).map_err(store_error)?.max(0) as u64)
    }

    async fn record_matches(
        &self,
        matches: &[(WatchId, WatchMatch)],
        announced: bool,
    ) -> Result<(), StoreError> {
        insert_matches(self.connection(), self.dialect(), matches, announced).await
    }

    async fn end_watch(
        &self,
        session: &SessionId,
        id: &WatchId,
        reason: WatchEnd,
        actor: &Actor,
    ) -> Result<bool, StoreError> {
        let sql: &dyn Syntax = self.dialect();
        let txn = self.connection().begin().await.map_err(store_error)?;
        let delete = format!(
            "DELETE FROM watches WHERE watch_id = {} AND session_id = $2 \
             RETURNING CAST(watch_id AS TEXT), session_id",
            sql.uuid_param(1)
        );
        let values: Vec<Value> = vec![id.to_string().into(), session.as_str().into()];
        let ended = end_returned(&txn, sql, &delete, values, reason, actor).await?;
        if !ended.is_empty() {
            bump_watches(&txn, sql, session, false).await?;
        }
        txn.commit().await.map_err(store_error)?;
        self.watch_queries().forget(id);
        if !ended.is_empty() {
            self.checkpoint_erasure().await;
        }
        Ok(!ended.is_empty())
    }

    async fn end_expired_watches(
        &self,
        now: SystemTime,
        max: usize,
    ) -> Result<Vec<EndedWatch>, StoreError> {
        let sql: &dyn Syntax = self.dialect();
        let values = || -> Vec<Value> { vec![unix_millis(now).into(), (max as i64).into()] };
        if !exists(
            self.connection(),
            sql,
            "SELECT 1 FROM watches WHERE expires_at <= $1 LIMIT $2",
            values(),
        )
        .await?
        {
            return Ok(Vec::new());
        }
        let txn = begin_write(self.connection(), sql).await?;
        let delete = format!(
            "DELETE FROM watches WHERE watch_id IN (SELECT watch_id FROM watches \
             WHERE expires_at <= $1 ORDER BY expires_at, watch_id LIMIT $2{}) \
             RETURNING CAST(watch_id AS TEXT), session_id",
            sql.for_update_skip_locked()
        );
        let ended = end_returned(
            &txn,
            sql,
            &delete,
            values(),
            WatchEnd::Expired,
            &Actor::server(),
        )
        .await?;
        let sessions: std::collections::BTreeSet<&SessionId> =
            ended.iter().map(|e| &e.session).collect();
        for session in sessions {
            bump_watches(&txn, sql, session, false).await?;
        }
        txn.commit().await.map_err(store_error)?;
        for e in &ended {
            self.watch_queries().forget(&e.watch);
        }
        if !ended.is_empty() {
            self.checkpoint_erasure().await;
        }
        Ok(ended)
    }

    async fn notify_due(
        &self,
        now: SystemTime,
        interval: Duration,
        max: usize,
        render: &NoticeRenderer,
    ) -> Result<usize, StoreError> {
        let sql: &dyn Syntax = self.dialect();
        let due_by = unix_millis(now.checked_sub(interval).unwrap_or(SystemTime::UNIX_EPOCH));
        // A read first: an idle replica polls without a write transaction.
        let rows = self
            .connection()
            .query_all_raw(sql.statement(
                "SELECT DISTINCT CAST(w.watch_id AS TEXT) FROM watches w \
                 JOIN watch_matches m ON m.watch_id = w.watch_id \
                 WHERE NOT m.notified AND m.matched_at <= $1 AND w.expires_at > $2 \
                 AND (w.last_notified_at IS NULL OR w.last_notified_at <= $1) LIMIT $3",
                vec![due_by.into(), unix_millis(now).into(), (max as i64).into()],
            ))
            .await
            .map_err(store_error)?;
        let mut written = 0;
        for row in rows {
            let id = watch_id(&row.try_get_by_index::<String>(0).map_err(store_error)?)?;
            if self.notify_one(&id, now, interval, render).await? {
                written += 1;
            }
        }
        Ok(written)
    }
}
