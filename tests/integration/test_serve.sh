#!/usr/bin/env bash
# dlq serve, the review dashboard, against a real broker: every endpoint of the JSON API,
# every action (replay, park, archive; dry run first) with the message ids counted before and
# after (nothing lost, nothing doubled), two concurrent replays of one group, a cancel and a
# SIGTERM in the middle of a replay; the security rules (401 without the token on every path,
# a foreign Host or Origin refused, the CSRF header for cookie POSTs, the headers on every
# answer); the token nowhere but the URL line; a quorum queue read only with consent
# (read_quorum: 409 without it, and with a delivery limit of 1 nothing is lost to page views).
# Then the page in headless Chromium (tests/browser/test_dashboard.py, and
# test_dashboard_quorum.py: the consent button) when chromium, chromedriver and selenium are there.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
MSGTOOL=${MSGTOOL:-$(dirname "$BIN")/tests/msgtool}

V=rmqtopo-it-serve-$$
Q='dlq/a' # a name with a slash: %2F in the API's paths
QE=dlq%2Fa
work=$(mktemp -d)
logdir=${SERVE_LOG_DIR:-$work/logs}
mkdir -p "$logdir" "$work/arch"
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  api DELETE "/vhosts/$V" >/dev/null 2>&1
  api DELETE "/vhosts/$V-q" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

# /usr/bin/python3: a pyenv shim first on PATH can take seconds a start
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
jget() { "$PY" -c "import json,sys; d=json.load(sys.stdin); print(json.dumps(eval(sys.argv[1])))" "$1"; }
ids() { "$MSGTOOL" dump "$V" "$1" | cut -d' ' -f1 | sort; }
count() { "$MSGTOOL" dump "$V" "$1" | wc -l | tr -d ' '; }

cat > "$work/t.yaml" <<YAML
version: 1
vhosts:
  $V:
    exchanges:
      work: { type: direct }
      dlx: { type: fanout }
    queues:
      work.a:
        dead_letter_exchange: dlx
        bind: [{ exchange: work, routing_key: a }]
      work.b:
        dead_letter_exchange: dlx
        bind: [{ exchange: work, routing_key: b }]
      parked: {}
      qdlq:
        type: quorum
        initial_group_size: 1
      qlim:
        type: quorum
        initial_group_size: 1
        delivery_limit: 1
      "$Q":
        bind: [{ exchange: dlx }]
YAML
"$BIN" apply --yes "$work/t.yaml" >/dev/null 2>&1 || echo "setup: apply failed"
# 20 die in work.a, 10 in work.b (rejected); one hostile message sits in the DLQ without x-death
MSGTOOL_EXCHANGE=work "$MSGTOOL" publish "$V" a 20 rej-a
MSGTOOL_EXCHANGE=work "$MSGTOOL" publish "$V" b 10 rej-b
"$MSGTOOL" reject "$V" work.a 20
"$MSGTOOL" reject "$V" work.b 10
api POST "/exchanges/$V/amq.default/publish" \
  "{\"properties\":{\"message_id\":\"<b>xss-1</b>\",\"headers\":{\"x-evil\":\"<script>window.__xss=1</script>\",\"<i>k</i>\":\"<img src=x onerror=window.__xss=2>\"}},\"routing_key\":\"$Q\",\"payload\":\"<img src=x onerror=window.__xss=3>\",\"payload_encoding\":\"string\"}" >/dev/null
for _ in $(seq 50); do [ "$(count "$Q")" = 31 ] && break; sleep 0.2; done
expect_eq "setup: 31 messages in the DLQ" 31 "$(count "$Q")"
ids "$Q" > "$work/all.ids"

# start_server NAME ARGS...: runs dlq serve, waits for its URL line; sets URL, TOKEN, BASE, SPID
start_server() {
  local name=$1
  shift
  "$BIN" dlq serve --vhost "$V" --listen 127.0.0.1:0 "$@" >"$work/$name.out" 2>"$work/$name.err" &
  SPID=$!
  pids+=("$SPID")
  URL=
  for _ in $(seq 100); do
    URL=$(head -n 1 "$work/$name.out" 2>/dev/null)
    [ -n "$URL" ] && break
    kill -0 "$SPID" 2>/dev/null || break
    sleep 0.1
  done
  TOKEN=${URL##*token=}
  BASE=${URL%%/\?*}
  B=(-H "Authorization: Bearer $TOKEN")
}

start_server s1 --archive-dir "$work/arch" --audit-log "$work/audit.jsonl"
case $URL in
  http://127.0.0.1:[0-9]*/\?token=[0-9a-f]*) pass "the first line of stdout is the URL with the token" ;;
  *) fail "the first line of stdout is the URL with the token" "got: $URL" ;;
esac
expect_eq "the token is 256 random bits (64 hex digits)" 64 "${#TOKEN}"

# req METHOD PATH [BODY] [curl args...]: prints "STATUS BODY"
req() {
  local m=$1 p=$2 b=${3:-}
  shift 3 2>/dev/null || shift $#
  local args=(-s -o "$work/body" -w '%{http_code}' -X "$m" "$@")
  [ -n "$b" ] && args+=(-H 'Content-Type: application/json' --data "$b")
  local code
  code=$(curl "${args[@]}" "$BASE$p")
  printf '%s %s' "$code" "$(cat "$work/body")"
}
breq() { local m=$1 p=$2 b=${3:-}; req "$m" "$p" "$b" "${B[@]}"; }
status_of() { echo "${1%% *}"; }
body_of() { echo "${1#* }"; }
# wait_job ID: polls until the job ends; prints its JSON
wait_job() {
  local j
  for _ in $(seq 600); do
    j=$(curl -s "${B[@]}" "$BASE/api/jobs/$1")
    case $j in *'"state":"running"'*) sleep 0.1 ;; *) break ;; esac
  done
  echo "$j"
}
# act KIND BODY: starts an action, waits for it, prints the job's JSON
act() {
  local r id
  r=$(breq POST "/api/dlqs/$V/$QE/$1" "$2")
  id=$(body_of "$r" | jget 'd.get("id")' | tr -d '"')
  [ "$(status_of "$r")" = 202 ] || { echo "{\"state\":\"not started\",\"answer\":$(echo "$r" | jget 'None' 2>/dev/null || echo null)}"; echo "$r" >&2; return; }
  wait_job "$id"
}

# --- 1. security ---------------------------------------------------------------------------
echo "# ${SECONDS}s: 1. security ----------------------"
bad=
for path in / /app.js /app.css /index.html "/api/dlqs" "/api/dlqs/$V/$QE/groups" \
  "/api/dlqs/$V/$QE/messages" /api/jobs /api/jobs/1 /nonexistent "/?token=wrong"; do
  r=$(req GET "$path" "")
  [ "$r" = "401 unauthorized" ] || bad="$bad GET $path -> $r;"
done
for path in / "/api/dlqs/$V/$QE/messages" /api/jobs; do
  for hdr in "Authorization: Bearer wrong" "Authorization: Bearer ${TOKEN%?}x" \
    "Cookie: rmqtopo_${BASE##*:}=wrong" "Authorization: Basic $(printf 'guest:guest' | base64)"; do
    r=$(req GET "$path" "" -H "$hdr")
    [ "$r" = "401 unauthorized" ] || bad="$bad GET $path [$hdr] -> $r;"
  done
done
for path in "/api/dlqs/$V/$QE/replay" "/api/dlqs/$V/$QE/park" "/api/dlqs/$V/$QE/archive" \
  /api/jobs/1/cancel /api/dlqs; do
  r=$(req POST "$path" '{"dry_run":true}')
  [ "$r" = "401 unauthorized" ] || bad="$bad POST $path -> $r;"
done
expect_eq "no token (or a wrong one): 401 and nothing else, on every path" "" "$bad"
expect_eq "the URL line held the token: nothing was started without it" \
  '{"jobs": []}' "$(curl -s "${B[@]}" "$BASE/api/jobs" | jget 'd')"

curl -s -D "$work/h" -o /dev/null "$URL"
expect_contains "GET /?token=: 303 to / (the token leaves the address bar)" "$(cat "$work/h")" "HTTP/1.1 303"
expect_contains "GET /?token=: location /" "$(tr -d '\r' < "$work/h")" "Location: /"
expect_contains "GET /?token=: the token becomes an HttpOnly SameSite=Strict cookie" \
  "$(tr -d '\r' < "$work/h")" "Set-Cookie: rmqtopo_${BASE##*:}=$TOKEN; Path=/; HttpOnly; SameSite=Strict"
C=(-H "Cookie: rmqtopo_${BASE##*:}=$TOKEN")
curl -s -D "$work/h" -o "$work/page" "${C[@]}" "$BASE/"
h=$(tr -d '\r' < "$work/h")
expect_contains "the page with the cookie: 200" "$h" "HTTP/1.1 200"
expect_contains "CSP: no inline script, no framing" "$h" \
  "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
expect_contains "nosniff" "$h" "X-Content-Type-Options: nosniff"
expect_eq "the page loads nothing from elsewhere (no CDN, no fonts)" "" \
  "$(grep -Eo '(src|href)="(https?:)?//[^"]*' "$work/page")"
expect_eq "the page has no inline script" 1 "$(grep -c '<script' "$work/page")"
CSRF=$(sed -n 's/.*name="csrf-token" content="\([0-9a-f]*\)".*/\1/p' "$work/page")
expect_eq "the page carries a CSRF token (64 hex digits)" 64 "${#CSRF}"
curl -s -D "$work/h" -o /dev/null "${B[@]}" "$BASE/api/dlqs"
expect_contains "the API's answers carry the headers too" "$(tr -d '\r' < "$work/h")" "frame-ancestors 'none'"

r=$(req GET /api/jobs "" "${B[@]}" -H "Host: evil.example")
expect_eq "a foreign Host (DNS rebinding): 403" 403 "$(status_of "$r")"
r=$(req GET /api/jobs "" "${B[@]}" -H "Host: evil.example:${BASE##*:}")
expect_eq "a foreign Host with our port: 403" 403 "$(status_of "$r")"
r=$(req GET /api/jobs "" "${B[@]}" -H "Host: localhost:2222")
expect_eq "any loopback name with any port (an SSH tunnel): 200" 200 "$(status_of "$r")"
r=$(req GET /api/jobs "" "${B[@]}" -H "Host: [::1]:9")
expect_eq "the IPv6 loopback address: 200" 200 "$(status_of "$r")"
r=$(req POST "/api/dlqs/$V/$QE/replay" '{"dry_run":true}' "${C[@]}" -H "X-CSRF-Token: $CSRF" -H "Origin: http://evil.example")
expect_eq "a cross-origin POST: 403" 403 "$(status_of "$r")"
r=$(req POST "/api/dlqs/$V/$QE/replay" '{"dry_run":true}' "${B[@]}" -H "Origin: http://localhost:1")
expect_eq "a POST from another loopback origin (another port): 403" 403 "$(status_of "$r")"
r=$(req POST "/api/dlqs/$V/$QE/replay" '{"dry_run":true}' "${C[@]}")
expect_eq "a POST with the cookie alone, no CSRF header: 403" 403 "$(status_of "$r")"
wrong=${CSRF%?}0
[ "$wrong" = "$CSRF" ] && wrong=${CSRF%?}1
r=$(req POST "/api/dlqs/$V/$QE/replay" '{"dry_run":true}' "${C[@]}" -H "X-CSRF-Token: $wrong")
expect_eq "a POST with a wrong CSRF header: 403" 403 "$(status_of "$r")"
r=$(req POST "/api/dlqs/$V/$QE/replay" '{"dry_run":true,"reason":"expired"}' "${C[@]}" -H "X-CSRF-Token: $CSRF" -H "Origin: $BASE")
expect_eq "a same-origin POST with cookie and CSRF header: 202" 202 "$(status_of "$r")"
wait_job "$(body_of "$r" | jget 'd["id"]' | tr -d '"')" >/dev/null
r=$(req DELETE "/api/jobs/1" "" "${B[@]}")
expect_eq "other methods: 405" 405 "$(status_of "$r")"
r=$(req GET "/api/dlqs/$V/$QE/replay" "" "${B[@]}")
expect_eq "an action by GET: 405 (state changes are POST only)" 405 "$(status_of "$r")"
big=$(head -c 70000 /dev/zero | tr '\0' 'x')
r=$(req POST "/api/dlqs/$V/$QE/replay" "{\"search\":\"$big\"}" "${B[@]}")
expect_eq "a body over 64 KiB: 413" 413 "$(status_of "$r")"

# --- 2. reading: the overview, groups, messages ------------------------------------------------
echo "# ${SECONDS}s: 2. reading: the overview, groups, "
r=$(breq GET /api/dlqs)
expect_eq "GET /api/dlqs: 200" 200 "$(status_of "$r")"
expect_eq "GET /api/dlqs: the DLQ with its depth (as dlq status)" '[["'"$V"'", "dlq/a", 31, true]]' \
  "$(body_of "$r" | jget '[[q["vhost"], q["queue"], q["messages"], q["dead_letter_queue"]] for q in d["queues"]]')"
expect_eq "GET /api/dlqs: reasons from the sample" '[["work.a", "rejected", 20], ["work.b", "rejected", 10], ["", "(not dead-lettered)", 1]]' \
  "$(body_of "$r" | jget '[[x["queue"], x["reason"], x["count"]] for x in d["queues"][0]["reasons"]]')"
sleep 1.1
MSGTOOL_EXCHANGE=dlx "$MSGTOOL" publish "$V" x 2 extra >/dev/null
r=$(breq GET /api/dlqs)
expect_eq "GET /api/dlqs again: a rate in (grew by 2)" true \
  "$(body_of "$r" | jget 'd["queues"][0]["rate_per_second"] is not None and d["queues"][0]["rate_per_second"] > 0')"
# take the two extra ones away again (they have no x-death; archive them by id)
r=$(act archive '{"file":"extra.jsonl","message_ids":["extra-0","extra-1"]}')
expect_eq "setup: the two extra messages archived away" '["done", 2]' "$(echo "$r" | jget '[d["state"], d["summary"]["archived"]]')"
expect_eq "setup: the DLQ holds its 31 again" "$(cat "$work/all.ids")" "$(ids "$Q")"

r=$(breq GET "/api/dlqs/$V/$QE/groups")
expect_eq "groups: 200" 200 "$(status_of "$r")"
expect_eq "groups: by (queue died in, reason) with counts" \
  '[["work.a", "rejected", 20], ["work.b", "rejected", 10], [null, null, 1]]' \
  "$(body_of "$r" | jget '[[g["queue"], g["reason"], g["count"]] for g in d["groups"]]')"
expect_eq "groups: oldest and newest death in ISO 8601" true \
  "$(body_of "$r" | jget 'all(g["first_death"].endswith("Z") and g["last_death"] >= g["first_death"] for g in d["groups"][:2])')"
expect_eq "groups: the read took nothing" "$(cat "$work/all.ids")" "$(ids "$Q")"
r=$(breq GET "/api/dlqs/$V/dlq/a/groups")
expect_eq "an unencoded slash is another path (not the queue dlq/a): 404" 404 "$(status_of "$r")"
r=$(breq GET "/api/dlqs/$V/nosuch/groups")
expect_eq "groups of a missing queue: 404 with the broker's reason" '[404, true]' \
  "[$(status_of "$r"), $(body_of "$r" | jget '"nosuch" in d["error"]')]"
"$MSGTOOL" publish "$V" qdlq 1 q >/dev/null
r=$(breq GET "/api/dlqs/$V/qdlq/groups")
expect_eq "groups of a quorum queue without read_quorum: 409, nothing read, the page is told what a read costs" \
  '[409, "read_quorum", "quorum", null, 1, true, true]' \
  "[$(status_of "$r"), $(body_of "$r" | jget '[d["needs"], d["type"], d["delivery_limit"], d["messages"], "raises each message" in d["error"] and "delivery count" in d["error"], "nothing was read" in d["error"]]' | tr -d '[]')]"
r=$(breq GET "/api/dlqs/$V/qdlq/messages")
expect_eq "messages of a quorum queue without read_quorum: 409" '409 "read_quorum"' \
  "$(status_of "$r") $(body_of "$r" | jget 'd["needs"]')"
r=$(breq GET "/api/dlqs/$V/qdlq/groups?read_quorum=1")
expect_eq "groups of a quorum queue with read_quorum=1: read, and the warning still said" '[200, "quorum", 1, true]' \
  "[$(status_of "$r"), $(body_of "$r" | jget '[d["type"], d["read"], any("raises each message" in w and "delivery count" in w for w in d["warnings"])]' | tr -d '[]')]"
r=$(breq GET "/api/dlqs/$V/qdlq/messages?read_quorum=1")
expect_eq "messages of a quorum queue with read_quorum=1: the one message" '[200, ["q-0"]]' \
  "[$(status_of "$r"), $(body_of "$r" | jget '[m["message_id"] for m in d["messages"]]')]"
r=$(breq GET "/api/dlqs/$V/qdlq/groups?read_quorum=maybe")
expect_eq "groups?read_quorum=maybe: 400" 400 "$(status_of "$r")"
# delivery limit 1: every read without consent is refused, so page views leave all 5 (before the
# fix, three GETs of groups dropped them: 5 -> 5 -> 0)
# (no dump before: a dump is a read too, and a second read drops them; publish is confirmed)
"$MSGTOOL" publish "$V" qlim 5 lim >/dev/null || echo "setup: publish to qlim failed"
seq 0 4 | sed 's/^/lim-/' | sort > "$work/qlim.ids"
codes=
for _ in 1 2 3; do
  codes="$codes$(status_of "$(breq GET "/api/dlqs/$V/qlim/groups")") "
  codes="$codes$(status_of "$(breq GET "/api/dlqs/$V/qlim/messages")") "
done
codes="$codes$(status_of "$(breq POST "/api/dlqs/$V/qlim/replay" '{"dry_run":true,"to_queue":"parked"}')") "
codes="$codes$(status_of "$(breq POST "/api/dlqs/$V/qlim/archive" '{"dry_run":true,"file":"qlim.jsonl"}')") "
codes="$codes$(status_of "$(breq POST "/api/dlqs/$V/qlim/archive" '{"copy":true,"file":"qlim.jsonl"}')")"
expect_eq "delivery limit 1: three views of groups and messages, two previews, an archive copy, none consented: all 409" \
  "409 409 409 409 409 409 409 409 409" "$codes"
r=$(breq GET "/api/dlqs/$V/qlim/groups")
expect_eq "delivery limit 1: the 409 names the limit and the count" '[1, 5, true]' \
  "$(body_of "$r" | jget '[d["delivery_limit"], d["messages"], "delivery limit is 1" in d["error"]]')"
expect_eq "delivery limit 1: all 5 messages still there (one msgtool dump after), lost 0" "$(cat "$work/qlim.ids")" \
  "$("$MSGTOOL" dump "$V" qlim | cut -d' ' -f1 | sort)"
expect_eq "delivery limit 1: no archive file written" no "$([ -e "$work/arch/qlim.jsonl" ] && echo yes || echo no)"
r=$(breq POST "/api/dlqs/$V/qdlq/replay" '{"dry_run":true,"to_queue":"parked","read_quorum":true}')
id=$(body_of "$r" | jget 'd.get("id")' | tr -d '"')
expect_eq "a preview of a quorum queue with \"read_quorum\": true runs, and warns" '[202, "done", 1, true]' \
  "[$(status_of "$r"), $(wait_job "$id" | jget '[d["state"], d["progress"]["read"], any("raises each message" in w for w in d["warnings"])]' | tr -d '[]')]"
r=$(breq POST "/api/dlqs/$V/qdlq/replay" '{"dry_run":true,"read_quorum":"yes"}')
expect_eq "read_quorum takes a boolean: 400" 400 "$(status_of "$r")"
r=$(breq GET "/api/dlqs/$V/$QE/groups?limit=0")
expect_eq "groups?limit=0: 400" 400 "$(status_of "$r")"

r=$(breq GET "/api/dlqs/$V/$QE/messages?reason=rejected&from_queue=work.b")
expect_eq "messages by reason and from_queue: the ten of work.b" \
  "$(seq 0 9 | sed 's/^/rej-b-/' | sort | tr '\n' ' ')" \
  "$(body_of "$r" | jget 'd["messages"]' | "$PY" -c 'import json,sys; print(" ".join(sorted(m["message_id"] for m in json.load(sys.stdin)))+" ")')"
m=$(body_of "$r" | jget '[m for m in d["messages"] if m["message_id"] == "rej-b-3"][0]')
expect_eq "a message: origin, reason, count, size" '["work.b", "work", ["b"], "rejected", 1, 15]' \
  "$(echo "$m" | jget '[d[k] for k in ("queue", "exchange", "routing_keys", "reason", "count", "body_size")]')"
expect_eq "a message: typed headers" '[{"type": "i64", "value": 3}, {"type": "timestamp", "value": 1700000003}]' \
  "$(echo "$m" | jget '[d["headers"]["h-long"], d["headers"]["h-ts"]]')"
expect_eq "a message: its x-death history" '[["work.b", "rejected", 1, "work", ["b"]]]' \
  "$(echo "$m" | jget '[[x["queue"], x["reason"], x["count"], x["exchange"], x["routing_keys"]] for x in d["x_death"]]')"
expect_eq "a message: properties and the body as text" '["text/plain", "text", "body of rej-b-3"]' \
  "$(echo "$m" | jget '[d["properties"]["content_type"], d["body"]["encoding"], d["body"]["text"]]')"
r=$(breq GET "/api/dlqs/$V/$QE/messages?search=rej-a-1")
expect_eq "messages?search= (message id or routing key): rej-a-1 and rej-a-1x" 11 \
  "$(body_of "$r" | jget 'len(d["messages"])')"
r=$(breq GET "/api/dlqs/$V/$QE/messages?limit=5")
expect_eq "messages?limit=5: five, and more to see" '[5, true]' "$(body_of "$r" | jget '[len(d["messages"]), d["more"]]')"
r=$(breq GET "/api/dlqs/$V/$QE/messages?older_than=1h")
expect_eq "messages?older_than=1h (they died seconds ago): none" 0 "$(body_of "$r" | jget 'len(d["messages"])')"
r=$(breq GET "/api/dlqs/$V/$QE/messages?reason=sleepy")
expect_eq "messages?reason=sleepy: 400" 400 "$(status_of "$r")"
r=$(breq GET "/api/dlqs/$V/$QE/messages?search=xss")
expect_eq "the hostile message comes back as data, byte for byte" \
  '["<b>xss-1</b>", "<img src=x onerror=window.__xss=3>", {"type": "string", "value": "<script>window.__xss=1</script>"}]' \
  "$(body_of "$r" | jget '[d["messages"][0]["message_id"], d["messages"][0]["body"]["text"], d["messages"][0]["headers"]["x-evil"]]')"
expect_eq "messages: the reads took nothing" "$(cat "$work/all.ids")" "$(ids "$Q")"

# --- 3. actions ------------------------------------------------------------------------------
echo "# ${SECONDS}s: 3. actions -----------------------"
for bodyk in 'replay {"bogus":1}' 'replay {"to_queue":"x","to_origin":true}' 'replay {"routing_key":"k"}' \
  'replay {"limit":0}' 'replay {"reason":"sleepy"}' 'park {}' 'archive {}' 'archive {"file":"../x"}' \
  'archive {"file":"a/b"}' 'replay [1]' 'replay {"rate":-1}' 'replay {"dry_run":"yes"}'; do
  r=$(breq POST "/api/dlqs/$V/$QE/${bodyk%% *}" "${bodyk#* }")
  [ "$(status_of "$r")" = 400 ] || bad="$bad ${bodyk} -> $r;"
done
expect_eq "malformed options: 400 with the reason" "" "$bad"

j=$(act replay '{"dry_run":true,"from_queue":"work.b","reason":"rejected"}')
expect_eq "replay preview of a group: done, 10 would move, 21 stay" '["done", true, 10, 21]' \
  "$(echo "$j" | jget '[d["state"], d["summary"]["dry_run"], d["summary"]["would_move"], d["summary"]["filtered"]]')"
expect_eq "replay preview: where to (queue work.b, exists)" '[["replay", "", "work.b", true, 10]]' \
  "$(echo "$j" | jget '[[t["action"], t["exchange"], t["routing_key"], t["target_exists"], t["count"]] for t in d["targets"] if t["action"] != "filtered"]')"
expect_eq "replay preview: nothing moved" "$(cat "$work/all.ids")" "$(ids "$Q")"

j=$(act replay '{"from_queue":"work.b","reason":"rejected"}')
expect_eq "replay of a group: done, ok, 10 moved, 21 filtered (the CLI's summary)" '["done", true, 10, 21, 0]' \
  "$(echo "$j" | jget '[d["state"], d["summary"]["ok"], d["summary"]["moved"], d["summary"]["filtered"], d["summary"]["left"]]')"
expect_eq "replay: work.b holds the ten ids" "$(seq 0 9 | sed 's/^/rej-b-/' | sort)" "$(ids work.b)"
expect_eq "replay: nothing lost, nothing doubled (DLQ + work.b = before)" "$(cat "$work/all.ids")" \
  "$( (ids "$Q"; ids work.b) | sort)"

j=$(act park '{"dry_run":true,"from_queue":"work.a","limit":5,"park_queue":"parked"}')
expect_eq "park preview: 5 would go to 'parked' (the limit)" '["done", 5]' \
  "$(echo "$j" | jget '[d["state"], d["summary"]["would_park"]]')"
j=$(act park '{"from_queue":"work.a","limit":5,"park_queue":"parked"}')
expect_eq "park of 5 of a group: done, 5 parked" '["done", 5]' "$(echo "$j" | jget '[d["state"], d["summary"]["parked"]]')"
expect_eq "park: 'parked' holds five, with their death headers" '[5, 1]' \
  "[$(count parked), $("$MSGTOOL" headers "$V" parked | head -n 1 | grep -c '782d6465617468=')]"
expect_eq "park: nothing lost, nothing doubled" "$(cat "$work/all.ids")" \
  "$( (ids "$Q"; ids work.b; ids parked) | sort)"

j=$(act archive '{"dry_run":true,"file":"a.jsonl","from_queue":"work.a"}')
expect_eq "archive preview: 15 would be archived into the file, 1 not selected" '["done", 15, 1]' \
  "$(echo "$j" | jget '[d["state"], d["summary"]["would_archive"], d["summary"]["filtered"]]')"
expect_eq "archive preview: wrote nothing" 0 "$(ls "$work/arch" | grep -c '^a.jsonl')"
j=$(act archive '{"file":"a.jsonl","from_queue":"work.a","copy":true}')
expect_eq "archive --copy of a group: done, 15 in the file, the queue as it was" '["done", true, 15]' \
  "$(echo "$j" | jget '[d["state"], d["summary"]["copy"], d["summary"]["archived"]]')"
expect_eq "archive --copy: header + 15 lines" 16 "$(wc -l < "$work/arch/a.jsonl" | tr -d ' ')"
before=$(ids "$Q")
j=$(act archive '{"file":"sel.jsonl","message_ids":["rej-a-7","rej-a-8","rej-a-9"]}')
expect_eq "archive of a selection (three message ids): done, 3 archived" '["done", 3]' \
  "$(echo "$j" | jget '[d["state"], d["summary"]["archived"]]')"
expect_eq "archive: the file holds those three" "rej-a-7 rej-a-8 rej-a-9" \
  "$(tail -n +2 "$work/arch/sel.jsonl" | "$PY" -c 'import json,sys; print(" ".join(sorted(json.loads(l)["properties"]["message_id"] for l in sys.stdin)))')"
expect_eq "archive: the DLQ lost exactly those" "$(echo "$before" | grep -v -x -e rej-a-7 -e rej-a-8 -e rej-a-9)" "$(ids "$Q")"
j=$(act archive '{"file":"a.jsonl","from_queue":"work.a"}')
expect_eq "archive into an existing file without append: failed, nothing taken" '["failed", false]' \
  "$(echo "$j" | jget '[d["state"], d["summary"]["ok"]]')"
expect_eq "the failed archive took nothing" "$(echo "$before" | grep -v -x -e rej-a-7 -e rej-a-8 -e rej-a-9)" "$(ids "$Q")"

# two concurrent replays of the same group (12 messages left of work.a), slowed so they overlap
r1=$(breq POST "/api/dlqs/$V/$QE/replay" '{"from_queue":"work.a","rate":20}')
r2=$(breq POST "/api/dlqs/$V/$QE/replay" '{"from_queue":"work.a","rate":20}')
expect_eq "two replays of one group start together: 202 202" "202 202" "$(status_of "$r1") $(status_of "$r2")"
j1=$(wait_job "$(body_of "$r1" | jget 'd["id"]' | tr -d '"')")
j2=$(wait_job "$(body_of "$r2" | jget 'd["id"]' | tr -d '"')")
expect_eq "two concurrent replays: 12 moved between them" 12 \
  "$(( $(echo "$j1" | jget 'd["summary"]["moved"]') + $(echo "$j2" | jget 'd["summary"]["moved"]') ))"
expect_eq "two concurrent replays: work.a holds the 12, once each" \
  "$( (seq 0 19 | sed 's/^/rej-a-/') | grep -v -x -e rej-a-7 -e rej-a-8 -e rej-a-9 | sort | head -n 100 > "$work/wa"; grep -v -x -f <(ids parked) "$work/wa")" "$(ids work.a)"
expect_eq "two concurrent replays: nothing lost, nothing doubled" \
  "$(cat "$work/all.ids" | grep -v -x -e rej-a-7 -e rej-a-8 -e rej-a-9)" "$( (ids "$Q"; ids work.b; ids parked; ids work.a) | sort)"

# a cancel in the middle: work.b's ten die again, a slow replay is cancelled
"$MSGTOOL" reject "$V" work.b 10
for _ in $(seq 50); do [ "$(count "$Q")" = 11 ] && break; sleep 0.2; done
r=$(breq POST "/api/dlqs/$V/$QE/replay" '{"from_queue":"work.b","rate":2}')
id=$(body_of "$r" | jget 'd["id"]' | tr -d '"')
for _ in $(seq 100); do
  [ "$(curl -s "${B[@]}" "$BASE/api/jobs/$id" | jget 'd["progress"]["moved"]')" -ge 1 ] 2>/dev/null && break
  sleep 0.1
done
r=$(breq POST "/api/jobs/$id/cancel" "")
expect_eq "cancel: 202" 202 "$(status_of "$r")"
j=$(wait_job "$id")
expect_eq "cancel: the job says cancelled, and not ok" '["cancelled", false]' "$(echo "$j" | jget '[d["state"], d["summary"]["ok"]]')"
moved=$(echo "$j" | jget 'd["summary"]["moved"]')
expect_eq "cancel: some moved, the rest stays (moved + left in the DLQ = 10)" 10 \
  "$(( moved + $(ids "$Q" | grep -c '^rej-b-') ))"
expect_eq "cancel: nothing lost, nothing doubled" \
  "$(cat "$work/all.ids" | grep -v -x -e rej-a-7 -e rej-a-8 -e rej-a-9)" "$( (ids "$Q"; ids work.b; ids parked; ids work.a) | sort)"

r=$(breq GET /api/jobs)
expect_eq "GET /api/jobs: every job, newest first" true \
  "$(body_of "$r" | jget 'len(d["jobs"]) >= 12 and int(d["jobs"][0]["id"]) > int(d["jobs"][-1]["id"])')"
r=$(breq GET /api/jobs/999)
expect_eq "an unknown job: 404" 404 "$(status_of "$r")"
r=$(breq POST /api/jobs/999/cancel "")
expect_eq "cancel of an unknown job: 404" 404 "$(status_of "$r")"

# --- 4. the audit log, the token ----------------------------------------------------------------
echo "# ${SECONDS}s: 4. the audit log, the token ------"
expect_eq "audit log: JSON lines with time, remote, action, queue, result" true \
  "$("$PY" -c '
import json,sys
ls=[json.loads(l) for l in open(sys.argv[1])]
print(json.dumps(len(ls) >= 20 and all(all(k in l for k in ("time","remote","action","job")) for l in ls)
  and any(l["action"]=="replay" and l["result"]=="done" and l["counts"].get("moved")==10 and l["options"]["from_queue"]=="work.b" for l in ls)
  and any(l["action"]=="cancel" for l in ls) and any(l["action"]=="archive" and l["result"]=="started" for l in ls)
  and all(l["remote"]=="127.0.0.1" for l in ls)))' "$work/audit.jsonl")"
expect_eq "the token is not in the audit log" 0 "$(grep -c "$TOKEN" "$work/audit.jsonl")"

# --- 5. the page in a real browser -----------------------------------------------------------
echo "# ${SECONDS}s: 5. the page in a real browser ----"
if [ -x /usr/bin/chromedriver ] && /usr/bin/python3 -c 'import selenium' 2>/dev/null; then
  # work.a's messages die again: a group for the page to replay
  "$MSGTOOL" reject "$V" work.a "$(count work.a)" >/dev/null
  SERVE_URL=$URL SERVE_VHOST=$V SERVE_QUEUE=$Q SERVE_LOG_DIR=$logdir \
    /usr/bin/python3 "$here/../browser/test_dashboard.py" > "$work/browser.out" 2>&1
  rc=$?
  cat "$work/browser.out"
  expect_eq "the page in headless Chromium: exit 0" 0 "$rc"
  expect_eq "after the page's replay: nothing lost, nothing doubled" \
    "$(cat "$work/all.ids" | grep -v -x -e rej-a-7 -e rej-a-8 -e rej-a-9)" "$( (ids "$Q"; ids work.b; ids parked; ids work.a) | sort)"
  # a quorum dead-letter queue (delivery limit 3) in a second vhost: the page asks before a read
  V2=$V-q
  cat > "$work/q.yaml" <<YAML
version: 1
vhosts:
  $V2:
    exchanges:
      dlx: { type: fanout }
    queues:
      work: { dead_letter_exchange: dlx }
      qd:
        type: quorum
        initial_group_size: 1
        delivery_limit: 3
        bind: [{ exchange: dlx }]
YAML
  "$BIN" apply --yes "$work/q.yaml" >/dev/null 2>&1 || echo "setup: apply of $V2 failed"
  "$MSGTOOL" publish "$V2" work 3 qw >/dev/null
  "$MSGTOOL" reject "$V2" work 3 >/dev/null
  s1=("$URL" "$SPID") # section 6 goes on with the first server
  start_server q --vhost "$V2"
  SERVE_URL=$URL SERVE_QUEUE=qd SERVE_COUNT=3 SERVE_LIMIT=3 \
    /usr/bin/python3 "$here/../browser/test_dashboard_quorum.py" > "$work/browser-q.out" 2>&1
  rc=$?
  cat "$work/browser-q.out"
  expect_eq "the quorum page in headless Chromium: exit 0" 0 "$rc"
  # two opens without consent and one with: one read (had the opens read, the dump below would
  # be the fourth read, past the limit of 3, and the messages gone)
  expect_eq "after the quorum page: the 3 messages are all there (one msgtool dump), lost 0" \
    "qw-0 qw-1 qw-2" "$("$MSGTOOL" dump "$V2" qd | cut -d' ' -f1 | sort | tr '\n' ' ' | sed 's/ $//')"
  kill "$SPID"; wait "$SPID"
  URL=${s1[0]} SPID=${s1[1]}
  TOKEN=${URL##*token=}
  BASE=${URL%%/\?*}
  B=(-H "Authorization: Bearer $TOKEN")
  api DELETE "/vhosts/$V2" >/dev/null 2>&1
else
  echo "SKIP the browser test: needs /usr/bin/chromedriver and python3-selenium (scripts/setup.sh)"
fi

# --- 6. stopping: SIGTERM in the middle of a replay -------------------------------------------
echo "# ${SECONDS}s: 6. stopping: SIGTERM in the middle"
"$MSGTOOL" reject "$V" work.a "$(count work.a)" >/dev/null
n=$(ids "$Q" | grep -c '^rej-a-')
r=$(breq POST "/api/dlqs/$V/$QE/replay" '{"from_queue":"work.a","rate":2}')
id=$(body_of "$r" | jget 'd["id"]' | tr -d '"')
for _ in $(seq 100); do
  [ "$(curl -s "${B[@]}" "$BASE/api/jobs/$id" | jget 'd["progress"]["moved"]')" -ge 1 ] 2>/dev/null && break
  sleep 0.1
done
kill -TERM "$SPID"
wait "$SPID"
rc=$?
expect_eq "SIGTERM: the server exits 0 after the job stopped" 0 "$rc"
expect_eq "SIGTERM: what moved is home, the rest stays (work.a + DLQ = $n)" "$n" \
  "$(( $(ids work.a | grep -c '^rej-a-') + $(ids "$Q" | grep -c '^rej-a-') ))"
expect_eq "SIGTERM: nothing lost, nothing doubled" \
  "$(cat "$work/all.ids" | grep -v -x -e rej-a-7 -e rej-a-8 -e rej-a-9)" "$( (ids "$Q"; ids work.b; ids parked; ids work.a) | sort)"
expect_contains "SIGTERM: the audit log has the cancelled job" "$(tail -n 1 "$work/audit.jsonl")" '"result":"cancelled"'
expect_eq "the token is not on stderr" 0 "$(grep -c "$TOKEN" "$work/s1.err")"
expect_eq "stdout holds the URL line only" 1 "$(wc -l < "$work/s1.out" | tr -d ' ')"

# --- 7. the bounds and the listen rules ------------------------------------------------------------
echo "# ${SECONDS}s: 7. the bounds and the listen rules"
start_server s2 --max-jobs 1
r1=$(breq POST "/api/dlqs/$V/$QE/replay" '{"from_queue":"work.a","rate":2}')
r2=$(breq POST "/api/dlqs/$V/$QE/replay" '{"dry_run":true}')
expect_eq "--max-jobs 1: a second job while one runs is refused with 429" "202 429" "$(status_of "$r1") $(status_of "$r2")"
expect_contains "no --audit-log nor --archive-dir: the audit goes to stderr" "$(cat "$work/s2.err")" '"action":"replay"'
r=$(breq POST "/api/dlqs/$V/$QE/archive" '{"file":"x.jsonl"}')
expect_eq "archive without --archive-dir: 400" 400 "$(status_of "$r")"
kill -TERM "$SPID"
wait "$SPID"
expect_eq "the token is not on stderr (audit there included)" 0 "$(grep -c "$TOKEN" "$work/s2.err")"

out=$("$BIN" dlq serve --listen 0.0.0.0:0 2>&1 </dev/null); rc=$?
expect_eq "a non-loopback address without TLS: exit 64" 64 "$rc"
expect_contains "... and says what to give" "$out" "--tls-cert and --tls-key"
out=$("$BIN" dlq serve --listen localhost 2>&1 </dev/null); rc=$?
expect_eq "--listen without a port: exit 64" 64 "$rc"
if command -v openssl >/dev/null; then
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/k.pem" -out "$work/c.pem" -days 1 \
    -subj /CN=localhost >/dev/null 2>&1
  start_server s3 --tls-cert "$work/c.pem" --tls-key "$work/k.pem"
  case $URL in https://*) pass "--tls-cert/--tls-key: the URL is https" ;; *) fail "--tls-cert/--tls-key: the URL is https" "got: $URL" ;; esac
  r=$(curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$BASE/api/jobs")
  expect_eq "https: the API answers" 200 "$r"
  expect_contains "https: the cookie is Secure" "$(curl -sk -D - -o /dev/null "$URL" | tr -d '\r')" "SameSite=Strict; Secure"
  kill -TERM "$SPID"
  wait "$SPID"
  start_server s4 --listen 0.0.0.0:0 --insecure-listen
  expect_contains "--insecure-listen: warns on start" "$(cat "$work/s4.err")" "warning: --insecure-listen"
  r=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -H "Host: localhost:${BASE##*:}" "$BASE/api/jobs")
  expect_eq "bound to a non-loopback address, a loopback Host is refused: 403" 403 "$r"
  kill -TERM "$SPID"
  wait "$SPID"
fi

echo "# ${SECONDS}s: the end"
finish
