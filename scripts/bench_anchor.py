#!/usr/bin/env python3
"""The anchor of `cargo xtask bench`: what a team would deploy instead of FacePass.

InsightFace's `FaceAnalysis` on its defaults with the same models as FacePass (det_2.5g +
fr_feature as a model pack, det_size 640x640, ONNX Runtime on the CPU with its default
threads), `cv2.imread` then `app.get` per photo, one photo at a time.

    bench_anchor.py index MODELS_DIR PHOTO...        # prints one JSON summary line
    bench_anchor.py search MODELS_DIR SELFIE DSN SESSION RUNS

`search` times the anchor's whole selfie search: FaceAnalysis on the selfie, then FacePass's
own SQL against the same Postgres session (so only the face pipeline differs).
Runs in the venv `cargo xtask bench` creates (insightface, onnxruntime, opencv, psycopg).
"""
import json
import os
import resource
import sys
import tempfile
import time


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def face_analysis(models_dir):
    import insightface

    # FaceAnalysis loads every .onnx of root/models/NAME: a pack of exactly our two models.
    root = tempfile.mkdtemp(prefix="facepass-anchor-")
    pack = os.path.join(root, "models", "facepass")
    os.makedirs(pack)
    for name in ("det_2.5g.onnx", "fr_feature.onnx"):
        os.symlink(os.path.abspath(os.path.join(models_dir, name)), os.path.join(pack, name))
    app = insightface.app.FaceAnalysis(
        name="facepass", root=root, allowed_modules=["detection", "recognition"],
        providers=["CPUExecutionProvider"])
    app.prepare(ctx_id=-1, det_size=(640, 640))
    return app


def index(models_dir, photos):
    import cv2

    app = face_analysis(models_dir)
    app.get(cv2.imread(photos[0]))  # warm-up, as FacePass's model load is not timed either
    cpu0, t0, faces = cpu_seconds(), time.perf_counter(), 0
    for i, path in enumerate(photos, 1):
        faces += len(app.get(cv2.imread(path)))
        print(f"\ranchor {i}/{len(photos)}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    seconds = time.perf_counter() - t0
    print(json.dumps({"photos": len(photos), "faces": faces, "seconds": seconds,
                      "cpu_seconds": cpu_seconds() - cpu0, "peak_rss_mb": peak_rss_mb()}))


# FacePass's SEARCH_SQL (crates/vector-store-pgvector), with psycopg placeholders.
SEARCH_SQL = """
WITH query AS MATERIALIZED (SELECT %(v)s::vector AS v),
scored AS (
    SELECT photo_id, face_id, bbox_x, bbox_y, bbox_width, bbox_height, det_score,
           -(embedding <#> query.v) AS cosine
    FROM faces, query WHERE session_id = %(s)s
), best AS (
    SELECT DISTINCT ON (photo_id) * FROM scored WHERE cosine >= %(t)s
    ORDER BY photo_id, cosine DESC, face_id
)
SELECT photo_id, face_id::text, bbox_x, bbox_y, bbox_width, bbox_height, det_score, cosine,
       count(*) OVER () AS total
FROM best ORDER BY cosine DESC, photo_id LIMIT 100
"""


def search(models_dir, selfie, dsn, session, runs):
    import cv2
    import numpy as np
    import psycopg

    app = face_analysis(models_dir)
    conn = psycopg.connect(dsn, autocommit=True)
    times = []
    for i in range(int(runs) + 2):
        t0 = time.perf_counter()
        faces = app.get(cv2.imread(selfie))
        face = max(faces, key=lambda f: (f.bbox[2] - f.bbox[0]) * (f.bbox[3] - f.bbox[1]))
        emb = face.embedding / np.linalg.norm(face.embedding)
        vec = "[" + ",".join(f"{v:.7g}" for v in emb) + "]"
        rows = conn.execute(SEARCH_SQL, {"v": vec, "s": session, "t": 0.42}).fetchall()
        if i >= 2:
            times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    pick = lambda q: times[min(len(times) - 1, int(q * len(times)))]
    print(json.dumps({"runs": len(times), "p50_ms": pick(0.5), "p95_ms": pick(0.95),
                      "p99_ms": pick(0.99), "matches": len(rows),
                      "searches_per_s": 1e3 * len(times) / sum(times)}))


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "index":
        index(sys.argv[2], sys.argv[3:])
    elif len(sys.argv) == 7 and sys.argv[1] == "search":
        search(*sys.argv[2:])
    else:
        sys.exit(__doc__)
