# keepalived 2.2.7 through the same WebSocket story, for the README's comparison rows: the two
# directors run keepalived with the configuration `lbctl export keepalived` writes for the reference
# scenario (wrr, DR, persistence 3600, TCP_CHECK, lvs_sync_daemon on eth0), the real servers run
# `lb-bench websocket serve` with the VIP on lo and ARP suppressed by hand, as the classic guides say;
# the client holds the same mix of WebSockets as lab/scenarios/websocket.sh:
#   1. director crash: lvs1's link down, then SIGKILL of every keepalived process there (so it cannot
#      resign); lvs2 takes the VIP (`ka_vip_move_ms`); the connections that survive;
#   2. director return as after a reboot: a fresh lvs1 namespace (an empty connection table), keepalived
#      started again; it preempts (priority 100 > 99) as soon as it is up; the connections that survive;
#   3. drift: `ipvsadm -C` on the master; whether keepalived puts the service back within 15 s.
# Figures only (the checks say what keepalived did, they do not expect it to pass lb's goals).
#
# Inputs: /etc/lb/ka-lvs1.conf and ka-lvs2.conf (`lbctl export keepalived examples/reference.yaml --node
# lvsN`), /usr/local/bin/lb-bench; keepalived in the base image (lab/run.sh without --no-keepalived).
# Run by `make bench-websocket` (scripts/bench-websocket.sh), not by `make test`.
. /lab/lib.sh

VIP=192.168.1.200
CONNECTIONS=${CONNECTIONS:-200}
SOURCES=192.168.1.51,192.168.1.52,192.168.1.53,192.168.1.54
MIX=${MIX:-fast:0.1,heartbeat:0.8,idle:0.1}

keepalived_on() {
    "$LAB_IP" netns exec "$1" keepalived -n -l -D -f "/etc/lb/ka-$1.conf" -p "/tmp/ka-$1.pid" -r "/tmp/ka-$1-vrrp.pid" \
        -c "/tmp/ka-$1-chk.pid" -b "/tmp/ka-$1-bfd.pid" >>"/tmp/keepalived-$1.log" 2>&1 &
}
keepalived_pids() {
    local p
    for p in /proc/[0-9]*; do
        case "$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)" in *"/etc/lb/ka-$1.conf"*) echo "${p#/proc/}" ;; esac
    done
}
holds_vip() { ip -n "$1" -4 addr show dev eth0 2>/dev/null | grep -q "inet $VIP/24"; }
active_total() { lab_net "$1" ipvsadm -Ln -t "$VIP:80" 2>/dev/null | awk '$1 == "->" { n += $5 } END { print n + 0 }'; }
active_at_least() { [ "$(active_total "$1")" -ge "$2" ]; }
has_service() { lab_net "$1" ipvsadm -Ln | grep -q "^TCP  $VIP:80 "; }
summary() { grep -o "\"$2\":[0-9.]*" "/out/clients-$1.json" | head -n 1 | cut -d: -f2; }
exited() { ! kill -0 "$1" 2>/dev/null; }
clients() {
    "$LAB_IP" netns exec client lb-bench websocket clients --target "$VIP:80" --connections "$CONNECTIONS" --sources "$SOURCES" \
        --mix "$MIX" --duration 280 >"/out/clients-$1.json" 2>"/tmp/clients-$1.err" &
    pid_clients=$!
}
end_clients() {
    kill -TERM "$pid_clients"
    lab_wait 40 exited "$pid_clients" || kill -KILL "$pid_clients"
    wait "$pid_clients"
    echo "clients $1: $(cat "/out/clients-$1.json")"
    survivors=$(( $(summary "$1" opened) - $(summary "$1" closed_early) ))
}
crash() {
    ip link set "v-$1" down
    ip -n "$1" link set eth0 down
    # shellcheck disable=SC2046  # (pids are single words)
    kill -KILL $(keepalived_pids "$1") 2>/dev/null
}

lab_log "keepalived on lvs1 and lvs2 with lbctl's export of the reference scenario; WebSocket servers on rs1, rs2"
lab_topology || exit 1
for a in 51 52 53 54; do "$LAB_IP" -n client addr add "192.168.1.$a/24" dev eth0; done
for h in rs1 rs2; do
    lab_real_server_dr "$h"
    "$LAB_IP" netns exec "$h" lb-bench websocket serve --listen 0.0.0.0:80 --name "$h" >>"/tmp/serve-$h.log" 2>&1 &
done
# The master first, the backup once the VIP is up (LAB-NOTES: started together, both may become master).
keepalived_on lvs1
lab_wait 30 holds_vip lvs1
lab_check "keepalived on lvs1 holds the VIP" holds_vip lvs1
keepalived_on lvs2
sleep 5

lab_log "1. $CONNECTIONS WebSockets through lvs1, then lvs1 crashes"
clients crash
lab_wait 60 active_at_least lvs1 "$CONNECTIONS"
lab_check "all $CONNECTIONS open through lvs1" active_at_least lvs1 "$CONNECTIONS"
sleep 35   # long enough for every quiet connection's third packet, so the sync daemon has sent it
started=$(lab_now_ms)
crash lvs1
lab_wait 20 holds_vip lvs2
echo "figure: ka_vip_move_ms=$(($(lab_now_ms) - started))"
sleep 15
end_clients crash
echo "figure: ka_failover_survived=$survivors/$CONNECTIONS"

lab_log "2. lvs1 returns as after a reboot (a fresh namespace) and preempts"
clients failback
lab_wait 60 active_at_least lvs2 "$CONNECTIONS"
lab_check "all $CONNECTIONS open through lvs2" active_at_least lvs2 "$CONNECTIONS"
sleep 35
"$LAB_IP" netns del lvs1
ip link del v-lvs1 2>/dev/null
lab_host lvs1 192.168.1.100 || lab_fail "lvs1 made again" ""
started=$(lab_now_ms)
keepalived_on lvs1
lab_wait 30 holds_vip lvs1
echo "figure: ka_failback_ms=$(($(lab_now_ms) - started))"
sleep 15
end_clients failback
echo "figure: ka_failback_survived=$survivors/$CONNECTIONS"

lab_log "3. ipvsadm -C on the master: does keepalived put the service back?"
lab_net lvs1 ipvsadm -C
if lab_wait 15 has_service lvs1; then echo "figure: ka_ipvsadm_C_repaired=yes"; else echo "figure: ka_ipvsadm_C_repaired=no"; fi

for h in lvs1 lvs2; do
    # shellcheck disable=SC2046
    kill -TERM $(keepalived_pids "$h") 2>/dev/null
done
cp /tmp/keepalived-*.log /out/ 2>/dev/null
lab_done
