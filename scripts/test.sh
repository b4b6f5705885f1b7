#!/usr/bin/env bash
# Builds and runs the whole test suite twice: a release build, then an
# AddressSanitizer + UndefinedBehaviorSanitizer build; then replays the fuzz
# targets' corpora (clang-14, libFuzzer). Installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

jobs=$(nproc)
run_suite() {
  local build_dir=$1; shift
  echo "== ${build_dir}: configure and build" >&2
  cmake -S . -B "${build_dir}" -G Ninja "$@" >/dev/null
  cmake --build "${build_dir}" --parallel "${jobs}"
  echo "== ${build_dir}: test" >&2
  ctest --test-dir "${build_dir}" --output-on-failure --parallel "${jobs}"
}

run_suite build/release -DCMAKE_BUILD_TYPE=Release
ASAN_OPTIONS=detect_leaks=1:strict_init_order=1 \
UBSAN_OPTIONS=print_stacktrace=1 \
  run_suite build/sanitize -DCMAKE_BUILD_TYPE=Debug -DTAILCUT_SANITIZE=ON
echo "== fuzz targets: build and replay the corpora" >&2
fuzz/run.sh replay
