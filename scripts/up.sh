#!/usr/bin/env bash
# Quick start: installs what is missing, builds, starts the local stack on
# config/local.yaml, sends it 200 sample events to show it working, then keeps
# the stack in the foreground until Ctrl-C (which stops every service cleanly).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh build
mkdir -p var
export TANDEM_ADMIN_TOKEN=${TANDEM_ADMIN_TOKEN:-local-admin-token}
./build/tandem up -c config/local.yaml &
up_pid=$!
trap 'kill -TERM $up_pid 2>/dev/null; wait $up_pid' INT TERM
for _ in $(seq 50); do curl -sf 127.0.0.1:8081/readyz >/dev/null && break; sleep 0.2; done
./build/tandem replay -c config/local.yaml --count 200 --rate 200 || true
sleep 1  # the loaders commit in batches of up to 50 ms
for color in green blue; do
  echo "$color dataset: $(sqlite3 var/$color.db 'select count(*) from raw') raw events;" \
       "by event: $(sqlite3 var/$color.db "select group_concat(event || '=' || n, ', ') from (select event, count(*) n from raw_normalized group by event)")"
done
./build/tandem status -c config/local.yaml || true
echo "The stack runs (splitter :8080, admin :8081, dispatchers :8180/:8280). Ctrl-C stops it."
echo "In another shell: export TANDEM_ADMIN_TOKEN=$TANDEM_ADMIN_TOKEN; ./build/tandem status -c config/local.yaml"
wait $up_pid
