#!/usr/bin/env bash
# Bulk fetch benchmark: N GETs (10,000) to a local zero-delay,
# fault-free simulator at concurrency 100, side by side in one run:
#   tailcut fetch -i FILE --concurrency 100
#   python3 bench/aiohttp_fetch.py FILE 100   (aiohttp, asyncio.gather + semaphore)
#   curl --parallel --parallel-max 100 -K CONFIG   (one url/output pair per URL)
# Each runs ROUNDS (3) times; wall time and peak RSS from /usr/bin/time.
# Everything (simulator and clients) shares this machine's cores.
# Results go to bench/results/fetch-<date>.txt. Run by hand:
#   bench/fetch_bench.sh   (env: BENCH_URLS=10000 BENCH_ROUNDS=3 BENCH_BUILD_DIR=build/release
#                           BENCH_SKIP_SETUP=1 to skip scripts/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${BENCH_SKIP_SETUP:-}" ]]; then scripts/setup.sh; fi
build=${BENCH_BUILD_DIR:-build/release}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target tailcut_cli >/dev/null
tailcut=$build/src/tailcut
count=${BENCH_URLS:-10000}
rounds=${BENCH_ROUNDS:-3}
port=${BENCH_PORT:-18090}
python=${PYTHON:-/usr/bin/python3}  # the Debian one, with python3-aiohttp
out=bench/results/fetch-$(date +%Y%m%d-%H%M%S).txt
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
ulimit -n 65536 2>/dev/null || true
log() { echo "$*" | tee -a "$out"; }

$tailcut upstream --listen 127.0.0.1:"$port" --min-delay 0ms --max-delay 0ms --error-rate 0 \
  --invalid-json-rate 0 --hang-rate 0 --threads 1 >"$work/upstream.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done

url="http://127.0.0.1:$port/api/work"
for _ in $(seq "$count"); do echo "$url"; done >"$work/urls.txt"
for _ in $(seq "$count"); do printf 'url = "%s"\noutput = "/dev/null"\n' "$url"; done >"$work/curl.cfg"

log "# tailcut fetch vs aiohttp vs curl --parallel: $count GETs, concurrency 100"
log "# $(date -u +%FT%TZ), $(nproc) cores, $(uname -r); simulator: tailcut upstream, 1 thread, zero delay"
log "# aiohttp $("$python" -c 'import aiohttp; print(aiohttp.__version__)'), $(curl --version | head -1 | cut -d' ' -f1-2)"

measure() {  # name, command...
  local name=$1; shift
  local seconds rss
  /usr/bin/time -f '%e %M' -o "$work/$name.time" "$@" >"$work/$name.out" 2>"$work/$name.err"
  read -r seconds rss <"$work/$name.time"
  log "$(awk -v n="$name" -v s="$seconds" -v r="$rss" -v c="$count" \
    'BEGIN { printf "%-8s %6.2f s  %8.0f requests/s  peak RSS %7d KB", n, s, c / s, r }')"
}

for round in $(seq "$rounds"); do
  log "## round $round"
  measure tailcut $tailcut fetch -i "$work/urls.txt" --concurrency 100 -o "$work/tailcut.jsonl"
  ok=$(grep -c '"status":200' "$work/tailcut.jsonl" || true)
  [[ $ok == "$count" ]] || log "tailcut: only $ok of $count answered 200"
  measure aiohttp "$python" bench/aiohttp_fetch.py "$work/urls.txt" 100
  log "#   $(cat "$work/aiohttp.out")  (its own clock: without the interpreter's start-up)"
  measure curl curl --silent --parallel --parallel-max 100 -K "$work/curl.cfg"
done
log "# tailcut's own summary of the last round:"
sed 's/^/#   /' "$work/tailcut.err" | tee -a "$out"
echo "results in $out"
