#!/usr/bin/env bash
# Hostile or broken brokers, played by a small Python server on loopback ports of its own:
# a server that accepts TCP and never answers makes every command time out with a clear
# message within the configured timeout (plus a second); a management API that answers
# malformed JSON, HTML, an endless body or a body over the size cap gets a clear error, exit 1,
# never a crash.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

work=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

cat > "$work/server.py" <<'PY'
import socket, sys, threading, time

def serve(sock, handler):
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=handler, args=(conn,), daemon=True).start()

def silent(conn):                 # accepts, reads, never answers
    try:
        while conn.recv(65536):
            pass
    except OSError:
        pass

def read_request(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    return data

def http(body_fn):
    def handler(conn):
        try:
            while read_request(conn) is not None:
                body_fn(conn)
        except OSError:
            pass
        finally:
            conn.close()
    return handler

def garbage(conn):
    body = b'{"rabbitmq_version": "3.10.8", "queues": [1, 2,'
    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(body) + body)

def html(conn):
    body = b"<html><body>502 Bad Gateway</body></html>"
    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: %d\r\n\r\n" % len(body) + body)

def endless(conn):                # chunked, never ends: the size cap must stop it
    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n")
    chunk = b"[" + b"1," * 32767 + b"1"
    deadline = time.time() + 60
    while time.time() < deadline:
        conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))

def huge(conn):                   # announces 1 TiB
    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1099511627776\r\n\r\n[")
    time.sleep(30)

handlers = [silent, http(garbage), http(html), http(endless), http(huge)]
socks = []
for h in handlers:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    socks.append(s)
    threading.Thread(target=serve, args=(s, h), daemon=True).start()
print(" ".join(str(s.getsockname()[1]) for s in socks), flush=True)
time.sleep(600)
PY
python3 "$work/server.py" > "$work/ports" & server_pid=$!
for _ in $(seq 50); do [ -s "$work/ports" ] && break; sleep 0.1; done
read -r silent garbage html endless huge < "$work/ports"
[ -n "$huge" ] && pass "the hostile server listens" || { fail "the hostile server listens"; finish; exit 1; }

cat > "$work/t.yaml" <<YAML
version: 1
vhosts:
  hostile:
    queues:
      q: {}
YAML
echo '{"format":"rmqtopo-archive","version":1,"vhost":"hostile","queue":"q"}' > "$work/a.jsonl"

# timed LABEL LIMIT_S EXPECT_TEXT ARGS...: exit 1, within LIMIT_S seconds, saying EXPECT_TEXT
timed() {
  local label=$1 limit=$2 want=$3 t0 t1 rc out
  shift 3
  t0=$(date +%s.%N)
  out=$("$BIN" "$@" 2>&1 < /dev/null); rc=$?
  t1=$(date +%s.%N)
  expect_eq "$label: exit 1" 1 "$rc"
  expect_eq "$label: within ${limit}s" 1 "$(python3 -c "print(int($t1 - $t0 <= $limit))")"
  expect_contains "$label: says why" "$out" "$want"
  echo "  ($label: $(python3 -c "print(round($t1 - $t0, 2))") s: $(echo "$out" | tail -n 1 | head -c 200))"
}

silent_api=(--api-url "http://127.0.0.1:$silent" --amqp-url "amqp://127.0.0.1:$silent")
# the request timeout bounds an HTTP request; the connect timeout bounds the AMQP handshake
t=(--timeout 2 --connect-timeout 2)
timed "plan, a server that never answers" 4 "timed out" plan "$work/t.yaml" "${silent_api[@]}" "${t[@]}"
timed "apply, a server that never answers" 4 "timed out" apply --yes "$work/t.yaml" "${silent_api[@]}" "${t[@]}"
timed "export, a server that never answers" 4 "timed out" export --vhost hostile "${silent_api[@]}" "${t[@]}"
timed "dlq inspect, a server that never answers" 8 "timed out" dlq inspect q --vhost hostile "${silent_api[@]}" "${t[@]}"
timed "dlq replay, a server that never answers" 8 "timed out" dlq replay q --vhost hostile "${silent_api[@]}" "${t[@]}"
timed "dlq archive, a server that never answers" 8 "timed out" dlq archive q --vhost hostile --file "$work/x.jsonl" "${silent_api[@]}" "${t[@]}"
timed "dlq restore, a server that never answers" 8 "timed out" dlq restore "$work/a.jsonl" "${silent_api[@]}" "${t[@]}"

timed "plan, malformed JSON from the management API" 10 "JSON" plan "$work/t.yaml" --api-url "http://127.0.0.1:$garbage" --timeout 5
timed "export, malformed JSON from the management API" 10 "JSON" export --vhost hostile --api-url "http://127.0.0.1:$garbage" --timeout 5
timed "plan, an HTML page instead of JSON" 10 "JSON" plan "$work/t.yaml" --api-url "http://127.0.0.1:$html" --timeout 5
timed "plan, an endless body" 30 "MiB" plan "$work/t.yaml" --api-url "http://127.0.0.1:$endless" --timeout 25
timed "plan, a body announced as 1 TiB" 10 "MiB" plan "$work/t.yaml" --api-url "http://127.0.0.1:$huge" --timeout 5

finish
