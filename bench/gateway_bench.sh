#!/usr/bin/env bash
# Gateway benchmarks, all in one run on this machine:
#  1. overhead: wrk against the simulator directly, against nginx as a plain
#     keep-alive reverse proxy, and against tailcut serve, all in front of a
#     zero-delay, fault-free simulator; one worker each (the target), then
#     two workers each;
#  2. load: default simulator (100-600 ms, 10 % of each fault),
#     timeout=1000, 2,000 connections for 30 s;
#  3. memory: resident set of tailcut serve with slow calls in flight, with
#     the default flags (the most the open-files limit allows, and half of
#     it: the figure at 9,000 calls projected from the two; MEMORY_CALLS:
#     another count) and with hedging off (up to 9,000 calls); BASELINE=
#     <binary>: the same cases with another build, in the same run.
# Results go to bench/results/gateway-<date>.txt (memory alone:
# memory-<date>.txt). Run by hand:
#   bench/gateway_bench.sh [overhead|load|memory|all]
# The overhead test alternates nginx and tailcut for OVERHEAD_ROUNDS rounds
# (default 5) of OVERHEAD_SECONDS (default 4) each, and reports every
# process's CPU time per call (proxy, simulator, wrk) and how busy the
# machine's cores were, beside calls/s. BASELINE=<binary>: another tailcut
# build joins the one-worker rounds (a previous build, same run).
source "$(dirname "$0")/lib.sh"
what=${1:-all}
duration=${BENCH_SECONDS:-10}
kind=gateway
[ "$what" = memory ] && kind=memory
out=bench/results/$kind-$(date +%Y%m%d-%H%M%S).txt
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
log() { echo "$*" | tee -a "$out"; }

start_upstream() {  # port, extra flags...
  local port=$1; shift
  $tailcut upstream --listen 127.0.0.1:"$port" --threads 1 "$@" >"$work/upstream-$port.log" 2>&1 &
  pids+=($!)
  wait_port "$port"
}
start_gateway() {  # port, upstream port, extra flags...  (GATEWAY=<binary>: another build)
  local port=$1 upstream=$2; shift 2
  ${GATEWAY:-$tailcut} serve --listen 127.0.0.1:"$port" --upstream "http://127.0.0.1:$upstream/api/work" \
    --log-level warn --upstream-connections 20000 "$@" >"$work/serve-$port.log" 2>&1 &
  pids+=($!)
  wait_port "$port"
}
start_nginx() {  # port, upstream port, worker processes
  cat >"$work/nginx-$1.conf" <<CONF
worker_processes ${3:-1};
pid $work/nginx-$1.pid;
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
  nginx -c "$work/nginx-$1.conf" -g 'daemon off;' &
  pids+=($!)
  sleep 0.5
}

# The machine's idle ticks (idle and iowait) and all its ticks so far: how
# busy its cores were between two readings.
machine_ticks() { awk '/^cpu / { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }

# CPU time (user and system ticks) the processes listed in $1 (separated by
# commas) have used so far, summed.
cpu_ticks() {
  local pid user=0 system=0
  for pid in ${1//,/ }; do
    read -r u s < <(awk '{print $14, $15}' "/proc/$pid/stat")
    user=$((user + u)) system=$((system + s))
  done
  echo "$user $system"
}

overhead() {
  local rounds=${OVERHEAD_ROUNDS:-5}
  local seconds=${OVERHEAD_SECONDS:-4}
  log "== 1. overhead: zero-delay fault-free simulator; wrk -t1 -c64, $rounds alternating rounds of ${seconds}s (2 cores shared by all)"
  log "   nginx and tailcut with one worker each (the target), then with two each (nginx: worker_processes 2; tailcut: --threads 2)"
  start_upstream 18081 --min-delay 0ms --max-delay 0ms --error-rate 0 --invalid-json-rate 0 --hang-rate 0
  local upstream_pid=${pids[-1]}
  start_gateway 18080 18081 --threads 1
  local gateway_pid=${pids[-1]}
  start_gateway 18083 18081 --threads 2
  local gateway2_pid=${pids[-1]}
  start_nginx 18082 18081 1
  local nginx_workers nginx2_workers
  nginx_workers=$(pgrep -P "${pids[-1]}" | paste -sd,)
  start_nginx 18084 18081 2
  nginx2_workers=$(pgrep -P "${pids[-1]}" | paste -sd,)
  local contenders=("nginx|http://127.0.0.1:18082/api/work|$nginx_workers"
                    "tailcut|http://127.0.0.1:18080/api/smart?timeout=1000|$gateway_pid")
  if [[ -n ${BASELINE:-} ]]; then
    log "   baseline: $BASELINE, one worker"
    GATEWAY=$BASELINE start_gateway 18085 18081 --threads 1
    contenders+=("baseline|http://127.0.0.1:18085/api/smart?timeout=1000|${pids[-1]}")
  fi
  contenders+=("nginx-2w|http://127.0.0.1:18084/api/work|$nginx2_workers"
               "tailcut-2w|http://127.0.0.1:18083/api/smart?timeout=1000|$gateway2_pid")
  log "-- simulator directly"
  wrk -t1 -c64 -d"${duration}s" --latency http://127.0.0.1:18081/api/work | tee -a "$out"
  # The proxies take turns, round after round: this machine's speed drifts
  # by 10-20 % within a minute, and a short round of each, alternated,
  # meets the same machine. Per round: calls/s, and the CPU time per call
  # of the proxy (user, system), of the simulator and of wrk; the medians
  # of the rounds close the section.
  local rows="$work/overhead.rows"
  : >"$rows"
  for round in $(seq "$rounds"); do
    for target in "${contenders[@]}"; do
      IFS='|' read -r name url proxy_pid <<<"$target"
      local proxy_before upstream_before machine_before
      proxy_before=$(cpu_ticks "$proxy_pid")
      upstream_before=$(cpu_ticks "$upstream_pid")
      machine_before=$(machine_ticks)
      /usr/bin/time -f "%U %S" -o "$work/wrk.time" wrk -t1 -c64 -d"${seconds}s" "$url" >"$work/wrk.out"
      local row
      row=$(awk -v round="$round" -v name="$name" -v pb="$proxy_before" -v pa="$(cpu_ticks "$proxy_pid")" \
        -v ub="$upstream_before" -v ua="$(cpu_ticks "$upstream_pid")" -v wt="$(cat "$work/wrk.time")" \
        -v mb="$machine_before" -v ma="$(machine_ticks)" -v cores="$(nproc)" \
        -v hz="$(getconf CLK_TCK)" '
        /requests in/ { calls = $1 } /Requests\/sec/ { rps = $2 }
        END {
          split(pb, p0, " "); split(pa, p1, " "); split(ub, u0, " "); split(ua, u1, " "); split(wt, w, " ");
          split(mb, m0, " "); split(ma, m1, " ");
          us = 1e6 / hz / calls;
          printf "%d %s %.0f %.1f %.1f %.1f %.1f %.2f", round, name, rps, (p1[1] - p0[1]) * us,
            (p1[2] - p0[2]) * us, (u1[1] + u1[2] - u0[1] - u0[2]) * us, (w[1] + w[2]) * 1e6 / calls,
            cores * (1 - (m1[1] - m0[1]) / (m1[2] - m0[2])) }' \
        "$work/wrk.out")
      echo "$row" >>"$rows"
      echo "round $row" >&2  # progress
    done
  done
  log "round proxy calls/s | CPU us per call: proxy user, proxy system, simulator, wrk | busy cores"
  awk '{ printf "  %s %-10s %7s | %s %s %s %s | %s\n", $1, $2, $3, $4, $5, $6, $7, $8 }' "$rows" | tee -a "$out"
  log "medians over the rounds:"
  local names=(nginx tailcut nginx-2w tailcut-2w) pairs=("nginx|tailcut|one worker each"
                                                        "nginx-2w|tailcut-2w|two workers each")
  if [[ -n ${BASELINE:-} ]]; then
    names+=(baseline)
    pairs+=("nginx|baseline|one worker each" "baseline|tailcut|one worker each")
  fi
  for name in "${names[@]}"; do
    log "  $name: $(awk -v n="$name" '$2 == n' "$rows" | median_columns)"
  done
  for pair in "${pairs[@]}"; do
    IFS='|' read -r reference contender what <<<"$pair"
    log "  $contender / $reference, $what, round by round: $(awk -v n="$reference" -v t="$contender" '
      $2 == n { a[$1] = $3 } $2 == t { b[$1] = $3 }
      END { for (r = 1; r in a; ++r) printf "%d%% ", 100 * b[r] / a[r] }' "$rows")"
  done
}

# The median of each column (3 to 8) of round rows read on stdin.
median_columns() {
  awk '{ for (c = 3; c <= 8; c++) v[c, NR] = $c } END {
    split("calls/s,proxy-user,proxy-system,simulator,wrk,busy-cores", names, ",");
    for (c = 3; c <= 8; c++) {
      for (i = 1; i <= NR; i++) a[i] = v[c, i];
      for (i = 1; i <= NR; i++) for (j = i + 1; j <= NR; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
      m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2;
      printf "%s %s  ", names[c - 2], m
    } }'
}

load() {
  log "== 2. load: default simulator, timeout=1000, 2000 connections, 30 s"
  start_upstream 18091 --seed 7
  start_gateway 18090 18091 --threads 2 ${LOAD_GATEWAY_FLAGS:-}
  wrk -t2 -c2000 -d30s --timeout 5s --latency -s bench/latency.lua "http://127.0.0.1:18090/api/smart?timeout=1000" | tee -a "$out"
  curl -s http://127.0.0.1:18090/metrics | grep -E '^tailcut_(calls|attempts|hedges|wins|calls_answered_late)_total|^tailcut_deadline_margin' | tee -a "$out"
  curl -s http://127.0.0.1:18091/stats | tee -a "$out"; echo | tee -a "$out"
}

# The upstream's count of requests in flight (its GET /stats).
upstream_in_flight() {  # port
  curl -s "http://127.0.0.1:$1/stats" | sed -n 's/.*"in_flight":\([0-9]*\).*/\1/p'
}

# One memory case: the gateway with the given flags and $1 slow calls in
# flight, each with $2 attempts. Sets memory_rss to its resident set (KiB)
# with them in flight, and logs it with the idle figure and the upstream's
# count of requests in flight.
memory_case() {  # calls, attempts per call, gateway flags...
  local calls=$1 attempts=$2; shift 2
  local expected=$((calls * attempts))
  # The simulator holds every attempt's connection: more than its default
  # cap of 10,000 with the default flags.
  start_upstream 18101 --hang-rate 1 --error-rate 0 --invalid-json-rate 0 --hang 60s \
    --max-connections $((expected + 100))
  start_gateway 18100 18101 --max-connections 20000 "$@"
  local gateway_pid=${pids[-1]}
  local idle
  idle=$(ps -o rss= -p "$gateway_pid")
  wrk -t2 -c"$calls" -d60s --timeout 60s "http://127.0.0.1:18100/api/smart?timeout=60000" \
    >/dev/null 2>&1 &
  local wrk_pid=$!
  # Until every attempt has reached the upstream (at most 30 s), then two
  # seconds more for the gateway to settle.
  local in_flight=0
  for _ in $(seq 60); do
    in_flight=$(upstream_in_flight 18101)
    (( ${in_flight:-0} >= expected )) && break
    sleep 0.5
  done
  sleep 2
  in_flight=$(upstream_in_flight 18101)
  memory_rss=$(ps -o rss= -p "$gateway_pid")
  log "  ${*:-default flags}: $calls calls, upstream requests in flight $in_flight" \
    "(expected $expected): rss $memory_rss KiB (idle $idle KiB)"
  kill "$wrk_pid" 2>/dev/null || true
  cleanup
  restart_work
}

# The four memory cases of one gateway build (GATEWAY=<binary>: another
# one), and what they give; `label` names the build in the summary.
memory_cases() {  # label
  local label=$1
  local default_half default_full off_full off_target_rss
  memory_case "$half" 3; default_half=$memory_rss
  memory_case "$full" 3; default_full=$memory_rss
  memory_case "$full" 1 --hedge-count 0; off_full=$memory_rss
  memory_case "$off_target" 1 --hedge-count 0; off_target_rss=$memory_rss
  awk -v label="$label" -v h="$half" -v f="$full" -v t="$target" -v ot="$off_target" \
    -v dh="$default_half" -v df="$default_full" -v of="$off_full" -v ott="$off_target_rss" 'BEGIN {
    per_call = (df - dh) / (f - h);
    printf "%s, default flags, measured: %.1f MB with %d calls, %.1f MB with %d: %.2f KB per call\n",
      label, dh / 1000, h, df / 1000, f, per_call;
    printf "%s, default flags, PROJECTED to %d calls: %.1f MB (%.1f MB measured with %d, + %d x %.2f KB)\n",
      label, t, (df + (t - f) * per_call) / 1000, df / 1000, f, t - f, per_call;
    printf "%s, hedging off, measured: %.1f MB with %d calls, %.1f MB with %d\n",
      label, ott / 1000, ot, of / 1000, f;
    printf "%s, an extra attempt: %.2f KB ((default flags - hedging off) / 2, with %d calls)\n",
      label, (df - of) / (2 * f), f }' | tee -a "$out"
}

memory() {
  # Each call holds a client socket and one upstream socket per attempt in
  # the gateway, and the open-files limit is per process: with the default
  # flags (three attempts) the largest count that fits is taken, and half
  # of it; the cost per call between the two projects the figure at 9,000
  # calls. Hedging off (two descriptors a call) is measured at the larger
  # count and at up to 9,000. KB and MB: KiB and 1,000 KiB, as ps counts.
  local limit
  limit=$(ulimit -n)
  target=9000
  full=$(( (limit - 1000) / 4 / 100 * 100 ))
  full=${MEMORY_CALLS:-$full}
  (( full > target )) && full=$target
  half=$(( full / 2 ))
  off_target=$(( (limit - 1000) / 2 ))
  (( off_target > target )) && off_target=$target
  log "== 3. memory: resident set of tailcut serve with slow calls in flight (the upstream hangs;"
  log "   open-files limit $(ulimit -n) per process; pool and connection limits raised to 20,000)"
  log "   commit $(git rev-parse --short HEAD), $tailcut; KB = KiB, MB = 1,000 KiB"
  memory_cases tailcut
  if [[ -n ${BASELINE:-} ]]; then
    log "-- baseline: $BASELINE (the same cases, the same simulator)"
    GATEWAY=$BASELINE memory_cases baseline
  fi
}

case $what in
  overhead) overhead ;;
  load) load ;;
  memory) memory ;;
  all) overhead; cleanup; restart_work; load; cleanup; restart_work; memory ;;
esac
echo "results: $out"
