#!/usr/bin/env bash
# test_retry.sh BINARY - retry ladders (issue 18) against a real broker: plan marks the
# generated objects with their origin, apply builds them with the arguments the ladder
# promises, the file then plans clean, `rmqtopo expand`'s output plans clean against the same
# broker (the expansion round trip), and export of that broker plans clean too. Then the
# consumer's half: examples/retry_consumer (100/200/400 ms) retries an always-failing message
# after each delay in order (no gap shorter than its delay; no upper bound on time), it lands
# in the DLQ with its x-death, dlq replay sends it home; a message that succeeds on its second
# try is not retried again.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

root=$(cd "$here/../.." && pwd)
vh=rmqtopo-retry-it
ovh=rmqtopo-retry-orders
tmp=$(mktemp -d)
trap 'api DELETE "/vhosts/$vh" >/dev/null 2>&1; api DELETE "/vhosts/$ovh" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
export NO_COLOR=1
api DELETE "/vhosts/$vh" >/dev/null 2>&1
api DELETE "/vhosts/$ovh" >/dev/null 2>&1

# --- topologies/orders.yaml with retry: plans clean against the old hand-written ladder ------
# (git show of the file before the rewrite, kept as tests/integration/data/orders.handwritten.yaml)
sed "s/^  orders:\$/  $ovh:/" "$here/data/orders.handwritten.yaml" >"$tmp/old.yaml"
sed "s/^  orders:\$/  $ovh:/" "$root/topologies/orders.yaml" >"$tmp/new.yaml"
"$BIN" apply "$tmp/old.yaml" >"$tmp/old.apply" 2>&1
expect_eq "the hand-written orders ladder applies" 0 $?
"$BIN" plan "$tmp/new.yaml" >"$tmp/new.plan" 2>&1
expect_eq "orders.yaml with retry: plans with exit 0 against it" "0" "$?$(grep -E '^ *[-+~?]' "$tmp/new.plan" | head -n 5)"

cat >"$tmp/t.yaml" <<YAML
version: 1
vhosts:
  $vh:
    alert_defaults:
      messages: { warning: 1, critical: 100 }
    retry_ladders:
      jobs:
        delays: [100ms, 200ms, 400ms]
        dead_letter_retention: 1d
    exchanges:
      jobs.in: { type: direct }
    queues:
      jobs.work:
        type: quorum
        retry: jobs
        bind:
          - { exchange: jobs.in, routing_key: work }
YAML

"$BIN" plan "$tmp/t.yaml" >"$tmp/plan1" 2>&1
expect_eq "plan of a new ladder exits 2" 2 $?
expect_contains "plan marks a generated wait queue with its origin" "$(cat "$tmp/plan1")" \
  "queue 'jobs.retry.100ms' (quorum) [from queues.jobs.work.retry]"
expect_contains "plan marks a generated binding with its origin" "$(cat "$tmp/plan1")" \
  "'jobs.dlx' -> queue 'jobs.dlq' routing key '#' [from queues.jobs.work.retry]"
"$BIN" -o json plan "$tmp/t.yaml" >"$tmp/plan1.json" 2>&1
expect_eq "plan -o json has the origin" "queues.jobs.work.retry" \
  "$(jq -r '.changes[] | select(.name == "jobs.retry.400ms") | .origin' "$tmp/plan1.json")"

"$BIN" apply "$tmp/t.yaml" >"$tmp/apply" 2>&1
expect_eq "apply exits 0" 0 $?

args=$(api GET "/queues/$vh/jobs.retry.200ms" | jq -c '.arguments | to_entries | sort_by(.key) | from_entries')
expect_eq "wait queue arguments" \
  '{"x-dead-letter-exchange":"","x-dead-letter-strategy":"at-least-once","x-message-ttl":200,"x-overflow":"reject-publish","x-queue-type":"quorum"}' \
  "$args"
args=$(api GET "/queues/$vh/jobs.work" | jq -c '.arguments | to_entries | sort_by(.key) | from_entries')
expect_eq "work queue dead-letters to the ladder" \
  '{"x-dead-letter-exchange":"jobs.dlx","x-dead-letter-strategy":"at-least-once","x-overflow":"reject-publish","x-queue-type":"quorum"}' \
  "$args"
expect_eq "DLQ retention" 86400000 "$(api GET "/queues/$vh/jobs.dlq" | jq '.arguments["x-message-ttl"]')"
expect_eq "wait queue bound by its header" '[{"retry-delay":"400ms","x-match":"all"}]' \
  "$(api GET "/exchanges/$vh/jobs.retry/bindings/source" | jq -c '[.[] | select(.destination == "jobs.retry.400ms") | .arguments]')"

"$BIN" plan "$tmp/t.yaml" >"$tmp/plan2" 2>&1
expect_eq "the file plans clean after apply" 0 $?

"$BIN" expand "$tmp/t.yaml" >"$tmp/expanded.yaml" 2>"$tmp/expand.err"
expect_eq "expand exits 0" 0 $?
"$BIN" validate --strict "$tmp/expanded.yaml" >/dev/null 2>&1
expect_eq "the expansion validates --strict" 0 $?
"$BIN" plan "$tmp/expanded.yaml" >"$tmp/plan3" 2>&1
expect_eq "the expansion plans clean against the broker the file built" 0 $? 
"$BIN" export --vhost "$vh" >"$tmp/export.yaml" 2>/dev/null
"$BIN" plan "$tmp/export.yaml" >"$tmp/plan4" 2>&1
expect_eq "export of a ladder's broker (plain objects) plans clean" 0 $?

# --- the consumer's half: examples/retry_consumer follows the contract ---------------------
MSGTOOL=${MSGTOOL:-$(dirname "$BIN")/tests/msgtool}
CONSUMER=${CONSUMER:-$(dirname "$BIN")/examples/retry_consumer}
# always-0 fails every time: 4 deliveries (3 retries, then dead-lettered); once-0 fails once:
# 2 deliveries. The consumer stops after 6.
"$CONSUMER" "$RMQTOPO_AMQP_URL" "$vh" jobs.work jobs.retry 100ms 200ms 400ms \
  --fail-always always-0 --fail-once once-0 --max 6 >"$tmp/consumer.log" 2>"$tmp/consumer.err" &
cpid=$!
"$MSGTOOL" publish "$vh" jobs.work 1 always >/dev/null
"$MSGTOOL" publish "$vh" jobs.work 1 once >/dev/null
# a bound against a hang only (never an assertion on time): the consumer ends by itself
for _ in $(seq 1 1200); do kill -0 "$cpid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$cpid" 2>/dev/null; then kill "$cpid"; fi
wait "$cpid"
expect_eq "the consumer saw 6 deliveries and exited 0" "0 6" "$? $(wc -l <"$tmp/consumer.log")"
expect_eq "a failing message is retried after each delay in turn, then dead-lettered" \
  "attempt=0 retry 100ms|attempt=1 retry 200ms|attempt=2 retry 400ms|attempt=3 dead-letter" \
  "$(awk '$2 == "always-0" { print $3, $4, $5 }' "$tmp/consumer.log" | sed 's/ $//' | paste -sd'|')"
gaps=$(awk '$2 == "always-0" { if (prev) printf "%d ", $1 - prev; prev = $1 }' "$tmp/consumer.log")
read -r g1 g2 g3 <<<"$gaps"
# measured from receipt to receipt (a retry copy enters its wait queue only after the first);
# the broker keeps whole milliseconds, so 1 ms of rounding is allowed
if [ "${g1:-0}" -ge 99 ] && [ "${g2:-0}" -ge 199 ] && [ "${g3:-0}" -ge 399 ]; then
  pass "no gap shorter than its delay (ms: $gaps)"
else
  fail "no gap shorter than its delay" "gaps (ms): $gaps; want >= 100 200 400"
fi
expect_eq "a message that succeeds on its second try is not retried again" \
  "attempt=0 retry 100ms|attempt=1 ack" \
  "$(awk '$2 == "once-0" { print $3, $4, $5 }' "$tmp/consumer.log" | sed 's/ $//' | paste -sd'|')"

for _ in $(seq 1 600); do
  [ "$("$MSGTOOL" dump "$vh" jobs.dlq 2>/dev/null | wc -l)" -ge 1 ] && break
  sleep 0.1
done
expect_eq "the DLQ holds exactly the failed message" "always-0" \
  "$("$MSGTOOL" dump "$vh" jobs.dlq | awk '{ print $1 }' | paste -sd,)"
"$BIN" -o json dlq inspect --vhost "$vh" jobs.dlq >"$tmp/inspect.json" 2>"$tmp/inspect.err"
expect_eq "its x-death: rejected in jobs.work" "always-0 jobs.work rejected" \
  "$(jq -r '.messages[] | "\(.message_id) \(.queue) \(.reason)"' "$tmp/inspect.json")"
expect_eq "its x-death: expired in each wait queue, then rejected in jobs.work" \
  "jobs.retry.100ms:expired,jobs.retry.200ms:expired,jobs.retry.400ms:expired,jobs.work:rejected" \
  "$(jq -r '[.messages[0].headers["x-death"].value[].value | "\(.queue.value):\(.reason.value)"] | sort | join(",")' "$tmp/inspect.json")"
"$BIN" dlq replay --vhost "$vh" jobs.dlq >"$tmp/replay.out" 2>&1
expect_eq "dlq replay exits 0" 0 $?
expect_eq "replay sent it home (work queue: sent 1, found 1, lost 0)" "always-0|" \
  "$("$MSGTOOL" dump "$vh" jobs.work | awk '{ print $1 }' | paste -sd,)|$("$MSGTOOL" dump "$vh" jobs.dlq | awk '{ print $1 }' | paste -sd,)"

finish
