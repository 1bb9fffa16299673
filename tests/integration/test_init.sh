#!/usr/bin/env bash
# test_init.sh BINARY - `rmqtopo init` (issue 18): for each use case (with the defaults, and
# again with requirements given), the generated file passes validate --strict, applies to the
# real broker (3.10: no vhost default queue type, no plugin exchange types), plans clean
# afterwards, and holds what the use case asks for (a stream for replay, single active
# consumer for order, the comments for what the broker cannot give). Usage errors exit 64.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

tmp=$(mktemp -d)
vhosts=()
cleanup() {
  local v
  for v in "${vhosts[@]}"; do api DELETE "/vhosts/$v" >/dev/null 2>&1; done
  rm -rf "$tmp"
}
trap cleanup EXIT
export NO_COLOR=1

# check NAME ARGS...: init, validate --strict, apply, plan clean
check() {
  local name=$1
  shift
  local vh="rmqtopo-init-$name"
  vhosts+=("$vh")
  api DELETE "/vhosts/$vh" >/dev/null 2>&1
  "$BIN" init --vhost "$vh" "$@" >"$tmp/$name.yaml" 2>"$tmp/$name.err"
  expect_eq "$name: init exits 0" "0" "$?$(cat "$tmp/$name.err")"
  "$BIN" validate --strict "$tmp/$name.yaml" >"$tmp/$name.val" 2>&1
  expect_eq "$name: validate --strict" "0" "$?"
  "$BIN" apply "$tmp/$name.yaml" >"$tmp/$name.apply" 2>&1
  expect_eq "$name: applies to the broker" "0" "$?$(grep -i error "$tmp/$name.apply" | head -n 3)"
  "$BIN" plan "$tmp/$name.yaml" >"$tmp/$name.plan" 2>&1
  expect_eq "$name: plans clean after apply" "0" "$?"
}

for u in work_queue pub_sub event_sourcing cqrs saga; do
  check "$u" --use-case "$u"
done
check work_queue-ordered --use-case work_queue --name billing --ordering partition \
  --delivery exactly_once --retention "30 days" --producers api,cron --consumers w1,w2
check pub_sub-custom --use-case pub_sub --name news --consumers mail,sms,push --throughput 5K
check event_sourcing-global --use-case event_sourcing --ordering global --throughput 20K \
  --retention 2w --consumers search,reports
check cqrs-at-most-once --use-case cqrs --delivery at_most_once
check saga-three --use-case saga --name trip --consumers flight,hotel,car

expect_eq "event_sourcing: a stream with the retention as max age" '"stream" "7D"' \
  "$(api GET "/queues/rmqtopo-init-event_sourcing/ledger.events" | jq -c '.type, .arguments["x-max-age"]' | paste -sd' ')"
expect_eq "ordered: single active consumer on the work queue" "true" \
  "$(api GET "/queues/rmqtopo-init-work_queue-ordered/billing.work" | jq -c '.arguments["x-single-active-consumer"]')"
expect_eq "the retry ladder is there (wait queue of 10s)" "10000" \
  "$(api GET "/queues/rmqtopo-init-saga-three/trip.retry.10s" | jq -c '.arguments["x-message-ttl"]')"
expect_eq "the DLQ is capped" "2592000000 1000000" \
  "$(api GET "/queues/rmqtopo-init-work_queue-ordered/billing.dlq" | jq -c '.arguments["x-message-ttl"], .arguments["x-max-length"]' | paste -sd' ')"
expect_contains "exactly_once: a comment says what it needs" "$(cat "$tmp/work_queue-ordered.yaml")" \
  "# Exactly once: RabbitMQ cannot give it by itself"
expect_contains "global ordering above 10K: a warning comment" "$(cat "$tmp/event_sourcing-global.yaml")" \
  "# WARNING: 20K asked for is above 10K msg/s"
expect_eq "at_most_once: no retry ladder, no DLQ" "0" \
  "$(grep -v '^ *#' "$tmp/cqrs-at-most-once.yaml" | grep -c -E 'retry|\.dlq')"

"$BIN" init --use-case nope >/dev/null 2>"$tmp/usage.err"
expect_eq "unknown use case: exit 64" "64" "$?"
"$BIN" init >/dev/null 2>&1
expect_eq "no use case: exit 64" "64" "$?"
"$BIN" init --use-case pub_sub --consumers 'a b' >/dev/null 2>&1
expect_eq "a consumer name with a space: exit 64" "64" "$?"

finish
