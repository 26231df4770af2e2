#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time. Usage: scripts/fuzz.sh [--build-only] TARGET [SECONDS]   (default 30)
#   --build-only: build the target and stop (make test builds all eight before running any)
#   document:  DSSE envelope decoding and verification, sealed gossip packets, key files (DocumentFuzz)
#   netlink:   decoders of kernel netlink replies (NetlinkFuzz)
#   vrrp:      VRRP decoders (IPv4 and IPv6) and the state machine's receive path (VRRPFuzz)
#   gossip:    gossip packet decoder and the SWIM engine's receive path (GossipFuzz)
#   gossipnet: the sealed transport's receive path: frame splitting, opening, decoding (GossipNetFuzz)
#   health:    health-probe answers: HTTP through the probe's pipeline, DNS, UDP and ICMP replies, SMTP conversations; gossiped node reports (HealthFuzz)
#   controller: request signature headers, reports through the cluster view, the event stream and API bodies (ControllerFuzz)
#   connsync:  IPVS sync datagrams and the kernel's connection listing, as the connection handover reads them (ConnSyncFuzz)
# Exits non-zero when the fuzzer finds a crash; the input is kept under .fuzz/artifacts/TARGET/.
set -euo pipefail

build_only=0
if [ "${1:-}" = "--build-only" ]; then build_only=1; shift; fi
target="${1:?usage: scripts/fuzz.sh document|netlink|vrrp|gossip|gossipnet|health|controller|connsync [SECONDS]}"
seconds="${2:-30}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

case "$target" in
    document) product=DocumentFuzz ;;
    netlink) product=NetlinkFuzz ;;
    vrrp) product=VRRPFuzz ;;
    gossip) product=GossipFuzz ;;
    gossipnet) product=GossipNetFuzz ;;
    health) product=HealthFuzz ;;
    controller) product=ControllerFuzz ;;
    connsync) product=ConnSyncFuzz ;;
    *) echo "fuzz.sh: unknown target '$target' (document, netlink, vrrp, gossip, gossipnet, health, controller, connsync)" >&2; exit 2 ;;
esac

seeds=Tests/Fuzz/$target-corpus     # committed seed inputs, never written by the fuzzer
corpus=.fuzz/$target-corpus         # what the fuzzer learns; git-ignored
artifacts=.fuzz/artifacts/$target/

# LB_FUZZ=1 makes Package.swift compile lb's own modules with -sanitize=fuzzer,address and -DFUZZ, in the
# debug build's scratch path: the dependencies (and libsodium, a system library) stay uninstrumented and
# are not built again. The address sanitizer catches misuse of the unsafe buffers handed to libsodium.
# The next plain `swift build` compiles lb's modules back without it.
export LB_FUZZ=1
swift build --product "$product"
[ "$build_only" = 1 ] && exit 0
binary="$(swift build --show-bin-path)/$product"

# Swift's backtracer would intercept the crash signals libFuzzer reports on.
export SWIFT_BACKTRACE=enable=no

mkdir -p "$corpus" "$artifacts" "$seeds"
if [ -z "$(ls -A "$seeds")" ]; then
    echo "writing seed inputs to $seeds"
    LB_FUZZ_WRITE_SEEDS="$seeds" "$binary"
fi

log=.fuzz/$target.log
# The full libFuzzer log goes to a file (it is thousands of lines); a failure prints its tail.
set +e
"$binary" "$corpus" "$seeds" -max_total_time="$seconds" -artifact_prefix="$artifacts" \
    -print_final_stats=1 >"$log" 2>&1
status=$?
set -e
if [ "$status" -ne 0 ]; then
    tail -n 60 "$log"
fi

executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
echo "fuzz $target: ${executions:-?} executions in ${seconds}s, exit status $status"
exit "$status"
