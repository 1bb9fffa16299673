#!/usr/bin/env bash
# scripts/bench_inspect_summary.sh - `rmqtopo dlq inspect --summary` keeps memory flat in the
# queue's length (issue 17): its peak RSS reading SMALL and then LARGE dead-lettered messages,
# and the ratio of the two (flat: close to 1.0; a summary that kept each message would grow
# with LARGE/SMALL).
#
# Uses the broker of RMQTOPO_AMQP_URL / RMQTOPO_API_URL when both are set (scripts/broker.sh
# prints them), else starts a private one (name "benchinsum", --base-port auto) and stops it at
# the end. In a fresh vhost, a classic queue "work" dead-letters (messages rejected by
# tests/tools/msgtool) into the classic DLQ "dead", in three groups: rejected from "work",
# rejected from "work2", and messages published to the DLQ directly (no x-death). The queue is
# filled to SMALL, the summary measured (/usr/bin/time %M: peak RSS), filled to LARGE, measured
# again. Each summary must count every message (its "read" equals the queue's depth) and the
# group counts must add up, else the script fails.
# Environment: SMALL (default 20000), LARGE (default 100000), SIZE (body bytes, default 512),
# RMQTOPO (default build/rmqtopo), MSGTOOL (default build/tests/msgtool).
# Exit status: 0 measured (the ratio is reported, not judged), 1 a failure, 64 bad options.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
small=${SMALL:-20000}
large=${LARGE:-100000}
size=${SIZE:-512}
rmqtopo=${RMQTOPO:-build/rmqtopo}
msgtool=${MSGTOOL:-build/tests/msgtool}
[[ $small =~ ^[1-9][0-9]*$ && $large =~ ^[1-9][0-9]*$ && $size =~ ^[0-9]+$ && $large -gt $small ]] || {
  echo "usage: [SMALL=N] [LARGE=N>SMALL] [SIZE=BYTES] scripts/bench_inspect_summary.sh" >&2
  exit 64
}
[ -x "$rmqtopo" ] && [ -x "$msgtool" ] || { echo "build first: $rmqtopo, $msgtool" >&2; exit 1; }
/usr/bin/time -f %M -o /dev/null true 2>/dev/null || { echo "needs GNU time (/usr/bin/time)" >&2; exit 1; }

own_broker=0
if [ -z "${RMQTOPO_AMQP_URL:-}" ] || [ -z "${RMQTOPO_API_URL:-}" ]; then
  env_file=$(mktemp)
  scripts/broker.sh start --name benchinsum --base-port auto >"$env_file"
  set -a; . "$env_file"; set +a
  rm -f "$env_file"
  own_broker=1
fi
v=rmqtopo-bench-insum-$$
work=$(mktemp -d)
api() { curl -sfS -u guest:guest -X "$1" -H 'content-type: application/json' ${3:+--data "$3"} "$RMQTOPO_API_URL/api$2"; }
cleanup() {
  api DELETE "/vhosts/$v" >/dev/null 2>&1 || true
  rm -rf "$work"
  [ $own_broker = 0 ] || scripts/broker.sh stop --name benchinsum --kill >/dev/null 2>&1 || true
}
trap cleanup EXIT

api PUT "/vhosts/$v" >/dev/null
api PUT "/exchanges/$v/dlx" '{"type":"fanout","durable":true}' >/dev/null
for q in work work2; do
  api PUT "/queues/$v/$q" '{"durable":true,"arguments":{"x-dead-letter-exchange":"dlx"}}' >/dev/null
done
api PUT "/queues/$v/dead" '{"durable":true}' >/dev/null
api POST "/bindings/$v/e/dlx/q/dead" '{"routing_key":""}' >/dev/null

depth() { "$msgtool" dump "$v" dead | wc -l | tr -d ' '; }
# fill N: adds N messages to the DLQ (half rejected from work, a quarter from work2, a quarter
# published directly), waits until it holds them
have=0
fill() {
  local n=$1 a b c
  a=$((n / 2)); b=$((n / 4)); c=$((n - a - b))
  MSGTOOL_SIZE=$size "$msgtool" publish "$v" work $a "w$have"
  MSGTOOL_SIZE=$size "$msgtool" publish "$v" work2 $b "x$have"
  MSGTOOL_SIZE=$size "$msgtool" publish "$v" dead $c "d$have"
  "$msgtool" reject "$v" work $a
  "$msgtool" reject "$v" work2 $b
  have=$((have + n))
  while [ "$(depth)" -lt $have ]; do sleep 0.5; done
}
# measure: prints the peak RSS (KiB) of one summary; checks its counts
measure() {
  /usr/bin/time -f %M -o "$work/rss" "$rmqtopo" dlq inspect dead --vhost "$v" --summary -o json \
    >"$work/out" 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  python3 - "$work/out" "$have" <<'PY' || exit 1
import json, sys
d = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
total = sum(g["count"] for g in d["groups"])
if d["read"] != n or total != n or len(d["groups"]) != 3:
    sys.exit("summary counted %d (groups %d, %d of them), the queue holds %d" % (d["read"], total, len(d["groups"]), n))
PY
  cat "$work/rss"
}

echo "filling $small messages of $size bytes ..." >&2
fill "$small"
rss_small=$(measure)
echo "filling to $large ..." >&2
fill $((large - small))
rss_large=$(measure)
python3 - "$small" "$rss_small" "$large" "$rss_large" <<'PY'
import sys
s, rs, l, rl = map(int, sys.argv[1:])
print("dlq inspect --summary peak RSS: %d messages %.1f MiB, %d messages %.1f MiB" % (s, rs / 1024, l, rl / 1024))
print("ratio %d/%d messages: %.2fx memory for %.1fx the messages (flat: ~1.0x)" % (l, s, rl / rs, l / s))
PY
