#!/usr/bin/env bash
# Builds tailcut (profile-guided: scripts/build-optimized.sh) and runs the
# smart gateway with the embedded simulated upstream. Extra arguments go to
# `tailcut serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
tailcut=$(scripts/build-optimized.sh)  # profile-guided: see the script
exec "$tailcut" serve "$@"
