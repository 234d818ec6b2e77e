-- Data lifecycle (the design of migrations/postgres/0003_lifecycle.up.sql): a session's
-- expiry, Unix milliseconds, and the deletion audit.
ALTER TABLE sessions ADD COLUMN expires_at INTEGER;
CREATE INDEX sessions_expires_at ON sessions (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE audit_events (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    at             INTEGER NOT NULL,
    action         TEXT NOT NULL
                   CHECK (action IN ('delete_session', 'delete_photo', 'expire', 'forget')),
    session_id     TEXT NOT NULL,
    photo_id       TEXT,
    deleted_photos INTEGER NOT NULL CHECK (deleted_photos >= 0),
    deleted_faces  INTEGER NOT NULL CHECK (deleted_faces >= 0),
    key_id         TEXT
);
CREATE INDEX audit_events_session ON audit_events (session_id, id);
