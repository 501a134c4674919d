#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang, AddressSanitizer and UBSan, and
# runs each for SECONDS (default 60) from its corpus in fuzz/corpus. A crash
# stops the script with the input that caused it (build-fuzz/crash-*).
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
scripts/deps.sh
CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTANDEM_FUZZ=ON \
  -DTANDEM_TESTS=OFF -DTANDEM_SANITIZE=ON >/dev/null
cmake --build build-fuzz -j2 --target spool_frame_fuzz config_fuzz http_request_fuzz json_member_fuzz \
  event_batch_fuzz
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for target in spool_frame config http_request json_member event_batch; do
  work=build-fuzz/corpus/$target
  mkdir -p "$work"
  echo "fuzzing $target for ${seconds}s"
  ./build-fuzz/fuzz/${target}_fuzz -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix=build-fuzz/crash-$target- -print_final_stats=1 "$work" fuzz/corpus/$target \
    2>build-fuzz/$target.log || { tail -50 build-fuzz/$target.log; exit 1; }
  grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" build-fuzz/$target.log | tr '\n' ' '
  echo
done
