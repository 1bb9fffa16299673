#!/usr/bin/env bash
# test_validate_cli.sh BINARY - what tests/data cases cannot express for `rmqtopo validate`:
# standard input ("-"), very large inputs (time and peak memory), hostile inputs (deep nesting,
# alias bombs, truncated and random files). No broker needed.
#
# Prints "PASS name" / "FAIL name: why" lines, then "N passed, N failed"; exits 1 on any failure.
# A crash (exit status >= 128, e.g. 139 for SIGSEGV) always fails a test.
set -u

bin=${1:?usage: test_validate_cli.sh PATH/TO/rmqtopo}
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
[ -x "$bin" ] || { echo "not executable: $bin" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 2
export NO_COLOR=1

passed=0 failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

have_time=false
[ -x /usr/bin/time ] && have_time=true

# run NAME TIMEOUT ARGS... : runs the binary, sets $status, $secs, $rss_kb (0 if unknown);
# output in NAME.out / NAME.err. stdin is inherited.
run() {
    local name=$1 limit=$2 start end
    shift 2
    rss_kb=0
    start=$(date +%s.%N)
    if $have_time; then
        timeout "$limit" /usr/bin/time -f '%M' -o "$name.time" "$bin" "$@" >"$name.out" 2>"$name.err"
        status=$?
        # /usr/bin/time reports a signal as "Command terminated by signal N" and exits 128+N
        # only through its own status line: read the last line (the RSS) defensively
        rss_kb=$(tail -n 1 "$name.time" 2>/dev/null | tr -dc '0-9')
        [ -n "$rss_kb" ] || rss_kb=0
        if grep -q 'terminated by signal' "$name.time" 2>/dev/null; then
            status=$((128 + $(grep -o 'signal [0-9]*' "$name.time" | tr -dc '0-9')))
        fi
    else
        timeout "$limit" "$bin" "$@" >"$name.out" 2>"$name.err"
        status=$?
    fi
    end=$(date +%s.%N)
    secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
}

# expect_status NAME ALLOWED... : fails on a crash, a timeout (124) or another status
expect_status() {
    local name=$1 s
    shift
    if [ "$status" = 124 ]; then
        fail "$name" "timed out after ${secs}s"
        return 1
    fi
    if [ "$status" -ge 128 ]; then
        fail "$name" "crashed (exit status $status); stderr: $(head -c 300 "$name.err")"
        return 1
    fi
    for s in "$@"; do
        [ "$status" = "$s" ] && return 0
    done
    fail "$name" "exit status $status, expected $*; stderr: $(head -c 300 "$name.err")"
    return 1
}

# expect_rss NAME MAX_KB
expect_rss() {
    if $have_time && [ "$rss_kb" -gt "$2" ]; then
        fail "$1" "peak memory ${rss_kb} KB is over ${2} KB"
        return 1
    fi
    return 0
}

valid_topology='version: 1
vhosts:
  orders:
    exchanges:
      orders: { type: topic }
    queues:
      orders.placed:
        type: quorum
        bind:
          - { exchange: orders, routing_key: order.placed }
'
invalid_topology='version: 1
vhosts:
  orders:
    queues:
      orders.placed:
        type: classic
        durable: false
        delivery_limit: 5
'

# ---- standard input -------------------------------------------------------------------------

name=stdin_valid
run $name 10 validate - <<<"$valid_topology"
if expect_status $name 0; then
    if [ "$(cat $name.out)" = "<stdin>: valid (1 vhost, 1 exchange, 1 queue, 1 binding, 0 policies)" ] &&
        [ ! -s $name.err ]; then pass $name; else fail $name "output: $(cat $name.out $name.err)"; fi
fi

name=stdin_invalid_is_located
run $name 10 validate - <<<"$invalid_topology"
if expect_status $name 1; then
    want="<stdin>:8:25: queues.orders.placed.delivery_limit: only quorum queues have a delivery limit (type is classic)"
    if [ "$(cat $name.err)" = "$want" ]; then pass $name; else fail $name "stderr: $(cat $name.err)"; fi
fi

name=stdin_json
run $name 10 -o json validate - <<<"$invalid_topology"
if expect_status $name 1; then
    if command -v python3 >/dev/null; then
        if python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["valid"] is False, d
(g,) = [x for x in d["diagnostics"] if x["severity"] == "error"]
assert (g["file"], g["line"], g["column"]) == ("<stdin>", 8, 25), g
assert "delivery limit" in g["message"], g
' $name.out 2>$name.py; then pass $name; else fail $name "$(tail -n 1 $name.py)"; fi
    elif grep -q '"file": "<stdin>"' $name.out; then pass $name; else fail $name "no <stdin> diagnostic"; fi
fi

name=stdin_and_file_together
printf '%s' "$valid_topology" > good.yaml
run $name 10 validate good.yaml - <<<"$invalid_topology"
if expect_status $name 1; then
    if grep -q '^good.yaml: valid' $name.out && grep -q '^<stdin>: invalid' $name.out; then
        pass $name; else fail $name "stdout: $(cat $name.out)"; fi
fi

name=stdin_empty
run $name 10 validate - </dev/null
expect_status $name 1 && pass $name

name=dev_null_is_empty
run $name 10 validate /dev/null
expect_status $name 1 && pass $name

# ---- large inputs ---------------------------------------------------------------------------

# 50 MB of valid topology: ~183,000 quorum queues with long names, one binding each.
awk 'BEGIN {
    pad = sprintf("%180s", ""); gsub(/ /, "x", pad)
    print "version: 1\nvhosts:\n  big:\n    exchanges:\n      ex: { type: topic }\n    queues:"
    while (bytes < 50 * 1024 * 1024) {
        l = sprintf("      q%07d.%s: { type: quorum, max_length: 1000, bind: [ { exchange: ex, routing_key: \"r.%d.#\" } ] }\n", n, pad, n)
        printf "%s", l; bytes += length(l); n++
    }
}' > big_valid.yaml
name=large_50mb_valid_file
run $name 120 validate big_valid.yaml
if expect_status $name 0 && expect_rss $name $((1536 * 1024)); then
    pass $name
fi
echo "  info: $name: ${secs}s, peak ${rss_kb} KB, $(head -n 1 $name.out)"

# 50 MB of short entries (~400,000 queues, ~5 million YAML nodes): it may be refused as too
# large, but must end cleanly, in bounded time and memory.
awk 'BEGIN {
    print "version: 1\nvhosts:\n  big:\n    exchanges:\n      ex: { type: topic }\n    queues:"
    while (bytes < 50 * 1024 * 1024) {
        l = sprintf("      q%07d:\n        type: quorum\n        max_length: 1000\n        bind:\n          - { exchange: ex, routing_key: \"r.%d.#\" }\n", n, n)
        printf "%s", l; bytes += length(l); n++
    }
}' > big_nodes.yaml
name=large_50mb_many_nodes_ends_cleanly
run $name 120 validate big_nodes.yaml
if expect_status $name 0 1 && expect_rss $name $((1536 * 1024)); then
    pass $name
fi
echo "  info: $name: exit $status, ${secs}s, peak ${rss_kb} KB, $(head -c 200 $name.err)"
rm -f big_valid.yaml big_nodes.yaml

# 10,000 queues, each dead-lettering with its own routing key into one topic exchange that has
# a binding per queue: validate.c promises linear time for 10,000-queue files.
awk 'BEGIN {
    print "version: 1\nvhosts:\n  big:\n    exchanges:\n      dlx: { type: topic }\n    queues:"
    for (n = 0; n < 10000; n++)
        printf "      q%d: { type: quorum, max_length: 1000, dead_letter_exchange: dlx, dead_letter_routing_key: \"d.%d\", dead_letter_strategy: at-least-once, overflow: reject-publish, bind: [ { exchange: dlx, routing_key: \"d.%d\" } ] }\n", n, n, n
}' > many_routes.yaml
name=many_dead_letter_routes_10k
run $name 60 validate many_routes.yaml
if expect_status $name 0; then
    if awk -v s="$secs" 'BEGIN { exit !(s < 20) }'; then pass $name
    else fail $name "took ${secs}s (limit 20s)"; fi
fi

# a file over the 256 MiB read limit (sparse: costs no disk)
name=oversized_file_refused
truncate -s 300M huge.yaml
run $name 60 validate huge.yaml
if expect_status $name 1 && expect_rss $name $((768 * 1024)); then pass $name; fi
rm -f huge.yaml

# ---- hostile inputs -------------------------------------------------------------------------

name=deep_nesting_100k_brackets
{ printf 'version: 1\nvhosts: '; head -c 100000 /dev/zero | tr '\0' '['; echo; } > deep.yaml
run $name 30 validate deep.yaml
if expect_status $name 1 && expect_rss $name $((256 * 1024)); then
    if grep -q '^deep.yaml:[0-9]*:[0-9]*: ' $name.err; then pass $name
    else fail $name "no located error: $(head -c 300 $name.err)"; fi
fi

name=deep_nesting_100k_flow_maps
{ printf 'version: 1\nvhosts:\n  v:\n    queues:\n      q: '
  printf '{a: %.0s' $(seq 100000)
  echo 1; } > deepmap.yaml
run $name 30 validate deepmap.yaml
expect_status $name 1 && expect_rss $name $((256 * 1024)) && pass $name

name=deep_nesting_block_maps
awk 'BEGIN { print "version: 1\nvhosts:\n  v:\n    queues:\n      q:\n        arguments:"
             ind = 10; for (i = 0; i < 3000; i++) { printf "%*sk%d:\n", ind, "", i; ind += 2 }
             printf "%*sx: 1\n", ind, "" }' > deepblock.yaml
run $name 30 validate deepblock.yaml
expect_status $name 1 && pass $name

name=alias_bomb
{ printf 'version: 1\nvhosts:\n  v:\n    queues:\n      q:\n        type: quorum\n        arguments:\n'
  printf '          x-a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n'
  for i in $(seq 1 12); do
      p=$((i - 1))
      printf '          x-a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n' \
          $i $i $p $p $p $p $p $p $p $p $p $p
  done; } > bomb.yaml
run $name 30 validate bomb.yaml
expect_status $name 1 && expect_rss $name $((256 * 1024)) && pass $name

name=truncated_file
printf 'version: 1\nvhosts:\n  orders:\n    exchanges:\n      orders: { type: topic }\n      orders.dlx: { type: to' > trunc.yaml
run $name 10 validate trunc.yaml
if expect_status $name 1; then
    if grep -q '^trunc.yaml:[0-9]*:[0-9]*: YAML syntax error' $name.err; then pass $name
    else fail $name "stderr: $(cat $name.err)"; fi
fi

name=truncated_inside_quoted_string
printf 'version: 1\nvhosts:\n  orders:\n    queues:\n      orders.placed:\n        type: quorum\n        dead_letter_routing_key: "orders.pla' > truncq.yaml
run $name 10 validate truncq.yaml
if expect_status $name 1; then
    if grep -q '^truncq.yaml:[0-9]*:[0-9]*: ' $name.err; then pass $name
    else fail $name "stderr: $(cat $name.err)"; fi
fi

name=random_binary_files
bad=""
for i in $(seq 1 25); do
    head -c 4096 /dev/urandom > rnd$i.bin
    run rnd 10 validate rnd$i.bin
    if [ "$status" != 1 ] || [ ! -s rnd.err ]; then
        cp rnd$i.bin /tmp/rmqtopo-random-$i.bin
        bad="$bad /tmp/rmqtopo-random-$i.bin (exit $status)"
    fi
done
[ -z "$bad" ] && pass $name || fail $name "kept for reproduction:$bad"

name=random_yaml_like_text
bad=""
for i in $(seq 1 50); do
    LC_ALL=C tr -dc 'a-z0-9{}[]:,&*!|>"#'"'"' \n-' < /dev/urandom | head -c 3000 > rnd$i.yaml
    { printf 'version: 1\nvhosts:\n  v:\n    queues:\n      q:\n'; sed 's/^/        /' rnd$i.yaml; } > rndq$i.yaml
    for f in rnd$i.yaml rndq$i.yaml; do
        run rnd 10 validate $f
        if [ "$status" != 0 ] && [ "$status" != 1 ]; then
            cp $f /tmp/rmqtopo-$f
            bad="$bad /tmp/rmqtopo-$f (exit $status)"
        fi
    done
done
[ -z "$bad" ] && pass $name || fail $name "kept for reproduction:$bad"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
