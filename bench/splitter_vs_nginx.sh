#!/usr/bin/env bash
# Tandem's splitter side by side with nginx's mirror module, both fronting the same
# two upstreams on loopback, measured in one run with wrk (POST of a 134-byte Sparrow
# event, 64 connections). Three cases: healthy candidate, candidate delayed 1 s,
# candidate down. Prints a Markdown table.
#   bench/splitter_vs_nginx.sh            # DURATION=10 CONNECTIONS=64 by default
set -euo pipefail
cd "$(dirname "$0")/.."
TANDEM_BENCH_DEPS=1 scripts/deps.sh
scripts/build.sh build >/dev/null

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
WRK_THREADS=${WRK_THREADS:-2}
LIVE_PORT=19180 CAND_PORT=19280 SPLIT_PORT=19080 ADMIN_PORT=19081 NGINX_PORT=19090
source bench/lib.sh

start_upstream() {  # port delay_ms -> pid
  ./build/bench/bench_upstream --port "$1" --delay-ms "$2" --threads 1 >/dev/null &
  echo $!
}

count() { curl -s "127.0.0.1:$1/count" || echo 0; }

live_pid=$(start_upstream $LIVE_PORT 0); pids+=("$live_pid")
cand_pid=$(start_upstream $CAND_PORT 0)
wait_port $LIVE_PORT; wait_port $CAND_PORT

cat > "$work/tandem.yaml" <<YAML
splitter:
  listen: "127.0.0.1:$SPLIT_PORT"
  admin_listen: "127.0.0.1:$ADMIN_PORT"
  state_file: state.json
  upstream_timeout_ms: 2000
colors:
  blue: { dispatcher_listen: "127.0.0.1:$CAND_PORT", trace_listen: "127.0.0.1:0", dataset: { kind: sqlite, path: b.db } }
  green: { dispatcher_listen: "127.0.0.1:$LIVE_PORT", trace_listen: "127.0.0.1:0", dataset: { kind: sqlite, path: g.db } }
YAML
${TANDEM_BIN:-./build/tandem} splitter -c "$work/tandem.yaml" 2>"$work/splitter.log" &
split_pid=$!; pids+=("$split_pid")

mkdir -p "$work/nginx"
cat > "$work/nginx.conf" <<NGINX
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx/error.log error;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  upstream live { server 127.0.0.1:$LIVE_PORT; keepalive 256; }
  upstream candidate { server 127.0.0.1:$CAND_PORT; keepalive 256; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    keepalive_requests 1000000;
    client_body_buffer_size 64k;
    location = /v1/events {
      mirror /mirror;
      mirror_request_body on;
      proxy_pass http://live;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_read_timeout 2s;
    }
    location = /mirror {
      internal;
      proxy_pass http://candidate\$request_uri;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_connect_timeout 2s;
      proxy_read_timeout 2s;
    }
  }
}
NGINX
nginx -p "$work/nginx" -c "$work/nginx.conf" -g "daemon on;"
wait_port $SPLIT_PORT; wait_port $NGINX_PORT; wait_port $ADMIN_PORT

# CPU time (clock ticks) of the front's processes: the splitter, or nginx's master and workers.
front_ticks() {
  local pids
  if [ "$1" = "$SPLIT_PORT" ]; then pids=$split_pid; else
    pids="$(cat "$work/nginx.pid") $(pgrep -P "$(cat "$work/nginx.pid")" | tr '\n' ' ')"; fi
  for p in $pids; do awk '{print $14+$15}' "/proc/$p/stat"; done | awk '{s+=$1} END {print s}'
}

# One wrk run; prints "rps p50 p99 total errors live_delta cand_delta cpu_us_per_request".
measure() {
  local port=$1 l0 c0 out t0 t1
  l0=$(count $LIVE_PORT); c0=$(count $CAND_PORT); t0=$(front_ticks "$port")
  out=$(wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s bench/post.lua "http://127.0.0.1:$port/v1/events")
  t1=$(front_ticks "$port")
  sleep 2.5  # let in-flight mirror copies land (candidate delay 1 s, timeout 2 s)
  local rps p50 p99 total non2xx sockerr
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  total=$(awk '/requests in/ {print $1}' <<<"$out")
  non2xx=$(awk -F': ' '/Non-2xx/ {print $2}' <<<"$out"); non2xx=${non2xx:-0}
  sockerr=$(awk '/Socket errors/ {gsub(",",""); print $4+$6+$8+$10}' <<<"$out"); sockerr=${sockerr:-0}
  local cpu_us
  cpu_us=$(awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v n="$total" 'BEGIN {printf "%.0f", n ? t / hz * 1e6 / n : 0}')
  echo "$rps $p50 $p99 $total $((non2xx + sockerr)) $(( $(count $LIVE_PORT) - l0 )) $(( $(count $CAND_PORT) - c0 )) $cpu_us"
}

row() {  # case front result
  read -r rps p50 p99 total errors live cand cpu_us <<<"$3"
  local cand_pct="-"
  [ "$total" -gt 0 ] && cand_pct=$(awk -v c="$cand" -v t="$total" 'BEGIN {printf "%.1f%%", 100*c/t}')
  printf "| %s | %s | %.0f | %s | %s | %s | %s | %s | %s | %s |\n" "$1" "$2" "$rps" "$p50" "$p99" "$total" "$errors" "$live" "$cand ($cand_pct)" "$cpu_us"
}

echo "| case | front | req/s | p50 | p99 | requests | client errors | at live | at candidate | front CPU µs/req |"
echo "|---|---|---|---|---|---|---|---|---|---|"
pids+=("$cand_pid")
row healthy nginx-mirror "$(measure $NGINX_PORT)"
row healthy tandem "$(measure $SPLIT_PORT)"

kill "$cand_pid"; wait "$cand_pid" 2>/dev/null || true
cand_pid=$(start_upstream $CAND_PORT 1000); pids+=("$cand_pid"); wait_port $CAND_PORT
row "candidate +1 s" nginx-mirror "$(measure $NGINX_PORT)"
row "candidate +1 s" tandem "$(measure $SPLIT_PORT)"

kill "$cand_pid"; wait "$cand_pid" 2>/dev/null || true
row "candidate down" nginx-mirror "$(measure $NGINX_PORT)"
row "candidate down" tandem "$(measure $SPLIT_PORT)"

echo
echo "splitter peak RSS: $(awk '/VmHWM/ {printf "%.1f MB", $2/1024}' /proc/$split_pid/status)"
shed=$(curl -s 127.0.0.1:$ADMIN_PORT/metrics | awk '/tandem_splitter_forwarded_total\{color="blue",outcome="shed",role="candidate"/ {print $2}')
echo "splitter candidate copies shed (all cases): ${shed:-0}"
echo "machine: $(nproc) cores, $(uname -r); wrk -t$WRK_THREADS -c$CONNECTIONS -d${DURATION}s"
