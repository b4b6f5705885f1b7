#!/usr/bin/env bash
# Runs an instrumented tailcut (a TAILCUT_PGO=GENERATE build) under the work
# the optimized build is for, so that it leaves its profile where it was
# built to (TAILCUT_PGO_DIR):
#   1. the gateway in front of a zero-delay simulator, 64 connections of
#      back-to-back calls (the overhead benchmark's hot path), 8 s;
#   2. the gateway with its embedded default simulator (delays, faults,
#      hedges, deadlines), 400 connections, 5 s.
# Fails unless every call of the first answered 200 and the second answered.
# Usage: scripts/pgo-train.sh <tailcut binary>. Needs wrk.
# PGO_TRAIN_SECONDS=N runs each workload N seconds (the test suite: 1).
set -euo pipefail
tailcut=${1:?usage: scripts/pgo-train.sh <tailcut binary>}
overhead_seconds=${PGO_TRAIN_SECONDS:-8}
hedging_seconds=${PGO_TRAIN_SECONDS:-5}
work=$(mktemp -d)
pids=()
cleanup() {
  [ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Starts `tailcut <args>` on port 0 and sets `address` to where it listens,
# from the first line it prints.
start() {
  local log="$work/$1.log"
  shift
  "$tailcut" "$@" >"$log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 100); do
    address=$(grep -om1 'http://127\.0\.0\.1:[0-9]*' "$log" || true)
    [ -n "$address" ] && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "pgo-train: tailcut $* did not start:" >&2
  cat "$log" >&2
  exit 1
}

# Runs wrk with the given arguments; fails if no call was answered, or if
# `all_ok` is given and some call was not answered 200.
load() {
  local expect=$1
  shift
  wrk "$@" >"$work/wrk.out" 2>&1 || true
  local calls
  calls=$(awk '/requests in/{print $1}' "$work/wrk.out")
  if [ -z "$calls" ] || [ "$calls" -eq 0 ] ||
    { [ "$expect" = all_ok ] && grep -q "Non-2xx" "$work/wrk.out"; }; then
    echo "pgo-train: the load did not go through (wrk $*):" >&2
    cat "$work/wrk.out" >&2
    exit 1
  fi
}

start upstream upstream --listen 127.0.0.1:0 --threads 1 --min-delay 0ms --max-delay 0ms \
  --error-rate 0 --invalid-json-rate 0 --hang-rate 0
upstream=$address
start overhead serve --listen 127.0.0.1:0 --threads 1 --log-level warn \
  --upstream "$upstream/api/work"
load all_ok -t1 -c64 -d"${overhead_seconds}s" "$address/api/smart?timeout=1000"

start hedging serve --listen 127.0.0.1:0 --threads 2 --log-level warn
load some -t2 -c400 -d"${hedging_seconds}s" --timeout 5s "$address/api/smart?timeout=1000"

# The profile is written as each process exits; a graceful stop exits 0.
kill -TERM "${pids[@]}"
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=$?; done
pids=()
if [ "$status" -ne 0 ]; then
  echo "pgo-train: a tailcut process exited with status $status" >&2
  exit 1
fi
