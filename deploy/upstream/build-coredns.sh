#!/usr/bin/env bash
# build-coredns.sh — builds upstream CoreDNS with livesign the way CoreDNS documents for external
# plugins (https://coredns.io/2017/07/25/compile-time-enabling-or-disabling-plugins/): one line in
# plugin.cfg, `go generate`, `go build`. It is what `make coredns-upstream` runs and what
# test/upstream_test.go checks.
#
#   usage: deploy/upstream/build-coredns.sh OUTPUT [WORKDIR]
#
# 1. The CoreDNS source is the module version that livesign's go.mod requires, taken from the Go
#    module cache (`go mod download -json github.com/coredns/coredns@VERSION`, which fetches it
#    from the module proxy when it is not cached yet), copied to WORKDIR (default: a temporary
#    directory, removed afterwards) and made writable.
# 2. `livesign:github.com/livesign/livesign` goes into plugin.cfg right after `dnssec:dnssec`.
# 3. The CoreDNS module requires github.com/livesign/livesign, replaced by this checkout.
# 4. CoreDNS's own Makefile steps: `go generate coredns.go` (directives_generate.go writes
#    core/plugin/zplugin.go and core/dnsserver/zdirectives.go; owners_generate.go plugin/chaos/
#    zowners.go), `go get`, then a static build (CGO_ENABLED=0, -tags grpcnotrace, as CoreDNS's
#    Makefile does, plus -trimpath so that the Go build cache is shared with
#    `make image` and with earlier runs).
# 5. OUTPUT -plugins must list livesign.
#
# Environment: GO (default go). GOTOOLCHAIN=local: the Go in PATH builds, no toolchain download.
# GOFLAGS=-mod=mod lets the build add the requirements livesign brings to CoreDNS's go.mod; the
# sums come from CoreDNS's and livesign's go.sum, so nothing is fetched when the module cache
# already holds what `go build ./cmd/coredns` in this checkout used.
set -euo pipefail

GO=${GO:-go}
export GOTOOLCHAIN=local
export GOFLAGS=-mod=mod

if [[ $# -lt 1 || $# -gt 2 ]]; then
  echo "usage: $0 OUTPUT [WORKDIR]" >&2
  exit 2
fi
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=$1
[[ $OUT == /* ]] || OUT=$PWD/$OUT

cd "$REPO"
version=$("$GO" list -m -f '{{.Version}}' github.com/coredns/coredns)
src=$("$GO" mod download -json "github.com/coredns/coredns@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
if [[ -z $src || ! -f $src/plugin.cfg ]]; then
  echo "build-coredns: no CoreDNS $version source in the module cache (go mod download failed?)" >&2
  exit 1
fi

if [[ $# -eq 2 ]]; then
  WORK=$2
  mkdir -p "$WORK"
else
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/coredns-upstream.XXXXXX")
  trap 'chmod -R u+w "$WORK" 2>/dev/null; rm -rf "$WORK"' EXIT
fi
WORK=$(cd "$WORK" && pwd)
dst=$WORK/coredns
rm -rf "$dst"
cp -R "$src" "$dst"
chmod -R u+w "$dst" # the module cache is read-only
echo "build-coredns: CoreDNS $version from $src in $dst" >&2

cd "$dst"
# 2. plugin.cfg: livesign right after dnssec (the order of plugin.cfg is the order of the chain).
if ! grep -qx 'dnssec:dnssec' plugin.cfg; then
  echo "build-coredns: plugin.cfg of CoreDNS $version has no dnssec:dnssec line" >&2
  exit 1
fi
sed -i '/^dnssec:dnssec$/a livesign:github.com/livesign/livesign' plugin.cfg

# 3. The module points at this checkout; livesign's go.sum lines cover what it brings along.
"$GO" mod edit -require=github.com/livesign/livesign@v0.0.0-00010101000000-000000000000 \
  -replace=github.com/livesign/livesign="$REPO"
cat "$REPO/go.sum" >>go.sum
sort -u -o go.sum go.sum

# 4. CoreDNS's Makefile: `go generate coredns.go`, `go get`, then the build.
"$GO" generate coredns.go
"$GO" get
CGO_ENABLED=0 "$GO" build -trimpath -tags=grpcnotrace -ldflags="-s -w" -o "$OUT" .

# 5. The binary knows the plugin.
# (CoreDNS 1.15 prints one plugin name a line; older versions printed "  dns.<name>".)
if ! "$OUT" -plugins | grep -Eqx '[[:space:]]*(dns\.)?livesign'; then
  echo "build-coredns: $OUT -plugins does not list livesign:" >&2
  "$OUT" -plugins >&2
  exit 1
fi
echo "build-coredns: $OUT ($("$OUT" -version | head -n1)) lists livesign" >&2
