#!/usr/bin/env bash
# scripts/broker.sh - private RabbitMQ nodes for rmqtopo's tests and benchmarks.
#
#   scripts/broker.sh start  [--nodes N] [--name NAME] [--base-port P]
#   scripts/broker.sh status [--name NAME]
#   scripts/broker.sh stop   [--name NAME] [--kill]
#
# The nodes never touch the machine's own broker: each has its own ports,
# Erlang node name, cookie (a private HOME), data, logs and config, all under
#   ${RMQTOPO_BROKER_DIR:-<repo>/.broker}/NAME
# Ports: node i (0-based) uses AMQP P+i, management HTTP P+10000+i and Erlang
# distribution P+20000+i; P defaults to 35672. Node names: NAME<i>@localhost.
#
# `start` (idempotent) and `status` print, on stdout only, `export KEY=VALUE` lines to
# eval or source
# (also written to <state dir>/env):
#   RMQTOPO_AMQP_URL=amqp://localhost:35672         node 0
#   RMQTOPO_API_URL=http://localhost:45672          node 0 (user guest:guest)
#   RMQTOPO_AMQP_URLS=amqp://localhost:35672,...    every node, comma separated
#   RMQTOPO_API_URLS=http://localhost:45672,...
#   BROKER_NODES='rmqtopo0@localhost rmqtopo1@localhost ...'
#   BROKER_DIR=<state dir>
#   BROKER_CTL=<state dir>/rabbitmqctl              rabbitmqctl aimed at node 0
# e.g.  eval "$(scripts/broker.sh start)"   or   set -a; . "$BROKER_DIR/env"; set +a
# Everything else goes to stderr. `stop` stops every node of NAME (rabbitmqctl
# stop, SIGTERM/SIGKILL if that hangs; --kill: SIGKILL at once, ~5 s faster)
# and wipes its data; stopping when nothing runs succeeds. `status` exits 1
# unless every node runs and answers. Extra node config: drop *.conf files in
# <state dir>/node<i>/conf.d/ (kept across stop/start).
#
# Tunables (environment): RMQTOPO_BROKER_STATS_MS (the statistics interval, default 1000),
# RMQTOPO_BROKER_PLUGINS (extra plugins, space separated,
# e.g. "rabbitmq_shovel rabbitmq_shovel_management"), RMQTOPO_BROKER_DIR, RMQTOPO_BROKER_BOOT_TIMEOUT (s,
# default 120), RMQTOPO_BROKER_API_TIMEOUT (s, default 60),
# RMQTOPO_RABBITMQ_BIN (default /usr/lib/rabbitmq/bin).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
# Not /usr/sbin/rabbitmqctl: that Debian wrapper switches to the rabbitmq user.
RMQ_BIN=${RMQTOPO_RABBITMQ_BIN:-/usr/lib/rabbitmq/bin}
BOOT_TIMEOUT=${RMQTOPO_BROKER_BOOT_TIMEOUT:-120}
API_TIMEOUT=${RMQTOPO_BROKER_API_TIMEOUT:-60}
STOP_TIMEOUT=30
MAX_NODES=10
# rabbitmqctl is itself an Erlang node and listens on a port from a range that
# by default is 35672-35682, i.e. our default AMQP ports. Give our CLI calls a
# range of their own, above Linux's ephemeral ports (32768-60999), so a CLI call
# can never hold a port a node is about to bind. All our ports stay below it.
CTL_PORT_MIN=61672
CTL_PORT_MAX=61771
PORT_LIMIT=60999

PROG=broker.sh
log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
    cat >&2 <<'EOF'
usage: scripts/broker.sh start|stop|status [--nodes N] [--name NAME] [--base-port P]
  start   start NAME's node(s) (default 1) unless already running, wait until
          ready, print KEY=VALUE lines (RMQTOPO_AMQP_URL, RMQTOPO_API_URL,
          RMQTOPO_AMQP_URLS, RMQTOPO_API_URLS, BROKER_NODES, BROKER_DIR, BROKER_CTL)
  status  exit 0 and print the same lines if every node of NAME runs and answers
  stop    stop every node of NAME and wipe its data (exit 0 if none runs);
          --kill: SIGKILL instead of a graceful stop (about 5 s faster)
  --name NAME       default rmqtopo; nodes are NAME0@localhost, NAME1@localhost, ...
  --nodes N         cluster size for start, 1..10 (default 1)
  --base-port P     AMQP port of node 0 (default 35672); management P+10000, dist P+20000;
                    'auto': a base whose ports are all free now, chosen at random from
                    20000-24999 (the env lines say which)
State: ${RMQTOPO_BROKER_DIR:-<repo>/.broker}/NAME
EOF
}

# ---------------------------------------------------------------- arguments

[ $# -ge 1 ] || { usage; exit 2; }
CMD=$1
shift
case $CMD in
    start|stop|status) ;;
    -h|--help|help) usage; exit 0 ;;
    *) usage; exit 2 ;;
esac

NAME=rmqtopo
NODES=1
BASE=35672
NODES_GIVEN=0
BASE_GIVEN=0
BASE_AUTO=0
HARD_STOP=0
while [ $# -gt 0 ]; do
    opt=$1
    case $opt in
        --*=*) val=${opt#*=}; opt=${opt%%=*}; shift ;;
        --nodes|--name|--base-port)
            [ $# -ge 2 ] || die "$opt needs a value"
            val=$2; shift 2 ;;
        --kill) HARD_STOP=1; shift; continue ;;
        -h|--help) usage; exit 0 ;;
        *) usage; die "unknown argument: $opt" ;;
    esac
    case $opt in
        --nodes) NODES=$val; NODES_GIVEN=1 ;;
        --name) NAME=$val ;;
        --base-port)
            if [ "$val" = auto ]; then BASE_AUTO=1; else BASE=$val; BASE_GIVEN=1; fi ;;
        *) usage; die "unknown option: $opt" ;;
    esac
done

[[ $NAME =~ ^[A-Za-z][A-Za-z0-9_-]{0,40}$ ]] ||
    die "--name must be a letter then letters, digits, _ or - (got '$NAME')"
if ! [[ $NODES =~ ^[0-9]{1,3}$ ]] || [ "$NODES" -lt 1 ] || [ "$NODES" -gt $MAX_NODES ]; then
    die "--nodes must be 1..$MAX_NODES (got '$NODES')"
fi
if ! [[ $BASE =~ ^[0-9]{1,5}$ ]] || [ "$BASE" -lt 1024 ] ||
    [ $((BASE + 20000 + MAX_NODES)) -gt $PORT_LIMIT ]; then
    die "--base-port must be 1024..$((PORT_LIMIT - 20000 - MAX_NODES)) (got '$BASE')"
fi
NODES=$((10#$NODES))
BASE=$((10#$BASE))

BROKER_ROOT=${RMQTOPO_BROKER_DIR:-$REPO_ROOT/.broker}
case $BROKER_ROOT in /*) ;; *) BROKER_ROOT=$PWD/$BROKER_ROOT ;; esac
STATE=$BROKER_ROOT/$NAME
CTL_WRAPPER=$STATE/rabbitmqctl
MARKER="RMQTOPO_BROKER_STATE=$STATE"

# ------------------------------------------------------------------ helpers

node_name() { printf '%s%s@localhost' "$NAME" "$1"; }
node_dir() { printf '%s/node%s' "$STATE" "$1"; }
amqp_port() { echo $((BASE + $1)); }
api_port() { echo $((BASE + 10000 + $1)); }
dist_port() { echo $((BASE + 20000 + $1)); }

# Shell-quote a value for KEY=VALUE lines (POSIX sh and bash both read it).
shq() {
    if [[ $1 =~ ^[A-Za-z0-9_@%+=:,./-]+$ ]]; then
        printf '%s' "$1"
    else
        printf "'%s'" "${1//\'/\'\\\'\'}"
    fi
}

# Drop RabbitMQ settings inherited from the caller; they must not leak in.
clean_env() {
    local v
    for v in $(compgen -e); do
        case $v in RABBITMQ_*|NOTIFY_SOCKET) unset "$v" ;; esac
    done
}

# Environment shared by the nodes and our rabbitmqctl calls (call in a subshell).
common_env() {
    clean_env
    export HOME="$STATE/home"
    export RABBITMQ_CONF_ENV_FILE="$STATE/rabbitmq-env.conf"
    export RABBITMQ_CTL_DIST_PORT_MIN=$CTL_PORT_MIN
    export RABBITMQ_CTL_DIST_PORT_MAX=$CTL_PORT_MAX
    # A crashing CLI VM would drop erl_crash.dump in the caller's directory.
    export ERL_CRASH_DUMP="$STATE/erl_crash.dump"
}

# rabbitmqctl against node $1; ctl_exec replaces the current (sub)shell.
ctl_exec() {
    local i=$1
    shift
    common_env
    exec "$RMQ_BIN/rabbitmqctl" -n "$(node_name "$i")" "$@" </dev/null
}
ctl() { (ctl_exec "$@"); }

# Process $1 exists and is not a zombie (PID 1 of a container may not reap).
pid_alive() {
    local st
    [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null || return 1
    read -r st 2>/dev/null <"/proc/$1/stat" || return 1
    st=${st##*) }
    [ "${st%% *}" != Z ]
}

read_pid() {
    local f
    f="$(node_dir "$1")/pid"
    [ -s "$f" ] || return 1
    local p
    p=$(tr -dc '0-9' <"$f")
    [ -n "$p" ] || return 1
    printf '%s' "$p"
}

# Does process $1 carry our marker in its environment?
is_ours() {
    local kv
    [ -r "/proc/$1/environ" ] || return 1
    while IFS= read -r -d '' kv; do
        [ "$kv" = "$MARKER" ] && return 0
    done 2>/dev/null <"/proc/$1/environ"
    return 1
}

# PIDs of every process of this NAME's nodes (launcher shell, beam.smp, its
# helpers), except epmd, which is machine-wide and shared with other nodes.
our_pids() {
    local d p comm
    for d in /proc/[0-9]*; do
        p=${d#/proc/}
        [ "$p" = "$$" ] && continue
        [ "$p" = "$BASHPID" ] && continue
        is_ours "$p" || continue
        read -r comm 2>/dev/null <"$d/comm" || continue
        [ "$comm" = epmd ] && continue
        printf '%s\n' "$p"
    done
}

port_in_use() {
    if command -v ss >/dev/null 2>&1; then
        [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
    else
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
    fi
}

api_get() { # port path
    curl -fsS --max-time 5 -u guest:guest "http://localhost:$1$2" 2>/dev/null
}

# The management API of node $1 answers and is that node.
api_ok() {
    local out
    out=$(api_get "$(api_port "$1")" /api/overview) || return 1
    [[ $out == *"\"node\":\"$(node_name "$1")\""* ]]
}

amqp_ok() { (exec 3<>"/dev/tcp/127.0.0.1/$(amqp_port "$1")") 2>/dev/null; }

# Node 0's /api/nodes reports all $NODES nodes as running.
api_cluster_ok() {
    local out i
    out=$(api_get "$(api_port 0)" '/api/nodes?columns=name,running') || return 1
    out=${out// /}
    for ((i = 0; i < NODES; i++)); do
        [[ $out == *"\"name\":\"$(node_name "$i")\",\"running\":true"* ||
            $out == *"\"running\":true,\"name\":\"$(node_name "$i")\""* ]] || return 1
    done
}

load_config() {
    [ -f "$STATE/config" ] || return 1
    local k v
    while IFS='=' read -r k v; do
        case $k in
            nodes) [[ $v =~ ^[0-9]+$ ]] && RUN_NODES=$v ;;
            base_port) [[ $v =~ ^[0-9]+$ ]] && RUN_BASE=$v ;;
        esac
    done <"$STATE/config"
    [ -n "${RUN_NODES:-}" ] && [ -n "${RUN_BASE:-}" ]
}

# All $NODES nodes run (pid alive, ours) and answer (AMQP port, API).
healthy() {
    local i p
    for ((i = 0; i < NODES; i++)); do
        p=$(read_pid "$i") || return 1
        pid_alive "$p" || return 1
        is_ours "$p" || return 1
        amqp_ok "$i" || return 1
        api_ok "$i" || return 1
    done
    if [ "$NODES" -gt 1 ]; then api_cluster_ok || return 1; fi
}

env_lines() {
    local i nodes="" amqps="" apis=""
    for ((i = 0; i < NODES; i++)); do
        nodes+="${nodes:+ }$(node_name "$i")"
        amqps+="${amqps:+,}amqp://localhost:$(amqp_port "$i")"
        apis+="${apis:+,}http://localhost:$(api_port "$i")"
    done
    printf 'export RMQTOPO_AMQP_URL=%s\n' "$(shq "amqp://localhost:$(amqp_port 0)")"
    printf 'export RMQTOPO_API_URL=%s\n' "$(shq "http://localhost:$(api_port 0)")"
    printf 'export RMQTOPO_AMQP_URLS=%s\n' "$(shq "$amqps")"
    printf 'export RMQTOPO_API_URLS=%s\n' "$(shq "$apis")"
    printf 'export BROKER_NODES=%s\n' "$(shq "$nodes")"
    printf 'export BROKER_DIR=%s\n' "$(shq "$STATE")"
    printf 'export BROKER_CTL=%s\n' "$(shq "$CTL_WRAPPER")"
}

show_log_tail() {
    local i=$1 nd f
    nd=$(node_dir "$i")
    for f in "$nd/log/startup.log" "$nd/log/$(node_name "$i").log"; do
        [ -s "$f" ] || continue
        if grep -qE '\[(error|critical)\]|BOOT FAILED' "$f"; then
            printf '%s: ---- first errors in %s ----\n' "$PROG" "$f" >&2
            grep -m 12 -E '\[(error|critical)\]|BOOT FAILED' "$f" >&2 || true
        fi
        printf '%s: ---- last lines of %s ----\n' "$PROG" "$f" >&2
        tail -n 25 "$f" >&2 || true
    done
}

# Serialise start/stop of one NAME (parallel test jobs may all call start).
take_lock() {
    command -v flock >/dev/null 2>&1 || return 0
    mkdir -p "$STATE"
    check_owner
    exec {LOCK_FD}>>"$STATE/lock"
    if ! flock -n "$LOCK_FD"; then
        log "waiting for another broker.sh start/stop of '$NAME'..."
        flock -w 600 "$LOCK_FD" || die "timed out waiting for the lock on $STATE/lock"
    fi
}

check_owner() {
    [ -d "$STATE" ] || return 0
    [ -O "$STATE" ] ||
        die "$STATE belongs to another user; remove it or set RMQTOPO_BROKER_DIR"
}

# ------------------------------------------------------------------- stop

wait_gone() { # seconds pid...
    local deadline=$((SECONDS + $1)) p left
    shift
    while :; do
        left=0
        for p in "$@"; do pid_alive "$p" && left=1; done
        [ $left = 0 ] && return 0
        [ $SECONDS -ge $deadline ] && return 1
        sleep 0.2
    done
}

# Stop every node of NAME. $1=1: skip the graceful rabbitmqctl stop and SIGKILL
# (the data is wiped anyway); RabbitMQ 3.10's graceful stop takes 5 s or more.
do_stop() {
    local hard=${1:-0}
    [ -d "$STATE" ] || return 0
    check_owner
    local nd i p pids=() ctl_jobs=() stopped=()
    for nd in "$STATE"/node*; do
        [ -d "$nd" ] || continue
        i=${nd##*/node}
        [[ $i =~ ^[0-9]+$ ]] || continue
        p=$(read_pid "$i") || continue
        if pid_alive "$p" && is_ours "$p"; then
            pids+=("$p")
            stopped+=("$(node_name "$i")")
            if [ "$hard" = 0 ]; then
                # rabbitmqctl stop waits for the pid to exit; nodes stop in parallel.
                (ctl_exec "$i" stop "$(node_dir "$i")/pid") >/dev/null 2>&1 &
                ctl_jobs+=($!)
            fi
        fi
    done
    if [ ${#pids[@]} -gt 0 ]; then
        if [ "$hard" = 1 ]; then
            log "killing ${stopped[*]}"
            kill -KILL "${pids[@]}" 2>/dev/null || true
            wait_gone 10 "${pids[@]}" || true
        else
            log "stopping ${stopped[*]}"
            if ! wait_gone "$STOP_TIMEOUT" "${pids[@]}"; then
                log "node(s) still alive ${STOP_TIMEOUT}s after rabbitmqctl stop, sending SIGTERM"
                kill -TERM "${pids[@]}" 2>/dev/null || true
                wait_gone 10 "${pids[@]}" || kill -KILL "${pids[@]}" 2>/dev/null || true
            fi
            kill -KILL "${ctl_jobs[@]}" 2>/dev/null || true
            wait "${ctl_jobs[@]}" 2>/dev/null || true
        fi
    fi
    # Anything else of ours (a node without a pid file, helpers, launchers);
    # the launcher shell and the VM's helpers exit on their own right after it.
    local rest deadline=$((SECONDS + 3))
    while :; do
        mapfile -t rest < <(our_pids)
        if [ ${#rest[@]} -eq 0 ] || [ $SECONDS -ge $deadline ]; then break; fi
        sleep 0.2
    done
    if [ ${#rest[@]} -gt 0 ]; then
        log "killing leftover processes: ${rest[*]}"
        kill -TERM "${rest[@]}" 2>/dev/null || true
        if ! wait_gone 5 "${rest[@]}"; then
            kill -KILL "${rest[@]}" 2>/dev/null || true
            wait_gone 5 "${rest[@]}" || true
        fi
    fi
    mapfile -t rest < <(our_pids)
    [ ${#rest[@]} -eq 0 ] || die "could not stop processes ${rest[*]}"
    for nd in "$STATE"/node*; do
        [ -d "$nd" ] || continue
        rm -rf "$nd/mnesia" "$nd/pid"
    done
    rm -f "$STATE/env" "$STATE/config"
    [ ${#stopped[@]} -eq 0 ] || log "stopped ${stopped[*]}"
}

# ------------------------------------------------------------------ start

write_node_files() {
    local i=$1 nd
    nd=$(node_dir "$i")
    rm -rf "$nd/mnesia" "$nd/log" "$nd/pid"
    mkdir -p "$nd/mnesia" "$nd/log" "$nd/conf.d"
    cat >"$nd/rabbitmq.conf" <<EOF
# Written by scripts/broker.sh for node $(node_name "$i"); rewritten at each start.
listeners.tcp.default = $(amqp_port "$i")
management.tcp.port = $(api_port "$i")
# statistics every ${RMQTOPO_BROKER_STATS_MS:-1000} ms (RabbitMQ's default is 5000): apply waits for fresh
# statistics before it decides that a queue is empty, and tests need not wait 5 s each time
collect_statistics_interval = ${RMQTOPO_BROKER_STATS_MS:-1000}
EOF
    if [ "$i" -gt 0 ]; then
        cat >>"$nd/rabbitmq.conf" <<EOF
# Join $(node_name 0) at first boot.
cluster_formation.peer_discovery_backend = classic_config
cluster_formation.classic_config.nodes.1 = $(node_name 0)
EOF
    fi
    local plugins=rabbitmq_management p
    for p in ${RMQTOPO_BROKER_PLUGINS:-}; do plugins="$plugins,$p"; done
    echo "[$plugins]." >"$nd/enabled_plugins"
}

write_state_files() {
    mkdir -p "$STATE/home"
    chmod 700 "$STATE/home"
    local cookie="$STATE/home/.erlang.cookie"
    if [ ! -s "$cookie" ]; then
        (umask 077 && od -An -N16 -tx1 /dev/urandom | tr -d ' \n' | tr a-f A-F >"$cookie")
    fi
    chmod 400 "$cookie"
    # Empty on purpose: keeps /etc/rabbitmq/rabbitmq-env.conf out.
    echo '# scripts/broker.sh: intentionally empty' >"$STATE/rabbitmq-env.conf"
    local tmp="$CTL_WRAPPER.tmp"
    {
        echo '#!/usr/bin/env bash'
        echo "# Written by scripts/broker.sh: rabbitmqctl aimed at $(node_name 0)."
        echo "# Pass -n NODE after it to address another node of the cluster."
        # shellcheck disable=SC2016 # written literally into the wrapper
        echo 'for v in $(compgen -e); do case $v in RABBITMQ_*|NOTIFY_SOCKET) unset "$v" ;; esac; done'
        printf 'export HOME=%q\n' "$STATE/home"
        printf 'export RABBITMQ_CONF_ENV_FILE=%q\n' "$STATE/rabbitmq-env.conf"
        printf 'export ERL_CRASH_DUMP=%q\n' "$STATE/erl_crash.dump"
        printf 'export RABBITMQ_CTL_DIST_PORT_MIN=%s RABBITMQ_CTL_DIST_PORT_MAX=%s\n' \
            "$CTL_PORT_MIN" "$CTL_PORT_MAX"
        # the CLI finds the commands of enabled plugins (federation_status, shovel_status) here
        printf 'export RABBITMQ_ENABLED_PLUGINS_FILE=%q\n' "$(node_dir 0)/enabled_plugins"
        printf 'exec %q -n %q "$@"\n' "$RMQ_BIN/rabbitmqctl" "$(node_name 0)"
    } >"$tmp"
    chmod 755 "$tmp"
    mv -f "$tmp" "$CTL_WRAPPER"
}

launch_node() {
    local i=$1 nd
    nd=$(node_dir "$i")
    (
        cd "$nd"
        common_env
        export "${MARKER?}"
        export RABBITMQ_NODENAME
        RABBITMQ_NODENAME=$(node_name "$i")
        export RABBITMQ_NODE_PORT
        RABBITMQ_NODE_PORT=$(amqp_port "$i")
        export RABBITMQ_DIST_PORT
        RABBITMQ_DIST_PORT=$(dist_port "$i")
        export RABBITMQ_MNESIA_BASE="$nd/mnesia"
        export RABBITMQ_LOG_BASE="$nd/log"
        export RABBITMQ_PID_FILE="$nd/pid"
        export RABBITMQ_CONFIG_FILE="$nd/rabbitmq.conf"
        export RABBITMQ_CONFIG_FILES="$nd/conf.d/*.conf"
        export RABBITMQ_ADVANCED_CONFIG_FILE="$nd/advanced.config"
        export RABBITMQ_ENABLED_PLUGINS_FILE="$nd/enabled_plugins"
        export RABBITMQ_PLUGINS_EXPAND_DIR="$nd/mnesia/plugins-expand"
        export ERL_CRASH_DUMP="$nd/log/erl_crash.dump"
        # The node must not hold any of our caller's descriptors open (a caller
        # reading our stdout/stderr through a pipe would wait for it forever).
        local fd
        for fd in /proc/"$BASHPID"/fd/*; do
            fd=${fd##*/}
            if [[ $fd =~ ^[0-9]+$ ]] && [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi
        done 2>/dev/null
        # Not -detached: this way the VM's own early output reaches startup.log.
        # setsid: a Ctrl-C aimed at the caller's terminal does not reach the node.
        exec setsid "$RMQ_BIN/rabbitmq-server" </dev/null >"$nd/log/startup.log" 2>&1
    ) &
    LAUNCHER[i]=$!
}

FAILED_NODE=""
STARTING=0
STDERR_FD=2

on_exit() {
    local rc=$?
    if [ "$STARTING" = 1 ] && [ $rc -ne 0 ]; then
        # A signal trap may fire while a command's 2>/dev/null is in effect.
        exec 2>&"$STDERR_FD"
        local i
        if [ $rc -ge 128 ]; then
            log "interrupted"
        elif [ -n "$FAILED_NODE" ]; then
            show_log_tail "$FAILED_NODE"
        else
            for ((i = 0; i < NODES; i++)); do show_log_tail "$i"; done
        fi
        log "start failed; stopping what was started"
        STARTING=0
        (do_stop 1) || true
    fi
    exit $rc
}

fail_node() { FAILED_NODE=$1; die "$(node_name "$1"): $2"; }

# Wait until node $1's Erlang VM is up (pid file) and the rabbit app started.
wait_booted() {
    local i=$1 deadline=$((SECONDS + BOOT_TIMEOUT)) pidf
    pidf="$(node_dir "$i")/pid"
    while ! [ -s "$pidf" ]; do
        pid_alive "${LAUNCHER[i]}" || fail_node "$i" "exited during startup"
        [ $SECONDS -lt $deadline ] || fail_node "$i" "no pid file after ${BOOT_TIMEOUT}s"
        sleep 0.2
    done
    local left=$((deadline - SECONDS))
    [ $left -ge 5 ] || left=5
    # `wait PIDFILE` = await_startup that also gives up if the OS process dies.
    ctl "$i" wait "$pidf" --timeout "$left" >/dev/null 2>&1 ||
        fail_node "$i" "did not finish booting (rabbitmqctl wait)"
}

wait_api() {
    local i=$1 deadline=$((SECONDS + API_TIMEOUT))
    until api_ok "$i"; do
        [ $SECONDS -lt $deadline ] ||
            fail_node "$i" "management API on port $(api_port "$i") not answering after ${API_TIMEOUT}s"
        local p
        if ! p=$(read_pid "$i") || ! pid_alive "$p"; then fail_node "$i" "node died"; fi
        sleep 0.3
    done
}

running_nodes_json() {
    local out
    out=$(ctl 0 cluster_status --formatter json 2>/dev/null) || return 1
    out=${out#*\"running_nodes\":\[}
    printf '%s' "${out%%\]*}"
}

do_start() {
    command -v curl >/dev/null 2>&1 || die "curl is needed (run scripts/setup.sh)"
    [ -x "$RMQ_BIN/rabbitmq-server" ] ||
        die "$RMQ_BIN/rabbitmq-server not found: install rabbitmq-server (scripts/setup.sh)"
    check_owner

    local RUN_NODES="" RUN_BASE=""
    if load_config; then
        local want_nodes=$NODES want_base=$BASE
        NODES=$RUN_NODES BASE=$RUN_BASE
        if healthy; then
            if { [ "$NODES_GIVEN" = 1 ] && [ "$want_nodes" != "$RUN_NODES" ]; } ||
                { [ "$BASE_GIVEN" = 1 ] && [ "$want_base" != "$RUN_BASE" ]; }; then
                die "'$NAME' already runs with $RUN_NODES node(s) at base port $RUN_BASE" \
                    "(asked: $want_nodes at $want_base); stop it first"
            fi
            log "'$NAME' already running ($NODES node(s), AMQP $(amqp_port 0), API $(api_port 0))"
            env_lines
            return 0
        fi
        NODES=$want_nodes BASE=$want_base
        log "stale state for '$NAME'; cleaning up first"
        do_stop 1
    elif [ -d "$STATE" ] && [ -n "$(our_pids)" ]; then
        log "leftover processes for '$NAME'; cleaning up first"
        do_stop 1
    fi

    # Ports and node names must be free.
    local i p busy=() names
    if [ "$BASE_AUTO" = 1 ]; then
        local try
        for ((try = 0; try < 200; try++)); do
            BASE=$((20000 + RANDOM % 5000))
            busy=()
            for ((i = 0; i < NODES; i++)); do
                for p in "$(amqp_port "$i")" "$(api_port "$i")" "$(dist_port "$i")"; do
                    port_in_use "$p" && busy+=("$p")
                done
            done
            [ ${#busy[@]} -eq 0 ] && break
        done
        busy=()
    fi
    for ((i = 0; i < NODES; i++)); do
        for p in "$(amqp_port "$i")" "$(api_port "$i")" "$(dist_port "$i")"; do
            port_in_use "$p" && busy+=("$p")
        done
    done
    [ ${#busy[@]} -eq 0 ] ||
        die "port(s) ${busy[*]} already in use by another program; pick others with --base-port P (node i uses P+i, P+10000+i, P+20000+i)"
    names=$(epmd -names 2>/dev/null || true)
    for ((i = 0; i < NODES; i++)); do
        if grep -q "^name $NAME$i at port" <<<"$names"; then
            die "an Erlang node named $(node_name "$i") already runs (another checkout or user?); use --name"
        fi
    done

    STARTING=1
    mkdir -p "$STATE"
    write_state_files
    {
        echo "nodes=$NODES"
        echo "base_port=$BASE"
    } >"$STATE/config"

    local t0=$SECONDS
    log "starting $NODES node(s) '$NAME' (AMQP $(amqp_port 0), API $(api_port 0), dist $(dist_port 0)) in $STATE"
    LAUNCHER=()
    # Node 0 first; the others then boot in parallel and join it at boot
    # (classic_config peer discovery, see write_node_files). That is about twice
    # as fast as booting them alone and then stop_app/join_cluster/start_app,
    # which remains the fallback for a node that did not join.
    write_node_files 0
    launch_node 0
    wait_booted 0
    for ((i = 1; i < NODES; i++)); do
        write_node_files "$i"
        launch_node "$i"
    done
    for ((i = 1; i < NODES; i++)); do wait_booted "$i"; done
    log "node(s) booted after $((SECONDS - t0))s"

    if [ "$NODES" -gt 1 ]; then
        local running
        running=$(running_nodes_json) || running=""
        for ((i = 1; i < NODES; i++)); do
            [[ $running == *"\"$(node_name "$i")\""* ]] && continue
            log "joining $(node_name "$i") to $(node_name 0) with join_cluster"
            ctl "$i" stop_app >/dev/null 2>&1 || fail_node "$i" "stop_app failed"
            local out
            out=$(ctl "$i" join_cluster "$(node_name 0)" 2>&1) ||
                { log "$out"; fail_node "$i" "join_cluster failed"; }
            ctl "$i" start_app >/dev/null 2>&1 || fail_node "$i" "start_app failed"
        done
        local deadline=$((SECONDS + 60)) want n
        while :; do
            running=$(running_nodes_json) || running=""
            n=0
            for ((i = 0; i < NODES; i++)); do
                want="\"$(node_name "$i")\""
                [[ $running == *"$want"* ]] && n=$((n + 1))
            done
            [ $n -eq "$NODES" ] && break
            [ $SECONDS -lt $deadline ] ||
                die "cluster_status shows $n of $NODES nodes running: [$running]"
            sleep 0.5
        done
        log "cluster of $NODES nodes formed after $((SECONDS - t0))s"
    fi

    for ((i = 0; i < NODES; i++)); do wait_api "$i"; done
    if [ "$NODES" -gt 1 ]; then
        local deadline=$((SECONDS + API_TIMEOUT))
        until api_cluster_ok; do
            [ $SECONDS -lt $deadline ] || die "/api/nodes does not list $NODES running nodes"
            sleep 0.5
        done
    fi

    env_lines >"$STATE/env.tmp"
    mv -f "$STATE/env.tmp" "$STATE/env"
    STARTING=0
    log "ready after $((SECONDS - t0))s: $(node_name 0) AMQP $(amqp_port 0), API $(api_port 0)"
    env_lines
}

# ----------------------------------------------------------------- status

do_status() {
    local RUN_NODES="" RUN_BASE=""
    check_owner
    if ! load_config; then
        log "'$NAME' is not running (no state in $STATE)"
        return 1
    fi
    if { [ "$NODES_GIVEN" = 1 ] && [ "$NODES" != "$RUN_NODES" ]; } ||
        { [ "$BASE_GIVEN" = 1 ] && [ "$BASE" != "$RUN_BASE" ]; }; then
        log "'$NAME' was started with $RUN_NODES node(s) at base port $RUN_BASE, not as asked"
        return 1
    fi
    NODES=$RUN_NODES
    BASE=$RUN_BASE
    if ! healthy; then
        log "'$NAME' is not running or not answering (state in $STATE)"
        return 1
    fi
    env_lines
}

# -------------------------------------------------------------------- main

case $CMD in
    start)
        exec {STDERR_FD}>&2
        trap on_exit EXIT
        trap 'exit 130' INT
        trap 'exit 143' TERM
        take_lock
        do_start
        ;;
    stop)
        [ -d "$STATE" ] || exit 0
        take_lock
        do_stop "$HARD_STOP"
        ;;
    status) do_status ;;
esac
