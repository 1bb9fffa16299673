#!/usr/bin/env bash
# test_retry.sh BINARY - retry ladders (issue 18) against a real broker: plan marks the
# generated objects with their origin, apply builds them with the arguments the ladder
# promises, the file then plans clean, `rmqtopo expand`'s output plans clean against the same
# broker (the expansion round trip), and export of that broker plans clean too.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

vh=rmqtopo-retry-it
tmp=$(mktemp -d)
trap 'api DELETE "/vhosts/$vh" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
export NO_COLOR=1
api DELETE "/vhosts/$vh" >/dev/null 2>&1

cat >"$tmp/t.yaml" <<YAML
version: 1
vhosts:
  $vh:
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

finish
