-- Data lifecycle: a session's expiry (the background purge deletes sessions past it) and the
-- deletion audit. Audit rows name sessions and photos by id only and are never removed by the
-- deletions they record.
ALTER TABLE sessions ADD COLUMN expires_at TIMESTAMPTZ;
CREATE INDEX sessions_expires_at ON sessions (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE audit_events (
    id             BIGSERIAL PRIMARY KEY,
    at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    action         TEXT NOT NULL
                   CHECK (action IN ('delete_session', 'delete_photo', 'expire', 'forget')),
    session_id     TEXT COLLATE "C" NOT NULL,
    photo_id       TEXT COLLATE "C",
    deleted_photos BIGINT NOT NULL CHECK (deleted_photos >= 0),
    deleted_faces  BIGINT NOT NULL CHECK (deleted_faces >= 0),
    key_id         TEXT
);
CREATE INDEX audit_events_session ON audit_events (session_id, id);
