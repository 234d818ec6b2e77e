-- Durable indexing jobs: a job and one row per photo, which any replica claims for a lease
-- (FOR UPDATE SKIP LOCKED), indexes and records with its outcome. Times are Unix milliseconds
-- (the queue's clock arithmetic is the same SQL on every backend).
CREATE TABLE index_jobs (
    job_id          UUID PRIMARY KEY,
    session_id      TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'cancelled')),
    total           BIGINT NOT NULL CHECK (total > 0),
    indexed         BIGINT NOT NULL DEFAULT 0,
    skipped         BIGINT NOT NULL DEFAULT 0,
    failed          BIGINT NOT NULL DEFAULT 0,
    dropped         BIGINT NOT NULL DEFAULT 0,
    force           BOOLEAN NOT NULL,
    expires_at      BIGINT,
    callback_url    TEXT,
    idempotency_key TEXT UNIQUE,
    request_digest  TEXT,
    key_id          TEXT,
    created_at      BIGINT NOT NULL,
    started_at      BIGINT,
    finished_at     BIGINT,
    -- When a photo of the job was last claimed: claims go to the open job served least recently.
    last_claim_at   BIGINT NOT NULL DEFAULT 0,
    -- Claims of one photo before it counts as failed (a photo whose claims keep lapsing, e.g.
    -- one that kills its process, fails instead of being claimed forever).
    max_attempts    INTEGER NOT NULL DEFAULT 5 CHECK (max_attempts > 0)
);
CREATE INDEX index_jobs_session ON index_jobs (session_id, job_id);
CREATE INDEX index_jobs_open ON index_jobs (last_claim_at) WHERE state IN ('queued', 'running');

CREATE TABLE index_job_photos (
    job_id        UUID NOT NULL REFERENCES index_jobs ON DELETE CASCADE,
    seq           INTEGER NOT NULL,
    photo_id      TEXT NOT NULL,
    s3_key        TEXT NOT NULL,
    state         TEXT NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'claimed', 'indexed', 'skipped', 'failed', 'dropped')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    run_after     BIGINT NOT NULL DEFAULT 0,
    lease_until   BIGINT,
    claimed_by    TEXT,
    error_code    TEXT,
    error_message TEXT,
    PRIMARY KEY (job_id, seq)
);
CREATE INDEX index_job_photos_open ON index_job_photos (job_id, seq)
    WHERE state IN ('pending', 'claimed');
CREATE INDEX index_job_photos_failed ON index_job_photos (job_id, seq) WHERE state = 'failed';
CREATE INDEX index_job_photos_claimed ON index_job_photos (lease_until) WHERE state = 'claimed';

-- Webhooks to announce, written in the transaction that finishes a job (an outbox): delivered
-- at least once by whichever replica claims the row, on the Standard Webhooks retry schedule.
CREATE TABLE webhook_outbox (
    event_id        TEXT PRIMARY KEY,
    event_type      TEXT NOT NULL,
    job_id          UUID NOT NULL,
    target_url      TEXT,
    created_at      BIGINT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until     BIGINT,
    claimed_by      TEXT,
    last_error      TEXT
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at) WHERE state = 'pending';

-- Targets that answered 410 Gone: never called again.
CREATE TABLE webhook_disabled (
    target_url  TEXT PRIMARY KEY,
    disabled_at BIGINT NOT NULL
);
