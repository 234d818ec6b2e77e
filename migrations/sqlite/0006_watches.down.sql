CREATE TABLE audit_events_old (
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
INSERT INTO audit_events_old
    SELECT id, at, action, session_id, photo_id, deleted_photos, deleted_faces, key_id
    FROM audit_events WHERE action <> 'watch_end';
DROP TABLE audit_events;
ALTER TABLE audit_events_old RENAME TO audit_events;
CREATE INDEX audit_events_session ON audit_events (session_id, id);
DELETE FROM webhook_outbox WHERE payload IS NOT NULL;
ALTER TABLE webhook_outbox DROP COLUMN payload;
DROP TABLE watch_matches;
DROP TABLE watches;
ALTER TABLE sessions DROP COLUMN watches_generation;
