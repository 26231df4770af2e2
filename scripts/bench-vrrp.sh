#!/usr/bin/env bash
# VRRP failover benchmark: lb-agent pairs against keepalived pairs in network namespaces on this machine
# (root; keepalived installed), same settings for both. For v2 (advert 1 s, password) and v3 (advert
# 0.1 s): kill the master (SIGKILL, then separately SIGTERM) 5 ms after one of its adverts and time until
# the VIP answers ARP on the backup (probed every 0.25 ms from a client namespace). Prints every run and
# a table of medians next to the goals; exits non-zero if a goal is missed.
# Usage: scripts/bench-vrrp.sh [RUNS]   (default 5; ≈4 minutes)
set -euo pipefail

runs="${1:-5}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
scratch="${LB_SCRATCH:-.build}"

if [ "$(id -u)" -ne 0 ]; then echo "bench-vrrp.sh makes network namespaces: run it as root" >&2; exit 2; fi
scripts/install-deps.sh keepalived
for product in lb-agent lb-vrrp-bench; do
    swift build -c release --scratch-path "$scratch" --product "$product"
done
bin="$(swift build -c release --scratch-path "$scratch" --show-bin-path)"
exec "$bin/lb-vrrp-bench" --runs "$runs" --agent "$bin/lb-agent"
