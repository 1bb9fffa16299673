#!/usr/bin/env bash
# scripts/demo.sh - rmqtopo's main job on a fresh Debian 12 machine, end to end:
# install what is missing, build, start a private local RabbitMQ (its own ports and data, see
# scripts/broker.sh), and run rmqtopo on the example topology.
#
# What it shows grows with the tool: today it validates topologies/orders.yaml (and shows what
# validate says about a broken copy of it). The broker is left running for you to explore;
# `scripts/broker.sh stop` stops it.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

say "installing what is missing"
scripts/setup.sh

say "building (Release)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
./build/rmqtopo --version

say "starting a private RabbitMQ node"
eval "$(scripts/broker.sh start)"
echo "AMQP:           $RMQTOPO_AMQP_URL"
echo "management API: $RMQTOPO_API_URL (user guest, password guest)"

say "rmqtopo validate topologies/orders.yaml"
./build/rmqtopo validate topologies/orders.yaml

say "and a broken copy of it, to show what validate reports"
broken=$(mktemp --suffix=.yaml)
trap 'rm -f "$broken"' EXIT
sed -e 's/type: quorum$/type: classic/' \
    -e 's/routing_key: order.placed }/routing_key: order.placed, exchnage: orders }/' \
    -e 's/message_ttl: 7d/message_ttl: 7 days/' \
    -e 's/dead-letter-exchange: orders.dlx/dead-letter-exchange: orders.dlx2/' \
    topologies/orders.yaml > "$broken"
./build/rmqtopo validate "$broken" || echo "(exit status $?: the file is invalid)"

say "done"
echo "The broker keeps running; stop it with: scripts/broker.sh stop"
