#!/usr/bin/env bash
# scripts/bench_status.sh - `rmqtopo dlq status` on a vhost of QUEUES queues of which DLQS are
# dead-letter queues, side by side with the management API reads that status needs (the
# vhost's queues, bindings and policies, as curl fetches them), and peak memory at two depths.
#
# Uses the broker of the environment (RMQTOPO_AMQP_URL, RMQTOPO_API_URL, as guest; start one
# with scripts/broker.sh). Creates vhost "bench-status" with one definitions import: DLQS
# classic queues dlq-<i> bound to a direct exchange "dlx" (key dlq-<i>) and to a fanout
# "fill", and QUEUES-DLQS queues w-<i> dead-lettering into "dlx" with key dlq-<i % DLQS>.
# Publishes DEPTH1 messages through "fill" (each DLQ gets DEPTH1), measures, then DEPTH2 more.
# Each measurement is the median wall time of RUNS runs:
#   api:      curl GET /api/queues/V?disable_stats=true&columns=..., /api/bindings/V?columns=...,
#             /api/policies/V (the reads status makes to find the DLQs)
#   status0:  rmqtopo dlq status --vhost V --interval 0 --sample 0 -o json (find + exact counts)
#   status:   rmqtopo dlq status --vhost V --interval 0 -o json (also the sample of 100 each)
# with status's peak RSS (/usr/bin/time -f %M). Target: status0 <= 1.5x api; peak RSS flat
# between DEPTH1 and DEPTH2. Environment: QUEUES (10000), DLQS (1000), DEPTH1 (10), DEPTH2
# (100), RUNS (3), RMQTOPO (build/rmqtopo), KEEP=1 (leave the vhost).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
queues=${QUEUES:-10000}
dlqs=${DLQS:-1000}
depth1=${DEPTH1:-10}
depth2=${DEPTH2:-100}
runs=${RUNS:-3}
rmqtopo=${RMQTOPO:-build/rmqtopo}
msgtool=$(dirname "$rmqtopo")/tests/msgtool
: "${RMQTOPO_API_URL:?start a broker: scripts/broker.sh start, then set -a; . its env}"
v=bench-status
api() { curl -sS -f -u guest:guest -X "$1" -H 'content-type: application/json' ${3:+--data @"$3"} "$RMQTOPO_API_URL/api$2"; }
cleanup() { [ "${KEEP:-0}" = 1 ] || api DELETE "/vhosts/$v" >/dev/null 2>&1 || true; rm -f "$defs"; }
defs=$(mktemp)
trap cleanup EXIT

python3 - "$queues" "$dlqs" > "$defs" <<'PY'
import json, sys
n, d = int(sys.argv[1]), int(sys.argv[2])
qs, bs = [], []
for i in range(d):
    qs.append({"name": f"dlq-{i}", "durable": True, "auto_delete": False, "arguments": {}})
    bs.append({"source": "dlx", "destination": f"dlq-{i}", "destination_type": "queue", "routing_key": f"dlq-{i}", "arguments": {}})
    bs.append({"source": "fill", "destination": f"dlq-{i}", "destination_type": "queue", "routing_key": "", "arguments": {}})
for i in range(n - d):
    qs.append({"name": f"w-{i}", "durable": True, "auto_delete": False,
               "arguments": {"x-dead-letter-exchange": "dlx", "x-dead-letter-routing-key": f"dlq-{i % d}"}})
print(json.dumps({"queues": qs, "bindings": bs, "exchanges": [
    {"name": "dlx", "type": "direct", "durable": True, "auto_delete": False, "internal": False, "arguments": {}},
    {"name": "fill", "type": "fanout", "durable": True, "auto_delete": False, "internal": False, "arguments": {}}]}))
PY
api DELETE "/vhosts/$v" >/dev/null 2>&1 || true
api PUT "/vhosts/$v" >/dev/null
api POST "/definitions/$v" "$defs" >/dev/null

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
now() { date +%s.%N; }
measure() { # label: prints median seconds of RUNS runs of the command after it
  local label=$1; shift
  local i t0 t1
  for i in $(seq "$runs"); do
    t0=$(now); "$@" >/dev/null; t1=$(now)
    echo "$t1 - $t0" | bc -l
  done | median
}
api_reads() {
  api GET "/queues/$v?disable_stats=true&columns=name,type,arguments,effective_policy_definition" >/dev/null
  api GET "/bindings/$v?columns=source,destination,destination_type" >/dev/null
  api GET "/policies/$v" >/dev/null
}
rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }

report() { # depth
  local a s0 s r0 r
  a=$(measure api api_reads)
  s0=$(measure status0 "$rmqtopo" dlq status --vhost "$v" --interval 0 --sample 0 -o json)
  s=$(measure status "$rmqtopo" dlq status --vhost "$v" --interval 0 -o json)
  r0=$(rss "$rmqtopo" dlq status --vhost "$v" --interval 0 --sample 0 -o json)
  r=$(rss "$rmqtopo" dlq status --vhost "$v" --interval 0 -o json)
  n=$("$rmqtopo" dlq status --vhost "$v" --interval 0 --sample 0 -o json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["queues"]), sum(q["messages"] for q in d["queues"]))')
  printf 'depth %s: dlqs+messages %s | api reads %.3fs | status --sample 0 %.3fs (%.2fx api, peak %s KiB) | status (sample 100) %.3fs (peak %s KiB)\n' \
    "$1" "$n" "$a" "$s0" "$(echo "$s0 / $a" | bc -l)" "$r0" "$s" "$r"
}

echo "bench_status: $queues queues, $dlqs dead-letter queues, runs $runs"
MSGTOOL_EXCHANGE=fill "$msgtool" publish "$v" x "$depth1" a >/dev/null
report "$depth1"
MSGTOOL_EXCHANGE=fill "$msgtool" publish "$v" x "$((depth2 - depth1))" b >/dev/null
report "$depth2"
