#!/usr/bin/env bash
# rmqtopo publish (issue 17) against a real broker: a message with body, message_id, string
# headers, content type and a per-message TTL arrives with exactly those properties; messages
# with a short --ttl expire and are dead-lettered (reason expired) while ones without stay;
# --count N gives N distinct ids; --body-file keeps binary bytes; a message no queue takes is
# returned (exit 1), a missing target refuses before publishing, bad options are usage errors.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
MSGTOOL=${MSGTOOL:-$(dirname "$BIN")/tests/msgtool}

v=rmqtopo-it-pub-$$
work=$(mktemp -d)
cleanup() {
  api DELETE "/vhosts/$v" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print(json.dumps(eval(sys.argv[1])))" "$1"; }
count() { "$MSGTOOL" dump "$v" "$1" | wc -l | tr -d ' '; }
# the messages of a queue through the management API, given back (base64 payloads)
peek() { api POST "/queues/$v/$1/get" '{"count":'"${2:-10}"',"ackmode":"ack_requeue_true","encoding":"base64"}'; }

api PUT "/vhosts/$v" >/dev/null
api PUT "/exchanges/$v/dlx" '{"type":"fanout","durable":true}' >/dev/null
api PUT "/exchanges/$v/ex" '{"type":"direct","durable":true}' >/dev/null
api PUT "/queues/$v/work" '{"durable":true,"arguments":{"x-dead-letter-exchange":"dlx"}}' >/dev/null
api PUT "/queues/$v/exp" '{"durable":true,"arguments":{"x-dead-letter-exchange":"dlx"}}' >/dev/null
api PUT "/queues/$v/dead" '{"durable":true}' >/dev/null
api PUT "/queues/$v/plain" '{"durable":true}' >/dev/null
api POST "/bindings/$v/e/dlx/q/dead" '{"routing_key":""}' >/dev/null
api POST "/bindings/$v/e/ex/q/plain" '{"routing_key":"k"}' >/dev/null

# --- 1. one message, every property ----------------------------------------------------------
out=$("$BIN" publish "$v" --queue plain --body 'hello {"a":1}' --message-id one --header tenant=acme \
  --header x-note='a=b' --content-type application/json --ttl 600000 2>&1); rc=$?
expect_eq "publish one: exit 0" 0 "$rc"
expect_contains "publish one: says it was confirmed" "$out" "published 1 message(s) to queue 'plain' in vhost '$v': 1 confirmed"
expect_eq "publish one: body, message_id, headers, content type, expiration, persistent" \
  '["hello {\"a\":1}", "one", {"tenant": "acme", "x-note": "a=b"}, "application/json", "600000", 2]' \
  "$(peek plain 1 | jget '[__import__("base64").b64decode(d[0]["payload"]).decode()] + [d[0]["properties"][k] for k in ("message_id", "headers", "content_type", "expiration", "delivery_mode")]' 2>&1 | tr -d '\n')"
api DELETE "/queues/$v/plain/contents" >/dev/null

# --- 2. a per-message TTL dead-letters; messages without one stay -----------------------------
"$BIN" publish "$v" --queue work --count 3 --message-id keep >/dev/null 2>&1
out=$("$BIN" publish "$v" --queue exp --count 5 --message-id short --ttl 1 -o json 2>/dev/null); rc=$?
expect_eq "publish --ttl 1 --count 5 -o json: exit 0, 5 confirmed, none returned" '0 5 0 true' \
  "$rc $(echo "$out" | jget 'd["confirmed"]') $(echo "$out" | jget 'd["returned"]') $(echo "$out" | jget 'd["ok"]')"
for _ in $(seq 100); do [ "$(count dead)" = 5 ] && break; sleep 0.2; done
expect_eq "--ttl: the 5 expired into the DLQ from their queue, reason expired; the 3 without a TTL stay" \
  '5 ["exp"] ["expired"] 0 3' \
  "$(count dead) $(peek dead 10 | jget 'sorted({m["properties"]["headers"]["x-death"][0]["queue"] for m in d})') $(peek dead 10 | jget 'sorted({m["properties"]["headers"]["x-death"][0]["reason"] for m in d})') $(count exp) $(count work)"
expect_eq "--count 5 --message-id short: ids short-1 .. short-5" 'short-1 short-2 short-3 short-4 short-5' \
  "$("$MSGTOOL" dump "$v" dead | cut -d' ' -f1 | sort | tr '\n' ' ' | sed 's/ $//')"

# --- 3. many messages, distinct ids; a binary body file ---------------------------------------
out=$("$BIN" publish "$v" --exchange ex --routing-key k --count 2000 --message-id b 2>&1); rc=$?
expect_eq "publish --exchange --count 2000: exit 0" 0 "$rc"
expect_eq "publish --count 2000: 2000 messages, 2000 distinct ids" '2000 2000' \
  "$(count plain) $("$MSGTOOL" dump "$v" plain | cut -d' ' -f1 | sort -u | wc -l | tr -d ' ')"
api DELETE "/queues/$v/plain/contents" >/dev/null
head -c 3000 /dev/urandom > "$work/bin"
printf '\000\377' >> "$work/bin"
"$BIN" publish "$v" --queue plain --body-file "$work/bin" >/dev/null 2>&1
expect_eq "--body-file: the bytes arrive unchanged" "$(base64 -w0 < "$work/bin")" \
  "$(peek plain 1 | jget 'd[0]["payload"]' | tr -d '"')"

# --- 4. failures ------------------------------------------------------------------------------
out=$("$BIN" publish "$v" --exchange ex --routing-key nowhere 2>&1); rc=$?
expect_eq "a message no queue takes: exit 1" 1 "$rc"
expect_contains "a message no queue takes: says it was returned" "$out" "the broker returned 1 message(s) as unroutable (312 NO_ROUTE)"
out=$("$BIN" publish "$v" --queue missing 2>&1); rc=$?
expect_eq "a missing queue: exit 1" 1 "$rc"
expect_contains "a missing queue: says so" "$out" "queue 'missing' does not exist in vhost '$v': nothing was published"
"$BIN" publish "$v" --queue plain --exchange ex >/dev/null 2>&1
expect_eq "--queue and --exchange: usage error" 64 "$?"
"$BIN" publish "$v" --queue plain --ttl 5s >/dev/null 2>&1
expect_eq "--ttl 5s: usage error (milliseconds)" 64 "$?"
"$BIN" publish "$v" --queue plain --header novalue >/dev/null 2>&1
expect_eq "--header without '=': usage error" 64 "$?"
"$BIN" publish "$v" --queue plain --count 0 >/dev/null 2>&1
expect_eq "--count 0: usage error" 64 "$?"

finish
