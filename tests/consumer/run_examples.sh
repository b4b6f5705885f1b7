#!/usr/bin/env bash
# Runs every program of examples/ (built in BIN_DIR) against example_servers
# on 127.0.0.1, each run bounded in time, and checks its exit status and
# what it prints. Then stops the servers and checks that they exit cleanly.
#
#   run_examples.sh BIN_DIR
set -euo pipefail
bin=$1
work=$(mktemp -d)
servers=()
failures=0
stop_servers() {
  local pid status=0
  for pid in "${servers[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${servers[@]}"; do wait "$pid" || status=$?; done
  servers=()
  rm -rf "$work"
  return "$status"
}
trap stop_servers EXIT

# Starts an example_server that answers after $1 ms; sets `url` to its
# address, read from the line it prints once it listens.
start_server() {
  local fifo="$work/server${#servers[@]}" fd line
  mkfifo "$fifo"
  "$bin/example_server" "$1" >"$fifo" &
  servers+=("$!")
  exec {fd}<"$fifo"
  if ! read -r -t 20 -u "$fd" line; then
    echo "example_server $1 did not start" >&2
    exit 1
  fi
  exec {fd}<&-
  url=${line#listening on }
}

# check EXPECTED_STATUS PATTERN COMMAND...: runs COMMAND for at most 30 s.
check() {
  local expected=$1 pattern=$2 output status=0
  shift 2
  output=$(timeout 30 "$bin/$@" 2>&1) || status=$?
  printf '$ %s\n%s\n' "$*" "$output"
  if [[ ${status} != "${expected}" ]] || ! grep -q -e "${pattern}" <<<"${output}"; then
    echo "FAILED: expected exit status ${expected} and output matching '${pattern}'," \
      "got ${status}" >&2
    failures=$((failures + 1))
  fi
}

start_server 0
fast=$url
start_server 1000
slow=$url

check 0 "attempt 1 won" hedged_get "$fast/work" 300
check 0 "attempt 3: started after" hedged_get "$slow/work" 100
check 0 "GET 8: HTTP 200" gather_limited "$fast/work" 8
# Refused at once, then too slow for the 200 ms per try: the third delivers;
# the slow one still delivers, later.
check 0 "late: $slow/deliveries succeeded" \
  failover_send hello http://127.0.0.1:1/deliveries "$slow/deliveries" "$fast/deliveries"
check 0 "one GET: HTTP 200" deadline "$fast/work" 5000
check 3 "operation timed out" deadline "$slow/work" 300

trap - EXIT
stop_servers || { echo "FAILED: an example_server did not exit cleanly" >&2; failures=$((failures + 1)); }
echo "${failures} failed"
[[ ${failures} == 0 ]]
