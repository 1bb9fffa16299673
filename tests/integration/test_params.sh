#!/usr/bin/env bash
# Operator policies, dynamic shovels and federation upstreams (topology.md, "The rest of the
# broker"), against a node with the shovel and federation plugins
# (RMQTOPO_BROKER_PLUGINS="rabbitmq_shovel rabbitmq_shovel_management rabbitmq_federation
# rabbitmq_federation_management"): each kind created, changed and pruned and checked through
# the management API, a second apply changing nothing; a shovel made by apply moves messages
# (every id counted); a federation upstream with a policy of the file shows a link in
# federation_status; URI passwords never printed (plan, apply, -v, export, a refused PUT);
# validate's errors; the round trip of definitions written by others.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
MSGTOOL=${MSGTOOL:-$(dirname "$BIN")/tests/msgtool}
# the system interpreter: a version manager's shim can take seconds a call on a loaded machine
PY=$(command -v /usr/bin/python3 || command -v python3)

v=rmqtopo-it-params-$$
up=rmqtopo-it-params-up-$$
rt1=rmqtopo-it-params-rt1-$$
rt2=rmqtopo-it-params-rt2-$$
user=rmqtopo-params-user-$$
pw='Sh0vel%pw:un1que!'
pw_url='Sh0vel%25pw%3Aun1que%21'
work=$(mktemp -d)
plugins() { bash -c "$(sed 's#/rabbitmqctl -n #/rabbitmq-plugins -n #' "$BROKER_CTL")" rabbitmq-plugins "$@"; }
fed_disabled=
cleanup() {
  [ -n "$fed_disabled" ] && plugins enable rabbitmq_federation rabbitmq_federation_management >/dev/null 2>&1
  for x in "$v" "$up" "$rt1" "$rt2"; do api DELETE "/vhosts/$x" >/dev/null 2>&1; done
  api DELETE "/users/$user" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap - EXIT

if ! api GET "/extensions" | grep -q '"shovel.js"' ||
  ! api GET "/overview?columns=exchange_types" | grep -q '"x-federation-upstream"'; then
  fail "the node has the shovel and federation plugins" \
    "start it with RMQTOPO_BROKER_PLUGINS=\"rabbitmq_shovel rabbitmq_shovel_management rabbitmq_federation rabbitmq_federation_management\""
  finish
  exit 1
fi

amqp_hp=${RMQTOPO_AMQP_URL#amqp://}
amqp_hp=${amqp_hp%%/*}
amqp_hp=${amqp_hp%%,*}
enc() { "$PY" -c 'import sys,urllib.parse;print(urllib.parse.quote(sys.argv[1],safe=""))' "$1"; }
v_enc=$(enc "$v")
up_enc=$(enc "$up")

# a user with a password of its own: the shovel's destination and the upstream connect as it
api PUT "/users/$user" "{\"password\":\"$pw\",\"tags\":\"\"}" >/dev/null
export PARAMS_PW=$pw_url

all=$work/all.out
: >"$all"
# out LABEL CMD...: runs rmqtopo, keeps what it printed (for the secrets check), sets rc and out
out() {
  local label=$1
  shift
  "$BIN" "$@" >"$work/o" 2>&1 </dev/null
  rc=$?
  out=$(cat "$work/o")
  { echo "=== $label"; cat "$work/o"; } >>"$all"
}

# ---- the file ---------------------------------------------------------------------------
cat >"$work/t.yaml" <<YAML
version: 1
vhosts:
  $up:
    exchanges:
      fed.x: { type: topic }
  $v:
    exchanges:
      fed.x: { type: topic }
    queues:
      src: { type: quorum }
      dst: { type: quorum }
      fed.q: { type: quorum, bind: [ { exchange: fed.x, routing_key: "#" } ] }
    policies:
      federate: { pattern: "^fed\\\\.x\$", apply_to: exchanges, definition: { federation-upstream: up } }
    operator_policies:
      cap: { pattern: "^src\$", apply_to: queues, priority: 1, definition: { max-length: 100000 } }
    shovels:
      mv:
        src-uri: "amqp:///$v_enc"
        src-queue: src
        dest-uri: "amqp://$user:\${PARAMS_PW}@$amqp_hp/$v_enc"
        dest-queue: dst
        ack-mode: on-confirm
    federation_upstreams:
      up: { uri: "amqp://$user:\${PARAMS_PW}@$amqp_hp/$up_enc", max-hops: 1, ack-mode: on-confirm }
YAML
# the vhosts first (so that the user may connect to them), then everything
printf 'version: 1\nvhosts:\n  %s: {}\n  %s: {}\n' "$v" "$up" >"$work/vh.yaml"
out "apply vhosts" apply --yes "$work/vh.yaml"
for x in "$v" "$up"; do
  api PUT "/permissions/$(enc "$x")/$user" '{"configure":".*","write":".*","read":".*"}' >/dev/null
done

out "plan create" plan "$work/t.yaml"
expect_eq "plan of the new kinds exits 2" 2 "$rc"
expect_contains "plan shows the operator policy" "$out" "+   operator_policy 'cap'"
expect_contains "plan shows the shovel" "$out" "+   shovel 'mv'"
expect_contains "plan shows the upstream" "$out" "+   federation_upstream 'up'"
expect_contains "plan shows the URI redacted" "$out" "amqp://$user:***@$amqp_hp/$v_enc"
out "plan create json" plan -o json "$work/t.yaml"
expect_eq "plan -o json: a shovel change of kind shovel" 1 \
  "$(printf '%s' "$out" | "$PY" -c 'import sys,json;d=json.load(sys.stdin);print(sum(1 for c in d["changes"] if c["kind"]=="shovel" and c["action"]=="create"))' 2>&1)"

out "apply create" apply --yes --verbose "$work/t.yaml"
expect_eq "apply exits 0" 0 "$rc"
got=$(api GET "/operator-policies/$v_enc/cap" | "$PY" -c 'import sys,json;d=json.load(sys.stdin);print(d["pattern"],d["apply-to"],d["priority"],d["definition"])')
expect_eq "the operator policy is on the broker" "^src\$ queues 1 {'max-length': 100000}" "$got"
got=$(api GET "/parameters/shovel/$v_enc/mv" | "$PY" -c 'import sys,json;d=json.load(sys.stdin)["value"];print(sorted(d.items()))')
expect_eq "the shovel is stored as the file states it (no defaults added)" \
  "[('ack-mode', 'on-confirm'), ('dest-queue', 'dst'), ('dest-uri', 'amqp://$user:$pw_url@$amqp_hp/$v_enc'), ('src-queue', 'src'), ('src-uri', 'amqp:///$v_enc')]" "$got"
got=$(api GET "/parameters/federation-upstream/$v_enc/up" | "$PY" -c 'import sys,json;d=json.load(sys.stdin)["value"];print(d["max-hops"],d["ack-mode"],d["uri"])')
expect_eq "the upstream is on the broker" "1 on-confirm amqp://$user:$pw_url@$amqp_hp/$up_enc" "$got"
out "plan after apply" plan "$work/t.yaml"
expect_eq "a second plan exits 0" 0 "$rc"

# ---- the shovel moves messages ------------------------------------------------------------
n=200
"$MSGTOOL" publish "$v" src "$n" sh >/dev/null 2>&1
for i in $(seq 1 300); do
  c=$(api GET "/queues/$v_enc/dst?columns=messages" | "$PY" -c 'import sys,json;print(json.load(sys.stdin).get("messages",0))' 2>/dev/null)
  [ "${c:-0}" -ge "$n" ] && break
  sleep 0.2
done
"$MSGTOOL" dump "$v" dst >"$work/dump" 2>/dev/null
sent=$n
found=$(wc -l <"$work/dump")
uniq_ids=$(awk '{print $1}' "$work/dump" | sort -u | wc -l)
lost=$(for i in $(seq 0 $((n - 1))); do echo "sh-$i"; done | sort | comm -23 - <(awk '{print $1}' "$work/dump" | sort -u) | wc -l)
expect_eq "the shovel moved every message (sent $sent)" "$sent" "$found"
expect_eq "no duplicates" "$found" "$uniq_ids"
expect_eq "none lost" 0 "$lost"

# ---- the federation link ----------------------------------------------------------------
link=
for i in $(seq 1 60); do
  link=$("$BROKER_CTL" federation_status --formatter json 2>/dev/null |
    "$PY" -c 'import sys,json
d=json.load(sys.stdin)
print(" ".join(sorted(l.get("upstream","")+":"+l.get("status","")+":"+l.get("exchange","") for l in d if l.get("vhost")==sys.argv[1])))' "$v" 2>/dev/null)
  case $link in *up:running:fed.x*) break ;; esac
  sleep 0.2
done
expect_contains "federation_status shows the upstream's link running" "$link" "up:running:fed.x"

# ---- changes in place -------------------------------------------------------------------
sed -e 's/max-length: 100000/max-length: 50000/' \
  -e 's/ack-mode: on-confirm$/ack-mode: on-confirm\n        src-prefetch-count: 50/' \
  -e 's/max-hops: 1, ack-mode: on-confirm/max-hops: 2, ack-mode: on-confirm/' "$work/t.yaml" >"$work/t2.yaml"
out "plan update" plan "$work/t2.yaml"
expect_eq "plan of changes exits 2" 2 "$rc"
expect_contains "the operator policy is updated in place" "$out" "~   operator_policy 'cap'"
expect_contains "field by field" "$out" "definition.max-length: 100000 -> 50000"
expect_contains "the shovel is updated in place" "$out" "~   shovel 'mv'"
expect_contains "its new key" "$out" "src-prefetch-count: (none) -> 50"
expect_contains "the upstream is updated in place" "$out" "max-hops: 1 -> 2"
expect_eq "nothing replaced or deleted" "" "$(printf '%s\n' "$out" | grep -E '^ +(-/\+|-) ')"
out "apply update" apply --yes "$work/t2.yaml"
expect_eq "apply of the changes exits 0" 0 "$rc"
expect_eq "the broker has the new max-length" 50000 \
  "$(api GET "/operator-policies/$v_enc/cap" | "$PY" -c 'import sys,json;print(json.load(sys.stdin)["definition"]["max-length"])')"
expect_eq "the broker has the new prefetch" 50 \
  "$(api GET "/parameters/shovel/$v_enc/mv" | "$PY" -c 'import sys,json;print(json.load(sys.stdin)["value"]["src-prefetch-count"])')"
out "plan after update" plan "$work/t2.yaml"
expect_eq "a second plan after the changes exits 0" 0 "$rc"

# a password change alone: "password changed", never the password
PARAMS_PW=other-pw out "plan password" plan "$work/t2.yaml"
expect_contains "a URI password change shows as such" "$out" "password changed"

# the broker's defaults spelled out elsewhere are not a difference
api PUT "/parameters/federation-upstream/$v_enc/up" \
  "{\"value\":{\"uri\":[\"amqp://$user:$pw_url@$amqp_hp/$up_enc\"],\"max-hops\":2,\"ack-mode\":\"on-confirm\",\"prefetch-count\":1000,\"trust-user-id\":false}}" >/dev/null
out "plan defaults" plan "$work/t2.yaml"
expect_eq "defaults filled in and a list of one URI compare equal (exit 0)" 0 "$rc"

# ---- unmanaged and prune ----------------------------------------------------------------
api PUT "/operator-policies/$v_enc/extra" '{"pattern":"^none$","definition":{"max-length":5},"apply-to":"queues"}' >/dev/null
"$PY" - "$work/t2.yaml" "$work/t3.yaml" <<'PY'
import sys
lines = open(sys.argv[1]).read().split("\n")
out, skip = [], False
for l in lines:
    if l.startswith("    shovels:"):
        out.append("    shovels: {}"); skip = True; continue
    if skip and l.startswith("      "):
        continue
    skip = False
    out.append(l)
open(sys.argv[2], "w").write("\n".join(out))
PY
out "plan unmanaged" plan "$work/t3.yaml"
expect_eq "unmanaged objects alone: exit 0" 0 "$rc"
expect_contains "an operator policy the file does not name is unmanaged" "$out" "?   operator_policy 'extra'"
expect_contains "a shovel the file does not name is unmanaged" "$out" "?   shovel 'mv'"
out "apply prune" apply --yes --prune "$work/t3.yaml"
expect_eq "apply --prune exits 0" 0 "$rc"
expect_contains "the shovel is gone" "$(api GET "/parameters/shovel/$v_enc/mv")" "Not Found"
expect_contains "the extra operator policy is gone" "$(api GET "/operator-policies/$v_enc/extra")" "Not Found"
expect_contains "the file's operator policy stays" "$(api GET "/operator-policies/$v_enc/cap")" '"name":"cap"'
out "plan after prune" plan --prune "$work/t3.yaml"
expect_eq "plan --prune after the prune exits 0" 0 "$rc"
# a vhost without the key does not manage the kind
api PUT "/parameters/shovel/$(enc "$up")/theirs" \
  "{\"value\":{\"src-uri\":\"amqp:///$up_enc\",\"src-queue\":\"a\",\"dest-uri\":\"amqp:///$up_enc\",\"dest-queue\":\"b\"}}" >/dev/null
out "plan unmanaged kind" plan --prune "$work/t3.yaml"
expect_eq "a vhost without 'shovels' leaves its shovels alone" "" "$(printf '%s' "$out" | grep theirs)"

# ---- validate ---------------------------------------------------------------------------
cat >"$work/bad.yaml" <<YAML
version: 1
vhosts:
  $v:
    operator_policies:
      cap: { pattern: ".*", definition: { overflow: drop-head, max-lenght: 3 } }
    shovels:
      s: { src-uri: "amqp://", src-queue: a, dest-uri: "amqp://", dest-queue: b, ack-mode: on-confim, prefetch-cont: 5 }
    federation_upstreams:
      u: { uri: "amqp://$user:\${PARAMS_PW}@nohost/x", max_hops: 1 }
YAML
out "validate bad" validate "$work/bad.yaml"
expect_eq "validate refuses the file" 1 "$rc"
expect_contains "an operator policy cannot set overflow (file:line:col)" "$out" "bad.yaml:5:53: operator_policies.cap.definition.overflow: 'overflow' cannot be set by an operator policy"
expect_contains "a misspelt operator-policy key: did you mean" "$out" "(did you mean 'max-length'?)"
expect_contains "a misspelt ack-mode: did you mean" "$out" "(did you mean 'on-confirm'?)"
expect_contains "a misspelt shovel key: did you mean" "$out" "shovels.s.prefetch-cont: unknown shovel key 'prefetch-cont' (did you mean 'prefetch-count'?)"
expect_contains "an upstream key with '_': did you mean" "$out" "(did you mean 'max-hops'?)"
unset PARAMS_PW
out "plan unset" plan "$work/t.yaml"
expect_eq "an unset variable is an error" 1 "$rc"
expect_contains "naming it" "$out" "PARAMS_PW"
export PARAMS_PW=$pw_url

# a refused PUT: the broker's reason quotes the URI; the message must not
sed -e "s#dest-uri: \"amqp://$user:\${PARAMS_PW}@$amqp_hp/$v_enc\"#dest-uri: \"amqp://$user:\${PARAMS_PW}@$amqp_hp:notaport/x\"#" \
  "$work/t2.yaml" >"$work/refused.yaml"
out "apply refused" apply --yes --verbose "$work/refused.yaml"
expect_eq "a refused PUT fails the apply" 1 "$rc"
expect_contains "with the broker's reason" "$out" "not a valid URI"

# ---- export -----------------------------------------------------------------------------
out "export" export --vhost "$v"
expect_eq "export exits 0" 0 "$rc"
"$BIN" export --vhost "$v" >"$work/e.yaml" 2>/dev/null
expect_contains "export writes the upstream's password as a placeholder" "$(cat "$work/e.yaml")" '${UPSTREAM_'
expect_contains "and warns naming the variable" "$out" "set UPSTREAM_"
expect_contains "export writes operator policies" "$(cat "$work/e.yaml")" "operator_policies:"
evars=()
for x in $(grep -o '[A-Z0-9_]*_PASSWORD' "$work/e.yaml" | sort -u); do evars+=("$x=$pw_url"); done
env "${evars[@]}" "$BIN" plan "$work/e.yaml" >"$work/o" 2>&1
expect_eq "the export plans with exit 0 once its variable is set" 0 "$?"
api PUT "/parameters/federation-upstream-set/$v_enc/myset" '{"value":[{"upstream":"up"}]}' >/dev/null
out "export set" export --vhost "$v"
expect_contains "an upstream set is named in a warning" "$out" "not exported: federation-upstream-set 'myset'"
"$BIN" export --vhost "$v" --include-secrets >"$work/es.yaml" 2>/dev/null
expect_contains "--include-secrets writes the URI as stored" "$(cat "$work/es.yaml")" "$pw_url@"

# ---- graph ------------------------------------------------------------------------------
out "graph" graph "$work/t.yaml"
expect_contains "graph: the shovel is an edge" "$out" 'label="shovel mv"'
expect_contains "graph: the upstream is an endpoint named by host" "$out" "${amqp_hp%%:*}\n(endpoint)"
expect_contains "graph: the federation link" "$out" 'federation up'

out "expand" expand "$work/t2.yaml"
expect_contains "expand writes URI passwords as placeholders" "$out" '${SHOVEL_'

# passwords written raw with characters a URI's userinfo should not hold (the broker takes
# them): never printed, not even in part
raw="Comma,Quote'Sl/ash"
cat >"$work/raw.yaml" <<YAML
version: 1
vhosts:
  $v:
    shovels:
      raw-pw:
        src-uri: "amqp://$user:$raw@$amqp_hp/$v_enc"
        src-queue: rawq
        dest-uri: ["amqp://$user:$raw@$amqp_hp/$v_enc"]
        dest-queue: rawq2
YAML
out "plan raw" plan "$work/raw.yaml"
out "plan raw json" plan "$work/raw.yaml" -o json
out "plan raw markdown" plan "$work/raw.yaml" -o markdown
expect_eq "raw URI passwords (',', quote, '/'): never in plan text, JSON or markdown" 0 \
  "$(grep -c -F -e "Comma" -e "Sl/ash" "$all")"

# ---- secrets: nothing printed holds the password ----------------------------------------
leaks=$(grep -c -F -e "$pw" -e "$pw_url" "$all")
expect_eq "no password in plan/apply/-v/validate/errors/export output" 0 "$leaks"

# ---- round trip: definitions written by others ------------------------------------------
api PUT "/vhosts/$(enc "$rt1")" '{}' >/dev/null
api POST "/definitions/$(enc "$rt1")" "$(cat "$here/data/params/localega-defs.json")" >/dev/null
"$BIN" export --vhost "$rt1" >"$work/rt.yaml" 2>"$work/rt.err"
expect_eq "the imported vhost exports" 0 "$?"
vars=$(grep -o '[A-Z0-9_]*_PASSWORD' "$work/rt.yaml" | sort -u)
envs=()
for x in $vars; do envs+=("$x=Rt%2Fpw-9x3"); done
env "${envs[@]}" "$BIN" plan "$work/rt.yaml" >"$work/o" 2>&1
expect_eq "its export plans with exit 0" 0 "$?"
sed "s/^  $rt1:/  $rt2:/" "$work/rt.yaml" >"$work/rt2.yaml"
env "${envs[@]}" "$BIN" apply --yes "$work/rt2.yaml" >"$work/o" 2>&1
expect_eq "applied to an empty vhost" 0 "$?"
norm() {
  api GET "/definitions/$(enc "$1")" | "$PY" -c '
import sys, json
d = json.load(sys.stdin)
out = {}
for k in ("parameters", "policies", "queues", "exchanges", "bindings"):
    items = []
    for o in d.get(k, []):
        o = dict(o); o.pop("vhost", None)
        # rmqtopo declares a classic queue with x-queue-type (the queue code, not this kind)
        if k == "queues" and o.get("arguments", {}).get("x-queue-type") == "classic":
            del o["arguments"]["x-queue-type"]
        items.append(json.dumps(o, sort_keys=True))
    out[k] = sorted(items)
print(json.dumps(out, sort_keys=True))'
}
a=$(norm "$rt1")
b=$(norm "$rt2")
expect_eq "GET /api/definitions of both vhosts match (URI passwords included)" "$a" "$b"
expect_contains "they hold the operator policy" "$a" 'operator_policy'
expect_contains "they hold the shovels" "$a" 'CEGA-completion'
expect_contains "they hold the upstream with its password" "$a" 'cega_swe1:Rt%2Fpw-9x3@cega_mq'


# ---- a plugin missing: plan and apply fail naming it --------------------------------------
if plugins disable rabbitmq_federation_management rabbitmq_federation >/dev/null 2>&1; then
  fed_disabled=1
  out "plan without federation" plan "$work/t2.yaml"
  expect_eq "plan without the federation plugin fails" 1 "$rc"
  expect_contains "naming the plugin" "$out" "lacks the federation plugin (rabbitmq_federation)"
  out "apply without federation" apply --yes "$work/t2.yaml"
  expect_eq "apply without the federation plugin fails" 1 "$rc"
  expect_contains "apply names the plugin" "$out" "lacks the federation plugin (rabbitmq_federation)"
  plugins enable rabbitmq_federation rabbitmq_federation_management >/dev/null 2>&1 && fed_disabled=
  expect_eq "the federation plugin is enabled again" "" "$fed_disabled"
else
  fail "rabbitmq-plugins disable rabbitmq_federation"
fi

finish
