#!/usr/bin/env bash
# Builds the ThreadSanitizer configuration (build/tsan) and runs the whole test
# suite under it; fails on any failing test or any ThreadSanitizer report.
# Separate from scripts/test.sh so that the README's test command stays within
# its time budget on a 2-core machine: this build and run add about 15 minutes
# cold (nearly all of it the build; the tests take one to two minutes).
# CI runs it after scripts/test.sh (.ci/run).
#
# The build registers no install/examples test (it builds an outside project,
# which would need the ThreadSanitizer flags and runtime too) and no PGO
# training test (it times a release binary's workloads): see tests/CMakeLists.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

jobs=$(nproc)
build_dir=build/tsan
echo "== ${build_dir}: configure and build" >&2
cmake -S . -B "${build_dir}" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DTAILCUT_TSAN=ON >/dev/null
cmake --build "${build_dir}" --parallel "${jobs}"

echo "== ${build_dir}: test" >&2
# halt_on_error: a report ends the process with exitcode, so the test fails
# even when the race does not change its outcome. second_deadlock_stack: a
# lock-order report shows where both locks were taken.
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
ctest --test-dir "${build_dir}" --output-on-failure --parallel "${jobs}"
