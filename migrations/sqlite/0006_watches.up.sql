-- Guest watches (the design of migrations/postgres/0006_watches.up.sql). Unix milliseconds.
-- Every creation or end of a session's watch takes a fresh generation here (a new session row
-- takes its own): a process that wrote a photo knows from the value it read under the session's
-- lock whether the session's watches it holds are still the live ones.
ALTER TABLE sessions ADD COLUMN watches_generation INTEGER NOT NULL DEFAULT 0;

CREATE TABLE watches (
    watch_id         TEXT PRIMARY KEY,
    session_id       TEXT NOT NULL,
    guest_ref        TEXT NOT NULL,
    threshold        REAL NOT NULL,
    margin           REAL NOT NULL,
    query_count      INTEGER NOT NULL CHECK (query_count BETWEEN 1 AND 3),
    queries          BLOB NOT NULL CHECK (length(queries) = 4 * {{dim}} * query_count),
    key_id           TEXT,
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    last_notified_at INTEGER
);
CREATE INDEX watches_session ON watches (session_id);
CREATE INDEX watches_expires_at ON watches (expires_at);

CREATE TABLE watch_matches (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    watch_id    TEXT NOT NULL REFERENCES watches ON DELETE CASCADE,
    photo_id    TEXT NOT NULL,
    face_id     TEXT NOT NULL REFERENCES faces ON DELETE CASCADE,
    person_id   TEXT,
    evidence    TEXT NOT NULL CHECK (evidence IN ('face', 'person')),
    similarity  REAL NOT NULL,
    cosine      REAL NOT NULL,
    det_score   REAL NOT NULL,
    bbox_x      REAL NOT NULL,
    bbox_y      REAL NOT NULL,
    bbox_width  REAL NOT NULL,
    bbox_height REAL NOT NULL,
    matched_at  INTEGER NOT NULL,
    notified    INTEGER NOT NULL DEFAULT 0,
    UNIQUE (watch_id, photo_id)
);
CREATE INDEX watch_matches_face ON watch_matches (face_id);
CREATE INDEX watch_matches_pending ON watch_matches (watch_id, seq) WHERE NOT notified;

ALTER TABLE webhook_outbox ADD COLUMN payload TEXT;

-- SQLite cannot change a CHECK constraint: the audit table is copied into a new one.
CREATE TABLE audit_events_new (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    at             INTEGER NOT NULL,
    action         TEXT NOT NULL CHECK (action IN
                       ('delete_session', 'delete_photo', 'expire', 'forget', 'watch_end')),
    session_id     TEXT NOT NULL,
    photo_id       TEXT,
    deleted_photos INTEGER NOT NULL CHECK (deleted_photos >= 0),
    deleted_faces  INTEGER NOT NULL CHECK (deleted_faces >= 0),
    key_id         TEXT,
    watch_id       TEXT,
    reason         TEXT
);
INSERT INTO audit_events_new (id, at, action, session_id, photo_id, deleted_photos,
                              deleted_faces, key_id)
    SELECT id, at, action, session_id, photo_id, deleted_photos, deleted_faces, key_id
    FROM audit_events;
DROP TABLE audit_events;
ALTER TABLE audit_events_new RENAME TO audit_events;
CREATE INDEX audit_events_session ON audit_events (session_id, id);
