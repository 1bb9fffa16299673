#!/usr/bin/env bash
# apply's migration while a producer publishes into the queue it migrates (issue: messages
# published during the run were moved more than once, and the mover acknowledged delivery
# tags the broker did not know). Classic and quorum sources; message ids counted: every id
# sent is in the queue (or, after a failure, in its holding queue), none twice. (A batch
# published while the holding queue exists is test_apply_clients.sh's case 6.)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
MSGTOOL=${MSGTOOL:-$(dirname "$BIN")/tests/msgtool}
ODDTOOL=${ODDTOOL:-$(dirname "$BIN")/tests/oddtool}

V=rmqtopo-it-migprod-$$
work=$(mktemp -d)
admin=rmqtopo-migadmin-$$
other=rmqtopo-migother-$$
cleanup() {
  api DELETE "/vhosts/$V" >/dev/null 2>&1
  api DELETE "/users/$admin" >/dev/null 2>&1
  api DELETE "/users/$other" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

ids() { "$MSGTOOL" dump "$V" "$1" 2>/dev/null | awk '{print $1}'; }
topo() { # TYPE [ARGS]
  printf 'version: 1\nvhosts:\n  %s:\n    queues:\n      mq: { type: %s%s }\n' "$V" "$1" "${2:-}"
}

# FROM TO PRODUCER_N DELAY LABEL
run_case() {
  local from=$1 to=$2 n=$3 delay=$4 label=$5 rc sent found dups
  api DELETE "/vhosts/$V" >/dev/null 2>&1
  topo "$from" >"$work/from.yaml"
  if [ "$to" = quorum ]; then topo "$to" ", initial_group_size: 1" >"$work/to.yaml"; else topo "$to" >"$work/to.yaml"; fi
  "$BIN" apply "$work/from.yaml" >/dev/null 2>&1
  "$MSGTOOL" publish "$V" mq 20000 s >/dev/null
  (
    sleep "$delay"
    "$MSGTOOL" publish "$V" mq "$n" p >/dev/null
  ) &
  "$BIN" apply "$work/to.yaml" --allow-replace >"$work/out" 2>&1
  rc=$?
  wait
  sent=$((20000 + n))
  (
    ids mq
    ids rmqtopo.migrate.mq
  ) | sort >"$work/found"
  found=$(sort -u "$work/found" | wc -l | tr -d ' ')
  dups=$(($(wc -l <"$work/found") - found))
  expect_eq "$label: every id found ($sent sent; exit $rc)" "$sent" "$found"
  expect_eq "$label: no id twice" 0 "$dups"
  if [ "$rc" -eq 0 ]; then
    expect_eq "$label: all in the queue, no holding queue left" "$sent" "$(ids mq | wc -l | tr -d ' ')"
  else
    expect_contains "$label: a failure says why" "$(cat "$work/out")" "producers"
  fi
  "$BIN" plan "$work/to.yaml" >/dev/null 2>&1
  pr=$?
  if [ "$rc" -eq 0 ]; then
    expect_eq "$label: plan after it exits 0" 0 "$pr"
  fi
}

run_case classic quorum 20000 0.3 "classic -> quorum, 20,000 published from 0.3 s"
run_case quorum classic 20000 0.3 "quorum -> classic, 20,000 published from 0.3 s"

# A message whose user_id names another user: the broker refuses it from a user without the
# impersonator tag, so the migration stops with it named and nothing lost; with the tag, a
# re-run finishes.
api DELETE "/vhosts/$V" >/dev/null 2>&1
topo classic >"$work/from.yaml"
topo quorum ", initial_group_size: 1" >"$work/to.yaml"
"$BIN" apply "$work/from.yaml" >/dev/null 2>&1
api PUT "/users/$admin" '{"password":"mig-admin-pw","tags":"administrator"}' >/dev/null
api PUT "/users/$other" '{"password":"mig-other-pw","tags":""}' >/dev/null
for u in "$admin" "$other"; do
  api PUT "/permissions/$V/$u" '{"configure":".*","write":".*","read":".*"}' >/dev/null
done
hexq=$(printf mq | od -An -tx1 | tr -d ' \n')
"$ODDTOOL" publish "$V" "" "$hexq" 5 ua
RMQTOPO_AMQP_URL=$(echo "$RMQTOPO_AMQP_URL" | sed "s#amqp://#amqp://$other:mig-other-pw@#") \
  ODD_USER_ID=$other "$ODDTOOL" publish "$V" "" "$hexq" 1 uother
"$ODDTOOL" publish "$V" "" "$hexq" 5 ub
RMQTOPO_USER=$admin RMQTOPO_PASSWORD=mig-admin-pw "$BIN" apply "$work/to.yaml" --allow-replace \
  >"$work/out" 2>&1
expect_eq "user_id of another user: apply exits 1" 1 $?
expect_contains "user_id of another user: says why" "$(cat "$work/out")" \
  "1 message(s) of queue 'mq' cannot be moved: the broker refuses them from user '$admin'"
expect_eq "user_id of another user: every id kept (11)" 11 \
  "$( (ids mq; ids rmqtopo.migrate.mq) | sort -u | wc -l | tr -d ' ')"
api PUT "/users/$admin" '{"password":"mig-admin-pw","tags":"administrator,impersonator"}' >/dev/null
RMQTOPO_USER=$admin RMQTOPO_PASSWORD=mig-admin-pw "$BIN" apply "$work/to.yaml" --allow-replace \
  >"$work/out" 2>&1
expect_eq "user_id of another user, with the impersonator tag: the re-run exits 0" 0 $?
expect_eq "user_id of another user: all 11 in the new queue, none twice" 11 "$(ids mq | sort -u | wc -l | tr -d ' ')"
expect_eq "user_id of another user: no copy" 11 "$(ids mq | wc -l | tr -d ' ')"

finish
