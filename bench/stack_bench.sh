#!/usr/bin/env bash
# The whole stack on this machine: `tandem up` (splitter, both colors' dispatcher
# and trace with the capture tracker, compare) taking `tandem replay`'s sample
# at RATE events/s for DURATION seconds, the loader on the same cores. Reports
# the accepted (202) rate, client failures, latency, how long both colors took
# to finish after the load stopped, whether every accepted event is in both
# colors' raw with its deliveries or rejected rows (zero loss), and each
# process's peak RSS. Prints Markdown.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh >/dev/null
scripts/build.sh build >/dev/null

RATE=${RATE:-6000}
DURATION=${DURATION:-60}
source bench/lib.sh
export TANDEM_ADMIN_TOKEN=bench-admin-token
cat >"$work/tandem.yaml" <<YAML
splitter:
  listen: "127.0.0.1:19880"
  admin_listen: "127.0.0.1:19881"
  state_file: state.json
  compare_url: "http://127.0.0.1:19890"
colors:
  blue: { dispatcher_listen: "127.0.0.1:19882", trace_listen: "127.0.0.1:19883", dataset: { kind: sqlite, path: blue.db }, spool_dir: blue-spool }
  green: { dispatcher_listen: "127.0.0.1:19884", trace_listen: "127.0.0.1:19885", dataset: { kind: sqlite, path: green.db }, spool_dir: green-spool }
pipeline:
  allowlist:
    events:
      pageview: [path, referrer, title]
      purchase product: [category, productName]
      signup: [plan]
  trackers:
    - { name: capture, kind: capture, path: "{color}-vendor.jsonl" }
compare: { listen: "127.0.0.1:19890" }
YAML
ports=(19880 19881 19882 19883 19884 19885 19890)  # as in the config above
require_free_ports "${ports[@]}"
${TANDEM_BIN:-./build/tandem} up -c "$work/tandem.yaml" 2>"$work/up.log" & up_pid=$!; pids+=($up_pid)
for port in "${ports[@]}"; do wait_port "$port"; done

count=$((RATE * DURATION))
# The loader's peak RSS and CPU; without /usr/bin/time they are not reported.
timer=(); [ -x /usr/bin/time ] && timer=(/usr/bin/time -f "%M %U %S" -o "$work/loader.time")
start=$(date +%s.%N)
if [ "${LOADER:-replay}" = wrk ]; then
  # Closed loop: as fast as the stack answers, one Sparrow event body.
  "${timer[@]}" wrk -t1 -c64 -d"${DURATION}s" --latency -s bench/post.lua "http://127.0.0.1:19880/v1/events" >"$work/wrk.out"
  load_end=$(date +%s.%N)
  accepted=$(curl -s 127.0.0.1:19881/metrics | awk '/^tandem_splitter_responses_total\{code="202"\}/ {printf "%d", $2}')
  python3 - "$work" <<'PY' >"$work/replay.out"
import re, sys
t = open(sys.argv[1] + "/wrk.out").read()
n = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
q = dict(re.findall(r"\s(50|99)%\s+(\S+)", t))
print(f"wrk: {n.group(1) if n else 0} failed")
print(f"latency of accepted events: p50 {q.get('50')}, p99 {q.get('99')}")
PY
  # wrk cannot list the ids: every event in raw counts, and both colors must agree.
  python3 -c "import sqlite3,sys; [print(r[0]) for r in sqlite3.connect(sys.argv[1]).execute('select tandem_id from raw')]" "$work/green.db" >"$work/accepted.txt"
else
  "${timer[@]}" ./build/tandem replay -c "$work/tandem.yaml" --rate "$RATE" --count "$count" --concurrency "${CONCURRENCY:-256}" \
    --accepted-ids "$work/accepted.txt" >"$work/replay.out" 2>/dev/null || true
  load_end=$(date +%s.%N)
  accepted=$(wc -l <"$work/accepted.txt")
fi

rows() { python3 - "$work/$1.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
raw = db.execute("select count(*) from raw").fetchone()[0]
done = db.execute("select count(*) from (select tandem_id from deliveries union select tandem_id from rejected)").fetchone()[0]
print(raw, done)
PY
}
# Copies the splitter shed to protect the live path (past the stack's capacity,
# by design): the candidate never gets them, so they show as its loss. (A copy is
# shed before live answers; with live failures too this undercounts the wait.)
shed_of() {
  { curl -s 127.0.0.1:19881/metrics || true; } | awk -v c="color=\"$1\"" \
    '/^tandem_splitter_forwarded_total\{/ && /outcome="shed"/ && /role="candidate"/ && index($0, c) {n += $2} END {printf "%d", n}'
}
bshed=$(shed_of blue); gshed=$(shed_of green); shed=$((bshed + gshed))
# Both colors finish: every accepted event (less what was shed) in raw with its
# rows. Bounded by time (5 minutes): counting rows takes seconds at 600,000 events.
give_up=$(($(date +%s) + 300))
while [ "$(date +%s)" -lt "$give_up" ]; do
  read -r braw bdone <<<"$(rows blue)"; read -r graw gdone <<<"$(rows green)"
  bwant=$((accepted - bshed)); gwant=$((accepted - gshed))
  [ "$braw" -ge "$bwant" ] && [ "$graw" -ge "$gwant" ] && [ "$bdone" -ge "$bwant" ] && [ "$gdone" -ge "$gwant" ] && break
  sleep 0.5
done
[ "$(date +%s)" -ge "$give_up" ] && echo "gave up waiting for both colors after 5 minutes" >&2
drained=$(date +%s.%N)
python3 - "$work" <<'PY' >"$work/lost.txt"
import sqlite3, sys
w = sys.argv[1]
ids = set(open(w + "/accepted.txt").read().split())
for color in ("blue", "green"):
    db = sqlite3.connect(f"{w}/{color}.db")
    raw = {r[0] for r in db.execute("select tandem_id from raw")}
    rows = {r[0] for r in db.execute("select tandem_id from deliveries union select tandem_id from rejected")}
    print(f"{color}: {len(ids - raw)} accepted not in raw, {len(ids - rows)} without rows")
PY
rss=""
ticks=0  # CPU (user + system) of every process of the stack, load and drain
for pid in $(pgrep -P "$up_pid"); do
  name=$(tr '\0' ' ' </proc/"$pid"/cmdline | awk '{print $2 ($5 ? "-" $6 : "")}')
  rss+="$name $(awk '/VmHWM/ {printf "%.0f MB", $2/1024}' /proc/"$pid"/status), "
  ticks=$((ticks + $(awk '{print $14 + $15}' /proc/"$pid"/stat 2>/dev/null || echo 0)))
done
cpu=$(python3 -c "print($ticks / $(getconf CLK_TCK))")
cpu_of="all processes, loader not timed"
if [ -s "$work/loader.time" ]; then
  read -r loader_kb loader_user loader_sys < <(tail -1 "$work/loader.time")
  rss+="loader (${LOADER:-replay}) $((loader_kb / 1024)) MB, "
  cpu=$(python3 -c "print($cpu + $loader_user + $loader_sys)")
  cpu_of="all processes, loader included"
fi

summary=$(head -1 "$work/replay.out")
latency=$(sed -n 2p "$work/replay.out")
secs=$(python3 -c "print(f'{$load_end - $start:.1f}')")
rate=$(python3 -c "print(f'{$accepted / ($load_end - $start):.0f}')")
tail=$(python3 -c "print(f'{$drained - $load_end:.1f}')")
# With both cores busy, CPU per accepted event sets the rate (at most 2 s of CPU
# a second); it shows whether a change made each event cheaper, though it also
# moves with the VM's own cost per operation from hour to hour.
per_event=$(python3 -c "print(f'{$cpu * 1e6 / max(1, $accepted):.0f}')")
echo "| offered | accepted events/s | client failures | latency | both colors done after the load | loss | CPU per accepted event ($cpu_of) | peak RSS |"
echo "|---|---|---|---|---|---|---|---|"
echo "| $RATE/s for ${DURATION} s | $rate ($accepted in $secs s) | $(grep -o '[0-9]* failed.*' <<<"$summary" || echo 0) | ${latency#latency of accepted events: } | $tail s | $(paste -sd';' "$work/lost.txt")$([ "$shed" -gt 0 ] && echo "; candidate copies shed by the splitter: blue $bshed, green $gshed") | $per_event µs ($(printf %.1f "$cpu") s) | ${rss%, } |"
echo
echo "machine: $(nproc) cores, $(uname -r); loader: ${LOADER:-replay} (replay: --concurrency ${CONCURRENCY:-256}) on the same machine"
