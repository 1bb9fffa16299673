#!/usr/bin/env bash
# Runs one data-driven case: tests/data/<suite>/<case>/ holds
#   cmd        the arguments to rmqtopo, one line, word-split by the shell (run in the case dir)
#   env        optional: KEY=VALUE lines exported first (only these variables reach rmqtopo
#              besides PATH and HOME, so the result does not depend on the caller)
#   exit       the expected exit status (default 0)
#   stdout     optional: the exact expected standard output
#   stderr     optional: the exact expected standard error
#   *.yaml     inputs
# A missing stdout/stderr file means "not checked"; write an empty file to require no output.
set -u
bin=$1
dir=$2
cd "$dir" || exit 2
envs=(PATH="$PATH" HOME="${HOME:-/tmp}" NO_COLOR=1)
if [ -f env ]; then
  while IFS= read -r line || [ -n "$line" ]; do
    [ -n "$line" ] && envs+=("$line")
  done < env
fi
read -r -a args < cmd
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
env -i "${envs[@]}" "$bin" "${args[@]}" >"$out" 2>"$err"
status=$?
want=0
[ -f exit ] && want=$(tr -d '[:space:]' < exit)
fail=0
if [ "$status" != "$want" ]; then
  echo "exit status $status, expected $want"
  fail=1
fi
for stream in stdout stderr; do
  if [ -f "$stream" ]; then
    got=$out
    [ "$stream" = stderr ] && got=$err
    if ! diff -u "$stream" "$got" > /dev/null; then
      echo "$stream differs (expected vs got):"
      diff -u "$stream" "$got" | head -40
      fail=1
    fi
  fi
done
if [ $fail -ne 0 ]; then
  echo "--- stdout"; head -20 "$out"; echo "--- stderr"; head -20 "$err"
fi
exit $fail
