#!/usr/bin/env bash
# Runs every Go fuzz target of the module, one after the other, for FUZZTIME
# each (default 30s): the targets are found with `go test -list '^Fuzz'` in
# every package of `go list ./...`, so new ones are picked up without change
# here. Fails if any target fails.
#
#   FUZZTIME=2m scripts/fuzz.sh          # longer
#   FUZZTIME=5s scripts/fuzz.sh ./keystore/...   # only some packages
#
# A failing input is written by go test to PKGDIR/testdata/fuzz/TARGET/NAME,
# where plain `go test` replays it from then on: fix the bug, then commit the
# file as a regression seed (or delete it if the target itself was wrong).
set -euo pipefail

cd "$(dirname "$0")/.."
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-30s}
patterns=("$@")
if [ ${#patterns[@]} -eq 0 ]; then
	patterns=(./...)
fi

total=0
failed=()
start=$(date +%s)
for pkg in $("$GO" list "${patterns[@]}"); do
	# -list compiles the tests and prints the matching names, then "ok ...".
	targets=$("$GO" test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true)
	[ -n "$targets" ] || continue
	dir=$("$GO" list -f '{{.Dir}}' "$pkg")
	for t in $targets; do
		total=$((total + 1))
		echo "fuzz: $pkg $t for $FUZZTIME"
		if "$GO" test -run '^$' -fuzz "^${t}\$" -fuzztime "$FUZZTIME" "$pkg"; then
			echo "fuzz: $pkg $t ok"
		else
			echo "fuzz: $pkg $t FAILED: the failing input is under $dir/testdata/fuzz/$t/ (go test -run '$t/NAME' $pkg replays it)"
			failed+=("$pkg $t")
		fi
	done
done

echo "fuzz: $total targets in $(( $(date +%s) - start ))s, ${#failed[@]} failed"
if [ ${#failed[@]} -gt 0 ]; then
	printf 'fuzz: FAILED %s\n' "${failed[@]}"
	exit 1
fi
