#!/usr/bin/env bash
# TLS: a private node of its own with TLS listeners for AMQP (client certificates required)
# and for the management API, with certificates this script makes with openssl (a CA, a server
# certificate for localhost, a client certificate). amqps and https work with --cacert; without
# it, or against a name the certificate does not carry, the command fails with exit 1 and a
# message naming the certificate problem; --insecure works and warns; mutual TLS with
# --cert/--key, and without a client certificate the broker refuses.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
MSGTOOL=${MSGTOOL:-$(dirname "$BIN")/tests/msgtool}
repo=$(cd "$here/../.." && pwd)

name=rmqtopo-tls-$$
# ports chosen free at run time (two runs on one machine both pass)
amqps=$(free_port)
https=$(free_port)
while [ "$https" = "$amqps" ]; do https=$(free_port); done
work=$(mktemp -d)
state=${RMQTOPO_BROKER_DIR:-$repo/.broker}/$name
cleanup() {
  "$repo/scripts/broker.sh" stop --name "$name" --kill >/dev/null 2>&1
  [ -n "${KEEP:-}" ] || rm -rf "$work" "$state"
}
trap cleanup EXIT

# --- certificates -----------------------------------------------------------------------------
(
  cd "$work" || exit 1
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 \
    -subj "/CN=rmqtopo test CA" 2>/dev/null &&
    openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
      -subj "/CN=localhost" 2>/dev/null &&
    printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n' > server.ext &&
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem \
      -days 2 -extfile server.ext 2>/dev/null &&
    openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr \
      -subj "/CN=rmqtopo-client" 2>/dev/null &&
    printf 'extendedKeyUsage=clientAuth\n' > client.ext &&
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem \
      -days 2 -extfile client.ext 2>/dev/null &&
    # a CA nobody trusts, for the wrong --cacert case
    openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.pem -days 2 \
      -subj "/CN=another CA" 2>/dev/null
) || { fail "openssl made the test certificates"; finish; exit 1; }
pass "openssl made the test certificates"
chmod 644 "$work"/*.pem "$work"/*.key

mkdir -p "$state/node0/conf.d"
cat > "$state/node0/conf.d/tls.conf" <<CONF
listeners.ssl.default = $amqps
ssl_options.cacertfile = $work/ca.pem
ssl_options.certfile = $work/server.pem
ssl_options.keyfile = $work/server.key
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = true
management.ssl.port = $https
management.ssl.cacertfile = $work/ca.pem
management.ssl.certfile = $work/server.pem
management.ssl.keyfile = $work/server.key
CONF
if ! env=$("$repo/scripts/broker.sh" start --name "$name" --base-port auto 2>"$work/start.log"); then
  fail "a node with TLS listeners starts" "$(tail -n 5 "$work/start.log")"
  finish
  exit 1
fi
pass "a node with TLS listeners starts"
eval "$env"
# the TLS listeners come up with the node; wait for them all the same, and show the node's
# log if they do not
up=0
for _ in $(seq 150); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$amqps") 2>/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/$https") 2>/dev/null; then
    up=1
    break
  fi
  sleep 0.2
done
if [ $up = 1 ]; then
  pass "the amqps ($amqps) and https ($https) listeners accept connections"
else
  fail "the amqps ($amqps) and https ($https) listeners accept connections" \
    "$(grep -ih "ssl\|tls\|listener\|error" "$state"/node0/log/*.log 2>/dev/null | tail -n 20)"
fi
plain_amqp=$RMQTOPO_AMQP_URL
plain_api=$RMQTOPO_API_URL
unset RMQTOPO_AMQP_URLS RMQTOPO_API_URLS
export RMQTOPO_AMQP_URL=amqps://localhost:$amqps RMQTOPO_API_URL=https://localhost:$https
v=tls
cat > "$work/t.yaml" <<YAML
version: 1
vhosts:
  $v:
    queues:
      dlq: {}
      home: {}
YAML
client=(--cert "$work/client.pem" --key "$work/client.key")

# --- https (management API) ---------------------------------------------------------------------
out=$("$BIN" apply --yes "$work/t.yaml" --cacert "$work/ca.pem" "${client[@]}" 2>&1); rc=$?
expect_eq "apply over https and amqps with --cacert and a client certificate: exit 0" 0 "$rc"
out=$("$BIN" plan "$work/t.yaml" --cacert "$work/ca.pem" 2>&1); rc=$?
expect_eq "plan over https with --cacert: exit 0 (nothing to change)" 0 "$rc"
out=$("$BIN" plan "$work/t.yaml" 2>&1); rc=$?
expect_eq "plan over https without --cacert: exit 1" 1 "$rc"
expect_contains "plan over https without --cacert: names the certificate problem" "$out" "certificate"
out=$("$BIN" plan "$work/t.yaml" --cacert "$work/other.pem" 2>&1); rc=$?
expect_eq "plan over https with the wrong CA: exit 1" 1 "$rc"
expect_contains "plan over https with the wrong CA: names the certificate problem" "$out" "certificate"
out=$("$BIN" plan "$work/t.yaml" --api-url "https://127.0.0.1:$https" --cacert "$work/ca.pem" 2>&1); rc=$?
expect_eq "plan over https to a name the certificate lacks (127.0.0.1): exit 1" 1 "$rc"
expect_contains "plan to a name the certificate lacks: says so" "$out" "127.0.0.1"
out=$("$BIN" plan "$work/t.yaml" --insecure 2>&1); rc=$?
expect_eq "plan over https with --insecure: exit 0" 0 "$rc"
expect_contains "plan with --insecure: warns" "$out" "warning: --insecure"

# --- amqps ----------------------------------------------------------------------------------------
RMQTOPO_AMQP_URL=$plain_amqp "$MSGTOOL" publish "$v" dlq 50 t
out=$("$BIN" dlq inspect dlq --vhost "$v" --cacert "$work/ca.pem" "${client[@]}" -o json 2>&1); rc=$?
expect_eq "dlq inspect over amqps (mutual TLS): exit 0" 0 "$rc"
out=$("$BIN" dlq replay dlq --vhost "$v" --to-queue home --cacert "$work/ca.pem" "${client[@]}" -o json 2>/dev/null); rc=$?
expect_eq "dlq replay over amqps (mutual TLS): exit 0, 50 moved" '0 50' \
  "$rc $(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["moved"])' 2>/dev/null)"
out=$("$BIN" dlq inspect home --vhost "$v" "${client[@]}" --api-url "$plain_api" 2>&1); rc=$?
expect_eq "amqps without --cacert: exit 1" 1 "$rc"
expect_contains "amqps without --cacert: names the certificate problem" "$out" "certificate"
out=$("$BIN" dlq inspect home --vhost "$v" "${client[@]}" --amqp-url "amqps://127.0.0.1:$amqps" \
  --cacert "$work/ca.pem" 2>&1); rc=$?
expect_eq "amqps to a name the certificate lacks: exit 1" 1 "$rc"
expect_contains "amqps to a name the certificate lacks: names the problem" "$out" "certificate is not for the host name '127.0.0.1'"
out=$("$BIN" dlq inspect home --vhost "$v" --cacert "$work/ca.pem" 2>&1); rc=$?
expect_eq "amqps without a client certificate (the broker requires one): exit 1" 1 "$rc"
expect_contains "amqps without a client certificate: says why" "$out" "it may require a client certificate"
out=$("$BIN" dlq inspect home --vhost "$v" --insecure "${client[@]}" -o json 2>&1); rc=$?
expect_eq "amqps and https with --insecure: exit 0" 0 "$rc"
expect_contains "--insecure: warns" "$out" "warning: --insecure"

finish
