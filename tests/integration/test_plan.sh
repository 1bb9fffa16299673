#!/usr/bin/env bash
# plan against a real broker: a topology made through the management API (not by rmqtopo)
# plans as no changes; every kind of drift shows with the right action, fields and message
# count; nothing is deleted without --prune; bad credentials and an unreachable broker fail
# clearly; the password never appears in any output.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

vh=rmqtopo-it-plan-$$
vh2=rmqtopo-it-plan-new-$$
user=rmqtopo-it-user-$$
secret="S3cret-$$-pw"
work=$(mktemp -d)
cleanup() {
  api DELETE "/vhosts/$vh" >/dev/null 2>&1
  api DELETE "/vhosts/$vh2" >/dev/null 2>&1
  api DELETE "/users/$user" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

# --- the topology, made by hand through the management API ---------------------------------
api PUT "/vhosts/$vh" '{}' >/dev/null
api PUT "/exchanges/$vh/orders" '{"type":"topic","durable":true,"arguments":{"alternate-exchange":"orders.unrouted"}}' >/dev/null
api PUT "/exchanges/$vh/orders.unrouted" '{"type":"fanout","durable":true}' >/dev/null
api PUT "/exchanges/$vh/orders.dlx" '{"type":"topic","durable":true}' >/dev/null
api PUT "/queues/$vh/orders.placed" '{"durable":true,"arguments":{"x-queue-type":"quorum","x-dead-letter-exchange":"orders.dlx","x-message-ttl":60000}}' >/dev/null
api PUT "/queues/$vh/orders.dlq" '{"durable":true,"arguments":{"x-queue-type":"quorum","x-message-ttl":604800000}}' >/dev/null
api PUT "/queues/$vh/orders.audit" '{"durable":true,"arguments":{"x-max-length":1000}}' >/dev/null
api POST "/bindings/$vh/e/orders/q/orders.placed" '{"routing_key":"order.placed"}' >/dev/null
api POST "/bindings/$vh/e/orders.dlx/q/orders.dlq" '{"routing_key":"#"}' >/dev/null
api POST "/bindings/$vh/e/orders/q/orders.audit" '{"routing_key":"order.*"}' >/dev/null
api PUT "/policies/$vh/dlq-cap" '{"pattern":"\\.dlq$","apply-to":"queues","priority":1,"definition":{"max-length":1000}}' >/dev/null

cat > "$work/topology.yaml" <<YAML
version: 1
vhosts:
  $vh:
    exchanges:
      orders: { type: topic, alternate_exchange: orders.unrouted }
      orders.unrouted: { type: fanout }
      orders.dlx: { type: topic }
    queues:
      orders.placed:
        type: quorum
        message_ttl: 60s
        dead_letter_exchange: orders.dlx
        bind: [{ exchange: orders, routing_key: order.placed }]
      orders.dlq:
        type: quorum
        message_ttl: 7d
        bind: [{ exchange: orders.dlx, routing_key: "#" }]
      orders.audit:
        max_length: 1000
        bind: [{ exchange: orders, routing_key: "order.*" }]
    policies:
      dlq-cap:
        pattern: "\\\\.dlq\$"
        apply_to: queues
        priority: 1
        definition: { max-length: 1000 }
YAML

plan() { "$BIN" plan --no-color "$@"; }

out=$(plan "$work/topology.yaml" 2>&1); st=$?
expect_eq "made by hand, planned: no changes (exit 0)" 0 "$st"
expect_contains "no changes: the count line" "$out" "Plan: 0 to create, 0 to update, 0 to replace, 0 to delete (0 unmanaged)."

out=$(plan -o json "$work/topology.yaml" 2>/dev/null)
expect_contains "no changes: JSON summary" "$out" '"create": 0'

# --- drift ----------------------------------------------------------------------------------
# a missing binding
api DELETE "/bindings/$vh/e/orders/q/orders.audit/order.%2A" >/dev/null
out=$(plan "$work/topology.yaml" 2>&1); st=$?
expect_eq "missing binding: exit 2" 2 "$st"
expect_contains "missing binding: create" "$out" "+   binding 'orders' -> queue 'orders.audit' routing key 'order.*'"
api POST "/bindings/$vh/e/orders/q/orders.audit" '{"routing_key":"order.*"}' >/dev/null

# a changed policy
api PUT "/policies/$vh/dlq-cap" '{"pattern":"\\.dlq$","apply-to":"queues","priority":1,"definition":{"max-length":5000}}' >/dev/null
out=$(plan "$work/topology.yaml" 2>&1); st=$?
expect_eq "changed policy: exit 2" 2 "$st"
expect_contains "changed policy: update" "$out" "~   policy 'dlq-cap'"
expect_contains "changed policy: old -> new" "$out" "definition.max-length: 5000 -> 1000"
json=$(plan -o json "$work/topology.yaml" 2>/dev/null)
expect_contains "changed policy: JSON field" "$(echo "$json" | tr -d ' \n')" '"fields":[{"field":"definition.max-length","old":5000,"new":1000}]'
api PUT "/policies/$vh/dlq-cap" '{"pattern":"\\.dlq$","apply-to":"queues","priority":1,"definition":{"max-length":1000}}' >/dev/null

# a changed queue argument on a queue holding messages
for i in 1 2 3; do
  api POST "/exchanges/$vh/amq.default/publish" \
    "{\"properties\":{\"delivery_mode\":2},\"routing_key\":\"orders.audit\",\"payload\":\"m$i\",\"payload_encoding\":\"string\"}" >/dev/null
done
sed 's/max_length: 1000$/max_length: 2000/' "$work/topology.yaml" > "$work/changed-arg.yaml"
out=$(plan "$work/changed-arg.yaml" 2>&1); st=$?
expect_eq "changed argument: exit 2" 2 "$st"
expect_contains "changed argument: replace with message count" "$out" "-/+ queue 'orders.audit' (3 messages to migrate)"
expect_contains "changed argument: old -> new" "$out" "arguments.x-max-length: 1000 -> 2000"
json=$(plan -o json "$work/changed-arg.yaml" 2>/dev/null | tr -d ' \n')
expect_contains "changed argument: JSON messages" "$json" '"messages":3'
expect_contains "changed argument: JSON field" "$json" '{"field":"arguments.x-max-length","old":1000,"new":2000}'
expect_contains "changed argument: bindings re-created" "$out" "re-created: queue 'orders.audit' is replaced"

# an extra queue and an extra binding: unmanaged, reported, not changes
api PUT "/queues/$vh/legacy" '{"durable":true}' >/dev/null
api POST "/bindings/$vh/e/orders/q/legacy" '{"routing_key":"legacy.#"}' >/dev/null
out=$(plan "$work/topology.yaml" 2>&1); st=$?
expect_eq "unmanaged only: exit 0" 0 "$st"
expect_contains "unmanaged queue reported" "$out" "?   queue 'legacy' (not in the file)"
expect_contains "unmanaged binding reported" "$out" "?   binding 'orders' -> queue 'legacy' routing key 'legacy.#'"
expect_contains "unmanaged: counted apart" "$out" "(2 unmanaged)."
case $out in *"-   queue"*) fail "no delete without --prune" "$out" ;; *) pass "no delete without --prune" ;; esac
out=$(plan --prune "$work/topology.yaml" 2>&1); st=$?
expect_eq "--prune: deletes are changes (exit 2)" 2 "$st"
expect_contains "--prune: the queue is deleted" "$out" "-   queue 'legacy'"
expect_contains "--prune: count line" "$out" "0 to replace, 2 to delete (0 unmanaged)."

# a changed exchange type
sed 's/orders.unrouted: { type: fanout }/orders.unrouted: { type: direct }/' "$work/topology.yaml" > "$work/changed-type.yaml"
out=$(plan "$work/changed-type.yaml" 2>&1)
expect_contains "changed exchange type: replace" "$out" "-/+ exchange 'orders.unrouted'"
expect_contains "changed exchange type: old -> new" "$out" 'type: "fanout" -> "direct"'

# a vhost the broker lacks: created with everything in it
sed "s/^  $vh:/  $vh2:/" "$work/topology.yaml" > "$work/new-vhost.yaml"
out=$(plan "$work/new-vhost.yaml" 2>&1); st=$?
expect_eq "missing vhost: exit 2" 2 "$st"
expect_contains "missing vhost: created" "$out" "+   vhost '$vh2'"
expect_contains "missing vhost: with its objects" "$out" "Plan: 11 to create"

# --- several nodes: the first that answers is used ------------------------------------------
out=$(plan --api-url "http://127.0.0.1:1,$RMQTOPO_API_URL" "$work/topology.yaml" 2>&1); st=$?
expect_eq "failover: a dead first node is skipped (exit 0)" 0 "$st"
out=$(plan --api-url "http://127.0.0.1:1" --api-url "$RMQTOPO_API_URL" "$work/topology.yaml" 2>&1); st=$?
expect_eq "failover: repeated --api-url (exit 0)" 0 "$st"
# a node answering 503 is skipped too
port503=$(( 20000 + $$ % 10000 ))
python3 - "$port503" <<'PY' &
import http.server, sys, socketserver
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(503); self.send_header("content-type", "application/json"); self.end_headers()
        self.wfile.write(b'{"error":"unavailable","reason":"node is booting"}')
    def log_message(self, *a): pass
socketserver.TCPServer.allow_reuse_address = True
with socketserver.TCPServer(("127.0.0.1", int(sys.argv[1])), H) as s:
    s.timeout = 30
    for _ in range(40): s.handle_request()
PY
srv=$!
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port503") 2>/dev/null && break; sleep 0.2; done
out=$(plan --api-url "http://127.0.0.1:$port503,$RMQTOPO_API_URL" "$work/topology.yaml" 2>&1); st=$?
expect_eq "failover: a node answering 503 is skipped (exit 0)" 0 "$st"
out=$(plan --api-url "http://127.0.0.1:$port503" --timeout 5 "$work/topology.yaml" 2>&1); st=$?
expect_eq "only a 503 node: exit 1" 1 "$st"
expect_contains "only a 503 node: the broker's reason" "$out" "node is booting"
kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null

# --- failures -------------------------------------------------------------------------------
# reading a vhost's definitions takes the administrator tag
api PUT "/users/$user" "{\"password\":\"$secret\",\"tags\":\"administrator\"}" >/dev/null
api PUT "/permissions/$vh/$user" '{"configure":".*","write":".*","read":".*"}' >/dev/null
all_output=""
out=$(RMQTOPO_USER=$user RMQTOPO_PASSWORD=wrong-$secret "$BIN" plan "$work/topology.yaml" 2>&1); st=$?
all_output+=$out
expect_eq "bad credentials: exit 1" 1 "$st"
expect_contains "bad credentials: says so" "$out" "authentication failed for user '$user'"
out=$(RMQTOPO_USER=$user RMQTOPO_PASSWORD=$secret "$BIN" plan "$work/topology.yaml" 2>&1); st=$?
all_output+=$out
expect_eq "own user with permissions: plans (exit 0)" 0 "$st"
echo "$secret" > "$work/pw"
out=$("$BIN" plan --user "$user" --password-file "$work/pw" -o json "$work/topology.yaml" 2>&1); st=$?
all_output+=$out
expect_eq "--password-file: plans (exit 0)" 0 "$st"
out=$("$BIN" plan --api-url "http://$user:$secret@localhost:1" "$work/topology.yaml" 2>&1); st=$?
all_output+=$out
expect_eq "password in --api-url: usage error (64)" 64 "$st"
out=$(RMQTOPO_API_URL="http://$user:$secret@127.0.0.1:1" "$BIN" plan --connect-timeout 2 "$work/topology.yaml" 2>&1); st=$?
all_output+=$out
expect_eq "unreachable broker: exit 1" 1 "$st"
expect_contains "unreachable broker (nothing listens on port 1): says refused" "$out" "connection refused: nothing listens at http://127.0.0.1:1"
host=${RMQTOPO_API_URL#http://}
out=$(RMQTOPO_API_URL="http://$user:$secret@$host" "$BIN" -v plan -o json "$work/topology.yaml" 2>&1); st=$?
all_output+=$out
expect_eq "credentials in the URL from the environment, --verbose: plans (exit 0)" 0 "$st"
expect_contains "--verbose: shows the requests" "$out" "GET http://$host/api/overview as user '$user'"
case $all_output in
  *"$secret"*) fail "the password never appears in any output" "$all_output" ;;
  *) pass "the password never appears in any output" ;;
esac
out=$("$BIN" plan --password-file "$work/missing" "$work/topology.yaml" 2>&1); st=$?
expect_eq "unreadable password file: exit 1" 1 "$st"
expect_contains "unreadable password file: says so" "$out" "cannot read the password file"

# memory: the prefetch thread, the live reader and the diff under valgrind
if command -v valgrind >/dev/null; then
  valgrind -q --error-exitcode=3 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    "$BIN" plan --prune "$work/changed-arg.yaml" >/dev/null 2>"$work/vg"; st=$?
  if [ "$st" -eq 2 ]; then pass "valgrind: plan is clean"; else fail "valgrind: plan is clean" "exit $st" "$(tail -20 "$work/vg")"; fi
fi

finish
