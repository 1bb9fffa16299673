#!/usr/bin/env bash
# test_package.sh BINARY - the installable tool: `cmake --install` and the Debian package.
# No broker needed. BINARY is build/rmqtopo in a configured build directory (its directory
# holds CPackConfig.cmake). The package is built with cpack into a scratch directory and
# unpacked into a scratch root with dpkg-deb -x (nothing is installed on the system); the
# install goes to a scratch prefix. Checks: the control fields, that every shared library the
# binary needs comes from a package the .deb depends on, `<root>/usr/bin/rmqtopo --version`,
# every installed man page rendered by `man -l --warnings` without a warning, a page for every
# command `rmqtopo --help` lists, cross references between the pages, `man rmqtopo-apply`
# through MANPATH after `cmake --install`, and the same files in both.
set -u
. "$(dirname "$0")/lib.sh"
bin=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
build=$(dirname "$bin")
[ -f "$build/CPackConfig.cmake" ] || { echo "no CPackConfig.cmake in $build (configure with cmake first)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export LC_ALL=C.UTF-8 MANWIDTH=80 NO_COLOR=1

version=$("$bin" --version | awk '{print $2}')

# --- the Debian package
if (cd "$tmp" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/pkg") >"$tmp/cpack.log" 2>&1; then
  pass "cpack builds the .deb"
else
  fail "cpack builds the .deb" "$(tail -n 20 "$tmp/cpack.log")"
fi
deb=$(ls "$tmp"/pkg/*.deb 2>/dev/null | head -n 1)
expect_eq "one package file, rmqtopo_<version>_<arch>.deb" \
  "rmqtopo_${version}_$(dpkg --print-architecture).deb" "$(basename "${deb:-none}")"
[ -n "$deb" ] || { finish; exit; }

expect_eq "control: Package" "rmqtopo" "$(dpkg-deb -f "$deb" Package)"
expect_eq "control: Version is the binary's" "$version" "$(dpkg-deb -f "$deb" Version)"
depends=$(dpkg-deb -f "$deb" Depends)
for p in librabbitmq4 libcurl4 libjansson4 libyaml-0-2 libmicrohttpd12; do
  case ", $depends," in
    *", $p,"*) pass "control: depends on $p" ;;
    *) fail "control: depends on $p" "Depends: $depends" ;;
  esac
done

root=$tmp/root
dpkg-deb -x "$deb" "$root"
expect_eq "package: binary at /usr/bin/rmqtopo" "yes" "$([ -x "$root/usr/bin/rmqtopo" ] && echo yes || echo no)"
out=$("$root/usr/bin/rmqtopo" --version 2>&1)
expect_eq "packaged rmqtopo --version" "rmqtopo $version" "$(echo "$out" | awk '{print $1, $2}')"

# every library the packaged binary needs comes from a package it depends on (libc6 included)
missing=
for lib in $(readelf -d "$root/usr/bin/rmqtopo" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
  path=$(ldconfig -p | awk -v l="$lib" '$1 == l { print $NF; exit }')
  owner=$(dpkg -S "$path" 2>/dev/null | head -n 1 | cut -d: -f1)
  [ -z "$owner" ] && owner=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -n 1 | cut -d: -f1)
  case ", $depends," in
    *", $owner,"* | *", $owner "*) ;;
    *) missing="$missing $lib($owner)" ;;
  esac
done
expect_eq "every NEEDED library is from a package in Depends" "" "$missing"

# --- the man pages in the package
pages=$(cd "$root/usr/share/man" 2>/dev/null && ls man1/*.1 man5/*.5 2>/dev/null)
n1=$(echo "$pages" | grep -c '^man1/')
n5=$(echo "$pages" | grep -c '^man5/')
expect_eq "package: rmqtopo.1 and rmqtopo-topology.5" "yes yes" \
  "$([ -f "$root/usr/share/man/man1/rmqtopo.1" ] && echo yes || echo no) $([ -f "$root/usr/share/man/man5/rmqtopo-topology.5" ] && echo yes || echo no)"
bad=
for p in $pages; do
  f=$root/usr/share/man/$p
  if ! man -l --warnings "$f" >"$tmp/page.txt" 2>"$tmp/page.err" || [ -s "$tmp/page.err" ]; then
    bad="$bad $p: $(head -c 300 "$tmp/page.err")"
  elif ! grep -q "^NAME" "$tmp/page.txt"; then
    bad="$bad $p: no NAME section"
  fi
done
expect_eq "man -l --warnings renders all $n1 section-1 and $n5 section-5 pages without a warning" "" "$bad"

# the NAME line of each page names the page, and its .TH says so too
bad=
for p in $pages; do
  stem=$(basename "$p"); stem=${stem%.*}
  name=$(sed -n '/^\.SH NAME/{n;p;q}' "$root/usr/share/man/$p" | awk '{print $1}')
  th=$(sed -n 's/^\.TH \([^ ]*\) .*/\1/p' "$root/usr/share/man/$p")
  [ "$name" = "$stem" ] || bad="$bad $p:NAME=$name"
  [ "$th" = "$(echo "$stem" | tr a-z A-Z)" ] || bad="$bad $p:TH=$th"
  grep -q '@RMQTOPO_VERSION@' "$root/usr/share/man/$p" && bad="$bad $p:unsubstituted"
done
expect_eq "each page's NAME and .TH name the page; the version is filled in" "" "$bad"

# a page for every command 'rmqtopo --help' lists (diff is plan's alias, on rmqtopo-plan(1))
cmds=$("$bin" --help | sed -n '/^Commands:/,/^$/p' | sed -n 's/^  \([a-z]\+\)\( \([a-z]\+\)\)\?.*/\1 \3/p')
nomissing=
count=0
while read -r c sub; do
  [ -n "$c" ] || continue
  count=$((count + 1))
  case $c in
    diff) grep -q 'rmqtopo diff' "$root/usr/share/man/man1/rmqtopo-plan.1" || nomissing="$nomissing diff" ;;
    dlq) [ -f "$root/usr/share/man/man1/rmqtopo-dlq-$sub.1" ] || nomissing="$nomissing dlq-$sub" ;;
    *) [ -f "$root/usr/share/man/man1/rmqtopo-$c.1" ] || nomissing="$nomissing $c" ;;
  esac
done <<<"$(echo "$cmds" | sed 's/^dlq \(FILE\|QUEUE\|F\)$//')"
expect_eq "a man page for each of the $count commands of rmqtopo --help" "" "$nomissing"

# each command's page names every option of its --help, rmqtopo(1) every global option
missing=
while read -r c sub; do
  [ -n "$c" ] && [ "$c" != diff ] || continue
  page=$root/usr/share/man/man1/rmqtopo-$c${sub:+-$sub}.1
  [ -f "$page" ] || continue
  for o in $("$bin" $c $sub --help | sed -n '/^Options:/,/^$/p' |
    grep -o -E '^ +(-[a-z], )?--[a-z-]+' | sed -E 's/.*--/--/'); do
    grep -qF -- "$(echo "$o" | sed 's/-/\\-/g')" "$page" || missing="$missing $c${sub:+-$sub}:$o"
  done
done <<<"$(echo "$cmds" | sed 's/^dlq \(FILE\|QUEUE\|F\)$//')"
for o in $("$bin" --help | sed -n '/^Global options/,/^$/p' | grep -o -E '^ +(-[a-z], )?--[a-z-]+' |
  sed -E 's/.*--/--/'); do
  grep -qF -- "$(echo "$o" | sed 's/-/\\-/g')" "$root/usr/share/man/man1/rmqtopo.1" || missing="$missing rmqtopo:$o"
done
expect_eq "each page names every option of its command's --help" "" "$missing"

# every rmqtopo page a SEE ALSO or text refers to exists
bad=
for ref in $(cat "$root"/usr/share/man/man*/* | grep -o 'rmqtopo-[a-z-]*[a-z] *([15])' | sort -u | tr -d ' '); do
  n=${ref%(*}; s=${ref#*(}; s=${s%)}
  [ -f "$root/usr/share/man/man$s/$n.$s" ] || bad="$bad $ref"
done
expect_eq "every rmqtopo-*(N) reference names an installed page" "" "$bad"

# the example of rmqtopo-topology(5) is a topology validate accepts
sed -n '/^\.SH EXAMPLES/,/^\.fi/p' "$root/usr/share/man/man5/rmqtopo-topology.5" | sed '1,2d;$d' |
  sed 's/\\-/-/g' >"$tmp/example.yaml"
out=$("$bin" validate "$tmp/example.yaml" 2>&1)
rc=$?
expect_eq "rmqtopo-topology(5)'s example validates ($(wc -l <"$tmp/example.yaml") lines)" "0" "$rc"
[ $rc -eq 0 ] || echo "$out" | head -n 5 | sed 's/^/  /'

# --- cmake --install into a scratch prefix
prefix=$tmp/prefix
if cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1; then
  pass "cmake --install --prefix"
else
  fail "cmake --install --prefix" "$(tail -n 20 "$tmp/install.log")"
fi
for f in bin/rmqtopo share/man/man1/rmqtopo.1 share/man/man1/rmqtopo-apply.1 \
  share/man/man1/rmqtopo-dlq-replay.1 share/man/man5/rmqtopo-topology.5; do
  expect_eq "install layout: $f" "yes" "$([ -f "$prefix/$f" ] && echo yes || echo no)"
done
expect_eq "installed rmqtopo --version" "rmqtopo $version" "$("$prefix/bin/rmqtopo" --version | awk '{print $1, $2}')"
found=$(MANPATH=$prefix/share/man man -w rmqtopo-apply 2>&1)
expect_eq "man -w rmqtopo-apply finds the installed page" "$prefix/share/man/man1/rmqtopo-apply.1" "$found"
text=$(MANPATH=$prefix/share/man man rmqtopo-apply 2>&1)
expect_contains "man rmqtopo-apply renders" "$text" "rmqtopo-apply - make the broker match a topology file"
text=$(MANPATH=$prefix/share/man man 5 rmqtopo-topology 2>&1)
expect_contains "man 5 rmqtopo-topology renders" "$text" "dead_letter_strategy"

# the package and the install hold the same files
a=$(cd "$root/usr" && find . -type f | sort)
b=$(cd "$prefix" && find . -type f | sort)
expect_eq "the .deb holds the files cmake --install installs" "$b" "$a"

finish
