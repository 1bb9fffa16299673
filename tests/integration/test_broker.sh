#!/usr/bin/env bash
# The private broker scripts/broker.sh starts: its own ports, management API and AMQP up, a
# vhost can be made and removed, and status/stop behave (checked on a second, throwaway node).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

case $RMQTOPO_AMQP_URL in
  amqp://localhost:5672 | amqp://localhost:5672/*) fail "node avoids the default AMQP port" "$RMQTOPO_AMQP_URL" ;;
  *) pass "node avoids the default AMQP port" ;;
esac
case $RMQTOPO_API_URL in
  *:15672*) fail "node avoids the default management port" "$RMQTOPO_API_URL" ;;
  *) pass "node avoids the default management port" ;;
esac

overview=$(api GET /overview)
expect_contains "management API answers /api/overview" "$overview" '"rabbitmq_version"'

port=${RMQTOPO_AMQP_URL##*:}
port=${port%%/*}
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  pass "AMQP port $port accepts connections"
else
  fail "AMQP port $port accepts connections"
fi

vh=rmqtopo-it-broker-$$
trap 'api DELETE "/vhosts/$vh" >/dev/null 2>&1' EXIT
api PUT "/vhosts/$vh" '{}' >/dev/null
expect_contains "a vhost can be created" "$(api GET /vhosts)" "\"name\":\"$vh\""
api DELETE "/vhosts/$vh" >/dev/null
case $(api GET /vhosts) in
  *"\"name\":\"$vh\""*) fail "a vhost can be deleted" ;;
  *) pass "a vhost can be deleted" ;;
esac

# a second node of another name, to check start/status/stop without disturbing the first
repo=$(cd "$here/../.." && pwd)
other=rmqtopo-it-$$
errlog=$(mktemp)
port=$(free_port)
if env=$("$repo/scripts/broker.sh" start --name "$other" --base-port "$port" 2>"$errlog"); then
  pass "a second private node starts beside the first"
  expect_contains "start prints the AMQP URL" "$env" "RMQTOPO_AMQP_URL=amqp://localhost:$port"
  if "$repo/scripts/broker.sh" status --name "$other" >/dev/null 2>&1; then
    pass "status: 0 while it runs"
  else
    fail "status: 0 while it runs"
  fi
  again=$("$repo/scripts/broker.sh" start --name "$other" --base-port "$port" 2>/dev/null)
  expect_eq "start again is idempotent" "$env" "$again"
  "$repo/scripts/broker.sh" stop --name "$other" >/dev/null 2>&1
  if "$repo/scripts/broker.sh" status --name "$other" >/dev/null 2>&1; then
    fail "status: non-zero after stop"
  else
    pass "status: non-zero after stop"
  fi
  if pgrep -f "beam.*$other" >/dev/null; then
    fail "stop leaves no node process" "$(pgrep -af "beam.*$other" | head -3)"
  else
    pass "stop leaves no node process"
  fi
else
  fail "a second private node starts beside the first" "$(tail -n 15 "$errlog")"
  "$repo/scripts/broker.sh" stop --name "$other" --kill >/dev/null 2>&1
fi
rm -f "$errlog"
# the first node is untouched by all this
expect_contains "the first node still answers" "$(api GET /overview)" '"rabbitmq_version"'
finish
