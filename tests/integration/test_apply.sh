#!/usr/bin/env bash
# apply against a real broker: every object, type and argument lands as the file says (checked
# through the management API, not through rmqtopo); a second apply changes nothing; the
# declarations go over AMQP; a broker refusal shows the broker's text and what was not
# attempted; a replace of a queue holding messages is refused without --allow-replace and
# migrates every message (ids, bodies, typed headers, order) with it; kill -9 in the middle of
# a migration loses nothing; --prune and --force; consumers need --force.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
MSGTOOL=${MSGTOOL:-$(dirname "$BIN")/tests/msgtool}

vh=rmqtopo-it-apply-$$
vm=rmqtopo-it-mig-$$
vk=rmqtopo-it-kill-$$
vp=rmqtopo-it-prune-$$
work=$(mktemp -d)
cleanup() {
  for v in "$vh" "$vm" "$vk" "$vp"; do api DELETE "/vhosts/$v" >/dev/null 2>&1; done
  [ -n "${holder:-}" ] && kill "$holder" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# jq-free JSON reading: python3 is on every Debian machine the tests run on
jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print(json.dumps(eval(sys.argv[1])))" "$1"; }
queue_json() { api GET "/queues/$1/$2"; }

# --- 1. apply to an empty vhost --------------------------------------------------------------
cat > "$work/full.yaml" <<YAML
version: 1
vhosts:
  $vh:
    exchanges:
      orders: { type: topic, alternate_exchange: orders.unrouted }
      orders.unrouted: { type: fanout }
      orders.audit: { type: fanout, internal: true }
      orders.retry: { type: headers }
      orders.dlx: { type: topic, durable: false }
    queues:
      orders.placed:
        type: quorum
        delivery_limit: 5
        dead_letter_exchange: orders.dlx
        dead_letter_strategy: at-least-once
        overflow: reject-publish
        initial_group_size: 1
        bind: [{ exchange: orders, routing_key: order.placed }]
      orders.classic:
        message_ttl: 60s
        expires: 30m
        max_length: 1000
        max_length_bytes: 1MiB
        overflow: reject-publish-dlx
        dead_letter_exchange: orders.dlx
        dead_letter_routing_key: dead
        arguments: { x-max-priority: 5 }
        single_active_consumer: true
        bind:
          - { exchange: orders, routing_key: "order.#" }
          - { exchange: orders.retry, arguments: { x-match: all, retry-delay: 1s } }
      orders.log:
        type: stream
        max_age: 7D
        max_length_bytes: 10MiB
      orders.temp: { durable: false, auto_delete: true }
    bindings:
      - { source: orders, destination: orders.audit, destination_type: exchange, routing_key: "#" }
    policies:
      cap:
        pattern: "^orders\\\\.classic$"
        apply_to: queues
        priority: 3
        definition: { max-length: 500 }
YAML

out=$("$BIN" apply --yes "$work/full.yaml" 2>"$work/err"); rc=$?
expect_eq "apply to an empty vhost exits 0" 0 "$rc"
expect_contains "apply says what it applied" "$out" "Applied: "

q=$(queue_json "$vh" orders.placed)
expect_eq "quorum queue: type" '"quorum"' "$(echo "$q" | jget 'd["type"]')"
expect_eq "quorum queue: x-delivery-limit is the integer 5" '5' "$(echo "$q" | jget 'd["arguments"]["x-delivery-limit"]')"
expect_eq "quorum queue: dead-letter strategy" '"at-least-once"' "$(echo "$q" | jget 'd["arguments"]["x-dead-letter-strategy"]')"
expect_eq "quorum queue: initial group size" '1' "$(echo "$q" | jget 'd["arguments"]["x-quorum-initial-group-size"]')"
q=$(queue_json "$vh" orders.classic)
expect_eq "classic queue: exactly the file's arguments, typed" \
  '{"x-dead-letter-exchange": "orders.dlx", "x-dead-letter-routing-key": "dead", "x-expires": 1800000, "x-max-length": 1000, "x-max-length-bytes": 1048576, "x-max-priority": 5, "x-message-ttl": 60000, "x-overflow": "reject-publish-dlx", "x-single-active-consumer": true}' \
  "$(echo "$q" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["arguments"], sort_keys=True))')"
expect_eq "classic queue: no x-queue-type sent (the file set none)" 'false' "$(echo "$q" | jget '"x-queue-type" in d["arguments"]')"
q=$(queue_json "$vh" orders.log)
expect_eq "stream: type and max-age" '["stream", "7D", 10485760]' "$(echo "$q" | jget '[d["type"], d["arguments"]["x-max-age"], d["arguments"]["x-max-length-bytes"]]')"
q=$(queue_json "$vh" orders.temp)
expect_eq "transient auto-delete queue: flags" '[false, true]' "$(echo "$q" | jget '[d["durable"], d["auto_delete"]]')"
x=$(api GET "/exchanges/$vh/orders")
expect_eq "exchange: type and alternate-exchange" '["topic", "orders.unrouted"]' "$(echo "$x" | jget '[d["type"], d["arguments"]["alternate-exchange"]]')"
x=$(api GET "/exchanges/$vh/orders.audit")
expect_eq "exchange: internal" 'true' "$(echo "$x" | jget 'd["internal"]')"
x=$(api GET "/exchanges/$vh/orders.dlx")
expect_eq "exchange: durable false" 'false' "$(echo "$x" | jget 'd["durable"]')"
b=$(api GET "/bindings/$vh/e/orders.retry/q/orders.classic")
expect_eq "binding with arguments" '{"retry-delay": "1s", "x-match": "all"}' "$(echo "$b" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)[0]["arguments"], sort_keys=True))')"
b=$(api GET "/bindings/$vh/e/orders/e/orders.audit")
expect_eq "exchange-to-exchange binding" '"#"' "$(echo "$b" | jget 'd[0]["routing_key"]')"
p=$(api GET "/policies/$vh/cap")
expect_eq "policy: pattern, apply-to, priority, definition" '["^orders\\.classic$", "queues", 3, {"max-length": 500}]' "$(echo "$p" | jget '[d["pattern"], d["apply-to"], d["priority"], d["definition"]]')"

out=$("$BIN" apply --yes "$work/full.yaml" 2>&1); rc=$?
expect_eq "a second apply exits 0" 0 "$rc"
expect_contains "a second apply changes nothing" "$out" "Nothing to change."
"$BIN" plan "$work/full.yaml" >/dev/null 2>&1
expect_eq "plan after apply: no changes" 0 "$?"

if command -v valgrind >/dev/null; then
  api DELETE "/vhosts/$vh" >/dev/null 2>&1
  valgrind -q --error-exitcode=3 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    "$BIN" apply --yes "$work/full.yaml" >/dev/null 2>"$work/vg"; rc=$?
  expect_eq "valgrind: apply (16 connections) has no errors or leaks" 0 "$rc"
  [ "$rc" -eq 0 ] || head -30 "$work/vg"
fi

# --- 2. declarations go over AMQP ------------------------------------------------------------
cat > "$work/more.yaml" <<YAML
version: 1
vhosts:
  $vh:
    queues:
      only.over.amqp: { type: quorum }
YAML
out=$(RMQTOPO_AMQP_URL=amqp://127.0.0.1:1 "$BIN" apply --yes "$work/more.yaml" 2>&1); rc=$?
expect_eq "AMQP endpoint unreachable: exit 1" 1 "$rc"
expect_contains "AMQP endpoint unreachable: says so" "$out" "cannot connect to amqp://127.0.0.1:1/"
expect_eq "AMQP endpoint unreachable: nothing declared" 404 \
  "$(curl -s -o /dev/null -w '%{http_code}' -u guest:guest "$RMQTOPO_API_URL/api/queues/$vh/only.over.amqp")"
out=$("$BIN" apply --dry-run "$work/more.yaml" 2>&1); rc=$?
expect_eq "--dry-run is plan: exit 2 on changes" 2 "$rc"
expect_eq "--dry-run changes nothing" 404 \
  "$(curl -s -o /dev/null -w '%{http_code}' -u guest:guest "$RMQTOPO_API_URL/api/queues/$vh/only.over.amqp")"

# --- 3. a refusal shows the broker's text and stops --------------------------------------------
cat > "$work/refused.yaml" <<YAML
version: 1
vhosts:
  $vh:
    exchanges:
      bad: { type: x-no-such-plugin }
      after.bad: { type: fanout }
YAML
out=$("$BIN" apply --yes --concurrency 1 "$work/refused.yaml" 2>&1); rc=$?
expect_eq "broker refusal: exit 1" 1 "$rc"
expect_contains "broker refusal: the broker's own text" "$out" "503 COMMAND_INVALID - unknown exchange type 'x-no-such-plugin'"
expect_contains "broker refusal: what was not attempted" "$out" "not attempted (1):"
sed -i '/x-no-such-plugin/d' "$work/refused.yaml"
out=$("$BIN" apply --yes "$work/refused.yaml" 2>&1); rc=$?
expect_eq "a re-run continues where it stopped" 0 "$rc"

# --- 4. replace: refused without consent, migrated with it -----------------------------------
cat > "$work/m1.yaml" <<YAML
version: 1
vhosts:
  $vm:
    exchanges:
      in: { type: direct }
    queues:
      work:
        bind: [{ exchange: in, routing_key: w }]
      args: { type: quorum, max_length: 100000 }
YAML
sed 's/^      work:$/      work:\n        type: quorum/; s/max_length: 100000/max_length: 200000/' "$work/m1.yaml" > "$work/m2.yaml"
"$BIN" apply --yes "$work/m1.yaml" >/dev/null 2>&1
"$MSGTOOL" publish "$vm" work 3000 w && "$MSGTOOL" publish "$vm" args 2000 a
"$MSGTOOL" dump "$vm" work > "$work/work.before"
"$MSGTOOL" dump "$vm" args | sort > "$work/args.before"
out=$("$BIN" apply --yes "$work/m2.yaml" 2>&1); rc=$?
expect_eq "replace of a queue with messages, no --allow-replace: exit 1" 1 "$rc"
expect_contains "the refusal says why" "$out" "queue 'work' in vhost '$vm' holds 3000 messages: replacing it needs --allow-replace"
expect_contains "the refusal says nothing changed" "$out" "nothing was changed"
expect_eq "refused: the queue is untouched" '["classic", 3000]' \
  "$(api GET "/queues/$vm?disable_stats=true&enable_queue_totals=true" | jget '[[q["type"], q["messages"]] for q in d if q["name"] == "work"][0]')"
"$MSGTOOL" dump "$vm" work > "$work/work.refused"
expect_eq "refused: the messages are as they were" "$(cat "$work/work.before")" "$(cat "$work/work.refused")"

holder=""
"$MSGTOOL" hold "$vm" work 60 > "$work/hold.out" & holder=$!
for _ in $(seq 50); do grep -q holding "$work/hold.out" 2>/dev/null && break; sleep 0.1; done
out=$("$BIN" apply --yes --allow-replace "$work/m2.yaml" 2>&1); rc=$?
expect_eq "a queue with consumers: exit 1 without --force" 1 "$rc"
expect_contains "a queue with consumers: says --force" "$out" "has 1 consumer: replacing it needs --force"
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null; holder=""
sleep 1

out=$("$BIN" apply --yes --allow-replace "$work/m2.yaml" 2>&1); rc=$?
expect_eq "--allow-replace: exit 0" 0 "$rc"
expect_contains "--allow-replace: says how many messages moved" "$out" "(5000 messages migrated)"
"$MSGTOOL" dump "$vm" work > "$work/work.after"
expect_eq "classic -> quorum: every message, in order, with body and typed headers" \
  "$(cat "$work/work.before")" "$(cat "$work/work.after")"
"$MSGTOOL" dump "$vm" args | sort > "$work/args.after"
expect_eq "argument change: every message kept" "$(cat "$work/args.before")" "$(cat "$work/args.after")"
expect_eq "migrated queue has the new type and argument" '["quorum", 200000]' \
  "$(api GET "/queues/$vm/args" | jget '[d["type"], d["arguments"]["x-max-length"]]')"
expect_eq "the migrated queue's binding is back" '"w"' "$(api GET "/bindings/$vm/e/in/q/work" | jget 'd[0]["routing_key"]')"
expect_eq "no holding queue is left" '[]' "$(api GET "/queues/$vm?columns=name" | jget '[q["name"] for q in d if q["name"].startswith("rmqtopo.")]')"

sed 's/max_length: 200000/max_length: 10/' "$work/m2.yaml" > "$work/m3.yaml"
out=$("$BIN" apply --yes --allow-replace "$work/m3.yaml" 2>&1); rc=$?
expect_eq "a new max_length below the message count: exit 1" 1 "$rc"
expect_contains "a new max_length below the message count: says why" "$out" "holds 2000 messages but its new max_length is 10: migrating would drop or dead-letter 1990 of them; that needs --force"
"$MSGTOOL" dump "$vm" args | sort > "$work/args.refused"
expect_eq "a new max_length below the message count: the queue keeps them" "$(cat "$work/args.before")" "$(cat "$work/args.refused")"

# --- 5. kill -9 during a migration, then a re-run: nothing lost ------------------------------
cat > "$work/k1.yaml" <<YAML
version: 1
vhosts:
  $vk:
    queues:
      big: {}
YAML
sed 's/      big: {}/      big: { type: quorum }/' "$work/k1.yaml" > "$work/k2.yaml"
n=20000
# apply first waits for the management API's statistics (messages held by clients, about two
# statistics intervals): the delays count from the moment the migration starts (its holding
# queue exists)
holding_exists() { [ "$(curl -s -o /dev/null -w '%{http_code}' -u guest:guest "$RMQTOPO_API_URL/api/queues/$vk/rmqtopo.migrate.big")" = 200 ]; }
for delay in 0.1 0.5 1.5; do
  api DELETE "/vhosts/$vk" >/dev/null 2>&1
  "$BIN" apply --yes "$work/k1.yaml" >/dev/null 2>&1
  "$MSGTOOL" publish "$vk" big $n "k$delay"
  "$MSGTOOL" dump "$vk" big | sort -u > "$work/kill.before"
  "$BIN" apply --yes --allow-replace "$work/k2.yaml" >/dev/null 2>&1 & pid=$!
  while ! holding_exists && kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  sleep "$delay"; kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  plan_out=$("$BIN" plan "$work/k2.yaml" 2>&1); prc=$?
  "$BIN" apply --yes --allow-replace "$work/k2.yaml" >"$work/kill.out" 2>&1; rc=$?
  expect_eq "kill -9 after ${delay}s, re-run: exit 0" 0 "$rc"
  "$MSGTOOL" dump "$vk" big > "$work/kill.after"
  total=$(wc -l < "$work/kill.after")
  sort -u "$work/kill.after" > "$work/kill.after.u"
  expect_eq "kill -9 after ${delay}s: every message there (id and content)" "$(cat "$work/kill.before")" "$(cat "$work/kill.after.u")"
  dups=$((total - n))
  if [ "$dups" -ge 0 ] && [ "$dups" -le 2048 ]; then pass "kill -9 after ${delay}s: at most the prefetch (2048) duplicated ($dups)"; else fail "kill -9 after ${delay}s: duplicates" "got $dups (total $total)"; fi
  if [ "$prc" -eq 2 ]; then pass "kill -9 after ${delay}s: plan shows the unfinished migration"; else fail "kill -9 after ${delay}s: plan after the kill" "exit $prc" "$plan_out"; fi
done

# the broker closes the connections in the middle of a migration: exit 1, nothing lost
api DELETE "/vhosts/$vk" >/dev/null 2>&1
"$BIN" apply --yes "$work/k1.yaml" >/dev/null 2>&1
"$MSGTOOL" publish "$vk" big $n close
"$MSGTOOL" dump "$vk" big | sort -u > "$work/close.before"
"$BIN" apply --yes --allow-replace "$work/k2.yaml" >"$work/close.out" 2>&1 & pid=$!
while ! holding_exists && kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
# rabbitmqctl itself takes about 2 s to start: the migration is under way by then
# (the management API lists new connections only after its statistics catch up: ask the node)
"$BROKER_CTL" close_all_connections --global "test: closed mid-migration" >/dev/null 2>&1
wait "$pid"; rc=$?
# on a loaded machine the migration may end before rabbitmqctl closes anything: then it must
# have finished (exit 0, no holding queue); stopped in the middle it must say so (exit 1)
if holding_exists; then
  expect_eq "connections closed mid-migration: exit 1 (the holding queue is left for a re-run)" 1 "$rc"
else
  expect_eq "connections closed after the migration finished: exit 0, no holding queue left" 0 "$rc"
fi
"$BIN" apply --yes --allow-replace "$work/k2.yaml" >/dev/null 2>&1
expect_eq "connections closed mid-migration: the re-run finishes" 0 "$?"
"$MSGTOOL" dump "$vk" big | sort -u > "$work/close.after"
expect_eq "connections closed mid-migration: every message there" "$(cat "$work/close.before")" "$(cat "$work/close.after")"

# --- 6. --prune ------------------------------------------------------------------------------
cat > "$work/p.yaml" <<YAML
version: 1
vhosts:
  $vp:
    exchanges:
      keep: { type: fanout }
    queues:
      keep.q: { bind: [{ exchange: keep }] }
YAML
"$BIN" apply --yes "$work/p.yaml" >/dev/null 2>&1
api PUT "/exchanges/$vp/extra.x" '{"type":"direct","durable":true}' >/dev/null
api PUT "/queues/$vp/extra.empty" '{"durable":true}' >/dev/null
api PUT "/queues/$vp/extra.full" '{"durable":true}' >/dev/null
api POST "/bindings/$vp/e/keep/q/extra.empty" '{"routing_key":"x"}' >/dev/null
api PUT "/policies/$vp/extra.p" '{"pattern":"^nothing$","definition":{"max-length":1}}' >/dev/null
"$MSGTOOL" publish "$vp" extra.full 10 p
out=$("$BIN" apply --yes "$work/p.yaml" 2>&1); rc=$?
expect_eq "without --prune unmanaged objects stay (exit 0)" 0 "$rc"
expect_eq "without --prune: the extra queue is still there" 200 \
  "$(curl -s -o /dev/null -w '%{http_code}' -u guest:guest "$RMQTOPO_API_URL/api/queues/$vp/extra.empty")"
out=$("$BIN" apply --yes --prune "$work/p.yaml" 2>&1); rc=$?
expect_eq "--prune, a queue holding messages, no --force: exit 1" 1 "$rc"
expect_contains "--prune without --force says why" "$out" "queue 'extra.full' in vhost '$vp' holds 10 messages: --prune deletes it only with --force"
expect_eq "--prune refused: nothing deleted" 200 \
  "$(curl -s -o /dev/null -w '%{http_code}' -u guest:guest "$RMQTOPO_API_URL/api/queues/$vp/extra.empty")"
out=$("$BIN" apply --yes --prune --force "$work/p.yaml" 2>&1); rc=$?
expect_eq "--prune --force: exit 0" 0 "$rc"
left=$(api GET "/queues/$vp?columns=name" | jget 'sorted(q["name"] for q in d)')
expect_eq "--prune --force: only the file's queue is left" '["keep.q"]' "$left"
expect_eq "--prune: the extra exchange is gone" 404 \
  "$(curl -s -o /dev/null -w '%{http_code}' -u guest:guest "$RMQTOPO_API_URL/api/exchanges/$vp/extra.x")"
expect_eq "--prune: the extra policy is gone" 404 \
  "$(curl -s -o /dev/null -w '%{http_code}' -u guest:guest "$RMQTOPO_API_URL/api/policies/$vp/extra.p")"
expect_eq "--prune: built-in exchanges stay" 200 \
  "$(curl -s -o /dev/null -w '%{http_code}' -u guest:guest "$RMQTOPO_API_URL/api/exchanges/$vp/amq.topic")"

# --- 7. exchange replace re-creates its bindings; JSON output ----------------------------------
api PUT "/queues/$vp/theirs" '{"durable":true}' >/dev/null
api POST "/bindings/$vp/e/keep/q/theirs" '{"routing_key":"t"}' >/dev/null
sed 's/keep: { type: fanout }/keep: { type: direct }/' "$work/p.yaml" > "$work/p2.yaml"
out=$("$BIN" -o json apply --yes "$work/p2.yaml" 2>/dev/null); rc=$?
expect_eq "exchange replace: exit 0" 0 "$rc"
expect_eq "exchange replace: JSON says 2 applied (replace + binding)" '2' "$(echo "$out" | jget 'd["applied"]')"
expect_eq "exchange replace: new type" '"direct"' "$(api GET "/exchanges/$vp/keep" | jget 'd["type"]')"
expect_eq "exchange replace: binding re-created" '1' "$(api GET "/bindings/$vp/e/keep/q/keep.q" | jget 'len(d)')"
expect_eq "exchange replace: an unmanaged binding is bound again (no --prune)" '1' "$(api GET "/bindings/$vp/e/keep/q/theirs" | jget 'len(d)')"

finish
