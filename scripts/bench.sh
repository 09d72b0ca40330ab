#!/usr/bin/env bash
# bench.sh — runs the Go benchmarks (placeholder until the load benchmark with dnsperf lands).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec "${GO:-go}" test -run '^$' -bench . -benchmem ./...
