#!/usr/bin/env bash
# test_completion.sh - the shell completion of rmqtopo (completions/rmqtopo.bash for bash,
# completions/_rmqtopo for zsh) and the binary's `__complete` helper behind both. No broker.
#
#   bash tests/integration/test_completion.sh build/rmqtopo
#
# bash: a bash with the script loaded (`complete -p rmqtopo`), the completion function called
# as bash calls it (COMP_WORDS, COMP_CWORD, COMP_LINE, COMP_POINT set), twice: with Debian's
# bash-completion loaded (as installed systems have it) and without it. zsh (when installed):
# `zsh -n`, then the function autoloaded from its directory and run with words/CURRENT set and
# the completion builtins (compadd, _files, compset) replaced by recorders.
# Queue names are checked against the queue names of the file's expansion (`rmqtopo expand`
# read by Debian's python3-yaml): another path to the same answer.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
root=$(cd "$here/../.." && pwd)
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
work=$(mktemp -d "${TMPDIR:-/tmp}/rmqtopo-test-completion.XXXXXX")
trap 'rm -rf "$work"' EXIT

# A scratch directory with files to complete and a topology of two vhosts.
mkdir -p "$work/cwd/sub"
cd "$work/cwd" || exit 1
: >a.yaml
: >b.yaml
: >notes.txt
cp "$root/topologies/orders.yaml" orders.yaml
cat >two.yaml <<'EOF'
version: 1
vhosts:
  alpha:
    exchanges: { alpha.x: { type: topic } }
    queues:
      alpha.one: { type: quorum, bind: [ { exchange: alpha.x, routing_key: "#" } ] }
      alpha.two: { type: quorum }
      "jobs:high": { type: quorum }
      "star*": { type: quorum }
  beta:
    queues:
      beta.one: { type: quorum }
EOF
mkdir -p "$work/bin"
ln -s "$BIN" "$work/bin/rmqtopo"
export PATH="$work/bin:$PATH"

# The queue names of a file's expansion, sorted (the expected answer, computed apart).
expected_queues() { # FILE [VHOST]
  "$BIN" expand "$1" 2>/dev/null | /usr/bin/python3 -c '
import sys, yaml
doc = yaml.safe_load(sys.stdin)
want = sys.argv[1] if len(sys.argv) > 1 else None
names = set()
for vh, body in (doc.get("vhosts") or {}).items():
    if want is None or vh == want:
        names.update((body or {}).get("queues") or {})
print("\n".join(sorted(names)))' ${2:+"$2"}
}

# --- the binary's helper
out=$(rmqtopo __complete "")
expect_eq "__complete: the first line is the directive (words for commands)" words "$(printf '%s\n' "$out" | head -n1)"
expect_contains "__complete: commands carry their summary after a tab" "$out" $'schema\tthe JSON Schema of the topology file'
out=$(rmqtopo __complete validate "")
expect_eq "__complete: a FILE argument asks for file names" files "$out"
out=$(rmqtopo __complete dlq replay "")
expect_eq "__complete: dlq replay's QUEUE without a file or RMQTOPO_TOPOLOGY: no names" words "$out"
rmqtopo __complete dlq replay --rate 2>/dev/null >/dev/null
expect_eq "__complete never fails (an unfinished option)" 0 "$?"

# --- bash
cat >"$work/complete.bash" <<'EOF'
# usage: complete.bash WITH_BASH_COMPLETION SCRIPT -- WORD...   (the last word: being completed)
with=$1 script=$2
shift 3
if [ "$with" = 1 ]; then
  . /usr/share/bash-completion/bash_completion || exit 90
fi
. "$script" || exit 91
if [ "$1" = "--spec" ]; then complete -p rmqtopo; exit; fi
COMP_WORDS=("$@")
COMP_CWORD=$(($# - 1))
COMP_LINE=${LINE:-"$*"}
COMP_POINT=${#COMP_LINE}
_rmqtopo rmqtopo "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort
EOF
script=$root/completions/rmqtopo.bash
bc=0
[ -f /usr/share/bash-completion/bash_completion ] && bc=1
modes=(0)
[ "$bc" = 1 ] && modes+=(1)
for with in "${modes[@]}"; do
  label="bash"
  [ "$with" = 1 ] && label="bash+bash-completion"
  c() { bash --norc --noprofile "$work/complete.bash" "$with" "$script" -- "$@" 2>&1; }

  expect_eq "$label: complete -p rmqtopo" "complete -F _rmqtopo rmqtopo" "$(c --spec)"
  got=$(c rmqtopo "")
  want=$(printf '%s\n' alerts apply diff dlq expand export graph init plan schema validate version)
  # commands other helpers add later (dlq serve, publish ...) appear too: compare the ones known here
  expect_eq "$label: rmqtopo <Tab>: the commands, dlq once" "$want" \
    "$(printf '%s\n' "$got" | grep -xE 'alerts|apply|diff|dlq|expand|export|graph|init|plan|schema|validate|version')"
  expect_eq "$label: rmqtopo <Tab>: no dlq subcommand at the top" "" "$(printf '%s\n' "$got" | grep -xE 'inspect|replay')"
  expect_eq "$label: rmqtopo dlq re<Tab>" "$(printf '%s\n' replay restore)" "$(c rmqtopo dlq re)"
  expect_eq "$label: rmqtopo dlq <Tab> has the six dlq commands" 6 \
    "$(c rmqtopo dlq "" | grep -cxE 'inspect|replay|archive|restore|status|check')"
  expect_eq "$label: rmqtopo apply --pr<Tab>" "--prune" "$(c rmqtopo apply --pr)"
  expect_eq "$label: rmqtopo dlq replay --to<Tab>" "$(printf '%s\n' --to-exchange --to-origin --to-queue)" \
    "$(c rmqtopo dlq replay --to)"
  got=$(c rmqtopo plan --)
  expect_contains "$label: rmqtopo plan --<Tab> has plan's own option" "$got" "--prune"
  expect_contains "$label: rmqtopo plan --<Tab> has the global options" "$got" "--api-url"
  expect_eq "$label: rmqtopo plan --<Tab> has no other command's option" "" "$(printf '%s\n' "$got" | grep -x -- --allow-replace)"
  expect_eq "$label: global options before the command: rmqtopo --no-color dlq ins<Tab>" inspect \
    "$(c rmqtopo --no-color dlq ins)"
  expect_eq "$label: rmqtopo validate <Tab>: file names" "$(printf '%s\n' a.yaml b.yaml notes.txt orders.yaml sub two.yaml)" \
    "$(c rmqtopo validate "")"
  expect_eq "$label: rmqtopo validate a.yaml <Tab>: more files (FILE...)" 6 "$(c rmqtopo validate a.yaml "" | wc -l)"
  expect_eq "$label: rmqtopo plan a.yaml <Tab>: nothing (one file)" "" "$(c rmqtopo plan a.yaml "")"
  expect_eq "$label: rmqtopo version <Tab>: nothing" "" "$(c rmqtopo version "")"
  expect_eq "$label: rmqtopo dlq archive q --file o<Tab>: a file" orders.yaml "$(c rmqtopo dlq archive q --file o)"
  expect_eq "$label: rmqtopo --password-file n<Tab>: a file" notes.txt "$(c rmqtopo --password-file n)"
  expect_eq "$label: rmqtopo plan -o <Tab>" "$(printf '%s\n' json markdown text)" "$(c rmqtopo plan -o "")"
  expect_eq "$label: rmqtopo dlq status --output <Tab>" "$(printf '%s\n' json prometheus text)" \
    "$(c rmqtopo dlq status --output "")"
  expect_eq "$label: rmqtopo graph --format <Tab>" "$(printf '%s\n' dot mermaid)" "$(c rmqtopo graph --format "")"
  expect_eq "$label: rmqtopo dlq replay --reason ex<Tab>" expired "$(c rmqtopo dlq replay --reason ex)"
  expect_eq "$label: rmqtopo init --use-case p<Tab>" pub_sub "$(c rmqtopo init --use-case p)"

  # queue names from the file on the line
  want=$(expected_queues orders.yaml)
  got=$(c rmqtopo dlq check orders.yaml --queue "")
  expect_eq "$label: rmqtopo dlq check orders.yaml --queue <Tab>: the file's queues, retry queues included" "$want" "$got"
  expect_contains "$label: ... a generated retry queue among them" "$got" "orders.retry.1s"
  expect_eq "$label: rmqtopo dlq check orders.yaml --queue orders.p<Tab>" \
    "$(printf '%s\n' "$want" | grep '^orders\.p')" "$(c rmqtopo dlq check orders.yaml --queue orders.p)"
  # queue names from RMQTOPO_TOPOLOGY, for the dlq commands that take a queue and no file
  got=$(RMQTOPO_TOPOLOGY=two.yaml c rmqtopo dlq replay "")
  expect_eq "$label: RMQTOPO_TOPOLOGY=two.yaml rmqtopo dlq replay <Tab>: every vhost's queues" \
    "$(expected_queues two.yaml)" "$got"
  expect_contains "$label: ... a name with a glob character is offered as it is" "$got" "star*"
  expect_eq "$label: ... --vhost beta keeps beta's queues" "$(expected_queues two.yaml beta)" \
    "$(RMQTOPO_TOPOLOGY=two.yaml c rmqtopo dlq replay --vhost beta "")"
  expect_eq "$label: rmqtopo dlq replay q --park-queue alpha.t<Tab>" alpha.two \
    "$(RMQTOPO_TOPOLOGY=two.yaml c rmqtopo dlq replay q --park-queue alpha.t)"
  expect_eq "$label: rmqtopo dlq replay q --to-exchange <Tab>: the file's exchanges" alpha.x \
    "$(RMQTOPO_TOPOLOGY=two.yaml c rmqtopo dlq replay q --to-exchange "")"
  expect_eq "$label: rmqtopo dlq status two.yaml --vhost <Tab>: the file's vhosts" "$(printf '%s\n' alpha beta)" \
    "$(c rmqtopo dlq status two.yaml --vhost "")"
  expect_eq "$label: a file that does not load gives no names" "" \
    "$(RMQTOPO_TOPOLOGY=notes.txt c rmqtopo dlq inspect "")"
  if [ "$with" = 1 ]; then
    # bash splits at '=' and ':' (COMP_WORDBREAKS); bash-completion joins the words again
    expect_eq "$label: rmqtopo dlq status two.yaml --vhost=b<Tab>" beta \
      "$(LINE="rmqtopo dlq status two.yaml --vhost=b" c rmqtopo dlq status two.yaml --vhost = b)"
    expect_eq "$label: a queue name with a colon: jobs:h<Tab> completes the part after it" high \
      "$(LINE="rmqtopo dlq inspect jobs:h" RMQTOPO_TOPOLOGY=two.yaml c rmqtopo dlq inspect jobs : h)"
  fi
done
if [ "$bc" = 0 ]; then
  echo "  (bash-completion is not installed: bash was tested without it only)"
fi

# --- zsh
zscript=$root/completions/_rmqtopo
if command -v zsh >/dev/null; then
  if zsh -n "$zscript"; then pass "zsh: zsh -n _rmqtopo"; else fail "zsh: zsh -n _rmqtopo"; fi
  cat >"$work/complete.zsh" <<'EOF'
# usage: zsh complete.zsh DIR WORD...  (the last word: being completed)
fpath=($1 $fpath)
shift
autoload -Uz _rmqtopo
# the completion builtins exist only inside a completion widget: record what is asked of them
compadd() {
  local -a args
  args=("$@")
  integer i=${args[(i)--]}
  print -rl -- "${(@)args[i+1,-1]}"
}
_files() { print -r -- "<files>" }
compset() { return 0 }
words=("$@")
CURRENT=$#
_rmqtopo
EOF
  z() { zsh -f "$work/complete.zsh" "$root/completions" "$@" 2>&1 | LC_ALL=C sort; }
  expect_eq "zsh: rmqtopo dlq re<Tab>" "$(printf '%s\n' replay restore)" "$(z rmqtopo dlq re)"
  expect_eq "zsh: rmqtopo apply --pr<Tab>" "--prune" "$(z rmqtopo apply --pr)"
  expect_eq "zsh: rmqtopo validate <Tab>: file names (_files)" "<files>" "$(z rmqtopo validate "")"
  expect_eq "zsh: rmqtopo dlq check orders.yaml --queue <Tab>: the file's queues" "$(expected_queues orders.yaml)" \
    "$(z rmqtopo dlq check orders.yaml --queue "")"
  expect_eq "zsh: RMQTOPO_TOPOLOGY=two.yaml rmqtopo dlq replay --vhost alpha <Tab>" "$(expected_queues two.yaml alpha)" \
    "$(RMQTOPO_TOPOLOGY=two.yaml z rmqtopo dlq replay --vhost alpha "")"
  expect_eq "zsh: rmqtopo dlq status two.yaml --vhost=<Tab>" "$(printf '%s\n' alpha beta)" \
    "$(z rmqtopo dlq status two.yaml --vhost=)"
  # and for real: an interactive zsh on a pseudo-terminal (zpty), compinit finding _rmqtopo in
  # $fpath, a Tab typed; the line after completion is printed back. (The 600 s bound only
  # stops a hung zsh from blocking the suite: nothing here measures time.)
  cat >"$work/zpty.zsh" <<'EOF2'
# usage: zsh -f zpty.zsh FPATH_DIR LINE...: prints LINE:<the line after Tab> for each
zmodload zsh/zpty || exit 90
fdir=$1
shift
zpty z "zsh -f -i"
zpty -w z "PS1='RE''ADY> '; fpath=($fdir \$fpath); autoload -Uz compinit; compinit -u -D"
zpty -r z out '*READY> '
for l in "$@"; do
  zpty -w -n z "$l"$'\t'$'\x01print -r -- LINE:\x05\n'
  zpty -r z out '*READY> '
  print -r -- "$out" | tr -d '\r' | grep -a '^LINE:'
done
zpty -d z
EOF2
  got=$(cd "$work/cwd" && RMQTOPO_TOPOLOGY=two.yaml timeout 600 zsh -f "$work/zpty.zsh" "$root/completions" \
    'rmqtopo dlq rep' 'rmqtopo apply --pr' 'rmqtopo dlq inspect beta.o' 'rmqtopo validate tw' 2>&1)
  expect_eq "zsh interactive (compinit, zpty): rmqtopo dlq rep<Tab>" "LINE:rmqtopo dlq replay" \
    "$(printf '%s\n' "$got" | sed -n 1p | sed 's/ *$//')"
  expect_eq "zsh interactive: rmqtopo apply --pr<Tab>" "LINE:rmqtopo apply --prune" \
    "$(printf '%s\n' "$got" | sed -n 2p | sed 's/ *$//')"
  expect_eq "zsh interactive: RMQTOPO_TOPOLOGY=two.yaml rmqtopo dlq inspect beta.o<Tab>" \
    "LINE:rmqtopo dlq inspect beta.one" "$(printf '%s\n' "$got" | sed -n 3p | sed 's/ *$//')"
  expect_eq "zsh interactive: rmqtopo validate tw<Tab> (files)" "LINE:rmqtopo validate two.yaml" \
    "$(printf '%s\n' "$got" | sed -n 4p | sed 's/ *$//')"
else
  echo "  (zsh is not installed: _rmqtopo not checked)"
fi

# --- cmake --install puts the scripts where the shells look
build=$(dirname "$BIN")
if [ -f "$build/cmake_install.cmake" ]; then
  if cmake --install "$build" --prefix "$work/inst" >"$work/install.log" 2>&1; then
    if cmp -s "$work/inst/share/bash-completion/completions/rmqtopo" "$script"; then
      pass "cmake --install: share/bash-completion/completions/rmqtopo"
    else
      fail "cmake --install: share/bash-completion/completions/rmqtopo" "$(ls -R "$work/inst" | head)"
    fi
    if cmp -s "$work/inst/share/zsh/site-functions/_rmqtopo" "$zscript"; then
      pass "cmake --install: share/zsh/site-functions/_rmqtopo"
    else
      fail "cmake --install: share/zsh/site-functions/_rmqtopo" "$(ls -R "$work/inst" | head)"
    fi
    if cmp -s "$work/inst/share/rmqtopo/rmqtopo-topology.schema.json" "$root/schema/rmqtopo-topology.schema.json"; then
      pass "cmake --install: share/rmqtopo/rmqtopo-topology.schema.json"
    else
      fail "cmake --install: share/rmqtopo/rmqtopo-topology.schema.json"
    fi
  else
    fail "cmake --install --prefix works" "$(tail -5 "$work/install.log")"
  fi
else
  echo "  ($BIN is not in a CMake build directory: the install layout is not checked)"
fi

finish
