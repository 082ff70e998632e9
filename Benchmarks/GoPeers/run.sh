#!/usr/bin/env bash
# Runs the Go peers of W1, W4, W6 and W7 (Docs/Performance.md) when `go` is installed; otherwise
# says so and succeeds. Compare with `sluice-throughput` run right before or after, on the same
# idle machine.
#
#   Benchmarks/GoPeers/run.sh [rounds] [workloads, e.g. w1,w6]
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v go > /dev/null; then
    echo "go is not installed: skipping the Go peers (Debian: apt-get install golang-go)"
    exit 0
fi
go run . "$@"
