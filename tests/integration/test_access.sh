#!/usr/bin/env bash
# Users, permissions, topic permissions and vhost settings (topology.md, "The rest of the
# broker"), against the real broker: each kind created, changed and pruned (checked through the
# management API); a second plan changes nothing; a password change is applied and the old
# password stops working over AMQP; apply never locks itself out; the default queue type of a
# 3.10 vhost is compared, not applied; RabbitMQ's own definition_import_SUITE files round-trip
# through export --include-users into a renamed vhost; nothing printed holds a password.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
MSGTOOL=${MSGTOOL:-$(dirname "$BIN")/tests/msgtool}
HOLDTOOL=${HOLDTOOL:-$(dirname "$BIN")/tests/holdtool}

v=rmqtopo-it-access-$$
src=rmqtopo-it-access-src-$$
dst=rmqtopo-it-access-dst-$$
u1=rmqtopo-acc-svc-$$
u2=rmqtopo-acc-ro-$$
u3=rmqtopo-acc-extra-$$
rt=rmqtopo-acc-rt-$$ # prefix of the round trip's users
pw1='Acc-pw1-$$-9Zq!x'
pw2='Acc-pw2-$$-7Yr?w'
work=$(mktemp -d)
all=$work/all.out # everything rmqtopo printed (searched for passwords at the end)
: >"$all"
holder=
cleanup() {
  [ -n "$holder" ] && kill "$holder" 2>/dev/null
  for x in "$v" "$src" "$dst"; do api DELETE "/vhosts/$x" >/dev/null 2>&1; done
  for x in "$u1" "$u2" "$u3" "$rt-guest" "$rt-tagged"; do api DELETE "/users/$x" >/dev/null 2>&1; done
  rm -rf "$work"
}
trap cleanup EXIT
hp=${RMQTOPO_AMQP_URL#amqp://}
hp=${hp%%/*}
hp=${hp%%,*}

# r LABEL ARGS...: runs rmqtopo (env from the caller), output in $out, status in $rc
r() {
  local label=$1
  shift
  out=$("$BIN" "$@" 2>&1)
  rc=$?
  printf '== %s\n%s\n' "$label" "$out" >>"$all"
}
amqp_login() { # USER PASSWORD: 0 when an AMQP connection with them can publish to $v's q1
  local enc
  enc=$(jq -rn --arg p "$2" '$p|@uri')
  RMQTOPO_AMQP_URL="amqp://$1:$enc@$hp" "$MSGTOOL" publish "$v" q1 1 login >/dev/null 2>&1
}
jq_api() { api GET "$1" | jq -c "$2"; }
status_of() { curl -sS -u guest:guest -o /dev/null -w '%{http_code}' "$RMQTOPO_API_URL/api$1"; }

guest_hash=$(api GET /users/guest | jq -r .password_hash)
guest_alg=$(api GET /users/guest | jq -r .hashing_algorithm)
# u2's hash: "some-password" in SHA-512 (the Messaging Topology Operator's documented example)
u2_hash='SjWbNXaNEwcoOOZWxG6J1HCF5P83lUavsCto+wh1s9zdOfoZ/CPv6l/SSdK3RC2+1QWmJGdYt5740j3ZLf/0RbpusNc='
write_file() { # FILE GUEST_TAGS U1_TAGS DESCRIPTION U1_WRITE TOPIC_WRITE MAX_QUEUES
  cat >"$1" <<YAML
version: 1
users:
  guest: { tags: [$2], password_hash: "$guest_hash", hashing_algorithm: $guest_alg }
  $u1:
    tags: [$3]
    password_env: ACC_U1_PW
    limits: { max_connections: 10, max_channels: 100 }
  $u2:
    password_hash: "$u2_hash"
    hashing_algorithm: rabbit_password_hashing_sha512
vhosts:
  $v:
    description: "$4"
    tags: [team-a, eu]
    limits: { max_connections: 50, max_queues: $7 }
    queues:
      q1: {}
    permissions:
      guest: { configure: ".*", write: ".*", read: ".*" }
      $u1: { configure: ".*", write: "$5", read: ".*" }
    topic_permissions:
      $u1: [ { exchange: amq.topic, write: "$6", read: ".*" } ]
YAML
}
write_file "$work/a.yaml" administrator monitoring "first" ".*" "^a\\\\." 100

# ---- create ---------------------------------------------------------------------------------
export ACC_U1_PW=$pw1
r "plan create" plan "$work/a.yaml"
expect_eq "plan: creates exit 2" 2 "$rc"
expect_contains "plan: user created" "$out" "+   user '$u1'"
expect_contains "plan: permission created" "$out" "+   permission '$u1'"
expect_contains "plan: topic permission created" "$out" "+   topic_permission '$u1'"
expect_contains "plan: vhost settings on its create" "$out" 'description: (none) -> "first"'
r "apply create" apply "$work/a.yaml"
expect_eq "apply: creates exit 0" 0 "$rc"
expect_eq "api: user tags" '["monitoring"]' "$(jq_api "/users/$u1" .tags)"
expect_eq "api: user limits" '{"max-channels":100,"max-connections":10}' \
  "$(jq_api "/users/$u1" '.limits|to_entries|sort_by(.key)|from_entries')"
expect_eq "api: user by hash (sha512)" "$u2_hash rabbit_password_hashing_sha512" \
  "$(api GET "/users/$u2" | jq -r '.password_hash + " " + .hashing_algorithm')"
expect_eq "api: vhost metadata" '{"description":"first","tags":["eu","team-a"]}' \
  "$(jq_api "/vhosts/$v" '{description, tags: (.tags|sort)}')"
expect_eq "api: vhost limits" '{"max-connections":50,"max-queues":100}' \
  "$(jq_api "/vhost-limits/$v" '.[0].value|to_entries|sort_by(.key)|from_entries')"
expect_eq "api: permission" '{"configure":".*","write":".*","read":".*"}' \
  "$(jq_api "/permissions/$v/$u1" '{configure, write, read}')"
expect_eq "api: topic permission" '[{"exchange":"amq.topic","write":"^a\\.","read":".*"}]' \
  "$(jq_api "/topic-permissions/$v/$u1" '[.[]|{exchange, write, read}]')"
r "plan after create" plan "$work/a.yaml"
expect_eq "second plan: nothing to change (exit 0)" 0 "$rc"
if amqp_login "$u1" "$pw1"; then pass "amqp: the password of password_env logs in"; else
  fail "amqp: the password of password_env logs in"; fi

# ---- password change ------------------------------------------------------------------------
export ACC_U1_PW=$pw2
r "plan password" plan "$work/a.yaml"
expect_eq "password change: plan exit 2" 2 "$rc"
expect_contains "password change: shown as changed only" "$out" "password: changed"
r "plan password json" -o json plan "$work/a.yaml"
expect_eq "password change: JSON field" '{"kind":"user","action":"update","fields":[{"field":"password","old":null,"new":"changed"}]}' \
  "$(printf '%s' "$out" | jq -c --arg u "$u1" '.changes[]|select(.name==$u)|{kind,action,fields}')"
r "apply password -v" -v apply "$work/a.yaml"
expect_eq "password change: apply exit 0" 0 "$rc"
if amqp_login "$u1" "$pw1"; then fail "amqp: the old password no longer logs in"; else
  pass "amqp: the old password no longer logs in"; fi
if amqp_login "$u1" "$pw2"; then pass "amqp: the new password logs in"; else
  fail "amqp: the new password logs in"; fi
r "plan after password" plan "$work/a.yaml"
expect_eq "password unchanged: plan exit 0" 0 "$rc"

# password_file: the same password from a file (with its newline) plans as nothing
printf '%s\n' "$pw2" >"$work/pw"
sed "s|password_env: ACC_U1_PW|password_file: $work/pw|" "$work/a.yaml" >"$work/a-file.yaml"
r "plan password_file" plan "$work/a-file.yaml"
expect_eq "password_file: same password plans nothing" 0 "$rc"
# an empty secret (a CI variable that expanded to nothing) would lock the user out: an error
printf '\n' >"$work/pw-empty"
sed "s|password_env: ACC_U1_PW|password_file: $work/pw-empty|" "$work/a.yaml" >"$work/a-empty.yaml"
r "plan empty password_file" plan "$work/a-empty.yaml"
expect_eq "password_file holding only a newline: plan exit 1" 1 "$rc"
expect_contains "password_file empty: says so" "$out" "is empty: a user without a password login"
ACC_U1_PW= r "plan empty password_env" plan "$work/a.yaml"
expect_eq "password_env set but empty: plan exit 1" 1 "$rc"
expect_contains "password_env empty: says so" "$out" "environment variable 'ACC_U1_PW' is empty"
mkfifo "$work/pw-fifo"
sed "s|password_env: ACC_U1_PW|password_file: $work/pw-fifo|" "$work/a.yaml" >"$work/a-fifo.yaml"
r "plan fifo password_file" plan "$work/a-fifo.yaml"
expect_eq "password_file a FIFO: plan exit 1 (no hang)" 1 "$rc"
expect_contains "password_file a FIFO: says so" "$out" "is not a regular file"

# ---- change everything in place -------------------------------------------------------------
write_file "$work/b.yaml" administrator "monitoring, management" "second" "^(amq.default|q1)$" "^b\\\\." 200
r "plan change" plan "$work/b.yaml"
expect_eq "change: plan exit 2" 2 "$rc"
expect_contains "change: user tags old -> new" "$out" 'tags: ["monitoring"] -> ["monitoring","management"]'
expect_contains "change: permission field" "$out" 'write: ".*" -> "^(amq.default|q1)$"'
expect_contains "change: description" "$out" 'description: "first" -> "second"'
expect_contains "change: vhost limit" "$out" 'limits.max_queues: 100 -> 200'
expect_contains "change: topic permission" "$out" 'amq.topic.write: "^a\\." -> "^b\\."'
case $out in *"-/+"*) fail "change: nothing replaced" "$out" ;; *) pass "change: nothing replaced" ;; esac
r "apply change" apply "$work/b.yaml"
expect_eq "change: apply exit 0" 0 "$rc"
expect_eq "api: changed user tags" '["management","monitoring"]' "$(jq_api "/users/$u1" '.tags|sort')"
expect_eq "api: changed permission" '^(amq.default|q1)$' "$(api GET "/permissions/$v/$u1" | jq -r .write)"
expect_eq "api: changed description" 'second' "$(api GET "/vhosts/$v" | jq -r .description)"
expect_eq "api: changed limit" '200' "$(api GET "/vhost-limits/$v" | jq -r '.[0].value["max-queues"]')"
expect_eq "api: changed topic permission" '^b\.' "$(api GET "/topic-permissions/$v/$u1" | jq -r '.[0].write')"
expect_eq "api: password kept by a tags change" 0 "$(amqp_login "$u1" "$pw2"; echo $?)"
r "plan after change" plan "$work/b.yaml"
expect_eq "change: second plan exit 0" 0 "$rc"

# ---- never lock yourself out ----------------------------------------------------------------
write_file "$work/demote.yaml" monitoring "monitoring, management" "second" "^(amq.default|q1)$" "^b\\\\." 200
r "apply demote" apply "$work/demote.yaml"
expect_eq "lockout: demoting its own user fails" 1 "$rc"
expect_contains "lockout: says why" "$out" "remove the administrator tag from user 'guest'"
expect_eq "lockout: guest still administrator" '["administrator"]' "$(jq_api /users/guest .tags)"
grep -v "^  guest:" "$work/b.yaml" >"$work/noguest.yaml"
r "apply prune self" apply --prune "$work/noguest.yaml"
expect_eq "lockout: pruning its own user fails" 1 "$rc"
expect_contains "lockout: names the user" "$out" "apply would delete user 'guest'"
expect_eq "lockout: nothing changed (guest)" 200 "$(status_of /users/guest)"
expect_eq "lockout: nothing changed (others)" 200 "$(status_of "/users/$u1")"

# ---- prune ----------------------------------------------------------------------------------
api PUT "/users/$u3" '{"password":"x3","tags":""}' >/dev/null
api PUT "/permissions/$v/$u3" '{"configure":".*","write":".*","read":".*"}' >/dev/null
api PUT "/topic-permissions/$v/$u3" '{"exchange":"amq.topic","write":".*","read":".*"}' >/dev/null
r "plan unmanaged" plan "$work/b.yaml"
expect_eq "unmanaged: not a change (exit 0)" 0 "$rc"
expect_contains "unmanaged: user reported" "$out" "?   user '$u3' (not in the file)"
expect_contains "unmanaged: permission reported" "$out" "?   permission '$u3' (not in the file)"
# a user with an open connection is pruned only with --force
mkfifo "$work/hold"
RMQTOPO_AMQP_URL="amqp://$u3:x3@$hp" "$HOLDTOOL" get "$v" q1 0 <"$work/hold" >"$work/hold.out" 2>&1 &
holder=$!
exec 3>"$work/hold"
for _ in $(seq 1 100); do
  [ "$(api GET '/connections?columns=user' | jq --arg u "$u3" '[.[]|select(.user==$u)]|length')" -ge 1 ] && break
  sleep 0.1
done
r "prune connected" apply --prune "$work/b.yaml"
expect_eq "prune: a connected user needs --force" 1 "$rc"
expect_contains "prune: says why" "$out" "user '$u3' has 1 open connection"
expect_eq "prune: refused, nothing changed" 200 "$(status_of "/users/$u3")"
echo quit >&3
exec 3>&-
wait "$holder" 2>/dev/null
holder=
r "prune" apply --prune "$work/b.yaml"
expect_eq "prune: apply exit 0" 0 "$rc"
expect_eq "prune: user deleted" 404 "$(status_of "/users/$u3")"
expect_eq "prune: permission gone" '[]' "$(jq_api "/vhosts/$v/permissions" "[.[]|select(.user==\"$u3\")]")"
expect_eq "prune: topic permission gone" '[]' "$(jq_api "/vhosts/$v/topic-permissions" "[.[]|select(.user==\"$u3\")]")"
r "plan after prune" apply --dry-run --prune "$work/b.yaml"
expect_eq "prune: nothing left (exit 0)" 0 "$rc"

# ---- validate -------------------------------------------------------------------------------
cat >"$work/bad.yaml" <<YAML
version: 1
users:
  x: { password: hunter2-literal }
vhosts:
  $v:
    limits: { max_queues: -2 }
    topic_permissions:
      x: [ { exchange: nowhere, write: ".*", read: ".*" } ]
YAML
r "validate bad" validate "$work/bad.yaml"
expect_eq "validate: literal password is an error" 1 "$rc"
expect_contains "validate: with line and column" "$out" "bad.yaml:3:8: users.x.password: a literal password is not allowed"
expect_contains "validate: limit below -1" "$out" "limits.max_queues: invalid limit '-2'"
expect_contains "validate: topic exchange not in the file warns" "$out" "exchange 'nowhere' is not in this vhost"
case $out in *hunter2*) fail "validate: the literal password is not echoed" ;; *) pass "validate: the literal password is not echoed" ;; esac

# ---- round trip of RabbitMQ's own definitions files -----------------------------------------
# tests/integration/data/definition_import_SUITE/: case15 (users with tags as a string and a
# list), case16 (vhost metadata with a default queue type), case8 (vhost limits), renamed into
# this test's vhost and users (guest's hash would change the node's guest).
ren() {
  jq --arg v "$src" --arg p "$rt" '
    def u: if . == "guest" then $p + "-guest" elif . == "tagged-user" then $p + "-tagged" else . end;
    del(.global_parameters)
    | if has("users") then .users |= map(.name |= u) else . end
    | if has("vhosts") then .vhosts |= map(select(.name != "/") | .name = $v) else . end
    | if has("permissions") then .permissions |= map(.vhost = $v | .user |= u) else . end
    | if has("parameters") then .parameters |= map(.vhost = $v) else . end' "$1"
}
d=$here/data/definition_import_SUITE
for f in case16.json case15.json case8.json; do
  code=$(ren "$d/$f" | curl -sS -u guest:guest -o "$work/imp.out" -w '%{http_code}' -X POST \
    -H 'content-type: application/json' --data-binary @- "$RMQTOPO_API_URL/api/definitions")
  expect_eq "import $f" 204 "$code"
done
# (an import gives nobody permissions on the vhost it makes; guest needs them to declare)
api PUT "/permissions/$src/guest" '{"configure":".*","write":".*","read":".*"}' >/dev/null
api PUT "/queues/$src/untyped" '{"durable":true}' >/dev/null
# the fixture's tagged user holds nothing in the vhost: give it a topic permission, so that
# export --vhost --include-users takes it
api PUT "/topic-permissions/$src/$rt-tagged" '{"exchange":"amq.topic","write":"^x","read":".*"}' >/dev/null
expect_eq "import: default queue type stored (3.10 reports it)" quorum "$(api GET "/vhosts/$src" | jq -r .default_queue_type)"
r "export src" export --vhost "$src" --include-users
expect_eq "export --include-users exit 0" 0 "$rc"
printf '%s\n' "$out" >"$work/src.yaml"
expect_contains "export: users with hashes" "$out" "$rt-tagged:"
expect_contains "export: default queue type as reported" "$out" "default_queue_type: quorum"
expect_contains "export: vhost limits" "$out" "max_connections: 6767"
case $out in *"$rt-guest"*) pass "export: a user holding a permission there" ;; *) fail "export: a user holding a permission there" "$out" ;; esac
case $out in *"$u1"*) fail "export --vhost: no user without a permission there" ;; *) pass "export --vhost: no user without a permission there" ;; esac
r "plan export" plan "$work/src.yaml"
expect_eq "export plans exit 0 (against 3.10, default_queue_type compared)" 0 "$rc"
# 3.10.8 gives a queue declared without x-queue-type the vhost's default type (with the
# argument), so an untyped queue of the file is compared with it and apply converges
awk '{print} /^    queues:$/ {print "      untyped2: {}"}' "$work/src.yaml" >"$work/src2.yaml"
r "apply untyped" apply "$work/src2.yaml"
expect_eq "untyped queue in a default-quorum vhost: apply exit 0 (nothing left)" 0 "$rc"
expect_eq "untyped queue got the vhost's default type" quorum "$(api GET "/queues/$src/untyped2" | jq -r .type)"
r "plan untyped" plan "$work/src2.yaml"
expect_eq "untyped queue: second plan exit 0" 0 "$rc"
before_users=$(api GET /definitions | jq -c --arg p "$rt" '[.users[]|select(.name|startswith($p))|{name,password_hash,hashing_algorithm,tags:(.tags|if type=="string" then split(",") else . end|sort),limits}]|sort_by(.name)')
perms() { api GET "/vhosts/$1/permissions" | jq -c '[.[]|{user,configure,write,read}]|sort_by(.user)'; }
tperms() { api GET "/vhosts/$1/topic-permissions" | jq -c '[.[]|{user,exchange,write,read}]|sort_by(.user)'; }
src_perms=$(perms "$src")
src_tperms=$(tperms "$src")
# into an empty, renamed vhost, with the users deleted: apply makes them again from the hashes
sed "s|^  $src:|  $dst:|" "$work/src.yaml" >"$work/dst.yaml"
api DELETE "/users/$rt-guest" >/dev/null
api DELETE "/users/$rt-tagged" >/dev/null
r "apply dst with dqt" apply "$work/dst.yaml"
expect_eq "3.10: default_queue_type of a new vhost is an error" 1 "$rc"
expect_contains "3.10: the error names the version" "$out" "RabbitMQ 3.10"
expect_eq "3.10: nothing created" 404 "$(status_of "/vhosts/$dst")"
grep -v "default_queue_type" "$work/dst.yaml" >"$work/dst2.yaml"
r "apply dst" apply "$work/dst2.yaml"
expect_eq "round trip: apply exit 0" 0 "$rc"
after_users=$(api GET /definitions | jq -c --arg p "$rt" '[.users[]|select(.name|startswith($p))|{name,password_hash,hashing_algorithm,tags:(.tags|if type=="string" then split(",") else . end|sort),limits}]|sort_by(.name)')
expect_eq "round trip: users (same hashes, tags, limits)" "$before_users" "$after_users"
expect_eq "round trip: permissions" "$src_perms" "$(perms "$dst")"
expect_eq "round trip: topic permissions" "$src_tperms" "$(tperms "$dst")"
meta() { api GET "/vhosts/$1" | jq -c '{description,tags}'; }
expect_eq "round trip: vhost metadata" "$(meta "$src")" "$(meta "$dst")"
lim() { api GET "/vhost-limits/$1" | jq -c '.[0].value'; }
expect_eq "round trip: vhost limits" "$(lim "$src")" "$(lim "$dst")"
r "plan dst" plan "$work/dst2.yaml"
expect_eq "round trip: plan exit 0" 0 "$rc"

# ---- a refused PUT: the broker's reason, and still no password --------------------------------
cat >"$work/refused.yaml" <<YAML
version: 1
users:
  $u3: { password_hash: "!!notbase64" }
  $u1: { tags: [monitoring, management], password_env: ACC_U1_PW }
vhosts:
  $v: {}
YAML
r "apply refused -v" -v apply "$work/refused.yaml"
expect_eq "refused PUT: apply exit 1" 1 "$rc"
expect_contains "refused PUT: the broker's reason" "$out" "create user '$u3'"
expect_contains "refused PUT: the broker's answer" "$out" "400 bad_request"
r "apply refused json" -o json apply "$work/refused.yaml"
expect_eq "refused PUT: JSON exit 1" 1 "$rc"
api DELETE "/users/$u3" >/dev/null 2>&1

# ---- secrets --------------------------------------------------------------------------------
enc1=$(jq -rn --arg p "$pw1" '$p|@uri')
enc2=$(jq -rn --arg p "$pw2" '$p|@uri')
b1=$(printf '%s:%s' "$u1" "$pw1" | base64 -w0)
b2=$(printf '%s:%s' "$u1" "$pw2" | base64 -w0)
i=0
for s in "$pw1" "$pw2" "hunter2-literal" "$enc1" "$enc2" "$b1" "$b2"; do
  i=$((i + 1)) # 1-2 the passwords, 3 the literal one, 4-5 URL-encoded, 6-7 Basic credentials
  if grep -qF -- "$s" "$all"; then fail "secrets: form $i never printed" "line $(grep -nF -- "$s" "$all" | head -1 | cut -d: -f1)"; else
    pass "secrets: form $i never printed ($(wc -c <"$all") bytes searched)"; fi
done
finish
