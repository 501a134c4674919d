# Shared by the bench scripts: temporary folder, processes to stop, port waits.
work=$(mktemp -d /tmp/tandem-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {  # bounded: 10 s
  for _ in $(seq 100); do
    listening "$1" && return 0
    sleep 0.1
  done
  echo "nothing listens on $1" >&2
  return 1
}

# Fails when something already listens on a port the benchmark is about to use
# (another benchmark still running would take its traffic and skew its counts).
require_free_ports() {
  local port
  for port in "$@"; do
    if listening "$port"; then
      echo "port $port is already in use: is another benchmark running?" >&2
      exit 1
    fi
  done
}
