#!/usr/bin/env bash
# scripts/gen_topology.sh QUEUES [VHOST] - prints a large, valid topology for benchmarks:
# QUEUES quorum queues in VHOST (default "bench"), each bound to one of 100 topic exchanges,
# dead-lettering into a shared DLX and DLQ, with a few policies. Deterministic.
set -euo pipefail
n=${1:?usage: gen_topology.sh QUEUES [VHOST]}
vhost=${2:-bench}
awk -v n="$n" -v vh="$vhost" 'BEGIN {
  print "version: 1"
  print "vhosts:"
  printf "  %s:\n", vh
  print "    exchanges:"
  for (x = 0; x < 100; x++) printf "      ex.%03d: { type: topic }\n", x
  print "      bench.dlx: { type: fanout }"
  print "    queues:"
  print "      bench.dlq:"
  print "        type: quorum"
  print "        message_ttl: 7d"
  print "        bind: [{ exchange: bench.dlx }]"
  for (q = 0; q < n; q++) {
    printf "      q.%06d:\n", q
    print  "        type: quorum"
    print  "        dead_letter_exchange: bench.dlx"
    print  "        dead_letter_strategy: at-least-once"
    print  "        overflow: reject-publish"
    printf "        max_length: %d\n", 10000 + q
    printf "        bind: [{ exchange: ex.%03d, routing_key: \"k.%d.#\" }]\n", q % 100, q
  }
  print "    policies:"
  print "      cap-dlq: { pattern: \"\\\\.dlq$\", apply_to: queues, priority: 1, definition: { max-length: 1000000 } }"
  print "      limits:  { pattern: \"^q\\\\.\", apply_to: queues, definition: { delivery-limit: 10 } }"
}'
