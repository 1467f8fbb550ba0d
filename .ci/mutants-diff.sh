#!/usr/bin/env bash
# Mutation testing of what changed in the engine since the recorded baseline
# (.ci/mutants-baseline, moved forward whenever docs/testing.md re-records the score).
# Fails when a mutant of the changed lines survives the engine's tests. With no engine change
# since the baseline it passes at once (nothing to build or install).
#
#   bash .ci/mutants-diff.sh            # what CI runs
#   PEEREX_MUTANTS_MINUTES=30 bash .ci/mutants-diff.sh   # a longer bound for a large change
set -euo pipefail
cd "$(dirname "$0")/.."

MUTANTS_VERSION=27.1.0
minutes="${PEEREX_MUTANTS_MINUTES:-15}"
base="$(tr -d '[:space:]' < .ci/mutants-baseline)"

if ! git cat-file -e "${base}^{commit}" 2>/dev/null; then
  # A shallow clone may not have the baseline: fetch more history before giving up.
  echo "baseline ${base} is not in this clone; fetching history"
  git fetch --quiet --unshallow 2>/dev/null || git fetch --quiet origin "${base}" 2>/dev/null || true
fi
if ! git cat-file -e "${base}^{commit}" 2>/dev/null; then
  echo "error: the mutation baseline ${base} (.ci/mutants-baseline) is not reachable from this clone;" >&2
  echo "clone with full history (fetch-depth 0), or re-record the score and move the baseline" >&2
  exit 1
fi

diff_file="$(mktemp)"
trap 'rm -f "$diff_file"' EXIT
git diff "${base}" -- crates/engine > "$diff_file"
if [ ! -s "$diff_file" ]; then
  echo "no engine change since ${base}: no mutant to test"
  exit 0
fi
echo "engine change since ${base}: $(git diff --shortstat "${base}" -- crates/engine)"

if ! cargo mutants --version 2>/dev/null | grep -q "${MUTANTS_VERSION}"; then
  cargo install --locked cargo-mutants --version "${MUTANTS_VERSION}"
fi

# The `mutants` profile (Cargo.toml) builds the engine unoptimised: each mutant rebuilds it.
status=0
PROPTEST_CASES="${PROPTEST_CASES:-32}" timeout "${minutes}m" \
  cargo mutants --package peerex-engine --in-diff "$diff_file" --profile mutants \
  --jobs "${PEEREX_MUTANTS_JOBS:-2}" --output "${TMPDIR:-/tmp}" || status=$?
# cargo-mutants exits 3 (timeouts) even when some mutants were also missed: the list decides.
missed="${TMPDIR:-/tmp}/mutants.out/missed.txt"
if { [ "$status" = 0 ] || [ "$status" = 3 ]; } && [ -s "$missed" ]; then
  status=2
fi
case "$status" in
  0) echo "every mutant of the engine's change is caught" ;;
  3) echo "warning: some mutants timed out (counted as caught: the tests did not pass)" ;;
  2) echo "error: mutants survived; see ${TMPDIR:-/tmp}/mutants.out/missed.txt: add a test that fails on each (docs/testing.md)" >&2
     exit 1 ;;
  124) echo "error: mutation testing took more than ${minutes} minutes (PEEREX_MUTANTS_MINUTES raises the bound)" >&2
     exit 1 ;;
  *) echo "error: cargo mutants failed (exit ${status})" >&2
     exit 1 ;;
esac
