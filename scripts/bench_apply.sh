#!/usr/bin/env bash
# scripts/bench_apply.sh [QUEUES] - `rmqtopo apply` against POST /api/definitions/{vhost}.
#
# Starts a private broker (scripts/broker.sh, name "benchapply", base port 39672) and writes
# one topology twice, as the broker's definitions JSON and as a topology file: vhost "bench",
# 100 topic exchanges, QUEUES (default 10,000) durable classic queues with x-max-length and
# one binding each. Then measures (hyperfine, medians of RUNS, default 5):
#   1. from an empty vhost (--prepare deletes and re-creates it), side by side:
#        - the broker's own bulk import: curl POST /api/definitions/{vhost} (synchronous)
#        - rmqtopo apply --yes FILE
#      target: apply <= 0.5x the import;
#   2. with the vhost converged, side by side: rmqtopo plan FILE and rmqtopo apply --yes FILE
#      (nothing to change); target: no-op apply <= 1.25x plan;
#   3. the classic rabbitmqadmin, one process per declare: RA_SAMPLE (default 100) queues
#      timed in a fresh vhost, extrapolated linearly to QUEUES queues, against apply's median.
# Environment: RUNS (default 5), RA_SAMPLE (default 100), BUILD_DIR (Release build, default
# /tmp/bench-apply-build), KEEP_BROKER=1 (leave the broker running at the end).
# A build without `apply` gets the import and rabbitmqadmin measured only, and exit status 1.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
queues=${1:-10000}
runs=${RUNS:-5}
ra_sample=${RA_SAMPLE:-100}
build=${BUILD_DIR:-/tmp/bench-apply-build}
vhost=bench
[[ $queues =~ ^[1-9][0-9]*$ && $runs =~ ^[1-9][0-9]*$ && $ra_sample =~ ^[1-9][0-9]*$ ]] || {
  echo "usage: [RUNS=N] [RA_SAMPLE=N] [BUILD_DIR=DIR] scripts/bench_apply.sh [QUEUES]" >&2; exit 64; }

scripts/setup.sh
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target rmqtopo >/dev/null
rmqtopo=$build/rmqtopo
have_apply=1
"$rmqtopo" apply --help >/dev/null 2>&1 || have_apply=0

work=$(mktemp -d)
cleanup() {
  rm -rf "$work"
  [ "${KEEP_BROKER:-0}" = 1 ] || scripts/broker.sh stop --name benchapply --kill >/dev/null 2>&1 || true
}
trap cleanup EXIT
eval "$(scripts/broker.sh start --name benchapply --base-port 39672)"
export RMQTOPO_API_URL RMQTOPO_AMQP_URL
api_port=${RMQTOPO_API_URL##*:}
api_port=${api_port%%/*}
export BENCH_WORK=$work BENCH_VHOST=$vhost

# the same topology twice: the broker's definitions format and rmqtopo's
scripts/gen_bench_pair.sh "$queues" "$vhost" "$work"

# reset.sh: the vhost deleted (if it exists), re-created empty, guest granted everything, running.
cat >"$work/reset.sh" <<'EOF'
#!/usr/bin/env bash
set -euo pipefail
call() { # METHOD PATH [BODY]: prints the HTTP status
  curl -sS --max-time 600 -o "$BENCH_WORK/reset.out" -w '%{http_code}' -u guest:guest -X "$1" \
    -H 'content-type: application/json' ${3:+--data "$3"} "$RMQTOPO_API_URL$2"
}
fail() { echo "reset.sh: $1 answered HTTP $2: $(head -c 300 "$BENCH_WORK/reset.out")" >&2; exit 1; }
code=$(call DELETE "/api/vhosts/$BENCH_VHOST")
[[ $code == 2?? || $code == 404 ]] || fail "DELETE /api/vhosts/$BENCH_VHOST" "$code"
code=$(call PUT "/api/vhosts/$BENCH_VHOST")
[[ $code == 2?? ]] || fail "PUT /api/vhosts/$BENCH_VHOST" "$code"
code=$(call PUT "/api/permissions/$BENCH_VHOST/guest" '{"configure":".*","write":".*","read":".*"}')
[[ $code == 2?? ]] || fail "PUT /api/permissions/$BENCH_VHOST/guest" "$code"
for _ in $(seq 100); do
  code=$(call GET "/api/vhosts/$BENCH_VHOST")
  [[ $code == 2?? ]] && jq -e '.cluster_state | length > 0 and all(. == "running")' \
    "$BENCH_WORK/reset.out" >/dev/null && break
  sleep 0.1
done
code=$(call GET "/api/queues/$BENCH_VHOST?columns=name")
[[ $code == 2?? ]] && jq -e 'length == 0' "$BENCH_WORK/reset.out" >/dev/null ||
  fail "GET /api/queues/$BENCH_VHOST (expected no queues)" "$code"
EOF
# import.sh: the broker's own bulk import; fails unless it answers 2xx.
cat >"$work/import.sh" <<'EOF'
#!/usr/bin/env bash
set -euo pipefail
code=$(curl -sS -o "$BENCH_WORK/import.out" -w '%{http_code}' -u guest:guest \
  -H 'content-type: application/json' -X POST --data-binary "@$BENCH_WORK/defs.json" \
  "$RMQTOPO_API_URL/api/definitions/$BENCH_VHOST")
[[ $code == 2?? ]] || { echo "import answered HTTP $code: $(head -c 300 "$BENCH_WORK/import.out")" >&2; exit 1; }
EOF
chmod +x "$work/reset.sh" "$work/import.sh"

# Exit 0 from plan: the vhost holds exactly the file's topology.
check_converged() { # what
  local rc=0
  "$rmqtopo" plan "$work/topology.yaml" >"$work/plan.out" 2>&1 || rc=$?
  if [ $rc != 0 ]; then
    echo "after $1, plan exits $rc (not 0: the broker differs from the file):"; tail -5 "$work/plan.out"; exit 1
  fi
}
elapsed() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.3f", e - s }'; }

echo "topology: vhost '$vhost', 100 exchanges, $queues queues, $queues bindings"
echo "checking the import (once, untimed by hyperfine)..."
"$work/reset.sh"
start=$(date +%s.%N)
"$work/import.sh"
echo "import took $(elapsed "$start") s"
check_converged "the import"
tail -1 "$work/plan.out"

if [ $have_apply = 1 ]; then
  echo "checking apply (once, untimed by hyperfine)..."
  "$work/reset.sh"
  start=$(date +%s.%N)
  rc=0
  "$rmqtopo" apply --yes "$work/topology.yaml" >"$work/apply.out" 2>&1 || rc=$?
  echo "apply took $(elapsed "$start") s, exit status $rc; its last lines:"
  grep -v '^$' "$work/apply.out" | tail -2 | sed 's/^/  | /'
  [ $rc = 0 ] || { echo "apply failed"; exit 1; }
  check_converged "apply"
else
  echo "NOTE: $rmqtopo has no 'apply' command yet: measuring the import and rabbitmqadmin only"
fi

cmds=(-n "import (POST /api/definitions/$vhost)" "$work/import.sh")
[ $have_apply = 0 ] || cmds+=(-n "rmqtopo apply" "$rmqtopo apply --yes $work/topology.yaml")
echo
echo "1. from an empty vhost ($runs runs each, the vhost re-created before each run)"
hyperfine --runs "$runs" --prepare "$work/reset.sh" --export-json "$work/h1.json" "${cmds[@]}"
import_median=$(jq -r '.results[0].median' "$work/h1.json")
apply_median=""
noop_median=""
plan_median=""
if [ $have_apply = 1 ]; then
  apply_median=$(jq -r '.results[1].median' "$work/h1.json")
  check_converged "the last timed apply"

  echo
  echo "2. nothing to change ($runs runs each, after 1 warm-up)"
  hyperfine --warmup 1 --runs "$runs" --export-json "$work/h2.json" \
    -n "rmqtopo plan" "$rmqtopo plan $work/topology.yaml" \
    -n "rmqtopo apply (no-op)" "$rmqtopo apply --yes $work/topology.yaml"
  plan_median=$(jq -r '.results[0].median' "$work/h2.json")
  noop_median=$(jq -r '.results[1].median' "$work/h2.json")
  check_converged "the no-op applies"
fi

echo
echo "3. rabbitmqadmin: declaring a sample of $ra_sample queues, one process each, in a fresh vhost..."
"$work/reset.sh"
start=$(date +%s.%N)
for ((q = 0; q < ra_sample; q++)); do
  rabbitmqadmin -H localhost -P "$api_port" -u guest -p guest -V "$vhost" declare queue \
    name="$(printf 'q.%06d' "$q")" durable=true arguments="{\"x-max-length\":$((10000 + q))}" >/dev/null
done
ra_time=$(elapsed "$start")
declared=$(curl -sf -u guest:guest "$RMQTOPO_API_URL/api/queues/$vhost?columns=name" | jq length)
[ "$declared" = "$ra_sample" ] || { echo "rabbitmqadmin declared $declared queues, not $ra_sample"; exit 1; }
echo "rabbitmqadmin: $ra_sample queues in $ra_time s"

echo
echo "== summary: $queues queues, $queues bindings, 100 exchanges (hyperfine medians of $runs) =="
awk -v q="$queues" -v n="$ra_sample" -v ra="$ra_time" -v i="$import_median" -v a="$apply_median" \
  -v p="$plan_median" -v o="$noop_median" 'BEGIN {
  rate = n / ra
  ext = q / rate
  printf "import (POST /api/definitions): median %.3f s\n", i
  if (a == "") {
    printf "rmqtopo apply:                  NOT MEASURED (this build has no apply command)\n"
  } else {
    printf "rmqtopo apply:                  median %.3f s   ratio apply/import %.3fx (target <= 0.5x: %s)\n", a, a / i, (a / i <= 0.5 ? "met" : "MISSED")
    printf "no-op: rmqtopo plan median %.3f s, rmqtopo apply median %.3f s   ratio %.3fx (target <= 1.25x: %s)\n", p, o, o / p, (o / p <= 1.25 ? "met" : "MISSED")
  }
  printf "rabbitmqadmin, one process per declare: %.1f queues/s (measured: %d queues in %.1f s)\n", rate, n, ra
  printf "  EXTRAPOLATED from that sample to %d queues (queues only; the exchanges and bindings would add more): %.1f s\n", q, ext
  if (a != "")
    printf "  ratio rabbitmqadmin (extrapolated) / apply median: %.1fx (apply is that many times faster)\n", ext / a
}'
[ $have_apply = 1 ] || exit 1
