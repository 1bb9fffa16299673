#!/usr/bin/env bash
# scripts/bench_validate.sh [QUEUES] - how fast `rmqtopo validate` reads a large topology.
#
# Generates QUEUES (default 10,000) quorum queues with as many bindings (scripts/gen_topology.sh),
# then measures the Release binary: wall time with hyperfine (10 runs, median) and peak memory
# with /usr/bin/time (median of 5). Target (issue: foundation): under 0.5 s for 10,000 queues.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
queues=${1:-10000}

scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target rmqtopo >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
file=$work/bench-$queues.yaml
scripts/gen_topology.sh "$queues" > "$file"
echo "file: $queues queues, $(wc -c < "$file") bytes"
build/rmqtopo validate "$file"

hyperfine --warmup 2 --runs 10 --export-json "$work/h.json" \
  "build/rmqtopo validate $file" > "$work/h.txt"
sed -n '1,4p' "$work/h.txt"
median=$(grep -o '"median": *[0-9.e+-]*' "$work/h.json" | head -1 | sed 's/.*: *//')

rss=()
for _ in 1 2 3 4 5; do
  /usr/bin/time -o "$work/rss" -f '%M' build/rmqtopo validate "$file" >/dev/null 2>&1 || true
  rss+=("$(tail -1 "$work/rss")")
done
rss_median=$(printf '%s\n' "${rss[@]}" | sort -n | sed -n 3p)

awk -v m="$median" -v r="$rss_median" 'BEGIN {
  printf "validate: median %.3f s, peak RSS %.1f MiB (median of 5)\n", m, r / 1024
  printf "against the 0.5 s target: %.2fx of the budget (%s)\n", m / 0.5, m < 0.5 ? "met" : "MISSED"
}'
