# tests/integration/lib.sh - shared by the integration scripts (sourced, not run).
#
# Each script gets the rmqtopo binary as $1 and the private broker's URLs in the environment
# (RMQTOPO_AMQP_URL, RMQTOPO_API_URL, BROKER_CTL: see scripts/broker.sh), uses a vhost of its
# own, deletes it in a trap, prints PASS/FAIL lines and ends with "N passed, N failed".
set -u
BIN=${1:?usage: $0 path/to/rmqtopo}
pass_count=0
fail_count=0

pass() { pass_count=$((pass_count + 1)); echo "PASS $1"; }
fail() { fail_count=$((fail_count + 1)); echo "FAIL $1"; shift; for l in "$@"; do echo "  $l"; done; }

# expect_eq NAME WANT GOT
expect_eq() {
  if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected: $2" "got:      $3"; fi
}

# expect_contains NAME HAYSTACK NEEDLE
expect_contains() {
  case $2 in
    *"$3"*) pass "$1" ;;
    *) fail "$1" "expected to find: $3" "in: $(printf '%s' "$2" | head -c 600)" ;;
  esac
}

# api METHOD PATH [BODY]: the management API as guest (the private node's default user)
api() {
  local method=$1 path=$2 body=${3:-}
  if [ -n "$body" ]; then
    curl -sS -u guest:guest -X "$method" -H 'content-type: application/json' \
      --data "$body" "$RMQTOPO_API_URL/api$path"
  else
    curl -sS -u guest:guest -X "$method" "$RMQTOPO_API_URL/api$path"
  fi
}

# free_port: a TCP port nobody listens on now, at random in 26000-29999 (below Linux's
# ephemeral range, so no client connection is likely to take it before the test binds it)
free_port() {
  local p try
  for try in $(seq 1 200); do
    p=$((26000 + RANDOM % 4000))
    if [ -z "$(ss -Hltn "sport = :$p" 2>/dev/null)" ] &&
      ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

# restore's ledgers (ops/ledger.h) of this script's own: never the user's state directory, and
# never another run's on the same machine
RMQTOPO_STATE_DIR=$(mktemp -d "${TMPDIR:-/tmp}/rmqtopo-state.XXXXXX")
export RMQTOPO_STATE_DIR

finish() {
  rm -rf "$RMQTOPO_STATE_DIR"
  echo "$pass_count passed, $fail_count failed"
  [ "$fail_count" -eq 0 ]
}
