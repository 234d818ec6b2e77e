-- Guest watches: a consenting guest's selfie embeddings (never an image), matched against
-- every photo indexed into the session until the watch ends; each match once per photo.
-- Times are Unix milliseconds, as in the job queue.
-- Every creation or end of a session's watch takes a fresh generation here (a new session row
-- takes its own): a process that wrote a photo knows from the value it read under the session's
-- lock whether the session's watches it holds are still the live ones.
ALTER TABLE sessions ADD COLUMN watches_generation BIGINT NOT NULL DEFAULT 0;

CREATE TABLE watches (
    watch_id         UUID PRIMARY KEY,
    session_id       TEXT COLLATE "C" NOT NULL,
    guest_ref        TEXT NOT NULL,
    threshold        REAL NOT NULL,
    -- The threshold as a cosine offset from the recognizer's operating point (the matcher's).
    margin           REAL NOT NULL,
    query_count      INTEGER NOT NULL CHECK (query_count BETWEEN 1 AND 3),
    -- query_count embeddings, little-endian float32, one after another.
    queries          BYTEA NOT NULL CHECK (length(queries) = 4 * {{dim}} * query_count),
    key_id           TEXT,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    last_notified_at BIGINT
);
CREATE INDEX watches_session ON watches (session_id);
CREATE INDEX watches_expires_at ON watches (expires_at);

CREATE TABLE watch_matches (
    seq         BIGSERIAL PRIMARY KEY,
    watch_id    UUID NOT NULL REFERENCES watches ON DELETE CASCADE,
    photo_id    TEXT COLLATE "C" NOT NULL,
    -- A face deleted or re-indexed takes its match with it.
    face_id     UUID NOT NULL REFERENCES faces ON DELETE CASCADE,
    person_id   UUID,
    evidence    TEXT NOT NULL CHECK (evidence IN ('face', 'person')),
    similarity  REAL NOT NULL,
    cosine      REAL NOT NULL,
    det_score   REAL NOT NULL,
    bbox_x      REAL NOT NULL,
    bbox_y      REAL NOT NULL,
    bbox_width  REAL NOT NULL,
    bbox_height REAL NOT NULL,
    matched_at  BIGINT NOT NULL,
    -- Sent in a watch.matched webhook, or answered when the watch was created.
    notified    BOOLEAN NOT NULL DEFAULT FALSE,
    UNIQUE (watch_id, photo_id)
);
CREATE INDEX watch_matches_face ON watch_matches (face_id);
CREATE INDEX watch_matches_pending ON watch_matches (watch_id, seq) WHERE NOT notified;

-- A watch.matched webhook carries its data as written (the matches at that moment); the
-- job_id column names the event's subject, a job or a watch.
ALTER TABLE webhook_outbox ADD COLUMN payload TEXT;

ALTER TABLE audit_events ADD COLUMN watch_id UUID;
ALTER TABLE audit_events ADD COLUMN reason TEXT;
ALTER TABLE audit_events DROP CONSTRAINT audit_events_action_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_action_check
    CHECK (action IN ('delete_session', 'delete_photo', 'expire', 'forget', 'watch_end'));
