#!/usr/bin/env bash
# test_schema.sh - the topology file's JSON Schema (schema/rmqtopo-topology.schema.json)
# against the loader. No broker needed.
#
#   bash tests/integration/test_schema.sh build/rmqtopo
#
# With Debian's /usr/bin/python3, python3-jsonschema (draft-07) and python3-yaml (read as
# YAML 1.2, as rmqtopo reads it: see schema_check.py):
# - the schema is a valid draft-07 schema, and `rmqtopo schema` prints the shipped file;
# - every example topology, and every YAML file of the data cases (tests/data) and of the
#   load fuzzer's corpus that validate accepts (exit 0, warnings allowed), is accepted;
#   expand and init output is accepted too;
# - every data case file that validate refuses at the key level (unknown key, wrong type,
#   a value outside an enum, a missing required key) is refused, and so is every file of
#   tests/integration/data/schema/bad (each one validate refuses too);
# - the loader's own key lists (its "expected one of: ..." for an unknown key, at every
#   level) are the schema's properties there: a key added to the loader and not to the
#   schema fails here;
# - every example carries the yaml-language-server modeline, with a path that reaches the
#   schema.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
root=$(cd "$here/../.." && pwd)
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
SCHEMA=$root/schema/rmqtopo-topology.schema.json
PY=/usr/bin/python3
CHECK=$here/schema_check.py
work=$(mktemp -d "${TMPDIR:-/tmp}/rmqtopo-test-schema.XXXXXX")
trap 'rm -rf "$work"' EXIT

if ! "$PY" -c 'import jsonschema, yaml' 2>/dev/null; then
  fail "Debian's python3-jsonschema and python3-yaml are installed (scripts/setup.sh)"
  finish
  exit 1
fi

# --- the schema itself, and the binary's copy
out=$("$PY" "$CHECK" "$SCHEMA" --meta 2>&1)
expect_eq "the schema is a valid draft-07 JSON Schema" "valid draft-07 schema" "$out"
"$BIN" schema >"$work/printed.json"
status=$?
expect_eq "rmqtopo schema exits 0" 0 "$status"
if cmp -s "$work/printed.json" "$SCHEMA"; then
  pass "rmqtopo schema prints the shipped schema byte for byte"
else
  fail "rmqtopo schema prints the shipped schema byte for byte" \
    "$(diff "$SCHEMA" "$work/printed.json" | head -5)"
fi
"$BIN" -o json schema >"$work/printed2.json"
if cmp -s "$work/printed2.json" "$SCHEMA"; then pass "rmqtopo -o json schema prints the same"; else
  fail "rmqtopo -o json schema prints the same"; fi
"$BIN" schema extra >/dev/null 2>"$work/err"
expect_eq "rmqtopo schema with an argument is a usage error (64)" 64 "$?"
expect_contains "rmqtopo --help lists schema" "$("$BIN" --help)" "schema "
expect_contains "a misspelt command gets a did-you-mean, the last commands of the table too" \
  "$("$BIN" shema 2>&1)" "did you mean 'schema'?"

# validate's verdict on a file, run as the data cases run (env -i, the case's env file)
# sets v_status and v_err
run_validate() {
  local file=$1 dir envs=(PATH="$PATH" HOME="${HOME:-/tmp}" NO_COLOR=1) line
  dir=$(dirname "$file")
  if [ -f "$dir/env" ]; then
    while IFS= read -r line || [ -n "$line" ]; do
      [ -n "$line" ] && envs+=("$line")
    done <"$dir/env"
  fi
  v_err=$(cd "$dir" && env -i "${envs[@]}" "$BIN" validate "$(basename "$file")" 2>&1 >/dev/null)
  v_status=$?
}
# The schema's verdicts, for every file at once (one Python run: its start costs more than
# the checks): check_all reads $work/list ("FILE<TAB>ENV_FILE" lines) and fills SV
# (0 accepted, 1 refused, 2 not YAML) and SM by file; run_schema looks one up.
declare -A SV=() SM=()
list_add() { # FILE: queued for check_all, with its data case's env file if any
  local env=
  [ -f "$(dirname "$1")/env" ] && env=$(dirname "$1")/env
  printf '%s\t%s\n' "$1" "$env" >>"$work/list"
}
check_all() {
  local line verdict rest file
  while IFS= read -r line; do
    verdict=${line%% *}
    rest=${line#* }
    case $verdict in
      accepted) file=$rest; SV[$file]=0 ;;
      refused) file=${rest%%: *}; SV[$file]=1; SM[$file]+="$rest; " ;;
      not-yaml) file=${rest%%: *}; SV[$file]=2; SM[$file]+="$rest; " ;;
    esac
  done < <("$PY" "$CHECK" "$SCHEMA" --list "$work/list" 2>&1)
}
run_schema() {
  s_status=${SV[$1]:-missing}
  s_out=${SM[$1]:-accepted $1}
}
# what validate says that the schema must see too: the loader's key and type errors
KEY_LEVEL="unknown (shovel |federation upstream )?key '|needs a password source|takes one password source|expected a map|expected a list|expected a non-empty list|expected a whole number|expected true or false|expected a duration|expected a size|expected a rate|invalid value '|invalid exchange type|invalid duration|invalid size|invalid max_age|YAML merge keys|missing: |needs a type|needs a pattern|needs a definition|a binding needs|unsupported version|the file is empty|expected an integer.*found string|expected the name of a retry ladder"

# --- every file the schema is to see, checked in one run
: >"$work/list"
for f in "$root"/topologies/*.yaml; do
  list_add "$f"
  "$BIN" expand "$f" >"$work/expanded-$(basename "$f")" 2>/dev/null
  list_add "$work/expanded-$(basename "$f")"
done
for u in work_queue pub_sub event_sourcing cqrs saga; do
  "$BIN" init --use-case "$u" >"$work/init-$u.yaml" 2>/dev/null
  list_add "$work/init-$u.yaml"
done
mapfile -t cases < <(find "$root/tests/data" -name '*.yaml' -type f | sort
  find "$root/tests/fuzz/corpus/load" -type f | sort)
for f in "${cases[@]}" "$root"/tests/integration/data/schema/*/*.yaml; do list_add "$f"; done
check_all

# --- the examples
for f in "$root"/topologies/*.yaml; do
  name=topologies/$(basename "$f")
  run_validate "$f"
  expect_eq "$name: validate accepts it" 0 "$v_status"
  run_schema "$f"
  expect_eq "$name: the schema accepts it" 0 "$s_status"
  modeline=$(grep -m1 -E '^# yaml-language-server: \$schema=' "$f" | sed 's/^# yaml-language-server: \$schema=//')
  if [ -z "$modeline" ]; then
    fail "$name: carries the yaml-language-server modeline"
  elif [ "$(cd "$(dirname "$f")" && realpath -m "$modeline")" = "$(realpath "$SCHEMA")" ]; then
    pass "$name: modeline $modeline reaches the schema"
  else
    fail "$name: modeline $modeline reaches the schema" "it resolves to $(cd "$(dirname "$f")" && realpath -m "$modeline")"
  fi
  run_schema "$work/expanded-$(basename "$f")"
  expect_eq "$name: its expansion (rmqtopo expand) is accepted too" 0 "$s_status"
done

# --- init's starting topologies
for u in work_queue pub_sub event_sourcing cqrs saga; do
  run_schema "$work/init-$u.yaml"
  expect_eq "init --use-case $u: the schema accepts its output" 0 "$s_status"
done

# --- every data case file and the load fuzzer's corpus, as validate sees them
accepted=0 accepted_ok=0 keylevel=0 keylevel_ok=0 semantic=0
bad_accept=() bad_refuse=()
for f in "${cases[@]}"; do
  run_validate "$f"
  run_schema "$f"
  rel=${f#"$root"/}
  if [ "$v_status" = 0 ]; then
    accepted=$((accepted + 1))
    if [ "$s_status" = 0 ]; then accepted_ok=$((accepted_ok + 1)); else bad_accept+=("$rel: $s_out"); fi
  elif [ "$v_status" = 1 ] && printf '%s\n' "$v_err" | grep -v ': warning: ' | grep -qE "$KEY_LEVEL"; then
    keylevel=$((keylevel + 1))
    if [ "$s_status" != 0 ]; then keylevel_ok=$((keylevel_ok + 1)); else
      bad_refuse+=("$rel: validate says $(printf '%s\n' "$v_err" | grep -v ': warning: ' | grep -m1 -E "$KEY_LEVEL")"); fi
  else
    semantic=$((semantic + 1))
  fi
done
if [ "$accepted" -ge 100 ] && [ "$accepted_ok" = "$accepted" ]; then
  pass "the schema accepts all $accepted data and corpus files validate accepts"
else
  fail "the schema accepts all $accepted data and corpus files validate accepts (at least 100 expected)" \
    "${bad_accept[@]:0:10}"
fi
if [ "$keylevel" -ge 20 ] && [ "$keylevel_ok" = "$keylevel" ]; then
  pass "the schema refuses all $keylevel data and corpus files validate refuses at the key level"
else
  fail "the schema refuses all $keylevel data and corpus files validate refuses at the key level (at least 20 expected)" \
    "${bad_refuse[@]:0:10}"
fi
echo "  ($semantic more files validate refuses for other reasons: references, queue types, YAML syntax, duplicate keys)"

# --- the two files of every key, and the bad files
f=$root/tests/integration/data/schema/good/everything.yaml
run_validate "$f"
expect_eq "good/everything.yaml: validate accepts it" 0 "$v_status"
run_schema "$f"
expect_eq "good/everything.yaml: the schema accepts it" 0 "$s_status"
f=$root/tests/integration/data/schema/good/broker-rest.yaml
run_schema "$f"
expect_eq "good/broker-rest.yaml (users, permissions, shovels ...): the schema accepts it" 0 "$s_status"
printf 'version: 1\nusers: {}\nvhosts: {}\n' >"$work/probe.yaml"
if "$BIN" validate "$work/probe.yaml" >/dev/null 2>&1; then
  run_validate "$f"
  expect_eq "good/broker-rest.yaml: validate accepts it" 0 "$v_status"
else
  echo "  (this rmqtopo does not read 'users' yet: broker-rest.yaml is checked against the schema only)"
fi
for f in "$root"/tests/integration/data/schema/bad/*.yaml; do
  name=bad/$(basename "$f")
  run_validate "$f"
  run_schema "$f"
  if [ "$v_status" = 1 ] && [ "$s_status" = 1 ]; then
    pass "$name: validate and the schema both refuse it ($(sed -n '1s/^# //p' "$f"))"
  else
    fail "$name: validate and the schema both refuse it" "validate exit $v_status: $v_err" "schema: $s_out"
  fi
done

# --- the loader's key lists are the schema's properties
# each probe: a file with an unknown key at one place, and the schema's properties there
"$PY" - "$SCHEMA" >"$work/props.txt" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
d = s["definitions"]
places = {
    "top": s, "vhost": d["vhost"], "queue": d["queue"], "exchange": d["exchange"],
    "binding": d["binding"], "bind": d["queue"]["properties"]["bind"]["items"],
    "policy": d["policy"], "alert": d["alert"], "threshold": d["alert"]["properties"]["messages"],
    "ladder": d["retryLadder"], "user": d["user"], "user_limits": d["user"]["properties"]["limits"],
    "vhost_limits": d["vhost"]["properties"]["limits"], "permission": d["permission"],
    "topic_permission": d["topicPermission"], "operator_policy": d["operatorPolicy"],
    "operator_definition": d["operatorPolicy"]["properties"]["definition"],
    "shovel": d["shovel"], "federation_upstream": d["federationUpstream"],
}
for name, node in places.items():
    print(name, " ".join(sorted(node["properties"])))
EOF
probe() { # NAME YAML
  local name=$1 body=$2 msg loader schema_keys extra missing
  printf '%s\n' "$body" >"$work/probe.yaml"
  msg=$("$BIN" validate "$work/probe.yaml" 2>&1 | grep -m1 -E "unknown ([a-z-]+ )*key 'zzqqxxyy'")
  schema_keys=$(awk -v n="$name" '$1 == n { $1 = ""; print }' "$work/props.txt" | tr ' ' '\n' | sed '/^$/d' | sort)
  if [ -z "$msg" ]; then
    if "$BIN" validate "$work/probe.yaml" 2>&1 | grep -qE "unknown key '(users|limits|permissions|topic_permissions|operator_policies|shovels|federation_upstreams)'"; then
      echo "  ($name: this rmqtopo does not read that key yet; the schema describes it from the spec)"
      return
    fi
    fail "$name: the loader reports an unknown key there" "$("$BIN" validate "$work/probe.yaml" 2>&1 | head -3)"
    return
  fi
  # the list: "(expected one of: a, b, c)" or "(it knows: a, b or c)"
  case $msg in
    *"expected one of: "* | *"it knows: "*) ;;
    *) echo "  ($name: the loader names no key list: $msg)"; return ;;
  esac
  loader=$(printf '%s\n' "$msg" | sed -E 's/.*(expected one of|it knows): ([^)]*)\).*/\2/; s/ or /, /' |
    tr ',' '\n' | tr -d ' ' | sed '/^$/d' | sort)
  missing=$(comm -23 <(printf '%s\n' "$loader") <(printf '%s\n' "$schema_keys") | tr '\n' ' ')
  extra=$(comm -13 <(printf '%s\n' "$loader") <(printf '%s\n' "$schema_keys") | tr '\n' ' ')
  if [ -z "$missing" ]; then
    pass "$name: the schema describes every key the loader takes ($(printf '%s\n' "$loader" | wc -l))"
  else
    fail "$name: the schema describes every key the loader takes" "missing from the schema: $missing"
  fi
  # keys of the spec's "rest of the broker" may come before the loader reads them
  extra=$(printf '%s\n' $extra | grep -vxE 'users|description|tags|default_queue_type|limits|permissions|topic_permissions|operator_policies|shovels|federation_upstreams' | tr '\n' ' ')
  if [ -z "${extra// /}" ]; then
    pass "$name: the schema has no key the loader refuses"
  else
    fail "$name: the schema has no key the loader refuses" "in the schema only: $extra"
  fi
}
V='version: 1
vhosts:
  v:'
probe top "version: 1
vhosts: {}
zzqqxxyy: 1"
probe vhost "$V
    zzqqxxyy: 1"
probe queue "$V
    queues: { q: { zzqqxxyy: 1 } }"
probe exchange "$V
    exchanges: { x: { type: direct, zzqqxxyy: 1 } }"
probe binding "$V
    exchanges: { x: { type: direct } }
    bindings: [ { source: x, destination: q, zzqqxxyy: 1 } ]"
probe bind "$V
    exchanges: { x: { type: direct } }
    queues: { q: { bind: [ { exchange: x, zzqqxxyy: 1 } ] } }"
probe policy "$V
    policies: { p: { pattern: x, definition: { max-length: 1 }, zzqqxxyy: 1 } }"
probe alert "$V
    queues: { q: { alert: { zzqqxxyy: 1 } } }"
probe threshold "$V
    queues: { q: { alert: { messages: { zzqqxxyy: 1 } } } }"
probe ladder "$V
    retry_ladders: { l: { zzqqxxyy: 1 } }"
probe user "version: 1
users: { u: { zzqqxxyy: 1 } }
vhosts: {}"
probe user_limits "version: 1
users: { u: { no_password: true, limits: { zzqqxxyy: 1 } } }
vhosts: {}"
probe vhost_limits "$V
    limits: { zzqqxxyy: 1 }"
probe permission "$V
    permissions: { u: { zzqqxxyy: x } }"
probe topic_permission "$V
    topic_permissions: { u: [ { exchange: amq.topic, zzqqxxyy: x } ] }"
probe operator_policy "$V
    operator_policies: { p: { pattern: x, definition: { max-length: 1 }, zzqqxxyy: 1 } }"
probe shovel "$V
    shovels: { s: { src-uri: 'amqp://', src-queue: a, dest-uri: 'amqp://', zzqqxxyy: 1 } }"
probe federation_upstream "$V
    federation_upstreams: { f: { uri: 'amqp://', zzqqxxyy: 1 } }"

finish
