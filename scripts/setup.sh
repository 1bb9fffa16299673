#!/usr/bin/env bash
# scripts/setup.sh [EXTRA_PACKAGE...] - install the Debian packages rmqtopo needs.
#
# Idempotent: when every package is already installed it prints nothing and
# takes a few milliseconds. Otherwise it runs `apt-get update` once, then
# `apt-get install --no-install-recommends` of just the missing packages (via
# sudo when not root), prints one line naming them, and keeps apt's output in
# a log file that is shown only on failure.
#
# Service starts are denied while installing (a temporary policy-rc.d, unless
# the machine already has one): rabbitmq-server's postinst would otherwise
# try to start the system broker, which fails without systemd or leaves a
# broker on port 5672. Our tests run private nodes (scripts/broker.sh).
set -euo pipefail

PACKAGES=(
    build-essential cmake pkg-config git
    clang clang-format libclang-rt-14-dev valgrind
    librabbitmq-dev libssl-dev libcurl4-openssl-dev libjansson-dev libyaml-dev libcmocka-dev
    rabbitmq-server curl graphviz hyperfine openssl python3 bsdutils
    prometheus nagios-plugins-rabbitmq
    libmicrohttpd-dev chromium chromium-driver python3-selenium
    man-db groff-base
    python3-jsonschema python3-yaml zsh bash-completion
)
PACKAGES+=("$@")

log() { printf 'setup.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: this script is for Debian"

# One dpkg-query call for all packages (unknown ones go to stderr, ignored).
declare -A status=()
while IFS=$'\t' read -r pkg st; do
    [ -n "$pkg" ] && status[$pkg]=$st
done < <(dpkg-query -W -f='${Package}\t${Status}\n' "${PACKAGES[@]}" 2>/dev/null || true)

missing=()
for p in "${PACKAGES[@]}"; do
    [ "${status[${p%%:*}]:-}" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 ||
        die "not root and no sudo; install as root: ${missing[*]}"
    SUDO=(sudo)
fi

APT_LOG=$(mktemp "${TMPDIR:-/tmp}/rmqtopo-setup.XXXXXX.log")
POLICY=/usr/sbin/policy-rc.d
POLICY_MARK='# temporary: written by rmqtopo scripts/setup.sh'
OUR_POLICY=0

cleanup() {
    if [ "$OUR_POLICY" = 1 ] && grep -qxF "$POLICY_MARK" "$POLICY" 2>/dev/null; then
        "${SUDO[@]}" rm -f "$POLICY"
    fi
}
trap cleanup EXIT

if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\n%s\nexit 101\n' "$POLICY_MARK" |
        "${SUDO[@]}" tee "$POLICY" >/dev/null
    "${SUDO[@]}" chmod 755 "$POLICY"
    OUR_POLICY=1
fi

apt_get() {
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get -o DPkg::Lock::Timeout=600 "$@" >>"$APT_LOG" 2>&1
}

if ! apt_get update; then
    log "warning: apt-get update failed; trying the install anyway"
fi
if ! apt_get install -y --no-install-recommends "${missing[@]}"; then
    log "error: apt-get install failed; last lines of $APT_LOG:"
    tail -n 30 "$APT_LOG" >&2
    exit 1
fi

# Belt and braces: no system broker may be left running by the install.
for p in "${missing[@]}"; do
    [ "${p%%:*}" = rabbitmq-server ] || continue
    if pgrep -u rabbitmq -x beam.smp >/dev/null 2>&1; then
        log "stopping the system rabbitmq-server that the install started"
        if [ -x /etc/init.d/rabbitmq-server ]; then
            "${SUDO[@]}" /etc/init.d/rabbitmq-server stop >>"$APT_LOG" 2>&1 || true
        fi
        mapfile -t pids < <(pgrep -u rabbitmq -x beam.smp || true)
        [ ${#pids[@]} -eq 0 ] || "${SUDO[@]}" kill -TERM "${pids[@]}" 2>/dev/null || true
    fi
done

rm -f "$APT_LOG"
printf 'setup.sh: installed %s\n' "${missing[*]}"
