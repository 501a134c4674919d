#!/usr/bin/env bash
# Every test: installs what is missing, checks the formatting, builds, runs the
# suite, runs it again under AddressSanitizer + UndefinedBehaviorSanitizer, then
# gives each fuzz target a short run (TANDEM_FUZZ_SECONDS, default 15).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/format.sh
scripts/build.sh build
(cd build && ctest -j2 --output-on-failure)
if [ "${TANDEM_SKIP_SANITIZERS:-0}" != 1 ]; then
  BUILD_TYPE=Debug scripts/build.sh build-asan -DTANDEM_SANITIZE=ON
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  # The calibration's 20+20 runs are asserted in the plain pass above; here the
  # same code runs 3+3 times (20 would take ~9 of CI's minutes).
  export TANDEM_CALIBRATION_RUNS=3
  (cd build-asan && ctest -j2 --output-on-failure)
fi
if [ "${TANDEM_FUZZ_SECONDS:-15}" != 0 ]; then
  scripts/fuzz.sh "${TANDEM_FUZZ_SECONDS:-15}"
fi
