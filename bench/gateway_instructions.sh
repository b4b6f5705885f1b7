#!/usr/bin/env bash
# Instructions per proxied call of `tailcut serve`, counted by callgrind:
# deterministic to a fraction of a percent, where calls/s on this VM drift
# by 10-20 % within a minute (and perf has no hardware counters here). Use
# it to compare builds of the hot path; the wrk figures of gateway_bench.sh
# remain the ones that count.
#   bench/gateway_instructions.sh [calls]      (default 20000)
# Setup: a zero-delay, fault-free simulator; 2,000 warm-up calls by hey
# (-c16), then `calls` counted ones, through tailcut serve and then through
# nginx as a plain keep-alive reverse proxy (one process, no master). Prints
# each proxy's user-space instructions per call, and tailcut's 25 costliest
# functions (inclusive), per call. Then the same for the simulator, behind
# each proxy in turn: what each proxy's upstream requests cost the upstream.
source "$(dirname "$0")/lib.sh"
calls=${1:-20000}

$tailcut upstream --listen 127.0.0.1:18111 --threads 1 --min-delay 0ms --max-delay 0ms \
  --error-rate 0 --invalid-json-rate 0 --hang-rate 0 >"$work/upstream.log" 2>&1 &
pids+=($!)
# Counts the instructions of process $1 during `calls` calls to URL $2;
# leaves the callgrind dump in $work/dump.
count_calls() {
  local pid=$1 url=$2
  hey -n 2000 -c 16 "$url" >/dev/null
  callgrind_control -i on "$pid" >"$work/control.log" 2>&1 || { cat "$work/control.log" >&2; exit 1; }
  local answered
  answered=$(hey -n "$calls" -c 16 "$url" | awk '/\[200\]/ {print $2}')
  [[ -n $answered ]] || { echo "no call succeeded through $url" >&2; exit 1; }
  echo "calls answered 200: $answered of $calls"
  callgrind_control -i off "$pid" >"$work/control.log" 2>&1 || { cat "$work/control.log" >&2; exit 1; }
  callgrind_control -d "$pid" >"$work/control.log" 2>&1 || { cat "$work/control.log" >&2; exit 1; }
  local dump
  dump=$(ls -t "$work"/callgrind.out.* | head -1)
  mv "$dump" "$work/dump"
  rm -f "$work"/callgrind.out*
  callgrind_annotate "$work/dump" | awk -v n="$answered" '/PROGRAM TOTALS/ {gsub(",", "", $1); printf "instructions per call: %.0f\n", $1 / n}'
}

wait_port 18111
# nginx.conf for a proxy on port $1 to the simulator on port $2.
nginx_conf() {
  cat <<CONF
worker_processes 1;
master_process off;
daemon off;
pid $work/nginx-$1.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  upstream simulator { server 127.0.0.1:$2; keepalive 256; }
  server {
    listen 127.0.0.1:$1;
    location / { proxy_pass http://simulator; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
CONF
}
# Starts nginx as a proxy on port $1 to the simulator on port $2, under
# callgrind when $3 is "counted"; sets $nginx to its pid.
start_nginx() {
  local conf="$work/nginx-$1.conf"
  nginx_conf "$1" "$2" >"$conf"
  if [[ ${3:-} == counted ]]; then
    valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" --instr-atstart=no \
      nginx -c "$conf" >"$conf.log" 2>&1 &
  else
    nginx -c "$conf" >"$conf.log" 2>&1 &
  fi
  nginx=$!
  pids+=($nginx)
  for _ in $(seq 150); do curl -s -o /dev/null "http://127.0.0.1:$1/api/work" && break; sleep 0.2; done
}

echo "== nginx reverse proxy"
start_nginx 18112 18111 counted
count_calls "$nginx" "http://127.0.0.1:18112/api/work"
kill "$nginx"; wait "$nginx" 2>/dev/null || true

echo "== tailcut serve"
valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" --instr-atstart=no \
  $tailcut serve --listen 127.0.0.1:18110 --upstream http://127.0.0.1:18111/api/work \
  --log-level warn --threads 1 >"$work/serve.log" 2>&1 &
gateway=$!
pids+=($gateway)
wait_port 18110 150 0.2  # valgrind starts slowly
count_calls "$gateway" "http://127.0.0.1:18110/api/smart?timeout=1000"
echo "costliest functions (inclusive instructions per call):"
callgrind_annotate --inclusive=yes "$work/dump" >"$work/inclusive.txt"
grep -F '???:' "$work/inclusive.txt" | awk -v n="$calls" 'NR <= 25 {gsub(",", "", $1);
  name = substr($0, index($0, "???:") + 4); sub(/ \[\/[^]]*\]$/, "", name)  # no machine paths
  printf "%8.0f  %s\n", $1 / n, substr(name, 1, 110)}' || true

# The simulator counted, the proxies run natively.
echo "== the simulator, behind nginx"
valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" --instr-atstart=no \
  $tailcut upstream --listen 127.0.0.1:18113 --threads 1 --min-delay 0ms --max-delay 0ms \
  --error-rate 0 --invalid-json-rate 0 --hang-rate 0 >"$work/upstream-counted.log" 2>&1 &
simulator=$!
pids+=($simulator)
wait_port 18113 150 0.2
start_nginx 18114 18113
count_calls "$simulator" "http://127.0.0.1:18114/api/work"
kill "$nginx"; wait "$nginx" 2>/dev/null || true

echo "== the simulator, behind tailcut serve"
$tailcut serve --listen 127.0.0.1:18115 --upstream http://127.0.0.1:18113/api/work \
  --log-level warn --threads 1 >"$work/serve-native.log" 2>&1 &
pids+=($!)
wait_port 18115
count_calls "$simulator" "http://127.0.0.1:18115/api/smart?timeout=1000"
