#!/usr/bin/env bash
# apply among other clients, on a real broker, counting message ids (sent, found, duplicates,
# lost) for classic and quorum sources:
#   1. a client holds every message unacknowledged (basic.get, no consumer): a replace without
#      --allow-replace and a --prune without --force are refused; with --allow-replace the
#      migration waits for them, stops with the queue intact when they stay held, and moves
#      them once they are returned;
#   2. a consumer attaches in the middle of a migration and takes messages: apply waits until
#      they are acknowledged (classic) or returned (quorum), and accounts for every one;
#   3. a holding queue the user declared with other arguments is refused, nothing moved;
#   4. two applies at once: the second fails at once naming the holder of the lock (host,
#      process, start time), or waits with --lock-timeout; plan takes no lock and never shows
#      it; kill -9 leaves no stale lock; after kill -9 plan's note says the count may include
#      copies;
#   5. the consents of settings that can drop or dead-letter what a queue holds: byte limit,
#      message TTL, expires, drop-head with a limit, every reason listed;
#   6. a batch published during a migration ends in the new queue exactly once.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
MSGTOOL=${MSGTOOL:-$(dirname "$BIN")/tests/msgtool}
HOLDTOOL=${HOLDTOOL:-$(dirname "$BIN")/tests/holdtool}

vh=rmqtopo-it-clients-$$
# CLIENT_TYPES: the source queue types to run the cases for (scripts/test.sh runs classic and
# quorum on two nodes at once); the lock cases run with classic
types=${CLIENT_TYPES:-classic quorum}
work=$(mktemp -d)
holders=()
cleanup() {
  local p
  for p in "${holders[@]}"; do kill "$p" 2>/dev/null; done
  exec 7>&- 8>&- 2>/dev/null
  api DELETE "/vhosts/$vh" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print(json.dumps(eval(sys.argv[1])))" "$1"; }
ids() { "$MSGTOOL" dump "$vh" "$1" | awk '{print $1}'; }
qtype() { api GET "/queues/$vh/$1" | jget 'd.get("type")'; }
exists() { curl -s -o /dev/null -w '%{http_code}' -u guest:guest "$RMQTOPO_API_URL/api/queues/$vh/$1"; }

# start_holder NAME MODE QUEUE N: holdtool in the background, commands through fd 7 (one at a
# time); its output in $work/NAME.out
start_holder() {
  rm -f "$work/$1.fifo"
  mkfifo "$work/$1.fifo"
  "$HOLDTOOL" "$2" "$vh" "$3" "$4" <"$work/$1.fifo" >"$work/$1.out" 2>"$work/$1.err" &
  holder_pid=$!
  holders+=("$holder_pid")
  exec 7>"$work/$1.fifo"
}
# wait_line FILE PATTERN: until a line of FILE matches (the tool prints it once it holds)
wait_line() { while ! grep -q "$2" "$1" 2>/dev/null; do sleep 0.1; done; }

# count_ids NAME SENT_FILE FOUND_FILE: checks found = sent, no duplicate, none lost
count_ids() {
  local sent found dups lost
  sent=$(sort -u "$2" | wc -l)
  found=$(sort -u "$3" | wc -l)
  dups=$(sort "$3" | uniq -d | wc -l)
  lost=$(comm -23 <(sort -u "$2") <(sort -u "$3") | wc -l)
  expect_eq "$1: sent $sent, found $found, duplicates $dups, lost $lost" \
    "found=$sent dups=0 lost=0" "found=$found dups=$dups lost=$lost"
}

api PUT "/vhosts/$vh" >/dev/null

# --- 1. every message held unacknowledged by a client --------------------------------------
for src in $types; do
  dst=$([ "$src" = classic ] && echo quorum || echo classic)
  # RabbitMQ 3.10 counts each basic.get of a quorum queue not yet acknowledged as a consumer
  # (passive declare and API alike): acting on it then also needs --force
  force=$([ "$src" = quorum ] && echo --force)
  q=held.$src
  api PUT "/queues/$vh/$q" "{\"durable\":true,\"arguments\":{\"x-queue-type\":\"$src\"}}" >/dev/null
  "$MSGTOOL" publish "$vh" "$q" 100 "h$src" >/dev/null
  ids "$q" | sort > "$work/sent"
  start_holder h1 get "$q" 100
  wait_line "$work/h1.out" '^held'
  expect_eq "$src: the client holds all 100 unacknowledged" "held 100" "$(grep '^held' "$work/h1.out")"
  cat > "$work/held.yaml" <<YAML
version: 1
vhosts:
  $vh:
    queues:
      $q: { type: $dst }
YAML
  out=$("$BIN" apply "$work/held.yaml" 2>&1); rc=$?
  expect_eq "$src: replace of a queue whose messages are all held: refused (exit 1)" 1 "$rc"
  expect_contains "$src: the refusal counts the held messages" "$out" \
    "holds 100 messages (100 of them held unacknowledged by clients): replacing it needs --allow-replace"
  expect_eq "$src: refused: the queue is untouched" "\"$src\"" "$(qtype "$q")"

  # --prune of a queue whose messages are all held
  cat > "$work/prune.yaml" <<YAML
version: 1
vhosts:
  $vh:
    queues:
      other.$src: {}
YAML
  out=$("$BIN" apply --prune "$work/prune.yaml" 2>&1); rc=$?
  expect_eq "$src: --prune of a queue whose messages are all held: refused (exit 1)" 1 "$rc"
  expect_contains "$src: --prune refusal counts the held messages" "$out" \
    "'$q' in vhost '$vh' holds 100 messages (100 of them held unacknowledged by clients): --prune deletes it only with --force"
  expect_eq "$src: --prune refused: the queue is still there" 200 "$(exists "$q")"

  # --allow-replace while they stay held: waits, then stops with the queue intact, naming them
  out=$("$BIN" apply --allow-replace $force --hold-timeout 3 "$work/held.yaml" 2>&1); rc=$?
  expect_eq "$src: migration while all are held: stops (exit 1)" 1 "$rc"
  expect_contains "$src: the stop says they are held and by whom" "$out" \
    "100 of its messages are held unacknowledged by other clients (100 unacknowledged on channel"
  expect_eq "$src: the stop leaves the queue as it was" "\"$src\"" "$(qtype "$q")"

  # the client returns them during the next run: they are migrated
  ( sleep 4; echo return >&7 ) &
  out=$("$BIN" apply --allow-replace $force --hold-timeout 120 "$work/held.yaml" 2>&1); rc=$?
  wait $!
  expect_eq "$src: migration, the client returns them meanwhile: exit 0" 0 "$rc"
  expect_contains "$src: all 100 migrated" "$out" "(100 messages migrated)"
  exec 7>&-
  wait "$holder_pid" 2>/dev/null
  expect_eq "$src: the queue has its new type" "\"$dst\"" "$(qtype "$q")"
  ids "$q" > "$work/found"
  count_ids "$src: held then returned" "$work/sent" "$work/found"
  expect_eq "$src: no holding queue left" 404 "$(exists "rmqtopo.migrate.$q")"
done

# --- 2. a consumer attaches in the middle of a migration ------------------------------------
n=20000
for src in $types; do
  dst=$([ "$src" = classic ] && echo quorum || echo classic)
  q=mid.$src
  api PUT "/queues/$vh/$q" "{\"durable\":true,\"arguments\":{\"x-queue-type\":\"$src\"}}" >/dev/null
  MSGTOOL_SIZE=200 "$MSGTOOL" publish "$vh" "$q" "$n" "m$src" >/dev/null
  ids "$q" | sort > "$work/sent"
  cat > "$work/mid.yaml" <<YAML
version: 1
vhosts:
  $vh:
    queues:
      $q: { type: $dst }
YAML
  "$BIN" apply --allow-replace --hold-timeout 300 "$work/mid.yaml" >"$work/mid.out" 2>&1 &
  apid=$!
  # the consumer attaches once the migration has started (its holding queue exists)
  while [ "$(exists "rmqtopo.migrate.$q")" != 200 ]; do sleep 0.05; done
  start_holder c1 consume "$q" 100
  wait_line "$work/c1.out" '^held\|^stopped'
  took=$(grep -c '^got' "$work/c1.out")
  if [ "$took" -gt 0 ]; then pass "$src: a consumer attached mid-migration took $took messages"
  else fail "$src: the consumer attached mid-migration took nothing (the test did not test)" "$(cat "$work/c1.out" "$work/c1.err")"; fi
  # classic: the consumer acknowledges what it took; quorum: it returns it
  sleep 2
  if [ "$src" = classic ]; then echo ack >&7; wait_line "$work/c1.out" '^acked'
  else echo return >&7; wait_line "$work/c1.out" '^returned'; fi
  exec 7>&-
  wait "$holder_pid" 2>/dev/null
  wait "$apid"; rc=$?
  expect_eq "$src: the migration finished after the consumer let go (exit 0)" 0 "$rc"
  [ "$rc" -eq 0 ] || cat "$work/mid.out"
  expect_eq "$src: the queue has its new type" "\"$dst\"" "$(qtype "$q")"
  ids "$q" > "$work/found"
  if [ "$src" = classic ]; then
    # taken by the consumer that acknowledged them + found = sent
    grep '^got' "$work/c1.out" | awk '{print $2}' >> "$work/found"
  fi
  count_ids "$src: consumer mid-migration ($( [ "$src" = classic ] && echo acknowledged || echo returned ))" "$work/sent" "$work/found"
  expect_eq "$src: no holding queue left" 404 "$(exists "rmqtopo.migrate.$q")"
done

# --- 3. a holding queue the user declared with other arguments ------------------------------
for src in $types; do
  q=named.$src
  api PUT "/queues/$vh/$q" "{\"durable\":true,\"arguments\":{\"x-queue-type\":\"$src\"}}" >/dev/null
  api PUT "/queues/$vh/rmqtopo.migrate.$q" '{"durable":true,"arguments":{"x-queue-type":"quorum","x-max-length":5}}' >/dev/null
  "$MSGTOOL" publish "$vh" "$q" 1000 "n$src" >/dev/null
  ids "$q" | sort > "$work/sent"
  cat > "$work/named.yaml" <<YAML
version: 1
vhosts:
  $vh:
    queues:
      $q: { type: $src, max_length: 100000 }
YAML
  out=$("$BIN" apply --allow-replace --force "$work/named.yaml" 2>&1); rc=$?
  expect_eq "$src: a foreign holding queue: refused (exit 1), even with --force" 1 "$rc"
  expect_contains "$src: the refusal says why" "$out" \
    "queue 'rmqtopo.migrate.$q' in vhost '$vh' is not the holding queue of a migration of queue '$q' (it is a quorum queue"
  ids "$q" > "$work/found"
  count_ids "$src: foreign holding queue, nothing moved" "$work/sent" "$work/found"
  expect_eq "$src: the foreign holding queue received nothing" 0 \
    "$("$MSGTOOL" dump "$vh" "rmqtopo.migrate.$q" | wc -l)"
  api DELETE "/queues/$vh/rmqtopo.migrate.$q" >/dev/null
done

# --- 4. two applies at once; the lock --------------------------------------------------------
case " $types " in *" classic "*)
q=lock.q
api PUT "/queues/$vh/$q" '{"durable":true}' >/dev/null
"$MSGTOOL" publish "$vh" "$q" 50 lk >/dev/null
ids "$q" | sort > "$work/sent"
cat > "$work/lock.yaml" <<YAML
version: 1
vhosts:
  $vh:
    queues:
      $q: { type: quorum }
YAML
# the first apply is kept busy by a client holding the messages
start_holder h2 get "$q" 50
wait_line "$work/h2.out" '^held'
"$BIN" apply --allow-replace --hold-timeout 300 "$work/lock.yaml" >"$work/first.out" 2>&1 &
first=$!
while [ "$(exists rmqtopo.lock)" != 200 ]; do sleep 0.1; done
out=$("$BIN" apply --allow-replace "$work/lock.yaml" 2>&1); rc=$?
expect_eq "a second apply fails at once (exit 1)" 1 "$rc"
expect_contains "it names the holder's host and process" "$out" \
  "another apply holds the lock of vhost '$vh' (queue 'rmqtopo.lock'): host $(hostname), process $first, started "
expect_contains "it says nothing was changed" "$out" "(nothing was changed)"
out=$("$BIN" plan "$work/lock.yaml" 2>&1); rc=$?
expect_eq "plan during an apply: takes no lock (exit 2: changes)" 2 "$rc"
case $out in *rmqtopo.lock*) fail "plan never shows the lock" "$out" ;; *) pass "plan never shows the lock" ;; esac
out=$("$BIN" plan --prune "$work/lock.yaml" 2>&1)
case $out in *rmqtopo.lock*) fail "plan --prune never deletes the lock" "$out" ;; *) pass "plan --prune never deletes the lock" ;; esac
# the second waits with --lock-timeout: the holder returns the messages, the first finishes
"$BIN" apply --allow-replace --lock-timeout 600 "$work/lock.yaml" >"$work/second.out" 2>&1 &
second=$!
sleep 2
echo return >&7
exec 7>&-
wait "$holder_pid" 2>/dev/null
wait "$first"; rc=$?
expect_eq "the first apply finishes (exit 0)" 0 "$rc"
[ "$rc" -eq 0 ] || cat "$work/first.out"
wait "$second"; rc=$?
expect_eq "the second apply, with --lock-timeout, waits then succeeds (exit 0)" 0 "$rc"
expect_contains "the second found nothing left to do" "$(cat "$work/second.out")" "Nothing to change."
ids "$q" > "$work/found"
count_ids "two applies at once" "$work/sent" "$work/found"
expect_eq "no lock left after both" 404 "$(exists rmqtopo.lock)"

  ;;
esac

# kill -9 in the middle of a migration: no stale lock, plan's note explains the count
for src in $types; do
  dst=$([ "$src" = classic ] && echo quorum || echo classic)
  q=kill.$src
  api PUT "/queues/$vh/$q" "{\"durable\":true,\"arguments\":{\"x-queue-type\":\"$src\"}}" >/dev/null
  MSGTOOL_SIZE=200 "$MSGTOOL" publish "$vh" "$q" 20000 "k$src" >/dev/null
  ids "$q" | sort > "$work/sent"
  cat > "$work/kill.yaml" <<YAML
version: 1
vhosts:
  $vh:
    queues:
      $q: { type: $dst }
YAML
  "$BIN" apply --allow-replace "$work/kill.yaml" >/dev/null 2>&1 &
  k=$!
  # killed once the move has started (the holding queue holds messages)
  while :; do
    m=$(api GET "/queues/$vh/rmqtopo.migrate.$q" | jget 'd.get("messages", 0)' 2>/dev/null)
    [ "${m:-0}" != 0 ] && [ "${m:-0}" != null ] && break
    kill -0 "$k" 2>/dev/null || break
    sleep 0.05
  done
  kill -9 "$k" 2>/dev/null; wait "$k" 2>/dev/null
  if [ "$(exists "rmqtopo.migrate.$q")" = 200 ]; then
    out=$("$BIN" plan "$work/kill.yaml" 2>&1)
    expect_contains "$src: after kill -9, plan's note says the count may include copies" "$out" \
      "may include copies: a migration stopped by a crash (kill -9)"
  else
    pass "$src: kill -9 came after the migration (nothing to note)"
  fi
  out=$("$BIN" apply --allow-replace "$work/kill.yaml" 2>&1); rc=$?
  expect_eq "$src: after kill -9, no stale lock: the re-run exits 0" 0 "$rc"
  [ "$rc" -eq 0 ] || echo "$out" | tail -5
  ids "$q" > "$work/found"
  sent=$(wc -l < "$work/sent"); uniq_found=$(sort -u "$work/found" | wc -l)
  lost=$(comm -23 "$work/sent" <(sort -u "$work/found") | wc -l)
  dups=$(( $(wc -l < "$work/found") - uniq_found ))
  expect_eq "$src: kill -9 then re-run: sent $sent, found $uniq_found, lost $lost (duplicates $dups, bounded by the prefetch)" \
    "found=$sent lost=0 dupsok=1" "found=$uniq_found lost=$lost dupsok=$([ "$dups" -le 2048 ] && echo 1 || echo 0)"
done

# --- 5. settings that can drop or dead-letter what the queue holds --------------------------
for src in $types; do
  for name in bytes ttl expires drophead rttl; do
    api PUT "/queues/$vh/c.$src.$name" "{\"durable\":true,\"arguments\":{\"x-queue-type\":\"$src\",\"x-message-ttl\":600000}}" >/dev/null
    MSGTOOL_SIZE=100 "$MSGTOOL" publish "$vh" "c.$src.$name" 200 "c$name" >/dev/null
  done
done
cat > "$work/consent.yaml" <<YAML
version: 1
vhosts:
  $vh:
    queues:
YAML
for src in $types; do
  dst=$([ "$src" = classic ] && echo quorum || echo classic)
  cat >> "$work/consent.yaml" <<YAML
      c.$src.bytes: { type: $dst, message_ttl: 600000, max_length_bytes: 10kB }
      c.$src.ttl: { type: $dst, message_ttl: 1ms }
      c.$src.expires: { type: $dst, message_ttl: 600000, expires: 1h }
      c.$src.drophead: { type: $dst, message_ttl: 600000, max_length: 100000, overflow: drop-head }
      c.$src.rttl: { type: $dst, message_ttl: 3600000 }
YAML
done
out=$("$BIN" apply --allow-replace "$work/consent.yaml" 2>&1); rc=$?
expect_eq "consents: refused (exit 1)" 1 "$rc"
for src in $types; do
  expect_contains "$src: byte limit below the bytes held is named" "$out" \
    "queue 'c.$src.bytes' in vhost '$vh' holds 200 messages"
  expect_contains "$src: byte limit: the reason" "$out" "but its new max_length_bytes is 10000"
  expect_contains "$src: a lower message TTL is named" "$out" \
    "queue 'c.$src.ttl' in vhost '$vh' holds 200 messages and its new message_ttl (1 ms) is lower than its current one (600000 ms)"
  expect_contains "$src: a new expires is named" "$out" \
    "queue 'c.$src.expires' in vhost '$vh' holds 200 messages and its new expires (3600000 ms) is one it did not have"
  expect_contains "$src: drop-head with a limit is named" "$out" \
    "queue 'c.$src.drophead' in vhost '$vh' holds 200 messages and its new settings combine overflow drop-head with a limit"
  case $(echo "$out" | grep '^rmqtopo: ') in *"c.$src.rttl"*) fail "$src: a raised TTL needs no consent" "$out" ;; *) pass "$src: a raised TTL needs no consent" ;; esac
done
n_types=$(echo $types | wc -w)
expect_eq "consents: every reason listed ($((4 * n_types)) lines)" $((4 * n_types)) \
  "$(echo "$out" | grep -c 'that needs --force')"
first_type=$(set -- $types; echo "$1")
expect_eq "consents: nothing changed" "\"$first_type\"" "$(qtype "c.$first_type.ttl")"
out=$("$BIN" apply --allow-replace --force "$work/consent.yaml" 2>&1); rc=$?
# --force overrides as before: the byte limit and the 1 ms TTL then drop, and apply says so
expect_eq "consents with --force: applied (the queue count check reports what the new limits dropped)" 1 "$rc"
expect_contains "consents with --force: the drop is reported" "$out" "its new limits dropped or dead-lettered"

# --- 6. a producer publishes during a migration (issue 19 item 4: the mover's fix) ----------
# One batch of 50 confirmed messages published while the old queue is being emptied (it is
# deleted only after the statistics wait, seconds later): each message ends in the new queue
# exactly once.
for src in $types; do
  dst=$([ "$src" = classic ] && echo quorum || echo classic)
  q=prod.$src
  api PUT "/queues/$vh/$q" "{\"durable\":true,\"arguments\":{\"x-queue-type\":\"$src\"}}" >/dev/null
  MSGTOOL_SIZE=200 "$MSGTOOL" publish "$vh" "$q" 20000 "p$src" >/dev/null
  ids "$q" | sort > "$work/sent"
  cat > "$work/prod.yaml" <<YAML
version: 1
vhosts:
  $vh:
    queues:
      $q: { type: $dst }
YAML
  "$BIN" apply --allow-replace "$work/prod.yaml" >"$work/prod.out" 2>&1 &
  apid=$!
  while [ "$(exists "rmqtopo.migrate.$q")" != 200 ]; do sleep 0.05; done
  "$MSGTOOL" publish "$vh" "$q" 50 "late$src" >/dev/null
  for i in $(seq 0 49); do echo "late$src-$i"; done >> "$work/sent"
  sort -o "$work/sent" "$work/sent"
  wait "$apid"; rc=$?
  expect_eq "$src: migration with a batch published during it: exit 0" 0 "$rc"
  [ "$rc" -eq 0 ] || tail -5 "$work/prod.out"
  ids "$q" > "$work/found"
  count_ids "$src: producer during the migration (20,000 + 50)" "$work/sent" "$work/found"
done

finish
