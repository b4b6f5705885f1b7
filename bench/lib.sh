# Shared by the gateway benchmarks (sourced, not run): installs what they
# need, builds the optimized `tailcut` (the one scripts/serve.sh runs: profile-
# guided, scripts/build-optimized.sh), and gives them a scratch directory and
# background processes that end with the script.
#   source "$(dirname "$0")/lib.sh"    (from bench/; leaves the cwd at the top)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh
# TAILCUT=<binary>: measure another build (build/release/src/tailcut: no PGO)
tailcut=${TAILCUT:-$(scripts/build-optimized.sh)}
work=$(mktemp -d)
pids=()  # background processes: add each one's pid

# Stops the background processes and removes the scratch directory.
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# A fresh scratch directory and process list, after cleanup.
restart_work() { pids=(); work=$(mktemp -d); }

# Waits until something answers GET /healthz on 127.0.0.1:PORT; tries
# (default 100, 0.1 s apart), then fails the script.
wait_port() {
  local port=$1 tries=${2:-100} pause=${3:-0.1}
  for _ in $(seq "$tries"); do
    curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && return 0
    sleep "$pause"
  done
  echo "port $port never came up" >&2
  exit 1
}
