//! The indexing-job queue (migration 0005) on both backends: a job row with its counts and one
//! row per photo. Workers of any process claim photos for a lease (Postgres: `FOR UPDATE SKIP
//! LOCKED`; SQLite: under its one write lock), from the open job served least recently; an
//! outcome is recorded only by the claim that is still the photo's current one (same worker,
//! same attempt), in the transaction that counts it and, for a job's last photo, finishes the
//! job.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use facepass_domain::jobs::{
    ClaimedPhoto, Delivery, DeliveryOutcome, Idempotency, JOB_COMPLETED, JOB_ERRORS_SHOWN, Job,
    JobId, JobQuery, JobState, NewJob, PhotoFailure, PhotoOutcome, Submitted,
};
use facepass_domain::ports::{Finished, JobQueue, StoreError};
use facepass_domain::{PhotoId, PhotoKey, SessionId};
use sea_orm::{ConnectionTrait, DatabaseTransaction, QueryResult, TransactionTrait, Value};

use crate::store::{Dialect, SqlStore};
use crate::syntax::Syntax;
use crate::{from_unix_millis, store_error, unix_millis};

/// The columns [`job_of`] reads, from `index_jobs`.
const JOB_COLUMNS: &str = "CAST(job_id AS TEXT), session_id, state, total, indexed, skipped, \
                           failed, dropped, force, expires_at, callback_url, created_at, \
                           started_at, finished_at";

/// Photo rows one insert writes (4 parameters each).
const INSERT_CHUNK: usize = 500;

/// Open jobs a claim looks at, least recently served first.
const CLAIM_JOBS: usize = 16;

pub(crate) fn unexpected(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Unexpected(format!("stored {what}: {e}"))
}

pub(crate) fn millis(row: &QueryResult, i: usize) -> Result<Option<SystemTime>, StoreError> {
    Ok(row
        .try_get_by_index::<Option<i64>>(i)
        .map_err(store_error)?
        .map(from_unix_millis))
}

fn job_of(row: &QueryResult) -> Result<Job, StoreError> {
    let text = |i: usize| row.try_get_by_index::<String>(i).map_err(store_error);
    let count = |i: usize| {
        row.try_get_by_index::<i64>(i)
            .map(|n| n.max(0) as u64)
            .map_err(store_error)
    };
    let state = text(2)?;
    let (total, indexed, skipped, failed, dropped) =
        (count(3)?, count(4)?, count(5)?, count(6)?, count(7)?);
    Ok(Job {
        id: JobId::parse(&text(0)?).map_err(|e| unexpected("job id", e))?,
        session: SessionId::parse(text(1)?).map_err(|e| unexpected("session id", e))?,
        state: JobState::parse(&state).ok_or_else(|| unexpected("job state", &state))?,
        total,
        indexed,
        skipped,
        failed,
        dropped,
        pending: total.saturating_sub(indexed + skipped + failed + dropped),
        errors: Vec::new(),
        force: row.try_get_by_index::<bool>(8).map_err(store_error)?,
        expires_at: millis(row, 9)?,
        callback_url: row.try_get_by_index(10).map_err(store_error)?,
        created_at: millis(row, 11)?.unwrap_or(SystemTime::UNIX_EPOCH),
        started_at: millis(row, 12)?,
        finished_at: millis(row, 13)?,
    })
}

/// A job with its first failures, read through `c` (a connection or a transaction).
async fn read_job(
    c: &impl ConnectionTrait,
    sql: &dyn Syntax,
    id: &JobId,
) -> Result<Option<Job>, StoreError> {
    let select = format!(
        "SELECT {JOB_COLUMNS} FROM index_jobs WHERE job_id = {}",
        sql.uuid_param(1)
    );
    let Some(row) = c
        .query_one_raw(sql.statement(&select, vec![id.to_string().into()]))
        .await
        .map_err(store_error)?
    else {
        return Ok(None);
    };
    let mut job = job_of(&row)?;
    if job.failed > 0 {
        let errors = format!(
            "SELECT photo_id, error_code, error_message FROM index_job_photos \
             WHERE job_id = {} AND state = 'failed' ORDER BY seq LIMIT $2",
            sql.uuid_param(1)
        );
        let rows = c
            .query_all_raw(sql.statement(
                &errors,
                vec![id.to_string().into(), (JOB_ERRORS_SHOWN as i64).into()],
            ))
            .await
            .map_err(store_error)?;
        job.errors = rows
            .iter()
            .map(|r| {
                let photo: String = r.try_get_by_index(0).map_err(store_error)?;
                Ok(PhotoFailure {
                    photo: PhotoId::parse(photo).map_err(|e| unexpected("photo id", e))?,
                    code: r.try_get_by_index(1).map_err(store_error)?,
                    message: r.try_get_by_index(2).map_err(store_error)?,
                })
            })
            .collect::<Result<_, StoreError>>()?;
    }
    Ok(Some(job))
}

/// An open job.
const OPEN_JOB: &str = "SELECT 1 FROM index_jobs WHERE state IN ('queued', 'running') LIMIT 1";

/// A webhook due by `$1`.
const DUE_WEBHOOK: &str =
    "SELECT 1 FROM webhook_outbox WHERE state = 'pending' AND next_attempt_at <= $1 LIMIT 1";

/// Whether `query` finds a row: a read, before a claim's write.
pub(crate) async fn exists(
    db: &sea_orm::DatabaseConnection,
    sql: &dyn Syntax,
    query: &str,
    values: Vec<Value>,
) -> Result<bool, StoreError> {
    Ok(db
        .query_one_raw(sql.statement(query, values))
        .await
        .map_err(store_error)?
        .is_some())
}

/// Takes the database's write lock first where the backend has one.
pub(crate) async fn begin_write(
    db: &sea_orm::DatabaseConnection,
    sql: &dyn Syntax,
) -> Result<DatabaseTransaction, StoreError> {
    let txn = db.begin().await.map_err(store_error)?;
    if let Some(lock) = sql.write_lock() {
        txn.execute_unprepared(lock).await.map_err(store_error)?;
    }
    Ok(txn)
}

/// What an idempotency key already names: the job, and whether the request was the same.
async fn named_by(
    txn: &DatabaseTransaction,
    sql: &dyn Syntax,
    idempotency: &Idempotency,
) -> Result<Option<Submitted>, StoreError> {
    let row = txn
        .query_one_raw(sql.statement(
            "SELECT CAST(job_id AS TEXT), request_digest FROM index_jobs WHERE idempotency_key = $1",
            vec![idempotency.key.clone().into()],
        ))
        .await
        .map_err(store_error)?;
    let Some(row) = row else { return Ok(None) };
    let id: String = row.try_get_by_index(0).map_err(store_error)?;
    let id = JobId::parse(&id).map_err(|e| unexpected("job id", e))?;
    let digest: Option<String> = row.try_get_by_index(1).map_err(store_error)?;
    if digest.as_deref() != Some(idempotency.digest.as_str()) {
        return Ok(Some(Submitted::Conflict(id)));
    }
    let job = read_job(txn, sql, &id)
        .await?
        .ok_or_else(|| unexpected("job", "named by its key but missing"))?;
    Ok(Some(Submitted::Existing(job)))
}

async fn insert_job(
    txn: &DatabaseTransaction,
    sql: &dyn Syntax,
    id: &JobId,
    job: &NewJob,
    now: SystemTime,
) -> Result<(), StoreError> {
    let insert = format!(
        "INSERT INTO index_jobs (job_id, session_id, state, total, force, expires_at, \
         callback_url, idempotency_key, request_digest, key_id, created_at, max_attempts) \
         VALUES ({}, $2, 'queued', $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        sql.uuid_param(1)
    );
    let values: Vec<Value> = vec![
        id.to_string().into(),
        job.session.as_str().into(),
        (job.photos.len() as i64).into(),
        job.force.into(),
        job.expires_at.map(unix_millis).into(),
        job.callback_url.clone().into(),
        job.idempotency.as_ref().map(|i| i.key.clone()).into(),
        job.idempotency.as_ref().map(|i| i.digest.clone()).into(),
        job.key_id.clone().into(),
        unix_millis(now).into(),
        i64::from(job.max_attempts.max(1)).into(),
    ];
    txn.execute_raw(sql.statement(&insert, values))
        .await
        .map_err(store_error)?;
    for (chunk_index, chunk) in job.photos.chunks(INSERT_CHUNK).enumerate() {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| {
                let n = 4 * i;
                format!(
                    "({}, ${}, ${}, ${})",
                    sql.uuid_param(n + 1),
                    n + 2,
                    n + 3,
                    n + 4
                )
            })
            .collect();
        let values: Vec<Value> = chunk
            .iter()
            .enumerate()
            .flat_map(|(i, (photo, key))| {
                let seq = (chunk_index * INSERT_CHUNK + i) as i64;
                [
                    id.to_string().into(),
                    seq.into(),
                    photo.as_str().into(),
                    key.as_str().into(),
                ]
            })
            .collect();
        let insert = format!(
            "INSERT INTO index_job_photos (job_id, seq, photo_id, s3_key) VALUES {}",
            rows.join(", ")
        );
        txn.execute_raw(sql.statement(&insert, values))
            .await
            .map_err(store_error)?;
    }
    Ok(())
}

/// Claims up to `max` photos of one job (locking only photo rows); empty when it has none to
/// give.
async fn claim_from(
    txn: &DatabaseTransaction,
    sql: &dyn Syntax,
    job: (&str, &SessionId, bool),
    worker: &str,
    max: usize,
    now: i64,
    lease_until: i64,
) -> Result<Vec<ClaimedPhoto>, StoreError> {
    let (job_text, session, force) = job;
    let job_id = sql.uuid_param(1);
    let update = format!(
        "UPDATE index_job_photos SET state = 'claimed', lease_until = $3, claimed_by = $4, \
         attempts = attempts + 1 \
         WHERE job_id = {job_id} AND seq IN (SELECT seq FROM index_job_photos \
           WHERE job_id = {job_id} AND ((state = 'pending' AND run_after <= $2) \
             OR (state = 'claimed' AND lease_until <= $2 AND attempts < (SELECT max_attempts \
               FROM index_jobs WHERE job_id = {job_id}))) \
           ORDER BY seq LIMIT $5{}) \
         RETURNING seq, photo_id, s3_key, attempts",
        sql.for_update_skip_locked()
    );
    let values: Vec<Value> = vec![
        job_text.into(),
        now.into(),
        lease_until.into(),
        worker.into(),
        (max as i64).into(),
    ];
    let rows = txn
        .query_all_raw(sql.statement(&update, values))
        .await
        .map_err(store_error)?;
    let id = JobId::parse(job_text).map_err(|e| unexpected("job id", e))?;
    let mut claimed: Vec<ClaimedPhoto> = rows
        .iter()
        .map(|r| {
            let photo: String = r.try_get_by_index(1).map_err(store_error)?;
            let key: String = r.try_get_by_index(2).map_err(store_error)?;
            Ok(ClaimedPhoto {
                job: id,
                seq: r.try_get_by_index::<i32>(0).map_err(store_error)? as u32,
                session: session.clone(),
                photo: PhotoId::parse(photo).map_err(|e| unexpected("photo id", e))?,
                key: PhotoKey::parse(key).map_err(|e| unexpected("photo key", e))?,
                force,
                attempt: r.try_get_by_index::<i32>(3).map_err(store_error)? as u32,
                worker: worker.to_owned(),
            })
        })
        .collect::<Result<_, StoreError>>()?;
    claimed.sort_by_key(|c| c.seq);
    Ok(claimed)
}

/// Fails the photos whose claims lapsed their job's `max_attempts` times (a worker died holding
/// them each time: a photo that kills its process must not be claimed forever), one
/// transaction per job, counting them and finishing the job when they were its last.
async fn fail_exhausted(
    db: &sea_orm::DatabaseConnection,
    sql: &dyn Syntax,
    now: SystemTime,
) -> Result<(), StoreError> {
    let exhausted = db
        .query_all_raw(sql.statement(
            "SELECT DISTINCT CAST(p.job_id AS TEXT) FROM index_job_photos p \
             JOIN index_jobs j ON j.job_id = p.job_id \
             WHERE p.state = 'claimed' AND p.lease_until <= $1 AND p.attempts >= j.max_attempts",
            vec![unix_millis(now).into()],
        ))
        .await
        .map_err(store_error)?;
    let job_id = sql.uuid_param(1);
    let fail = format!(
        "UPDATE index_job_photos SET state = 'failed', error_code = 'internal_error', \
         error_message = 'claimed ' || attempts || ' times and never finished: the process \
           indexing it stopped each time', lease_until = NULL \
         WHERE job_id = {job_id} AND state = 'claimed' AND lease_until <= $2 \
           AND attempts >= (SELECT max_attempts FROM index_jobs WHERE job_id = {job_id})"
    );
    for row in &exhausted {
        let text: String = row.try_get_by_index(0).map_err(store_error)?;
        let job = JobId::parse(&text).map_err(|e| unexpected("job id", e))?;
        let txn = begin_write(db, sql).await?;
        let failed = txn
            .execute_raw(sql.statement(&fail, vec![text.into(), unix_millis(now).into()]))
            .await
            .map_err(store_error)?
            .rows_affected();
        if failed > 0 {
            count(&txn, sql, &job, "failed", failed).await?;
            complete_if_last(&txn, sql, &job, now).await?;
        }
        txn.commit().await.map_err(store_error)?;
    }
    Ok(())
}

/// The condition that a claim is still the photo's current one (`$1` job, `$2` seq, `$3`
/// worker, `$4` attempt).
fn current_claim(sql: &dyn Syntax) -> String {
    format!(
        "job_id = {} AND seq = $2 AND claimed_by = $3 AND attempts = $4 AND state = 'claimed'",
        sql.uuid_param(1)
    )
}

fn claim_values(claim: &ClaimedPhoto) -> Vec<Value> {
    vec![
        claim.job.to_string().into(),
        i64::from(claim.seq).into(),
        claim.worker.clone().into(),
        i64::from(claim.attempt).into(),
    ]
}

/// Marks the job done when it is running and no photo is left without an outcome.
async fn complete_if_last(
    txn: &DatabaseTransaction,
    sql: &dyn Syntax,
    job: &JobId,
    now: SystemTime,
) -> Result<Option<Job>, StoreError> {
    let job_id = sql.uuid_param(1);
    let done = format!(
        "UPDATE index_jobs SET state = 'done', finished_at = $2 \
         WHERE job_id = {job_id} AND state = 'running' AND NOT EXISTS (SELECT 1 FROM \
           index_job_photos WHERE job_id = {job_id} AND state IN ('pending', 'claimed'))"
    );
    let completed = txn
        .execute_raw(sql.statement(&done, vec![job.to_string().into(), unix_millis(now).into()]))
        .await
        .map_err(store_error)?
        .rows_affected();
    if completed == 0 {
        return Ok(None);
    }
    let outbox = format!(
        "INSERT INTO webhook_outbox (event_id, event_type, job_id, target_url, created_at, \
         next_attempt_at) SELECT $2, $3, job_id, callback_url, $4, $4 FROM index_jobs \
         WHERE job_id = {job_id}"
    );
    let event_id = format!("msg_{}", uuid::Uuid::now_v7().simple());
    txn.execute_raw(sql.statement(
        &outbox,
        vec![
            job.to_string().into(),
            event_id.into(),
            JOB_COMPLETED.into(),
            unix_millis(now).into(),
        ],
    ))
    .await
    .map_err(store_error)?;
    read_job(txn, sql, job).await
}

/// Adds `n` to one of the job's counters.
async fn count(
    txn: &DatabaseTransaction,
    sql: &dyn Syntax,
    job: &JobId,
    counter: &str,
    n: u64,
) -> Result<(), StoreError> {
    let update = format!(
        "UPDATE index_jobs SET {counter} = {counter} + $2 WHERE job_id = {}",
        sql.uuid_param(1)
    );
    txn.execute_raw(sql.statement(&update, vec![job.to_string().into(), (n as i64).into()]))
        .await
        .map_err(store_error)?;
    Ok(())
}

/// Drops the photos of a cancelled job that no claim holds; how many.
async fn drop_pending(
    txn: &DatabaseTransaction,
    sql: &dyn Syntax,
    job: &JobId,
) -> Result<u64, StoreError> {
    let job_id = sql.uuid_param(1);
    let drop = format!(
        "UPDATE index_job_photos SET state = 'dropped' WHERE job_id = {job_id} \
         AND state = 'pending' AND EXISTS (SELECT 1 FROM index_jobs \
           WHERE job_id = {job_id} AND state = 'cancelled')"
    );
    let dropped = txn
        .execute_raw(sql.statement(&drop, vec![job.to_string().into()]))
        .await
        .map_err(store_error)?
        .rows_affected();
    if dropped > 0 {
        count(txn, sql, job, "dropped", dropped).await?;
    }
    Ok(dropped)
}

#[async_trait]
impl<D: Dialect> JobQueue for SqlStore<D> {
    async fn submit(&self, job: NewJob, now: SystemTime) -> Result<Submitted, StoreError> {
        let (db, sql) = (self.connection(), self.dialect() as &dyn Syntax);
        let txn = begin_write(db, sql).await?;
        if let Some(idempotency) = &job.idempotency
            && let Some(named) = named_by(&txn, sql, idempotency).await?
        {
            txn.commit().await.map_err(store_error)?;
            return Ok(named);
        }
        let id = JobId::new();
        insert_job(&txn, sql, &id, &job, now).await?;
        let created = read_job(&txn, sql, &id)
            .await?
            .ok_or_else(|| unexpected("job", "missing after its insert"))?;
        match txn.commit().await {
            Ok(()) => Ok(Submitted::Created(created)),
            // Two requests with one key at once: the one that lost the unique key answers
            // what the other created.
            Err(e) => match &job.idempotency {
                Some(idempotency) => {
                    let txn = db.begin().await.map_err(store_error)?;
                    let named = named_by(&txn, sql, idempotency).await?;
                    txn.commit().await.map_err(store_error)?;
                    named.ok_or_else(|| store_error(e))
                }
                None => Err(store_error(e)),
            },
        }
    }

    async fn job(&self, id: &JobId) -> Result<Option<Job>, StoreError> {
        read_job(self.connection(), self.dialect(), id).await
    }

    async fn jobs(&self, query: &JobQuery) -> Result<Vec<Job>, StoreError> {
        let sql: &dyn Syntax = self.dialect();
        let mut filters = Vec::new();
        let mut values: Vec<Value> = Vec::new();
        if let Some(session) = &query.session {
            values.push(session.as_str().into());
            filters.push(format!("session_id = ${}", values.len()));
        }
        if let Some(state) = query.state {
            values.push(state.as_str().into());
            filters.push(format!("state = ${}", values.len()));
        }
        if let Some(before) = &query.before {
            values.push(before.to_string().into());
            filters.push(format!("job_id < {}", sql.uuid_param(values.len())));
        }
        values.push((query.limit as i64).into());
        let filter = if filters.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", filters.join(" AND "))
        };
        let select = format!(
            "SELECT {JOB_COLUMNS} FROM index_jobs {filter} ORDER BY job_id DESC LIMIT ${}",
            values.len()
        );
        let rows = self
            .connection()
            .query_all_raw(sql.statement(&select, values))
            .await
            .map_err(store_error)?;
        rows.iter().map(job_of).collect()
    }

    async fn claim_deliveries(
        &self,
        worker: &str,
        max: usize,
        now: SystemTime,
        lease: Duration,
    ) -> Result<Vec<Delivery>, StoreError> {
        let (db, sql) = (self.connection(), self.dialect() as &dyn Syntax);
        if !exists(db, sql, DUE_WEBHOOK, vec![unix_millis(now).into()]).await? {
            return Ok(Vec::new());
        }
        let txn = begin_write(db, sql).await?;
        let claim = format!(
            "UPDATE webhook_outbox SET lease_until = $3, claimed_by = $1, attempts = attempts + 1 \
             WHERE event_id IN (SELECT event_id FROM webhook_outbox WHERE state = 'pending' \
               AND next_attempt_at <= $2 AND (lease_until IS NULL OR lease_until <= $2) \
               ORDER BY next_attempt_at, event_id LIMIT $4{}) \
             RETURNING event_id, event_type, CAST(job_id AS TEXT), target_url, attempts, payload",
            sql.for_update_skip_locked()
        );
        let rows = txn
            .query_all_raw(sql.statement(
                &claim,
                vec![
                    worker.into(),
                    unix_millis(now).into(),
                    unix_millis(now + lease).into(),
                    (max as i64).into(),
                ],
            ))
            .await
            .map_err(store_error)?;
        txn.commit().await.map_err(store_error)?;
        rows.iter()
            .map(|r| {
                Ok(Delivery {
                    event_id: r.try_get_by_index(0).map_err(store_error)?,
                    event_type: r.try_get_by_index(1).map_err(store_error)?,
                    subject: r.try_get_by_index(2).map_err(store_error)?,
                    target: r.try_get_by_index(3).map_err(store_error)?,
                    attempt: r.try_get_by_index::<i32>(4).map_err(store_error)? as u32,
                    payload: r.try_get_by_index(5).map_err(store_error)?,
                    worker: worker.to_owned(),
                })
            })
            .collect()
    }

    async fn cancel(&self, id: &JobId, now: SystemTime) -> Result<Option<Job>, StoreError> {
        let sql: &dyn Syntax = self.dialect();
        let txn = begin_write(self.connection(), sql).await?;
        // Photo rows before the job's row, as a claim locks them.
        let job_id = sql.uuid_param(1);
        let drop = format!(
            "UPDATE index_job_photos SET state = 'dropped' WHERE job_id = {job_id} \
             AND state = 'pending' AND EXISTS (SELECT 1 FROM index_jobs \
               WHERE job_id = {job_id} AND state IN ('queued', 'running'))"
        );
        let dropped = txn
            .execute_raw(sql.statement(&drop, vec![id.to_string().into()]))
            .await
            .map_err(store_error)?
            .rows_affected();
        let cancel = format!(
            "UPDATE index_jobs SET state = 'cancelled', finished_at = $2, \
             dropped = dropped + $3 WHERE job_id = {job_id} AND state IN ('queued', 'running')"
        );
        txn.execute_raw(sql.statement(
            &cancel,
            vec![
                id.to_string().into(),
                unix_millis(now).into(),
                (dropped as i64).into(),
            ],
        ))
        .await
        .map_err(store_error)?;
        let job = read_job(&txn, sql, id).await?;
        txn.commit().await.map_err(store_error)?;
        Ok(job)
    }

    async fn claim(
        &self,
        worker: &str,
        max: usize,
        now: SystemTime,
        lease: Duration,
    ) -> Result<Vec<ClaimedPhoto>, StoreError> {
        let sql: &dyn Syntax = self.dialect();
        // Idle workers ask often: a read first, so that no write (SQLite: a commit, an fsync)
        // is made while there is nothing to claim.
        if !exists(self.connection(), sql, OPEN_JOB, Vec::new()).await? {
            return Ok(Vec::new());
        }
        fail_exhausted(self.connection(), sql, now).await?;
        let txn = begin_write(self.connection(), sql).await?;
        let open = txn
            .query_all_raw(sql.statement(
                "SELECT CAST(job_id AS TEXT), session_id, force FROM index_jobs \
                 WHERE state IN ('queued', 'running') ORDER BY last_claim_at, job_id LIMIT $1",
                vec![(CLAIM_JOBS as i64).into()],
            ))
            .await
            .map_err(store_error)?;
        let (now, lease_until) = (unix_millis(now), unix_millis(now + lease));
        let mut claimed: Vec<ClaimedPhoto> = Vec::new();
        for row in &open {
            if claimed.len() >= max {
                break;
            }
            let job: String = row.try_get_by_index(0).map_err(store_error)?;
            let session: String = row.try_get_by_index(1).map_err(store_error)?;
            let session = SessionId::parse(session).map_err(|e| unexpected("session id", e))?;
            let force: bool = row.try_get_by_index(2).map_err(store_error)?;
            let left = max - claimed.len();
            let job = (job.as_str(), &session, force);
            claimed.extend(claim_from(&txn, sql, job, worker, left, now, lease_until).await?);
        }
        // The served jobs' rows last and in id order, as every transaction that locks a job
        // row after photo rows does: claimers never wait on each other in a circle.
        let served: BTreeSet<JobId> = claimed.iter().map(|c| c.job).collect();
        let update = format!(
            "UPDATE index_jobs SET last_claim_at = $2, state = 'running', \
             started_at = COALESCE(started_at, $2) WHERE job_id = {}",
            sql.uuid_param(1)
        );
        for job in served {
            txn.execute_raw(sql.statement(&update, vec![job.to_string().into(), now.into()]))
                .await
                .map_err(store_error)?;
        }
        txn.commit().await.map_err(store_error)?;
        Ok(claimed)
    }

    async fn finish(
        &self,
        claim: &ClaimedPhoto,
        outcome: PhotoOutcome,
        now: SystemTime,
    ) -> Result<Finished, StoreError> {
        let sql: &dyn Syntax = self.dialect();
        let txn = begin_write(self.connection(), sql).await?;
        let (state, code, message) = match &outcome {
            PhotoOutcome::Indexed => ("indexed", None, None),
            PhotoOutcome::Skipped => ("skipped", None, None),
            PhotoOutcome::Failed { code, message } => {
                ("failed", Some(code.clone()), Some(message.clone()))
            }
        };
        let record = format!(
            "UPDATE index_job_photos SET state = $5, error_code = $6, error_message = $7, \
             lease_until = NULL WHERE {}",
            current_claim(sql)
        );
        let mut values = claim_values(claim);
        values.extend([state.into(), code.into(), message.into()]);
        let recorded = txn
            .execute_raw(sql.statement(&record, values))
            .await
            .map_err(store_error)?
            .rows_affected()
            == 1;
        let completed = if recorded {
            count(&txn, sql, &claim.job, state, 1).await?;
            complete_if_last(&txn, sql, &claim.job, now).await?
        } else {
            None
        };
        txn.commit().await.map_err(store_error)?;
        Ok(Finished {
            recorded,
            completed,
        })
    }

    async fn retry(&self, claim: &ClaimedPhoto, at: SystemTime) -> Result<bool, StoreError> {
        let sql: &dyn Syntax = self.dialect();
        let txn = begin_write(self.connection(), sql).await?;
        let release = format!(
            "UPDATE index_job_photos SET state = 'pending', run_after = $5, lease_until = NULL, \
             claimed_by = NULL WHERE {}",
            current_claim(sql)
        );
        let mut values = claim_values(claim);
        values.push(unix_millis(at).into());
        let released = txn
            .execute_raw(sql.statement(&release, values))
            .await
            .map_err(store_error)?
            .rows_affected()
            == 1;
        if released {
            // A photo given back to a cancelled job is dropped like its other waiting photos.
            drop_pending(&txn, sql, &claim.job).await?;
        }
        txn.commit().await.map_err(store_error)?;
        Ok(released)
    }

    async fn delivered(
        &self,
        delivery: &Delivery,
        target: &str,
        outcome: DeliveryOutcome,
        now: SystemTime,
    ) -> Result<bool, StoreError> {
        let sql: &dyn Syntax = self.dialect();
        let txn = begin_write(self.connection(), sql).await?;
        let (state, next, error) = match &outcome {
            DeliveryOutcome::Delivered => ("delivered", now, None),
            DeliveryOutcome::RetryAt(at, error) => ("pending", *at, Some(error.clone())),
            DeliveryOutcome::Failed(error) | DeliveryOutcome::Gone(error) => {
                ("failed", now, Some(error.clone()))
            }
        };
        let record = "UPDATE webhook_outbox SET state = $4, next_attempt_at = $5, \
                      last_error = $6, lease_until = NULL, claimed_by = NULL \
                      WHERE event_id = $1 AND claimed_by = $2 AND attempts = $3 \
                      AND state = 'pending'";
        let recorded = txn
            .execute_raw(sql.statement(
                record,
                vec![
                    delivery.event_id.clone().into(),
                    delivery.worker.clone().into(),
                    i64::from(delivery.attempt).into(),
                    state.into(),
                    unix_millis(next).into(),
                    error.into(),
                ],
            ))
            .await
            .map_err(store_error)?
            .rows_affected()
            == 1;
        if recorded && matches!(outcome, DeliveryOutcome::Gone(_)) {
            txn.execute_raw(sql.statement(
                "INSERT INTO webhook_disabled (target_url, disabled_at) VALUES ($1, $2) \
                 ON CONFLICT (target_url) DO NOTHING",
                vec![target.into(), unix_millis(now).into()],
            ))
            .await
            .map_err(store_error)?;
        }
        txn.commit().await.map_err(store_error)?;
        Ok(recorded)
    }

    async fn is_disabled(&self, target: &str) -> Result<bool, StoreError> {
        let sql: &dyn Syntax = self.dialect();
        let row = self
            .connection()
            .query_one_raw(sql.statement(
                "SELECT 1 FROM webhook_disabled WHERE target_url = $1",
                vec![target.into()],
            ))
            .await
            .map_err(store_error)?;
        Ok(row.is_some())
    }
}
