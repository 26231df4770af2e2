#!/usr/bin/env bash
# scripts/test.sh [FUZZ_SECONDS]: every test, as `make test` and CI run it, in the least time two cores allow.
#
#   1. The debug build with the tests (both cores), while the lab's kernel is fetched; then lb-agent,
#      lb-controller and lbctl linked again with the static Swift runtime into .build/debug-static
#      (scripts/static-link.sh: nothing is compiled again), for the package tests.
#   2. Two lanes at once, since each mostly leaves the other core idle:
#        vm     scripts/lab-tests.sh (qemu, whose scenarios measure failover times), then
#               scripts/package-tests.sh of those static binaries (it boots a VM too, so not beside the
#               lab's), at normal priority;
#        host   at nice 19: the eight fuzzers, built first (LB_FUZZ=1: lb's own modules instrumented in the
#               same scratch path, the dependencies not built again), each run FUZZ_SECONDS (default 20),
#               then swift test (mostly waiting on sockets and timers).
#      The host lane's output is printed as it goes; the vm lane's goes to a log printed when it ends.
#   3. A failed step does not stop the others; the summary names every failed step and the exit status
#      is non-zero if any failed. Each step prints its time (scripts/timed.sh).
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/opt/swift/usr/bin
fuzz_seconds=${1:-20}
fuzzers=(document netlink vrrp gossip gossipnet health controller connsync)
started=$SECONDS
logs=$(mktemp -d /tmp/lb-test.XXXXXX)
failed=()
vm_pid=""
cleanup() {
    # An interrupted run takes the lane's VMs with it (lab/run.sh kills qemu on TERM).
    [ -n "$vm_pid" ] && kill -TERM -- "-$vm_pid" 2>/dev/null
    rm -rf "$logs"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() {
    local name=$1
    shift
    scripts/timed.sh "$@" && return 0
    failed+=("$name")
    return 1
}

# 1. Build.
lab/kernel.sh --quiet >"$logs/kernel.out" 2>"$logs/kernel.err" &
kernel_pid=$!
step "debug build" swift build --build-tests
static=.build/debug-static
[ ${#failed[@]} -eq 0 ] && step "static link" scripts/static-link.sh "$static" lb-agent lb-controller lbctl
wait "$kernel_pid" || { cat "$logs/kernel.err"; failed+=("lab kernel (lab/kernel.sh)"); }
if ((${#failed[@]})); then
    echo "make test: the build failed (${failed[*]}); no test ran"
    exit 1
fi

# 2. The vm lane in its own process group, so that cleanup can stop it whole; each of its steps leaves
# its name in vm.failed when it fails.
LB_PACKAGE_BIN=$static setsid bash -c '
    scripts/timed.sh scripts/lab-tests.sh || echo "lab tests (scripts/lab-tests.sh)" >>"$0/vm.failed"
    scripts/timed.sh scripts/package-tests.sh || echo "package tests (scripts/package-tests.sh)" >>"$0/vm.failed"
' "$logs" >"$logs/vm.log" 2>&1 &
vm_pid=$!
echo "lab and package tests started beside the rest (pid $vm_pid); their log follows when they end"

fuzz_built=1
for target in "${fuzzers[@]}"; do
    step "fuzz build $target" nice -n 19 scripts/fuzz.sh --build-only "$target" || fuzz_built=0
done
if [ "$fuzz_built" = 1 ]; then
    for target in "${fuzzers[@]}"; do
        step "fuzz $target" nice -n 19 scripts/fuzz.sh "$target" "$fuzz_seconds"
    done
fi

# swift test last: it is mostly waiting, so it is what runs beside the lab's WebSocket scenario (the most
# timing-bound one, two virtual CPUs), while the fuzzers, a core each, run beside the lab's first scenarios.
# With the fuzzers beside it, that scenario missed its connection-sync and failover marks once.
step "swift test" nice -n 19 swift test --skip-build

echo "waiting for the lab and package tests ($((SECONDS - started)) s so far)"
wait "$vm_pid"
vm_pid=""
echo "---- lab and package tests ----"
cat "$logs/vm.log"
echo "---- end of lab and package tests ----"
if [ -f "$logs/vm.failed" ]; then
    mapfile -t vm_failed <"$logs/vm.failed"
    failed+=("${vm_failed[@]}")
fi

echo "make test: $((SECONDS - started)) s in all"
if ((${#failed[@]})); then
    printf 'make test: FAILED: %s\n' "${failed[@]}"
    exit 1
fi
echo "make test: every step passed"
