# Sourced by .ci/run before the tests: starts a throwaway PostgreSQL (via .ci/postgres.sh) so the
# server's tests also run on PostgreSQL. If PostgreSQL cannot be had, the PostgreSQL variants of
# the tests print a notice and pass; the SQLite ones still run.
if url=$(bash .ci/postgres.sh 2>/tmp/peerex-postgres.log); then
  export PEEREX_TEST_POSTGRES_URL="$url"
  echo "PostgreSQL for tests: $PEEREX_TEST_POSTGRES_URL"
else
  echo "PostgreSQL unavailable (see /tmp/peerex-postgres.log); its test variants will be skipped"
fi
