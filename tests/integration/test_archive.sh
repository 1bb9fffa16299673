#!/usr/bin/env bash
# dlq archive and dlq restore against a real broker: --copy leaves the queue exactly as it was,
# a move empties it, restore to the same and to another queue gives byte- and type-identical
# messages in the same order (death headers included), filters, --append, an 8 MiB body and
# binary bodies, quorum queues (delivery counters kept out of the headers), malformed and
# truncated archives, --skip to resume, and kill -9 in the middle of archiving 20,000 messages:
# every message is in the file or still in the queue (ids counted). Then (issue 12): headers
# nested deeper than the format holds stay in the queue, named by position, while the rest is
# archived (move and --copy); repeated header keys survive archive + restore entry for entry;
# a version-1 archive is read and appended to; two writers of one file (the second fails at
# once and takes nothing); a restore of a file being written; directories.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
MSGTOOL=${MSGTOOL:-$(dirname "$BIN")/tests/msgtool}

va=rmqtopo-it-arch-$$
work=$(mktemp -d)
# restore's ledger (test_restore_ledger.sh) in the scratch directory; the restores after
# section 4 publish records restored before on purpose (test fixtures), so they pass --again
export RMQTOPO_STATE_DIR="$work/state"
cleanup() {
  api DELETE "/vhosts/$va" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print(json.dumps(eval(sys.argv[1])))" "$1"; }
count() { "$MSGTOOL" dump "$1" "$2" | wc -l | tr -d ' '; }
purge() { api DELETE "/queues/$1/$2/contents" >/dev/null; }
# the message ids of an archive's complete records, one a line, sorted
ids() {
  python3 - "$1" <<'PY'
import json, sys
data = open(sys.argv[1], "rb").read().split(b"\n")
for line in data[1:-1]:          # header first; the piece after the last newline is not a record
    print(json.loads(line)["properties"]["message_id"])
PY
}

cat > "$work/t.yaml" <<YAML
version: 1
vhosts:
  $va:
    exchanges:
      work: { type: direct }
      dlx: { type: fanout }
      alt: { type: direct }
    queues:
      work.a:
        dead_letter_exchange: dlx
        bind: [{ exchange: work, routing_key: a }]
      work.ttl:
        message_ttl: 1s
        dead_letter_exchange: dlx
        bind: [{ exchange: work, routing_key: t }]
      work.q:
        type: quorum
        initial_group_size: 1
        dead_letter_exchange: dlx
        bind: [{ exchange: work, routing_key: q }]
      dead:
        bind: [{ exchange: dlx }]
      dead.q:
        type: quorum
        initial_group_size: 1
        bind: [{ exchange: dlx }]
      other: {}
      routed:
        bind: [{ exchange: alt, routing_key: r }]
      big: {}
      bin: {}
      k.dlq: {}
YAML
"$BIN" apply --yes "$work/t.yaml" >/dev/null 2>&1 || echo "setup: apply failed"

# 20 rejected from work.a, 5 expired in work.ttl, 8 rejected from work.q: into dead and dead.q
MSGTOOL_EXCHANGE=work "$MSGTOOL" publish "$va" a 20 rej-a
MSGTOOL_EXCHANGE=work "$MSGTOOL" publish "$va" t 5 exp
MSGTOOL_EXCHANGE=work "$MSGTOOL" publish "$va" q 8 rej-q
"$MSGTOOL" reject "$va" work.a 20
"$MSGTOOL" reject "$va" work.q 8
for _ in $(seq 50); do [ "$(count "$va" dead)" = 33 ] && break; sleep 0.2; done
expect_eq "setup: 33 messages died into the classic DLQ" 33 "$(count "$va" dead)"
"$MSGTOOL" dump "$va" dead > "$work/dead.before"

# --- 1. --copy ----------------------------------------------------------------------------
out=$("$BIN" dlq archive dead --vhost "$va" --file "$work/copy.jsonl" --copy -o json 2>"$work/err"); rc=$?
expect_eq "archive --copy: exit 0, 33 archived" '0 33' "$rc $(echo "$out" | jget 'd["archived"]')"
expect_eq "archive --copy: the queue is exactly as it was (same messages, same order)" \
  "$(cat "$work/dead.before")" "$("$MSGTOOL" dump "$va" dead)"
expect_eq "archive: header line (format version 2)" '["rmqtopo-archive", 2, "'"$va"'", "dead", "3.10.8"]' \
  "$(head -n 1 "$work/copy.jsonl" | jget '[d["format"], d["version"], d["vhost"], d["queue"], d["broker"]]')"
expect_eq "archive: one line per message, in queue order" "$(cut -d' ' -f1 "$work/dead.before")" "$(ids "$work/copy.jsonl")"
expect_eq "archive: the file is private (0600)" 600 "$(stat -c %a "$work/copy.jsonl")"
# (the first of work.a's: on a loaded machine work.ttl's may expire into dead before the rejects)
rec=$(tail -n +2 "$work/copy.jsonl" | grep -m1 '"rej-a-')
expect_eq "archive: a record's death summary, delivery data and typed headers" \
  '["rejected", "work.a", "work", ["a"], 1, "dlx", {"type": "i64", "value": 0}, {"type": "timestamp", "value": 1700000000}, 15, 64]' \
  "$(echo "$rec" | jget '[d["death"]["reason"], d["death"]["queue"], d["death"]["exchange"], d["death"]["routing_keys"], d["death"]["count"], d["exchange"], d["headers"]["h-long"], d["headers"]["h-ts"], d["body_size"], len(d["body_sha256"])]')"
expect_eq "archive: x-death is kept among the headers, typed" '"array"' "$(echo "$rec" | jget 'd["headers"]["x-death"]["type"]')"

out=$("$BIN" dlq archive dead --vhost "$va" --file "$work/copy.jsonl" 2>&1); rc=$?
expect_eq "archive to an existing file without --append: exit 1" 1 "$rc"
expect_contains "archive to an existing file: says it is not overwritten" "$out" "exists: it is not overwritten (give --append"
expect_eq "archive to an existing file: nothing taken" 33 "$(count "$va" dead)"

# --- 2. restore of a copy into another queue, then into the same ---------------------------
out=$("$BIN" dlq restore "$work/copy.jsonl" --to-queue other -o json 2>/dev/null); rc=$?
expect_eq "restore --to-queue: exit 0, 33 published" '0 33' "$rc $(echo "$out" | jget 'd["published"]')"
expect_eq "restore --to-queue: byte- and type-identical, death headers included, same order" \
  "$(cat "$work/dead.before")" "$("$MSGTOOL" dump "$va" other)"

# --- 3. a move, then restore home --------------------------------------------------------------
out=$("$BIN" dlq archive dead --vhost "$va" --file "$work/move.jsonl" -o json 2>/dev/null); rc=$?
expect_eq "archive (move): exit 0, 33 archived" '0 33' "$rc $(echo "$out" | jget 'd["archived"]')"
expect_eq "archive (move): the queue is empty" 0 "$(count "$va" dead)"
expect_eq "archive (move): the same records as the copy" "$(cut -d, -f2- <(sed 1d "$work/copy.jsonl") | sed 's/"redelivered":[a-z]*,//' | md5sum)" \
  "$(cut -d, -f2- <(sed 1d "$work/move.jsonl") | sed 's/"redelivered":[a-z]*,//' | md5sum)"
out=$("$BIN" dlq restore "$work/move.jsonl" 2>&1); rc=$?
expect_eq "restore (home): exit 0" 0 "$rc"
expect_contains "restore (home): says where" "$out" "restored 33 record(s) of '$work/move.jsonl' to queue 'dead' in vhost '$va'"
expect_eq "restore (home): the queue holds what it held, byte- and type-identical, in order" \
  "$(cat "$work/dead.before")" "$("$MSGTOOL" dump "$va" dead)"

# --- 4. filters and --limit, --append --------------------------------------------------------
out=$("$BIN" dlq archive dead --vhost "$va" --file "$work/f.jsonl" --reason expired -o json 2>/dev/null); rc=$?
expect_eq "archive --reason expired: exit 0, 5 archived, 28 not selected" '0 5 28' "$rc $(echo "$out" | jget '"%d %d" % (d["archived"], d["filtered"])' | tr -d '"')"
expect_eq "archive --reason: what it did not select stays, in order" \
  "$(grep -v '^exp-' "$work/dead.before")" "$("$MSGTOOL" dump "$va" dead)"
out=$("$BIN" dlq archive dead --vhost "$va" --file "$work/f.jsonl" --append --from-queue work.a --limit 3 -o json 2>/dev/null); rc=$?
expect_eq "archive --append --from-queue --limit 3: exit 0, 3 archived" '0 3' "$rc $(echo "$out" | jget 'd["archived"]')"
expect_eq "archive --append: one header, 8 records" '1 8' \
  "$(grep -c '"format":"rmqtopo-archive"' "$work/f.jsonl") $(ids "$work/f.jsonl" | wc -l | tr -d ' ')"
out=$("$BIN" dlq archive other --vhost "$va" --file "$work/f.jsonl" --append 2>&1); rc=$?
expect_eq "archive --append of another queue: exit 1" 1 "$rc"
expect_contains "archive --append of another queue: says why" "$out" "archives queue 'dead' of vhost '$va': --append adds only messages of that queue"
# a truncated last line (a crash while writing) is cut before appending
printf '{"exchange":"dlx","routing_key":"","prop' >> "$work/f.jsonl"
out=$("$BIN" dlq archive dead --vhost "$va" --file "$work/f.jsonl" --append --from-queue work.a --limit 2 2>&1); rc=$?
expect_eq "archive --append after a truncated line: exit 0" 0 "$rc"
expect_contains "archive --append after a truncated line: says it cut it" "$out" "ended in a piece of a record"
expect_eq "archive --append after a truncated line: 10 whole records" 10 "$(ids "$work/f.jsonl" | wc -l | tr -d ' ')"
# a truncated line longer than the 64 KiB blocks the cut reads back by
python3 -c 'import sys; sys.stdout.write("{\"body\":\"" + "A" * 150000)' >> "$work/f.jsonl"
out=$("$BIN" dlq archive dead --vhost "$va" --file "$work/f.jsonl" --append --from-queue work.a --limit 1 2>&1); rc=$?
expect_eq "archive --append after a 150 KB truncated line: exit 0, it is cut, 11 whole records" '0 11' \
  "$rc $(ids "$work/f.jsonl" | wc -l | tr -d ' ')"
expect_contains "archive --append after a 150 KB truncated line: says how much it cut" "$out" "(150009 bytes"
"$BIN" dlq restore "$work/f.jsonl" --dry-run >/dev/null 2>&1
expect_eq "the appended archive reads cleanly (restore --dry-run: exit 0)" 0 "$?"

# --- 5. restore through an exchange, --skip, malformed and truncated archives ----------------
purge "$va" routed
out=$("$BIN" dlq restore --again "$work/f.jsonl" --to-exchange alt --routing-key r --skip 4 -o json 2>/dev/null); rc=$?
expect_eq "restore --to-exchange --routing-key --skip 4: exit 0, 7 published, 4 skipped" '0 7 4' \
  "$rc $(echo "$out" | jget '"%d %d" % (d["published"], d["skipped"])' | tr -d '"')"
expect_eq "restore --skip 4: the records after the fourth, in order" "$(ids "$work/f.jsonl" | tail -n 7)" \
  "$("$MSGTOOL" dump "$va" routed | cut -d' ' -f1)"
out=$("$BIN" dlq restore --again "$work/f.jsonl" --to-exchange alt -o json 2>/dev/null); rc=$?
expect_eq "restore --to-exchange without a key: each record's key (none routes): exit 1, returned" '1 0 1' \
  "$rc $(echo "$out" | jget '"%d %d" % (d["published"], d["returned"] > 0)' | tr -d '"')"
out=$("$BIN" dlq restore --again "$work/f.jsonl" --to-queue missing 2>&1); rc=$?
expect_eq "restore to a missing queue: exit 1" 1 "$rc"
expect_contains "restore to a missing queue: says so" "$out" "queue 'missing' does not exist in vhost '$va': nothing was published"

purge "$va" other
{ sed -n 1,4p "$work/move.jsonl"; sed -n 5p "$work/move.jsonl" | sed 's/"body":"./"body":"!/'; sed -n '6,$p' "$work/move.jsonl"; } > "$work/bad.jsonl"
out=$("$BIN" dlq restore --again "$work/bad.jsonl" --to-queue other -o json 2>"$work/bad.err"); rc=$?
expect_eq "restore of a malformed record: exit 1, line 5, 3 published before it, resume at 3" '1 5 3 3' \
  "$rc $(echo "$out" | jget '"%d %d %d" % (d["bad_line"], d["published"], d["resume_skip"])' | tr -d '"')"
expect_contains "restore of a malformed record: names the line and the fault" "$(cat "$work/bad.err")" "bad.jsonl:5: malformed record, not published: body: not valid base64"
expect_eq "restore of a malformed record: nothing after it was published" 3 "$(count "$va" other)"
{ sed -n 1,4p "$work/move.jsonl"; sed -n 5p "$work/move.jsonl" | sed 's/"body_size":[0-9]*/"body_size":1/'; } > "$work/bad2.jsonl"
out=$("$BIN" dlq restore "$work/bad2.jsonl" --dry-run 2>&1); rc=$?
expect_eq "restore --dry-run of a body that does not match its size: exit 1" 1 "$rc"
expect_contains "restore --dry-run: names the line" "$out" "bad2.jsonl:5: malformed record, not published: body_size: does not match"
{ sed -n 1,4p "$work/move.jsonl"; sed -n 5p "$work/move.jsonl" | sed 's/"body":"./"body":"!/'; sed -n 6,7p "$work/move.jsonl"; sed -n 8p "$work/move.jsonl" | sed 's/"body_size":[0-9]*/"body_size":1/'; sed -n '9,$p' "$work/move.jsonl"; } > "$work/bad3.jsonl"
out=$("$BIN" dlq restore "$work/bad3.jsonl" --dry-run -o json 2>"$work/bad3.err"); rc=$?
expect_eq "restore --dry-run with two bad records: exit 1, both counted, 31 would be published" '1 2 31' \
  "$rc $(echo "$out" | jget '"%d %d" % (d["bad_records"], d["would_publish"])' | tr -d '"')"
expect_contains "restore --dry-run: the later bad record is reported too" "$(cat "$work/bad3.err")" "bad3.jsonl:8: malformed record"
expect_contains "restore --dry-run: the error counts them and names the first" "$(cat "$work/bad3.err")" "2 malformed record(s); the first: "
out=$("$BIN" dlq restore "$work/move.jsonl" --dry-run --to-queue nosuch 2>&1); rc=$?
expect_eq "restore --dry-run checks the target: exit 1 for a missing queue" 1 "$rc"
expect_contains "restore --dry-run checks the target: says so" "$out" "queue 'nosuch' does not exist"
out=$("$BIN" dlq restore "$work/copy.jsonl" --dry-run 2>&1); rc=$?
expect_contains "restore of a --copy archive into its own queue: warns that it doubles them" "$out" "was made with --copy: its messages may still be in queue 'dead'"
{ sed -n 1,3p "$work/move.jsonl"; sed -n 4p "$work/move.jsonl" | head -c 200; } > "$work/trunc.jsonl"
purge "$va" other
out=$("$BIN" dlq restore --again "$work/trunc.jsonl" --to-queue other -o json 2>"$work/trunc.err"); rc=$?
expect_eq "restore of an archive with a truncated last line: exit 0, 2 published, line 4 reported" '0 2 4' \
  "$rc $(echo "$out" | jget '"%d %d" % (d["published"], d["truncated_line"])' | tr -d '"')"
expect_contains "restore: the truncated line is reported" "$(cat "$work/trunc.err")" "trunc.jsonl:4: the last line is a piece of a record"
echo '{"format":"rmqtopo-archive","version":3,"vhost":"v","queue":"q"}' > "$work/v3.jsonl"
out=$("$BIN" dlq restore --again "$work/v3.jsonl" 2>&1); rc=$?
expect_eq "restore of an unknown major version: exit 1" 1 "$rc"
expect_contains "restore of an unknown major version: says so" "$out" "archive format version 3 is not known"
out=$("$BIN" dlq restore --again "$work/t.yaml" 2>&1); rc=$?
expect_eq "restore of a file that is not an archive: exit 1" 1 "$rc"
out=$("$BIN" dlq archive dead --vhost "$va" 2>&1); rc=$?
expect_eq "archive without --file: exit 64" 64 "$rc"

# --- 6. quorum DLQ: delivery counters stay out of the headers -------------------------------
"$MSGTOOL" dump "$va" dead.q > "$work/dq.before"
out=$("$BIN" dlq archive dead.q --vhost "$va" --file "$work/q.jsonl" -o json 2>/dev/null); rc=$?
expect_eq "archive of a quorum DLQ: exit 0, 33 archived, empty after" '0 33 0' "$rc $(echo "$out" | jget 'd["archived"]') $(count "$va" dead.q)"
expect_eq "archive of a quorum DLQ: x-delivery-count in delivery_counters, never in headers" '[0, 33]' \
  "$(python3 -c "
import json,sys
recs=[json.loads(l) for l in open(sys.argv[1]).read().splitlines()[1:]]
print(json.dumps([sum('x-delivery-count' in r.get('headers',{}) for r in recs), sum('x-delivery-count' in r['delivery_counters'] for r in recs)]))" "$work/q.jsonl")"
"$BIN" dlq restore --again "$work/q.jsonl" >/dev/null 2>&1
expect_eq "restore into the quorum DLQ: the same messages" "$(sort "$work/dq.before")" "$("$MSGTOOL" dump "$va" dead.q | sort)"

# --- 7. an 8 MiB body, binary bodies, stdout ---------------------------------------------------
MSGTOOL_SIZE=8388608 "$MSGTOOL" publish "$va" big 1 huge
MSGTOOL_BINARY=1 "$MSGTOOL" publish "$va" bin 20 bin
"$MSGTOOL" dump "$va" big > "$work/big.before"
"$MSGTOOL" dump "$va" bin > "$work/bin.before"
"$BIN" dlq archive big --vhost "$va" --file "$work/big.jsonl" >/dev/null 2>&1
expect_eq "an 8 MiB body: archived, the queue empty" '0 0' "$? $(count "$va" big)"
"$BIN" dlq restore --again "$work/big.jsonl" >/dev/null 2>&1
expect_eq "an 8 MiB body: restored identical" "$(cat "$work/big.before")" "$("$MSGTOOL" dump "$va" big)"
"$BIN" dlq archive bin --vhost "$va" --file - 2>"$work/bin.err" > "$work/bin.jsonl"
expect_eq "archive --file -: exit 0, the summary on stderr, 21 lines on stdout" '0 21' "$? $(wc -l < "$work/bin.jsonl" | tr -d ' ')"
expect_contains "archive --file -: the summary went to stderr" "$(cat "$work/bin.err")" "archived 20 message(s) of 'bin' into '-'"
"$BIN" dlq restore --again - < "$work/bin.jsonl" >/dev/null 2>&1
expect_eq "binary bodies: restored from stdin, identical" "$(cat "$work/bin.before")" "$("$MSGTOOL" dump "$va" bin)"

out=$("$BIN" dlq archive bin --vhost "$va" --file - 2>&1 | cat); rc=${PIPESTATUS[0]}
expect_contains "archive --file - into a pipe without --copy: refused" "$out" "give --copy, or --file F"
expect_eq "archive --file - into a pipe without --copy: nothing taken" 20 "$(count "$va" bin)"
n_lines=$("$BIN" dlq archive bin --vhost "$va" --copy --file - 2>/dev/null | wc -l | tr -d ' ')
expect_eq "archive --copy --file - into a pipe: 21 lines, the queue as it was" '21 20' "$n_lines $(count "$va" bin)"

# --- 7b. a whole last record without its newline is kept, not cut ---------------------------------
purge "$va" other
"$BIN" dlq archive bin --vhost "$va" --copy --limit 3 --file "$work/nl.jsonl" >/dev/null 2>&1
truncate -s -1 "$work/nl.jsonl"
out=$("$BIN" dlq restore --again "$work/nl.jsonl" --to-queue other 2>&1); rc=$?
expect_eq "restore of a whole last record without its newline: exit 0, all 3 published" '0 3' "$rc $(count "$va" other)"
expect_contains "restore of a whole last record without its newline: says so" "$out" "lacks its newline but is a whole record: published"
out=$("$BIN" dlq archive bin --vhost "$va" --copy --limit 2 --append --file "$work/nl.jsonl" 2>&1); rc=$?
expect_eq "archive --append after a whole record without its newline: exit 0, 5 records, none cut" '0 5' \
  "$rc $(ids "$work/nl.jsonl" | wc -l | tr -d ' ')"
expect_contains "archive --append: says it added the newline" "$out" "the newline was added"

# --- 7c. resume advice, --skip 0, a delivery mode the broker refuses -------------------------------
out=$("$BIN" dlq restore --again "$work/nl.jsonl" --to-exchange alt --routing-key nowhere 2>&1); rc=$?
expect_eq "restore that the broker returns: exit 1" 1 "$rc"
expect_contains "restore: the resume advice keeps the target" "$out" "--to-exchange 'alt' --routing-key 'nowhere' --skip 0"
expect_contains "restore: a returned message is named without a queue" "$out" "(312 NO_ROUTE: exchange 'alt', routing key 'nowhere'); stopping"
"$BIN" dlq restore --again "$work/nl.jsonl" --to-queue other --skip 0 >/dev/null 2>&1
expect_eq "restore --skip 0 is taken" 0 "$?"
{ sed -n 1,2p "$work/nl.jsonl"; sed -n 3p "$work/nl.jsonl" | sed 's/"delivery_mode":[12]/"delivery_mode":7/'; } > "$work/dm.jsonl"
out=$("$BIN" dlq restore --again "$work/dm.jsonl" --to-queue other 2>&1); rc=$?
expect_eq "restore of a delivery mode the broker refuses: exit 1" 1 "$rc"
expect_contains "restore of a delivery mode the broker refuses: names the line" "$out" "dm.jsonl:3: malformed record, not published: properties.delivery_mode: 7"

# --- 7d. a quorum queue at its delivery limit: --copy says what the broker did ----------------------
api PUT "/queues/$va/qdl" '{"durable":true,"arguments":{"x-queue-type":"quorum","x-delivery-limit":1}}' >/dev/null
"$MSGTOOL" publish "$va" qdl 4 dl
"$BIN" dlq archive qdl --vhost "$va" --copy --file "$work/dl1.jsonl" >/dev/null 2>&1; rc=$?
qtotal() { api GET "/queues/$va?disable_stats=true&enable_queue_totals=true&columns=name,messages" | jget '[q["messages"] for q in d if q["name"] == "qdl"][0]'; }
for _ in $(seq 25); do [ "$(qtotal)" = 4 ] && break; sleep 0.2; done
expect_eq "--copy of a quorum queue below its delivery limit: exit 0, all stay" '0 4' "$rc $(qtotal)"
out=$("$BIN" dlq archive qdl --vhost "$va" --copy --file "$work/dl2.jsonl" -o json 2>"$work/dl2.err"); rc=$?
expect_eq "--copy at the delivery limit: exit 1, 4 archived, 4 at the limit" '1 [4, 4]' "$rc $(echo "$out" | jget '[d["archived"], d["at_delivery_limit"]]')"
expect_contains "--copy at the delivery limit: says the broker took them" "$(cat "$work/dl2.err")" "giving them back made the broker dead-letter them"

# --- 8. kill -9 in the middle of archiving 20,000 messages: nothing lost -----------------------
n=20000
MSGTOOL_SIZE=512 "$MSGTOOL" publish "$va" k.dlq $n k
"$MSGTOOL" dump "$va" k.dlq | cut -d' ' -f1 | sort > "$work/k.all"
for delay in 0.3 0.6; do
  "$BIN" dlq archive k.dlq --vhost "$va" --file "$work/k.jsonl" --append >/dev/null 2>&1 & pid=$!
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  in_file=$(ids "$work/k.jsonl" | wc -l | tr -d ' ')
  expect_eq "kill -9 at ${delay}s while archiving: every id in the file or in the queue" "$(cat "$work/k.all")" \
    "$( { ids "$work/k.jsonl"; "$MSGTOOL" dump "$va" k.dlq | cut -d' ' -f1; } | sort -u)"
  echo "  (kill at ${delay}s: $in_file in the file, $(count "$va" k.dlq) in the queue)"
done
"$BIN" dlq archive k.dlq --vhost "$va" --file "$work/k.jsonl" --append >/dev/null 2>&1
expect_eq "after the kills, a re-run with --append finishes: exit 0, the queue empty" '0 0' "$? $(count "$va" k.dlq)"
expect_eq "after the re-run: every id in the file" "$(cat "$work/k.all")" "$(ids "$work/k.jsonl" | sort -u)"
total=$(ids "$work/k.jsonl" | wc -l | tr -d ' '); echo "  ($((total - n)) duplicates after 2 kills)"
expect_eq "duplicates stay within the prefetch at each kill (2 kills x 2048)" 1 "$(( total - n <= 2 * 2048 ))"
"$BIN" dlq restore "$work/k.jsonl" --dry-run >/dev/null 2>&1
expect_eq "the archive written across kills reads cleanly" 0 "$?"

# --- 10. headers nested deeper than the format holds: they stay, named by position ---------------
# deep.q: 10 plain, 1 nested 65 levels (position 11), 10 plain, 1 nested 66 (position 22), 1 nested
# exactly 64 (position 23, the most the format holds), 5 plain: 28 sent
api PUT "/queues/$va/deep.q" '{"durable":true}' >/dev/null
api PUT "/queues/$va/deep.back" '{"durable":true}' >/dev/null
"$MSGTOOL" publish "$va" deep.q 10 p1
MSGTOOL_DEPTH=65 "$MSGTOOL" publish "$va" deep.q 1 d65
"$MSGTOOL" publish "$va" deep.q 10 p2
MSGTOOL_DEPTH=66 "$MSGTOOL" publish "$va" deep.q 1 d66
MSGTOOL_DEPTH=64 "$MSGTOOL" publish "$va" deep.q 1 d64
"$MSGTOOL" publish "$va" deep.q 5 p3
"$MSGTOOL" dump "$va" deep.q > "$work/deep.before"
"$MSGTOOL" headers "$va" deep.q > "$work/deep.h.before"
sent=$(cut -d' ' -f1 "$work/deep.before" | sort)
expect_eq "deep: 28 messages sent" 28 "$(echo "$sent" | wc -l | tr -d ' ')"

out=$("$BIN" dlq archive deep.q --vhost "$va" --copy --file "$work/deepc.jsonl" -o json 2>"$work/deepc.err"); rc=$?
expect_eq "deep --copy: exit 1, 26 archived, 2 not archivable (the first at position 11), 0 filtered" '1 [26, 2, 11, 0]' \
  "$rc $(echo "$out" | jget '[d["archived"], d["not_archivable"], d["first_not_archivable"], d["filtered"]]')"
expect_contains "deep --copy: each one is named on stderr" "$(cat "$work/deepc.err")" "message 22 of 'deep.q' (delivery tag 22, routing key 'deep.q', message_id 'd66-0')"
expect_eq "deep --copy: the queue is exactly as it was" "$(cat "$work/deep.before")" "$("$MSGTOOL" dump "$va" deep.q)"
expect_eq "deep --copy: the file holds every message but the two too deep" \
  "$(grep -v '^d6[56]-' "$work/deep.before" | cut -d' ' -f1)" "$(ids "$work/deepc.jsonl")"

out=$("$BIN" dlq archive deep.q --vhost "$va" --file "$work/deep.jsonl" 2>&1); rc=$?
expect_eq "deep (move): exit 1" 1 "$rc"
expect_contains "deep (move): names the first by position, delivery tag, routing key, id and reason" "$out" \
  "message 11 of 'deep.q' (delivery tag 11, routing key 'deep.q', message_id 'd65-0') is not archived and stays in the queue: headers.h-deep.d.d"
expect_contains "deep (move): the reason is the format's nesting limit" "$out" "tables and arrays nested deeper than 64 levels"
expect_contains "deep (move): the second is named too (the run went on)" "$out" "message 22 of 'deep.q' (delivery tag 22"
expect_contains "deep (move): the summary counts them" "$out" "2 not archivable (the first is message 11"
expect_eq "deep (move): the two stay in the queue, in order" "$(grep '^d6[56]-' "$work/deep.before")" "$("$MSGTOOL" dump "$va" deep.q)"
in_file=$(ids "$work/deep.jsonl"); in_queue=$("$MSGTOOL" dump "$va" deep.q | cut -d' ' -f1)
found=$(printf '%s\n%s\n' "$in_file" "$in_queue" | sort)
dups=$(echo "$found" | uniq -d | wc -l | tr -d ' ')
lost=$(comm -23 <(echo "$sent") <(echo "$found" | sort -u) | wc -l | tr -d ' ')
echo "  (deep: sent 28, in the archive $(echo "$in_file" | wc -l | tr -d ' '), in the queue $(echo "$in_queue" | wc -l | tr -d ' '), duplicates $dups, lost $lost)"
expect_eq "deep (move): sent 28 = 26 archived + 2 in the queue, 0 duplicates, 0 lost" '26 2 0 0' \
  "$(echo "$in_file" | wc -l | tr -d ' ') $(echo "$in_queue" | wc -l | tr -d ' ') $dups $lost"
"$BIN" dlq restore --again "$work/deep.jsonl" --to-queue deep.back >/dev/null 2>&1
expect_eq "deep: every archived record restores (exit 0)" 0 "$?"
expect_eq "deep: the message nested exactly 64 levels comes back entry for entry, typed" \
  "$(grep '^d64-' "$work/deep.h.before")" "$("$MSGTOOL" headers "$va" deep.back | grep '^d64-')"
expect_eq "deep: all 26 restored byte- and type-identical, in order" \
  "$(grep -v '^d6[56]-' "$work/deep.before")" "$("$MSGTOOL" dump "$va" deep.back)"

# --- 11. repeated header keys: archive + restore keep every entry ---------------------------------
api PUT "/queues/$va/dup.q" '{"durable":true}' >/dev/null
MSGTOOL_DUPKEYS=1 "$MSGTOOL" publish "$va" dup.q 50 dk
"$MSGTOOL" publish "$va" dup.q 50 plain
"$MSGTOOL" headers "$va" dup.q > "$work/dup.h.before"
"$MSGTOOL" dump "$va" dup.q > "$work/dup.before"
expect_eq "dup: the broker kept both entries of the repeated keys (top level and nested)" 50 \
  "$(grep -c '6465707468=l:2,66=d:3fe0000000000000,6465707468=I:3}.*682d647570=l:[0-9]*,682d6d6964=V:,682d647570=S:' "$work/dup.h.before")"
out=$("$BIN" dlq archive dup.q --vhost "$va" --file "$work/dup.jsonl" -o json 2>/dev/null); rc=$?
expect_eq "dup (move): exit 0, 100 archived, the queue empty" '0 100 0' "$rc $(echo "$out" | jget 'd["archived"]') $(count "$va" dup.q)"
expect_eq "dup: a record keeps both entries, in order, as [key, value] pairs" \
  '[["h-dup", "i64"], ["h-mid", "void"], ["h-dup", "string"]]' \
  "$(sed -n 2p "$work/dup.jsonl" | jget '[[k, v["type"]] for k, v in d["headers"] if k in ("h-dup", "h-mid")]')"
expect_eq "dup: the nested table keeps both entries too" '[["depth", "i64"], ["f", "f64"], ["depth", "i32"]]' \
  "$(sed -n 2p "$work/dup.jsonl" | jget '[[k, v["type"]] for k, v in dict((k, v) for k, v in d["headers"] if k == "h-table")["h-table"]["value"]]')"
expect_eq "dup: a record without a repeated key keeps the object form" '"dict"' \
  "$(sed -n 52p "$work/dup.jsonl" | jget 'type(d["headers"]).__name__')"
out=$("$BIN" dlq restore --again "$work/dup.jsonl" -o json 2>/dev/null); rc=$?
expect_eq "dup: restore exit 0, 100 published" '0 100' "$rc $(echo "$out" | jget 'd["published"]')"
expect_eq "dup: restored headers are byte- and type-identical, entry for entry, in order" \
  "$(cat "$work/dup.h.before")" "$("$MSGTOOL" headers "$va" dup.q)"
expect_eq "dup: restored messages have the same digests, in order (100 ids, 0 duplicates, 0 lost)" \
  "$(cat "$work/dup.before")" "$("$MSGTOOL" dump "$va" dup.q)"

# a version-1 archive: read as before, and --append writes version-1 records into it (a repeated key
# cannot go there: that message stays, named)
{ sed -n 1p "$work/dup.jsonl" | sed 's/"version":2/"version":1/'; sed -n '52,61p' "$work/dup.jsonl"; } > "$work/v1.jsonl"
purge "$va" other
out=$("$BIN" dlq restore --again "$work/v1.jsonl" --to-queue other -o json 2>/dev/null); rc=$?
expect_eq "a version-1 archive restores: exit 0, 10 published" '0 10' "$rc $(echo "$out" | jget 'd["published"]')"
out=$("$BIN" dlq archive dup.q --vhost "$va" --file "$work/v1.jsonl" --append -o json 2>"$work/v1.err"); rc=$?
expect_eq "--append to a version-1 archive: exit 1, 50 plain archived, 50 with repeated keys stay" '1 [50, 50] 50' \
  "$rc $(echo "$out" | jget '[d["archived"], d["not_archivable"]]') $(count "$va" dup.q)"
expect_contains "--append to a version-1 archive: says why and what to do" "$(cat "$work/v1.err")" \
  "a version-1 archive cannot hold a repeated key: archive into a new file, which is version 2"
expect_eq "--append to a version-1 archive: the header still says 1, and it reads cleanly" '1 0' \
  "$(head -n 1 "$work/v1.jsonl" | jget 'd["version"]') $("$BIN" dlq restore "$work/v1.jsonl" --dry-run >/dev/null 2>&1; echo $?)"
expect_eq "--append to a version-1 archive: what stays is exactly the messages with repeated keys" \
  "$(grep '^dk-' "$work/dup.before")" "$("$MSGTOOL" dump "$va" dup.q)"
purge "$va" dup.q

# --- 12. two writers of one archive: the second fails at once and takes nothing ---------------------
api PUT "/queues/$va/lock.q" '{"durable":true}' >/dev/null
n=20000
MSGTOOL_SIZE=256 "$MSGTOOL" publish "$va" lock.q $n L
"$MSGTOOL" dump "$va" lock.q | cut -d' ' -f1 | sort > "$work/lock.all"
"$BIN" dlq archive lock.q --vhost "$va" --file "$work/lock.jsonl" --append >"$work/lockA.out" 2>&1 & pidA=$!
# wait until A has written records (it holds the lock and is consuming), then freeze it there
for _ in $(seq 300); do [ -f "$work/lock.jsonl" ] && [ "$(wc -l < "$work/lock.jsonl")" -ge 2 ] && break; sleep 0.05; done
kill -STOP "$pidA"
# ready + unacknowledged, exact (from the queue itself): what A has not acknowledged yet
qmessages() { "$BROKER_CTL" list_queues -q -p "$va" name messages 2>/dev/null | awk -v q="$1" '$1 == q { print $2 }'; }
in_queue_before=$(qmessages lock.q)
lines_before=$(wc -l < "$work/lock.jsonl")
# while A is stopped it cannot release the lock: B returning at all shows it did not wait (the
# timeout only guards the test against a hang)
out=$(timeout 120 "$BIN" dlq archive lock.q --vhost "$va" --file "$work/lock.jsonl" --append -o json 2>"$work/lockB.err"); rcB=$?
expect_eq "second writer (--append) while the first holds the file: exit 1 at once" 1 "$rcB"
expect_contains "second writer: names the file and the lock" "$(cat "$work/lockB.err")" \
  "'$work/lock.jsonl' is locked by another rmqtopo (a dlq archive writing it"
expect_contains "second writer: took nothing" "$(cat "$work/lockB.err")" "nothing was taken from the queue"
out=$(timeout 120 "$BIN" dlq restore --again "$work/lock.jsonl" --to-queue other 2>&1); rcR=$?
expect_eq "restore of a file being written: exit 1 at once" 1 "$rcR"
expect_contains "restore of a file being written: names the lock" "$out" "is locked by another rmqtopo (a dlq archive writing it): nothing was published"
echo "  (first writer stopped with $((lines_before - 1)) records written, $in_queue_before messages in the queue)"
expect_eq "second writer and the restore changed neither the queue nor the file" "$in_queue_before $lines_before" \
  "$(qmessages lock.q) $(wc -l < "$work/lock.jsonl")"
kill -CONT "$pidA"; wait "$pidA"; rcA=$?
expect_eq "first writer: finishes, exit 0, the queue empty" '0 0' "$rcA $(count "$va" lock.q)"
rec=$(ids "$work/lock.jsonl")
total=$(echo "$rec" | wc -l | tr -d ' '); dups=$(echo "$rec" | sort | uniq -d | wc -l | tr -d ' ')
lost=$(comm -23 "$work/lock.all" <(echo "$rec" | sort -u) | wc -l | tr -d ' ')
echo "  (two writers: sent $n, in the file $total, duplicates $dups, lost $lost)"
expect_eq "two writers: every id in the file once (sent $n, 0 duplicates, 0 lost)" "$n 0 0" "$total $dups $lost"
expect_eq "two writers: every line parses (one header, $n records)" "$((n + 1))" \
  "$(python3 -c "
import json,sys
print(sum(1 for l in open(sys.argv[1], 'rb').read().split(b'\n') if l and json.loads(l) is not None))" "$work/lock.jsonl")"
# a new file: the lock is taken before the header; and a lock held by someone else
exec 9>>"$work/held.jsonl"; flock -x 9
"$MSGTOOL" publish "$va" lock.q 5 H
out=$("$BIN" dlq archive lock.q --vhost "$va" --file "$work/held.jsonl" --append 2>&1); rc=$?
expect_eq "archive --append to a file another process holds locked: exit 1, nothing taken" '1 5' "$rc $(count "$va" lock.q)"
exec 9>&-
out=$("$BIN" dlq archive lock.q --vhost "$va" --file "$work/held.jsonl" --append 2>&1); rc=$?
expect_eq "once the lock is released: exit 0, the 5 archived" '0 0' "$rc $(count "$va" lock.q)"
# a restore takes a shared lock: another reader does not stop it, a writer is refused meanwhile
exec 9<"$work/held.jsonl"; flock -s 9
"$BIN" dlq restore "$work/held.jsonl" --dry-run >/dev/null 2>&1
expect_eq "restore while another reader shares the lock: exit 0" 0 "$?"
"$MSGTOOL" publish "$va" lock.q 2 S
out=$("$BIN" dlq archive lock.q --vhost "$va" --file "$work/held.jsonl" --append 2>&1); rc=$?
expect_eq "archive --append while a reader holds the file: exit 1, nothing taken" '1 2' "$rc $(count "$va" lock.q)"
exec 9<&-
purge "$va" lock.q

# --- 13. directories are named as such --------------------------------------------------------------
mkdir -p "$work/adir"
"$MSGTOOL" publish "$va" lock.q 3 D
out=$("$BIN" dlq restore --again "$work/adir" 2>&1); rc=$?
expect_eq "restore DIR: exit 1" 1 "$rc"
expect_contains "restore DIR: says it is a directory" "$out" "'$work/adir' is a directory: dlq restore takes an archive file"
out=$("$BIN" dlq archive lock.q --vhost "$va" --file "$work/adir" 2>&1); rc=$?
expect_eq "archive --file DIR: exit 1, nothing taken" '1 3' "$rc $(count "$va" lock.q)"
expect_contains "archive --file DIR: says it is a directory" "$out" "'$work/adir' is a directory: --file takes the archive's file name"
out=$("$BIN" dlq archive lock.q --vhost "$va" --file "$work/adir" --append 2>&1); rc=$?
expect_contains "archive --file DIR --append: says it is a directory" "$out" "is a directory"
expect_eq "archive --file DIR --append: nothing taken" 3 "$(count "$va" lock.q)"

# --- 9. valgrind: archive and restore ----------------------------------------------------------
if command -v valgrind >/dev/null 2>&1; then
  valgrind -q --leak-check=full --error-exitcode=99 "$BIN" dlq archive dead --vhost "$va" --copy --file "$work/vg.jsonl" >/dev/null 2>"$work/vg1"
  expect_eq "valgrind: archive is clean" 0 "$?"
  valgrind -q --leak-check=full --error-exitcode=99 "$BIN" dlq restore --again "$work/vg.jsonl" --to-queue other >/dev/null 2>"$work/vg2"
  expect_eq "valgrind: restore is clean" 0 "$?"
  valgrind -q --leak-check=full --error-exitcode=99 "$BIN" dlq restore --again "$work/bad.jsonl" --to-queue other >/dev/null 2>"$work/vg3"
  expect_eq "valgrind: restore of a malformed archive is clean (exit 1)" 1 "$?"
fi

finish
