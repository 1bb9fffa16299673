#!/usr/bin/env bash
# dlq restore's ledger (issue 17) against a real broker: a restore records what the broker
# confirmed in <archive>.restored; a second restore of the same records refuses before
# publishing anything (8 stays 8), to the same queue or another one, from the file or from
# stdin, and says when and where they went; --again doubles on purpose; an archive from before
# ids gets one on its first restore; a restore stopped mid-run (SIGTERM: exactly what was
# published is recorded; kill -9: lost 0, duplicates at most a batch and a window) is refused
# as a whole and finished with the --skip it names; three restores at once of one archive (the
# file, a copy of it, stdin; with and without an id): exactly one publishes, the others fail at
# once. Message ids are counted throughout.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
MSGTOOL=${MSGTOOL:-$(dirname "$BIN")/tests/msgtool}

v=rmqtopo-it-ledger-$$
work=$(mktemp -d)
export RMQTOPO_STATE_DIR="$work/state"
cleanup() {
  [ -n "${bg:-}" ] && kill "$bg" 2>/dev/null
  for p in ${pids:-}; do kill "$p" 2>/dev/null; done
  api DELETE "/vhosts/$v" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print(json.dumps(eval(sys.argv[1])))" "$1"; }
ids() { "$MSGTOOL" dump "$v" "$1" | cut -d' ' -f1; }
count() { ids "$1" | wc -l | tr -d ' '; }
purge() { api DELETE "/queues/$v/$1/contents" >/dev/null; }
# "found unique duplicates lost" of queue $1 against the ids prefix-0..prefix-($3-1) ($2 = prefix)
tally() {
  ids "$1" | python3 -c '
import sys, collections
want = {"%s-%d" % (sys.argv[1], i) for i in range(int(sys.argv[2]))}
c = collections.Counter(l.strip() for l in sys.stdin if l.strip())
dup = sum(n - 1 for n in c.values())
print(sum(c.values()), len(c), dup, len(want - set(c)))' "$2" "$3"
}
ledger_records() { # records a ledger file lists (each line once)
  python3 -c '
import json, sys
s = set()
for l in open(sys.argv[1]):
    try: j = json.loads(l)
    except ValueError: continue
    s.update(range(j["records"][0], j["records"][1] + 1))
print(len(s))' "$1"
}

api PUT "/vhosts/$v" >/dev/null
for q in src other big app.dlq r2; do api PUT "/queues/$v/$q" '{"durable":true}' >/dev/null; done

# --- 1. restore, then restore again: refused, 8 stays 8 ----------------------------------------
"$MSGTOOL" publish "$v" src 8 m
"$BIN" dlq archive src --vhost "$v" --file "$work/a.jsonl" >/dev/null 2>&1
expect_eq "setup: archived (moved) 8, the queue empty" 0 "$(count src)"
expect_eq "a new archive's header carries a unique id (32 hex digits)" 32 \
  "$(head -n 1 "$work/a.jsonl" | jget 'd["id"]' | tr -d '"' | grep -c '^[0-9a-f]\{32\}$' | sed 's/1/32/')"
out=$("$BIN" dlq restore "$work/a.jsonl" 2>&1); rc=$?
expect_eq "first restore: exit 0, 8 in the queue" '0 8' "$rc $(count src)"
expect_contains "first restore: names its ledger" "$out" "recorded in the restore ledger '$work/a.jsonl.restored'"
expect_eq "the ledger: one line, the archive's id, records 1-8, lines 2-9, vhost, target, broker" \
  "[$(head -n 1 "$work/a.jsonl" | jget 'd["id"]'), [1, 8], [2, 9], \"$v\", \"\", \"src\", \"3.10.8\", true]" \
  "$(jget '[d["archive_id"], d["records"], d["lines"], d["vhost"], d["target"]["exchange"], d["target"]["routing_key"], d["broker"]["version"], d["broker"]["url"].startswith("amqp://")]' < "$work/a.jsonl.restored")"
expect_eq "the ledger holds no credentials" 0 "$(grep -c 'guest' "$work/a.jsonl.restored")"

out=$("$BIN" dlq restore "$work/a.jsonl" 2>&1); rc=$?
expect_eq "second restore: exit 1, still 8 messages (8 unique, 0 duplicates, 0 lost)" '1 8 8 0 0' "$rc $(tally src m 8)"
expect_contains "second restore: says it was restored and nothing was published" "$out" "was restored before, and restoring it again would publish the same messages twice: nothing was published"
expect_contains "second restore: says when and where" "$out" "records 1-8 at 20"
expect_contains "second restore: names the queue, vhost and broker" "$out" "to queue 'src' in vhost '$v' on amqp://"
expect_contains "second restore: names --again and the ledger" "$out" "--again (ledger: $work/a.jsonl.restored)"
out=$("$BIN" dlq restore "$work/a.jsonl" -o json 2>/dev/null); rc=$?
expect_eq "second restore -o json: exit 1, published 0, the earlier run's records" '1 0 [[1, 8]] "src"' \
  "$rc $(echo "$out" | jget 'd["published"]') $(echo "$out" | jget 'd["already_restored"][0]["records"]') $(echo "$out" | jget 'd["already_restored"][0]["target"]["routing_key"]')"
out=$("$BIN" dlq restore "$work/a.jsonl" --to-queue other 2>&1); rc=$?
expect_eq "restore of the same records to another queue: refused too, nothing there" '1 0' "$rc $(count other)"
out=$("$BIN" dlq restore - < "$work/a.jsonl" 2>&1); rc=$?
expect_eq "restore of the same archive from stdin: refused (the ledger's copy in the state directory)" '1 8' "$rc $(count src)"
out=$("$BIN" dlq restore "$work/a.jsonl" --dry-run 2>&1); rc=$?
expect_contains "restore --dry-run: says a real run would be refused" "$out" "a real run would be refused"

# --- 2. --again doubles on purpose ---------------------------------------------------------------
out=$("$BIN" dlq restore "$work/a.jsonl" --again 2>&1); rc=$?
expect_eq "--again: exit 0, 16 messages: each of the 8 twice, 0 lost" '0 16 8 8 0' "$rc $(tally src m 8)"
expect_contains "--again: says so" "$out" "(--again: published again on purpose)"
expect_eq "--again: recorded in the ledger as such" '[false, true]' \
  "$(python3 -c 'import json,sys; print(json.dumps([json.loads(l)["again"] for l in open(sys.argv[1])]))' "$work/a.jsonl.restored")"
purge src

# --- 3. stdin, and an archive from before ids ----------------------------------------------------
"$MSGTOOL" publish "$v" src 5 s
"$BIN" dlq archive src --vhost "$v" --file "$work/s.jsonl" >/dev/null 2>&1
sid=$(head -n 1 "$work/s.jsonl" | jget 'd["id"]' | tr -d '"')
out=$("$BIN" dlq restore - < "$work/s.jsonl" 2>&1); rc=$?
expect_eq "restore from stdin: exit 0, 5 restored" '0 5' "$rc $(count src)"
expect_contains "restore from stdin: says where the ledger went" "$out" "the restore ledger of '-' is '$work/state/restored/$sid.restored' (the archive came on stdin)"
out=$("$BIN" dlq restore "$work/s.jsonl" 2>&1); rc=$?
expect_eq "the file restored after its stdin restore: refused, 5 stays 5" '1 5 5 0 0' "$rc $(tally src s 5)"
purge src

"$MSGTOOL" publish "$v" src 4 o
"$BIN" dlq archive src --vhost "$v" --file "$work/o.jsonl" >/dev/null 2>&1
# an archive written before ids: the same header without "id"
python3 - "$work/o.jsonl" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().split("\n")
h = json.loads(lines[0]); del h["id"]
lines[0] = json.dumps(h, separators=(",", ":"))
open(sys.argv[1], "w").write("\n".join(lines))
PY
out=$("$BIN" dlq restore "$work/o.jsonl" 2>&1); rc=$?
expect_eq "an archive without an id: first restore exit 0, 4 restored" '0 4' "$rc $(count src)"
expect_eq "it got an id in the ledger, keyed by its header's digest" \
  "[32, \"$(head -n 1 "$work/o.jsonl" | tr -d '\n' | sha256sum | cut -d' ' -f1)\"]" \
  "$(jget '[len(d["archive_id"]), d["header_sha256"]]' < "$work/o.jsonl.restored")"
out=$("$BIN" dlq restore "$work/o.jsonl" 2>&1); rc=$?
expect_eq "an archive without an id: second restore refused, 4 stays 4" '1 4 4 0 0' "$rc $(tally src o 4)"
"$BIN" dlq restore "$work/o.jsonl" --again >/dev/null 2>&1
expect_eq "an archive without an id: --again keeps the id it got" 1 \
  "$(python3 -c 'import json,sys; print(len({json.loads(l)["archive_id"] for l in open(sys.argv[1])}))' "$work/o.jsonl.restored")"
purge src

# --- 4. stopped mid-run: SIGTERM records exactly what was published; --skip finishes -------------
N=5000
"$MSGTOOL" publish "$v" big $N k
"$BIN" dlq archive big --vhost "$v" --file "$work/k.jsonl" >/dev/null 2>&1
expect_eq "setup: $N archived, the queue empty" 0 "$(count big)"
"$BIN" dlq restore "$work/k.jsonl" --rate 1000 >/dev/null 2>&1 &
bg=$!
# stop it once the ledger has a line (the run is under way), whenever that is
while kill -0 "$bg" 2>/dev/null && [ ! -s "$work/k.jsonl.restored" ]; do sleep 0.1; done
kill -TERM "$bg" 2>/dev/null
wait "$bg"; rc=$?; bg=
inq=$(count big)
expect_eq "SIGTERM: the run fails (exit 1) with part published" 1 "$rc"
expect_eq "SIGTERM: the ledger lists exactly the records in the queue ($inq)" "$inq" "$(ledger_records "$work/k.jsonl.restored")"
out=$("$BIN" dlq restore "$work/k.jsonl" -o json 2>/dev/null); rc=$?
skip=$(echo "$out" | jget 'd["resume_skip"]')
expect_eq "re-run without --skip: refused, nothing published, --skip named ($inq)" "1 $inq $inq" "$rc $(count big) $skip"
out=$("$BIN" dlq restore "$work/k.jsonl" --skip "$skip" 2>&1); rc=$?
expect_eq "re-run with --skip: exit 0; $N found, $N unique, 0 duplicates, 0 lost" "0 $N $N 0 0" "$rc $(tally big k $N)"
out=$("$BIN" dlq restore "$work/k.jsonl" --skip "$skip" 2>&1); rc=$?
expect_eq "a third run: refused (every record restored), still $N" "1 $N" "$rc $(count big)"

# --- 5. kill -9 mid-run: lost 0; what the ledger missed is at most a batch and a window ---------
"$BIN" dlq archive big --vhost "$v" --file "$work/k9.jsonl" >/dev/null 2>&1
expect_eq "setup: $N archived again (a new archive), the queue empty" 0 "$(count big)"
"$BIN" dlq restore "$work/k9.jsonl" --rate 1000 >/dev/null 2>&1 &
bg=$!
while kill -0 "$bg" 2>/dev/null && [ ! -s "$work/k9.jsonl.restored" ]; do sleep 0.1; done
kill -KILL "$bg" 2>/dev/null
wait "$bg" 2>/dev/null; bg=
inq=$(count big)
rec=$(ledger_records "$work/k9.jsonl.restored")
expect_eq "kill -9: the ledger lists no more than the queue holds" 1 "$([ "$rec" -le "$inq" ] && echo 1 || echo "0 ($rec > $inq)")"
out=$("$BIN" dlq restore "$work/k9.jsonl" -o json 2>/dev/null); rc=$?
skip=$(echo "$out" | jget 'd["resume_skip"]')
expect_eq "kill -9, re-run without --skip: refused, nothing published, --skip = the ledger's records" "1 $inq $rec" "$rc $(count big) $skip"
"$BIN" dlq restore "$work/k9.jsonl" --skip "$skip" >/dev/null 2>&1; rc=$?
read -r found uniq dup lost <<<"$(tally big k $N)"
expect_eq "kill -9, re-run with --skip: exit 0, $N unique, 0 lost" "0 $N 0" "$rc $uniq $lost"
expect_eq "kill -9: duplicates only of records published but not yet in the ledger (at most 500 + 1024): $dup" 1 \
  "$([ "$dup" -ge $((inq - rec)) ] && [ "$dup" -le 1524 ] && echo 1 || echo "0 (dup $dup, in queue $inq, ledger $rec)")"

# --- 6. three restores of one archive at once: the file, a copy of it, stdin --------------------
# Each run locks the archive's ledger in the state directory (named by its id, or its header's
# digest) before it reads a ledger: exactly one publishes, the others fail at once, whichever
# starts first. At --rate 1000 each run of 2000 takes two seconds, so the three overlap.
# $1: label, $2: the archive, $3: the id prefix of its messages
concurrent() {
  local label=$1 arch=$2 prefix=$3 d i rc ok=0 busy=0 winner=
  d=$(dirname "$arch")
  mkdir -p "$d/c2"
  cp "$arch" "$d/c2/"
  pids=
  "$BIN" dlq restore "$arch" --to-queue r2 --rate 1000 >"$d/o1" 2>&1 & pids="$pids $!"
  "$BIN" dlq restore "$d/c2/$(basename "$arch")" --to-queue r2 --rate 1000 >"$d/o2" 2>&1 & pids="$pids $!"
  "$BIN" dlq restore - --to-queue r2 --rate 1000 <"$arch" >"$d/o3" 2>&1 & pids="$pids $!"
  i=0
  for p in $pids; do
    i=$((i + 1))
    wait "$p"; rc=$?
    if [ "$rc" -eq 0 ]; then
      ok=$((ok + 1)); winner=$i
    elif grep -q "another dlq restore of this archive is running" "$d/o$i" &&
         grep -q "nothing was published" "$d/o$i"; then
      busy=$((busy + 1))
    else
      echo "  (run $i: exit $rc: $(head -c 400 "$d/o$i"))"
    fi
  done
  pids=
  expect_eq "$label: at once, the file, a copy and stdin: one exits 0, two fail saying another restore of the archive is running" \
    '1 2' "$ok $busy"
  expect_eq "$label: 2000 in the queue: 2000 unique, 0 duplicates, 0 lost" '2000 2000 0 0' "$(tally r2 "$prefix" 2000)"
  out=$("$BIN" dlq restore - --to-queue r2 <"$arch" 2>&1); rc=$?
  expect_eq "$label: afterwards (the winner was run $winner), a restore from stdin is refused: 2000 stays 2000" \
    '1 2000' "$rc $(count r2)"
  expect_contains "$label: ... as restored before" "$out" "was restored before"
  purge r2
}

"$MSGTOOL" publish "$v" app.dlq 2000 cc
mkdir -p "$work/c1"
"$BIN" dlq archive app.dlq --vhost "$v" --copy --limit 2000 --file "$work/c1/x.jsonl" >/dev/null 2>&1
expect_eq "setup: archived 2000 (--copy: the queue keeps them)" '2000 2000' \
  "$(($(wc -l <"$work/c1/x.jsonl") - 1)) $(count app.dlq)"
concurrent "an archive with an id" "$work/c1/x.jsonl" cc

mkdir -p "$work/c3"
python3 - "$work/c1/x.jsonl" "$work/c3/y.jsonl" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().split("\n")
h = json.loads(lines[0]); del h["id"]; h["queue"] = "from-before-ids"
lines[0] = json.dumps(h, separators=(",", ":"))
open(sys.argv[2], "w").write("\n".join(lines))
PY
concurrent "an archive without an id" "$work/c3/y.jsonl" cc

finish
