# Shared by the load scripts (sourced, not run): start a release `peerex serve`, wait until it
# answers, call the API with curl, sign users up. The callers set PEEREX (the binary) and BASE
# (the API's URL, e.g. http://127.0.0.1:18080/api/v1).

# up URL: waits up to 10 s for URL/healthz to answer.
up() {
    for _ in $(seq 100); do
        curl -sf "$1/healthz" >/dev/null && return 0
        sleep 0.1
    done
    echo "no answer from $1" >&2
    return 1
}

# serve DIR PORT: an admin `root` (password root-pass-1), then `peerex serve` on PORT with its
# log in DIR/serve.log (the environment says the rest: PEEREX_DATA_DIR or PEEREX_DATABASE, ...).
# Sets SERVER to its pid.
serve() {
    "$PEEREX" admin create-user root --admin --password root-pass-1 >/dev/null
    "$PEEREX" serve --addr "127.0.0.1:$2" >"$1/serve.log" 2>&1 &
    SERVER=$!
    up "http://127.0.0.1:$2"
}

# post PATH BODY [TOKEN]: a JSON POST to $BASE$PATH; prints the answer, fails on an error status.
post() {
    curl -sf -X POST "$BASE$1" -H 'content-type: application/json' ${3:+-H "authorization: Bearer $3"} -d "$2"
}

# login NAME: a session token for NAME, whose password is NAME-pass-1.
login() {
    post /sessions "{\"name\":\"$1\",\"password\":\"$1-pass-1\"}" | jq -r .token
}

# funded_user NAME AMOUNT ROOT_TOKEN: signs NAME up (password NAME-pass-1) and deposits AMOUNT.
funded_user() {
    post /users "{\"name\":\"$1\",\"password\":\"$1-pass-1\"}" >/dev/null
    post /admin/deposits "{\"user\":\"$1\",\"amount\":\"$2\"}" "$3" >/dev/null
}

# cleanup: stops the server started by `serve` (if any) and removes DIR, unless KEEP=1.
cleanup() {
    if [ -n "${SERVER:-}" ]; then kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null || true; fi
    if [ "${KEEP:-0}" = 1 ]; then echo "data kept in $DIR"; else rm -rf "$DIR"; fi
}
