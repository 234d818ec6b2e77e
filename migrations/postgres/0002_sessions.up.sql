-- One row per session that holds indexed photos. `generation` is taken from one database-wide
-- sequence by every write to the session (index, re-index, delete), inside the write's own
-- transaction and before anything else it changes: the row lock orders a session's writers, so
-- a snapshot that reads generation G sees exactly the writes up to G. Search caches use it to
-- know whether what they hold is current; `removed_generation` is the generation of the latest
-- write that removed photos (a cache must then rebuild, not just add what is new). The table
-- is also where per-session settings (expiry, watches) will live.
CREATE SEQUENCE facepass_generation;

CREATE TABLE sessions (
    session_id         TEXT COLLATE "C" PRIMARY KEY,
    generation         BIGINT NOT NULL,
    removed_generation BIGINT NOT NULL DEFAULT 0,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The generation of the write that last (re)indexed each photo: a cache at generation G
-- fetches only the photos above it.
ALTER TABLE photos ADD COLUMN generation BIGINT NOT NULL DEFAULT 0;

INSERT INTO sessions (session_id, generation)
SELECT session_id, nextval('facepass_generation') FROM (SELECT DISTINCT session_id FROM photos) s;
UPDATE sessions SET removed_generation = generation;
UPDATE photos p SET generation = s.generation FROM sessions s WHERE s.session_id = p.session_id;

CREATE INDEX photos_session_generation ON photos (session_id, generation);
