#!/usr/bin/env bash
# scripts/test.sh - every test rmqtopo has, from a fresh Debian 12 machine.
#
#   scripts/test.sh [--quick] [--fuzz-seconds N] [--no-broker]
#
# Steps (each counts as tests in the closing "N passed, N failed" line):
#   1. install what is missing (scripts/setup.sh)
#   2. format check (clang-format, the repo's .clang-format)
#   3. Release build with gcc (-Werror), then ctest: unit tests and data-driven cases
#   4. Debug build with ASan+UBSan, then the unit tests again under the sanitizers
#   5. the tests that need no broker (JSON Schema, shell completion, the installed tool and
#      its Debian package), then validate every example topology (once under valgrind)
#   6. private RabbitMQ nodes (scripts/broker.sh, free ports), tests/integration/test_*.sh
#      against them, in the background from step 4 on
#   7. the fuzz targets (clang, libFuzzer): the saved regressions, then a bounded run
# Exits non-zero when anything failed. --quick skips the sanitizer build and fuzzing.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

quick=0
fuzz_seconds=${RMQTOPO_FUZZ_SECONDS:-20}
use_broker=1
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=1 ;;
    --fuzz-seconds) fuzz_seconds=$2; shift ;;
    --no-broker) use_broker=0 ;;
    *) echo "usage: scripts/test.sh [--quick] [--fuzz-seconds N] [--no-broker]" >&2; exit 64 ;;
  esac
  shift
done

passed=0
failed=0
failures=()
# integration scripts that need no broker: run in their own section, not on the broker nodes
no_broker_tests="test_schema.sh test_completion.sh test_package.sh"
jobs=$(nproc 2>/dev/null || echo 2)
logdir=$root/build-logs
mkdir -p "$logdir"
start_time=$(date +%s)

section() { printf '\n==> %s\n' "$*"; }
ok() { passed=$((passed + 1)); printf 'PASS %s\n' "$1"; }
bad() { failed=$((failed + 1)); failures+=("$1"); printf 'FAIL %s\n' "$1"; }

# Runs a command as one test; its output goes to a log, shown on failure.
check() {
  local name=$1; shift
  local log=$logdir/$(echo "$name" | tr -c 'A-Za-z0-9_.-' '_').log
  if "$@" >"$log" 2>&1; then
    ok "$name"
    return 0
  fi
  bad "$name"
  tail -n 40 "$log" | sed 's/^/    /'
  return 1
}

# Adds the counts of a ctest run ("N% tests passed, F tests failed out of T").
count_ctest() {
  local name=$1 log=$2 line total fails
  line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
  if [ -z "$line" ]; then
    bad "$name (ctest did not run)"
    tail -n 40 "$log" | sed 's/^/    /'
    return
  fi
  total=$(echo "$line" | sed -E 's/.*out of ([0-9]+).*/\1/')
  fails=$(echo "$line" | sed -E 's/.* ([0-9]+) tests? failed.*/\1/')
  passed=$((passed + total - fails))
  failed=$((failed + fails))
  echo "$name: $((total - fails)) of $total passed"
  if [ "$fails" -gt 0 ]; then
    failures+=("$name: $fails failed")
    sed -n '/The following tests FAILED/,$p' "$log" | sed 's/^/    /'
  fi
}

# Adds the counts of a script that ends with "N passed, N failed".
count_script() {
  local name=$1 log=$2 status=$3 line p f
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
  if [ -z "$line" ]; then
    bad "$name (no result line, exit $status)"
    tail -n 40 "$log" | sed 's/^/    /'
    return
  fi
  p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
  f=$(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
  if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
    f=1 # a script that fails without saying so still fails
  fi
  passed=$((passed + p))
  failed=$((failed + f))
  echo "$name: $p passed, $f failed"
  if [ "$f" -gt 0 ]; then
    failures+=("$name")
    grep -E '^(FAIL|  )' "$log" | head -n 60 | sed 's/^/    /'
  fi
}

section "setup"
check "setup: install missing packages" scripts/setup.sh

section "format"
check "format: clang-format --dry-run" bash -c \
  "git ls-files '*.c' '*.h' | xargs -r clang-format --dry-run -Werror"

section "Release build (gcc) and tests"
if check "build: Release, gcc, -Werror" bash -c \
  "cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=gcc && cmake --build build -j$jobs"; then
  ctest --test-dir build --output-on-failure -j"$jobs" >"$logdir/ctest-release.log" 2>&1
  count_ctest "ctest (Release)" "$logdir/ctest-release.log"
fi

# Integration tests against private RabbitMQ nodes run in the background from here, while the
# sanitizer build and the fuzzers use the CPU: they mostly wait for the broker. Five nodes,
# each with its own name and ports chosen free at run time (two runs on one machine both
# pass): the apply scripts, which wait for the broker's statistics, run on nodes of their
# own beside the rest (test_apply.sh closes every connection of its node), and
# test_apply_clients.sh runs its classic and its quorum cases on two nodes at once.
run_id=$$
names=(rmqtopo-test-$run_id rmqtopo-apply-$run_id rmqtopo-clc-$run_id rmqtopo-clq-$run_id
  rmqtopo-prod-$run_id)
# per node: the scripts it runs, each "script[@VAR=value]" (node 0: every other script)
# (the longest scripts after the apply ones go to the nodes that finish early, by the end
# times of each script measured in a fresh-clone run on 2 cores; node 0 keeps the rest)
groups=("" "test_apply.sh test_apply_progress.sh test_monitor.sh test_monitor_e2e.sh"
  "test_apply_clients.sh@CLIENT_TYPES=classic test_cluster.sh"
  "test_apply_clients.sh@CLIENT_TYPES=quorum test_dlq.sh"
  "test_migrate_producer.sh test_archive.sh test_serve.sh test_tls.sh test_validate_cli.sh")
integration_pid=
stop_brokers() {
  local n
  for n in "${names[@]}"; do scripts/broker.sh stop --name "$n" --kill >/dev/null 2>&1 || true; done
}
# runs the scripts of group $1 against node $1; each leaves NAME.log and NAME.status
run_group() {
  local k=$1 item t var name
  (
    set -a
    # shellcheck disable=SC1090
    . "$logdir/broker$k.env"
    set +a
    if [ -n "${groups[$k]}" ]; then
      for item in ${groups[$k]}; do
        t=${item%%@*}
        var=
        [ "$item" != "$t" ] && var=${item#*@}
        name=${t%.sh}${var:+-${var#*=}}
        env ${var:+"$var"} bash "tests/integration/$t" "$root/build/rmqtopo" >"$logdir/$name.log" 2>&1
        echo $? >"$logdir/$name.status"
      done
    else
      for t in tests/integration/test_*.sh; do
        name=$(basename "$t")
        case " ${groups[*]} " in *" $name"[\ @]*) continue ;; esac
        case " $no_broker_tests " in *" $name "*) continue ;; esac
        bash "$t" "$root/build/rmqtopo" >"$logdir/${name%.sh}.log" 2>&1
        echo $? >"$logdir/${name%.sh}.status"
      done
    fi
  )
}
integration() {
  local k pids=() gp=()
  for k in "${!names[@]}"; do
    # node 0 runs test_params.sh: shovels and federation need their plugins
    ( if [ "$k" = 0 ]; then
        export RMQTOPO_BROKER_PLUGINS="${RMQTOPO_BROKER_PLUGINS:-} rabbitmq_shovel rabbitmq_shovel_management rabbitmq_federation rabbitmq_federation_management"
      fi
      scripts/broker.sh start --name "${names[$k]}" --base-port auto >"$logdir/broker$k.env" \
        2>"$logdir/broker$k.log"
      echo $? >"$logdir/broker$k.status" ) &
    pids+=($!)
  done
  wait "${pids[@]}"
  for k in "${!names[@]}"; do
    [ "$(cat "$logdir/broker$k.status")" = 0 ] || return 0
  done
  for k in "${!names[@]}"; do
    run_group "$k" &
    gp+=($!)
  done
  wait "${gp[@]}"
}
if [ $use_broker -eq 1 ] && [ -x build/rmqtopo ]; then
  rm -f "$logdir"/test_*.status "$logdir"/test_*.log "$logdir"/broker*.status
  trap stop_brokers EXIT
  export RMQTOPO_BIN=$root/build/rmqtopo
  integration >"$logdir/integration.log" 2>&1 &
  integration_pid=$!
fi

if [ $quick -eq 0 ]; then
  section "Debug build with ASan+UBSan, unit tests"
  if check "build: Debug, ASan+UBSan" bash -c \
    "cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DRMQTOPO_SANITIZE=ON && cmake --build build-asan -j$jobs"; then
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
      ctest --test-dir build-asan --output-on-failure -j"$jobs" >"$logdir/ctest-asan.log" 2>&1
    count_ctest "ctest (ASan+UBSan)" "$logdir/ctest-asan.log"
  fi
fi

section "tests without a broker"
# the JSON Schema against the loader, the bash/zsh completion, cmake --install and the Debian
# package (built with cpack, unpacked into a scratch root, its man pages rendered)
if [ -x build/rmqtopo ]; then
  for t in $no_broker_tests; do
    bash "tests/integration/$t" "$root/build/rmqtopo" >"$logdir/${t%.sh}.log" 2>&1
    count_script "${t%.sh}" "$logdir/${t%.sh}.log" $?
  done
fi

section "example topologies"
if [ -x build/rmqtopo ]; then
  for f in topologies/*.yaml; do
    check "validate --strict $f" build/rmqtopo validate --strict "$f"
  done
  if command -v valgrind >/dev/null; then
    check "valgrind: validate every example" valgrind -q --error-exitcode=3 --leak-check=full \
      --errors-for-leak-kinds=definite,indirect build/rmqtopo validate topologies/*.yaml
  fi
fi

if [ $quick -eq 0 ]; then
  section "fuzzing (libFuzzer, ${fuzz_seconds}s per target)"
  if check "build: fuzz targets (clang)" bash -c \
    "cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DRMQTOPO_FUZZ=ON -DRMQTOPO_TESTS=OFF && cmake --build build-fuzz -j$jobs"; then
    for target in build-fuzz/tests/fuzz/fuzz_*; do
      [ -x "$target" ] || continue
      name=$(basename "$target")
      corpus=tests/fuzz/corpus/${name#fuzz_}
      regressions=tests/fuzz/regressions/${name#fuzz_}
      if [ -d "$regressions" ] && [ -n "$(ls -A "$regressions")" ]; then
        check "fuzz: $name replays saved crashes" "$target" "$regressions"/*
      fi
      work=$(mktemp -d)
      check "fuzz: $name ${fuzz_seconds}s, no crash" bash -c \
        "set -o pipefail; cd '$work' && '$root/$target' -artifact_prefix='$logdir/' -max_total_time=$fuzz_seconds -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
           \$( [ -f '$root/tests/fuzz/$name.dict' ] && echo -dict='$root/tests/fuzz/$name.dict') \
           . '$root/$corpus' 2>&1 | tail -n 3"
      rm -rf "$work"
    done
  fi
fi

if [ -n "$integration_pid" ]; then
  section "integration tests against private RabbitMQ nodes"
  wait "$integration_pid"
  started=1
  for k in "${!names[@]}"; do
    if [ "$(cat "$logdir/broker$k.status" 2>/dev/null)" = 0 ]; then
      ok "broker: private node ${names[$k]} started"
    else
      bad "broker: private node ${names[$k]} started"
      tail -n 40 "$logdir/broker$k.log" | sed 's/^/    /'
      started=0
    fi
  done
  if [ $started -eq 1 ]; then
    expected=()
    for t in tests/integration/test_*.sh; do
      name=$(basename "$t")
      case " ${groups[*]} " in *" $name"[\ @]*) continue ;; esac
      case " $no_broker_tests " in *" $name "*) continue ;; esac
      expected+=("${name%.sh}")
    done
    for k in 1 2 3 4; do
      for item in ${groups[$k]}; do
        t=${item%%@*}
        var=
        [ "$item" != "$t" ] && var=${item#*@}
        expected+=("${t%.sh}${var:+-${var#*=}}")
      done
    done
    for name in "${expected[@]}"; do
      if [ -f "$logdir/$name.status" ]; then
        count_script "integration: $name" "$logdir/$name.log" "$(cat "$logdir/$name.status")"
      else
        bad "integration: $name (did not run)"
      fi
    done
  fi
  stop_brokers
  trap - EXIT
fi

elapsed=$(( $(date +%s) - start_time ))
echo
echo "test.sh finished in ${elapsed}s"
if [ ${#failures[@]} -gt 0 ]; then
  echo "failures:"
  printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
