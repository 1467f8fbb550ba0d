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
