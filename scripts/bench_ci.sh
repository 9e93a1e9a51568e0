#!/usr/bin/env bash
# The benchmarks in CI, short and bounded (about 5 minutes in all): their tables are printed for
# the record, never asserted, and a benchmark that fails or overruns its bound is reported and
# skipped. This script always exits 0: CI must not fail on a noisy machine.
#   - micro: the *_bench.ts files (codec, fragmentation) under `deno bench`, and the same files
#     under mitata (bench/mitata.ts, its short sampling) on Bun and Node.js;
#   - macro: bench/echo (raw vs Wireframe echo servers, 2 s per cell, one rep) and
#     bench/push (throughput, latency, broadcast; small counts) on Deno, Bun and Node.js.
# Needs node_modules/.bin first on PATH (as .ci/run sets it).
set -uo pipefail
cd "$(dirname "$0")/.."

bounded() {
  local seconds=$1 name=$2
  shift 2
  echo "-- $name --"
  timeout --kill-after=10 "$seconds" "$@"
  local code=$?
  if ((code == 124 || code == 137)); then
    echo "(bench '$name' overran its ${seconds} s bound: stopped, not counted)"
  elif ((code != 0)); then
    echo "(bench '$name' failed with exit $code: reported, not counted)"
  fi
}

micro=(bench/codec_bench.ts bench/fragment_bench.ts)
bounded 150 "deno bench (micro)" deno bench --allow-all "${micro[@]}"
bounded 120 "mitata (micro) on bun" bun bench/mitata.ts --short "${micro[@]}"
bounded 120 "mitata (micro) on node" node bench/mitata.ts --short "${micro[@]}"
bounded 180 "bench/echo, 2 s per cell" node bench/echo/run.mjs --seconds 2 --reps 1 --idle 0 \
  --runtimes deno,bun,node --servers raw,wireframe --scenarios load
push_args=(--frames 20000 --connections 200 --broadcasts 5)
bounded 60 "bench/push on deno" deno run --allow-all bench/push/push_bench.ts "${push_args[@]}"
bounded 60 "bench/push on bun" bun bench/push/push_bench.ts "${push_args[@]}"
bounded 60 "bench/push on node" node bench/push/push_bench.ts "${push_args[@]}"
exit 0
