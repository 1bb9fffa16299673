#!/usr/bin/env bash
# Monitoring dead-letter queues (issue 15) against a real broker: the file's thresholds,
# `dlq check` (Monitoring Plugins exit codes, one status line, perfdata ranges) side by side
# with check_rabbitmq_queue, `dlq status` (text, json, prometheus checked by promtool,
# --textfile, discovery without a file, replayed messages that died again), `alerts` (promtool
# check rules and test rules), and 200 status runs that leave order and delivery counts of
# classic and quorum dead-letter queues unchanged.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
MSGTOOL=${MSGTOOL:-$(dirname "$BIN")/tests/msgtool}
RUNS=${MONITOR_RUNS:-200}

v=rmqtopo-it-mon-$$
work=$(mktemp -d)
cleanup() {
  api DELETE "/vhosts/$v" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print(json.dumps(eval(sys.argv[1])))" "$1"; }
count() { "$MSGTOOL" dump "$1" "$2" | wc -l | tr -d ' '; }
# the exact count without reading the queue (a passive declare): for the quorum DLQ, whose
# messages must not be delivered before section 5
qcount() { "$BIN" dlq check --queue "$2" --vhost "$1" --critical 1000000000 --sample 0 2>/dev/null | sed -n "s/.*messages'=\([0-9]*\);.*/\1/p"; }
lines() { printf '%s\n' "$1" | wc -l | tr -d ' '; }
# a check that measured prints its status line, then the broker it read (issue 17)
first() { printf '%s\n' "$1" | head -n 1; }
broker_line="broker: $RMQTOPO_API_URL (RabbitMQ "
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# --- 1. alerts: rules from the file, checked and tested by promtool (no broker) -------------
"$BIN" alerts "$here/../prometheus/dlq_alerts.yaml" > "$work/rules.yml" 2>"$work/err"; rc=$?
expect_eq "alerts: exit 0" 0 "$rc"
out=$(promtool check rules "$work/rules.yml" 2>&1); rc=$?
expect_eq "alerts: promtool check rules accepts them (6 rules)" "0 yes" "$rc $(case $out in *"SUCCESS: 6 rules found"*) echo yes ;; *) echo "$out" ;; esac)"
cp "$here/../prometheus/dlq_rules_test.yml" "$work/"
out=$(cd "$work" && promtool test rules dlq_rules_test.yml 2>&1); rc=$?
expect_eq "alerts: promtool test rules (messages, age, rate; warning and critical)" 0 "$rc"
[ "$rc" = 0 ] || echo "$out" | head -20
out=$("$BIN" alerts -o json "$here/../prometheus/dlq_alerts.yaml" 2>&1); rc=$?
expect_eq "alerts -o json: usage error 64" 64 "$rc"
printf 'version: 1\nvhosts:\n  v:\n    queues:\n      q:\n        alert: { rate: { warning: 5/d } }\n' > "$work/bad.yaml"
out=$("$BIN" alerts "$work/bad.yaml" 2>&1); rc=$?
expect_eq "alerts on an invalid file: exit 1" 1 "$rc"
expect_contains "alerts on an invalid file: file:line:col and the unit" "$out" "bad.yaml:6:35: queues.q.alert.rate.warning: invalid rate '5/d'"

# --- 2. the file: thresholds, the warning, plan ignores them ---------------------------------
cat > "$work/t.yaml" <<YAML
version: 1
vhosts:
  $v:
    alert_defaults:
      messages: { warning: 1, critical: 100 }
    exchanges:
      work: { type: direct }
      dlx: { type: fanout }
      dlxq: { type: fanout }
    queues:
      work.c:
        durable: false
        dead_letter_exchange: dlx
        bind: [{ exchange: work, routing_key: c }]
      work.q:
        type: quorum
        initial_group_size: 1
        dead_letter_exchange: dlxq
        dead_letter_strategy: at-least-once
        overflow: reject-publish
        bind: [{ exchange: work, routing_key: q }]
      dead.c:
        durable: false
        message_ttl: 7d
        bind: [{ exchange: dlx }]
        alert:
          messages: { warning: 5, critical: 10 }
          age: { warning: 1h, critical: 1d }
      dead.q:
        type: quorum
        initial_group_size: 1
        message_ttl: 7d
        bind: [{ exchange: dlxq }]
YAML
out=$("$BIN" validate "$work/t.yaml" 2>&1); rc=$?
expect_eq "validate: thresholds are valid" 0 "$rc"
expect_eq "validate: no warning about thresholds when every DLQ has some" "" "$(echo "$out" | grep 'alert thresholds')"
sed '/alert_defaults:/,+1d' "$work/t.yaml" > "$work/nodefaults.yaml"
out=$("$BIN" validate "$work/nodefaults.yaml" 2>&1)
expect_contains "validate: a DLQ without thresholds is warned about" "$out" "warning: queues.dead.q: dead-letter queue 'dead.q' has no alert thresholds"
"$BIN" apply --yes "$work/t.yaml" >/dev/null 2>&1 || echo "setup: apply failed"
out=$("$BIN" plan "$work/t.yaml" 2>&1); rc=$?
expect_eq "plan ignores the thresholds: nothing to change" 0 "$rc"

# a dead-letter exchange named by a policy, for discovery
api PUT "/exchanges/$v/dlxp" '{"type":"fanout","durable":true}' >/dev/null
api PUT "/queues/$v/work.p" '{"durable":true}' >/dev/null
api PUT "/queues/$v/dead.p" '{"durable":true}' >/dev/null
api POST "/bindings/$v/e/dlxp/q/dead.p" '{"routing_key":""}' >/dev/null
api PUT "/policies/$v/dlp" '{"pattern":"^work\\.p$","apply-to":"queues","definition":{"dead-letter-exchange":"dlxp"}}' >/dev/null

# --- 3. dlq check ---------------------------------------------------------------------------
out=$("$BIN" dlq check "$work/t.yaml" 2>"$work/err"); rc=$?
expect_eq "check, empty DLQs: exit 0, the status line and the broker" "0 2" "$rc $(lines "$out")"
expect_eq "check, empty DLQs: the line" \
  "DLQ OK - 2 of 2 queues ok, 0 messages | '$v/dead.c messages'=0;4;9;0 '$v/dead.q messages'=0;0;99;0" "$(first "$out")"
expect_contains "check: the broker on the second line, no perfdata in it" "$(printf '%s\n' "$out" | sed -n 2p | tr -d '|')" "$broker_line"
expect_eq "check: no '|' after the status line" 0 "$(printf '%s\n' "$out" | tail -n +2 | grep -c '|')"

MSGTOOL_EXCHANGE=work "$MSGTOOL" publish "$v" c 7 c >/dev/null
"$MSGTOOL" reject "$v" work.c 7 >/dev/null
for _ in $(seq 50); do [ "$(count "$v" dead.c)" = 7 ] && break; sleep 0.2; done
out=$("$BIN" dlq check "$work/t.yaml" --sample 0 2>"$work/err"); rc=$?
expect_eq "check, 7 in dead.c (warning 5): exit 1, the status line and the broker" "1 2" "$rc $(lines "$out")"
expect_eq "check, WARNING: the line names the queue, the count and the threshold" \
  "DLQ WARNING - WARNING $v/dead.c 7 messages (warning 5); 1 of 2 queues ok, 7 messages | '$v/dead.c messages'=7;4;9;0 '$v/dead.q messages'=0;0;99;0" "$(first "$out")"

MSGTOOL_EXCHANGE=work "$MSGTOOL" publish "$v" c 5 d >/dev/null
"$MSGTOOL" reject "$v" work.c 5 >/dev/null
MSGTOOL_EXCHANGE=work "$MSGTOOL" publish "$v" q 3 q >/dev/null
"$MSGTOOL" reject "$v" work.q 3 >/dev/null
for _ in $(seq 50); do [ "$(count "$v" dead.c) $(qcount "$v" dead.q)" = "12 3" ] && break; sleep 0.2; done
out=$("$BIN" dlq check "$work/t.yaml" 2>"$work/err"); rc=$?
expect_eq "check, 12 in dead.c (critical 10), 3 in dead.q (warning 1): exit 2, the status line and the broker" "2 2" "$rc $(lines "$out")"
expect_contains "check, CRITICAL: the critical queue first in the line" "$out" "DLQ CRITICAL - CRITICAL $v/dead.c 12 messages (critical 10); WARNING $v/dead.q 3 messages (warning 1); 0 of 2 queues ok"
expect_contains "check: the age of the classic DLQ's oldest message in the perfdata" "$out" "'$v/dead.c age'="
expect_eq "check --vhost of another vhost: no queues: UNKNOWN 3" 3 "$("$BIN" dlq check "$work/t.yaml" --vhost nope >/dev/null 2>&1; echo $?)"

# a file naming a DLQ the broker lacks, between two it has: the counts are pipelined, and a
# missing queue closes the channel: the queues after it are still counted
cat > "$work/gap.yaml" <<YAML
version: 1
vhosts:
  $v:
    alert_defaults: { messages: { critical: 1000 } }
    exchanges:
      dlx: { type: fanout }
    queues:
      work.c: { durable: false, dead_letter_exchange: dlx }
      dead.c: { durable: false, message_ttl: 7d, bind: [{ exchange: dlx }] }
      gone: { durable: false, message_ttl: 7d, bind: [{ exchange: dlx }] }
      dead.q: { durable: false, message_ttl: 7d, bind: [{ exchange: dlx }] }
YAML
out=$("$BIN" dlq status "$work/gap.yaml" --interval 0 --sample 0 -o json 2>"$work/err"); rc=$?
expect_eq "status with a missing queue between two: every other queue counted" \
  '0 [["dead.c", 12, "OK"], ["gone", null, "UNKNOWN"], ["dead.q", 3, "OK"]]' \
  "$rc $(echo "$out" | jget '[[q["queue"], q["messages"], q["state"]] for q in d["queues"]]')"
out=$("$BIN" dlq check "$work/gap.yaml" 2>"$work/err"); rc=$?
expect_eq "check with a missing queue: UNKNOWN 3" "3 2" "$rc $(lines "$out")"

out=$("$BIN" dlq check --queue dead.c --vhost "$v" --warning 5 --critical 20 2>"$work/err"); rc=$?
expect_eq "check --queue --warning --critical: WARNING 1" "1 2" "$rc $(lines "$out")"
expect_contains "check --queue: perfdata" "$out" "| '$v/dead.c messages'=12;4;19;0"
out=$(RMQTOPO_AMQP_URL=$RMQTOPO_AMQP_URL/$v "$BIN" dlq check --queue dead.c --warning 5 --sample 0 2>"$work/err"); rc=$?
expect_eq "check --queue without --vhost: the AMQP URL's vhost" "1 '$v/dead.c messages'=12;4;;0" "$rc $(first "${out#*| }")"
out=$("$BIN" dlq check --queue missing --vhost "$v" --warning 5 2>"$work/err"); rc=$?
expect_eq "check --queue of a missing queue: UNKNOWN 3, the status line and the broker" "3 2" "$rc $(lines "$out")"
expect_contains "check --queue of a missing queue: says so" "$out" "queue 'missing' not found in vhost '$v'"
out=$("$BIN" dlq check --bogus 2>"$work/err"); rc=$?
expect_eq "check with an unknown option: UNKNOWN 3, one line on stdout" "3 1" "$rc $(lines "$out")"
expect_contains "check with an unknown option: the usage error on stderr" "$(cat "$work/err")" "bogus"
out=$("$BIN" dlq check --queue dead.c --vhost "$v" 2>"$work/err"); rc=$?
expect_eq "check --queue without thresholds: UNKNOWN 3" "3 1" "$rc $(lines "$out")"
out=$("$BIN" dlq check "$work/t.yaml" --queue dead.c --warning 1 2>"$work/err"); rc=$?
expect_eq "check FILE with --queue: UNKNOWN 3" 3 "$rc"
out=$("$BIN" dlq check "$work/bad.yaml" 2>"$work/err"); rc=$?
expect_eq "check with an invalid file: UNKNOWN 3, one line" "3 1" "$rc $(lines "$out")"
port=$(free_port)
out=$(RMQTOPO_AMQP_URL=amqp://127.0.0.1:$port RMQTOPO_API_URL=http://127.0.0.1:$port "$BIN" dlq check "$work/t.yaml" --connect-timeout 2 2>"$work/err"); rc=$?
expect_eq "check with the broker unreachable: UNKNOWN 3, one line" "3 1" "$rc $(lines "$out")"

# side by side with check_rabbitmq_queue (Debian's nagios-plugins-rabbitmq): its thresholds
# alert above N, ours at or above N; the same queue gives the same state
if command -v check_rabbitmq_queue >/dev/null 2>&1; then
  api_port=${RMQTOPO_API_URL##*:}
  for _ in $(seq 100); do
    [ "$(api GET "/queues/$v/dead.c" | jget 'd.get("messages", -1)')" = 12 ] && break; sleep 0.2
  done
  for t in "4 9 5 10" "11 19 12 20" "19 29 20 30"; do
    set -- $t
    check_rabbitmq_queue -H 127.0.0.1 --port "$api_port" --vhost "$v" --queue dead.c -w "$1,-1,-1,-1" -c "$2,-1,-1,-1" >/dev/null 2>&1; theirs=$?
    "$BIN" dlq check --queue dead.c --vhost "$v" --warning "$3" --critical "$4" >/dev/null 2>&1; ours=$?
    expect_eq "check vs check_rabbitmq_queue on 12 messages (their -w $1 -c $2, our --warning $3 --critical $4)" "$theirs" "$ours"
  done
else
  fail "check_rabbitmq_queue is not installed (scripts/setup.sh installs nagios-plugins-rabbitmq)"
fi

# --- 4. dlq status --------------------------------------------------------------------------
out=$("$BIN" dlq status "$work/t.yaml" --interval 0 2>"$work/err"); rc=$?
expect_eq "status: exit 0" 0 "$rc"
expect_contains "status: the classic DLQ with its sample's reasons" "$(echo "$out" | grep ' dead.c ')" "CRITICAL work.c:rejected=12"
expect_contains "status: the quorum DLQ is not read, and says so" "$out" "n/a: oldest, replayed and reasons not read: quorum queue: not read, as every read raises x-delivery-count"
expect_contains "status: the first line names the broker" "$(first "$out")" "$broker_line"
"$BIN" dlq status "$work/t.yaml" --interval 1 -o json > "$work/s.json" 2>"$work/err"
expect_eq "status -o json: counts, states, reasons, rate of a still queue" \
  '[[12, "CRITICAL", [["work.c", "rejected", 12]], 0.0, "classic"], [3, "WARNING", [], null, "quorum"]]' \
  "$(jget '[[q["messages"], q["state"], [[r["queue"], r["reason"], r["count"]] for r in q["reasons"]], q["rate_per_second"] if q["type"] == "classic" else None, q["type"]] for q in d["queues"]]' < "$work/s.json")"
expect_eq "status -o json: the age of dead.c is measured, dead.q's is not" '[true, false]' \
  "$(jget '[q["oldest_age_seconds"] is not None for q in d["queues"]]' < "$work/s.json")"
expect_eq "status -o json: the broker, and the interval in seconds with 3 decimals at most" \
  "[\"$RMQTOPO_API_URL\", true, 1.0]" \
  "$(jget '[d["broker"]["url"], d["broker"]["version"] is not None, d["interval_seconds"]]' < "$work/s.json")"
expect_eq "status -o json: no number printed with more than 3 decimals" 0 \
  "$(grep -cE '[0-9]\.[0-9]{4,}' "$work/s.json")"
"$BIN" dlq status "$work/t.yaml" --interval 1 -o prometheus > "$work/m.prom" 2>"$work/err"; rc=$?
expect_eq "status -o prometheus: exit 0" 0 "$rc"
out=$(promtool check metrics < "$work/m.prom" 2>&1); rc=$?
expect_eq "status -o prometheus: promtool check metrics accepts it" "0 " "$rc $out"
expect_contains "status -o prometheus: the exact count" "$(cat "$work/m.prom")" "rmqtopo_dlq_messages{vhost=\"$v\",queue=\"dead.c\"} 12"
expect_contains "status -o prometheus: per reason" "$(cat "$work/m.prom")" "rmqtopo_dlq_sampled_reason_messages{vhost=\"$v\",queue=\"dead.c\",died_in=\"work.c\",reason=\"rejected\"} 12"
mkdir "$work/tf"
"$BIN" dlq status "$work/t.yaml" --interval 0 --textfile "$work/tf/dlq.prom" > "$work/tf.out" 2>"$work/err"; rc=$?
expect_eq "status --textfile: exit 0, nothing on stdout, only the file in its folder" "0 0 dlq.prom" "$rc $(wc -c < "$work/tf.out" | tr -d ' ') $(ls "$work/tf")"
expect_eq "status --textfile: promtool check metrics accepts it" 0 "$(promtool check metrics < "$work/tf/dlq.prom" >/dev/null 2>&1; echo $?)"
out=$("$BIN" dlq status --vhost "$v" --interval 0 -o json 2>"$work/err"); rc=$?
expect_eq "status without FILE: the DLQs found on the broker (argument and policy DLXs)" \
  '0 ["dead.c", "dead.p", "dead.q"]' "$rc $(echo "$out" | jget 'sorted(q["queue"] for q in d["queues"])')"
out=$("$BIN" dlq status --interval 0 -o yaml 2>&1); rc=$?
expect_eq "status -o yaml: usage error" 64 "$rc"
out=$("$BIN" dlq check -o prometheus --queue dead.c --vhost "$v" --warning 1 2>&1); rc=$?
expect_eq "-o prometheus is for dlq status only (check: UNKNOWN 3)" 3 "$rc"

# recurrence: replay dead.c home, make them die again: they carry rmqtopo-replay-count 1
"$BIN" dlq replay dead.c --vhost "$v" >/dev/null 2>&1 || echo "setup: replay failed"
"$MSGTOOL" reject "$v" work.c 12 >/dev/null
for _ in $(seq 50); do [ "$(count "$v" dead.c)" = 12 ] && break; sleep 0.2; done
out=$("$BIN" dlq status "$work/t.yaml" --interval 0 -o json 2>"$work/err")
expect_eq "status: messages that died again after a replay are counted" 12 \
  "$(echo "$out" | jget '[q["replayed"] for q in d["queues"] if q["queue"] == "dead.c"][0]')"

# a classic DLQ with a consumer is not read: the read would hold messages from it
"$MSGTOOL" hold "$v" dead.c 120 >/dev/null 2>&1 &
holder=$!
for _ in $(seq 100); do
  [ "$("$BIN" dlq status "$work/t.yaml" --interval 0 --sample 0 -o json 2>/dev/null | jget '[q["consumers"] for q in d["queues"] if q["queue"] == "dead.c"][0]')" = 1 ] && break
  sleep 0.2
done
out=$("$BIN" dlq status "$work/t.yaml" --interval 0 -o json 2>/dev/null)
expect_eq "status: a classic DLQ with a consumer is not sampled, and says why" \
  '[1, 0, "the queue has consumers: a read would hold messages from them and change the order they see"]' \
  "$(echo "$out" | jget '[[q["consumers"], q["sampled"], q["not_sampled"]] for q in d["queues"] if q["queue"] == "dead.c"][0]')"
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
for _ in $(seq 100); do [ "$(qcount "$v" dead.c)" = 12 ] && break; sleep 0.2; done

# --- 5. a month of minute-by-minute reads, compressed: order and delivery counts unchanged ---
"$MSGTOOL" dump "$v" dead.c > "$work/c.before"
# dead.q has not been read by anyone yet: its messages were never delivered from it
for i in $(seq "$RUNS"); do
  "$BIN" dlq status "$work/t.yaml" --interval 0 >/dev/null 2>&1 || { echo "run $i failed"; break; }
done
"$MSGTOOL" dump "$v" dead.c > "$work/c.after"
expect_eq "$RUNS status runs: the classic DLQ holds the same messages in the same order" \
  "$(cat "$work/c.before")" "$(cat "$work/c.after")"
expect_eq "$RUNS status runs: the classic DLQ still holds 12" 12 "$(wc -l < "$work/c.after" | tr -d ' ')"
"$BIN" dlq inspect dead.q --vhost "$v" -o json > "$work/q.json" 2>/dev/null
expect_eq "$RUNS status runs: the quorum DLQ's messages were never delivered (no delivery count), in death order" \
  '[["q-0", 0], ["q-1", 0], ["q-2", 0]]' \
  "$(jget '[[m["message_id"], m.get("delivery_count", 0)] for m in d["messages"]]' < "$work/q.json")"

finish
