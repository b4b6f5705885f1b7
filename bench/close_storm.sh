#!/usr/bin/env bash
# The close storm: CALLS slow calls in flight through `tailcut serve` (each
# with its three hedged attempts), then their client (wrk) leaves at once,
# as at the end of the load benchmark or a load balancer's restart. Prints
# the gateway's CPU time for the storm per departed call, and how long a
# probe on the same server (GET /healthz every 2 ms) waited at worst: how
# long the storm stalled a worker. Repeats ROUNDS times.
#   bench/close_storm.sh            (CALLS=2000 ROUNDS=3)
# Results are appended to bench/results/close-storm-<date>.txt.
source "$(dirname "$0")/lib.sh"
calls=${CALLS:-2000}
rounds=${ROUNDS:-3}
out=bench/results/close-storm-$(date +%Y%m%d-%H%M%S).txt
ulimit -n "$(ulimit -Hn)"

cpu_ns() { cat /proc/"$1"/task/*/schedstat | awk '{ s += $1 } END { print s }'; }
{
  echo "close storm: $calls calls in flight (upstream 3 s, 3 attempts each), the client leaves at once"
  echo "commit $(git rev-parse --short HEAD), $(nproc) cores"
} | tee "$out"
for round in $(seq "$rounds"); do
  restart_work
  $tailcut upstream --listen 127.0.0.1:18191 --threads 1 --min-delay 3s --max-delay 3s \
    --error-rate 0 --invalid-json-rate 0 --hang-rate 0 >"$work/upstream.log" 2>&1 &
  pids+=($!)
  upstream=$!
  $tailcut serve --listen 127.0.0.1:18190 --upstream http://127.0.0.1:18191/api/work \
    --log-level warn --upstream-connections 20000 --threads 2 >"$work/serve.log" 2>&1 &
  pids+=($!)
  gateway=$!
  wait_port 18190
  wrk -t2 -c"$calls" -d2s --timeout 10s "http://127.0.0.1:18190/api/smart?timeout=5000" \
    >"$work/wrk.out" 2>&1 &
  client=$!
  sleep 1.5  # every call in flight, its extra attempts fired
  hey -z 2s -q 500 -c 1 http://127.0.0.1:18190/healthz >"$work/probe.out" &
  probe=$!
  sleep 0.2
  gateway_before=$(cpu_ns "$gateway")
  upstream_before=$(cpu_ns "$upstream")
  wait "$client"
  sleep 0.8  # the storm is over
  gateway_after=$(cpu_ns "$gateway")
  upstream_after=$(cpu_ns "$upstream")
  wait "$probe"
  echo "round $round: gateway $(((gateway_after - gateway_before) / 1000000)) ms CPU," \
    "$(((gateway_after - gateway_before) / calls / 1000)) us per departed call;" \
    "simulator $(((upstream_after - upstream_before) / 1000000)) ms;" \
    "probe slowest $(awk '/Slowest/ { print $2 * 1000 }' "$work/probe.out") ms," \
    "99% $(awk '/99% in/ { print $3 * 1000 }' "$work/probe.out") ms;" \
    "upstream saw $(curl -s http://127.0.0.1:18191/stats)" | tee -a "$out"
  cleanup
done
echo "results: $out"
