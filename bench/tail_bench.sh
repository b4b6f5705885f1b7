#!/usr/bin/env bash
# What hedging buys on a heavy-tailed upstream, in two experiments, each in
# one run with its baseline. Latencies are the raw percentiles of the calls
# made by a closed-loop client (bench/latency_client.cpp, 50 connections):
# no synthetic samples are added behind slow answers, as wrk's correction
# for coordinated omission would. Upstream requests are counted by the
# simulators themselves (GET /stats).
#  1. tail: one upstream, 98 % of answers in 10 ms and 2 % in 1 s; the
#     upstream called directly, through `tailcut serve` with the fixed
#     300 ms delay, and with `--hedge-delay auto` (nothing else tuned).
#     Targets for auto: p99.9 at most 3x the upstream's own p50, at most
#     5 % more upstream requests than calls, no answer other than 200.
#  2. replicas: three replicas, one sick (every answer in 200-400 ms), two
#     healthy with the heavy tail above; `--hedge-delay auto` against the
#     fixed delay. Targets for auto: p99.9 under 50 ms, the sick replica
#     gets at most 5 % of the upstream requests, upstream requests at most
#     10 % above calls.
# Results go to bench/results/tail-<date>.txt. Run by hand:
#   bench/tail_bench.sh [tail|replicas|all]      (TAIL_CALLS, default 30000)
source "$(dirname "$0")/lib.sh"
what=${1:-all}
calls=${TAIL_CALLS:-30000}
out=bench/results/tail-$(date +%Y%m%d-%H%M%S).txt
log() { echo "$*" | tee -a "$out"; }

build=build/bench
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTAILCUT_BUILD_BENCH=ON \
  -DTAILCUT_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target tailcut_latency_client >/dev/null
client=$build/bench/tailcut_latency_client
heavy_tail=(--heavy-tail --min-delay 10ms --max-delay 10ms --tail-rate 0.02 --tail-min 1s
            --tail-max 1s --error-rate 0 --invalid-json-rate 0 --hang-rate 0)
sick=(--min-delay 200ms --max-delay 400ms --error-rate 0 --invalid-json-rate 0 --hang-rate 0)

start_upstream() {  # port, flags...
  local port=$1; shift
  $tailcut upstream --listen 127.0.0.1:"$port" --threads 1 "$@" >"$work/upstream-$port.log" 2>&1 &
  pids+=($!)
  wait_port "$port"
}
received() { curl -s "http://127.0.0.1:$1/stats" | sed -E 's/.*"received":([0-9]+).*/\1/'; }
# Runs the client against URL $1 and logs its line under the label $2.
measure() { log "$(printf '%-28s' "$2") $("$client" "$1" "$calls" 50)"; }
# One gateway on port $1 in front of the upstream URLs $2 (comma-separated),
# with more flags; measured under label $3 after a warm-up.
through_gateway() {
  local port=$1 upstreams=$2 label=$3; shift 3
  $tailcut serve --listen 127.0.0.1:"$port" --upstream "$upstreams" --threads 1 \
    --log-level warn "$@" >"$work/serve-$port.log" 2>&1 &
  local gateway=$!
  pids+=($gateway)
  wait_port "$port"
  "$client" "http://127.0.0.1:$port/api/smart" 2000 50 >/dev/null  # the window fills
  measure "http://127.0.0.1:$port/api/smart" "$label"
  curl -s "http://127.0.0.1:$port/metrics" | grep -E '^tailcut_(hedge_delay_seconds|hedge_budget_refusals_total|hedged_calls_total)' \
    | tr '\n' ' ' | sed 's/^/    /' | tee -a "$out"
  echo | tee -a "$out"
  kill "$gateway"; wait "$gateway" 2>/dev/null || true
}

log "tail benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $calls calls per measure, 50 connections"

if [[ $what == tail || $what == all ]]; then
  log "== 1. one heavy-tailed upstream (98 % in 10 ms, 2 % in 1 s)"
  start_upstream 18301 "${heavy_tail[@]}"
  before=$(received 18301)
  measure http://127.0.0.1:18301/api/work "upstream directly"
  for mode in fixed auto; do
    before=$(received 18301)
    if [[ $mode == fixed ]]; then
      through_gateway 18300 http://127.0.0.1:18301/api/work "gateway, fixed 300ms"
    else
      through_gateway 18300 http://127.0.0.1:18301/api/work "gateway, --hedge-delay auto" \
        --hedge-delay auto
    fi
    log "    upstream requests per call (warm-up included): $(awk -v a="$before" -v b="$(received 18301)" -v n="$calls" 'BEGIN { printf "%.3f", (b - a) / (n + 2000) }')"
  done
fi

if [[ $what == replicas || $what == all ]]; then
  log "== 2. three replicas: one sick (200-400 ms), two heavy-tailed"
  start_upstream 18311 "${sick[@]}"
  start_upstream 18312 "${heavy_tail[@]}"
  start_upstream 18313 "${heavy_tail[@]}"
  replicas=http://127.0.0.1:18311/api/work,http://127.0.0.1:18312/api/work,http://127.0.0.1:18313/api/work
  for mode in fixed auto; do
    s0=$(received 18311); h0=$(( $(received 18312) + $(received 18313) ))
    if [[ $mode == fixed ]]; then
      through_gateway 18310 "$replicas" "replicas, fixed 300ms"
    else
      through_gateway 18310 "$replicas" "replicas, --hedge-delay auto" --hedge-delay auto
    fi
    s1=$(received 18311); h1=$(( $(received 18312) + $(received 18313) ))
    log "    upstream requests per call: $(awk -v s=$((s1 - s0)) -v h=$((h1 - h0)) -v n="$calls" 'BEGIN { printf "%.3f; the sick replica got %.1f %% of them", (s + h) / (n + 2000), 100 * s / (s + h) }')"
  done
fi
log "results: $out"
