#!/usr/bin/env bash
# The memory of a real `peerex serve` (SQLite) holding OFFERS open offers: batches of 1,000
# resting offers through POST /api/v1/batch until the book holds OFFERS, then the server
# process's resident set (VmRSS, and its peak VmHWM, from /proc/PID/status). docs/benchmarks.md
# ("Engine memory") gives the numbers and the machine.
#
#   cargo build --release -p peerex
#   crates/bench/load/memory.sh                      # 10,000,000 open offers
#   OFFERS=1000000 crates/bench/load/memory.sh
#   PEEREX_SNAPSHOT_EVERY=0 crates/bench/load/memory.sh   # without the snapshot task's engine
#
# Environment: OFFERS (10000000), SERIES (100 issues, one maturation each), PARALLEL (4 batches
# in flight), PORT (18081), PEEREX (target/release/peerex), KEEP=1 to keep the data directory.
# Every other setting is the server's default (snapshots every 100,000 commands included),
# except the rate limits and the open-offer limit per user, raised for the run.
set -euo pipefail

OFFERS=${OFFERS:-10000000}
SERIES=${SERIES:-100}
PARALLEL=${PARALLEL:-4}
PORT=${PORT:-18081}
PEEREX=${PEEREX:-target/release/peerex}
MATURATION="2099-01-01T00:00:00Z"
BASE="http://127.0.0.1:$PORT/api/v1"
BATCH=1000
# shellcheck source=crates/bench/load/lib.sh
. "$(dirname "$0")/lib.sh"

[ -x "$PEEREX" ] || { echo "$PEEREX not found: cargo build --release -p peerex" >&2; exit 1; }
DIR=$(mktemp -d "${TMPDIR:-/tmp}/peerex-memory.XXXXXX")
SERVER=""
trap cleanup EXIT

export PEEREX_RATE_PER_SEC=10000000 PEEREX_RATE_BURST=10000000 PEEREX_MAX_OPEN_OFFERS=1000000000
export PEEREX_DATA_DIR="$DIR"
serve "$DIR" "$PORT"

rss() { # rss FIELD: a field of the server's /proc/PID/status, in MiB
    awk -v f="$1:" '$1 == f { printf "%.0f", $2 / 1024 }' "/proc/$SERVER/status"
}

ROOT=$(login root)
funded_user alice 1000000000 "$ROOT"
ALICE=$(login alice)
mkdir "$DIR/batches"
for s in $(seq 1 "$SERIES"); do
    post /issues "{\"issue\":\"bench/memory#$s\",\"title\":\"memory $s\"}" "$ROOT" >/dev/null
    # 1,000 resting buy_fixed offers of 1 unit at 0.30-0.49 on this series: none crosses.
    {
        printf '{"commands":['
        for i in $(seq 0 $((BATCH - 1))); do
            [ "$i" -gt 0 ] && printf ','
            printf '{"op":"place_offer","kind":"buy_fixed","issue":"bench/memory#%s","maturation":"%s","price":"0.%s","volume":1}' \
                "$s" "$MATURATION" "$((30 + i % 20))"
        done
        printf ']}'
    } >"$DIR/batches/$s.json"
done
echo "peerex: $("$PEEREX" --version); $(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "server started: RSS $(rss VmRSS) MiB; placing $OFFERS offers in batches of $BATCH on $SERIES series"

start=$(date +%s)
batches=$((OFFERS / BATCH))
seq 0 $((batches - 1)) | xargs -P "$PARALLEL" -I{} sh -c '
    f="$1/batches/$(( $2 % $3 + 1 )).json"
    curl -sf -o /dev/null -X POST "$4/batch" -H "content-type: application/json" \
        -H "authorization: Bearer $5" --data-binary "@$f" || { echo "batch $2 failed" >&2; exit 255; }
' _ "$DIR" {} "$SERIES" "$BASE" "$ALICE"
took=$(($(date +%s) - start))

open=$(curl -sf "http://127.0.0.1:$PORT/metrics" | awk '$1 == "peerex_open_offers" { print $2 }')
echo "placed $batches batches in ${took} s; the server reports ${open:-?} open offers"
echo "server RSS $(rss VmRSS) MiB, peak $(rss VmHWM) MiB"
sleep 5
echo "5 s later (snapshot task done): RSS $(rss VmRSS) MiB, peak $(rss VmHWM) MiB"
