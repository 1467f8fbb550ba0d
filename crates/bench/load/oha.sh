#!/usr/bin/env bash
# Durable load on a real `peerex serve` (SQLite, synchronous=FULL, group commit) from the oha
# HTTP load generator in its own process. docs/benchmarks.md ("Server under an external load
# generator") gives the numbers and the machine.
#
#   cargo build --release -p peerex
#   cargo install oha --locked            # or put its release binary on PATH
#   crates/bench/load/oha.sh single       # POST /api/v1/offers, one offer a request
#   crates/bench/load/oha.sh cross        # two users whose offers fill each other
#   crates/bench/load/oha.sh batch        # POST /api/v1/batch, 1,000 offers a request
#
# Environment: DURATION (30s), CONNS (64 connections; in `cross` per user), BATCH (1000 offers
# a batch), PORT (18080), PEEREX (target/release/peerex), OHA (oha), OHA_ARGS (more options for
# oha, e.g. "--db-url /tmp/requests.db" to keep every request's times), CHECK=1 to run
# `peerex check` on the database afterwards, KEEP=1 to keep the data directory, PRELOAD (0:
# that many resting offers placed first, by another user through /batch, 1,000 a request, so
# that the run meets a large state, e.g. snapshots that take a while to encode; the server's
# other settings come from the environment as usual, e.g. PEEREX_SNAPSHOT_EVERY).
#
# Workloads (each stays valid for the whole run):
# - single: one user places buy_fixed offers of 1 unit at 0.30-0.49 on one series (oha -Z
#   sends the 20 bodies in turn). None crosses, so
#   every request adds an open offer; the open-offer limit is raised for the run
#   (PEEREX_MAX_OPEN_OFFERS) and the deposit covers every hold.
# - cross: two users, each with its own oha process and token, buy the fixed and the unfixed
#   side at 0.50, 1 unit a request: most offers fill on arrival (a trade, positions, escrow),
#   the rest wait on the book for the other user's next offer.
# - batch: one user sends batches of BATCH resting buy_fixed offers spread over 0.30-0.49.
set -euo pipefail

MODE=${1:-single}
DURATION=${DURATION:-30s}
CONNS=${CONNS:-64}
BATCH=${BATCH:-1000}
PORT=${PORT:-18080}
PEEREX=${PEEREX:-target/release/peerex}
OHA=${OHA:-oha}
ISSUE="bench/load#1"
MATURATION="2099-01-01T00:00:00Z"
BASE="http://127.0.0.1:$PORT/api/v1"
# shellcheck source=crates/bench/load/lib.sh
. "$(dirname "$0")/lib.sh"

case "$MODE" in single | cross | batch) ;; *)
    echo "usage: $0 single|cross|batch" >&2
    exit 2
    ;;
esac
command -v "$OHA" >/dev/null || { echo "oha not found: cargo install oha --locked" >&2; exit 1; }
[ -x "$PEEREX" ] || { echo "$PEEREX not found: cargo build --release -p peerex" >&2; exit 1; }

DIR=$(mktemp -d "${TMPDIR:-/tmp}/peerex-load.XXXXXX")
SERVER=""
trap cleanup EXIT

# Generous limits for a load test: the rate limits per address and per user, the open offers
# per user. Everything else (durability, group commit, batch_max, queue) is the default.
export PEEREX_RATE_PER_SEC=10000000 PEEREX_RATE_BURST=10000000 PEEREX_MAX_OPEN_OFFERS=100000000
export PEEREX_DATA_DIR="$DIR"
serve "$DIR" "$PORT"

ROOT=$(login root)
post /issues "{\"issue\":\"$ISSUE\",\"title\":\"load\"}" "$ROOT" >/dev/null
for u in alice bob; do funded_user "$u" 1000000000 "$ROOT"; done
ALICE=$(login alice)
BOB=$(login bob)

offer() { # offer KIND PRICE
    printf '{"kind":"%s","issue":"%s","maturation":"%s","price":"%s","volume":1}' "$1" "$ISSUE" "$MATURATION" "$2"
}
# oha: $1 = token, $2 = path, $3 = -D (the body in a file) or -Z (one body a line, in turn),
# $4 = that file, $5 = connections
run_oha() {
    "$OHA" --no-tui -z "$DURATION" -c "$5" -m POST -T application/json \
        -H "authorization: Bearer $1" ${OHA_ARGS:-} "$3" "$4" "$BASE$2"
}

# batch_of KIND FIRST_CENT: BATCH offers of KIND spread over 20 prices from 0.FIRST_CENT up.
batch_of() {
    printf '{"commands":['
    for i in $(seq 0 $((BATCH - 1))); do
        [ "$i" -gt 0 ] && printf ','
        printf '{"op":"place_offer",%s' "$(offer "$1" "0.$(($2 + i % 20))" | cut -c2-)"
    done
    printf ']}'
}

PRELOAD=${PRELOAD:-0}
if [ "$PRELOAD" -gt 0 ]; then
    # Carol's bids at 0.10-0.29 never meet the runs' offers (bids at 0.30-0.49 or at 0.50).
    funded_user carol 1000000000 "$ROOT"
    CAROL=$(login carol)
    batch_of buy_fixed 10 >"$DIR/preload.json"
    n=$(((PRELOAD + BATCH - 1) / BATCH))
    echo "preload: $n batches of $BATCH resting offers (carol, bids at 0.10-0.29)"
    "$OHA" --no-tui -n "$n" -c 4 -m POST -T application/json -H "authorization: Bearer $CAROL" \
        -D "$DIR/preload.json" "$BASE/batch" | grep -E 'Success rate|Total:' || true
    echo "open offers: $(curl -sf "http://127.0.0.1:$PORT/metrics" | grep -E '^peerex_open_offers' | cut -d' ' -f2)"
fi

echo "peerex: $("$PEEREX" --version); oha: $("$OHA" --version); $(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
case "$MODE" in
single)
    for p in $(seq 30 49); do offer buy_fixed "0.$p" && echo; done >"$DIR/bodies.json"
    echo "single: POST /offers, $CONNS connections, $DURATION: $(head -1 "$DIR/bodies.json") ... 0.49"
    run_oha "$ALICE" /offers -Z "$DIR/bodies.json" "$CONNS"
    ;;
cross)
    offer buy_fixed 0.50 >"$DIR/alice.json"
    offer buy_unfixed 0.50 >"$DIR/bob.json"
    echo "cross: alice and bob, $CONNS connections each, $DURATION: $(cat "$DIR/alice.json") / $(cat "$DIR/bob.json")"
    run_oha "$ALICE" /offers -D "$DIR/alice.json" "$CONNS" >"$DIR/alice.out" &
    A=$!
    run_oha "$BOB" /offers -D "$DIR/bob.json" "$CONNS" >"$DIR/bob.out"
    wait "$A"
    echo "--- alice (buy_fixed)"; cat "$DIR/alice.out"
    echo "--- bob (buy_unfixed)"; cat "$DIR/bob.out"
    ;;
batch)
    batch_of buy_fixed 30 >"$DIR/batch.json"
    # One batch by hand first: every command must apply.
    post /batch "$(cat "$DIR/batch.json")" "$ALICE" | jq -c '{applied, refused}'
    echo "batch: POST /batch of $BATCH offers, $CONNS connections, $DURATION"
    run_oha "$ALICE" /batch -D "$DIR/batch.json" "$CONNS"
    ;;
esac

# What the server did: commands applied and refused, group commits.
curl -sf "http://127.0.0.1:$PORT/metrics" |
    grep -E '^peerex_(commands_applied_total|commands_refused_total|batches_total|open_offers)' || true
kill "$SERVER"
wait "$SERVER" || true
SERVER=""
if [ "${CHECK:-0}" = 1 ]; then "$PEEREX" check; fi
