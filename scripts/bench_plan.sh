#!/usr/bin/env bash
# scripts/bench_plan.sh [QUEUES] - `rmqtopo plan` against GET /api/definitions/{vhost}.
#
# Starts a private broker (scripts/broker.sh, name "bench"), imports a vhost of QUEUES
# (default 10,000) classic queues, as many bindings and 100 topic exchanges through the
# broker's own definitions import, writes the same topology as a topology file, then measures
# side by side in one hyperfine run (medians of 5):
#   - the read alone: curl GET /api/definitions/{vhost}
#   - rmqtopo plan FILE (no changes: exit 0)
# and plan's peak memory (median of 5). Targets (issue: plan): plan <= 1.25x the read, peak
# memory < 64 MiB. Stops the broker at the end unless KEEP_BROKER=1.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
queues=${1:-10000}
vhost=bench

scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target rmqtopo >/dev/null

work=$(mktemp -d)
cleanup() {
  rm -rf "$work"
  [ "${KEEP_BROKER:-0}" = 1 ] || scripts/broker.sh stop --name bench --kill >/dev/null 2>&1 || true
}
trap cleanup EXIT
eval "$(scripts/broker.sh start --name bench --base-port 36672)"
export RMQTOPO_API_URL RMQTOPO_AMQP_URL

# the same topology twice: the broker's definitions format and rmqtopo's
scripts/gen_bench_pair.sh "$queues" "$vhost" "$work"

echo "importing $queues queues and $queues bindings into vhost '$vhost' (the broker's own import)..."
curl -sf -u guest:guest -X PUT "$RMQTOPO_API_URL/api/vhosts/$vhost" >/dev/null
start=$(date +%s.%N)
curl -sf -u guest:guest -X POST -H 'content-type: application/json' --data-binary "@$work/defs.json" \
  "$RMQTOPO_API_URL/api/definitions/$vhost" >/dev/null
echo "import took $(echo "$(date +%s.%N) - $start" | bc) s"

build/rmqtopo plan "$work/topology.yaml" >"$work/plan.out" 2>&1 || {
  echo "plan did not find the broker equal to the file:"; tail -5 "$work/plan.out"; exit 1; }
tail -1 "$work/plan.out"

hyperfine --warmup 1 --runs 5 --export-json "$work/h.json" \
  -n "GET /api/definitions/$vhost" "curl -sf -u guest:guest -o /dev/null $RMQTOPO_API_URL/api/definitions/$vhost" \
  -n "rmqtopo plan" "build/rmqtopo plan $work/topology.yaml"

medians=$(grep -o '"median": *[0-9.e+-]*' "$work/h.json" | sed 's/.*: *//')
read_median=$(echo "$medians" | sed -n 1p)
plan_median=$(echo "$medians" | sed -n 2p)

rss=()
for _ in 1 2 3 4 5; do
  /usr/bin/time -o "$work/rss" -f '%M' build/rmqtopo plan "$work/topology.yaml" >/dev/null 2>&1 || true
  rss+=("$(tail -1 "$work/rss")")
done
rss_median=$(printf '%s\n' "${rss[@]}" | sort -n | sed -n 3p)

awk -v r="$read_median" -v p="$plan_median" -v m="$rss_median" 'BEGIN {
  printf "\nread alone: median %.3f s   rmqtopo plan: median %.3f s   ratio %.2fx (target <= 1.25x: %s)\n", r, p, p / r, (p / r <= 1.25 ? "met" : "MISSED")
  printf "plan peak RSS: %.1f MiB (median of 5; target < 64 MiB: %s)\n", m / 1024, (m / 1024 < 64 ? "met" : "MISSED")
}'
