#!/usr/bin/env bash
# End to end (issue 15): a private RabbitMQ node with rabbitmq_prometheus on a port chosen at
# run time, a real Prometheus server (Debian's prometheus) on another, scraping the node's
# /metrics/detailed?family=queue_coarse_metrics with the rules `rmqtopo alerts` generates.
# Messages are dead-lettered until the warning threshold is crossed: the alert fires in
# Prometheus's /api/v1/alerts; `rmqtopo dlq replay` sends them home: the alert resolves.
# This script starts (and stops) its own node and server; it needs no broker of the caller.
here=$(cd "$(dirname "$0")" && pwd)
BIN=${1:?usage: $0 path/to/rmqtopo}
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
MSGTOOL=$(dirname "$BIN")/tests/msgtool
repo=$(cd "$here/../.." && pwd)
set -u
pass_count=0
fail_count=0
pass() { pass_count=$((pass_count + 1)); echo "PASS $1"; }
fail() { fail_count=$((fail_count + 1)); echo "FAIL $1"; shift; for l in "$@"; do echo "  $l"; done; }
expect_eq() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected: $2" "got:      $3"; fi; }

work=$(mktemp -d)
name=mone2e$$
prom_pid=
cleanup() {
  [ -n "$prom_pid" ] && kill "$prom_pid" 2>/dev/null && wait "$prom_pid" 2>/dev/null
  RMQTOPO_BROKER_DIR=$work/brokers "$repo/scripts/broker.sh" stop --name "$name" --kill >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

# ports chosen now: a base whose AMQP, API and distribution ports (base, +10000, +20000) and
# two more (the plugin, Prometheus) are free
read -r base pport sport < <(python3 - <<'PY'
import random, socket
def free(p):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); return True
    except OSError:
        return False
    finally:
        s.close()
while True:
    b = random.randint(20000, 25000)
    if all(free(b + d) for d in (0, 10000, 20000)):
        break
ports = []
while len(ports) < 2:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close()
    if p not in ports and p not in (b, b + 10000, b + 20000):
        ports.append(p)
print(b, ports[0], ports[1])
PY
)
mkdir -p "$work/brokers/$name/node0/conf.d"
echo "prometheus.tcp.port = $pport" > "$work/brokers/$name/node0/conf.d/prometheus.conf"
if ! RMQTOPO_BROKER_DIR=$work/brokers RMQTOPO_BROKER_PLUGINS=rabbitmq_prometheus \
  "$repo/scripts/broker.sh" start --name "$name" --base-port "$base" > "$work/env" 2>"$work/broker.err"; then
  fail "setup: the node with rabbitmq_prometheus started" "$(tail -5 "$work/broker.err")"
  echo "$pass_count passed, $fail_count failed"; exit 1
fi
set -a; . "$work/env"; set +a
api() { curl -sS -u guest:guest -X "$1" -H 'content-type: application/json' ${3:+--data "$3"} "$RMQTOPO_API_URL/api$2"; }
jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print(json.dumps(eval(sys.argv[1])))" "$1"; }

v=e2e
cat > "$work/t.yaml" <<YAML
version: 1
vhosts:
  $v:
    exchanges:
      work: { type: direct }
      dlx: { type: fanout }
    queues:
      work.c:
        durable: false
        dead_letter_exchange: dlx
        bind: [{ exchange: work, routing_key: c }]
      dead.c:
        durable: false
        message_ttl: 7d
        bind: [{ exchange: dlx }]
        alert:
          messages: { warning: 3, critical: 1000 }
YAML
"$BIN" apply --yes "$work/t.yaml" >/dev/null 2>&1 || fail "setup: apply"
"$BIN" alerts "$work/t.yaml" > "$work/rules.yml" 2>/dev/null
cat > "$work/prometheus.yml" <<YAML
global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: [rules.yml]
scrape_configs:
  - job_name: rabbitmq
    metrics_path: /metrics/detailed
    params: { family: [queue_coarse_metrics] }
    static_configs: [{ targets: ['127.0.0.1:$pport'] }]
YAML
# the plugin answers, and serves the metric the rules read
for _ in $(seq 60); do curl -sf "http://127.0.0.1:$pport/metrics/detailed?family=queue_coarse_metrics" >/dev/null && break; sleep 0.5; done
out=$(curl -sS "http://127.0.0.1:$pport/metrics/detailed?family=queue_coarse_metrics" 2>&1)
case $out in
  *"rabbitmq_detailed_queue_messages{vhost=\"$v\",queue=\"dead.c\"}"*) pass "rabbitmq_prometheus 3.10 serves rabbitmq_detailed_queue_messages per queue" ;;
  *) fail "rabbitmq_prometheus 3.10 serves rabbitmq_detailed_queue_messages per queue" "$(echo "$out" | grep -m3 queue_messages)" ;;
esac

prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
  --web.listen-address="127.0.0.1:$sport" > "$work/prom.log" 2>&1 &
prom_pid=$!
for _ in $(seq 120); do curl -sf "http://127.0.0.1:$sport/-/ready" >/dev/null && break; sleep 0.5; done
expect_eq "prometheus: ready, the rules loaded" 2 \
  "$(curl -sS "http://127.0.0.1:$sport/api/v1/rules" | jget 'len(d["data"]["groups"][0]["rules"])')"

firing() { # the RmqtopoDeadLetterMessages alerts of dead.c firing: "severity" list
  curl -sS "http://127.0.0.1:$sport/api/v1/alerts" |
    jget '[a["labels"]["severity"] for a in d["data"]["alerts"] if a["labels"]["alertname"] == "RmqtopoDeadLetterMessages" and a["labels"]["queue"] == "dead.c" and a["state"] == "firing"]'
}
expect_eq "no alert while dead.c is empty" '[]' "$(firing)"

MSGTOOL_EXCHANGE=work "$MSGTOOL" publish "$v" c 4 m >/dev/null
"$MSGTOOL" reject "$v" work.c 4 >/dev/null
state=
for _ in $(seq 240); do state=$(firing); [ "$state" = '["warning"]' ] && break; sleep 0.5; done
expect_eq "4 dead-lettered messages (warning 3): the warning alert fires in /api/v1/alerts" '["warning"]' "$state"
a=$(curl -sS "http://127.0.0.1:$sport/api/v1/alerts" | jget '[[a["labels"]["vhost"], a["annotations"]["runbook"]] for a in d["data"]["alerts"] if a["labels"]["queue"] == "dead.c"][0]')
expect_eq "the alert carries the vhost and the runbook's next step" "[\"$v\", \"rmqtopo dlq inspect dead.c --vhost $v\"]" "$a"

out=$("$BIN" dlq replay dead.c --vhost "$v" -o json 2>/dev/null)
expect_eq "replay: 4 moved home" 4 "$(echo "$out" | jget 'd["moved"]')"
for _ in $(seq 240); do state=$(firing); [ "$state" = '[]' ] && break; sleep 0.5; done
expect_eq "after the replay the alert resolves" '[]' "$state"
expect_eq "the messages are home (4 in work.c, none lost)" 4 "$("$MSGTOOL" dump "$v" work.c | wc -l | tr -d ' ')"

echo "$pass_count passed, $fail_count failed"
[ "$fail_count" -eq 0 ]
