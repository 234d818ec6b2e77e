//! Vector-store benchmark: per-session scoring latency (p50/p95) at 1k, 10k and 100k faces per
//! session with 1M faces in the database, on pgvector (sessions read from the database at
//! each search, then held in memory) and SQLite (held in memory), plus insert throughput
//! through `replace_photo` (one transaction per photo, as indexing does, people grouped).
//!
//!     cargo xtask services up
//!     cargo run --release -p facepass --example store_bench -- [--total 1000000] [--pg URL] [--sqlite PATH]
//!
//! Vectors are synthetic, normalised, 512-d. The filler (1M minus the three measured sessions)
//! is bulk-loaded outside the API to keep the run short; the measured sessions are loaded the
//! same way, then searched through the `VectorStore` port.

// A benchmark: it reports on stdout and stops on the first failure.
#![allow(clippy::print_stdout, clippy::expect_used, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use facepass_domain::ports::VectorStore;
use facepass_domain::{
    BoundingBox, Cosine, DetectedFace, Embedding, EmbeddingSpace, FaceQuality, ModelId, PhotoId,
    Point, SessionId,
};
use facepass_vector_store_pgvector::PgOptions;
use facepass_vector_store_sql::StoreOptions;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

const DIM: usize = 512;
const SIZES: [usize; 3] = [1_000, 10_000, 100_000];
const QUERIES: usize = 40;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn vector(&mut self, space: &EmbeddingSpace) -> Embedding {
        let v = (0..DIM)
            .map(|_| (self.next() >> 40) as f32 / (1u64 << 24) as f32 - 0.5)
            .collect();
        Embedding::normalise(space, v).expect("non-zero")
    }
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1e3
}

/// Scoring p50/p95 per session size, random queries at cosine >= `threshold` (0.1: about 1% of
/// random faces match; 0.30, the people floor: almost none, the cost of the scan itself).
async fn measure(
    store: &impl VectorStore,
    space: &EmbeddingSpace,
    label: &str,
    threshold: Cosine,
    rng: &mut Rng,
) {
    for size in SIZES {
        let session = SessionId::parse(format!("bench-{size}")).expect("valid");
        let mut times = Vec::new();
        let mut total = 0;
        for _ in 0..QUERIES {
            let q = rng.vector(space);
            let t = Instant::now();
            let scores = store
                .scores(&session, std::slice::from_ref(&q), threshold)
                .await
                .expect("scores");
            times.push(t.elapsed());
            total = scores.candidates.len();
        }
        times.sort();
        println!(
            "| {label:<8} | {size:>7} | {:>8.1} | {:>8.1} | (last query: {total} faces >= {})",
            percentile(&times, 0.5),
            percentile(&times, 0.95),
            threshold.value()
        );
    }
}

/// The first search of each measured session, which loads it into memory.
async fn load_sessions(
    store: &impl VectorStore,
    space: &EmbeddingSpace,
    label: &str,
    rng: &mut Rng,
) {
    for size in SIZES {
        let session = SessionId::parse(format!("bench-{size}")).expect("valid");
        let t = Instant::now();
        store
            .scores(
                &session,
                &[rng.vector(space)],
                Cosine::new(0.1).expect("a cosine"),
            )
            .await
            .expect("scores");
        println!(
            "({label}: loading {size} faces took {:.0} ms)",
            t.elapsed().as_secs_f64() * 1e3
        );
    }
}

/// Writes `photos` photos of 4 faces into `session` (grouped against what it holds).
async fn insert_throughput(
    store: &impl VectorStore,
    space: &EmbeddingSpace,
    label: &str,
    session: &str,
    photos: usize,
    rng: &mut Rng,
) {
    let session = SessionId::parse(session).expect("valid");
    let faces_per_photo = 4;
    let t = Instant::now();
    for p in 0..photos {
        let faces = (0..faces_per_photo)
            .map(|i| DetectedFace {
                bbox: BoundingBox {
                    x: i as f32,
                    y: 0.0,
                    width: 50.0,
                    height: 60.0,
                },
                landmarks: [Point { x: 0.0, y: 0.0 }; 5],
                det_score: 0.9,
                embedding: rng.vector(space),
                quality: FaceQuality::default(),
            })
            .collect();
        store
            .replace_photo(
                &session,
                &PhotoId::parse(format!("new-{p}")).expect("valid"),
                faces,
            )
            .await
            .expect("insert");
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{label}: replace_photo {photos} photos x {faces_per_photo} faces into {session} in {secs:.2} s = {:.0} photos/s, {:.0} faces/s",
        photos as f64 / secs,
        (photos * faces_per_photo) as f64 / secs
    );
}

/// Bulk-loads `count` faces (one per photo, photos numbered from `start`) server-side with
/// random vectors; `session` is an SQL expression over the photo number `g`.
async fn pg_fill(db: &sea_orm::DatabaseConnection, session: &str, count: usize, start: usize) {
    let sql = format!(
        "INSERT INTO photos (session_id, photo_id, face_count, model_id) \
         SELECT {session}, 'p' || g, 1, 'fr_feature' FROM generate_series({start}, {end}) g; \
         INSERT INTO faces (face_id, session_id, photo_id, bbox_x, bbox_y, bbox_width, bbox_height, landmarks, \
                            det_score, embedding, model_id) \
         SELECT gen_random_uuid(), {session}, 'p' || g, 0, 0, 50, 60, '{{0,0,0,0,0,0,0,0,0,0}}', 0.9, \
                l2_normalize((SELECT array_agg(random() - 0.5)::real[] FROM generate_series(1, {DIM}) d WHERE g >= 0)::vector), \
                'fr_feature' \
         FROM generate_series({start}, {end}) g; \
         INSERT INTO sessions (session_id, generation) \
         SELECT s, nextval('facepass_generation') FROM (SELECT DISTINCT {session} AS s FROM generate_series({start}, {end}) g) x \
         ON CONFLICT (session_id) DO UPDATE SET generation = nextval('facepass_generation'); \
         UPDATE sessions SET removed_generation = generation;",
        end = start + count - 1
    );
    db.execute_unprepared(&sql).await.expect("bulk load");
}

async fn sqlite_fill(
    db: &sea_orm::DatabaseConnection,
    session: &str,
    count: usize,
    rng: &mut Rng,
    space: &EmbeddingSpace,
) {
    use sea_orm::TransactionTrait;
    // One transaction object: a bare BEGIN would land on one pooled connection and the inserts
    // on others.
    let txn = db.begin().await.expect("begin");
    for chunk_start in (0..count).step_by(100) {
        let n = 100.min(count - chunk_start);
        let mut photos = String::from(
            "INSERT INTO photos (session_id, photo_id, face_count, model_id, indexed_at) VALUES ",
        );
        let mut faces = String::from(
            "INSERT INTO faces (face_id, session_id, photo_id, bbox_x, bbox_y, bbox_width, bbox_height, landmarks, \
             det_score, embedding, model_id, created_at) VALUES ",
        );
        let mut values: Vec<sea_orm::Value> = Vec::new();
        for i in 0..n {
            let p = chunk_start + i;
            let sep = if i > 0 { "," } else { "" };
            photos.push_str(&format!("{sep}('{session}', 'p{p}', 1, 'fr_feature', 0)"));
            faces.push_str(&format!(
                "{sep}('{}', '{session}', 'p{p}', 0, 0, 50, 60, zeroblob(40), 0.9, ?, 'fr_feature', 0)",
                uuid::Uuid::now_v7()
            ));
            let blob: Vec<u8> = rng
                .vector(space)
                .as_slice()
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect();
            values.push(blob.into());
        }
        txn.execute_unprepared(&photos).await.expect("photos");
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            faces,
            values,
        ))
        .await
        .expect("faces");
    }
    // The session's row at a new generation, as a write through the store leaves it.
    txn.execute_unprepared(&format!(
        "UPDATE facepass_generation SET value = value + 1; \
         INSERT INTO sessions (session_id, generation, removed_generation, created_at) \
         SELECT '{session}', value, value, 0 FROM facepass_generation WHERE true \
         ON CONFLICT (session_id) DO UPDATE SET generation = excluded.generation, \
         removed_generation = excluded.generation"
    ))
    .await
    .expect("session row");
    txn.commit().await.expect("commit");
}

#[tokio::main]
async fn main() {
    let total: usize = arg("--total")
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let pg_url =
        arg("--pg").unwrap_or_else(|| "postgres://postgres@127.0.0.1:55432/facepass_bench".into());
    let sqlite_path = arg("--sqlite").unwrap_or_else(|| "var/bench/facepass-bench.db".into());
    let space = EmbeddingSpace {
        model: ModelId::parse("fr_feature").expect("valid"),
        dim: DIM,
    };
    let measured: usize = SIZES.iter().sum();
    let filler = total.saturating_sub(measured);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    println!(
        "{total} faces in total: sessions of {SIZES:?} + {filler} filler faces in sessions of 1000"
    );

    // PostgreSQL + pgvector: a fresh benchmark database.
    let admin_url = format!(
        "{}/postgres",
        pg_url.rsplit_once('/').expect("URL with database").0
    );
    let bench_db = pg_url
        .rsplit_once('/')
        .expect("URL with database")
        .1
        .to_owned();
    let admin = facepass_vector_store_pgvector::connect(&admin_url, &PgOptions::default())
        .await
        .expect("admin");
    let reuse = std::env::args().any(|a| a == "--reuse-pg");
    if !reuse {
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {bench_db} WITH (FORCE)"))
            .await
            .expect("drop");
        admin
            .execute_unprepared(&format!("CREATE DATABASE {bench_db}"))
            .await
            .expect("create");
    }
    // The compiled defaults' people rules (the fixtures' recognizer).
    let defaults = facepass::settings::Settings::load_from(None, None, Vec::new())
        .expect("defaults")
        .store_options()
        .expect("store options");
    let options = |cache_bytes: usize| StoreOptions {
        cache_bytes,
        ..defaults
    };
    let pg = facepass_vector_store_pgvector::open(
        &pg_url,
        space.clone(),
        &PgOptions::default(),
        options(1 << 30),
    )
    .await
    .expect("pg store");
    if !reuse {
        let t = Instant::now();
        let mut next = 0;
        for size in SIZES {
            pg_fill(pg.connection(), &format!("'bench-{size}'"), size, next).await;
            next += size;
        }
        for chunk in (0..filler).step_by(100_000) {
            let n = 100_000.min(filler - chunk);
            // Sessions of 1000 faces, by photo number.
            pg_fill(pg.connection(), "'filler-' || (g / 1000)", n, next).await;
            next += n;
        }
        pg.connection()
            .execute_unprepared("ANALYZE faces")
            .await
            .expect("analyze");
        println!(
            "pgvector bulk load: {total} faces in {:.0} s",
            t.elapsed().as_secs_f64()
        );
    }
    // SQLite.
    let _ = std::fs::remove_file(&sqlite_path);
    let sqlite = facepass_vector_store_sqlite::open(
        std::path::Path::new(&sqlite_path),
        space.clone(),
        true,
        options(1 << 30),
    )
    .await
    .expect("sqlite");
    let db = facepass_vector_store_sqlite::connect(std::path::Path::new(&sqlite_path))
        .await
        .expect("sqlite conn");
    let t = Instant::now();
    for size in SIZES {
        sqlite_fill(&db, &format!("bench-{size}"), size, &mut rng, &space).await;
    }
    for chunk in (0..filler).step_by(1000) {
        sqlite_fill(
            &db,
            &format!("filler-{}", chunk / 1000),
            1000.min(filler - chunk),
            &mut rng,
            &space,
        )
        .await;
    }
    println!(
        "sqlite bulk load: {total} faces in {:.0} s",
        t.elapsed().as_secs_f64()
    );

    println!("\n| backend  | faces/session | p50 ms | p95 ms |");
    println!("|----------|---------|----------|----------|");
    let reading = facepass_vector_store_pgvector::open(
        &pg_url,
        space.clone(),
        &PgOptions::default(),
        options(0),
    )
    .await
    .expect("pg store");
    for threshold in [0.1, 0.3].map(|c| Cosine::new(c).expect("a cosine")) {
        measure(&reading, &space, "pgvector (read)", threshold, &mut rng).await;
    }
    // The first search of a session loads it into memory; time the ones after.
    load_sessions(&pg, &space, "pgvector", &mut rng).await;
    load_sessions(&sqlite, &space, "sqlite", &mut rng).await;
    for threshold in [0.1, 0.3].map(|c| Cosine::new(c).expect("a cosine")) {
        measure(&pg, &space, "pgvector", threshold, &mut rng).await;
    }
    for threshold in [0.1, 0.3].map(|c| Cosine::new(c).expect("a cosine")) {
        measure(&sqlite, &space, "sqlite", threshold, &mut rng).await;
    }
    println!();
    insert_throughput(&pg, &space, "pgvector", "bench-insert", 300, &mut rng).await;
    insert_throughput(&sqlite, &space, "sqlite", "bench-insert", 300, &mut rng).await;
    // Into a session of 100,000 faces: each new face is grouped against all of them.
    insert_throughput(&pg, &space, "pgvector", "bench-100000", 100, &mut rng).await;
    insert_throughput(&sqlite, &space, "sqlite", "bench-100000", 100, &mut rng).await;
}
