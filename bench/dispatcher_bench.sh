#!/usr/bin/env bash
# The dispatcher alone on loopback with its SQLite dataset: acknowledged (durable)
# events/s and ack latency under wrk (64 connections, 134-byte Sparrow event),
# trace stood in by bench_upstream. Afterwards checks that `raw` holds every
# acknowledged event. Prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
TANDEM_BENCH_DEPS=1 scripts/deps.sh
scripts/build.sh build >/dev/null

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
WRK_THREADS=${WRK_THREADS:-1}
DISPATCHER_PORT=19580 TRACE_PORT=19581
source bench/lib.sh

./build/bench/bench_upstream --port $TRACE_PORT >/dev/null & pids+=($!)
cat > "$work/tandem.yaml" <<YAML
splitter: { listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0" }
colors:
  blue: { dispatcher_listen: "127.0.0.1:$DISPATCHER_PORT", trace_listen: "127.0.0.1:$TRACE_PORT", dataset: { kind: sqlite, path: blue.db } }
  green: { dispatcher_listen: "127.0.0.1:0", trace_listen: "127.0.0.1:0", dataset: { kind: sqlite, path: green.db } }
YAML
${TANDEM_BIN:-./build/tandem} dispatcher -c "$work/tandem.yaml" --color blue 2>"$work/dispatcher.log" & dpid=$!; pids+=($dpid)
wait_port $DISPATCHER_PORT; wait_port $TRACE_PORT

out=$(wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s bench/post.lua "http://127.0.0.1:$DISPATCHER_PORT/v1/events")
rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
p50=$(awk '$1=="50%" {print $2}' <<<"$out"); p99=$(awk '$1=="99%" {print $2}' <<<"$out")
total=$(awk '/requests in/ {print $1}' <<<"$out")
non2xx=$(awk -F': ' '/Non-2xx/ {print $2}' <<<"$out"); non2xx=${non2xx:-0}
accepted=$(curl -s 127.0.0.1:$DISPATCHER_PORT/metrics | awk '/^tandem_dispatcher_accepted_total/ {print $2}')
rss=$(awk '/VmHWM/ {printf "%.1f MB", $2/1024}' /proc/$dpid/status)
curl -s 127.0.0.1:$DISPATCHER_PORT/metrics > "$work/metrics.txt"
kill -TERM $dpid; wait $dpid 2>/dev/null || true
rows=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from raw').fetchone()[0])" "$work/blue.db")

echo "| acked events/s | p50 | p99 | requests | non-2xx | accepted (metric) | rows in raw after drain | peak RSS |"
echo "|---|---|---|---|---|---|---|---|"
printf "| %.0f | %s | %s | %s | %s | %.0f | %s | %s |\n" "$rps" "$p50" "$p99" "$total" "$non2xx" "$accepted" "$rows" "$rss"
echo
grep -E "(commit_seconds|commit_records|ack_latency_seconds)_(bucket|sum|count)" "$work/metrics.txt" | sed "s/^/# /" >&2 || true
echo "machine: $(nproc) cores, $(uname -r); wrk -t$WRK_THREADS -c$CONNECTIONS -d${DURATION}s; every 202 followed an fdatasync"
