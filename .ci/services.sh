# Sourced by .ci/run: starts the services the tests need and exports where they are.
# PostgreSQL (Debian's package, installed and started by .ci/postgres.sh) for the server's
# PostgreSQL test suite; the same tests run on the embedded SQLite without it.
# The sqlite3 program lets the crash test tamper with a database to show `peerex check` fails.
if ! command -v sqlite3 >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq sqlite3 >/dev/null
fi
if [ -f .ci/postgres.sh ]; then
  eval "$(bash .ci/postgres.sh --export)"
  echo "PostgreSQL for the tests: ${PEEREX_TEST_POSTGRES_URL}"
  trap 'bash .ci/postgres.sh --stop || true' EXIT
fi
# Chromium (Debian's package) and axe-core (npm) for the web UI's end-to-end tests in
# crates/web/tests/it/browser.rs; under CI=true those tests fail rather than skip without them.
if ! command -v chromium >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
if ! command -v npm >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq npm >/dev/null
fi
PEEREX_AXE_DIR="${PEEREX_AXE_DIR:-$PWD/target/ci-axe}"
if [ ! -f "$PEEREX_AXE_DIR/node_modules/axe-core/axe.min.js" ]; then
  npm install --silent --no-audit --no-fund --prefix "$PEEREX_AXE_DIR" axe-core@4 >/dev/null
fi
export PEEREX_AXE_JS="$PEEREX_AXE_DIR/node_modules/axe-core/axe.min.js"
echo "Chromium: $(command -v chromium); axe-core: ${PEEREX_AXE_JS}"
