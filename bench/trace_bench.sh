#!/usr/bin/env bash
# Trace alone on loopback with its SQLite dataset, driven by wrk as the
# dispatcher's forwarder would drive it (one stamped event per request,
# bench/trace_post.lua): events/s answered 200 (each answer comes after the
# event's deliveries rows are written), latency, then a check that every event
# trace received has its rows, and peak RSS. Two cases: the capture tracker, and
# three TLS stand-in vendors (GA4, Amplitude, Heap; batching on). Prints Markdown.
set -euo pipefail
cd "$(dirname "$0")/.."
TANDEM_BENCH_DEPS=1 scripts/deps.sh
scripts/build.sh build >/dev/null

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-256}  # the forwarder keeps 256 events in flight
TRACE_PORT=19681
source bench/lib.sh

./build/bench/bench_vendor --count 3 >"$work/vendors.out" & pids+=($!)
for _ in $(seq 100); do [ -s "$work/vendors.out" ] && break; sleep 0.1; done
ca=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["ca"])' "$work/vendors.out")
url() { python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["urls"][int(sys.argv[2])])' "$work/vendors.out" "$1"; }

run_case() {  # name, trackers yaml, number of trackers
  local name=$1 trackers=$2 n=$3 dir="$work/$1"
  mkdir -p "$dir"
  cat > "$dir/tandem.yaml" <<YAML
splitter: { listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0" }
colors:
  blue: { dispatcher_listen: "127.0.0.1:0", trace_listen: "127.0.0.1:$TRACE_PORT", dataset: { kind: sqlite, path: blue.db } }
  green: { dispatcher_listen: "127.0.0.1:0", trace_listen: "127.0.0.1:0", dataset: { kind: sqlite, path: green.db } }
pipeline:
  allowlist: { events: { "purchase product": [category, productName, note] } }
  tls: { ca_file: "$ca" }
  trackers:
$trackers
YAML
  BENCH_GA_SECRET=ga-secret BENCH_AMP_KEY=amp-key ${TANDEM_BIN:-./build/tandem} trace -c "$dir/tandem.yaml" --color blue 2>"$dir/trace.log" &
  local tpid=$!
  wait_port $TRACE_PORT
  local out rps p50 p99 total non2xx rows ids rss
  out=$(wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s bench/trace_post.lua "http://127.0.0.1:$TRACE_PORT/v1/events")
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out"); p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  total=$(awk '/requests in/ {print $1}' <<<"$out")
  non2xx=$(awk -F': ' '/Non-2xx/ {print $2}' <<<"$out"); non2xx=${non2xx:-0}
  rss=$(awk '/VmHWM/ {printf "%.1f MB", $2/1024}' /proc/$tpid/status)
  kill -TERM $tpid; wait $tpid 2>/dev/null || true
  rows=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from deliveries').fetchone()[0])" "$dir/blue.db")
  ids=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(distinct tandem_id) from deliveries').fetchone()[0])" "$dir/blue.db")
  printf "| %s | %.0f | %s | %s | %s | %s | %s rows for %s events (%s each) | %s |\n" \
    "$name" "$rps" "$p50" "$p99" "$total" "$non2xx" "$rows" "$ids" "$n" "$rss"
}

echo "| case | events/s (200, rows written) | p50 | p99 | requests | non-2xx | deliveries rows after drain | trace peak RSS |"
echo "|---|---|---|---|---|---|---|---|"
run_case capture '    - { name: capture, kind: capture, path: "capture-{color}.jsonl", linger_ms: 5 }' 1
run_case "ga4+amplitude+heap (TLS)" "    - { name: ga, kind: ga4, endpoint: \"$(url 0)\", measurement_id: G-BENCH, api_secret_env: BENCH_GA_SECRET }
    - { name: amp, kind: amplitude, endpoint: \"$(url 1)\", api_key_env: BENCH_AMP_KEY }
    - { name: heap, kind: heap, endpoint: \"$(url 2)\", app_id: \"4242\" }" 3
kill -TERM "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true
echo
echo "vendor stand-ins (requests, events): $(tail -1 "$work/vendors.out")"
echo "machine: $(nproc) cores, $(uname -r); wrk -t1 -c$CONNECTIONS -d${DURATION}s; every 200 followed the event's rows being written"
