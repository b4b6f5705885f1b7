#!/usr/bin/env bash
# Builds tailcut and runs the smart gateway with the embedded simulated
# upstream. Extra arguments go to `tailcut serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release --parallel "$(nproc)" --target tailcut_cli
exec build/release/src/tailcut serve "$@"
