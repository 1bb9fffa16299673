#!/usr/bin/env bash
# export against a real broker: a non-trivial topology made through the management API (odd
# names, every kind of argument, exchange-to-exchange and headers bindings, policies) is
# exported, and planning the export against the same broker shows no changes.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

vh="rmqtopo it/export $$"
vhe=$(printf '%s' "$vh" | sed 's/ /%20/g; s#/#%2F#g')
work=$(mktemp -d)
trap 'api DELETE "/vhosts/$vhe" >/dev/null 2>&1; rm -rf "$work"' EXIT

api PUT "/vhosts/$vhe" '{}' >/dev/null
x() { api PUT "/exchanges/$vhe/$1" "$2" >/dev/null; }
q() { api PUT "/queues/$vhe/$1" "$2" >/dev/null; }
b() { api POST "/bindings/$vhe/e/$1/$2/$3" "$4" >/dev/null; }
x events '{"type":"topic","durable":true,"arguments":{"alternate-exchange":"unrouted"}}'
x unrouted '{"type":"fanout","durable":true}'
x internal.bus '{"type":"direct","durable":true,"internal":true}'
x temp.x '{"type":"fanout","durable":false,"auto_delete":true}'
x routing.h '{"type":"headers","durable":true}'
x odd%20name%20%22q%22 '{"type":"topic","durable":true,"arguments":{"x-custom":"v"}}'
q work '{"durable":true,"arguments":{"x-queue-type":"quorum","x-message-ttl":60000,"x-delivery-limit":5,"x-dead-letter-exchange":"events","x-dead-letter-routing-key":"dead","x-dead-letter-strategy":"at-least-once","x-overflow":"reject-publish","x-max-length-bytes":1073741824,"x-single-active-consumer":true,"x-quorum-initial-group-size":1}}'
q prio '{"durable":true,"arguments":{"x-max-priority":10,"x-expires":3600000,"x-max-length":77,"x-foo":"bar","x-weird-float":1.5}}'
q log '{"durable":true,"arguments":{"x-queue-type":"stream","x-max-age":"168h","x-max-length-bytes":20000000000}}'
q log7 '{"durable":true,"arguments":{"x-queue-type":"stream","x-max-age":"7D"}}'
q 'trans%20ient' '{"durable":false,"auto_delete":true}'
q '%24%7BHOME%7D' '{"durable":true}'
b events q work '{"routing_key":"work.#"}'
b events q prio '{"routing_key":"${NOT_A_VAR}"}'
b events e internal.bus '{"routing_key":"to.bus","arguments":{"k":1}}'
b routing.h q log '{"routing_key":"","arguments":{"x-match":"any","a":"1","b":2}}'
b unrouted q log7 '{"routing_key":""}'
b odd%20name%20%22q%22 q '%24%7BHOME%7D' '{"routing_key":"yes"}'
api PUT "/policies/$vhe/caps" '{"pattern":"^prio$","apply-to":"queues","priority":3,"definition":{"max-length":1000,"overflow":"reject-publish"}}' >/dev/null
api PUT "/policies/$vhe/ae" '{"pattern":"^temp","apply-to":"exchanges","definition":{"alternate-exchange":"unrouted"}}' >/dev/null

out=$("$BIN" export --vhost "$vh" 2>"$work/err"); st=$?
expect_eq "export: exit 0" 0 "$st"
printf '%s\n' "$out" > "$work/exported.yaml"
expect_contains "export: header names the broker" "$out" "# exported by rmqtopo"
expect_contains "export: first-class fields" "$out" "delivery_limit: 5"
expect_contains "export: a duration in its unit" "$out" "message_ttl: 1m"
expect_contains "export: a size in its unit" "$out" "max_length_bytes: 1GiB"
expect_contains "export: a non-canonical max age stays raw" "$out" 'x-max-age: "168h"'
expect_contains "export: a canonical max age is first-class" "$out" "max_age: 7D"
expect_contains "export: \${ is escaped" "$out" '"$${HOME}"'
expect_contains "export: bindings under their queue" "$out" "- { exchange: events, routing_key: \"work.#\" }"

"$BIN" validate "$work/exported.yaml" >"$work/validate.out" 2>&1; st=$?
expect_eq "the export validates" 0 "$st"
[ "$st" -eq 0 ] || cat "$work/validate.out"

plan=$("$BIN" plan --no-color "$work/exported.yaml" 2>&1); st=$?
expect_eq "plan of the export: no changes (exit 0)" 0 "$st"
expect_contains "plan of the export: nothing at all" "$plan" "Plan: 0 to create, 0 to update, 0 to replace, 0 to delete (0 unmanaged)."
[ "$st" -eq 0 ] || { echo "--- exported"; cat "$work/exported.yaml"; echo "--- plan"; echo "$plan"; }

out=$("$BIN" export --vhost "no-such-vhost-$$" 2>&1); st=$?
expect_eq "export of a missing vhost: exit 1" 1 "$st"
expect_contains "export of a missing vhost: says so" "$out" "vhost 'no-such-vhost-$$' does not exist"
finish
