#!/usr/bin/env bash
# scripts/demo.sh - rmqtopo's main job on a fresh Debian 12 machine, end to end:
# install what is missing, build, start a private local RabbitMQ (its own ports and data, see
# scripts/broker.sh), and run rmqtopo on the example topology.
#
# What it shows grows with the tool: today it validates topologies/orders.yaml (and shows what
# validate says about a broken copy of it), plans it against the private broker, creates part
# of it by hand through the management API to show drift, applies it, migrates a queue that
# holds messages (refused first, then with --allow-replace), makes orders die into the
# dead-letter queue and sends them home with dlq inspect / replay, exports the live vhost, and
# draws the topology. The broker is left running for you to explore; `scripts/broker.sh stop` stops it.
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
# a run starts from nothing: a broker left running by an earlier run keeps its 'orders' vhost
curl -s -o /dev/null -u guest:guest -X DELETE "$RMQTOPO_API_URL/api/vhosts/orders" || true

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

export RMQTOPO_API_URL RMQTOPO_AMQP_URL
say "rmqtopo plan topologies/orders.yaml (against the private broker: everything is to create)"
./build/rmqtopo plan topologies/orders.yaml | tail -n 8 || true
echo "(exit status 2 means: changes found)"

say "some of it made by hand through the management API, with one setting that differs"
api() { curl -sf -u guest:guest -X "$1" -H 'content-type: application/json' ${3:+--data "$3"} "$RMQTOPO_API_URL/api$2"; }
api PUT /vhosts/orders '{}' >/dev/null
api PUT /exchanges/orders/orders.dlx '{"type":"topic","durable":true}' >/dev/null
api PUT /queues/orders/orders.dlq '{"durable":true,"arguments":{"x-queue-type":"quorum","x-message-ttl":86400000}}' >/dev/null
api PUT /queues/orders/legacy.jobs '{"durable":true}' >/dev/null
./build/rmqtopo plan topologies/orders.yaml | grep -E "^vhost|-/\+|^ +\?|x-message-ttl|^Plan" || true

say "rmqtopo apply --yes topologies/orders.yaml (16 AMQP connections; vhost and policy over HTTP)"
./build/rmqtopo apply --yes topologies/orders.yaml 2>/dev/null | tail -n 3 || true
echo "(orders.dlq held no messages, so replacing it needed no consent; legacy.jobs is unmanaged: left alone)"

say "a queue holding messages, replaced: refused without --allow-replace, migrated with it"
./build/tests/msgtool publish orders orders.dlq 1000 demo
sed 's/message_ttl: 7d/message_ttl: 14d/' topologies/orders.yaml > "$broken"
./build/rmqtopo apply --yes "$broken" 2>&1 | grep -E "^rmqtopo" || echo "(exit status $?)"
./build/rmqtopo apply --yes --allow-replace "$broken" 2>/dev/null | tail -n 1
api GET "/queues/orders/orders.dlq" | python3 -c 'import json,sys; q=json.load(sys.stdin); print("orders.dlq now:", q["type"], "x-message-ttl", q["arguments"]["x-message-ttl"], "messages", q.get("messages", "(statistics lag)"))'
./build/tests/msgtool dump orders orders.dlq | wc -l | sed 's/^/messages in orders.dlq, counted over AMQP: /'
echo "(back to the file's 7d: a TTL lower than the messages had needs --force too, since migrated"
echo " messages start their TTL again; apply names that reason first)"
./build/rmqtopo apply --yes topologies/orders.yaml --allow-replace 2>&1 | grep -E "^rmqtopo" || true
./build/rmqtopo apply --yes topologies/orders.yaml --allow-replace --force 2>/dev/null | tail -n 1

say "a dead-letter round trip: 20 orders rejected by a consumer die into orders.dlq"
api DELETE /queues/orders/orders.dlq/contents >/dev/null
MSGTOOL_EXCHANGE=orders ./build/tests/msgtool publish orders order.placed 20 order
./build/tests/msgtool reject orders orders.placed 20
for _ in $(seq 50); do
  [ "$(./build/tests/msgtool dump orders orders.dlq | wc -l)" -ge 20 ] && break
  sleep 0.2
done
say "rmqtopo dlq inspect orders.dlq --vhost orders --limit 5 (reads without taking)"
./build/rmqtopo dlq inspect orders.dlq --vhost orders --limit 5 2>&1
say "rmqtopo dlq archive orders.dlq --vhost orders --copy --file build/orders-dlq.jsonl (a copy on disk; the queue stays)"
rm -f build/orders-dlq.jsonl
./build/rmqtopo dlq archive orders.dlq --vhost orders --copy --file build/orders-dlq.jsonl 2>&1
sed -n 2p build/orders-dlq.jsonl | cut -c 1-300 | sed 's/$/ .../'
say "rmqtopo dlq replay orders.dlq --vhost orders --dry-run (where each would go)"
./build/rmqtopo dlq replay orders.dlq --vhost orders --dry-run 2>/dev/null | tail -n 4
say "rmqtopo dlq replay orders.dlq --vhost orders (home, with confirms; acknowledged only after)"
./build/rmqtopo dlq replay orders.dlq --vhost orders 2>&1
./build/tests/msgtool dump orders orders.placed | wc -l | sed 's/^/messages back in orders.placed: /'
./build/tests/msgtool dump orders orders.dlq | wc -l | sed 's/^/messages left in orders.dlq: /'

say "rmqtopo dlq restore build/orders-dlq.jsonl --dry-run (the copy reads cleanly; restore would publish it exactly as archived)"
./build/rmqtopo dlq restore build/orders-dlq.jsonl --dry-run 2>&1

say "rmqtopo export --vhost orders (the live vhost as a topology file)"
./build/rmqtopo export --vhost orders

say "rmqtopo graph topologies/orders.yaml (Graphviz DOT; rendered to build/orders.svg)"
./build/rmqtopo graph topologies/orders.yaml | dot -Tsvg -o build/orders.svg && echo "wrote build/orders.svg"

say "done"
echo "The broker keeps running; stop it with: scripts/broker.sh stop"
