#!/usr/bin/env bash
# Soak test of `tailcut serve` with its default flags: SOAK_SECONDS (default
# 600) of the default faulty simulator (100-600 ms, 10 % each of HTTP 500,
# invalid JSON and hangs; hangs end after 2 s with the upstream closing the
# connection) under 500 client connections that mix full waits, tight
# deadlines and clients leaving mid-call (bench/soak_client.cpp). Every
# 10 s it samples the gateway's resident memory and open descriptors.
# It passes when the gateway is still running at the end, it answered no
# call later than its timeout + 5 ms by its own clock (counted from each
# request's arrival: tailcut_call_lateness_seconds), and neither memory nor
# descriptors trend upward after the warm-up (the mean of the last third of
# the samples is within 10 % of the middle third's). Beside it: the calls
# answered after their timeout at all (tailcut_calls_answered_late_total),
# and the client's own count of answers later than timeout + 5 ms, which
# includes the client's delays too. The simulator runs at a lower priority
# (nice 10), as if on a machine of its own: on the two shared cores its
# work would otherwise delay the gateway's timers; its own delays only make
# the upstream slower, which the deadlines absorb. Two stall probes
# (bench/stall_probe.cpp, a thread pinned to each CPU) run beside it: one at
# real-time priority, which only the kernel and the hypervisor can hold up,
# sees the machine's own stalls; one at the gateway's priority shows what a
# thread that mostly sleeps waited. Each late answer the gateway warns of
# is put beside the stalls each probe saw while that answer's timers ran
# late, and the hypervisor's steal time over the run (/proc/stat) is
# reported. Results go to bench/results/soak-<date>.txt. Run by hand, as
# root for the real-time probe: bench/soak.sh
source "$(dirname "$0")/lib.sh"
seconds=${SOAK_SECONDS:-600}
out=bench/results/soak-$(date +%Y%m%d-%H%M%S).txt
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
log() { echo "$*" | tee -a "$out"; }

build=build/bench
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTAILCUT_BUILD_BENCH=ON \
  -DTAILCUT_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target tailcut_soak_client tailcut_stall_probe >/dev/null
client=$build/bench/tailcut_soak_client
probe=$build/bench/tailcut_stall_probe

nice -n 10 $tailcut upstream --listen 127.0.0.1:18201 --hang 2s >"$work/upstream.log" 2>&1 &
pids+=($!)
wait_port 18201
$tailcut serve --listen 127.0.0.1:18200 --upstream http://127.0.0.1:18201/api/work \
  --log-level warn >"$work/serve.log" 2>&1 &
gateway=$!
pids+=($gateway)
wait_port 18200

log "soak: ${seconds} s, 500 connections, gateway with default flags; $(nproc) cores"
steal_ticks() { awk '/^cpu / {print $9}' /proc/stat; }
steal_before=$(steal_ticks) steal_from=$(date +%s.%N)
"$client" http://127.0.0.1:18200 "$seconds" 500 >"$work/client.txt" 2>"$work/client.err" &
soak=$!
# The probes outlast the client, which finishes its calls in flight.
"$probe" "$((seconds + 5))" 5 realtime >"$work/probe-realtime.txt" 2>&1 &
probes=($!)
"$probe" "$((seconds + 5))" 5 ordinary >"$work/probe-ordinary.txt" 2>&1 &
probes+=($!)
pids+=("$soak" "${probes[@]}")
samples=()
log "$(printf '%8s %10s %12s' seconds rss_kb descriptors)"
for ((elapsed = 10; elapsed <= seconds; elapsed += 10)); do
  sleep 10
  kill -0 "$gateway" 2>/dev/null || { log "FAIL: the gateway is gone after ${elapsed} s"; exit 1; }
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$gateway/status")
  fds=$(ls "/proc/$gateway/fd" | wc -l)
  samples+=("$rss $fds")
  log "$(printf '%8d %10d %12d' "$elapsed" "$rss" "$fds")"
done
wait "$soak" || true
wait "${probes[@]}" || true
steal=$(awk -v t="$(($(steal_ticks) - steal_before))" -v hz="$(getconf CLK_TCK)" \
  -v from="$steal_from" -v to="$(date +%s.%N)" -v cores="$(nproc)" \
  'BEGIN {printf "%.1f s in %.0f s of %d cores", t / hz, cores * (to - from), cores}')
log "client: $(cat "$work/client.txt") $(head -c 300 "$work/client.err")"
metrics=$(curl -s http://127.0.0.1:18200/metrics)
late=$(awk '/^tailcut_calls_answered_late_total/ {print $2}' <<<"$metrics")
within_5ms=$(awk '/^tailcut_call_lateness_seconds_bucket\{le="0.005"\}/ {print $2}' <<<"$metrics")
late_past_5ms=$((${late:-0} - ${within_5ms:-0}))
[[ -n $late && -n $within_5ms ]] || late_past_5ms=unknown
log "gateway: calls answered after their timeout by its own clock: ${late:-unknown}, of which later than timeout + 5 ms: $late_past_5ms"
log "$(grep '^tailcut_call_lateness_seconds_bucket' <<<"$metrics" | awk '{printf "%s ", $0}')"
# The gateway's own word on its late answers (at most one line a second per
# worker): how late, and how late its timers ran.
grep 'answered late' "$work/serve.log" | tail -n 20 | sed 's/^/  /' | tee -a "$out" || true
log "machine: steal time $steal"
probe_summary() {
  grep -q '^cpu=' "$1" && grep -h '^cpu=' "$1" | tr '\n' ' ' || echo "n/a ($(head -c 200 "$1")) "
}
log "stall probes (woke more than 5 ms late): real-time $(probe_summary "$work/probe-realtime.txt")| ordinary (a thread that mostly sleeps) $(probe_summary "$work/probe-ordinary.txt")"

# The stalls a probe saw that overlap the time from `unix_ms` - `span_ms`
# to `unix_ms` (20 ms wider each side: the two clocks are read apart):
# "<count> <worst ms>". A stall is printed at its end, `ms` long.
stalls_within() {
  awk -v t="$1" -v span="$2" '$1 == "stall" { split($4, ms, "=")
      if ($2 >= t - span - 20 && $2 - ms[2] <= t + 20) { n++; if (ms[2] + 0 > worst) worst = ms[2] + 0 } }
    END { printf "%d %.1f\n", n, worst }' "$3"
}
# Each warned late answer later than timeout + 5 ms beside the stalls the
# probes saw while its timers ran late.
realtime_ran=$(grep -c '^cpu=' "$work/probe-realtime.txt" || true)
explained=0 warned=0
warning='^\[[0-9: .-]+\] \[warning\] call id=[0-9]+ answered late: [0-9.]+ ms after .* ran up to [0-9.]+ ms late'
while IFS= read -r line; do
  late_ms=$(sed -E 's/.*answered late: ([0-9.]+) ms.*/\1/' <<<"$line")
  timers_ms=$(sed -E 's/.*ran up to ([0-9.]+) ms late.*/\1/' <<<"$line")
  awk -v ms="$late_ms" 'BEGIN {exit !(ms > 5)}' || continue
  stamp=${line:1:23}
  at=$(date -d "$stamp" +%s%3N) || continue
  read -r machine_n machine_ms < <(stalls_within "$at" "$timers_ms" "$work/probe-realtime.txt")
  read -r ordinary_n ordinary_ms < <(stalls_within "$at" "$timers_ms" "$work/probe-ordinary.txt")
  warned=$((warned + 1))
  ((machine_n > 0)) && explained=$((explained + 1))
  machine="the machine stalled ${machine_n} times, up to ${machine_ms} ms"
  ((realtime_ran > 0)) || machine="the machine: n/a"
  log "  late ${late_ms} ms at ${stamp:11}, its timers ${timers_ms} ms late; meanwhile ${machine}; the sleeping thread waited ${ordinary_n} times, up to ${ordinary_ms} ms"
done < <(grep -E "$warning" "$work/serve.log" || true)
if ((realtime_ran > 0)); then
  log "warned late answers later than timeout + 5 ms: $warned, of which $explained while the machine stalled (its timers ran late then)"
else
  log "warned late answers later than timeout + 5 ms: $warned (the real-time probe did not run: no word on the machine's stalls)"
fi

# Flat: the mean of the last third of the samples against the middle third's.
verdict=$(printf '%s\n' "${samples[@]}" | awk '
  { rss[NR] = $1; fds[NR] = $2 }
  END {
    third = int(NR / 3); if (third < 1) { print "too few samples"; exit }
    for (i = third + 1; i <= 2 * third; i++) { mr += rss[i]; mf += fds[i] }
    for (i = NR - third + 1; i <= NR; i++) { lr += rss[i]; lf += fds[i] }
    growth_rss = lr / mr - 1; growth_fds = lf / mf - 1
    printf "rss growth %+.1f %%, descriptor growth %+.1f %% (last third against middle third)%s",
      100 * growth_rss, 100 * growth_fds, (growth_rss > 0.1 || growth_fds > 0.1) ? " FAIL" : ""
  }')
log "$verdict"
kill -0 "$gateway" 2>/dev/null || { log "FAIL: the gateway is gone"; exit 1; }
if [[ $late_past_5ms != 0 || $verdict == *FAIL* || $verdict == "too few samples" ]]; then
  log "FAIL"
  exit 1
fi
log "PASS"
