#!/usr/bin/env bash
# Builds the fuzz targets with clang-14 (ASan + UBSan + libFuzzer) and runs
# each for a while, starting from the seeds in fuzz/seeds/<target>
# (new inputs libFuzzer finds go to build/fuzz/corpus/<target>; crashes to
# build/fuzz/crash-*).
#   fuzz/run.sh [target|all] [seconds per target]     (default: all, 60 s)
#   fuzz/run.sh replay     runs every target once over its seed corpus (the
#                          inputs that once failed among them): a regression
#                          test, part of scripts/test.sh
# Targets: response_reader, head_parser, request_framing, timeout_param,
# json_check, http_url.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
build=build/fuzz
cmake -S fuzz -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 >/dev/null
cmake --build "$build"
what=${1:-all}
seconds=${2:-60}
targets=(response_reader head_parser request_framing timeout_param json_check http_url)
if [[ $what == replay ]]; then
  for target in "${targets[@]}"; do
    if ! log=$("$build/${target}_fuzz" -runs=0 -artifact_prefix="$build/" "fuzz/seeds/$target" 2>&1); then
      echo "$log" >&2
      echo "fuzz replay: $target failed on an input of fuzz/seeds/$target (see above)" >&2
      exit 1
    fi
    echo "$target: $(echo "$log" | tail -1)"
  done
  exit 0
fi
[[ $what != all ]] && targets=("$what")
for target in "${targets[@]}"; do
  echo "== $target: ${seconds} s" >&2
  mkdir -p "$build/corpus/$target"
  (cd "$build" && "./${target}_fuzz" -max_total_time="$seconds" -max_len=4096 -artifact_prefix=./ \
    -print_final_stats=1 "corpus/$target" "../../fuzz/seeds/$target")
done
