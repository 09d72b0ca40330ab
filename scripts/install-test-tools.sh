#!/usr/bin/env bash
# install-test-tools.sh — installs the DNS tools livesign's tests use to judge its answers:
#   unbound          validating resolver (internal/validators.StartUnbound)
#   bind9-dnsutils   dig, delv (internal/validators.Delv)
#   bind9-utils      dnssec-keygen, dnssec-dsfromkey, dnssec-signzone, dnssec-verify
#   ldnsutils        ldns-keygen, ldns-signzone, ldns-verify-zone
#   knot-dnsutils    kdig
#
# Only Debian packages, through apt-get; nothing else is downloaded. Idempotent: packages already
# installed are left alone and apt is not touched at all when nothing is missing. No daemon is
# left running: a temporary policy-rc.d forbids service starts during the install, and a daemon
# a package started anyway is stopped afterwards. Uses sudo when not run as root.
#
#   usage: scripts/install-test-tools.sh
set -euo pipefail

PKGS=(unbound bind9-dnsutils bind9-utils ldnsutils knot-dnsutils)

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "install-test-tools: not root and sudo is not available" >&2
    exit 1
  fi
fi

installed() {
  dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed'
}

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${PKGS[@]}"; do
    installed "$p" || missing+=("$p")
  done
else
  echo "install-test-tools: dpkg-query not found: this script needs a Debian-based system" >&2
  exit 1
fi

if ((${#missing[@]})); then
  echo "install-test-tools: installing ${missing[*]}" >&2
  log=$(mktemp "${TMPDIR:-/tmp}/install-test-tools.XXXXXX.log")

  policy=/usr/sbin/policy-rc.d
  own_policy=0
  if [[ ! -e $policy ]]; then
    # exit 101 = "action forbidden": invoke-rc.d starts no service while we install.
    printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
    "${SUDO[@]}" chmod 755 "$policy"
    own_policy=1
  fi
  cleanup() {
    if ((own_policy)); then "${SUDO[@]}" rm -f "$policy"; fi
  }
  trap cleanup EXIT

  apt_env=(env DEBIAN_FRONTEND=noninteractive)
  apt_install=("${SUDO[@]}" "${apt_env[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}")
  apt_update=("${SUDO[@]}" "${apt_env[@]}" apt-get update -q)

  fail() {
    echo "install-test-tools: $1; last lines of $log:" >&2
    tail -n 25 "$log" >&2
    exit 1
  }

  # An image with empty package lists cannot install anything: update first then.
  if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
    "${apt_update[@]}" >>"$log" 2>&1 || fail "apt-get update failed"
  fi
  if ! "${apt_install[@]}" >>"$log" 2>&1; then
    # Stale lists (a package version that is gone from the mirror): refresh and retry once.
    "${apt_update[@]}" >>"$log" 2>&1 || fail "apt-get update failed"
    "${apt_install[@]}" >>"$log" 2>&1 || fail "apt-get install ${missing[*]} failed"
  fi

  # Without systemd a package's postinst may still have started its daemon anyway: if we just
  # installed unbound, stop the system unbound it started, found through its own pid file.
  if [[ " ${missing[*]} " == *" unbound "* ]]; then
    for pidf in /run/unbound.pid /run/unbound/unbound.pid; do
      if [[ -s $pidf ]]; then
        "${SUDO[@]}" kill "$(cat "$pidf")" 2>/dev/null || true
      fi
    done
  fi
  rm -f "$log"
fi

version() { # version TOOL COMMAND...: first line of the tool's version output, or "MISSING"
  local tool=$1
  shift
  if command -v "$tool" >/dev/null 2>&1; then
    "$@" 2>&1 | grep -m1 . || echo present
  else
    echo MISSING
  fi
}

status=0
while IFS='|' read -r tool cmd; do
  # shellcheck disable=SC2086 # cmd is a fixed word list from the table below
  v=$(version "$tool" $cmd)
  [[ $v == MISSING ]] && status=1
  printf '%-18s %s\n' "$tool" "$v"
done <<'TOOLS'
unbound|unbound -V
delv|delv -v
dig|dig -v
dnssec-keygen|dnssec-keygen -V
dnssec-dsfromkey|dnssec-dsfromkey -V
dnssec-signzone|dnssec-signzone -V
dnssec-verify|dnssec-verify -V
ldns-keygen|ldns-keygen -v
ldns-signzone|ldns-signzone -v
ldns-verify-zone|ldns-verify-zone -v
kdig|kdig -V
TOOLS
exit "$status"
