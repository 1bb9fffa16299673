#!/usr/bin/env bash
# Secrets: a password comes only from a URL in the environment, RMQTOPO_PASSWORD or
# --password-file, and never appears in anything rmqtopo prints. Every command runs, failing
# and succeeding, in text and JSON, with --verbose (which traces requests) and with progress on
# a terminal, under a user with a known password; every byte they print is searched for the
# password, for "user:password" in base64 (an HTTP Basic header) and for the URL-encoded form.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
MSGTOOL=${MSGTOOL:-$(dirname "$BIN")/tests/msgtool}

v=rmqtopo-it-secrets-$$
user=rmqtopo-secret-user-$$
pw='Pw%9f3K-un1que:s3cr3t!'
pw_url='Pw%259f3K-un1que%3As3cr3t%21'
b64=$(printf '%s:%s' "$user" "$pw" | base64 -w0)
work=$(mktemp -d)
cleanup() {
  api DELETE "/vhosts/$v" >/dev/null 2>&1
  api DELETE "/users/$user" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

api PUT "/users/$user" "{\"password\":\"$pw\",\"tags\":\"administrator\"}" >/dev/null
api PUT "/vhosts/$v" '{}' >/dev/null
api PUT "/permissions/$v/$user" '{"configure":".*","write":".*","read":".*"}' >/dev/null
api PUT "/permissions/$v/guest" '{"configure":".*","write":".*","read":".*"}' >/dev/null
printf '%s\n' "$pw" > "$work/pw"
chmod 600 "$work/pw"
amqp_hp=${RMQTOPO_AMQP_URL#amqp://}
amqp_hp=${amqp_hp%%/*}
amqp_hp=${amqp_hp%%,*}
api_hp=${RMQTOPO_API_URL#http://}
api_hp=${api_hp%%/*}
api_hp=${api_hp%%,*}

cat > "$work/t.yaml" <<YAML
version: 1
vhosts:
  $v:
    queues:
      dlq: {}
      home: {}
      extra: {}
YAML
cat > "$work/bad.yaml" <<YAML
version: 1
vhosts:
  $v:
    queues:
      dlq: { message_ttl: "ten" }
YAML

all=$work/all.out
: > "$all"
runs=0
# run LABEL [ENV=VALUE...] -- ARGS...: runs rmqtopo, appends what it printed to $all
run() {
  local label=$1 envs=()
  shift
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  env -u RMQTOPO_PASSWORD -u RMQTOPO_USER "${envs[@]}" "$BIN" "$@" >"$work/o" 2>&1 < /dev/null
  echo "rc=$?" >> "$work/o"
  { echo "=== $label"; cat "$work/o"; } >> "$all"
  runs=$((runs + 1))
}
by_env=(RMQTOPO_USER="$user" RMQTOPO_PASSWORD="$pw")
by_url=(RMQTOPO_AMQP_URL="amqp://$user:$pw_url@$amqp_hp/" RMQTOPO_API_URL="http://$user:$pw_url@$api_hp")
by_file=(--user "$user" --password-file "$work/pw")
wrong_port=(RMQTOPO_AMQP_URL="amqp://$user:$pw_url@127.0.0.1:1/" RMQTOPO_API_URL="http://$user:$pw_url@127.0.0.1:1")

for how in env url file; do
  case $how in
    env) e=("${by_env[@]}") a=() ;;
    url) e=("${by_url[@]}") a=() ;;
    file) e=() a=("${by_file[@]}") ;;
  esac
  for out in text json; do
    run "apply $how $out" "${e[@]}" -- apply --yes "$work/t.yaml" "${a[@]}" -o "$out" --verbose
    run "plan $how $out" "${e[@]}" -- plan "$work/t.yaml" "${a[@]}" -o "$out" --verbose
    run "plan bad $how $out" "${e[@]}" -- plan "$work/bad.yaml" "${a[@]}" -o "$out"
    run "export $how $out" "${e[@]}" -- export --vhost "$v" "${a[@]}" -o "$out" --verbose
    run "inspect missing $how $out" "${e[@]}" -- dlq inspect nope --vhost "$v" "${a[@]}" -o "$out" --verbose
    run "replay $how $out" "${e[@]}" -- dlq replay dlq --vhost "$v" --to-queue home "${a[@]}" -o "$out" --verbose
    run "archive $how $out" "${e[@]}" -- dlq archive home --vhost "$v" --copy --file "$work/a-$how-$out.jsonl" "${a[@]}" -o "$out" --verbose
    run "restore $how $out" "${e[@]}" -- dlq restore "$work/a-$how-$out.jsonl" --to-queue extra "${a[@]}" -o "$out" --verbose
    run "wrong vhost $how $out" "${e[@]}" -- dlq inspect dlq --vhost "no-such-$v" "${a[@]}" -o "$out" --verbose
  done
done
# each way of giving the password works: apply, plan, export, replay, archive, restore succeed
expect_eq "the password from the environment, a URL and a file: 36 commands succeed" 36 \
  "$(grep -c '^rc=0' "$all")"
# failures: a wrong password, an unreachable broker (the URL is in the message), a URL with a
# password on the command line (a usage error)
run "wrong password" RMQTOPO_USER="$user" RMQTOPO_PASSWORD="x$pw" -- plan "$work/t.yaml" --verbose
run "wrong password amqp" RMQTOPO_USER="$user" RMQTOPO_PASSWORD="x$pw" -- dlq inspect dlq --vhost "$v"
run "unreachable" "${wrong_port[@]}" -- plan "$work/t.yaml" --verbose --connect-timeout 2
run "unreachable amqp" "${wrong_port[@]}" -- dlq replay dlq --vhost "$v" --connect-timeout 2 -o json
out=$(env -u RMQTOPO_PASSWORD "$BIN" plan "$work/t.yaml" --api-url "http://$user:$pw_url@$api_hp" 2>&1); rc=$?
echo "$out" >> "$all"
expect_eq "a password in a URL on the command line: usage error (64)" 64 "$rc"
expect_contains "a password in a URL on the command line: says where to put it" "$out" "RMQTOPO_PASSWORD"
out=$(env -u RMQTOPO_PASSWORD "$BIN" dlq inspect dlq --vhost "$v" --amqp-url "amqp://$user:$pw_url@$amqp_hp/" 2>&1); rc=$?
echo "$out" >> "$all"
expect_eq "a password in an AMQP URL on the command line: usage error (64)" 64 "$rc"
# progress on a terminal (script gives the command a pseudo-terminal)
if command -v script >/dev/null 2>&1; then
  RMQTOPO_AMQP_URL=${by_url[0]#*=} "$MSGTOOL" publish "$v" dlq 3000 p >/dev/null 2>&1 ||
    "$MSGTOOL" publish "$v" dlq 3000 p >/dev/null 2>&1
  RMQTOPO_USER=$user RMQTOPO_PASSWORD=$pw script -qec "'$BIN' dlq replay dlq --vhost '$v' --to-queue home --rate 2000 --verbose" "$work/tty.out" >/dev/null 2>&1
  cat "$work/tty.out" >> "$all"
  expect_contains "progress on a terminal was shown (and searched)" "$(cat "$work/tty.out")" "replayed"
fi

expect_eq "every failing case failed (exit 1)" 0 \
  "$(grep -A1000 '=== wrong password' "$all" | grep -c '^rc=0')"
echo "  ($runs commands, $(wc -c < "$all" | tr -d ' ') bytes of output searched)"
expect_eq "the password appears nowhere in any output" 0 "$(grep -cF -- "$pw" "$all")"
expect_eq "its URL-encoded form appears nowhere" 0 "$(grep -cF -- "$pw_url" "$all")"
expect_eq "user:password in base64 (an HTTP Basic header) appears nowhere" 0 "$(grep -cF -- "$b64" "$all")"
expect_contains "--verbose traces requests as the user, without the password" "$(cat "$all")" "as user '$user' -> HTTP 200"

finish
