//! The PostgreSQL + pgvector dialect of the SQL `VectorStore` (sea-orm over sqlx): faces are
//! written in one multi-row insert with embeddings bound as `pgvector::Vector` (exact
//! float32s) and read back the same way into the session index that search scans
//! (`facepass-vector-store-sql`).

use std::time::Duration;

use async_trait::async_trait;
use facepass_domain::people::{ScoredFace, ScoredPerson, SessionScores};
use facepass_domain::ports::{StoreError, StoredFace};
use facepass_domain::{
    BoundingBox, DetectedFace, Embedding, EmbeddingSpace, FaceId, PersonId, PhotoId, SessionId,
};
use facepass_vector_store_sql::migrate::Migration;
use facepass_vector_store_sql::{
    Dialect, FaceRow, QueryResult, SqlStore, StoreOptions, Syntax, store_error,
};
use sea_orm::prelude::PgVector;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    Statement, Value,
};

/// The schema steps of `migrations/postgres/`.
pub const MIGRATIONS: &[Migration] = facepass_vector_store_sql::sql_migrations!(
    "postgres", 1 "init", 2 "sessions", 3 "lifecycle", 4 "people", 5 "jobs", 6 "watches"
);

#[derive(Debug, Clone)]
pub struct PgOptions {
    pub max_connections: u32,
    pub connect_timeout: Duration,
    /// Apply pending migrations when connecting.
    pub migrate: bool,
}

impl Default for PgOptions {
    fn default() -> Self {
        Self {
            max_connections: 10,
            connect_timeout: Duration::from_secs(10),
            migrate: true,
        }
    }
}

/// The PostgreSQL store: pgvector columns, searched in the session index beside them.
pub type PgVectorStore = SqlStore<PgDialect>;

/// pgvector's SQL.
#[derive(Debug, Clone, Copy, Default)]
pub struct PgDialect;

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
    store: StoreOptions,
) -> Result<PgVectorStore, StoreError> {
    let db = connect(url, options).await?;
    let migrations = options.migrate.then_some(MIGRATIONS);
    SqlStore::open(db, space, migrations, PgDialect, store).await
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

/// The advisory lock migrations hold: key 0x4650_4d49_4752 ("FP" + "MIGR" in ASCII).
const MIGRATION_LOCK: &str = "SELECT pg_advisory_xact_lock(77310707976018)";

impl Syntax for PgDialect {
    fn backend(&self) -> DbBackend {
        DbBackend::Postgres
    }

    fn placeholders(&self, sql: &str) -> String {
        sql.to_owned()
    }

    fn uuid_param(&self, n: usize) -> String {
        format!("${n}::uuid")
    }

    fn millis_param(&self, n: usize) -> String {
        format!("to_timestamp(${n}::bigint / 1000.0)")
    }

    fn millis_column(&self, column: &str) -> String {
        format!("(extract(epoch FROM {column}) * 1000)::bigint")
    }

    fn json_texts(&self, n: usize) -> String {
        format!("SELECT value COLLATE \"C\" FROM jsonb_array_elements_text(${n}::jsonb)")
    }

    fn json_uuids(&self, n: usize) -> String {
        format!("SELECT value::uuid FROM jsonb_array_elements_text(${n}::jsonb)")
    }

    fn bytewise(&self) -> &'static str {
        " COLLATE \"C\""
    }

    fn for_update(&self) -> &'static str {
        " FOR UPDATE"
    }

    fn for_update_skip_locked(&self) -> &'static str {
        " FOR UPDATE SKIP LOCKED"
    }

    fn generation_prelude(&self) -> Option<&'static str> {
        None
    }

    fn write_lock(&self) -> Option<&'static str> {
        None
    }

    fn fresh_generation(&self) -> &'static str {
        "(SELECT nextval('facepass_generation') AS v) g"
    }

    fn fresh_generation_value(&self) -> &'static str {
        "nextval('facepass_generation')"
    }

    fn lock_session_for_delete(&self) -> Option<&'static str> {
        Some(
            "INSERT INTO sessions (session_id, generation) VALUES ($1, 0) \
             ON CONFLICT (session_id) DO UPDATE SET generation = sessions.generation",
        )
    }

    fn migration_lock(&self) -> Option<&'static str> {
        Some(MIGRATION_LOCK)
    }

    fn erasure_checkpoint(&self) -> Option<&'static str> {
        // Dead rows are reclaimed by autovacuum; a session cannot force it from here.
        None
    }
}

#[async_trait]
impl Dialect for PgDialect {
    async fn insert_faces(
        &self,
        txn: &DatabaseTransaction,
        space: &EmbeddingSpace,
        session: &SessionId,
        photo: &PhotoId,
        rows: &[FaceRow<'_>],
    ) -> Result<(), StoreError> {
        let mut sql = String::from(
            "INSERT INTO faces (face_id, session_id, photo_id, bbox_x, bbox_y, bbox_width, bbox_height, \
             landmarks, det_score, embedding, model_id, person_id) VALUES ",
        );
        let mut values: Vec<Value> = Vec::with_capacity(rows.len() * 12);
        for (
            i,
            FaceRow {
                face,
                stored: s,
                person,
            },
        ) in rows.iter().enumerate()
        {
            let b = i * 12;
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!(
                "(${}::uuid, ${}, ${}, ${}, ${}, ${}, ${}, ${}::real[], ${}, ${}::vector, ${}, ${}::uuid)",
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
                b + 11,
                b + 12
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
                person.map(|p| p.to_string()).into(),
            ]);
        }
        txn.execute_raw(stmt(&sql, values))
            .await
            .map_err(store_error)?;
        Ok(())
    }

    fn load_sql(&self) -> &'static str {
        LOAD_SQL
    }

    fn embedding(&self, row: &QueryResult, index: usize) -> Result<Option<Vec<f32>>, StoreError> {
        Ok(row
            .try_get_by_index::<Option<PgVector>>(index)
            .map_err(store_error)?
            .map(|v| v.to_vec()))
    }

    /// One statement scoring the session in Postgres (`<#>` on unit vectors is the negative
    /// cosine): the faces at or above the floor, their persons' mean cosines over all their
    /// faces, and the session's face and person counts.
    async fn scores_in_database(
        &self,
        db: &DatabaseConnection,
        session: &SessionId,
        queries: &[Embedding],
        floor: f32,
    ) -> Result<Option<SessionScores>, StoreError> {
        let rows = db
            .query_all_raw(stmt(
                &scores_sql(queries.len()),
                std::iter::once(session.as_str().into())
                    .chain(std::iter::once(f64::from(floor).into()))
                    .chain(queries.iter().map(vector))
                    .collect(),
            ))
            .await
            .map_err(store_error)?;
        let mut scores = SessionScores::default();
        let cosines = |row: &QueryResult| -> Result<Vec<f32>, StoreError> {
            (0..queries.len())
                .map(|i| {
                    row.try_get_by_index::<f64>(9 + i)
                        .map(|c| c as f32)
                        .map_err(store_error)
                })
                .collect()
        };
        for row in rows {
            let kind: i32 = row.try_get_by_index(0).map_err(store_error)?;
            let text = |i: usize| {
                row.try_get_by_index::<Option<String>>(i)
                    .map_err(store_error)
            };
            let uuid = |s: String| {
                uuid::Uuid::parse_str(&s)
                    .map_err(|e| StoreError::Unexpected(format!("stored id {s:?}: {e}")))
            };
            let count = |i: usize| {
                row.try_get_by_index::<i64>(i)
                    .map(|n| n.max(0) as u64)
                    .map_err(store_error)
            };
            match kind {
                0 => {
                    let f = |i: usize| row.try_get_by_index::<f32>(i).map_err(store_error);
                    let photo = text(1)?.unwrap_or_default();
                    scores.candidates.push(ScoredFace {
                        photo_id: PhotoId::parse(photo)
                            .map_err(|e| StoreError::Unexpected(format!("stored photo id: {e}")))?,
                        face: StoredFace {
                            face_id: FaceId::from_uuid(uuid(text(2)?.unwrap_or_default())?),
                            bbox: BoundingBox {
                                x: f(3)?,
                                y: f(4)?,
                                width: f(5)?,
                                height: f(6)?,
                            },
                            det_score: f(7)?,
                        },
                        person: text(8)?.map(uuid).transpose()?.map(PersonId::from_uuid),
                        cosines: cosines(&row)?,
                    });
                }
                1 => scores.persons.push(ScoredPerson {
                    person: PersonId::from_uuid(uuid(text(8)?.unwrap_or_default())?),
                    faces: count(12)?,
                    links: cosines(&row)?,
                }),
                _ => {
                    scores.faces = count(12)?;
                    scores.people = count(13)?;
                }
            }
        }
        Ok(Some(scores))
    }
}

/// [`Dialect::scores_in_database`]'s statement for `queries` query vectors (`$3`...): rows of
/// kind 0 (a face at or above `$2`), 1 (a person of such a face) and 2 (the session's counts),
/// each query's cosine computed once per face. Columns: kind, photo_id, face_id, bbox x, y,
/// width, height, det_score, person_id, three cosines (NULL past `queries`), then counts.
fn scores_sql(queries: usize) -> String {
    let cos = |i: usize| {
        if i < queries {
            format!("-(embedding <#> ${}::vector)::float8 AS c{i}", i + 3)
        } else {
            format!("0::float8 AS c{i}")
        }
    };
    let best = (0..queries)
        .map(|i| format!("c{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "WITH s AS MATERIALIZED ( \
             SELECT *, GREATEST({best}) AS best FROM ( \
                 SELECT photo_id, face_id, bbox_x, bbox_y, bbox_width, bbox_height, det_score, \
                        person_id, {c0}, {c1}, {c2} \
                 FROM faces WHERE session_id = $1 OFFSET 0 \
             ) f \
         ) \
         SELECT 0, photo_id::text, face_id::text, bbox_x, bbox_y, bbox_width, bbox_height, \
                det_score, person_id::text, c0, c1, c2, NULL::bigint, NULL::bigint \
         FROM s WHERE best >= $2 \
         UNION ALL \
         SELECT 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, person_id::text, avg(c0), avg(c1), \
                avg(c2), count(*), NULL \
         FROM s WHERE person_id IS NOT NULL GROUP BY person_id HAVING max(best) >= $2 \
         UNION ALL \
         SELECT 2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, count(*), \
                count(DISTINCT person_id) \
         FROM s",
        c0 = cos(0),
        c1 = cos(1),
        c2 = cos(2),
    )
}

/// The session's generations and the faces of the photos written in `($2, $3)`, or of every
/// photo below `$3` when photos were removed in that range (see `Dialect::load_sql`). One
/// statement, so one snapshot. The `OFFSET 0` fences keep the plan a walk down the indexes
/// whatever the statistics say: right after a big batch, before autoanalyze, a hash join over
/// every face of the database was chosen (1.2 s for a 5,000-face session).
const LOAD_SQL: &str = "\
    SELECT s.generation, s.removed_generation, c.photo_id, c.face_id, c.bbox_x, c.bbox_y, \
           c.bbox_width, c.bbox_height, c.det_score, c.person_id, c.embedding \
    FROM sessions s \
    LEFT JOIN LATERAL ( \
        SELECT p.photo_id, f.face_id, f.bbox_x, f.bbox_y, f.bbox_width, f.bbox_height, \
               f.det_score, f.person_id, f.embedding FROM photos p \
        LEFT JOIN LATERAL ( \
            SELECT face_id::text AS face_id, bbox_x, bbox_y, bbox_width, bbox_height, det_score, \
                   person_id::text AS person_id, embedding FROM faces \
            WHERE faces.session_id = p.session_id AND faces.photo_id = p.photo_id OFFSET 0 \
        ) f ON true \
        WHERE p.session_id = s.session_id \
          AND p.generation > CASE WHEN s.removed_generation > $2 AND s.removed_generation < $3 \
                                  THEN -1 ELSE $2 END \
          AND p.generation < $3 \
        OFFSET 0 \
    ) c ON true \
    WHERE s.session_id = $1";
