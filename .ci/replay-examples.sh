#!/usr/bin/env bash
# Runs `peerex replay` on every example file and checks the balances the specs state.
set -euo pipefail
bin="${1:-target/release/peerex}"
cd "$(dirname "$0")/.."
check() { # file, python expression over the output `d` that must be true
  local out
  out=$("$bin" replay --check "$1")
  if ! python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if eval(sys.argv[1]) else 1)' "$2" <<<"$out"; then
    echo "example $1: expectation failed: $2" >&2
    echo "$out" >&2
    exit 1
  fi
  echo "ok: $1"
}
check examples/exchange/adam-beth-fixed.jsonl "d['users']['adam']['available']=='840' and d['users']['beth']['available']=='1160' and d['series'][0]['winner']=='fixed' and d['series'][0]['escrow']=='0'"
check examples/exchange/adam-beth-unfixed.jsonl "d['users']['adam']['available']=='1040' and d['users']['beth']['available']=='960' and d['series'][0]['winner']=='unfixed'"
check examples/exchange/beth-charles-resale.jsonl "d['users']['beth']['available']=='1040' and d['users']['charles']['available']=='1120' and d['users']['adam']['available']=='840'"
check examples/exchange/rejections.jsonl "[r['error'] for r in d['rejected']]==['insufficient_funds','unknown_issue','invalid_price','invalid_price','invalid_volume','invalid_expiration','maturation_in_past','insufficient_units','not_owner','time_went_backwards'] and d['users']['adam']['held']=='5'"
check examples/exchange/arbitrated-statement.jsonl "d['users']['beth']['available']=='1036.6666' and d['users']['adam']['available']=='963.3334' and d['series'][0]['status']=='settled' and d['series'][0]['escrow']=='0' and [r['error'] for r in d['rejected']]==['not_eligible'] and d['series'][0]['arbitration']['state']=='decided'"
check examples/exchange/dispute.jsonl "d['users']['adam']['available']=='930' and 1040 < float(d['users']['beth']['available']) < 1070 and d['series'][0]['status']=='settled' and d['series'][0]['escrow']=='0' and [r['error'] for r in d['rejected']]==['already_disputed'] and d['series'][0]['arbitration']['kind']=='dispute'"
check examples/exchange/market-maker.jsonl "float(d['users']['fiona']['available']) >= 993.068528 and d['users']['~maker/0']['available']=='0' and d['series'][0]['status']=='settled' and d['series'][0]['escrow']=='0' and d['rejected']==[] and d['series'][0]['maker']['subsidy']=='6.931472'"
check examples/prediction.jsonl "d['markets']['tavistock']['price']=='0.7311' and d['users']['bob']['available'].startswith('93.7623')"
check examples/resources/backup-and-settle.jsonl "d['resources']['days_settled']==2 and d['resources']['files']==1 and d['resources']['frozen']==[] and d['resources']['peers']['olga']['balance']=='-6.063' and d['rejected']==[]"
# A malformed file must fail with the line named.
if printf '{"at":"2026-12-01T09:00:00Z","op":"tick"}\n{oops\n' | "$bin" replay - 2>/tmp/peerex-replay-err; then
  echo "a malformed file was accepted" >&2; exit 1
fi
grep -q "line 2" /tmp/peerex-replay-err && echo "ok: malformed file names its line"
