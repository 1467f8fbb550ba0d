#!/usr/bin/env bash
# Read-heavy load on a cluster of 1, 2 or 3 `peerex serve --cluster` processes on one PostgreSQL
# database, from the oha HTTP load generator in separate processes. docs/benchmarks.md ("Reads on
# replicas") gives the numbers and the machine.
#
#   cargo build --release -p peerex
#   cargo install oha --locked
#   eval "$(bash .ci/postgres.sh --export)"     # or any PostgreSQL you may create databases in
#   DATABASE=$PEEREX_TEST_POSTGRES_URL crates/bench/load/cluster-reads.sh 3
#
# The argument is the number of processes (1-3). Each gets one oha with CONNS/N connections (the
# same total client concurrency for every N), cycling over the public read endpoints a client
# polls (the order book, the price history, the issue list); meanwhile STREAMS live streams
# (SSE) are open on every process and a writer loop trades once every 100 ms through the first
# process, so the replicas tail the log and broadcast while they serve.
#
# Environment: DATABASE (required; the script creates and drops its own database next to it),
# DURATION (20s), CONNS (48), STREAMS (16 per process), PORT (18180: processes on PORT, PORT+1,
# ...), PEEREX (target/release/peerex), OHA (oha).
set -euo pipefail

N=${1:-1}
DURATION=${DURATION:-20s}
CONNS=${CONNS:-48}
STREAMS=${STREAMS:-16}
PORT=${PORT:-18180}
PEEREX=${PEEREX:-target/release/peerex}
OHA=${OHA:-oha}
ISSUE="bench/reads#1"
MATURATION="2099-01-01T00:00:00Z"
# shellcheck source=crates/bench/load/lib.sh
. "$(dirname "$0")/lib.sh"

case "$N" in 1 | 2 | 3) ;; *) echo "usage: $0 1|2|3" >&2; exit 2 ;; esac
[ -n "${DATABASE:-}" ] || { echo "set DATABASE to a PostgreSQL URL (see the header)" >&2; exit 1; }
command -v "$OHA" >/dev/null || { echo "oha not found: cargo install oha --locked" >&2; exit 1; }
[ -x "$PEEREX" ] || { echo "$PEEREX not found: cargo build --release -p peerex" >&2; exit 1; }

NAME="peerex_reads_$$"
BASEURL=${DATABASE%/*}
DB="$BASEURL/$NAME"
DIR=$(mktemp -d "${TMPDIR:-/tmp}/peerex-reads.XXXXXX")
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    psql "$DATABASE" -qc "DROP DATABASE IF EXISTS $NAME" >/dev/null 2>&1 || true
    rm -rf "$DIR"
}
trap cleanup EXIT
psql "$DATABASE" -qc "CREATE DATABASE $NAME" >/dev/null

export PEEREX_RATE_PER_SEC=10000000 PEEREX_RATE_BURST=10000000 PEEREX_MAX_CONNS_PER_IP=100000
export PEEREX_DATABASE="$DB" RUST_LOG=warn
"$PEEREX" admin create-user root --admin --password root-pass-1 >/dev/null
for i in $(seq 0 $((N - 1))); do
    "$PEEREX" serve --cluster --addr "127.0.0.1:$((PORT + i))" >"$DIR/serve$i.log" 2>&1 &
    PIDS+=($!)
    up "http://127.0.0.1:$((PORT + i))"
done

BASE="http://127.0.0.1:$PORT/api/v1"
ROOT=$(login root)
post /issues "{\"issue\":\"$ISSUE\",\"title\":\"reads\"}" "$ROOT" >/dev/null
for u in alice bob; do funded_user "$u" 1000000 "$ROOT"; done
ALICE=$(login alice)
BOB=$(login bob)
# A book with depth: 40 resting levels a side, and some trades for the price history.
for p in $(seq 10 49); do
    post /offers "{\"kind\":\"buy_fixed\",\"issue\":\"$ISSUE\",\"maturation\":\"$MATURATION\",\"price\":\"0.$p\",\"volume\":5}" "$ALICE" >/dev/null
    post /offers "{\"kind\":\"buy_unfixed\",\"issue\":\"$ISSUE\",\"maturation\":\"$MATURATION\",\"price\":\"0.$p\",\"volume\":5}" "$BOB" >/dev/null
done

# Live streams on every process, and a trickle of trades through the writer.
for i in $(seq 0 $((N - 1))); do
    for _ in $(seq "$STREAMS"); do
        curl -sN "http://127.0.0.1:$((PORT + i))/api/v1/stream" >/dev/null 2>&1 &
        PIDS+=($!)
    done
done
(
    while true; do
        post /offers "{\"kind\":\"buy_fixed\",\"issue\":\"$ISSUE\",\"maturation\":\"$MATURATION\",\"price\":\"0.51\",\"volume\":1}" "$ALICE" >/dev/null || true
        sleep 0.1
    done
) &
PIDS+=($!)

Q="issue=bench%2Freads%231&maturation=2099-01-01T00%3A00%3A00Z"
per=$((CONNS / N))
for i in $(seq 0 $((N - 1))); do
    U="http://127.0.0.1:$((PORT + i))/api/v1"
    printf '%s\n' "$U/book?$Q" "$U/prices?$Q" "$U/issues" >"$DIR/urls$i"
    "$OHA" --no-tui --urls-from-file -c "$per" -z "$DURATION" --output-format json "$DIR/urls$i" >"$DIR/oha$i.json" &
    PIDS+=($!)
done
for i in $(seq 0 $((N - 1))); do wait "${PIDS[$((${#PIDS[@]} - N + i))]}"; done

total=0
for i in $(seq 0 $((N - 1))); do
    rps=$(jq '.summary.requestsPerSec' "$DIR/oha$i.json")
    ok=$(jq '[.statusCodeDistribution | to_entries[] | select(.key != "200") | .value] | add // 0' "$DIR/oha$i.json")
    p50=$(jq '.latencyPercentiles.p50 * 1000' "$DIR/oha$i.json")
    p99=$(jq '.latencyPercentiles.p99 * 1000' "$DIR/oha$i.json")
    role=$(curl -sf "http://127.0.0.1:$((PORT + i))/healthz" | jq -r .role)
    printf 'process %d (%s): %.0f requests/s, p50 %.2f ms, p99 %.2f ms, non-200 answers %s\n' "$i" "$role" "$rps" "$p50" "$p99" "$ok"
    total=$(echo "$total + $rps" | bc -l)
done
printf 'processes: %d, connections: %d, total: %.0f requests/s\n' "$N" "$CONNS" "$total"
