#!/usr/bin/env bash
# install-test-tools.sh — installs the DNS tools livesign's tests use to judge its answers:
#   unbound          validating resolver (internal/validators.StartUnbound)
#   bind9-dnsutils   dig, delv (internal/validators.Delv)
#   bind9-utils      dnssec-keygen, dnssec-dsfromkey, dnssec-signzone, dnssec-verify
#   ldnsutils        ldns-keygen, ldns-signzone, ldns-verify-zone
#   knot-dnsutils    kdig
#   knot             knotd (Knot DNS, the other offline-KSK implementation)
#   knot-dnssecutils keymgr (Knot's KSR/SKR side: generate-ksr, sign-ksr, import-skr)
#   knot-resolver    kresd (internal/validators.StartKresd, a third validator)
#   podman           builds the container image from Dockerfile.scratch (test/deploy_image_test.go)
#   prometheus       promtool: checks and unit-tests deploy/prometheus/livesign-rules.yml
#   libcap2-bin      setcap: gives the image's coredns cap_net_bind_service, as make image does
#   chromium         headless browser: renders livesign check -svg's picture to a PNG
#                    (cmd/livesign/browser_test.go)
#   fonts-dejavu-core DejaVu Sans, the font that picture names, so its labels render the same
# and, without touching the system's apt sources or its BIND 9.18:
#   BIND 9.20        dnssec-ksr (+ dnssec-keygen, dnssec-signzone, dig, delv, ... of 9.20) from
#                    bookworm-backports, unpacked into $LIVESIGN_TOOLS_DIR/bind920 (default
#                    <repo>/.tools/bind920; a relative LIVESIGN_TOOLS_DIR is taken relative to the
#                    repo root), programs in <dir>/bind920/bin (internal/validators.BIND920).
#
# Only Debian packages, through apt-get; nothing else is downloaded. Idempotent: packages already
# installed are left alone and apt is not touched at all when nothing is missing; BIND 9.20 is
# skipped when <dir>/bind920/bin/dnssec-ksr -V runs. No daemon is left running: a temporary
# policy-rc.d forbids service starts during the install, and a daemon a package started anyway
# is stopped afterwards. Uses sudo when not run as root, and only when a system package is missing:
# the BIND 9.20 copy is fetched and unpacked as the calling user (apt-get with private
# directories and dpkg-deb -x need no root).
#
#   usage: scripts/install-test-tools.sh
set -euo pipefail

PKGS=(unbound bind9-dnsutils bind9-utils ldnsutils knot-dnsutils knot knot-dnssecutils knot-resolver podman prometheus libcap2-bin chromium fonts-dejavu-core)

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS_DIR=${LIVESIGN_TOOLS_DIR:-.tools}
[[ $TOOLS_DIR == /* ]] || TOOLS_DIR=$REPO/$TOOLS_DIR
BIND920=$TOOLS_DIR/bind920

# sudo for apt-get and the daemon clean-up when not root; needed only when a package is missing.
SUDO=()
if [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
fi

# Everything this script leaves behind on exit, success or not: its policy-rc.d, a half-built
# BIND 9.20 staging directory.
own_policy=0
STAGE=
cleanup() {
  if ((own_policy)); then "${SUDO[@]}" rm -f /usr/sbin/policy-rc.d; fi
  if [[ -n $STAGE ]]; then rm -rf "$STAGE"; fi
}
trap cleanup EXIT

# Debian puts kresd, knotd, keymgr and unbound in /usr/sbin, outside a normal user's PATH.
PATH=$PATH:/usr/sbin:/sbin

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
  if [[ $(id -u) -ne 0 && ${#SUDO[@]} -eq 0 ]]; then
    echo "install-test-tools: ${missing[*]} missing, not root and sudo is not available" >&2
    exit 1
  fi
  echo "install-test-tools: installing ${missing[*]}" >&2
  log=$(mktemp "${TMPDIR:-/tmp}/install-test-tools.XXXXXX.log")

  policy=/usr/sbin/policy-rc.d
  if [[ ! -e $policy ]]; then
    # exit 101 = "action forbidden": invoke-rc.d starts no service while we install.
    printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
    "${SUDO[@]}" chmod 755 "$policy"
    own_policy=1
  fi

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

  # Without systemd a package's postinst may still have started its daemon anyway: for each
  # daemon package we just installed, stop the system daemon it started, found through its own
  # pid file (knot-resolver ships only systemd units, kresd@N, whose pid files live here too).
  stop_started() { # stop_started PACKAGE PIDFILE...
    local pkg=$1 pidf
    shift
    [[ " ${missing[*]} " == *" $pkg "* ]] || return 0
    for pidf in "$@"; do
      if [[ -s $pidf ]]; then
        "${SUDO[@]}" kill "$(cat "$pidf")" 2>/dev/null || true
      fi
    done
  }
  stop_started unbound /run/unbound.pid /run/unbound/unbound.pid
  stop_started knot /run/knot/knot.pid
  stop_started knot-resolver /run/knot-resolver/kresd*.pid
  stop_started prometheus /run/prometheus/prometheus.pid
  rm -f "$log"
fi

# install_bind920 unpacks BIND 9.20's bind9-utils, bind9-dnsutils and bind9-libs from
# bookworm-backports, plus whatever runtime library they need that this system lacks, into
# $BIND920/root, and writes wrappers into $BIND920/bin that set LD_LIBRARY_PATH (relative to
# their own location, so the directory can move). The package index lives in a private apt
# directory (a private sources list naming only bookworm-backports, private lists and archives,
# the system's Debian mirror and keyring): /etc/apt and the installed BIND 9.18 stay untouched.
# Everything is built in a staging directory that replaces $BIND920 only once dnssec-ksr runs.
install_bind920() {
  echo "install-test-tools: unpacking BIND 9.20 from bookworm-backports into $BIND920" >&2
  mkdir -p "$TOOLS_DIR"
  STAGE=$TOOLS_DIR/.bind920.$$
  rm -rf "$STAGE"
  local apt=$STAGE/apt
  local log=$apt/apt.log
  mkdir -p "$apt/sources" "$apt/prefs" "$apt/lists/partial" "$apt/archives/partial" "$STAGE/root" "$STAGE/bin"
  bfail() {
    echo "install-test-tools: BIND 9.20: $1; last lines of the apt log:" >&2
    tail -n 25 "$log" >&2
    exit 1
  }

  # The machine's own Debian mirror and keyring: the first deb822 stanza or sources.list line
  # for the "bookworm" suite itself (not -security, not -updates); deb.debian.org otherwise.
  local src='' key=''
  if compgen -G '/etc/apt/sources.list.d/*.sources' >/dev/null; then
    read -r src key < <(awk '
      function done() { if (!found && uri != "" && suites ~ / bookworm /) { print uri, key; found = 1; exit } uri = ""; suites = ""; key = "" }
      /^[ \t]*$/ { done(); next }
      tolower($1) == "uris:" { uri = $2 }
      tolower($1) == "suites:" { $1 = ""; suites = $0 " " }
      tolower($1) == "signed-by:" { key = $2 }
      END { done() }
    ' /etc/apt/sources.list.d/*.sources) || true
  fi
  if [[ -z $src && -r /etc/apt/sources.list ]]; then
    src=$(sed -E 's/\[[^]]*\]//' /etc/apt/sources.list | awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }')
  fi
  src=${src:-http://deb.debian.org/debian}
  [[ -n $key && -r $key ]] || key=/usr/share/keyrings/debian-archive-keyring.gpg
  [[ -r $key ]] || bfail "no Debian archive keyring at $key"
  echo "deb [signed-by=$key] $src bookworm-backports main" >"$apt/sources/backports.list"

  local -a priv=(-o Dir::Etc::sourcelist=/dev/null -o Dir::Etc::sourceparts="$apt/sources"
    -o Dir::Etc::preferences=/dev/null -o Dir::Etc::preferencesparts="$apt/prefs"
    -o Dir::State::Lists="$apt/lists" -o Dir::Cache::Archives="$apt/archives"
    -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=)
  # As root apt downloads as the _apt user, who cannot write into a private directory: stay root.
  local -a sys=()
  if [[ $(id -u) -eq 0 ]]; then
    priv+=(-o APT::Sandbox::User=root)
    sys+=(-o APT::Sandbox::User=root)
  fi
  apt-get "${priv[@]}" -q update >>"$log" 2>&1 || bfail "apt-get update of bookworm-backports ($src) failed"

  local ver
  ver=$(apt-cache "${priv[@]}" show bind9-utils 2>/dev/null | awk '$1 == "Version:" && $2 ~ /^1:9\.20\./ { print $2; exit }')
  [[ -n $ver ]] || bfail "no BIND 9.20 bind9-utils in bookworm-backports"

  cd "$apt/archives"
  local p
  for p in bind9-utils bind9-dnsutils bind9-libs; do
    apt-get "${priv[@]}" -q download "$p=$ver" >>"$log" 2>&1 || bfail "apt-get download $p=$ver failed"
  done
  # Runtime dependencies the system does not satisfy (a fresh machine may lack liburcu8, for
  # one): the first alternative of each Depends clause, breadth first, from backports if it has
  # the package, else from the system's own sources (apt-get download: nothing is installed).
  local -A seen=([bind9-utils]=1 [bind9-dnsutils]=1 [bind9-libs]=1 [bind9-host]=1)
  local -a queue=(*.deb)
  local deb clause name op want have before
  local verre='\(([<>=]+)[[:space:]]*([^[:space:])]+)[[:space:]]*\)' # "(>= 1.2)" -> ">=" "1.2"
  while ((${#queue[@]})); do
    deb=${queue[0]}
    queue=("${queue[@]:1}")
    while IFS= read -r clause; do
      clause=${clause%%|*}
      read -r name _ <<<"$clause" || true
      name=${name%%:*}
      [[ -n $name && -z ${seen[$name]:-} ]] || continue
      seen[$name]=1
      op='' want=''
      if [[ $clause =~ $verre ]]; then
        op=${BASH_REMATCH[1]} want=${BASH_REMATCH[2]}
      fi
      have=$(dpkg-query -W -f='${Status} ${Version}\n' "$name" 2>/dev/null | awk '/^install ok installed/ { print $4; exit }')
      if [[ -n $have ]] && { [[ -z $op ]] || dpkg --compare-versions "$have" "$op" "$want"; }; then
        continue
      fi
      echo "fetching dependency $name ${op:+($op $want)}, installed: ${have:-none}" >>"$log"
      before=$(ls)
      apt-get "${priv[@]}" -q download "$name/bookworm-backports" >>"$log" 2>&1 ||
        apt-get "${sys[@]}" -q download "$name" >>"$log" 2>&1 ||
        bfail "dependency $name: not in bookworm-backports nor in the system's sources (apt-get update?)"
      while IFS= read -r p; do
        queue+=("$p")
      done < <(comm -13 <(echo "$before") <(ls) | grep '\.deb$')
    done < <(dpkg-deb -f "$deb" Depends Pre-Depends | sed 's/^[A-Za-z-]*: //' | tr ',' '\n' | sed 's/^ *//')
  done
  cd "$REPO"

  for deb in "$apt"/archives/*.deb; do
    dpkg-deb -x "$deb" "$STAGE/root" || bfail "dpkg-deb -x $deb failed"
  done

  # Wrappers: LD_LIBRARY_PATH = every directory of the unpacked tree that holds a shared library.
  local libdirs prog
  libdirs=$(cd "$STAGE/root" && find . -name '*.so*' -printf '%h\n' | sort -u | sed 's|^\./||' | paste -sd' ')
  for prog in "$STAGE"/root/usr/bin/* "$STAGE"/root/usr/sbin/*; do
    [[ -f $prog && -x $prog ]] || continue
    name=${prog##*/}
    {
      echo '#!/bin/sh'
      echo "# BIND $ver $name, unpacked by scripts/install-test-tools.sh"
      echo 'case $0 in */*) r=${0%/*} ;; *) r=. ;; esac  # no dirname: works with an empty PATH'
      echo 'r=$(cd "$r/../root" && pwd) || exit 127'
      echo 'l='
      echo "for d in $libdirs; do l=\$l\${l:+:}\$r/\$d; done"
      echo 'LD_LIBRARY_PATH=$l${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} exec "$r/'"${prog#"$STAGE/root/"}"'" "$@"'
    } >"$STAGE/bin/$name"
    chmod 755 "$STAGE/bin/$name"
  done

  if ! "$STAGE/bin/dnssec-ksr" -V >>"$log" 2>&1; then
    echo "install-test-tools: BIND 9.20: dnssec-ksr does not run; libraries not found:" >&2
    LD_LIBRARY_PATH=$(find "$STAGE/root" -name '*.so*' -printf '%h\n' | sort -u | paste -sd:) \
      ldd "$STAGE/root/usr/bin/dnssec-ksr" | grep 'not found' >&2 || true
    bfail "dnssec-ksr -V failed"
  fi
  echo "$ver" >"$STAGE/VERSION"
  rm -rf "$apt" "$BIND920"
  mv "$STAGE" "$BIND920"
  STAGE=
}

if ! "$BIND920/bin/dnssec-ksr" -V >/dev/null 2>&1; then
  install_bind920
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
knotd|knotd -V
keymgr|keymgr -V
kresd|kresd --version
podman|podman --version
promtool|promtool --version
TOOLS
# BIND 9.20 lives outside PATH, in the tools directory.
v=$("$BIND920/bin/dnssec-ksr" -V 2>&1 | grep -m1 .) || { v=MISSING; status=1; }
printf '%-18s %s (%s)\n' dnssec-ksr "$v" "$BIND920/bin"
exit "$status"
