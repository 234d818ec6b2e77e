-- Photos and their faces; one embedding space (model id + dimension) per database.
-- Embeddings and landmarks are little-endian float32 blobs; times are Unix milliseconds.
CREATE TABLE facepass_space (
    singleton INTEGER PRIMARY KEY DEFAULT 1 CHECK (singleton = 1),
    model_id  TEXT    NOT NULL,
    dim       INTEGER NOT NULL CHECK (dim > 0)
);
INSERT INTO facepass_space (model_id, dim) VALUES ('{{model_id}}', {{dim}});

CREATE TABLE photos (
    session_id     TEXT NOT NULL,
    photo_id       TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'indexed' CHECK (status IN ('indexed')),
    face_count     INTEGER NOT NULL CHECK (face_count >= 0),
    model_id       TEXT NOT NULL,
    indexed_at     INTEGER NOT NULL,
    content_sha256 TEXT,
    PRIMARY KEY (session_id, photo_id)
) WITHOUT ROWID;

CREATE TABLE faces (
    face_id     TEXT PRIMARY KEY,
    session_id  TEXT NOT NULL,
    photo_id    TEXT NOT NULL,
    bbox_x      REAL NOT NULL,
    bbox_y      REAL NOT NULL,
    bbox_width  REAL NOT NULL,
    bbox_height REAL NOT NULL,
    landmarks   BLOB NOT NULL CHECK (length(landmarks) = 40),
    det_score   REAL NOT NULL,
    embedding   BLOB NOT NULL CHECK (length(embedding) = 4 * {{dim}}),
    model_id    TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    FOREIGN KEY (session_id, photo_id) REFERENCES photos (session_id, photo_id) ON DELETE CASCADE
);

CREATE INDEX faces_session_photo ON faces (session_id, photo_id);
