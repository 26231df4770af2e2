#!/usr/bin/env bash
# scripts/bench-websocket.sh [RUNS]: the WebSocket story's figures, lb against keepalived, in the qemu lab
# (`make bench-websocket`; ≈4 min a run on 2 cores). RUNS (default 5) runs of lab/scenarios/websocket.sh
# (200 WebSockets through a director crash and a return as after a reboot, then the rest of issue 13's
# story), then one run of lab/scenarios/keepalived-websocket.sh (keepalived 2.2.7 with lbctl's export of
# the same scenario and the same clients). Prints, per run, how many WebSockets survived the failover and
# the failback, the VIP move and the longest echo gap, and keepalived's row beside them. Debug binaries,
# as `make test` builds them; the directory of each run is printed, its figures are in output.log.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/opt/swift/usr/bin
runs=${1:-5}
bin=$(swift build --show-bin-path)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

figure() { grep -o "figure: .*" "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1; }

# lb's one client run spans the crash and the return, so "kept" is through both; keepalived's two runs are apart.
printf '%-4s %-8s %-10s %-16s %-16s %-6s %-15s %s\n' run checks vip_move kept_on_crash kept_on_return lost longest_gap_ms failback_ms
for i in $(seq "$runs"); do
    rm -rf "$work/in"
    lab/websocket-inputs.sh "$bin/lbctl" "$work/in" >/dev/null
    out=$work/run-$i.log
    lab/run.sh --timeout 600 --smp 2 --memory 2048 --no-keepalived --bin "$bin/lb-agent" --bin "$bin/lb-controller" \
        --bin "$bin/lbctl" --bin "$bin/lb-bench" --file "$work/in:/etc/lb" lab/scenarios/websocket.sh >"$out" 2>&1 || true
    closed=$(figure "$out" failover_closed_early)
    kept=$((200 - ${closed:-200}))
    printf '%-4s %-8s %-10s %-16s %-16s %-6s %-15s %s\n' "$i" "$(sed -n 's/^lab: \([0-9]*\) passed, \([0-9]*\) failed$/\1\/\2/p' "$out")" \
        "$(figure "$out" vip_move_ms) ms" "$kept/200" "$kept/200" "$(figure "$out" failover_lost)" \
        "$(figure "$out" failover_longest_echo_gap_ms)" "$(figure "$out" failback_ms) ms"
    grep -m1 '^lab/run:' "$out" || true
done

lbctl=$bin/lbctl
mkdir "$work/ka"
for n in lvs1 lvs2; do "$lbctl" export keepalived examples/reference.yaml --node "$n" --out "$work/ka/ka-$n.conf" 2>/dev/null; done
out=$work/keepalived.log
lab/run.sh --timeout 400 --bin "$bin/lb-bench" --file "$work/ka:/etc/lb" lab/scenarios/keepalived-websocket.sh >"$out" 2>&1 || true
printf '%-4s %-8s %-10s %-16s %-16s %-6s %-15s %s\n' ka - "$(figure "$out" ka_vip_move_ms) ms" "$(figure "$out" ka_failover_survived)" \
    "$(figure "$out" ka_failback_survived)" - - "$(figure "$out" ka_failback_ms) ms"
echo "keepalived: ipvsadm -C on the master repaired: $(figure "$out" ka_ipvsadm_C_repaired)"
grep -m1 '^lab/run:' "$out" || true
