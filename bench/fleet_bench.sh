#!/usr/bin/env bash
# A fleet on loopback: a 3-member etcd cluster (Debian's etcd-server), three
# splitters sharing the live color through it, and stand-in dispatchers.
#  1. Propagation: ROUNDS rollbacks through splitter 1; for each, the time from
#     sending the request until splitters 2 and 3 route by the new color (their
#     "live color changed by the fleet" log line, written after the switch).
#  2. The store on the request path: the same splitter build with splitter.etcd
#     against one with state_file only, RUNS wrk runs each, interleaved.
#   bench/fleet_bench.sh      # ROUNDS=50 RUNS=3 DURATION=10 CONNECTIONS=64
set -euo pipefail
cd "$(dirname "$0")/.."
TANDEM_BENCH_DEPS=1 scripts/deps.sh >/dev/null
scripts/build.sh build >/dev/null
ROUNDS=${ROUNDS:-50}
RUNS=${RUNS:-3}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
TOKEN=fleet-bench-token
export TANDEM_ADMIN_TOKEN=$TOKEN
source bench/lib.sh

# etcd: three members.
cluster="m1=http://127.0.0.1:19511,m2=http://127.0.0.1:19512,m3=http://127.0.0.1:19513"
for i in 1 2 3; do
  etcd --name "m$i" --data-dir "$work/etcd-$i" --log-level warn \
    --listen-client-urls "http://127.0.0.1:1950$i" --advertise-client-urls "http://127.0.0.1:1950$i" \
    --listen-peer-urls "http://127.0.0.1:1951$i" --initial-advertise-peer-urls "http://127.0.0.1:1951$i" \
    --initial-cluster "$cluster" --initial-cluster-state new 2>"$work/etcd-$i.log" &
  pids+=($!)
done
for i in 1 2 3; do
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:1950$i/health" | grep -q '"true"' && break
    sleep 0.1
  done
done

# Stand-in dispatchers: live (green) and candidate (blue).
./build/bench/bench_upstream --port 19551 --threads 1 >/dev/null & pids+=($!)
./build/bench/bench_upstream --port 19552 --threads 1 >/dev/null & pids+=($!)
wait_port 19551; wait_port 19552

splitter_config() {  # n etcd(yes|no)
  local etcd=""
  [ "$2" = yes ] && etcd='  etcd: { endpoints: ["http://127.0.0.1:19501", "http://127.0.0.1:19502", "http://127.0.0.1:19503"], key: /tandem/bench }'
  cat > "$work/s$1.yaml" <<YAML
splitter:
  listen: "127.0.0.1:1953$1"
  admin_listen: "127.0.0.1:1954$1"
  state_file: s$1-state.json
$etcd
colors:
  blue: { dispatcher_listen: "127.0.0.1:19552", trace_listen: "127.0.0.1:0", dataset: { kind: sqlite, path: b.db } }
  green: { dispatcher_listen: "127.0.0.1:19551", trace_listen: "127.0.0.1:0", dataset: { kind: sqlite, path: g.db } }
YAML
}
for n in 1 2 3; do
  splitter_config $n yes
  ./build/tandem splitter -c "$work/s$n.yaml" 2>"$work/s$n.log" & pids+=($!)
done
splitter_config 4 no
./build/tandem splitter -c "$work/s4.yaml" 2>"$work/s4.log" & pids+=($!)
for n in 1 2 3 4; do wait_port "1953$n"; wait_port "1954$n"; done

live() { curl -s -H "Authorization: Bearer $TOKEN" "127.0.0.1:1954$1/admin/v1/state" | sed 's/.*"live":"\([a-z]*\)".*/\1/'; }
changes() { grep -c '"live color changed by the fleet"' "$work/s$1.log" || true; }
nth_ts() { grep '"live color changed by the fleet"' "$work/s$1.log" | sed -n "$2p" | sed 's/.*"ts_ms":\([0-9]*\).*/\1/'; }

echo "propagation: $ROUNDS rollbacks through splitter 1, until splitters 2 and 3 route by it"
: >"$work/prop.txt"
for r in $(seq "$ROUNDS"); do
  from=$(live 1)
  t0=$(date +%s%3N)
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
    -d "{\"expect_live\":\"$from\"}" "127.0.0.1:19541/admin/v1/rollback")
  [ "$code" = 200 ] || { echo "rollback $r answered $code" >&2; exit 1; }
  for n in 2 3; do
    for _ in $(seq 500); do [ "$(changes $n)" -ge "$r" ] && break; sleep 0.01; done
    [ "$(changes $n)" -ge "$r" ] || { echo "splitter $n did not follow rollback $r" >&2; exit 1; }
  done
  t2=$(nth_ts 2 "$r"); t3=$(nth_ts 3 "$r")
  echo $(( (t2 > t3 ? t2 : t3) - t0 )) >>"$work/prop.txt"
done
sort -n "$work/prop.txt" | awk '{a[NR]=$1} END {
  p50=a[int((NR+1)/2)]; i99=int(NR*0.99+0.999); if (i99>NR) i99=NR;
  printf "  ms from request to the whole fleet: p50 %d, p99 %d, max %d (n=%d)\n", p50, a[i99], a[NR], NR}'

echo
echo "throughput: wrk ${DURATION}s x $RUNS per splitter, $CONNECTIONS connections, interleaved"
echo "| run | state_file only req/s | splitter.etcd req/s | etcd / file |"
echo "|---|---|---|---|"
for run in $(seq "$RUNS"); do
  # Both splitters route to green (live) with blue mirrored: put the fleet back on green.
  [ "$(live 1)" = green ] || curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" -d '{"expect_live":"blue"}' "127.0.0.1:19541/admin/v1/rollback"
  rps() { wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" -s bench/post.lua "http://127.0.0.1:$1/v1/events" | awk '/^Requests\/sec/ {print $2}'; }
  # Alternate which goes first, so neither always meets a warmer machine.
  if [ $((run % 2)) = 1 ]; then file=$(rps 19534); etcd=$(rps 19531); else etcd=$(rps 19531); file=$(rps 19534); fi
  awk -v r="$run" -v f="$file" -v e="$etcd" 'BEGIN {printf "| %d | %.0f | %.0f | %.3f |\n", r, f, e, e / f}'
done
