#!/usr/bin/env bash
# scripts/gen_bench_pair.sh QUEUES VHOST DIR - one benchmark topology written twice, for the
# benchmarks that compare rmqtopo with the broker's own definitions import:
#   DIR/defs.json      the broker's definitions format (POST /api/definitions/{vhost})
#   DIR/topology.yaml  the same as a topology file
# 100 topic exchanges, QUEUES durable classic queues each with x-max-length, one binding each.
set -euo pipefail
queues=${1:?usage: gen_bench_pair.sh QUEUES VHOST DIR}
vhost=${2:?usage: gen_bench_pair.sh QUEUES VHOST DIR}
work=${3:?usage: gen_bench_pair.sh QUEUES VHOST DIR}
awk -v n="$queues" -v vh="$vhost" -v json="$work/defs.json" -v yaml="$work/topology.yaml" 'BEGIN {
  printf "{\"exchanges\":[" > json
  for (x = 0; x < 100; x++)
    printf "%s{\"name\":\"ex.%03d\",\"type\":\"topic\",\"durable\":true,\"auto_delete\":false,\"internal\":false,\"arguments\":{}}", (x ? "," : ""), x > json
  printf "],\"queues\":[" > json
  for (q = 0; q < n; q++)
    printf "%s{\"name\":\"q.%06d\",\"durable\":true,\"auto_delete\":false,\"arguments\":{\"x-max-length\":%d}}", (q ? "," : ""), q, 10000 + q > json
  printf "],\"bindings\":[" > json
  for (q = 0; q < n; q++)
    printf "%s{\"source\":\"ex.%03d\",\"destination\":\"q.%06d\",\"destination_type\":\"queue\",\"routing_key\":\"k.%d.#\",\"arguments\":{}}", (q ? "," : ""), q % 100, q, q > json
  printf "]}\n" > json

  printf "version: 1\nvhosts:\n  %s:\n    exchanges:\n", vh > yaml
  for (x = 0; x < 100; x++) printf "      ex.%03d: { type: topic }\n", x > yaml
  printf "    queues:\n" > yaml
  for (q = 0; q < n; q++)
    printf "      q.%06d:\n        type: classic\n        max_length: %d\n        bind: [{ exchange: ex.%03d, routing_key: \"k.%d.#\" }]\n", q, 10000 + q, q % 100, q > yaml
}'
