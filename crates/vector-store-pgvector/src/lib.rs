//! The PostgreSQL + pgvector dialect of the SQL `VectorStore` (sea-orm over sqlx). Search is
//! exact: every face of the session is scored by inner product (the vectors are unit length, so
//! that is the cosine) and the best face per photo is kept. With the search cache on (the
//! default), an in-process int8 copy of the session picks the candidate faces with a proven
//! error bound and Postgres scores only those (see [`cache`]); otherwise, or when the cache
//! cannot answer, a B-tree on `session_id` narrows the scan to the session.

mod cache;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_trait::async_trait;
use facepass_domain::ports::{PhotoMatch, SearchHits, StoreError, StoredFace};
use facepass_domain::{
    BoundingBox, DetectedFace, Embedding, EmbeddingSpace, FaceId, PhotoId, SessionId,
};
use facepass_vector_store_sql::migrate::Migration;
use facepass_vector_store_sql::{Dialect, SqlStore, store_error};
use futures::StreamExt;
use sea_orm::prelude::PgVector;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    QueryResult, Statement, StreamTrait, Value,
};

pub use crate::cache::CacheStats;
use crate::cache::{Entry, PreparedQuery, SearchCache, SessionIndex};

/// The schema steps of `migrations/postgres/`.
pub const MIGRATIONS: &[Migration] =
    facepass_vector_store_sql::sql_migrations!("postgres", 1 "init", 2 "sessions", 3 "lifecycle");

#[derive(Debug, Clone)]
pub struct PgOptions {
    pub max_connections: u32,
    pub connect_timeout: Duration,
    /// Apply pending migrations when connecting.
    pub migrate: bool,
    /// Memory for the search cache across sessions (0 turns it off: every search scans in SQL).
    pub search_cache_bytes: usize,
}

impl Default for PgOptions {
    fn default() -> Self {
        Self {
            max_connections: 10,
            connect_timeout: Duration::from_secs(10),
            migrate: true,
            search_cache_bytes: 256 << 20,
        }
    }
}

/// The PostgreSQL store: pgvector columns scored in SQL, with the search cache beside them.
pub type PgVectorStore = SqlStore<PgDialect>;

/// pgvector's SQL, and the search cache (the state this replica keeps beside the database).
#[derive(Debug, Clone)]
pub struct PgDialect {
    cache: Option<Arc<SearchCache>>,
}

/// More candidates than this and rescoring them one by one would cost what a scan costs.
const MAX_CANDIDATES: usize = 10_000;

/// What a cache refresh found.
enum Refreshed {
    /// The entry holds the session at its current generation.
    Current,
    /// The session has no photos (never indexed, or deleted).
    Missing,
    /// The cache cannot serve this search (too big for the budget, or a concurrent refresh).
    Unusable,
}

pub async fn connect(url: &str, options: &PgOptions) -> Result<DatabaseConnection, StoreError> {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.max_connections(options.max_connections)
        .min_connections(0)
        .connect_timeout(options.connect_timeout)
        .acquire_timeout(options.connect_timeout)
        .sqlx_logging(false);
    Database::connect(opts)
        .await
        .map_err(|e| StoreError::Unavailable(format!("cannot connect to PostgreSQL: {e}")))
}

/// Connects, applies pending migrations if asked, and checks the database holds `space`.
pub async fn open(
    url: &str,
    space: EmbeddingSpace,
    options: &PgOptions,
) -> Result<PgVectorStore, StoreError> {
    let db = connect(url, options).await?;
    let migrations = options.migrate.then_some(MIGRATIONS);
    SqlStore::open(db, space, migrations, PgDialect::new(options)).await
}

impl PgDialect {
    pub fn new(options: &PgOptions) -> Self {
        let cache = (options.search_cache_bytes > 0)
            .then(|| Arc::new(SearchCache::new(options.search_cache_bytes)));
        Self { cache }
    }

    /// How the search cache has answered so far; `None` when it is off.
    pub fn search_cache_stats(&self) -> Option<CacheStats> {
        self.cache.as_ref().map(|c| c.stats())
    }
}

fn stmt(sql: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// pgvector's binary form (the `pgvector` crate's type, through sea-orm): exact float32s.
fn vector(e: &Embedding) -> Value {
    Value::Vector(Some(PgVector::from(e.as_slice().to_vec())))
}

/// Postgres array literal for `REAL[]`.
fn landmarks_literal(face: &DetectedFace) -> String {
    let parts: Vec<String> = face
        .landmarks
        .iter()
        .flat_map(|p| [p.x.to_string(), p.y.to_string()])
        .collect();
    format!("{{{}}}", parts.join(","))
}

#[async_trait]
impl Dialect for PgDialect {
    async fn insert_faces(
        &self,
        txn: &DatabaseTransaction,
        space: &EmbeddingSpace,
        session: &SessionId,
        photo: &PhotoId,
        faces: &[DetectedFace],
        stored: &[StoredFace],
    ) -> Result<(), StoreError> {
        let mut sql = String::from(
            "INSERT INTO faces (face_id, session_id, photo_id, bbox_x, bbox_y, bbox_width, bbox_height, \
             landmarks, det_score, embedding, model_id) VALUES ",
        );
        let mut values: Vec<Value> = Vec::with_capacity(faces.len() * 11);
        for (i, (face, s)) in faces.iter().zip(stored).enumerate() {
            let b = i * 11;
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!(
                "(${}::uuid, ${}, ${}, ${}, ${}, ${}, ${}, ${}::real[], ${}, ${}::vector, ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7,
                b + 8,
                b + 9,
                b + 10,
                b + 11
            ));
            values.extend([
                s.face_id.to_string().into(),
                session.as_str().into(),
                photo.as_str().into(),
                face.bbox.x.into(),
                face.bbox.y.into(),
                face.bbox.width.into(),
                face.bbox.height.into(),
                landmarks_literal(face).into(),
                face.det_score.into(),
                vector(&face.embedding),
                space.model.as_str().into(),
            ]);
        }
        txn.execute_raw(stmt(&sql, values))
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn search(
        &self,
        db: &DatabaseConnection,
        space: &EmbeddingSpace,
        session: &SessionId,
        query: &Embedding,
        min_cosine: f32,
        limit: usize,
    ) -> Result<SearchHits, StoreError> {
        if let Some(cache) = &self.cache {
            if let Some(hits) =
                cached_search(db, space.dim, cache, session, query, min_cosine, limit).await?
            {
                cache.answered.fetch_add(1, Ordering::Relaxed);
                return Ok(hits);
            }
            cache.scanned.fetch_add(1, Ordering::Relaxed);
        }
        // `<#>` is the negative inner product; on unit vectors, -(a <#> b) is the cosine.
        let rows = db
            .query_all_raw(stmt(
                SEARCH_SQL,
                vec![
                    session.as_str().into(),
                    vector(query),
                    f64::from(min_cosine).into(),
                    (limit as i64).into(),
                ],
            ))
            .await
            .map_err(store_error)?;
        let mut hits = SearchHits::default();
        for row in rows {
            push_hit(&mut hits, &row, 0)?;
        }
        Ok(hits)
    }

    async fn matching_faces(
        &self,
        txn: &DatabaseTransaction,
        session: &SessionId,
        queries: &[Embedding],
        min_cosine: f32,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let mut found = std::collections::BTreeSet::new();
        for query in queries {
            let rows = txn
                .query_all_raw(stmt(
                    "SELECT face_id::text, photo_id FROM faces \
                         WHERE session_id = $1 AND -(embedding <#> $2::vector) >= $3",
                    vec![
                        session.as_str().into(),
                        vector(query),
                        f64::from(min_cosine).into(),
                    ],
                ))
                .await
                .map_err(store_error)?;
            for row in rows {
                let face: (String, String) = (
                    row.try_get_by_index(0).map_err(store_error)?,
                    row.try_get_by_index(1).map_err(store_error)?,
                );
                found.insert(face);
            }
        }
        Ok(found.into_iter().collect())
    }

    fn sessions_removed(&self, sessions: &[&SessionId]) {
        if let Some(cache) = &self.cache {
            for session in sessions {
                cache.forget(session.as_str());
            }
        }
    }
}

/// Search through the cache; `None` when it cannot answer and the caller must scan.
async fn cached_search(
    db: &DatabaseConnection,
    dim: usize,
    cache: &SearchCache,
    session: &SessionId,
    query: &Embedding,
    min_cosine: f32,
    limit: usize,
) -> Result<Option<SearchHits>, StoreError> {
    let entry = cache.entry(session.as_str());
    let refreshed = {
        let _one_at_a_time = entry.refreshing.lock().await;
        refresh(db, dim, cache, session, &entry).await?
    };
    match refreshed {
        Refreshed::Missing => {
            cache.forget(session.as_str());
            return Ok(Some(SearchHits::default()));
        }
        Refreshed::Unusable => return Ok(None),
        Refreshed::Current => {}
    }
    // The scan is CPU work (milliseconds at 100k faces): off the async runtime's threads.
    let prepared = PreparedQuery::new(query.as_slice());
    let scanned = tokio::task::spawn_blocking(move || {
        let guard = entry.index.read().unwrap_or_else(|e| e.into_inner());
        guard.as_ref().map(|index| {
            (
                index.generation,
                index.candidates(&prepared, min_cosine, MAX_CANDIDATES),
            )
        })
    })
    .await
    .map_err(|e| StoreError::Unexpected(format!("search cache scan: {e}")))?;
    let Some((generation, candidates)) = scanned else {
        return Ok(None);
    };
    let Some(candidates) = candidates else {
        return Ok(None);
    };
    if candidates.is_empty() {
        // The index was read at `generation` a moment ago: an answer at that snapshot.
        return Ok(Some(SearchHits::default()));
    }
    let mut ids = String::with_capacity(candidates.len() * 37 + 2);
    ids.push('{');
    for (i, id) in candidates.iter().enumerate() {
        if i > 0 {
            ids.push(',');
        }
        ids.push_str(&uuid::Uuid::from_u128(*id).hyphenated().to_string());
    }
    ids.push('}');
    let rows = db
        .query_all_raw(stmt(
            RESCORE_SQL,
            vec![
                session.as_str().into(),
                vector(query),
                f64::from(min_cosine).into(),
                (limit as i64).into(),
                ids.into(),
            ],
        ))
        .await
        .map_err(store_error)?;
    // The candidates hold for the statement's snapshot only if nothing was written since.
    let current = match rows.first() {
        Some(row) => Some(row.try_get_by_index::<i64>(0).map_err(store_error)?),
        None => None,
    };
    if current != Some(generation) {
        return Ok(None);
    }
    let mut hits = SearchHits::default();
    for row in rows {
        if row
            .try_get_by_index::<Option<String>>(1)
            .map_err(store_error)?
            .is_some()
        {
            push_hit(&mut hits, &row, 1)?;
        }
    }
    Ok(Some(hits))
}

/// Brings the session's cache entry to the session's current generation: the photos
/// (re)indexed since the entry's generation, or everything when photos were removed since
/// (or the entry is new). One statement, so one snapshot.
async fn refresh(
    db: &DatabaseConnection,
    dim: usize,
    cache: &SearchCache,
    session: &SessionId,
    entry: &Entry,
) -> Result<Refreshed, StoreError> {
    if entry.is_oversized() {
        return Ok(Refreshed::Unusable);
    }
    let base = entry
        .index
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .map_or(-1, |i| i.generation);
    let mut stream = db
        .stream_raw(stmt(
            REFRESH_SQL,
            vec![session.as_str().into(), base.into()],
        ))
        .await
        .map_err(store_error)?;
    let Some(first) = stream.next().await else {
        return Ok(Refreshed::Missing);
    };
    let first = first.map_err(store_error)?;
    let generation: i64 = first.try_get_by_index(0).map_err(store_error)?;
    let removed: i64 = first.try_get_by_index(1).map_err(store_error)?;
    if generation == base {
        return Ok(Refreshed::Current);
    }
    if base < 0 || removed > base {
        // Rebuild, streaming: memory grows with the index, never with the result set.
        let mut index = SessionIndex::new(generation, dim);
        let mut row = Some(first);
        while let Some(r) = row {
            if let Some((photo, (id, v))) = refresh_row(&r)? {
                index.add(&photo, id, &v);
            }
            if index.bytes() > cache.budget_bytes() {
                entry.mark_oversized();
                tracing::info!(
                    session = session.as_str(),
                    "session too large for the search cache; searches scan in SQL"
                );
                return Ok(Refreshed::Unusable);
            }
            row = stream.next().await.transpose().map_err(store_error)?;
        }
        *entry.index.write().unwrap_or_else(|e| e.into_inner()) = Some(index);
    } else {
        let mut changed: HashMap<String, Vec<StoredVector>> = HashMap::new();
        let mut row = Some(first);
        while let Some(r) = row {
            if let Some(photo) = r
                .try_get_by_index::<Option<String>>(2)
                .map_err(store_error)?
            {
                let faces = changed.entry(photo.clone()).or_default();
                if let Some((_, face)) = refresh_row(&r)? {
                    faces.push(face);
                }
            }
            row = stream.next().await.transpose().map_err(store_error)?;
        }
        let mut guard = entry.index.write().unwrap_or_else(|e| e.into_inner());
        match guard.as_mut() {
            Some(index) if index.generation == base => {
                for (photo, faces) in &changed {
                    index.set_photo(photo, faces);
                }
                index.generation = generation;
            }
            Some(index) if index.generation == generation => {}
            _ => return Ok(Refreshed::Unusable),
        }
    }
    cache.trim();
    Ok(Refreshed::Current)
}

/// A face id and its embedding.
type StoredVector = (u128, Vec<f32>);

/// One row of [`REFRESH_SQL`]: a face of a (re)indexed photo, if the row has one.
fn refresh_row(row: &QueryResult) -> Result<Option<(String, StoredVector)>, StoreError> {
    let photo = row
        .try_get_by_index::<Option<String>>(2)
        .map_err(store_error)?;
    let face = row
        .try_get_by_index::<Option<String>>(3)
        .map_err(store_error)?;
    let embedding = row
        .try_get_by_index::<Option<PgVector>>(4)
        .map_err(store_error)?;
    let (Some(photo), Some(face), Some(embedding)) = (photo, face, embedding) else {
        return Ok(None);
    };
    let id = uuid::Uuid::parse_str(&face)
        .map_err(|e| StoreError::Unexpected(format!("stored face id: {e}")))?
        .as_u128();
    Ok(Some((photo, (id, embedding.to_vec()))))
}

/// Appends one hit of [`SEARCH_SQL`]'s columns, starting at column `at`.
fn push_hit(hits: &mut SearchHits, row: &QueryResult, at: usize) -> Result<(), StoreError> {
    let get_f32 = |i: usize| row.try_get_by_index::<f32>(at + i).map_err(store_error);
    hits.total_matches = row.try_get_by_index::<i64>(at + 8).map_err(store_error)? as u64;
    let face_id: String = row.try_get_by_index(at + 1).map_err(store_error)?;
    hits.matches.push(PhotoMatch {
        photo_id: PhotoId::parse(row.try_get_by_index::<String>(at).map_err(store_error)?)
            .map_err(|e| StoreError::Unexpected(format!("stored photo id: {e}")))?,
        face: StoredFace {
            face_id: FaceId::from_uuid(
                face_id
                    .parse()
                    .map_err(|e| StoreError::Unexpected(format!("stored face id: {e}")))?,
            ),
            bbox: BoundingBox {
                x: get_f32(2)?,
                y: get_f32(3)?,
                width: get_f32(4)?,
                height: get_f32(5)?,
            },
            det_score: get_f32(6)?,
        },
        cosine: row.try_get_by_index::<f64>(at + 7).map_err(store_error)? as f32,
    });
    Ok(())
}

/// The session's generation and removal generation, with the faces of every photo
/// (re)indexed after generation $2, or of every photo when photos were removed after $2 (or
/// $2 is -1: nothing is cached yet). A
/// photo without faces comes as one row with NULL face columns; no row: no such session.
/// The `OFFSET 0` fences keep the plan a walk down the indexes whatever the statistics say:
/// right after a big batch, before autoanalyze, a hash join over every face of the database
/// was chosen (1.2 s for a 5,000-face session).
const REFRESH_SQL: &str = "\
    SELECT s.generation, s.removed_generation, c.photo_id, c.face_id, c.embedding \
    FROM sessions s \
    LEFT JOIN LATERAL ( \
        SELECT p.photo_id, f.face_id, f.embedding FROM photos p \
        LEFT JOIN LATERAL ( \
            SELECT face_id::text AS face_id, embedding FROM faces \
            WHERE faces.session_id = p.session_id AND faces.photo_id = p.photo_id OFFSET 0 \
        ) f ON true \
        WHERE p.session_id = s.session_id \
          AND p.generation > CASE WHEN s.removed_generation > $2 THEN -1 ELSE $2 END \
        OFFSET 0 \
    ) c ON true \
    WHERE s.session_id = $1";

/// [`SEARCH_SQL`] over the candidate faces $5 only (primary-key lookups), each row prefixed
/// with the session's generation read in the same snapshot; one row of NULLs after the
/// generation when nothing qualifies, no row when the session is gone.
const RESCORE_SQL: &str = "\
    WITH g AS MATERIALIZED (SELECT generation FROM sessions WHERE session_id = $1), \
    query AS MATERIALIZED (SELECT $2::vector AS v), \
    scored AS ( \
        SELECT photo_id, face_id, bbox_x, bbox_y, bbox_width, bbox_height, det_score, \
               -(embedding <#> query.v) AS cosine \
        FROM faces, query WHERE face_id = ANY($5::uuid[]) \
    ), best AS ( \
        SELECT DISTINCT ON (photo_id) * FROM scored WHERE cosine >= $3 \
        ORDER BY photo_id, cosine DESC, face_id \
    ), ranked AS ( \
        SELECT photo_id, face_id::text AS face_id, bbox_x, bbox_y, bbox_width, bbox_height, \
               det_score, cosine, count(*) OVER () AS total \
        FROM best ORDER BY cosine DESC, photo_id LIMIT $4 \
    ) \
    SELECT g.generation, ranked.* FROM g LEFT JOIN ranked ON true \
    ORDER BY ranked.cosine DESC, ranked.photo_id";

/// Best face per photo of one session with cosine >= $3, best first, ties by photo id; the
/// window count sees every qualifying photo before LIMIT cuts. The distance is computed once
/// per face, and faces under the threshold are dropped before the per-photo sort. The query
/// vector is parsed once (`MATERIALIZED`): under a generic prepared plan `$2::vector` would
/// otherwise be re-parsed for every row (350 ms instead of 8 ms at 10k faces).
pub const SEARCH_SQL: &str = "\
    WITH query AS MATERIALIZED (SELECT $2::vector AS v), \
    scored AS ( \
        SELECT photo_id, face_id, bbox_x, bbox_y, bbox_width, bbox_height, det_score, \
               -(embedding <#> query.v) AS cosine \
        FROM faces, query WHERE session_id = $1 \
    ), best AS ( \
        SELECT DISTINCT ON (photo_id) * FROM scored WHERE cosine >= $3 \
        ORDER BY photo_id, cosine DESC, face_id \
    ) \
    SELECT photo_id, face_id::text, bbox_x, bbox_y, bbox_width, bbox_height, det_score, cosine, \
           count(*) OVER () AS total \
    FROM best \
    ORDER BY cosine DESC, photo_id \
    LIMIT $4";
