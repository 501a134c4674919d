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
sleep 2  # the loaders and trace commit in batches
for color in green blue; do
  echo "== $color: $(sqlite3 var/$color.db 'select count(*) from raw') raw events;" \
       "by event: $(sqlite3 var/$color.db "select group_concat(event || '=' || n, ', ') from (select event, count(*) n from raw_normalized group by event)")"
  echo "   deliveries: $(sqlite3 var/$color.db "select group_concat(vendor || ' ' || outcome || '=' || n, ', ') from (select vendor, outcome, count(*) n from deliveries group by 1, 2)");" \
       "rejected: $(sqlite3 var/$color.db "select group_concat(reason || '=' || n, ', ') from (select reason, count(*) n from rejected group by 1)")"
done
echo "== payload hashes equal in both colors: $(sqlite3 var/green.db "attach 'var/blue.db' as b;
  select count(*) || ' of ' || (select count(*) from deliveries) from deliveries g
  join b.deliveries x using (tandem_id, vendor) where g.payload_hash = x.payload_hash")"
echo "== personal data: raw holds $(sqlite3 var/green.db "select count(*) from raw where data like '%@example.com%' or data like '%token=%'") events with e-mails or tokens;" \
     "the capture files hold $(cat var/*-vendor.jsonl | grep -c -e '@example.com' -e 'token=' || true)"
echo "== what the vendors got (scrubbed), var/green-vendor.jsonl:"
grep -m1 '"signup"' var/green-vendor.jsonl || true
grep -m1 'utm_source' var/green-vendor.jsonl || true
./build/tandem status -c config/local.yaml || true
echo "The stack runs (splitter :8080, admin :8081, dispatchers :8180/:8280, trace :8181/:8281, compare :8090;"
echo "datasets var/{blue,green}.db, capture files var/{blue,green}-vendor.jsonl). Ctrl-C stops it."
echo "In another shell: export TANDEM_ADMIN_TOKEN=$TANDEM_ADMIN_TOKEN; ./build/tandem status -c config/local.yaml"
wait $up_pid
