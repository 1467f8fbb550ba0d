#!/usr/bin/env bash
# Fuzzes the HTTP API from its own OpenAPI document with schemathesis and fails on any 5xx, on
# any answer whose status, content type or body the document does not describe (or on a ledger
# that `peerex check` rejects afterwards). Logging out is excluded: it would
# revoke the fuzzer's own token and leave every later request at 401.
# Env: PEEREX_ST_EXAMPLES (examples per operation, default 40), PEEREX_ST_VENV (virtualenv dir).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${PEEREX_ST_VENV:-/tmp/peerex-schemathesis-venv}"
EXAMPLES="${PEEREX_ST_EXAMPLES:-40}"
if [ ! -x "$VENV/bin/schemathesis" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "schemathesis==4.32.5"
fi

cargo build -q -p peerex
BIN=target/debug/peerex
DATA=$(mktemp -d)
LOG="$DATA/serve.out"
export PEEREX_ARGON2_KIB=64 PEEREX_RATE_PER_SEC=100000 PEEREX_RATE_BURST=100000 RUST_LOG=warn
"$BIN" admin create-user root --admin --password root-password --data-dir "$DATA/db" >/dev/null
"$BIN" serve --data-dir "$DATA/db" --addr 127.0.0.1:0 --sandbox >"$LOG" 2>"$DATA/serve.err" &
PID=$!
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q "serving on" "$LOG" 2>/dev/null && break; sleep 0.1; done
BASE=$(sed -n 's/.*serving on \(http:[^ ]*\).*/\1/p' "$LOG" | head -n 1)
[ -n "$BASE" ] || { echo "the server did not start"; cat "$DATA/serve.err"; exit 1; }

TOKEN=$(curl -sf -X POST "$BASE/api/v1/sessions" -d '{"name":"root","password":"root-password"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
# Some state for the fuzzer to hit: money, an issue, a series with an open offer.
curl -sf -X POST "$BASE/api/v1/admin/deposits" -H "Authorization: Bearer $TOKEN" -d '{"user":"root","amount":"1000"}' >/dev/null
curl -sf -X POST "$BASE/api/v1/issues" -H "Authorization: Bearer $TOKEN" -d '{"issue":"demo/app#1","title":"t"}' >/dev/null
curl -sf -X POST "$BASE/api/v1/offers" -H "Authorization: Bearer $TOKEN" \
    -d '{"kind":"buy_fixed","issue":"demo/app#1","maturation":"2099-01-01T00:00:00Z","price":"0.3","volume":5}' >/dev/null

STATUS=0
"$VENV/bin/schemathesis" run "$BASE/api/v1/openapi.json" --url "$BASE" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-examples "$EXAMPLES" --seed 1 --request-timeout 10 \
    --exclude-path /api/v1/stream --exclude-operation-id delete_sessions -H "Authorization: Bearer $TOKEN" || STATUS=$?

kill $PID; wait $PID 2>/dev/null || true
trap - EXIT
if ! "$BIN" check --data-dir "$DATA/db"; then
    echo "schemathesis.sh: the ledger check failed after fuzzing"
    STATUS=1
fi
if grep -q "panicked" "$DATA/serve.err"; then
    echo "schemathesis.sh: the server panicked:"; grep -A3 panicked "$DATA/serve.err"; STATUS=1
fi
rm -rf "$DATA"
exit $STATUS
