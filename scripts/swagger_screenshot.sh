#!/usr/bin/env bash
# Checks the Swagger UI in a real browser: starts `facepass serve` on a free port (embedded
# defaults, a scratch SQLite file), opens /docs in headless Chromium (Debian `chromium`,
# installed when missing), waits for the operations to render, verifies every operation of
# the API is on the page, and saves a screenshot.
#
#   scripts/swagger_screenshot.sh [OUT.png]      (default: target/swagger-ui.png)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/swagger-ui.png}
mkdir -p "$(dirname "$out")"

if ! command -v chromium >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

scratch=$(mktemp -d)
cargo build --quiet --release --bin facepass
FACEPASS__STORAGE__URL="$scratch/facepass.db" FACEPASS__PHOTOS__ROOT="$scratch/photos" \
  target/release/facepass serve --port 0 >"$scratch/stdout" 2>"$scratch/stderr" &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$scratch"' EXIT
for _ in $(seq 1 100); do
  url=$(sed -n 's/^listening on //p' "$scratch/stdout")
  [ -n "$url" ] && break
  kill -0 $server 2>/dev/null || { cat "$scratch/stderr" >&2; exit 1; }
  sleep 0.2
done
[ -n "$url" ] || { echo "the service did not start" >&2; exit 1; }

browser=(chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --virtual-time-budget=20000)
dom=$("${browser[@]}" --dump-dom "$url/docs" 2>/dev/null)
operations=$(grep -o 'class="opblock opblock-[a-z]*' <<<"$dom" | wc -l)
missing=()
for path in /api/v2/index /api/v2/index/batch "/api/v2/index/{session_id}" \
            "/api/v2/index/{session_id}/photos/{photo_id}" /api/v2/search \
            /api/v2/faces/search-session "/api/v2/search/status/{session_id}" \
            /api/v2/health /api/v2/metrics; do
  grep -qF "data-path=\"$path\"" <<<"$dom" || missing+=("$path")
done
if [ "$operations" -lt 9 ] || [ ${#missing[@]} -gt 0 ]; then
  echo "Swagger UI rendered $operations operations; missing: ${missing[*]:-none}" >&2
  exit 1
fi
"${browser[@]}" --window-size=1280,1600 --screenshot="$out" "$url/docs" 2>/dev/null
echo "Swagger UI renders all $operations operations; screenshot: $out"
