#!/usr/bin/env bash
# Builds the `tailcut` binary with profile-guided optimization and prints its
# path (build/optimized/src/tailcut). scripts/serve.sh and the benchmarks use
# it; the tests use the plain release build (scripts/test.sh).
#   1. build/pgo-training: an instrumented build (TAILCUT_PGO=GENERATE);
#   2. scripts/pgo-train.sh runs it under the gateway's workloads, which
#      writes the profile into build/pgo-profile (again only when step 1
#      produced a new binary);
#   3. build/optimized: the release build compiled with that profile
#      (TAILCUT_PGO=USE), from scratch whenever the profile is new.
# Progress goes to stderr, the binary's path alone to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
profile="$root/build/pgo-profile"
jobs=$(nproc)

cmake -S . -B build/pgo-training -G Ninja -DCMAKE_BUILD_TYPE=Release -DTAILCUT_BUILD_TESTS=OFF \
  -DTAILCUT_PGO=GENERATE -DTAILCUT_PGO_DIR="$profile" >/dev/null
cmake --build build/pgo-training --parallel "$jobs" --target tailcut_cli >&2

instrumented=build/pgo-training/src/tailcut
if [ ! -f "$profile/trained" ] || [ "$instrumented" -nt "$profile/trained" ]; then
  echo "build-optimized: training the instrumented build (~15 s)" >&2
  rm -rf "$profile" build/optimized
  mkdir -p "$profile"
  scripts/pgo-train.sh "$instrumented"
  touch "$profile/trained"
fi

cmake -S . -B build/optimized -G Ninja -DCMAKE_BUILD_TYPE=Release -DTAILCUT_BUILD_TESTS=OFF \
  -DTAILCUT_PGO=USE -DTAILCUT_PGO_DIR="$profile" >/dev/null
cmake --build build/optimized --parallel "$jobs" --target tailcut_cli >&2
echo "$root/build/optimized/src/tailcut"
