-- Durable indexing jobs (the design of migrations/postgres/0005_jobs.up.sql): a job and one
-- row per photo, claimed for a lease under the database's one write lock. Unix milliseconds.
CREATE TABLE index_jobs (
    job_id          TEXT PRIMARY KEY,
    session_id      TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'cancelled')),
    total           INTEGER NOT NULL CHECK (total > 0),
    indexed         INTEGER NOT NULL DEFAULT 0,
    skipped         INTEGER NOT NULL DEFAULT 0,
    failed          INTEGER NOT NULL DEFAULT 0,
    dropped         INTEGER NOT NULL DEFAULT 0,
    force           INTEGER NOT NULL,
    expires_at      INTEGER,
    callback_url    TEXT,
    idempotency_key TEXT UNIQUE,
    request_digest  TEXT,
    key_id          TEXT,
    created_at      INTEGER NOT NULL,
    started_at      INTEGER,
    finished_at     INTEGER,
    -- When a photo of the job was last claimed: claims go to the open job served least recently.
    last_claim_at   INTEGER NOT NULL DEFAULT 0,
    max_attempts    INTEGER NOT NULL DEFAULT 5 CHECK (max_attempts > 0)
);
CREATE INDEX index_jobs_session ON index_jobs (session_id, job_id);
CREATE INDEX index_jobs_open ON index_jobs (last_claim_at) WHERE state IN ('queued', 'running');

CREATE TABLE index_job_photos (
    job_id        TEXT NOT NULL REFERENCES index_jobs ON DELETE CASCADE,
    seq           INTEGER NOT NULL,
    photo_id      TEXT NOT NULL,
    s3_key        TEXT NOT NULL,
    state         TEXT NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'claimed', 'indexed', 'skipped', 'failed', 'dropped')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    run_after     INTEGER NOT NULL DEFAULT 0,
    lease_until   INTEGER,
    claimed_by    TEXT,
    error_code    TEXT,
    error_message TEXT,
    PRIMARY KEY (job_id, seq)
);
CREATE INDEX index_job_photos_open ON index_job_photos (job_id, seq)
    WHERE state IN ('pending', 'claimed');
CREATE INDEX index_job_photos_failed ON index_job_photos (job_id, seq) WHERE state = 'failed';
CREATE INDEX index_job_photos_claimed ON index_job_photos (lease_until) WHERE state = 'claimed';

CREATE TABLE webhook_outbox (
    event_id        TEXT PRIMARY KEY,
    event_type      TEXT NOT NULL,
    job_id          TEXT NOT NULL,
    target_url      TEXT,
    created_at      INTEGER NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until     INTEGER,
    claimed_by      TEXT,
    last_error      TEXT
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at) WHERE state = 'pending';

CREATE TABLE webhook_disabled (
    target_url  TEXT PRIMARY KEY,
    disabled_at INTEGER NOT NULL
);
