#!/usr/bin/env bash
# A 3-node cluster on this machine (scripts/broker.sh start --nodes 3, its own name and ports):
# apply makes quorum queues with 3 members; plan and apply given every node's URL keep working
# when the first node is stopped; a dlq replay whose node is stopped mid-run stops cleanly and
# a re-run (through another node) finishes; nothing is lost (message ids counted).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
MSGTOOL=${MSGTOOL:-$(dirname "$BIN")/tests/msgtool}
repo=$(cd "$here/../.." && pwd)

name=rmqtopo-cluster-$$
work=$(mktemp -d)
cleanup() {
  "$repo/scripts/broker.sh" stop --name "$name" --kill >/dev/null 2>&1
  rm -rf "$work" "${RMQTOPO_BROKER_DIR:-$repo/.broker}/$name"
}
trap cleanup EXIT

if ! env=$("$repo/scripts/broker.sh" start --name "$name" --nodes 3 --base-port auto 2>"$work/start.log"); then
  fail "a 3-node cluster starts" "$(tail -n 5 "$work/start.log")"
  finish
  exit 1
fi
pass "a 3-node cluster starts"
eval "$env"
# every command below gets all three nodes, node 0 first
export RMQTOPO_AMQP_URL=$RMQTOPO_AMQP_URLS RMQTOPO_API_URL=$RMQTOPO_API_URLS
node() { echo "$BROKER_NODES" | cut -d' ' -f$(($1 + 1)); }
url_of() { echo "$1" | cut -d, -f$(($2 + 1)); }
api1() { curl -sS -u guest:guest "$(url_of "$RMQTOPO_API_URLS" 1)/api$1"; }
jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print(json.dumps(eval(sys.argv[1])))" "$1"; }
# msgtool talks to node 1, which stays up
m() { RMQTOPO_AMQP_URL=$(url_of "$RMQTOPO_AMQP_URLS" 1) "$MSGTOOL" "$@"; }
count() { m dump "$1" "$2" | wc -l | tr -d ' '; }

v=cluster
cat > "$work/t.yaml" <<YAML
version: 1
vhosts:
  $v:
    exchanges:
      orders: { type: topic }
    queues:
$(for i in 1 2 3 4; do printf '      q%s:\n        type: quorum\n        initial_group_size: 3\n        bind: [{ exchange: orders, routing_key: "q%s.#" }]\n' "$i" "$i"; done)
      dlq:
        type: quorum
        initial_group_size: 3
      home:
        type: quorum
        initial_group_size: 3
YAML
out=$("$BIN" apply --yes "$work/t.yaml" 2>&1); rc=$?
expect_eq "apply to the cluster: exit 0" 0 "$rc"
expect_eq "every quorum queue has 3 members, one on each node" \
  '[3, 3, 3, 3, 3, 3]' \
  "$(api1 "/queues/$v?columns=name,members" | jget '[len(set(q["members"])) for q in sorted(d, key=lambda q: q["name"])]')"
"$BIN" plan "$work/t.yaml" >/dev/null 2>&1
expect_eq "plan against the cluster: nothing to change (exit 0)" 0 "$?"

# --- a replay whose node is stopped mid-run ----------------------------------------------------
n=20000
m publish "$v" dlq $n c
m dump "$v" dlq | cut -d' ' -f1 | sort > "$work/all"
expect_eq "setup: $n messages in the quorum DLQ" $n "$(wc -l < "$work/all" | tr -d ' ')"
# --rate keeps the run going for 40 s, so the node stops in the middle of it even on a loaded
# machine (stopping a node takes seconds there)
"$BIN" dlq replay dlq --vhost "$v" --to-queue home --rate 500 -o json > "$work/r1.json" 2>"$work/r1.err" & pid=$!
for _ in $(seq 100); do [ "$(count "$v" home)" -gt 1000 ] && break; sleep 0.1; done
"$BROKER_CTL" -n "$(node 0)" stop >/dev/null 2>&1
wait "$pid"; rc=$?
# (on a heavily loaded machine stopping a node can take longer than the run: then the replay
# finished first, and must say so; stopped in the middle it must exit 1 with what is left)
if [ "$(jget 'd["moved"]' < "$work/r1.json")" = "$n" ]; then
  expect_eq "replay that finished before its node stopped: exit 0, ok" '0 true' \
    "$rc $(jget 'd["ok"]' < "$work/r1.json")"
else
  expect_eq "replay whose node stops mid-run: it stops (exit 1)" 1 "$rc"
  expect_eq "replay whose node stops mid-run: its summary says what moved and what is left" \
    '[false, true, true]' "$(jget '[d["ok"], d["moved"] > 0, d["moved"] < '$n']' < "$work/r1.json")"
fi
echo "  (replay through node 0: moved $(jget 'd["moved"]' < "$work/r1.json"), then: $(tail -c 300 "$work/r1.err" | tr '\n' ' '))"
expect_eq "after the node stopped: every id in the DLQ or at home" "$(cat "$work/all")" \
  "$( { m dump "$v" dlq; m dump "$v" home; } | cut -d' ' -f1 | sort -u)"
"$BIN" dlq replay dlq --vhost "$v" --to-queue home -o json > "$work/r2.json" 2>"$work/r2.err"; rc=$?
expect_eq "a re-run with node 0 down goes through another node and finishes: exit 0" 0 "$rc"
expect_eq "after the re-run: the DLQ is empty" 0 "$(count "$v" dlq)"
expect_eq "after the re-run: every id at home" "$(cat "$work/all")" "$(m dump "$v" home | cut -d' ' -f1 | sort -u)"
total=$(count "$v" home); echo "  ($((total - n)) duplicates)"
expect_eq "duplicates stay within the prefetch (2048)" 1 "$(( total - n <= 2048 ))"

# --- plan and apply with the first node down ----------------------------------------------------
out=$("$BIN" plan "$work/t.yaml" 2>&1); rc=$?
expect_eq "plan with node 0 down (its URLs first): exit 0" 0 "$rc"
sed 's/^      dlq:$/      q5:\n        type: quorum\n        initial_group_size: 2\n      dlq:/' "$work/t.yaml" > "$work/t2.yaml"
out=$("$BIN" plan "$work/t2.yaml" -o json 2>/dev/null); rc=$?
expect_eq "plan of a new queue with node 0 down: exit 2, one create" '2 1' "$rc $(echo "$out" | jget 'd["summary"]["create"]')"
out=$("$BIN" apply --yes "$work/t2.yaml" 2>&1); rc=$?
expect_eq "apply with node 0 down: exit 0" 0 "$rc"
expect_eq "apply with node 0 down: the new queue has 2 members, none on the stopped node" '[2, false]' \
  "$(api1 "/queues/$v/q5" | jget '[len(d["members"]), "'"$(node 0)"'" in d["members"]]')"
"$BIN" plan "$work/t2.yaml" >/dev/null 2>&1
expect_eq "plan after that apply: exit 0" 0 "$?"

finish
