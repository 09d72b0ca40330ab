#!/usr/bin/env bash
# bench.sh — `make bench`: the load benchmark of bench/run.sh (CoreDNS file / dnssec / livesign,
# Knot onlinesign, PowerDNS live signing under dnsperf), the crypto bound and the Go
# micro-benchmarks; writes bench/results.md. Settings come from the environment (ROUNDS,
# DURATION, SERVERS, WORKLOADS, ...): see bench/README.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec bench/run.sh "$@"
