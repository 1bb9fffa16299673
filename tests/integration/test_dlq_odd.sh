#!/usr/bin/env bash
# Odd messages and odd brokers against the safe mover (dlq replay and restore), counting
# message ids before and after (sent, found, duplicates, lost = 0):
# - a routing key with a NUL byte, whose publish the broker returns (--to-origin after the
#   binding went away): nothing acknowledged, then sent home once the binding is back;
# - records with a BCC header restored where the broker returns them (it strips BCC from the
#   returned copy): nothing counted as restored;
# - a user_id the connecting user may not set: held and named, no copies on re-runs;
# - a publish the broker refuses by closing the channel (message size above max_message_size):
#   found by publishing one at a time, left in the queue, everything else moved, duplicates
#   bounded by one window and none on a re-run;
# - a header table with an empty key, which rabbitmq-c cannot decode: named, nothing lost;
# - a target that returns messages for a while: every message moved or left, at its rate.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
tools=$(dirname "$BIN")/tests
MSGTOOL=${MSGTOOL:-$tools/msgtool}
ODDTOOL=${ODDTOOL:-$tools/oddtool}

V=rmqtopo-it-odd-$$
user=rmqtopo-odd-$$
work=$(mktemp -d)
cleanup() {
  api DELETE "/vhosts/$V" >/dev/null 2>&1
  api DELETE "/users/$user" >/dev/null 2>&1
  "$BROKER_CTL" eval 'application:set_env(rabbit, max_message_size, 134217728).' >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
ids() { "$MSGTOOL" dump "$V" "$1" | awk '{print $1}' | sort; }
# exact message count (ready + unacknowledged) from the node itself
depth() { "$BROKER_CTL" list_queues -p "$V" name messages 2>/dev/null | awk -v q="$1" '$1 == q {print $2}'; }
queue() { api PUT "/queues/$V/$1" "${2:-{\"durable\":true\}}" >/dev/null; }
jfield() { python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }

api PUT "/vhosts/$V" >/dev/null
api PUT "/permissions/$V/guest" '{"configure":".*","write":".*","read":".*"}' >/dev/null
api PUT "/exchanges/$V/work" '{"type":"direct","durable":true}' >/dev/null
api PUT "/exchanges/$V/dlx" '{"type":"fanout","durable":true}' >/dev/null

# --- 1. a routing key with a NUL byte -----------------------------------------------------
queue home '{"durable":true,"arguments":{"x-dead-letter-exchange":"dlx"}}'
queue dead
api POST "/bindings/$V/e/dlx/q/dead" '{"routing_key":""}' >/dev/null
"$ODDTOOL" bind "$V" home work 6b007a
"$ODDTOOL" publish "$V" work 6b007a 100 nul
"$MSGTOOL" reject "$V" home 100
ids dead >"$work/nul.sent"
expect_eq "NUL key: 100 messages dead-lettered" 100 "$(wc -l <"$work/nul.sent" | tr -d ' ')"
"$ODDTOOL" unbind "$V" home work 6b007a
out=$("$BIN" dlq replay --vhost "$V" dead --to-origin -o json 2>"$work/err")
rc=$?
expect_eq "NUL key, binding gone: replay exits 1" 1 "$rc"
expect_eq "NUL key, binding gone: 100 returned" 100 "$(echo "$out" | jfield returned)"
expect_eq "NUL key, binding gone: 0 counted as moved" 0 "$(echo "$out" | jfield moved)"
expect_eq "NUL key, binding gone: every id still in the DLQ" "$(cat "$work/nul.sent")" "$(ids dead)"
"$ODDTOOL" bind "$V" home work 6b007a
"$BIN" dlq replay --vhost "$V" dead --to-origin >/dev/null 2>&1
expect_eq "NUL key, binding back: replay exits 0" 0 $?
expect_eq "NUL key, binding back: all 100 home by their key, none twice" \
  "$(cat "$work/nul.sent")" "$(ids home)"
expect_eq "NUL key: the DLQ is empty" 0 "$(depth dead)"

# --- 2. restore of records with a BCC header, returned by the broker ---------------------
# The broker drops BCC when it routes a message, so such records come from elsewhere: a
# version-1 archive written here, each record with a BCC header.
api PUT "/exchanges/$V/nowhere" '{"type":"direct","durable":true}' >/dev/null
python3 - "$V" >"$work/bcc.jsonl" <<'PY'
import base64, hashlib, json, sys
print(json.dumps({"format": "rmqtopo-archive", "version": 1, "vhost": sys.argv[1],
                  "queue": "bccsrc", "broker": "3.10.8", "created": "2026-12-06T00:00:00Z",
                  "copy": False}))
for i in range(10):
    body = ("body of bcc-%d" % i).encode()
    print(json.dumps({"exchange": "", "routing_key": "bccsrc", "redelivered": False,
                      "delivery_counters": {}, "death": None,
                      "properties": {"delivery_mode": 2, "message_id": "bcc-%d" % i},
                      "headers": {"BCC": {"type": "array",
                                          "value": [{"type": "string", "value": "elsewhere"}]}},
                      "body_size": len(body), "body_sha256": hashlib.sha256(body).hexdigest(),
                      "body": base64.b64encode(body).decode()}))
PY
out=$("$BIN" dlq restore "$work/bcc.jsonl" --to-exchange nowhere --routing-key x -o json 2>"$work/err")
rc=$?
expect_eq "BCC: a restore the broker returns exits 1" 1 "$rc"
expect_contains "BCC: the return is reported" "$(cat "$work/err")" "returned a message"
expect_eq "BCC: nothing counted as restored" 0 "$(echo "$out" | jfield published)"
expect_eq "BCC: resume from the first record" 0 "$(echo "$out" | jfield resume_skip)"
queue bccdest
api POST "/bindings/$V/e/nowhere/q/bccdest" '{"routing_key":"x"}' >/dev/null
"$BIN" dlq restore "$work/bcc.jsonl" --to-exchange nowhere --routing-key x >/dev/null 2>&1
expect_eq "BCC: restored once routed: exits 0" 0 $?
expect_eq "BCC: all 10 at the target" "$(printf 'bcc-%s\n' 0 1 2 3 4 5 6 7 8 9 | sort)" "$(ids bccdest)"

# --- 3. a user_id the connecting user may not set ----------------------------------------
api PUT "/users/$user" '{"password":"odd-secret-pw","tags":"administrator"}' >/dev/null
api PUT "/permissions/$V/$user" '{"configure":".*","write":".*","read":".*"}' >/dev/null
queue uq
queue uqt
"$ODDTOOL" publish "$V" "" "$(hex uq)" 10 ua
ODD_USER_ID=guest "$ODDTOOL" publish "$V" "" "$(hex uq)" 1 uguest
"$ODDTOOL" publish "$V" "" "$(hex uq)" 10 ub
ids uq >"$work/uq.sent"
for run in 1 2 3; do
  out=$(RMQTOPO_USER=$user RMQTOPO_PASSWORD=odd-secret-pw "$BIN" dlq replay --vhost "$V" uq \
    --to-queue uqt -o json 2>"$work/err")
  rc=$?
  expect_eq "user_id, run $run: exits 1 (one message refused)" 1 "$rc"
  expect_eq "user_id, run $run: 1 refused" 1 "$(echo "$out" | jfield refused)"
  expect_contains "user_id, run $run: the message is named, with the reason" "$(cat "$work/err")" \
    "message_id 'uguest-0') is not published: its user_id property is 'guest'"
done
expect_eq "user_id: the refused message stays in the DLQ" "uguest-0" "$(ids uq)"
expect_eq "user_id: 20 at the target, none twice after 3 runs" \
  "$(grep -v uguest "$work/uq.sent")" "$(ids uqt)"

# --- 4. a publish the broker refuses by closing the channel ------------------------------
queue big
queue bigt
"$MSGTOOL" publish "$V" big 3000 sa
MSGTOOL_SIZE=5000 "$MSGTOOL" publish "$V" big 1 huge
"$MSGTOOL" publish "$V" big 3000 sb
ids big >"$work/big.sent"
"$BROKER_CTL" eval 'application:set_env(rabbit, max_message_size, 4000).' >/dev/null
out=$("$BIN" dlq replay --vhost "$V" big --to-queue bigt -o json 2>"$work/err")
rc=$?
expect_eq "channel closed: replay exits 1" 1 "$rc"
expect_eq "channel closed: the refused message is found" 1 "$(echo "$out" | jfield refused)"
expect_eq "channel closed: every other message moved" 6000 "$(echo "$out" | jfield moved)"
expect_contains "channel closed: named with the broker's reason" "$(cat "$work/err")" \
  "message_id 'huge-0') is not published: publish: 406 PRECONDITION_FAILED - message size"
expect_eq "channel closed: only it stays in the DLQ" "huge-0" "$(ids big)"
ids bigt | uniq >"$work/big.found"
expect_eq "channel closed: no id lost" "$(grep -v huge "$work/big.sent")" "$(cat "$work/big.found")"
dups=$(($(ids bigt | wc -l) - $(wc -l <"$work/big.found")))
before=$(ids bigt | wc -l)
unconfirmed=$(echo "$out" | jfield unconfirmed)
if [ "$dups" -le "$unconfirmed" ] && [ "$unconfirmed" -le 2048 ]; then
  pass "channel closed: duplicates ($dups) within the unconfirmed it reports ($unconfirmed)"
else
  fail "channel closed: duplicates ($dups) within the unconfirmed it reports ($unconfirmed)"
fi
"$BIN" dlq replay --vhost "$V" big --to-queue bigt >/dev/null 2>&1
expect_eq "channel closed, re-run: no new copy at the target" "$before" "$(ids bigt | wc -l)"
"$BROKER_CTL" eval 'application:set_env(rabbit, max_message_size, 134217728).' >/dev/null

# --- 5. a header table with an empty key -------------------------------------------------
queue ek
queue ekt
"$ODDTOOL" publish "$V" "" "$(hex ek)" 5 ea
ODD_EMPTY_KEY=1 "$ODDTOOL" publish "$V" "" "$(hex ek)" 1 eempty
"$ODDTOOL" publish "$V" "" "$(hex ek)" 5 eb
"$BIN" dlq replay --vhost "$V" ek --to-queue ekt >"$work/out" 2>"$work/err"
expect_eq "empty key: replay exits 1" 1 $?
expect_contains "empty key: the message is named" "$(cat "$work/err")" \
  "message 6 read from queue 'ek' (delivery tag 6, exchange '', routing key 'ek') cannot be decoded"
expect_contains "empty key: the way past it is given" "$(cat "$work/err")" "shovel"
expect_eq "empty key: the 5 before it moved" "$(printf 'ea-%s\n' 0 1 2 3 4)" "$(ids ekt)"
expect_eq "empty key: it and the 5 behind it stay" 6 "$(depth ek)"
"$BIN" dlq inspect --vhost "$V" ek >/dev/null 2>"$work/err"
expect_eq "empty key: inspect exits 1" 1 $?
expect_contains "empty key: inspect names it" "$(cat "$work/err")" "message 1 read from queue 'ek'"
"$BIN" dlq archive --vhost "$V" ek --file "$work/ek.jsonl" >/dev/null 2>"$work/err"
expect_eq "empty key: archive exits 1" 1 $?
expect_eq "empty key: archive took nothing" 6 "$(depth ek)"

# --- 6. a target that returns messages for a while ---------------------------------------
queue flap
queue flapt
api PUT "/exchanges/$V/fx" '{"type":"direct","durable":true}' >/dev/null
api POST "/bindings/$V/e/fx/q/flapt" '{"routing_key":"k"}' >/dev/null
"$MSGTOOL" publish "$V" flap 6000 fl
ids flap >"$work/flap.sent"
# 6 s at --rate 1000: the binding goes away 1 s in and comes back 1.5 s later, well inside the
# run even when the machine is loaded
(
  sleep 1
  api DELETE "/bindings/$V/e/fx/q/flapt/k" >/dev/null
  sleep 1.5
  api POST "/bindings/$V/e/fx/q/flapt" '{"routing_key":"k"}' >/dev/null
) &
out=$("$BIN" dlq replay --vhost "$V" flap --to-exchange fx --routing-key k --rate 1000 -o json 2>"$work/err")
wait
moved=$(echo "$out" | jfield moved)
returned=$(echo "$out" | jfield returned)
expect_eq "flapping target: every message moved or returned" 6000 $((moved + returned))
expect_eq "flapping target: nothing left unhandled" 0 "$(echo "$out" | jfield left)"
if [ "$returned" -gt 0 ] && [ "$moved" -gt 0 ]; then
  pass "flapping target: some returned ($returned), some moved ($moved)"
else
  fail "flapping target: some returned ($returned), some moved ($moved)"
fi
expect_eq "flapping target: moved + left = sent, none twice" "$(cat "$work/flap.sent")" \
  "$( (ids flap; ids flapt) | sort)"

finish
