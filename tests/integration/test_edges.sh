#!/usr/bin/env bash
# Output at 3 a.m. (issue 17): plan, apply, export and the dlq commands name the broker they
# read or change (a header line, a "broker" field in JSON; export as a YAML comment, an
# archive on stdout keeps its header and the broker goes to stderr); plan -o markdown for a
# pull-request comment (summary, collapsible table, exit codes as for text, names escaped);
# --dry-run lines of messages without a message_id say why, when and what; --quiet drops
# warnings but not errors or results; JSON times and rates are rounded; a refused connection
# says refused (HTTP and AMQP, on a port nobody listens on), not a timeout.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
MSGTOOL=${MSGTOOL:-$(dirname "$BIN")/tests/msgtool}

v=rmqtopo-it-edges-$$
work=$(mktemp -d)
cleanup() {
  api DELETE "/vhosts/$v" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print(json.dumps(eval(sys.argv[1])))" "$1"; }
count() { "$MSGTOOL" dump "$1" "$2" | wc -l | tr -d ' '; }
first() { printf '%s\n' "$1" | head -n 1; }

overview=$(api GET /overview)
version=$(echo "$overview" | jget 'd["rabbitmq_version"]' | tr -d '"')
cluster=$(echo "$overview" | jget 'd["cluster_name"]' | tr -d '"')
want_line="broker: $RMQTOPO_API_URL (RabbitMQ $version, cluster $cluster)"
want_json="[\"$RMQTOPO_API_URL\", \"$version\", \"$cluster\"]"
broker_of='[d["broker"]["url"], d["broker"]["version"], d["broker"]["cluster"]]'

cat > "$work/t.yaml" <<YAML
version: 1
vhosts:
  $v:
    exchanges:
      dlx: { type: fanout }
    queues:
      work: { dead_letter_exchange: dlx }
      dead: { message_ttl: 7d, bind: [{ exchange: dlx }] }
      "pipe|queue": {}
YAML

# --- 1. which broker: plan, apply, export ----------------------------------------------------
out=$("$BIN" plan "$work/t.yaml" 2>"$work/err"); rc=$?
expect_eq "plan: exit 2 (changes)" 2 "$rc"
expect_eq "plan: the first line names the broker (URL, version, cluster)" "$want_line" "$(first "$out")"
expect_eq "plan: no credentials in the broker line" 0 "$(first "$out" | grep -c '@localhost\|guest')"
"$BIN" plan -o json "$work/t.yaml" > "$work/plan.json" 2>/dev/null
expect_eq "plan -o json: \"broker\" {url, version, cluster}" "$want_json" "$(jget "$broker_of" < "$work/plan.json")"
changes=$(jget 'len(d["changes"])' < "$work/plan.json")

# --- 2. plan -o markdown -----------------------------------------------------------------------
out=$("$BIN" plan -o markdown "$work/t.yaml" 2>"$work/err"); rc=$?
expect_eq "plan -o markdown: exit 2 as for text" 2 "$rc"
expect_eq "plan -o markdown: a summary line first" \
  "### rmqtopo plan: 6 to create, 0 to update, 0 to replace, 0 to delete (0 unmanaged)" "$(first "$out")"
expect_contains "plan -o markdown: names the broker" "$out" "$want_line"
expect_contains "plan -o markdown: a collapsible table" "$out" "<details><summary>$changes rows</summary>"
expect_eq "plan -o markdown: the table closes" "</details>" "$(printf '%s\n' "$out" | tail -n 1)"
expect_eq "plan -o markdown: one row per change, after the header and the rule" "$changes" \
  "$(printf '%s\n' "$out" | grep -c '^| [^|-]')"
expect_contains "plan -o markdown: a '|' in a name cannot split a cell" "$out" "queue 'pipe\\|queue'"
expect_eq "plan -o markdown: every row has 5 cells" 1 \
  "$(printf '%s\n' "$out" | grep '^| ' | python3 -c "import re,sys; print(int(all(len(re.split(r'(?<!\\\\)\\|', l.strip())) == 7 for l in sys.stdin)))")"
out=$("$BIN" apply --dry-run -o markdown "$work/t.yaml" 2>/dev/null); rc=$?
expect_eq "apply --dry-run -o markdown: the same, exit 2" "$rc $(first "$out")" \
  "2 ### rmqtopo plan: 6 to create, 0 to update, 0 to replace, 0 to delete (0 unmanaged)"
out=$("$BIN" validate -o markdown "$work/t.yaml" 2>&1); rc=$?
expect_eq "-o markdown is for plan only: usage error 64" 64 "$rc"

out=$("$BIN" apply "$work/t.yaml" 2>"$work/err"); rc=$?
expect_eq "apply: exit 0" 0 "$rc"
expect_eq "apply: the first line names the broker" "$want_line" "$(first "$out")"
out=$("$BIN" plan -o markdown "$work/t.yaml" 2>/dev/null); rc=$?
expect_eq "plan -o markdown after apply: exit 0, no changes, no table" "0 ### rmqtopo plan: no changes 0" \
  "$rc $(first "$out") $(printf '%s\n' "$out" | grep -c details)"
"$BIN" apply -o json "$work/t.yaml" > "$work/apply.json" 2>/dev/null
expect_eq "apply -o json: \"broker\"" "$want_json" "$(jget "$broker_of" < "$work/apply.json")"

out=$("$BIN" export --vhost "$v" 2>/dev/null)
expect_eq "export: the broker as a YAML comment" "# $want_line" "$(printf '%s\n' "$out" | sed -n 2p)"
expect_eq "export -o json: \"broker\"" "$want_json" \
  "$("$BIN" export --vhost "$v" -o json 2>/dev/null | jget "$broker_of")"

# --- 3. messages without a message_id: the dry run says which --------------------------------
for body in 'first\u0001line\nsecond' '{"order": 17, "amount": "12.50", "currency": "EUR", "note": "a long body to cut"}'; do
  api POST "/exchanges/$v/amq.default/publish" \
    "{\"properties\":{},\"routing_key\":\"work\",\"payload\":\"$(printf '%s' "$body" | sed 's/"/\\"/g')\",\"payload_encoding\":\"string\"}" >/dev/null
done
"$MSGTOOL" reject "$v" work 2 >/dev/null 2>&1
for _ in $(seq 50); do [ "$(count "$v" dead)" = 2 ] && break; sleep 0.2; done
expect_eq "setup: 2 messages without an id died into 'dead'" 2 "$(count "$v" dead)"

out=$("$BIN" dlq replay dead --vhost "$v" --dry-run 2>"$work/err"); rc=$?
expect_eq "replay --dry-run: exit 0" 0 "$rc"
expect_eq "replay --dry-run: the first line names the broker" "$want_line" "$(first "$out")"
expect_contains "replay --dry-run: a message without an id: reason, age, body (control bytes escaped)" \
  "$out" "(no message_id: rejected, "
expect_contains "replay --dry-run: its body, escaped" "$out" "body first\\x01line\\nsecond) -> queue 'work'"
expect_contains "replay --dry-run: a long body is cut" "$out" 'body {"order": 17, "amount": "12.50", "curren...) -> queue'
expect_eq "replay --dry-run: no bare '-' lines" 0 "$(printf '%s\n' "$out" | grep -c '^- ')"
expect_eq "replay --dry-run: its age" 2 "$(printf '%s\n' "$out" | grep -cE 'rejected, [0-9]+s ago')"
"$BIN" dlq replay dead --vhost "$v" --dry-run -o json > "$work/dry.json" 2>/dev/null
expect_eq "replay --dry-run -o json: broker, and each message's reason and body preview" \
  "[$want_json, [\"rejected\", \"rejected\"], \"first\\u0001line\\nsecond\"]" \
  "$(jget "[$broker_of, [m['reason'] for m in d['messages']], d['messages'][0]['body_preview']]" < "$work/dry.json")"

# --- 4. --quiet: no warnings, the same results, errors still said ----------------------------
"$BIN" dlq replay dead --vhost "$v" --dry-run --to-queue dead > "$work/loud.out" 2>"$work/loud.err"
"$BIN" dlq replay dead --vhost "$v" --dry-run --to-queue dead -q > "$work/quiet.out" 2>"$work/quiet.err"
expect_contains "without --quiet: the warning" "$(cat "$work/loud.err")" "warning: queue 'dead' is the queue being replayed"
expect_eq "--quiet: no warning" "" "$(cat "$work/quiet.err")"
ages() { sed -E 's/[0-9]+s ago/Ns ago/' "$1"; }
expect_eq "--quiet: the same result on stdout" "$(ages "$work/loud.out")" "$(ages "$work/quiet.out")"
out=$("$BIN" --quiet dlq replay nosuch --vhost "$v" 2>&1); rc=$?
expect_eq "--quiet: an error is still said, exit 1" "1 1" "$rc $(printf '%s\n' "$out" | grep -c "nosuch")"

# --- 5. the dlq commands name the broker; JSON numbers rounded -------------------------------
out=$("$BIN" dlq inspect dead --vhost "$v" 2>/dev/null)
expect_eq "inspect: the first line names the broker" "$want_line" "$(first "$out")"
expect_eq "inspect -o json: \"broker\"" "$want_json" \
  "$("$BIN" dlq inspect dead --vhost "$v" -o json 2>/dev/null | jget "$broker_of")"
out=$("$BIN" dlq status --vhost "$v" --interval 0 2>/dev/null)
expect_eq "status: the first line names the broker" "$want_line" "$(first "$out")"

"$BIN" dlq archive dead --vhost "$v" --copy --file - > "$work/a.jsonl" 2>"$work/a.err"; rc=$?
expect_eq "archive --copy --file -: exit 0, its header stays the first line on stdout" \
  '0 "rmqtopo-archive"' "$rc $(head -n 1 "$work/a.jsonl" | jget 'd["format"]')"
expect_contains "archive --file -: the broker line goes to stderr" "$(cat "$work/a.err")" "$want_line"
expect_eq "archive --file -: stdout holds the header and the 2 records only" 3 "$(wc -l < "$work/a.jsonl" | tr -d ' ')"

"$BIN" dlq replay dead --vhost "$v" -o json > "$work/replay.json" 2>/dev/null; rc=$?
expect_eq "replay -o json: exit 0, 2 moved, broker" "0 [2, $want_json]" "$rc $(jget "[d['moved'], $broker_of]" < "$work/replay.json")"
expect_eq "replay: the messages are home, none left (2 sent, 2 found)" "2 0" "$(count "$v" work) $(count "$v" dead)"
expect_eq "replay -o json: seconds to the ms, rate to 0.1 msg/s" 1 \
  "$(grep -cE '"seconds": [0-9]+\.[0-9]{1,3},?$' "$work/replay.json")"
expect_eq "replay -o json: the rate has one decimal" 1 "$(grep -cE '"rate": [0-9]+\.[0-9],?$' "$work/replay.json")"

"$MSGTOOL" reject "$v" work 2 >/dev/null 2>&1
for _ in $(seq 50); do [ "$(count "$v" dead)" = 2 ] && break; sleep 0.2; done
"$BIN" dlq archive dead --vhost "$v" --file "$work/b.jsonl" > "$work/b.out" 2>/dev/null; rc=$?
expect_eq "archive to a file: exit 0, the first line names the broker" "0 $want_line" "$rc $(head -n 1 "$work/b.out")"
"$BIN" dlq archive dead --vhost "$v" --file "$work/c.jsonl" -o json > "$work/c.json" 2>/dev/null
expect_eq "archive -o json (empty queue): \"broker\", seconds rounded" "[$want_json, true]" \
  "$(jget "[$broker_of, round(d['seconds'], 3) == d['seconds']]" < "$work/c.json")"
out=$("$BIN" dlq restore "$work/b.jsonl" --to-queue dead 2>/dev/null); rc=$?
expect_eq "restore: exit 0, the first line names the broker" "0 $want_line" "$rc $(first "$out")"
expect_eq "restore: both records back (2 archived, 2 restored)" 2 "$(count "$v" dead)"
"$BIN" dlq restore "$work/b.jsonl" --to-queue dead --dry-run -o json > "$work/r.json" 2>/dev/null
expect_eq "restore -o json: \"broker\"" "$want_json" "$(jget "$broker_of" < "$work/r.json")"

# --- 6. refused, not timed out ----------------------------------------------------------------
port=$(free_port)
out=$("$BIN" plan "$work/t.yaml" --api-url "http://127.0.0.1:$port" 2>&1); rc=$?
expect_eq "plan, nothing listens on the port: exit 1" 1 "$rc"
expect_contains "plan, nothing listens: says refused" "$out" "connection refused: nothing listens at http://127.0.0.1:$port"
expect_eq "plan, nothing listens: does not claim a timeout" 0 "$(printf '%s\n' "$out" | grep -c 'within\|timed out')"
out=$("$BIN" export --vhost "$v" --api-url "http://127.0.0.1:$port" 2>&1); rc=$?
expect_contains "export, nothing listens: says refused" "$rc $out" "1 rmqtopo: GET /api/overview: connection refused"
out=$("$BIN" dlq inspect dead --vhost "$v" --amqp-url "amqp://127.0.0.1:$port" 2>&1); rc=$?
expect_eq "dlq inspect, nothing listens on the AMQP port: exit 1" 1 "$rc"
expect_contains "dlq inspect, nothing listens on the AMQP port: says refused" "$out" \
  "connection refused: nothing listens at 127.0.0.1:$port"
expect_eq "dlq inspect, nothing listens: does not claim a timeout" 0 "$(printf '%s\n' "$out" | grep -c 'timed out\|socket error')"

finish
