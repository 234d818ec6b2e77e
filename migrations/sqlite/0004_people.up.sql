-- People of a session (the design of migrations/postgres/0004_people.up.sql): each face's
-- person, a UUID as text (NULL: grouped with no other face yet), and whether a session's faces
-- have been grouped (false for sessions indexed before this step).
ALTER TABLE faces ADD COLUMN person_id TEXT;
CREATE INDEX faces_session_person ON faces (session_id, person_id) WHERE person_id IS NOT NULL;

ALTER TABLE sessions ADD COLUMN grouped INTEGER NOT NULL DEFAULT 1 CHECK (grouped IN (0, 1));
UPDATE sessions SET grouped = 0;
CREATE INDEX sessions_ungrouped ON sessions (session_id) WHERE grouped = 0;
