-- Photos and their faces; one embedding space (model id + dimension) per database.
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE facepass_space (
    singleton BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
    model_id  TEXT    NOT NULL,
    dim       INTEGER NOT NULL CHECK (dim > 0)
);
INSERT INTO facepass_space (model_id, dim) VALUES ('{{model_id}}', {{dim}});

-- One row per indexed photo, faces or not. "C" collation: ids sort bytewise, as in Rust.
CREATE TABLE photos (
    session_id     TEXT COLLATE "C" NOT NULL,
    photo_id       TEXT COLLATE "C" NOT NULL,
    status         TEXT NOT NULL DEFAULT 'indexed' CHECK (status IN ('indexed')),
    face_count     INTEGER NOT NULL CHECK (face_count >= 0),
    model_id       TEXT NOT NULL,
    indexed_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    content_sha256 TEXT,
    PRIMARY KEY (session_id, photo_id)
);

CREATE TABLE faces (
    face_id     UUID PRIMARY KEY,
    session_id  TEXT COLLATE "C" NOT NULL,
    photo_id    TEXT COLLATE "C" NOT NULL,
    bbox_x      REAL NOT NULL,
    bbox_y      REAL NOT NULL,
    bbox_width  REAL NOT NULL,
    bbox_height REAL NOT NULL,
    landmarks   REAL[] NOT NULL CHECK (cardinality(landmarks) = 10),
    det_score   REAL NOT NULL,
    embedding   VECTOR({{dim}}) NOT NULL,
    model_id    TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    FOREIGN KEY (session_id, photo_id) REFERENCES photos (session_id, photo_id) ON DELETE CASCADE
);

-- A 512-d vector is 2 KB, just over the TOAST threshold: kept out of line, every search would
-- fetch each embedding from the TOAST table. Random-looking floats do not compress anyway, so
-- keep them in the row (rows stay well under a page).
ALTER TABLE faces ALTER COLUMN embedding SET STORAGE PLAIN;

-- Search is always within one session and exact (no ANN index, so no recall loss): the
-- B-tree narrows to the session's rows, then every vector of it is scored.
CREATE INDEX faces_session_photo ON faces (session_id, photo_id);
