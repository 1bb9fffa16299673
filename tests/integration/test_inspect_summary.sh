#!/usr/bin/env bash
# dlq inspect --summary (issue 17) against a real broker: 21,500 messages in four groups
# (rejected in two queues, expired in a third, and some that never died): the group table
# counts every one exactly, in text and JSON, prints no message, and takes nothing (the queue
# holds the same ids after); a quorum queue is not read without --read-quorum (dlq status's
# rule), and with it the counts are exact too; --limit does not go with --summary.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
MSGTOOL=${MSGTOOL:-$(dirname "$BIN")/tests/msgtool}

v=rmqtopo-it-insum-$$
work=$(mktemp -d)
cleanup() {
  api DELETE "/vhosts/$v" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print(json.dumps(eval(sys.argv[1])))" "$1"; }
count() { "$MSGTOOL" dump "$v" "$1" | wc -l | tr -d ' '; }

cat > "$work/t.yaml" <<YAML
version: 1
vhosts:
  $v:
    exchanges:
      work: { type: direct }
      dlx: { type: fanout }
      dlxq: { type: fanout }
    queues:
      pay:
        dead_letter_exchange: dlx
        bind: [{ exchange: work, routing_key: pay }]
      ship:
        dead_letter_exchange: dlx
        bind: [{ exchange: work, routing_key: ship }]
      mail:
        message_ttl: 1ms
        dead_letter_exchange: dlx
        bind: [{ exchange: work, routing_key: mail }]
      audit:
        dead_letter_exchange: dlxq
        bind: [{ exchange: work, routing_key: audit }]
      dead:
        bind: [{ exchange: dlx }]
      dead.q:
        type: quorum
        initial_group_size: 1
        bind: [{ exchange: dlxq }]
YAML
"$BIN" apply --yes "$work/t.yaml" >/dev/null 2>&1 || echo "setup: apply failed"

MSGTOOL_EXCHANGE=work "$MSGTOOL" publish "$v" pay 12000 p
MSGTOOL_EXCHANGE=work "$MSGTOOL" publish "$v" ship 6000 s
MSGTOOL_EXCHANGE=work "$MSGTOOL" publish "$v" mail 3000 m
"$MSGTOOL" publish "$v" dead 500 n
"$MSGTOOL" reject "$v" pay 12000
"$MSGTOOL" reject "$v" ship 6000
for _ in $(seq 100); do [ "$(count dead)" = 21500 ] && break; sleep 0.3; done
expect_eq "setup: 21500 messages in the DLQ" 21500 "$(count dead)"
"$MSGTOOL" dump "$v" dead | cut -d' ' -f1 | sort > "$work/before"

out=$("$BIN" dlq inspect dead --vhost "$v" --summary -o json 2>"$work/err"); rc=$?
expect_eq "--summary -o json: exit 0, every message read (21500 of 21500)" '0 21500 21500' \
  "$rc $(echo "$out" | jget 'd["read"]') $(echo "$out" | jget 'd["snapshot"]')"
expect_eq "--summary -o json: the groups, counted exactly" \
  '[["pay", "rejected", 12000], ["ship", "rejected", 6000], ["mail", "expired", 3000], [null, null, 500]]' \
  "$(echo "$out" | jget '[[g["queue"], g["reason"], g["count"]] for g in d["groups"]]')"
expect_eq "--summary -o json: names the broker (version)" "$(api GET /overview | jq .rabbitmq_version)" \
  "$(echo "$out" | jget 'd["broker"]["version"]')"
expect_eq "--summary -o json: no messages, first and last death times" 'false true' \
  "$(echo "$out" | jget '"messages" in d') $(echo "$out" | jget 'all(g["first_death"] <= g["last_death"] for g in d["groups"][:3])')"
expect_eq "--summary: nothing taken (the same 21500 ids after)" "$(md5sum < "$work/before")" \
  "$("$MSGTOOL" dump "$v" dead | cut -d' ' -f1 | sort | md5sum)"

out=$("$BIN" dlq inspect dead --vhost "$v" --summary 2>&1); rc=$?
expect_eq "--summary text: exit 0" 0 "$rc"
expect_contains "--summary text: the broker line" "$out" "broker: $RMQTOPO_API_URL"
expect_contains "--summary text: the pay group" "$out" "pay                      rejected          12000"
expect_contains "--summary text: the never-died group" "$out" "(no x-death)             -                   500"
expect_contains "--summary text: says every message was read" "$out" "21500 of 21500 ready message(s) read, every one counted; nothing was taken"
expect_eq "--summary text: only the group table (no message line)" 0 "$(echo "$out" | grep -c -E '^(p|s|m|n)-[0-9]')"

out=$("$BIN" dlq inspect dead --vhost "$v" --summary --limit 5 2>&1); rc=$?
expect_eq "--summary with --limit: usage error (64)" 64 "$rc"

# a quorum DLQ: 300 dead-lettered from audit
MSGTOOL_EXCHANGE=work "$MSGTOOL" publish "$v" audit 300 a
"$MSGTOOL" reject "$v" audit 300
for _ in $(seq 100); do [ "$(count dead.q)" = 300 ] && break; sleep 0.3; done
out=$("$BIN" dlq inspect dead.q --vhost "$v" --summary 2>&1); rc=$?
expect_eq "--summary of a quorum queue: refused (exit 1), nothing read" 1 "$rc"
expect_contains "--summary of a quorum queue: says why and how" "$out" "it is a quorum queue: a summary reads every message, and every read raises its x-delivery-count"
expect_contains "--summary of a quorum queue: names --read-quorum" "$out" "Give --read-quorum to read its 300 message(s) anyway"
out=$("$BIN" dlq inspect dead.q --vhost "$v" --summary --read-quorum -o json 2>"$work/qerr"); rc=$?
expect_eq "--summary --read-quorum: exit 0, 300 in one group" '0 [["audit", "rejected", 300]]' \
  "$rc $(echo "$out" | jget '[[g["queue"], g["reason"], g["count"]] for g in d["groups"]]')"
expect_contains "--summary --read-quorum: warns about the delivery count" "$(cat "$work/qerr")" "x-delivery-count"
expect_eq "--summary --read-quorum: nothing taken" 300 "$(count dead.q)"

finish
