#!/usr/bin/env bash
# test_docs.sh BINARY - the examples of README.md and docs/*.md, run against the real binary
# and a private broker (the environment of scripts/broker.sh).
#
# An example is checked when an HTML comment on the line before its fenced block says so:
#   <!-- check: transcript -->          lines "$ COMMAND" are run in order in one bash (rmqtopo
#   <!-- check: transcript SETUP -->    on PATH, in a scratch directory holding a copy of
#                                       topologies/); the lines after each are its expected
#                                       output (stdout and stderr together). SETUP names a
#                                       broker state prepared first (setup_* below).
#   <!-- check: file NAME -->           the block is written to NAME in the scratch directory
#                                       (for the transcripts after it in the same document)
#   <!-- check: valid -->               a topology (or a part of one: "version: 1" is added
#                                       when missing) that rmqtopo validate accepts (exit 0)
#   <!-- check: invalid -->             one that validate refuses (exit 1)
# Output is compared after normalising what changes from run to run: ports, times, durations,
# rates, cluster names, runs of spaces (column widths). Each document gets a fresh scratch
# directory. The examples use the vhost 'orders', deleted before each setup and at the end.
set -u
. "$(dirname "$0")/lib.sh"
bin=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
cleanup() {
  api DELETE /vhosts/orders >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT
export NO_COLOR=1 LC_ALL=C.UTF-8
mkdir -p "$tmp/bin"
ln -s "$bin" "$tmp/bin/rmqtopo"
export PATH="$tmp/bin:$PATH"

# --- broker states the transcripts start from
reset_orders() { api DELETE /vhosts/orders >/dev/null 2>&1; }
# waits (bounded) until the management API's queue totals show N messages in orders/QUEUE:
# plan reads its counts there, and the broker refreshes them every few seconds
wait_count() {
  local q=$1 n=$2 i got
  for i in $(seq 1 120); do
    got=$(api GET "/queues/orders?disable_stats=true&enable_queue_totals=true&columns=name,messages" |
      python3 -c 'import json, sys
print(next((str(q.get("messages")) for q in json.load(sys.stdin) if q.get("name") == sys.argv[1]), ""))' "$q" 2>/dev/null)
    [ "$got" = "$n" ] && return 0
    sleep 0.5
  done
  echo "queue $q: the API shows '$got' messages, not $n" >&2
  return 1
}
setup_orders_applied() {
  reset_orders
  "$bin" apply "$root/topologies/orders.yaml" >/dev/null 2>&1
}
# orders.yaml applied, then changed behind its back: orders.dlq declared with a 1-day TTL and
# holding 3 messages, the policy's delivery limit raised to 10 and its max-length removed, an
# extra queue legacy.jobs
setup_plan_drift() {
  local i
  setup_orders_applied || return 1
  api DELETE /queues/orders/orders.dlq >/dev/null
  api PUT /queues/orders/orders.dlq \
    '{"durable":true,"arguments":{"x-queue-type":"quorum","x-message-ttl":86400000}}' >/dev/null
  api POST /bindings/orders/e/orders.dlx/q/orders.dlq '{"routing_key":"#"}' >/dev/null
  for i in 1 2 3; do
    api POST /exchanges/orders/amq.default/publish \
      '{"properties":{"delivery_mode":2},"routing_key":"orders.dlq","payload":"x","payload_encoding":"string"}' >/dev/null
  done
  api PUT /policies/orders/order-stages '{"pattern":"^(orders\\.(placed|validated|payment-processed|fulfilled)|notify\\..+)$","apply-to":"queues","priority":1,"definition":{"dead-letter-exchange":"orders.dlx","dead-letter-strategy":"at-least-once","overflow":"reject-publish","delivery-limit":10}}' >/dev/null
  api PUT /queues/orders/legacy.jobs '{"durable":true}' >/dev/null
  wait_count orders.dlq 3
}

# orders.yaml applied, then 2 messages (order-1041, order-1042) published to orders.placed
# with a 1 ms TTL: they expire into orders.dlq through the policy's dead-letter exchange
setup_dlq_expired() {
  local i
  setup_orders_applied || return 1
  for i in 1 2; do
    api POST /exchanges/orders/orders/publish "{\"properties\":{\"delivery_mode\":2,\"message_id\":\"order-104$i\",\"expiration\":\"1\"},\"routing_key\":\"order.placed\",\"payload\":\"{\\\"order\\\":104$i}\",\"payload_encoding\":\"string\"}" >/dev/null
  done
  wait_count orders.dlq 2
}

# the file orders.yaml of the README's monitoring example (written to the scratch directory
# by a "check: file" block) applied; 12 messages rejected from orders.placed, 5 from
# orders.audit: each dead-letters through the fanout orders.dlx into both dead-letter queues
setup_dlq_monitor() {
  local msgtool
  msgtool=$(dirname "$bin")/tests/msgtool
  reset_orders
  "$bin" apply "$work/orders.yaml" >/dev/null 2>&1 || return 1
  "$msgtool" publish orders orders.placed 12 p && "$msgtool" reject orders orders.placed 12 &&
    "$msgtool" publish orders orders.audit 5 a && "$msgtool" reject orders orders.audit 5 || return 1
  wait_count orders.dlq 17 && wait_count orders.audit.dlq 17
}

normalise() {
  sed -E -e 's/(localhost|127\.0\.0\.1):[0-9]+/\1:PORT/g' \
    -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z/TIME/g' \
    -e 's/[0-9]+(\.[0-9]+)? ?msg\/s/RATE/g' \
    -e 's/\b[0-9]+(\.[0-9]+)? ?(ms|s|m|h)\b/DUR/g' \
    -e 's/cluster [^ ),]+/cluster NAME/g' \
    -e 's/process [0-9]+/process PID/g' \
    -e 's/[[:space:]]+/ /g' -e 's/ $//' -e '/^$/d'
}

# check_block DOC LINE KIND ARG FILE: one checked example (its text in FILE)
check_block() {
  local doc=$1 line=$2 kind=$3 arg=$4 block=$5 name out rc
  name="$doc:$line ($kind${arg:+ $arg})"
  case $kind in
    file)
      cp "$block" "$work/$arg"
      ;;
    valid | invalid)
      if grep -qE '^version:' "$block"; then cp "$block" "$tmp/t.yaml"; else
        { echo "version: 1"; cat "$block"; } >"$tmp/t.yaml"
      fi
      out=$(cd "$work" && "$bin" validate "$tmp/t.yaml" 2>&1)
      rc=$?
      if [ "$kind" = valid ]; then
        expect_eq "$name: validate accepts it" "0" "$rc"
      else
        expect_eq "$name: validate refuses it" "1" "$rc"
      fi
      [ "$kind" = valid ] && [ $rc -ne 0 ] && echo "$out" | head -n 10 | sed 's/^/  /'
      ;;
    transcript)
      if [ -n "$arg" ]; then
        if ! "setup_${arg//-/_}" >"$tmp/setup.log" 2>&1; then
          fail "$name: setup $arg" "$(tail -n 5 "$tmp/setup.log")"
          return
        fi
      fi
      # the script: each "$ command" echoed, then run with stderr into stdout
      # ($? of a command is kept across the echo of the next one, for "$ echo $?")
      awk 'BEGIN { print "rc_=0" }
           /^\$ /{ cmd = substr($0, 3); gsub(/\047/, "\047\\\047\047", cmd);
                   print "printf \"%s\\n\" \047$ " cmd "\047"
                   print "(exit $rc_); " substr($0, 3) " 2>&1; rc_=$?" }' \
        "$block" >"$tmp/script.sh"
      (cd "$work" && bash "$tmp/script.sh") >"$tmp/actual" 2>&1
      if [ "$(normalise <"$block")" = "$(normalise <"$tmp/actual")" ]; then
        pass "$name: output as shown"
      else
        fail "$name: output as shown" "diff (- shown, + real):" \
          "$(diff <(normalise <"$block") <(normalise <"$tmp/actual") | head -n 30)"
      fi
      ;;
    *) fail "$name: unknown check '$kind'" ;;
  esac
}

total=0
for doc in "$root/README.md" "$root"/docs/*.md; do
  [ -f "$doc" ] || continue
  rel=${doc#"$root"/}
  work=$tmp/work-$(basename "$doc" .md)
  rm -rf "$work"
  mkdir -p "$work"
  cp -r "$root/topologies" "$work/topologies"
  # each checked block: its directive line, then its text in a file of its own
  awk -v dir="$tmp/blocks" -v rel="$rel" '
    BEGIN { system("rm -rf " dir "; mkdir -p " dir); n = 0 }
    /^<!-- check: .* -->$/ { d = $0; sub(/^<!-- check: */, "", d); sub(/ *-->$/, "", d); want = NR; next }
    /^```/ {
      if (inblock) { inblock = 0; close(f); next }
      if (want == NR - 1) { n++; f = sprintf("%s/%03d", dir, n); inblock = 1;
        printf "%s\t%d\t%s\n", f, NR, d > (dir "/index"); want = 0; printf "" > f; next }
      skip = !skip; next
    }
    inblock { print > f }
  ' "$doc"
  [ -f "$tmp/blocks/index" ] || continue
  while IFS=$'\t' read -r block line directive; do
    total=$((total + 1))
    kind=${directive%% *}
    arg=
    [ "$kind" != "$directive" ] && arg=${directive#* }
    check_block "$rel" "$line" "$kind" "$arg" "$block"
  done <"$tmp/blocks/index"
done
# docs/commands.md names every command of 'rmqtopo --help' in a section of its own, and every
# option of each command's --help in that section; the global options anywhere
commands=$root/docs/commands.md
if [ -f "$commands" ]; then
  missing=
  while read -r c sub; do
    [ -n "$c" ] || continue
    title=$c${sub:+ $sub}
    [ "$c" = diff ] && continue # plan's alias, in plan's section
    section=$(awk -v t="## $title" '$0 == t { on = 1; next } /^## / { on = 0 } on' "$commands")
    if [ -z "$section" ]; then
      missing="$missing [no section '## $title']"
      continue
    fi
    for o in $("$bin" $c $sub --help | sed -n '/^Options:/,/^$/p' |
      grep -o -E '^ +(-[a-z], )?--[a-z-]+' | sed -E 's/.*--/--/'); do
      case $section in *"$o"*) ;; *) missing="$missing $title:$o" ;; esac
    done
  done <<<"$("$bin" --help | sed -n '/^Commands:/,/^$/p' | sed -n 's/^  \([a-z]\+\)\( \([a-z]\+\)\)\?.*/\1 \3/p')"
  for o in $("$bin" --help | sed -n '/^Global options/,/^$/p' | grep -o -E '^ +(-[a-z], )?--[a-z-]+' |
    sed -E 's/.*--/--/'); do
    grep -q -- "\`$o" "$commands" || missing="$missing global:$o"
  done
  expect_eq "docs/commands.md documents every command and option of --help" "" "$missing"
fi

[ "$total" -gt 0 ] && pass "$total checked examples found" || fail "checked examples found" "none"
finish
