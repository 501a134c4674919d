#!/usr/bin/env bash
# compare's cost on generated SQLite datasets (two vendors with recorded
# payloads): one report over EVENTS events per color, then each new window while
# both datasets keep taking writes at the traffic's own rate. RUNS runs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh build >/dev/null
EVENTS=${EVENTS:-1000000}
PER_WINDOW=${PER_WINDOW:-100000}
RUNS=${RUNS:-3}
for i in $(seq "$RUNS"); do
  echo "run $i:"
  ./build/bench/compare_bench --events "$EVENTS" --per-window "$PER_WINDOW" --new-windows 5
done
echo "machine: $(nproc) cores, $(uname -r)"
