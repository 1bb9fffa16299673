#!/usr/bin/env bash
# scripts/bench_dlq.sh - `rmqtopo dlq replay` against the shovel plugin's move of the same queue.
#
# Starts a private broker with the shovel plugins (scripts/broker.sh, name "benchdlq", base
# port 38672) and builds a small rabbitmq-c helper (bdtool, in a temporary directory). For each
# queue type of TYPES and each of RUNS runs, in a fresh vhost, it measures two moves of
# MESSAGES persistent messages of SIZE bytes (each with its own message_id) from a durable queue
# "src" to a durable queue "dst" of that type. Before each move both queues are deleted and
# declared again, and src is filled untimed (publisher confirms, so the count is exact; a passive
# declare must then say MESSAGES ready):
#   - the shovel: a dynamic shovel, PUT /api/parameters/shovel/VHOST/NAME with ack-mode
#     on-confirm, src-delete-after queue-length and the default src-prefetch-count (1000).
#     Timed from just before the PUT until dst holds MESSAGES, src holds 0 messages and has no
#     consumer left (bdtool polls both with AMQP passive declares every POLL_MS, default 50 ms)
#     and the shovel's parameter is gone (GET answers 404). The end is taken as the middle of the
#     last poll that saw the move unfinished and the first that saw it finished; the per-run
#     line prints that uncertainty.
#   - replay: `rmqtopo dlq replay src --vhost VHOST --to-queue dst --output json`, timed from
#     its start to its exit, under /usr/bin/time -f %M (peak RSS). It must exit 0, say
#     "moved": MESSAGES, and leave dst with MESSAGES and src with 0.
# Runs alternate which of the two goes first. Then one more replay of MESSAGES/10 messages per
# type, to see that peak memory does not grow with the queue's length.
# Prints per type: median msg/s of both, the ratio replay/shovel (target >= 1.0x), replay's peak
# RSS median and max (target < 16 MiB) and the flatness check (RSS at MESSAGES and at
# MESSAGES/10).
# Environment: MESSAGES (default 100000), SIZE (bytes, default 1024), RUNS (default 3),
# TYPES (default "classic quorum"), RMQTOPO (default build/rmqtopo; built with
# `cmake --build build` when missing), SKIP_REPLAY=1 (the shovel only), POLL_MS (default 50),
# SETTLE (seconds to wait after each fill, default 1), KEEP_BROKER=1 (leave the broker running).
# MODE=archive measures `dlq archive` and `dlq restore` against replay instead (issue: both at
# least 0.9x replay's rate, peak memory flat in the queue's length): per run, a replay of
# MESSAGES from src to dst, an archive of MESSAGES from src into a file (src empty after), and
# a restore of that file into an empty dst, each timed from start to exit with its peak RSS;
# prints the medians and the ratios archive/replay and restore/replay. The shovel is not run.
# Exit status: 0 when every measurement worked (a missed target is reported, not an error),
# 1 when something failed, 64 for bad options. A failed replay (exit status not 0, "moved" or
# the counts wrong) is reported on its run's line and in the summary, the runs go on, and the
# medians are of the successful runs; any other failure stops the script.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
messages=${MESSAGES:-100000}
size=${SIZE:-1024}
runs=${RUNS:-3}
types=${TYPES:-classic quorum}
rmqtopo=${RMQTOPO:-build/rmqtopo}
skip_replay=${SKIP_REPLAY:-0}
poll_ms=${POLL_MS:-50}
settle=${SETTLE:-1}
mode=${MODE:-shovel}
usage() {
  echo "usage: [MESSAGES=N] [SIZE=BYTES] [RUNS=N] [TYPES='classic quorum'] [RMQTOPO=PATH]" \
    "[SKIP_REPLAY=1] [POLL_MS=N] [SETTLE=S] [KEEP_BROKER=1] scripts/bench_dlq.sh" >&2
  exit 64
}
[ $# = 0 ] || usage
[[ $messages =~ ^[1-9][0-9]*$ && $size =~ ^[0-9]+$ && $runs =~ ^[1-9][0-9]*$ &&
  $poll_ms =~ ^[1-9][0-9]*$ && $settle =~ ^[0-9]+(\.[0-9]+)?$ && $skip_replay =~ ^[01]$ ]] || usage
for t in $types; do
  [[ $t == classic || $t == quorum ]] || { echo "TYPES: '$t' is not classic or quorum" >&2; usage; }
done
[ -n "${types// /}" ] || usage
[[ $mode == shovel || $mode == archive ]] || { echo "MODE: '$mode' is not shovel or archive" >&2; usage; }
[[ $mode == shovel || $skip_replay == 0 ]] || { echo "MODE=archive needs the replay" >&2; usage; }

scripts/setup.sh jq
if [ "$skip_replay" = 0 ]; then
  if [ ! -x "$rmqtopo" ] && [ -z "${RMQTOPO:-}" ]; then
    [ -f build/CMakeCache.txt ] || cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build build --target rmqtopo >/dev/null
  fi
  [ -x "$rmqtopo" ] || { echo "no executable $rmqtopo (set RMQTOPO)" >&2; exit 1; }
  if ! "$rmqtopo" dlq replay --help >/dev/null 2>&1; then
    echo "$rmqtopo has no 'dlq replay' command; SKIP_REPLAY=1 measures the shovel only" >&2
    exit 1
  fi
fi
gnu_time=""
if /usr/bin/time -f %M -o /dev/null true 2>/dev/null; then gnu_time=/usr/bin/time; fi

work=$(mktemp -d /tmp/bench-dlq.XXXXXX)
cleanup() {
  rm -rf "$work"
  [ "${KEEP_BROKER:-0}" = 1 ] ||
    scripts/broker.sh stop --name benchdlq --kill >/dev/null 2>&1 || true
}
trap cleanup EXIT

# bdtool: fill (confirmed), count (passive declare), waitmove (run a command, poll the counts).
cat >"$work/bdtool.c" <<'EOF'
/* bdtool: the benchmark's AMQP helper (rabbitmq-c), built by scripts/bench_dlq.sh.
 *   bdtool fill VHOST QUEUE N SIZE PREFIX   N persistent messages of SIZE bytes through the
 *            default exchange, message_id PREFIX-i, publisher confirms (all confirmed at exit);
 *            prints the seconds it took
 *   bdtool count VHOST QUEUE...             ready messages of each queue (passive declare)
 *   bdtool waitmove VHOST SRC DST N MS TIMEOUT_S CMD...
 *            connects, notes t0, runs CMD, then every MS ms passive-declares SRC and DST until
 *            DST holds N messages and SRC 0 messages and 0 consumers; prints
 *            "t0 t1 t2 polls" (CLOCK_REALTIME, seconds): t0 just before CMD, t1 when the last
 *            poll that saw the move unfinished began, t2 when the first that saw it finished ended
 * The broker comes from RMQTOPO_AMQP_URL (amqp://[user:pass@]host:port), guest/guest default. */
#define _GNU_SOURCE
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static amqp_connection_state_t conn;
static uint32_t consumers; /* of the queue counted last */

static void die(const char *what) { fprintf(stderr, "bdtool: %s\n", what); exit(1); }

static void check(amqp_rpc_reply_t r, const char *what)
{
    char buf[300];
    amqp_bytes_t text = {0, NULL};
    if (r.reply_type == AMQP_RESPONSE_NORMAL) return;
    if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION && r.reply.id == AMQP_CHANNEL_CLOSE_METHOD)
        text = ((amqp_channel_close_t *)r.reply.decoded)->reply_text;
    else if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
             r.reply.id == AMQP_CONNECTION_CLOSE_METHOD)
        text = ((amqp_connection_close_t *)r.reply.decoded)->reply_text;
    if (text.bytes)
        snprintf(buf, sizeof buf, "%s: %.*s", what, (int)text.len, (char *)text.bytes);
    else
        snprintf(buf, sizeof buf, "%s: %s", what,
                 r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION
                     ? amqp_error_string2(r.library_error) : "failed");
    die(buf);
}

static void open_conn(const char *vhost)
{
    struct amqp_connection_info ci;
    const char *env = getenv("RMQTOPO_AMQP_URL");
    char *url = strdup(env ? env : "amqp://localhost:5672"), *comma;
    amqp_socket_t *s;

    if (!url) die("out of memory");
    if ((comma = strchr(url, ','))) *comma = 0;
    amqp_default_connection_info(&ci);
    if (amqp_parse_url(url, &ci) != AMQP_STATUS_OK) die("cannot parse RMQTOPO_AMQP_URL");
    conn = amqp_new_connection();
    s = amqp_tcp_socket_new(conn);
    if (!s || amqp_socket_open(s, ci.host, ci.port) != AMQP_STATUS_OK) die("cannot connect");
    check(amqp_login(conn, vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, ci.user, ci.password),
          "login");
    amqp_channel_open(conn, 1);
    check(amqp_get_rpc_reply(conn), "channel.open");
}

static uint32_t count(const char *q)
{
    amqp_queue_declare_ok_t *ok =
        amqp_queue_declare(conn, 1, amqp_cstring_bytes(q), 1, 0, 0, 0, amqp_empty_table);
    uint32_t n;
    check(amqp_get_rpc_reply(conn), q);
    n = ok->message_count;
    consumers = ok->consumer_count;
    amqp_maybe_release_buffers(conn);
    return n;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* acked[t]: delivery tag t (1-based) confirmed; every tag <= low is confirmed */
static unsigned char *acked;
static long low, n_acked;

static void on_frame(const amqp_frame_t *f, long published)
{
    if (f->frame_type != AMQP_FRAME_METHOD) return;
    if (f->payload.method.id == AMQP_BASIC_ACK_METHOD) {
        const amqp_basic_ack_t *a = f->payload.method.decoded;
        long tag = (long)a->delivery_tag, t;
        if (tag < 1 || tag > published) die("a confirm for an unknown delivery tag");
        for (t = a->multiple ? low + 1 : tag; t <= tag; t++)
            if (!acked[t]) acked[t] = 1, n_acked++;
        while (low < published && acked[low + 1]) low++;
    } else if (f->payload.method.id == AMQP_BASIC_NACK_METHOD) {
        die("the broker refused a message (basic.nack)");
    } else if (f->payload.method.id == AMQP_CHANNEL_CLOSE_METHOD ||
               f->payload.method.id == AMQP_CONNECTION_CLOSE_METHOD) {
        die("the broker closed the channel or the connection while we published");
    }
}

static int fill(const char *vhost, const char *q, long n, long size, const char *prefix)
{
    const long window = 4000; /* unconfirmed messages at most */
    long i, published = 0;
    char *body = malloc(size > 0 ? (size_t)size : 1), id[128];
    struct timeval zero = {0, 0};
    amqp_frame_t f;
    double t0, dt;

    acked = calloc((size_t)n + 2, 1);
    if (!body || !acked) die("out of memory");
    for (i = 0; i < size; i++) body[i] = (char)('a' + i % 26);
    open_conn(vhost);
    amqp_confirm_select(conn, 1);
    check(amqp_get_rpc_reply(conn), "confirm.select");
    t0 = now();
    for (i = 0; i < n; i++) {
        amqp_basic_properties_t p;
        amqp_bytes_t b;
        int len = snprintf(id, sizeof id, "%s-%ld", prefix, i);
        memset(&p, 0, sizeof p);
        p._flags = AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG;
        p.message_id = amqp_cstring_bytes(id);
        p.delivery_mode = 2; /* persistent */
        if (size >= len) memcpy(body, id, (size_t)len); /* the bodies differ too */
        b.len = (size_t)size;
        b.bytes = body;
        if (amqp_basic_publish(conn, 1, amqp_cstring_bytes(""), amqp_cstring_bytes(q), 0, 0, &p,
                               b) != AMQP_STATUS_OK)
            die("publish failed");
        published++;
        /* take the confirms already there; block while the window is full */
        if ((published & 63) == 0)
            while (amqp_simple_wait_frame_noblock(conn, &f, &zero) == AMQP_STATUS_OK)
                on_frame(&f, published);
        while (published - n_acked >= window) {
            if (amqp_simple_wait_frame(conn, &f) != AMQP_STATUS_OK) die("lost the connection");
            on_frame(&f, published);
        }
        amqp_maybe_release_buffers(conn);
    }
    while (n_acked < published) {
        if (amqp_simple_wait_frame(conn, &f) != AMQP_STATUS_OK) die("lost the connection");
        on_frame(&f, published);
        amqp_maybe_release_buffers(conn);
    }
    dt = now() - t0;
    printf("%.3f\n", dt);
    amqp_channel_close(conn, 1, AMQP_REPLY_SUCCESS);
    amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(conn);
    return 0;
}

static int waitmove(const char *vhost, const char *src, const char *dst, long n, long ms,
                    long timeout, char **cmd)
{
    double t0, tmiss, t;
    long polls = 0;
    uint32_t s, d, sc;
    int st;
    pid_t pid;
    struct timespec next;

    open_conn(vhost);
    (void)count(src); /* the first round trips are out of the timing */
    t0 = now();
    pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        execvp(cmd[0], cmd);
        _exit(127);
    }
    if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        die("the command failed");
    tmiss = now();
    clock_gettime(CLOCK_MONOTONIC, &next);
    for (;;) {
        t = now();
        s = count(src);
        sc = consumers;
        d = count(dst);
        polls++;
        if (d == (uint32_t)n && s == 0 && sc == 0) {
            t = now(); /* the move ended before the answers came: take their arrival */
            break;
        }
        tmiss = t;
        if (t > t0 + timeout) {
            fprintf(stderr, "bdtool: timed out: %s holds %u messages (%u consumers), %s holds %u\n",
                    src, s, sc, dst, d);
            return 1;
        }
        next.tv_nsec += ms * 1000000L;
        while (next.tv_nsec >= 1000000000L) next.tv_nsec -= 1000000000L, next.tv_sec++;
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
    }
    printf("%.6f %.6f %.6f %ld\n", t0, tmiss, t, polls);
    return 0;
}

int main(int argc, char **argv)
{
    int i;
    if (argc == 7 && !strcmp(argv[1], "fill"))
        return fill(argv[2], argv[3], atol(argv[4]), atol(argv[5]), argv[6]);
    if (argc >= 4 && !strcmp(argv[1], "count")) {
        open_conn(argv[2]);
        for (i = 3; i < argc; i++) printf("%u\n", count(argv[i]));
        return 0;
    }
    if (argc >= 9 && !strcmp(argv[1], "waitmove"))
        return waitmove(argv[2], argv[3], argv[4], atol(argv[5]), atol(argv[6]), atol(argv[7]),
                        argv + 8);
    fprintf(stderr, "usage: bdtool fill VHOST QUEUE N SIZE PREFIX | count VHOST QUEUE... | "
                    "waitmove VHOST SRC DST N MS TIMEOUT_S CMD...\n");
    return 64;
}
EOF
cc -O2 -Wall -Wextra -o "$work/bdtool" "$work/bdtool.c" -lrabbitmq
bdtool=$work/bdtool

eval "$(RMQTOPO_BROKER_PLUGINS="rabbitmq_shovel rabbitmq_shovel_management" \
  scripts/broker.sh start --name benchdlq --base-port 38672)"
export RMQTOPO_API_URL RMQTOPO_AMQP_URL
amqp_hostport=${RMQTOPO_AMQP_URL#amqp://}
amqp_hostport=${amqp_hostport%%/*}
amqp_hostport=${amqp_hostport%%,*}

api() { # METHOD PATH [BODY]: prints the HTTP status; the answer is in $work/api.out
  curl -sS --max-time 600 -o "$work/api.out" -w '%{http_code}' -u guest:guest -X "$1" \
    -H 'content-type: application/json' ${3:+--data "$3"} "$RMQTOPO_API_URL$2"
}
api_ok() { # METHOD PATH [BODY]: fails unless 2xx
  local code
  code=$(api "$@")
  [[ $code == 2?? ]] || { echo "$1 $2 answered HTTP $code: $(head -c 300 "$work/api.out")" >&2; return 1; }
}
uri() { jq -rn --arg s "$1" '$s | @uri'; }
now() { date +%s.%N; }
fail() { echo "FAILED: $*" >&2; exit 1; }

# A broker of that name that was already running (KEEP_BROKER=1) may lack the plugin.
code=$(api GET /api/shovels)
[[ $code == 200 ]] || fail "the broker has no shovel plugin (GET /api/shovels answered $code);" \
  "stop it first: scripts/broker.sh stop --name benchdlq"

fresh_vhost() { # VHOST
  local v code
  v=$(uri "$1")
  code=$(api DELETE "/api/vhosts/$v")
  [[ $code == 2?? || $code == 404 ]] || fail "DELETE /api/vhosts/$1 answered HTTP $code"
  api_ok PUT "/api/vhosts/$v"
  api_ok PUT "/api/permissions/$v/guest" '{"configure":".*","write":".*","read":".*"}'
  for _ in $(seq 100); do
    [[ $(api GET "/api/vhosts/$v") == 2?? ]] && jq -e \
      '.cluster_state | length > 0 and all(. == "running")' "$work/api.out" >/dev/null && return 0
    sleep 0.1
  done
  fail "vhost $1 is not running"
}

# prepare VHOST TYPE N PREFIX: src and dst deleted and declared again, src filled with N messages.
prepare() {
  local v q code secs counts
  v=$(uri "$1")
  for q in src dst; do
    code=$(api DELETE "/api/queues/$v/$q")
    [[ $code == 2?? || $code == 404 ]] || fail "DELETE queue $q answered HTTP $code"
    api_ok PUT "/api/queues/$v/$q" "{\"durable\":true,\"arguments\":{\"x-queue-type\":\"$2\"}}"
  done
  secs=$("$bdtool" fill "$1" src "$3" "$size" "$4")
  fill_rates+=("$(awk -v n="$3" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')")
  counts=$("$bdtool" count "$1" src dst | tr '\n' ' ')
  [ "$counts" = "$3 0 " ] || fail "after the fill, src and dst hold $counts(expected $3 0)"
  sleep "$settle"
}

# check_moved VHOST N: src holds 0 and dst N; else sets moved_error and returns 1.
check_moved() {
  local counts
  counts=$("$bdtool" count "$1" src dst | tr '\n' ' ') || counts="(no count) "
  moved_error="after the move, src and dst hold $counts(expected 0 $2)"
  [ "$counts" = "0 $2 " ]
}

# measure_shovel VHOST N NAME: sets shovel_rate and prints the run's line.
measure_shovel() {
  local vhost=$1 n=$2 name=$3 v vuri body out t0 tmiss thit polls code lo hi t elapsed i
  v=$(uri "$vhost")
  vuri="amqp://guest:guest@$amqp_hostport/$v"
  body=$(jq -nc --arg u "$vuri" '{value: {"src-protocol": "amqp091", "src-uri": $u,
    "src-queue": "src", "src-delete-after": "queue-length", "dest-protocol": "amqp091",
    "dest-uri": $u, "dest-queue": "dst", "ack-mode": "on-confirm"}}')
  printf '%s' "$body" >"$work/shovel.json"
  out=$("$bdtool" waitmove "$vhost" src dst "$n" "$poll_ms" $((120 + n / 500)) \
    curl -sS --fail-with-body -o "$work/put.out" -u guest:guest -X PUT \
    -H 'content-type: application/json' --data-binary "@$work/shovel.json" \
    "$RMQTOPO_API_URL/api/parameters/shovel/$v/$(uri "$name")") ||
    fail "shovel: $(head -c 300 "$work/put.out" 2>/dev/null)"
  read -r t0 tmiss thit polls <<<"$out"
  # Counts done; now wait for the shovel to delete its parameter.
  lo=$tmiss hi=$thit
  for ((i = 0; ; i++)); do
    t=$(now)
    code=$(api GET "/api/parameters/shovel/$v/$(uri "$name")")
    if [ "$code" = 404 ]; then
      [ $i = 0 ] || hi=$(now)
      break
    fi
    [ "$code" = 200 ] || fail "GET the shovel's parameter answered HTTP $code"
    lo=$t
    [ $i -lt $((600000 / poll_ms)) ] || fail "the shovel did not delete itself"
    sleep "$(awk -v m="$poll_ms" 'BEGIN { print m / 1000 }')"
  done
  check_moved "$vhost" "$n" || fail "shovel: $moved_error"
  elapsed=$(awk -v a="$lo" -v b="$hi" -v t0="$t0" 'BEGIN { printf "%.3f", (a + b) / 2 - t0 }')
  shovel_rate=$(awk -v n="$n" -v e="$elapsed" 'BEGIN { printf "%.0f", n / e }')
  awk -v n="$n" -v e="$elapsed" -v a="$lo" -v b="$hi" -v r="$shovel_rate" -v p="$polls" \
    -v c="$thit" -v t0="$t0" 'BEGIN {
    printf "  shovel: %d messages in %.3f s +- %.3f = %s msg/s (counts final at %.3f s, %d polls)\n",
      n, e, (b - a) / 2, r, c - t0, p }'
}

# measure_replay VHOST N: sets replay_rate and replay_rss (KiB), prints the run's line;
# on a failure sets replay_error and returns 1.
measure_replay() {
  local vhost=$1 n=$2 t0 t1 rc=0 moved pid hwm
  t0=$(now)
  if [ -n "$gnu_time" ]; then
    "$gnu_time" -f %M -o "$work/rss" "$rmqtopo" dlq replay src --vhost "$vhost" --to-queue dst \
      --output json >"$work/replay.out" 2>"$work/replay.err" || rc=$?
    t1=$(now)
    replay_rss=$(tail -1 "$work/rss")
  else # peak RSS from /proc: VmHWM sampled until the process exits
    "$rmqtopo" dlq replay src --vhost "$vhost" --to-queue dst --output json \
      >"$work/replay.out" 2>"$work/replay.err" &
    pid=$!
    replay_rss=0
    while hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null) && [ -n "$hwm" ]; do
      [ "$hwm" -le "$replay_rss" ] || replay_rss=$hwm
      sleep 0.01
    done
    wait "$pid" || rc=$?
    t1=$(now)
  fi
  replay_error="exit status $rc, after $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }') s;"
  replay_error+=" stdout: $(jq -c . "$work/replay.out" 2>/dev/null || head -c 800 "$work/replay.out");"
  replay_error+=" stderr: $(tail -c 600 "$work/replay.err" | tr '\n' ' ')"
  [ "$rc" = 0 ] || return 1
  moved=$(jq -r '.moved' "$work/replay.out" 2>/dev/null) || return 1
  [ "$moved" = "$n" ] || { replay_error="says moved $moved, not $n; $replay_error"; return 1; }
  check_moved "$vhost" "$n" || { replay_error="$moved_error; $replay_error"; return 1; }
  replay_rate=$(awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
  awk -v n="$n" -v a="$t0" -v b="$t1" -v r="$replay_rate" -v k="$replay_rss" 'BEGIN {
    printf "  replay: %d messages in %.3f s = %s msg/s, peak RSS %.1f MiB\n", n, b - a, r, k / 1024 }'
}

# measure_tool VHOST N FIELD LABEL ARGS...: runs rmqtopo ARGS --output json, timed, under GNU
# time when there is one; its JSON must say FIELD = N. Sets tool_rate and tool_rss (KiB) and
# prints the run's line; on a failure sets tool_error and returns 1.
measure_tool() {
  local vhost=$1 n=$2 field=$3 label=$4 t0 t1 rc=0 got
  shift 4
  t0=$(now)
  if [ -n "$gnu_time" ]; then
    "$gnu_time" -f %M -o "$work/rss" "$rmqtopo" "$@" --output json >"$work/tool.out" \
      2>"$work/tool.err" || rc=$?
    tool_rss=$(tail -1 "$work/rss")
  else
    "$rmqtopo" "$@" --output json >"$work/tool.out" 2>"$work/tool.err" || rc=$?
    tool_rss=0
  fi
  t1=$(now)
  tool_error="exit status $rc; stdout: $(jq -c . "$work/tool.out" 2>/dev/null ||
    head -c 800 "$work/tool.out"); stderr: $(tail -c 600 "$work/tool.err" | tr '\n' ' ')"
  [ "$rc" = 0 ] || return 1
  got=$(jq -r ".$field" "$work/tool.out" 2>/dev/null) || return 1
  [ "$got" = "$n" ] || { tool_error="says $field $got, not $n; $tool_error"; return 1; }
  tool_rate=$(awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
  awk -v l="$label" -v n="$n" -v a="$t0" -v b="$t1" -v r="$tool_rate" -v k="$tool_rss" 'BEGIN {
    printf "  %s: %d messages in %.3f s = %s msg/s, peak RSS %.1f MiB\n", l, n, b - a, r, k / 1024 }'
}

# measure_archive VHOST N: archive src into a file, then restore it into an empty dst.
measure_archive() {
  local vhost=$1 n=$2 v counts
  v=$(uri "$vhost")
  rm -f "$work/archive.jsonl"
  measure_tool "$vhost" "$n" archived archive dlq archive src --vhost "$vhost" \
    --file "$work/archive.jsonl" || return 1
  archive_rate=$tool_rate archive_rss=$tool_rss
  counts=$("$bdtool" count "$vhost" src | tr '\n' ' ')
  [ "$counts" = "0 " ] || { tool_error="after the archive src holds $counts"; return 1; }
  api_ok DELETE "/api/queues/$v/dst"
  api_ok PUT "/api/queues/$v/dst" "{\"durable\":true,\"arguments\":{\"x-queue-type\":\"$type\"}}"
  measure_tool "$vhost" "$n" published restore dlq restore "$work/archive.jsonl" --to-queue dst \
    --vhost "$vhost" || return 1
  restore_rate=$tool_rate restore_rss=$tool_rss
  check_moved "$vhost" "$n" || { tool_error="after the restore: $moved_error"; return 1; }
}

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
  print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
max() { printf '%s\n' "$@" | sort -g | tail -1; }

echo "broker: RabbitMQ $(api GET /api/overview >/dev/null; jq -r .rabbitmq_version "$work/api.out")," \
  "$RMQTOPO_AMQP_URL; $messages persistent messages of $size bytes per move, $runs runs per type"
if [ "$mode" = archive ]; then
  echo "MODE=archive: dlq archive (into a file in $work) and dlq restore (of that file) against replay"
else
  echo "shovel: dynamic, amqp091 both sides, ack-mode on-confirm, src-delete-after queue-length," \
    "src-prefetch-count default (1000); completion polled every $poll_ms ms"
fi
echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) (other work on it skews both sides)"
[ "$skip_replay" = 1 ] && echo "SKIP_REPLAY=1: the shovel only"
[ "$skip_replay" = 1 ] || [ -n "$gnu_time" ] ||
  echo "no GNU time: peak RSS is VmHWM sampled every 10 ms from /proc"

summary=()
failed=0
for type in $types; do
  shovel_rates=() replay_rates=() replay_rsss=() fill_rates=() replay_failures=()
  archive_rates=() restore_rates=() archive_rsss=() restore_rsss=()
  for ((r = 1; r <= runs; r++)); do
    vhost="benchdlq-$type-$r"
    fresh_vhost "$vhost"
    other=shovel
    [ "$mode" = shovel ] || other=archive
    order="$other replay"
    [ $((r % 2)) = 1 ] || order="replay $other"
    echo "$type, run $r/$runs (vhost $vhost, $order)"
    for what in $order; do
      [ "$what" = replay ] && [ "$skip_replay" = 1 ] && continue
      prepare "$vhost" "$type" "$messages" "$what$r"
      echo "  fill: ${fill_rates[-1]} msg/s (untimed)"
      if [ "$what" = shovel ]; then
        measure_shovel "$vhost" "$messages" "move-$r"
        shovel_rates+=("$shovel_rate")
      elif [ "$what" = archive ]; then
        if measure_archive "$vhost" "$messages"; then
          archive_rates+=("$archive_rate") restore_rates+=("$restore_rate")
          archive_rsss+=("$archive_rss") restore_rsss+=("$restore_rss")
        else
          echo "  archive/restore: FAILED: $tool_error"
          failed=1
        fi
      else
        if measure_replay "$vhost" "$messages"; then
          replay_rates+=("$replay_rate") replay_rsss+=("$replay_rss")
        else
          echo "  replay: FAILED: $replay_error"
          replay_failures+=("run $r")
        fi
      fi
    done
    api_ok DELETE "/api/vhosts/$(uri "$vhost")"
  done
  line=$(printf '%s: filler median %.0f msg/s (untimed; bdtool, confirms, window 4000)\n' \
    "$type" "$(median "${fill_rates[@]}")")
  if [ "$mode" = archive ]; then
    small=$((messages / 10))
    [ "$small" -ge 1 ] || small=1
    vhost="benchdlq-$type-small"
    fresh_vhost "$vhost"
    echo "$type, memory check: one archive and restore of $small messages"
    prepare "$vhost" "$type" "$small" small
    small_a="" small_b=""
    if measure_archive "$vhost" "$small"; then
      small_a=$archive_rss small_b=$restore_rss
    else
      echo "  archive/restore: FAILED: $tool_error"
      failed=1
    fi
    api_ok DELETE "/api/vhosts/$(uri "$vhost")"
    r_med=$(median "${replay_rates[@]}")
    if [ ${#archive_rates[@]} = 0 ] || [ ${#replay_rates[@]} = 0 ]; then
      line+=$'\n'"$type: no successful archive/restore or replay run, nothing to compare"
    else
      line+=$'\n'$(awk -v t="$type" -v r="$r_med" -v a="$(median "${archive_rates[@]}")" \
        -v b="$(median "${restore_rates[@]}")" -v ra="${replay_rates[*]}" -v aa="${archive_rates[*]}" \
        -v bb="${restore_rates[*]}" -v ka="$(max "${archive_rsss[@]}")" \
        -v kb="$(max "${restore_rsss[@]}")" -v kr="$(max "${replay_rsss[@]}")" 'BEGIN {
        printf "%s: replay median %.0f msg/s (runs: %s), peak RSS max %.1f MiB\n", t, r, ra, kr / 1024
        printf "%s: archive median %.0f msg/s (runs: %s), peak RSS max %.1f MiB\n", t, a, aa, ka / 1024
        printf "%s: restore median %.0f msg/s (runs: %s), peak RSS max %.1f MiB\n", t, b, bb, kb / 1024
        printf "%s: ratio archive/replay %.2fx, restore/replay %.2fx (target >= 0.9x: %s)\n", t, a / r,
          b / r, (a / r >= 0.9 && b / r >= 0.9 ? "met" : "MISSED") }')
      line+=$'\n'$(awk -v t="$type" -v ka="$(max "${archive_rsss[@]}")" -v kb="$(max "${restore_rsss[@]}")" \
        -v sa="$small_a" -v sb="$small_b" -v n="$messages" -v sn="$small" 'BEGIN {
        if (sa == "") { printf "%s: peak RSS at %d messages not measured", t, sn; exit }
        ta = sa / 10 > 1024 ? sa / 10 : 1024; tb = sb / 10 > 1024 ? sb / 10 : 1024
        printf "%s: peak RSS at %d / %d messages: archive %.1f / %.1f MiB, restore %.1f / %.1f MiB: %s", t,
          n, sn, ka / 1024, sa / 1024, kb / 1024, sb / 1024,
          (ka - sa <= ta && kb - sb <= tb ? "flat (within max(1 MiB, 10%))" : "GROWS with the queue") }')
    fi
    summary+=("$line")
    continue
  fi
  s_med=$(median "${shovel_rates[@]}")
  line+=$'\n'$(printf '%s: shovel median %.0f msg/s (runs: %s)' "$type" "$s_med" "${shovel_rates[*]}")
  if [ "$skip_replay" = 0 ]; then
    small=$((messages / 10))
    [ "$small" -ge 1 ] || small=1
    vhost="benchdlq-$type-small"
    fresh_vhost "$vhost"
    echo "$type, memory check: one replay of $small messages"
    prepare "$vhost" "$type" "$small" small
    small_rss=""
    if measure_replay "$vhost" "$small"; then
      small_rss=$replay_rss
    else
      echo "  replay: FAILED: $replay_error"
      replay_failures+=("the memory check")
    fi
    api_ok DELETE "/api/vhosts/$(uri "$vhost")"
    [ ${#replay_failures[@]} = 0 ] || {
      runs_failed=$(printf '%s, ' "${replay_failures[@]}")
      line+=$'\n'"$type: replay FAILED in ${runs_failed%, }"
      line+=" (see above; the figures below are of the successful runs only)"
      failed=1
    }
  fi
  if [ "$skip_replay" = 0 ] && [ ${#replay_rates[@]} = 0 ]; then
    line+=$'\n'"$type: replay: no successful run, nothing to compare"
  elif [ "$skip_replay" = 0 ]; then
    line+=$'\n'$(awk -v t="$type" -v s="$s_med" -v r="$(median "${replay_rates[@]}")" \
      -v runs="${replay_rates[*]}" -v km="$(median "${replay_rsss[@]}")" \
      -v kx="$(max "${replay_rsss[@]}")" -v ks="$small_rss" -v n="$messages" -v sn="$small" \
      -v nr="${#replay_rates[@]}" 'BEGIN {
      printf "%s: replay median %.0f msg/s (%d successful runs: %s)\n", t, r, nr, runs
      printf "%s: ratio replay/shovel %.2fx (target >= 1.0x: %s)\n", t, r / s, (r / s >= 1.0 ? "met" : "MISSED")
      printf "%s: replay peak RSS median %.1f MiB, max %.1f MiB (target < 16 MiB: %s)\n", t,
        km / 1024, kx / 1024, (kx < 16384 ? "met" : "MISSED")
      tol = ks / 10 > 1024 ? ks / 10 : 1024
      if (ks == "")
        printf "%s: replay peak RSS at %d messages %.1f MiB (median); at %d messages: not measured\n", t, n, km / 1024, sn
      else
        printf "%s: replay peak RSS at %d messages %.1f MiB (median), at %d messages %.1f MiB: %s\n", t,
          n, km / 1024, sn, ks / 1024, (km - ks <= tol ? "flat (within max(1 MiB, 10%))" : "GROWS with the queue")
    }')
  fi
  summary+=("$line")
done

echo
echo "== summary: $messages persistent messages of $size bytes, medians of $runs runs =="
printf '%s\n' "${summary[@]}"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$failed" = 0 ]
