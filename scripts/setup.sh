#!/usr/bin/env bash
# Installs every Debian 12 package that tailcut's build, tests and benchmarks
# need. Idempotent: quiet and fast when everything is already there.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build ccache pkg-config
  # libraries (Boost 1.81, not the default 1.74)
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev libcli11-dev libspdlog-dev libfmt-dev prometheus-cpp-dev
  # the tailcut binary's allocator (tcmalloc)
  libgoogle-perftools-dev
  # tests, micro-benchmarks, fuzzing and sanitizers
  libgtest-dev libgmock-dev libbenchmark-dev clang-14 libclang-rt-14-dev
  clang-format openssl curl
  # benchmarks: load generators and reference peers
  wrk hey nginx-light python3-aiohttp
  # instruction counts per call (this VM has no hardware counters)
  valgrind
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
