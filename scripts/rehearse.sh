#!/usr/bin/env bash
# A release rehearsal: the whole stack with a deliberately faulty candidate.
# Blue, the candidate, runs "its own build": a wrapper around tandem whose
# pipeline settings lose the `productName` property of `purchase product`.
# Replayed traffic shows compare's not_ready naming the vendor, the event and
# the field; `tandem promote` refuses. The fix ships (the candidate's settings
# are corrected and reloaded with SIGHUP); after more traffic the verdict is
# ready and the promotion goes through. Own ports (18xxx) and folder
# (var/rehearsal), so it runs beside scripts/up.sh. About two minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
scripts/deps.sh >/dev/null
scripts/build.sh build >/dev/null
work=$root/var/rehearsal
rm -rf "$work"
mkdir -p "$work"
export TANDEM_ADMIN_TOKEN=${TANDEM_ADMIN_TOKEN:-rehearsal-admin-token}
tandem=$root/build/tandem

# The stack: five-second windows so the story takes minutes, not hours.
stack() {  # $1: the allowlist line for `purchase product`; $2: blue's binary line
  cat <<YAML
splitter:
  listen: "127.0.0.1:18080"
  admin_listen: "127.0.0.1:18081"
  state_file: state.json
  initial_live: green
  compare_url: "http://127.0.0.1:18090"
colors:
  blue:
    dispatcher_listen: "127.0.0.1:18180"
    trace_listen: "127.0.0.1:18181"
    dataset: { kind: sqlite, path: blue.db }
    spool_dir: blue-spool
$2
  green:
    dispatcher_listen: "127.0.0.1:18280"
    trace_listen: "127.0.0.1:18281"
    dataset: { kind: sqlite, path: green.db }
    spool_dir: green-spool
pipeline:
  allowlist:
    events:
      pageview: [path, referrer, title]
      purchase product: $1
      signup: [plan]
  trackers:
    - { name: capture, kind: capture, path: "{color}-vendor.jsonl" }
compare:
  listen: "127.0.0.1:18090"
  window_seconds: 5
  settle_seconds: 3
  min_events_per_window: 100
  windows_required: 3
  max_drift_ratio: 0.01
YAML
}
good='[category, productName]'
# The release under test: tandem, but with its own (faulty) pipeline settings.
stack "[category]" "" >"$work/candidate.yaml"
cat >"$work/candidate-tandem" <<SH
#!/bin/sh
# The candidate's build: tandem with the candidate's own config.
exec "$tandem" "\$1" -c "$work/candidate.yaml" "\$4" "\$5"
SH
chmod +x "$work/candidate-tandem"
stack "$good" "    binary: $work/candidate-tandem" >"$work/tandem.yaml"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
verdict() { curl -s 127.0.0.1:18090/v1/report | python3 -c 'import json,sys; print(json.load(sys.stdin)["verdict"])' 2>/dev/null || echo none; }
wait_for() {  # $1: seconds; the rest: a command that succeeds when done
  local limit=$1; shift
  for _ in $(seq $((limit * 2))); do "$@" && return 0; sleep 0.5; done
  echo "rehearse: gave up after ${limit}s waiting for: $*" >&2
  return 1
}

say "Starting the stack: green live (this build), blue the candidate (its own build, $work/candidate-tandem)"
"$tandem" up -c "$work/tandem.yaml" >"$work/up.out" 2>"$work/up.log" &
up_pid=$!
trap 'kill -TERM $up_pid 2>/dev/null; wait $up_pid 2>/dev/null || true' EXIT
wait_for 30 curl -sf 127.0.0.1:18081/readyz -o /dev/null
wait_for 30 curl -sf 127.0.0.1:18090/metrics -o /dev/null

say "Replaying 6,000 sample events at 300/s"
"$tandem" replay -c "$work/tandem.yaml" --count 6000 --rate 300 2>/dev/null
not_judged_yet() { [ "$(verdict)" != insufficient_data ] && [ "$(verdict)" != none ]; }
wait_for 60 not_judged_yet

say "tandem status"
"$tandem" status -c "$work/tandem.yaml" || true

say "tandem promote (compare says not_ready, so the splitter refuses)"
set +e
"$tandem" promote -c "$work/tandem.yaml"
code=$?
set -e
echo "exit code $code"
[ "$code" = 1 ] || { echo "rehearse: promote should have been refused" >&2; exit 1; }

say "The fix: the candidate's settings keep productName again; SIGHUP reloads them"
stack "$good" "" >"$work/candidate.yaml"
kill -HUP $up_pid
wait_for 10 grep -q '"msg":"config reloaded".*"service":"trace-blue"\|"service":"trace-blue".*"msg":"config reloaded"' "$work/up.log"

say "Replaying 6,000 more events at 300/s"
"$tandem" replay -c "$work/tandem.yaml" --count 6000 --rate 300 2>/dev/null
is_ready() { [ "$(verdict)" = ready ]; }
wait_for 60 is_ready

say "tandem status"
"$tandem" status -c "$work/tandem.yaml"

say "tandem promote"
"$tandem" promote -c "$work/tandem.yaml"
echo "the splitter's state file: $(cat "$work/state.json")"
say "Done: the stack stops. Datasets, capture files and logs stay in $work"
