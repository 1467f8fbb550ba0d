#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster on 127.0.0.1 for the server's PostgreSQL tests.
# Installs Debian's `postgresql` package if missing (needs root), runs the cluster as the
# `postgres` user, creates a database, and prints the URL on stdout (last line).
# Use: eval "$(bash .ci/postgres.sh --export)"   # sets PEEREX_TEST_POSTGRES_URL, and
#                                                # PEEREX_TEST_POSTGRES_CTL (this script, by its
#                                                # absolute path) with PEEREX_PG_DIR/PORT, so a
#                                                # test can restart the same cluster
#      bash .ci/postgres.sh --stop               # stops the cluster
#      bash .ci/postgres.sh --restart            # stops it (fast: connections are cut) and
#                                                # starts it again on the same data
set -euo pipefail

PORT="${PEEREX_PG_PORT:-55432}"
DIR="${PEEREX_PG_DIR:-/tmp/peerex-pg}"
DB="${PEEREX_PG_DB:-peerex_test}"
URL="postgres://postgres@127.0.0.1:${PORT}/${DB}"

log() { echo "postgres.sh: $*" >&2; }

bindir() {
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    echo "$d"
}

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

if [ "${1:-}" = "--stop" ] || [ "${1:-}" = "--restart" ]; then
    B=$(bindir)
    [ -n "$B" ] && as_pg "$B/pg_ctl" -D "$DIR/data" -w -m fast stop >&2 || true
    [ "$1" = "--stop" ] && exit 0
    log "restarting"
fi

if [ -z "$(bindir)" ]; then
    log "installing postgresql (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
fi
B=$(bindir)
[ -n "$B" ] || { log "no PostgreSQL binaries found"; exit 1; }

mkdir -p "$DIR"
chown postgres:postgres "$DIR" 2>/dev/null || true
if [ ! -f "$DIR/data/PG_VERSION" ]; then
    log "initialising a cluster in $DIR/data"
    as_pg "$B/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 >/dev/null
fi
if ! as_pg "$B/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
    log "starting on 127.0.0.1:$PORT"
    as_pg "$B/pg_ctl" -D "$DIR/data" -w -l "$DIR/log" \
        -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=on -c max_connections=200" start >&2
fi
if ! as_pg "$B/psql" -h 127.0.0.1 -p "$PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$DB'" | grep -q 1; then
    as_pg "$B/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DB"
fi
if [ "${1:-}" = "--export" ]; then
    echo "export PEEREX_TEST_POSTGRES_URL='$URL'"
    echo "export PEEREX_TEST_POSTGRES_CTL='$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")'"
    echo "export PEEREX_PG_DIR='$DIR' PEEREX_PG_PORT='$PORT'"
else
    echo "$URL"
fi
