#!/usr/bin/env bash
# HTTP client benchmark: tailcut's http::Session vs wrk vs aiohttp, same server, same run.
#  1. wrk -t1 -c64 -d10s: the practical ceiling of the server on this machine;
#  2. tailcut_client_bench: 200,000 GETs, 64 coroutines, one Session on one thread;
#  3. bench/aiohttp_client.py: 20,000 GETs, 64 tasks, one aiohttp ClientSession.
# All against tailcut_bench_server (1 thread) on GET /hello. Targets:
# tailcut >= 70 % of wrk and >= 10x aiohttp. Results go to
# bench/results/client-<date>.txt. Run by hand: bench/client_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."

build=build/bench
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTAILCUT_BUILD_BENCH=ON -DTAILCUT_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j1 --target tailcut_client_bench tailcut_bench_server >/dev/null
server_bin=$build/bench/tailcut_bench_server
client_bin=$build/bench/tailcut_client_bench

# Debian's python3-aiohttp belongs to /usr/bin/python3; a python3 earlier on
# PATH (pyenv, venv) may not have it.
python=python3
if ! "$python" -c 'import aiohttp' 2>/dev/null; then python=/usr/bin/python3; fi
"$python" -c 'import aiohttp' || { echo "no python3 with aiohttp (apt-get install python3-aiohttp)" >&2; exit 1; }

mkdir -p bench/results
out=bench/results/client-$(date +%Y%m%d-%H%M%S).txt
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
log() { echo "$*" | tee -a "$out"; }

# The server picks a free port and prints "port N".
"$server_bin" 0 1 >"$work/server.log" 2>&1 &
pids+=($!)
port=
for _ in $(seq 100); do
  port=$(awk '/^port /{print $2; exit}' "$work/server.log")
  [[ -n $port ]] && break
  kill -0 "${pids[0]}" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.1
done
[[ -n $port ]] || { echo "the bench server never printed its port" >&2; exit 1; }
url=http://127.0.0.1:$port/hello
curl -sf -o /dev/null "$url" || { echo "$url does not answer" >&2; exit 1; }

log "== client benchmark $(date -Iseconds), $(nproc) cores, server: tailcut_bench_server 1 thread, $url"
log "$(git rev-parse --short HEAD 2>/dev/null || echo 'no git') $(g++ --version | head -1), $("$python" -c 'import aiohttp, sys; print("aiohttp", aiohttp.__version__, "python", sys.version.split()[0])')"

log "-- wrk -t1 -c64 -d10s"
wrk -t1 -c64 -d10s --latency "$url" | tee -a "$out"
wrk_rps=$(awk '/^Requests\/sec:/{printf "%.0f", $2}' "$out")

log "-- tailcut_client_bench 200000 requests, concurrency 64"
"$client_bin" "$url" 200000 64 2>&1 | tee -a "$out"
tailcut_rps=$(awk '/^tailcut-client /{for (i = 1; i <= NF; i++) if ($i ~ /^rps=/) print substr($i, 5)}' "$out")

log "-- aiohttp_client.py 20000 requests, concurrency 64"
"$python" bench/aiohttp_client.py "$url" 20000 64 2>&1 | tee -a "$out"
aiohttp_rps=$(awk '/^aiohttp /{for (i = 1; i <= NF; i++) if ($i ~ /^rps=/) print substr($i, 5)}' "$out")

summary=$(awk -v w="$wrk_rps" -v t="$tailcut_rps" -v a="$aiohttp_rps" 'BEGIN {
  printf "%-16s %12s\n", "client", "requests/s"
  printf "%-16s %12d\n", "wrk", w
  printf "%-16s %12d\n", "tailcut Session", t
  printf "%-16s %12d\n", "aiohttp", a
  printf "tailcut/wrk     = %.2f  (target >= 0.70: %s)\n", t / w, (t / w >= 0.70) ? "met" : "MISSED"
  printf "tailcut/aiohttp = %.1fx (target >= 10x: %s)\n", t / a, (t / a >= 10) ? "met" : "MISSED"
}')
log "== summary"
log "$summary"
echo "results: $out"
