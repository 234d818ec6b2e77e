-- One row per session that holds indexed photos; `generation` is taken from one database-wide
-- counter by every write to the session (the design of migrations/postgres/0002_sessions.up.sql,
-- where a sequence plays the counter's part). The table is also where per-session settings
-- (expiry, watches) will live.
CREATE TABLE facepass_generation (
    singleton INTEGER PRIMARY KEY DEFAULT 1 CHECK (singleton = 1),
    value     INTEGER NOT NULL
);
CREATE TABLE sessions (
    session_id         TEXT PRIMARY KEY,
    generation         INTEGER NOT NULL,
    removed_generation INTEGER NOT NULL DEFAULT 0,
    created_at         INTEGER NOT NULL
) WITHOUT ROWID;

ALTER TABLE photos ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;

INSERT INTO sessions (session_id, generation, created_at)
SELECT session_id, row_number() OVER (ORDER BY session_id), CAST(strftime('%s', 'now') AS INTEGER) * 1000
FROM (SELECT DISTINCT session_id FROM photos);
UPDATE sessions SET removed_generation = generation;
INSERT INTO facepass_generation (value) SELECT count(*) FROM sessions;
UPDATE photos SET generation = (SELECT s.generation FROM sessions s WHERE s.session_id = photos.session_id);

CREATE INDEX photos_session_generation ON photos (session_id, generation);
