#!/usr/bin/env bash
# Gateway benchmarks (issue 4), all in one run on this machine:
#  1. overhead: wrk against the simulator directly, against nginx as a plain
#     keep-alive reverse proxy, and against tailcut serve, all in front of a
#     zero-delay, fault-free simulator;
#  2. the seed workload: default simulator (100-600 ms, 10 % of each fault),
#     timeout=1000, 2,000 connections for 30 s;
#  3. memory: resident set of tailcut serve with 10,000 slow calls in flight.
# Results go to bench/results/gateway-<date>.txt. Run by hand:
#   bench/gateway_bench.sh [overhead|seed|memory|all]
source "$(dirname "$0")/lib.sh"
what=${1:-all}
duration=${BENCH_SECONDS:-10}
out=bench/results/gateway-$(date +%Y%m%d-%H%M%S).txt
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
log() { echo "$*" | tee -a "$out"; }

start_upstream() {  # port, extra flags...
  local port=$1; shift
  $tailcut upstream --listen 127.0.0.1:"$port" --threads 1 "$@" >"$work/upstream-$port.log" 2>&1 &
  pids+=($!)
  wait_port "$port"
}
start_gateway() {  # port, upstream port, extra flags...
  local port=$1 upstream=$2; shift 2
  $tailcut serve --listen 127.0.0.1:"$port" --upstream "http://127.0.0.1:$upstream/api/work" \
    --log-level warn --upstream-connections 20000 "$@" >"$work/serve-$port.log" 2>&1 &
  pids+=($!)
  wait_port "$port"
}
start_nginx() {  # port, upstream port
  cat >"$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 20000; }
http {
  access_log off;
  upstream simulator { server 127.0.0.1:$2; keepalive 256; }
  server {
    listen 127.0.0.1:$1;
    location / { proxy_pass http://simulator; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
CONF
  nginx -c "$work/nginx.conf" -g 'daemon off;' &
  pids+=($!)
  sleep 0.5
}

# CPU time (user and system ticks) a process has used so far.
cpu_ticks() { awk '{print $14, $15}' "/proc/$1/stat"; }

overhead() {
  log "== 1. overhead: zero-delay fault-free simulator; wrk -t1 -c64 -d${duration}s (2 cores shared by all)"
  start_upstream 18081 --min-delay-ms 0 --max-delay-ms 0 --error-rate 0 --invalid-json-rate 0 --hang-rate 0
  start_gateway 18080 18081 --threads 1
  local gateway_pid=${pids[-1]}
  start_nginx 18082 18081
  local nginx_worker
  nginx_worker=$(pgrep -P "${pids[-1]}" | head -1)
  local ticks_per_second
  ticks_per_second=$(getconf CLK_TCK)
  # The proxies take turns, twice: this machine's speed drifts by 10-20 %
  # over a minute, and alternating shows how much. The CPU time each proxy
  # used per call is steadier than its calls per second.
  for target in "simulator directly|http://127.0.0.1:18081/api/work|" \
                "nginx reverse proxy (round 1)|http://127.0.0.1:18082/api/work|$nginx_worker" \
                "tailcut serve (round 1)|http://127.0.0.1:18080/api/smart?timeout=1000|$gateway_pid" \
                "nginx reverse proxy (round 2)|http://127.0.0.1:18082/api/work|$nginx_worker" \
                "tailcut serve (round 2)|http://127.0.0.1:18080/api/smart?timeout=1000|$gateway_pid"; do
    IFS='|' read -r name url proxy_pid <<<"$target"
    log "-- $name"
    local before=""
    [[ -n $proxy_pid ]] && before=$(cpu_ticks "$proxy_pid")
    wrk -t1 -c64 -d"${duration}s" --latency "$url" | tee -a "$out" | tee "$work/wrk.out"
    if [[ -n $proxy_pid ]]; then
      local after calls
      after=$(cpu_ticks "$proxy_pid")
      calls=$(awk '/requests in/ {print $1}' "$work/wrk.out")
      log "$(awk -v b="$before" -v a="$after" -v n="$calls" -v hz="$ticks_per_second" 'BEGIN {
        split(b, x, " "); split(a, y, " ");
        printf "proxy CPU per call: user %.1f us, system %.1f us", (y[1] - x[1]) * 1e6 / hz / n, (y[2] - x[2]) * 1e6 / hz / n }')"
    fi
  done
}

seed() {
  log "== 2. seed workload: default simulator, timeout=1000, 2000 connections, 30 s"
  start_upstream 18091 --seed 7
  start_gateway 18090 18091 --threads 2 ${SEED_GATEWAY_FLAGS:-}
  wrk -t2 -c2000 -d30s --timeout 5s --latency -s bench/latency.lua "http://127.0.0.1:18090/api/smart?timeout=1000" | tee -a "$out"
  curl -s http://127.0.0.1:18090/metrics | grep -E '^tailcut_(calls|attempts|hedges|wins|calls_answered_late)_total|^tailcut_deadline_margin' | tee -a "$out"
  curl -s http://127.0.0.1:18091/stats | tee -a "$out"; echo | tee -a "$out"
}

memory() {
  # Each call holds a client and an upstream socket in the gateway: the
  # open-files limit caps how many fit (20000 on the machines seen here).
  local calls=$(( $(ulimit -n) / 2 - 100 ))
  (( calls > 10000 )) && calls=10000
  log "== 3. memory: $calls slow calls in flight (upstream hangs 20 s; open-files limit $(ulimit -n))"
  start_upstream 18101 --hang-rate 1 --error-rate 0 --invalid-json-rate 0 --hang-ms 20000
  start_gateway 18100 18101 --threads 2 --hedge-count 0 --max-connections 20000
  local gateway_pid=${pids[-1]}
  log "rss before: $(ps -o rss= -p "$gateway_pid") KiB"
  wrk -t2 -c"$calls" -d12s --timeout 30s "http://127.0.0.1:18100/api/smart?timeout=30000" >/dev/null 2>&1 &
  local wrk_pid=$!
  sleep 8
  log "calls in flight (upstream): $(curl -s http://127.0.0.1:18101/stats)"
  log "rss with $calls calls in flight: $(ps -o rss= -p "$gateway_pid") KiB"
  wait "$wrk_pid" || true
}

case $what in
  overhead) overhead ;;
  seed) seed ;;
  memory) memory ;;
  all) overhead; cleanup; restart_work; seed; cleanup; restart_work; memory ;;
esac
echo "results: $out"
