#!/usr/bin/env bash
# apply's queue migration shows its progress on a terminal (issue 17): a replace of a queue
# holding 20,000 messages, run under script(1) so that stderr is a terminal, shows the
# "moving 'Q' -> 'H' (vhost 'V'): M of N (R msg/s...)" line of each direction, rewritten in
# place; the same apply off a terminal prints no such line. Every message survives both
# migrations (ids counted: found, unique, lost 0).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
MSGTOOL=${MSGTOOL:-$(dirname "$BIN")/tests/msgtool}

v=rmqtopo-it-aprog-$$
work=$(mktemp -d)
cleanup() {
  api DELETE "/vhosts/$v" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
N=20000

# "found unique lost" of queue work against ids p-0 .. p-(N-1)
tally() {
  "$MSGTOOL" dump "$v" work | cut -d' ' -f1 | python3 -c '
import sys
want = {"p-%d" % i for i in range(int(sys.argv[1]))}
got = [l.strip() for l in sys.stdin if l.strip()]
print(len(got), len(set(got)), len(want - set(got)))' "$N"
}

cat > "$work/a.yaml" <<YAML
version: 1
vhosts:
  $v:
    queues:
      work: {}
YAML
sed 's/work: {}/work: { type: quorum }/' "$work/a.yaml" > "$work/b.yaml"
"$BIN" apply --yes "$work/a.yaml" >/dev/null 2>&1 || echo "setup: apply failed"
"$MSGTOOL" publish "$v" work $N p
expect_eq "setup: $N messages" "$N $N 0" "$(tally)"

# on a terminal: script(1) gives the command a pty for stdin, stdout and stderr
script -q -e -c "\"$BIN\" apply --yes --allow-replace \"$work/b.yaml\"" /dev/null > "$work/tty.out" 2>&1
rc=$?
expect_eq "apply on a terminal (classic -> quorum): exit 0" 0 "$rc"
tr '\r' '\n' < "$work/tty.out" | sed 's/\x1b\[K//g' > "$work/tty.lines"
expect_contains "on a terminal: the move out, as M of N" "$(cat "$work/tty.lines")" "rmqtopo: moving 'work' -> '"
expect_eq "on a terminal: every progress line reads 'moving ... : M of $N (R msg/s...)'" 0 \
  "$(grep "rmqtopo: moving '" "$work/tty.lines" | grep -v -c -E "^rmqtopo: moving '[^']+' -> '[^']+' \(vhost '$v'\): [0-9]+ of $N \([0-9]+ msg/s(, ETA [0-9]+ s)?\) *$")"
expect_eq "on a terminal: both directions shown (out to the holding queue, back into work)" 2 \
  "$(grep -o -E "moving '[^']+' -> '[^']+'" "$work/tty.lines" | sort -u | wc -l | tr -d ' ')"
expect_contains "on a terminal: the end lines are still there" "$(cat "$work/tty.lines")" "migrated queue 'work' in vhost '$v': $N messages back"
expect_eq "after the migration on a terminal: $N found, $N unique, 0 lost" "$N $N 0" "$(tally)"

# off a terminal: no progress line
"$BIN" apply --yes --allow-replace "$work/a.yaml" > "$work/plain.out" 2>&1
rc=$?
expect_eq "apply off a terminal (quorum -> classic): exit 0" 0 "$rc"
expect_eq "off a terminal: no progress line, no carriage return" '0 0' \
  "$(grep -c "moving '" "$work/plain.out") $(tr -cd '\r' < "$work/plain.out" | wc -c | tr -d ' ')"
expect_eq "after the migration off a terminal: $N found, $N unique, 0 lost" "$N $N 0" "$(tally)"

finish
