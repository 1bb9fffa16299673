#!/usr/bin/env bash
# dlq inspect and dlq replay against a real broker, with messages that really died: rejected
# by a consumer, expired by a TTL, pushed out by max-length, in classic and quorum dead-letter
# queues, with headers of many AMQP types. inspect reports origins, reasons and groups and
# leaves the queue as it was; replay sends messages home (or elsewhere) byte- and
# type-identical apart from the death and replay-count headers, leaves what the filters do
# not select in order, keeps what cannot be routed, and loses nothing when it is killed or its
# connections are closed (message ids counted).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
MSGTOOL=${MSGTOOL:-$(dirname "$BIN")/tests/msgtool}

vc=rmqtopo-it-dlq-$$
vq=rmqtopo-it-dlqq-$$
vk=rmqtopo-it-dlqk-$$
work=$(mktemp -d)
cleanup() {
  for v in "$vc" "$vq" "$vk"; do api DELETE "/vhosts/$v" >/dev/null 2>&1; done
  rm -rf "$work"
}
trap cleanup EXIT

jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print(json.dumps(eval(sys.argv[1])))" "$1"; }
ready() { api GET "/queues/$1/$2" | jget 'd.get("messages_ready", -1)'; }
# exact ready count (AMQP passive declare, through msgtool dump)
count() { "$MSGTOOL" dump "$1" "$2" | wc -l | tr -d ' '; }
purge() { api DELETE "/queues/$1/$2/contents" >/dev/null; }

# topology: a work exchange, queues that dead-letter into one dead-letter queue 'dead'
topology() { # VHOST DLQ_TYPE
  cat <<YAML
version: 1
vhosts:
  $1:
    exchanges:
      work: { type: direct }
      dlx: { type: fanout }
    queues:
      work.a:
        dead_letter_exchange: dlx
        bind: [{ exchange: work, routing_key: a }]
      work.q:
        type: quorum
        initial_group_size: 1
        dead_letter_exchange: dlx
        bind: [{ exchange: work, routing_key: q }]
      work.q2:
        bind: [{ exchange: work, routing_key: q }]
      work.ttl:
        message_ttl: 1s
        dead_letter_exchange: dlx
        bind: [{ exchange: work, routing_key: t }]
      work.short:
        max_length: 2
        dead_letter_exchange: dlx
        bind: [{ exchange: work, routing_key: s }]
      ref.a: {}
      side:
        bind: [{ exchange: work, routing_key: side }]
      parked: {}
      other: {}
      dead:
        type: $2
$( [ "$2" = quorum ] && echo "        initial_group_size: 1" )
        bind: [{ exchange: dlx }]
YAML
}

# fill VHOST: 20 rejected from work.a, 10 rejected from work.q, 5 expired in work.ttl, 4
# pushed out of work.short; ref.a holds copies of what went into work.a
fill() {
  MSGTOOL_EXCHANGE=work "$MSGTOOL" publish "$1" a 20 rej-a
  MSGTOOL_EXCHANGE=work "$MSGTOOL" publish "$1" q 10 rej-q
  MSGTOOL_EXCHANGE=work "$MSGTOOL" publish "$1" t 5 exp
  MSGTOOL_EXCHANGE=work "$MSGTOOL" publish "$1" s 6 max
  "$MSGTOOL" publish "$1" ref.a 20 rej-a
  "$MSGTOOL" reject "$1" work.a 20
  "$MSGTOOL" reject "$1" work.q 10
  purge "$1" work.q2
  for _ in $(seq 50); do [ "$(count "$1" dead)" = 39 ] && break; sleep 0.2; done
}

# --- 1. classic dead-letter queue: inspect --------------------------------------------------
topology "$vc" classic > "$work/c.yaml"
"$BIN" apply --yes "$work/c.yaml" >/dev/null 2>&1 || echo "setup: apply failed"
fill "$vc"
expect_eq "setup: 39 messages died into the classic DLQ" 39 "$(count "$vc" dead)"
"$MSGTOOL" dump "$vc" dead > "$work/dead.before"

out=$("$BIN" dlq inspect dead --vhost "$vc" 2>&1); rc=$?
expect_eq "inspect: exit 0" 0 "$rc"
expect_contains "inspect: a row per message" "$out" "rej-a-0"
expect_contains "inspect: the reason of each" "$out" "work.short           maxlen"
expect_contains "inspect: says nothing was taken" "$out" "39 of 39 ready message(s) shown; nothing was taken"
"$MSGTOOL" dump "$vc" dead > "$work/dead.after"
expect_eq "inspect: the queue is as it was (same messages, same order)" "$(cat "$work/dead.before")" "$(cat "$work/dead.after")"

"$BIN" dlq inspect dead --vhost "$vc" -o json > "$work/i.json" 2>"$work/i.err"; rc=$?
expect_eq "inspect -o json: exit 0" 0 "$rc"
expect_eq "inspect -o json: every message" 39 "$(jget 'len(d["messages"])' < "$work/i.json")"
expect_eq "inspect -o json: groups by (queue, reason)" \
  '[["work.a", "rejected", 20], ["work.q", "rejected", 10], ["work.ttl", "expired", 5], ["work.short", "maxlen", 4]]' \
  "$(jget '[[g["queue"], g["reason"], g["count"]] for g in d["groups"]]' < "$work/i.json")"
expect_eq "inspect -o json: group times are ISO 8601 UTC" true \
  "$(jget 'all(len(g["first_death"]) == 20 and g["first_death"].endswith("Z") and g["last_death"] >= g["first_death"] for g in d["groups"])' < "$work/i.json")"
m='[m for m in d["messages"] if m["message_id"] == "rej-a-3"][0]'
expect_eq "inspect -o json: a message's origin, reason and count" \
  '["work.a", "work", ["a"], "rejected", 1, 15]' \
  "$(jget "[$m[k] for k in ('queue', 'exchange', 'routing_keys', 'reason', 'count', 'body_size')]" < "$work/i.json")"
expect_eq "inspect -o json: typed headers" \
  '[{"type": "i64", "value": 3}, {"type": "i32", "value": 3}, {"type": "timestamp", "value": 1700000003}, {"type": "bytes", "base64": "AAH/"}]' \
  "$(jget "[$m['headers'][k] for k in ('h-long', 'h-int', 'h-ts', 'h-bytes')]" < "$work/i.json")"
expect_eq "inspect -o json: properties and body preview" \
  '["text/plain", 2, "body of rej-a-3"]' \
  "$(jget "[$m['properties']['content_type'], $m['properties']['delivery_mode'], $m['body_preview']]" < "$work/i.json")"
expect_eq "inspect -o json: CC keys are among the routing keys" '[]' \
  "$(jget '[m["routing_keys"] for m in d["messages"] if m["reason"] == "expired" and m["routing_keys"] != ["t"]]' < "$work/i.json")"
expect_eq "inspect --limit 5: five messages, groups of five" '[5, 5]' \
  "$("$BIN" dlq inspect dead --vhost "$vc" -o json --limit 5 2>/dev/null | jget '[len(d["messages"]), sum(g["count"] for g in d["groups"])]')"

# --- 2. replay: dry run, unroutable, filters, home ------------------------------------------
out=$("$BIN" dlq replay dead --vhost "$vc" --dry-run 2>&1); rc=$?
expect_eq "replay --dry-run: exit 0" 0 "$rc"
expect_contains "replay --dry-run: shows where each goes" "$out" "rej-a-0                  -> queue 'work.a'"
expect_contains "replay --dry-run: the short queue's messages go home too" "$out" "max-0                    -> queue 'work.short'"
expect_eq "replay --dry-run: nothing moved" "$(cat "$work/dead.before")" "$("$MSGTOOL" dump "$vc" dead)"

out=$("$BIN" dlq replay dead --vhost "$vc" --to-exchange work --routing-key nowhere --limit 3 -o json 2>"$work/err"); rc=$?
expect_eq "replay to an unroutable target: exit 1" 1 "$rc"
expect_eq "replay to an unroutable target: 3 returned, 0 moved" '[3, 0]' "$(echo "$out" | jget '[d["returned"], d["moved"]]')"
expect_eq "replay to an unroutable target: the DLQ keeps them, in order" "$(cat "$work/dead.before")" "$("$MSGTOOL" dump "$vc" dead)"

out=$("$BIN" dlq replay dead --vhost "$vc" --to-queue does.not.exist 2>&1); rc=$?
expect_eq "replay to a missing queue: exit 1" 1 "$rc"
expect_contains "replay to a missing queue: says so" "$out" "queue 'does.not.exist' does not exist"
expect_eq "replay to a missing queue: nothing moved" 39 "$(count "$vc" dead)"

out=$("$BIN" dlq replay dead --vhost "$vc" --older-than 1h -o json 2>/dev/null); rc=$?
expect_eq "replay --older-than 1h (they died seconds ago): exit 0, all filtered" '[0, 39]' "$(echo "$out" | jget '[d["moved"], d["filtered"]]')"

sleep 1
out=$("$BIN" dlq replay dead --vhost "$vc" --older-than 1s --reason expired --to-exchange work --routing-key side -o json 2>/dev/null); rc=$?
expect_eq "replay --older-than 1s --reason expired --to-exchange --routing-key: exit 0, 5 moved, 34 filtered" '0 [5, 34]' "$rc $(echo "$out" | jget '[d["moved"], d["filtered"]]')"
expect_eq "replay --to-exchange: the bound queue holds them" 5 "$(count "$vc" side)"

out=$("$BIN" dlq replay dead --vhost "$vc" --reason rejected --from-queue work.a -o json 2>/dev/null); rc=$?
expect_eq "replay --reason rejected --from-queue work.a: exit 0" 0 "$rc"
expect_eq "replay --reason --from-queue: 20 moved, 14 filtered" '[20, 14]' "$(echo "$out" | jget '[d["moved"], d["filtered"]]')"
expect_eq "replay home: work.a has them back, byte- and type-identical, in order" \
  "$("$MSGTOOL" dump "$vc" ref.a)" "$(MSGTOOL_STRIP=1 "$MSGTOOL" dump "$vc" work.a)"
expect_eq "replay: what the filters left stays in order" \
  "$(grep -v -e '^rej-a-' -e '^exp-' "$work/dead.before")" "$("$MSGTOOL" dump "$vc" dead)"
"$BIN" dlq inspect work.a --vhost "$vc" -o json > "$work/wa.json" 2>/dev/null
expect_eq "replay: the copy carries rmqtopo-replay-count 1 (a long) and no death headers" \
  '[{"type": "i64", "value": 1}, false, false]' \
  "$(jget '[d["messages"][0]["headers"].get("rmqtopo-replay-count"), "x-death" in d["messages"][0]["headers"], "x-first-death-queue" in d["messages"][0]["headers"]]' < "$work/wa.json")"

# die again, then the loop guard
"$MSGTOOL" reject "$vc" work.a 20
for _ in $(seq 50); do [ "$(count "$vc" dead)" = 34 ] && break; sleep 0.2; done
out=$("$BIN" dlq replay dead --vhost "$vc" --from-queue work.a --max-replays 1 -o json 2>/dev/null); rc=$?
expect_eq "--max-replays 1 after one replay: exit 1" 1 "$rc"
expect_eq "--max-replays 1 after one replay: 20 at the limit, none moved" '[20, 0]' "$(echo "$out" | jget '[d["at_max_replays"], d["moved"]]')"
out=$("$BIN" dlq replay dead --vhost "$vc" --from-queue work.a --max-replays 1 --park-queue parked -o json 2>/dev/null); rc=$?
expect_eq "--park-queue: exit 0, 20 parked" '0 [20, 0]' "$rc $(echo "$out" | jget '[d["parked"], d["moved"]]')"
expect_eq "--park-queue: the parked copies keep their death history" true \
  "$("$BIN" dlq inspect parked --vhost "$vc" -o json 2>/dev/null | jget 'all(m["reason"] == "rejected" and m["headers"]["rmqtopo-replay-count"]["value"] == 1 for m in d["messages"]) and len(d["messages"]) == 20')"

# default replay: only the queue it died in; --to-origin: as it was routed (copies)
out=$("$BIN" dlq replay dead --vhost "$vc" --from-queue work.q -o json 2>/dev/null); rc=$?
expect_eq "replay home from a quorum queue: exit 0, 10 moved" '0 10' "$rc $(echo "$out" | jget 'd["moved"]')"
expect_eq "replay home: work.q has them, work.q2 (bound with the same key) none" '10 0' "$(count "$vc" work.q) $(count "$vc" work.q2)"
# --to-queue with --rate (no initial burst) and --limit
t0=$(date +%s.%N)
out=$("$BIN" dlq replay dead --vhost "$vc" --to-queue other --rate 4 --limit 3 -o json 2>/dev/null); rc=$?
t1=$(date +%s.%N)
expect_eq "replay --to-queue --rate 4 --limit 3: exit 0, 3 moved" '0 3' "$rc $(echo "$out" | jget 'd["moved"]')"
expect_eq "replay --rate 4: 3 messages take at least 0.5 s (no burst)" 1 "$(python3 -c "print(int($t1 - $t0 >= 0.5))")"
expect_eq "replay --to-queue: the target holds them" 3 "$(count "$vc" other)"

# --- 3. quorum dead-letter queue --------------------------------------------------------------
topology "$vq" quorum > "$work/q.yaml"
"$BIN" apply --yes "$work/q.yaml" >/dev/null 2>&1 || echo "setup: apply failed"
fill "$vq"
expect_eq "setup: 39 messages died into the quorum DLQ" 39 "$(count "$vq" dead)"
"$MSGTOOL" dump "$vq" dead | sort > "$work/qdead.before"
"$BIN" dlq inspect dead --vhost "$vq" -o json > "$work/qi.json" 2>"$work/qi.err"; rc=$?
expect_eq "inspect a quorum DLQ: exit 0, every message" '0 39' "$rc $(jget 'len(d["messages"])' < "$work/qi.json")"
expect_contains "inspect a quorum DLQ: warns about the delivery count" "$(cat "$work/qi.err")" "is a quorum queue: every read raises each message's delivery count"
expect_eq "inspect a quorum DLQ: the delivery count is shown, not among the headers" '[true, false]' \
  "$(jget '[all("delivery_count" in m for m in d["messages"]), any("x-delivery-count" in m["headers"] for m in d["messages"])]' < "$work/qi.json")"
expect_eq "inspect a quorum DLQ: same messages after" "$(cat "$work/qdead.before")" "$("$MSGTOOL" dump "$vq" dead | sort)"
out=$("$BIN" dlq replay dead --vhost "$vq" --reason expired -o json 2>/dev/null); rc=$?
expect_eq "replay --reason expired from a quorum DLQ: 5 moved" '0 5' "$rc $(echo "$out" | jget 'd["moved"]')"
expect_eq "replay from a quorum DLQ: the others stay" \
  "$(grep -v '^exp-' "$work/qdead.before")" "$("$MSGTOOL" dump "$vq" dead | grep -v '^exp-' | sort)"
out=$("$BIN" dlq replay dead --vhost "$vq" --from-queue work.a -o json 2>/dev/null); rc=$?
expect_eq "replay from a quorum DLQ home: 20 moved, same content" '0 20' "$rc $(echo "$out" | jget 'd["moved"]')"
expect_eq "replay from a quorum DLQ: byte- and type-identical" \
  "$("$MSGTOOL" dump "$vq" ref.a | sort)" "$(MSGTOOL_STRIP=1 "$MSGTOOL" dump "$vq" work.a | sort)"

# --to-origin on first deaths: routed as first published, so work.q2 gets copies too
out=$("$BIN" dlq replay dead --vhost "$vq" --from-queue work.q --to-origin -o json 2>/dev/null); rc=$?
expect_eq "replay --to-origin: exit 0, 10 moved" '0 10' "$rc $(echo "$out" | jget 'd["moved"]')"
expect_eq "replay --to-origin: routed as first published (work.q and work.q2)" '10 10' "$(count "$vq" work.q) $(count "$vq" work.q2)"

# --- 4. kill -9 and closed connections mid-replay: nothing lost -------------------------------
cat > "$work/k.yaml" <<YAML
version: 1
vhosts:
  $vk:
    queues:
      big.dlq: {}
      home: {}
YAML
"$BIN" apply --yes "$work/k.yaml" >/dev/null 2>&1
n=30000
"$MSGTOOL" publish "$vk" big.dlq $n k
"$MSGTOOL" dump "$vk" big.dlq | sort -u > "$work/k.all"
for delay in 0.3 1.0; do
  "$BIN" dlq replay big.dlq --vhost "$vk" --to-queue home >/dev/null 2>&1 & pid=$!
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  left=$(count "$vk" big.dlq); moved=$(count "$vk" home)
  expect_eq "kill -9 at ${delay}s: every id in the DLQ or at home" "$(cat "$work/k.all")" \
    "$( { "$MSGTOOL" dump "$vk" big.dlq; MSGTOOL_STRIP=1 "$MSGTOOL" dump "$vk" home; } | sort -u)"
  echo "  (kill at ${delay}s: $moved at home, $left in the DLQ)"
done
"$BIN" dlq replay big.dlq --vhost "$vk" --to-queue home >/dev/null 2>&1 & pid=$!
sleep 0.3
"$BROKER_CTL" close_all_connections --global "test: closed mid-replay" >/dev/null 2>&1
wait "$pid"; rc=$?
expect_eq "connections closed mid-replay: the run ends (0 if it had finished, else 1)" 1 "$(( rc <= 1 ))"
"$BIN" dlq replay big.dlq --vhost "$vk" --to-queue home >/dev/null 2>&1
expect_eq "after kills and closes, a re-run finishes: exit 0" 0 "$?"
expect_eq "after the re-run: the DLQ is empty" 0 "$(count "$vk" big.dlq)"
expect_eq "after the re-run: every id at home, content intact" "$(cat "$work/k.all")" "$(MSGTOOL_STRIP=1 "$MSGTOOL" dump "$vk" home | sort -u)"
total=$(count "$vk" home); echo "  ($((total - n)) duplicates after 3 interruptions)"
expect_eq "duplicates stay within the prefetch at each interruption (3 x 2048)" 1 "$(( total - n <= 3 * 2048 ))"

# --- 5. usage and failures --------------------------------------------------------------------
out=$("$BIN" dlq replay dead --vhost "$vc" --reason rejectd 2>&1); rc=$?
expect_eq "--reason with a typo: exit 64" 64 "$rc"
expect_contains "--reason with a typo: names the choices" "$out" "did you mean 'rejected'?"
out=$("$BIN" dlq replay dead --vhost "$vc" --to-queue a --to-origin 2>&1); rc=$?
expect_eq "two targets: exit 64" 64 "$rc"
out=$("$BIN" dlq replay dead --vhost "$vc" --routing-key k 2>&1); rc=$?
expect_eq "--routing-key without --to-exchange: exit 64" 64 "$rc"
out=$("$BIN" dlq inspect dead --vhost "$vc" --limit 0 2>&1); rc=$?
expect_eq "inspect --limit 0: exit 64" 64 "$rc"
out=$("$BIN" dlq inspect no.such.queue --vhost "$vc" 2>&1); rc=$?
expect_eq "inspect a missing queue: exit 1" 1 "$rc"
expect_contains "inspect a missing queue: the broker's reason" "$out" "404 NOT_FOUND"
out=$("$BIN" dlq nonsense 2>&1); rc=$?
expect_eq "an unknown dlq command: exit 64" 64 "$rc"
"$BIN" dlq --help >/dev/null 2>&1
expect_eq "dlq --help: exit 0" 0 "$?"
MSGTOOL_BINARY=1 "$MSGTOOL" publish "$vc" other 1 bin
out=$("$BIN" dlq inspect other --vhost "$vc" 2>&1)
expect_contains "inspect: a binary body is shown safely" "$out" "<binary, 16 bytes: 00 ff"

# --- 6. a filtered replay that holds far more than its prefetch ------------------------------
base=$(count "$vc" dead)
MSGTOOL_EXCHANGE=work "$MSGTOOL" publish "$vc" a 1500 many-a
"$MSGTOOL" reject "$vc" work.a 1500
MSGTOOL_EXCHANGE=work "$MSGTOOL" publish "$vc" t 1500 many-t
for _ in $(seq 100); do [ "$(count "$vc" dead)" = $((base + 3000)) ] && break; sleep 0.2; done
purge "$vc" other
"$MSGTOOL" dump "$vc" dead > "$work/many.before"
out=$("$BIN" dlq replay dead --vhost "$vc" --reason expired --to-queue other -o json 2>/dev/null); rc=$?
expect_eq "a filter that holds 1,500 before it selects: exit 0, 1500 moved" '0 1500' "$rc $(echo "$out" | jget 'd["moved"]')"
expect_eq "a filter that holds 1,500: the held ones stay, in order" \
  "$(grep -v '^many-t-' "$work/many.before")" "$("$MSGTOOL" dump "$vc" dead)"
expect_eq "a filter that holds 1,500: the target holds the selected" 1500 "$(count "$vc" other)"
out=$("$BIN" dlq inspect dead --vhost "$vc" --limit 2500 -o json 2>/dev/null); rc=$?
expect_eq "inspect --limit 2500 reads past its 1000-message prefetch" "0 $((base + 1500 < 2500 ? base + 1500 : 2500))" "$rc $(echo "$out" | jget 'len(d["messages"])')"

# --- 7. valgrind: inspect and replay ------------------------------------------------------------
if command -v valgrind >/dev/null 2>&1; then
  valgrind -q --leak-check=full --error-exitcode=99 "$BIN" dlq inspect dead --vhost "$vc" -o json >/dev/null 2>"$work/vg1"
  expect_eq "valgrind: inspect is clean" 0 "$?"
  valgrind -q --leak-check=full --error-exitcode=99 "$BIN" dlq replay dead --vhost "$vc" --to-queue other >/dev/null 2>"$work/vg2"
  expect_eq "valgrind: replay is clean" 0 "$?"
fi

finish
