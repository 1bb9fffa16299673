#!/usr/bin/env bash
# test_graph.sh BINARY - `rmqtopo graph` end to end, no broker needed: every example topology
# is drawn and its DOT rendered by Graphviz (`dot -Tsvg`, which must be installed: the
# graphviz Debian package) to prove it parses; the Mermaid output starts as a flowchart;
# names full of special characters survive both; usage errors exit 64, invalid files exit 1
# with validate's diagnostics and nothing on stdout.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export NO_COLOR=1

# draw NAME ARGS...: runs the binary; output in $tmp/NAME.out and .err, status in $status
draw() {
  local name=$1
  shift
  "$BIN" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
  status=$?
}

# render NAME: dot -Tsvg of $tmp/NAME.out must succeed, silently, and give an SVG
render() {
  local name=$1
  if dot -Tsvg "$tmp/$name.out" >"$tmp/$name.svg" 2>"$tmp/$name.dot.err" &&
    [ ! -s "$tmp/$name.dot.err" ] && grep -q '<svg' "$tmp/$name.svg"; then
    pass "$name: dot -Tsvg renders it"
  else
    fail "$name: dot -Tsvg renders it" "$(head -c 600 "$tmp/$name.dot.err")"
  fi
}

if ! command -v dot >/dev/null 2>&1; then
  fail "graphviz is installed" "dot not found: install the graphviz package (scripts/setup.sh)"
  finish
  exit 1
fi

# every example topology, both formats
for f in "$root"/topologies/*.yaml; do
  name=$(basename "$f" .yaml)
  draw "$name.dot" graph "$f"
  expect_eq "$name: graph exits 0" 0 "$status"
  expect_eq "$name: nothing on stderr" "" "$(cat "$tmp/$name.dot.err")"
  expect_eq "$name: DOT starts with digraph" "digraph rmqtopo {" "$(head -n 1 "$tmp/$name.dot.out")"
  render "$name.dot"

  draw "$name.mmd" graph --format mermaid "$f"
  expect_eq "$name: graph --format mermaid exits 0" 0 "$status"
  case $(head -n 1 "$tmp/$name.mmd.out") in
    flowchart* | graph*) pass "$name: Mermaid starts with flowchart" ;;
    *) fail "$name: Mermaid starts with flowchart" "got: $(head -n 1 "$tmp/$name.mmd.out")" ;;
  esac
  expect_eq "$name: Mermaid subgraphs are closed" \
    "$(grep -c '^    subgraph ' "$tmp/$name.mmd.out")" "$(grep -c '^    end$' "$tmp/$name.mmd.out")"
done

# the example's routes are all there
draw orders graph "$root/topologies/orders.yaml"
out=$(cat "$tmp/orders.out")
expect_contains "orders: binding labelled with its routing key" "$out" 'x0 -> q0 [label="order.placed"]'
expect_contains "orders: alternate exchange dotted" "$out" 'x0 -> x1 [label="alternate", style=dotted'
expect_contains "orders: dead-letter route from the policy, dashed" "$out" \
  'q0 -> x4 [label="dead-letter\n(policy order-stages)", style=dashed'
expect_contains "orders: default exchange drawn for the retry ladder" "$out" '[label="(default)\n(direct, built-in)"'
expect_contains "orders: headers binding shows its arguments" "$out" '[label="x-match=all\nretry-delay=1s"]'

# the same file drawn twice gives the same bytes
draw orders2 graph "$root/topologies/orders.yaml"
if cmp -s "$tmp/orders.out" "$tmp/orders2.out"; then
  pass "orders: output is deterministic"
else
  fail "orders: output is deterministic" "$(diff "$tmp/orders.out" "$tmp/orders2.out" | head -n 10)"
fi

# names holding quotes, backslashes, Graphviz escapes, Mermaid entities and markup
cat >"$tmp/weird.yaml" <<'EOF'
version: 1
vhosts:
  "v\"<1>":
    exchanges:
      "x|`#quot;<b>&amp;": { type: topic, internal: true }
      "hdr\\l\\N": { type: headers }
    queues:
      "a\"b\\c":
        type: quorum
        bind:
          - { exchange: "x|`#quot;<b>&amp;", routing_key: "r|\"x\\y" }
          - { exchange: amq.topic, routing_key: "" }
          - { exchange: "hdr\\l\\N", arguments: { x-match: any, "h\"1": "v<1>" } }
      "two\nlines":
        type: quorum
        bind:
          - { exchange: "hdr\\l\\N", arguments: { x-match: all, k: v } }
  empty: {}
EOF
draw weird graph "$tmp/weird.yaml"
expect_eq "special names: graph exits 0" 0 "$status"
render weird
expect_contains "special names: a\"b\\c drawn as itself" "$(cat "$tmp/weird.svg")" '>a&quot;b\c</text>'
expect_contains "special names: no Graphviz escape taken from a name" "$(cat "$tmp/weird.svg")" '>hdr\l\N</text>'
draw weird.mmd graph --format mermaid "$tmp/weird.yaml"
expect_eq "special names: mermaid exits 0" 0 "$status"
expect_contains "special names: Mermaid quote as an entity" "$(cat "$tmp/weird.mmd.out")" 'q0["a#quot;b\c<br/>(quorum)"]'
expect_eq "special names: Mermaid has no raw quote inside a label" "" \
  "$(grep -E '\["[^"]*"[^"]*"\]' "$tmp/weird.mmd.out" | grep -v '^ *subgraph' || true)"

# -o json: one document with the format and the graph
draw json -o json graph --format mermaid "$root/topologies/minimal.yaml"
expect_eq "-o json exits 0" 0 "$status"
expect_contains "-o json names the format" "$(cat "$tmp/json.out")" '"format": "mermaid"'
expect_contains "-o json holds the graph" "$(cat "$tmp/json.out")" '"graph": "flowchart LR\n'

# usage errors
draw badfmt graph --format svg "$root/topologies/minimal.yaml"
expect_eq "--format svg is a usage error" 64 "$status"
expect_contains "--format svg says what is expected" "$(cat "$tmp/badfmt.err")" \
  "invalid graph format 'svg': expected dot or mermaid"
draw nofile graph
expect_eq "no file is a usage error" 64 "$status"
draw twofiles graph "$root/topologies/minimal.yaml" "$root/topologies/orders.yaml"
expect_eq "two files is a usage error" 64 "$status"

# an invalid file: validate's diagnostics, exit 1, nothing drawn
cat >"$tmp/bad.yaml" <<'EOF'
version: 1
vhosts:
  v:
    queues:
      q:
        type: classic
        delivery_limit: 5
EOF
draw bad graph "$tmp/bad.yaml"
expect_eq "invalid file exits 1" 1 "$status"
expect_eq "invalid file draws nothing" "" "$(cat "$tmp/bad.out")"
expect_contains "invalid file: the diagnostic as validate prints it" "$(cat "$tmp/bad.err")" \
  "bad.yaml:7:25: queues.q.delivery_limit: only quorum queues have a delivery limit (type is classic)"
draw missing graph "$tmp/does-not-exist.yaml"
expect_eq "missing file exits 1" 1 "$status"

finish
