# The reference scenario run by the real daemon: `lb-agent run` on lvs1, lvs2, rs1 and rs2, one signed
# document pushed into their gossip cluster with `lbctl push` from the client, and then
#   1. convergence: the real servers' VIP on lo:0 and ARP sysctls, lvs1 VRRP master with the VIP and lvs2
#      backup, IPVS service, destinations, timeouts and both sync daemons on both directors, every agent's
#      status converged at v1, the client served through the VIP;
#   2. hitless changes: v2 (lvs2's priority 99 -> 98) and v3 (a third real server) make no VRRP
#      transition, and lvs1 holds the VIP in every sample taken every ~20 ms while they spread;
#   3. drift repaired, each with its time printed as `figure: NAME_ms=N`: ipvsadm -C and -d on the master,
#      the VIP deleted on the master, the VIP and arp_ignore on rs1; a foreign IPVS service is left alone;
#   4. failover: SIGTERM of lvs1's agent (it resigns: lvs2 takes over at once and serves the client; the
#      IPVS state stays), then lvs1's agent again, which restores v3 from its state directory, changes
#      nothing and preempts back;
#   6. health checks: rs2's listener stopped (removed from IPVS within the spec's bound) and started again;
#   7. quorum (v4): below it the sorry server is added, and removed again;
#   8. drain (v5, v6): the server holding the client's open connection goes to weight 0 and keeps it,
#      then its deadline (long past) removes it, with the open connections reported;
#   9. dynamic weight (v7, keepalived's misc_dynamic): an exec check's exit status sets the IPVS weight on
#      both directors (status - 2), a failing status removes the server, exit 0 restores its weight;
#  10. one-packet scheduling (v8, v9, keepalived's ops): a UDP service on the VIP with ops: true shows
#      the ops flag and its two destinations on both directors, the TCP service unchanged; ops: false
#      then clears the flag on the same service, edited in place;
#   5. every agent stopped, the tails of their logs printed.
#
# Inputs (lab/agent-inputs.sh makes them on the host): /etc/lb/{cluster.keyring,operator.pub,HOST.yaml,
# v1.json … v9-rsN.json,load.sh}, /usr/local/bin/lb-agent and lbctl. The logs are left in /out.
. /lab/lib.sh

VIP=192.168.1.200
SERVICE="$VIP:80"
AGENTS="lvs1 lvs2 rs1 rs2"
# A service lb did not make (on both directors): the agents must never touch it.
FOREIGN=192.168.1.250:8080

push() {
    lab_net client lbctl push "/etc/lb/$1.json" --seed "$(lab_addr "$2"):7946" \
        --keyring /etc/lb/cluster.keyring --trust /etc/lb/operator.pub --timeout 60
}

# converged_at HOST VERSION: the agent's /status (what `lb-agent status` reads) says converged at
# VERSION. Through busybox wget, for waiting: a debug lb-agent takes ≈2 s to start under TCG.
converged_at() {
    local out
    out=$(lab_net "$1" wget -q -O - http://127.0.0.1:9110/status) || return 1
    printf '%s\n' "$out" | grep -q '^  "converged" : true,$' && printf '%s\n' "$out" | grep -Eq "^  \"version\" : $2,?\$"
}

# status_says HOST VERSION [VRRP]: `lb-agent status` on HOST says document vVERSION, converged, and,
# when given, "vrrp VI_51 vrid 51 on eth0: VRRP..." (e.g. "MASTER priority 100"). Every output is
# appended to /out/status-HOST.txt, and printed under a FAIL line.
status_says() {
    local out
    # Five agents and this debug build share one emulated CPU: an answer within 5 s, the default, is not sure.
    out=$(lab_ns "$1" lb-agent status --timeout 30 --config "/etc/lb/$1.yaml" 2>&1)
    printf '%s\n' "$out" | tee -a "/out/status-$1.txt"
    printf '%s\n' "$out" | grep -Eq "^document +v$2 " || return 1
    printf '%s\n' "$out" | grep -Eq '^state +converged$' || return 1
    [ -z "$3" ] || printf '%s\n' "$out" | grep -Eq "^vrrp +VI_51 vrid 51 on eth0: $3( |\$)"
}

holds_vip() { ip -n "$1" -4 addr show dev eth0 | grep -q "inet $VIP/24"; }
lacks_vip() { ! holds_vip "$1"; }
elected() { holds_vip lvs1 && lacks_vip lvs2; }
exited() { ! kill -0 "$1" 2>/dev/null; }

# stopped HOST: waits for HOST's agent, signalled, to exit (20 s at most, then SIGKILL, so a hung agent
# fails a check instead of stalling the VM until its timeout) and checks that it exited 0.
stopped() {
    local pid status
    eval "pid=\$pid_$1"
    lab_wait 20 exited "$pid" || { lab_fail "$1's agent stopped within 20 s" "still running: SIGKILL"; kill -KILL "$pid"; }
    wait "$pid"
    status=$?
    lab_check_eq "$1's agent exited 0 on SIGTERM" 0 "$status"
}

# ipvs_complete HOST [ENDPOINT...]: HOST's IPVS table has lb's service with these destinations (rs1
# and rs2 when none are named), as direct routing with weight 1.
ipvs_complete() {
    local h=$1 out e
    shift
    out=$(lab_net "$h" ipvsadm -Ln 2>&1) || return 1
    printf '%s\n' "$out" | grep -Eq "^TCP  $SERVICE wrr persistent 3600" || return 1
    for e in ${*:-192.168.1.102:80 192.168.1.103:80}; do
        printf '%s\n' "$out" | grep -Eq "^  -> $e +Route +1 " || return 1
    done
}
foreign_kept() { lab_net "$1" ipvsadm -Ln | grep -Eq "^TCP  $FOREIGN rr"; }
has_destination() { lab_net "$1" ipvsadm -Ln | grep -Eq "^  -> $2 "; }
lacks_destination() { ! has_destination "$@"; }
weight_zero() { lab_net "$1" ipvsadm -Ln | grep -Eq "^  -> $2 +Route +0 "; }
# connection_on HOST: the real server of lb's service with an active connection on HOST.
connection_on() { lab_net "$1" ipvsadm -Ln | awk '$1 == "->" && $2 ~ /^192\.168\.1\.10[234]:80$/ && $5 >= 1 { print $2; exit }' | grep .; }
# http_stop HOST: stops HOST's busybox httpd (lab_http_server), so its health checks are refused. The
# lab's busybox has no pgrep: the process is found by its command line in /proc.
http_stop() {
    local p found=""
    for p in /proc/[0-9]*; do
        [ "$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)" = "httpd -p 80 -h /tmp/www-$1-80 " ] && { kill "${p#/proc/}"; found=1; }
    done
    [ -n "$found" ] || { echo "http_stop: no httpd of $1 found" >&2; return 1; }
}

rs_vip() { ip -n "$1" -4 addr show dev lo | grep -q "inet $VIP/32 scope global lo:0"; }
rs_arp_ignore() { [ "$(lab_net "$1" sysctl -n net.ipv4.conf.eth0.arp_ignore)" = 1 ]; }

# repaired FIGURE SINCE LIMIT CHECK...: polls CHECK every 10 ms for up to LIMIT seconds; prints
# `figure: FIGURE_ms=N`, N counted from SINCE (lab_now_ms just before the drift was made), and records a
# check. A CHECK is itself a command (ipvsadm ≈40 ms), so the resolution is that plus 10 ms.
repaired() {
    local figure=$1 since=$2 limit=$3 deadline
    shift 3
    deadline=$(($(lab_now_ms) + limit * 1000))
    while ! "$@" >/dev/null 2>&1; do
        if [ "$(lab_now_ms)" -gt "$deadline" ]; then
            lab_fail "$figure: repaired within ${limit}s" "\`$*\` still fails"
            return 1
        fi
        sleep 0.01
    done
    echo "figure: ${figure}_ms=$(($(lab_now_ms) - since))"
    lab_pass "$figure: repaired"
}

# transitions HOST FROM_LINE: the VRRP transition lines of HOST's agent log after line FROM_LINE.
transitions() { tail -n "+$(($2 + 1))" "/tmp/agent-$1.log" | grep -E 'VI_51: (INIT|BACKUP|MASTER) -> ' || true; }
lines() { wc -l <"/tmp/agent-$1.log"; }

lab_log "five hosts on one bridge: client, lvs1, lvs2, rs1, rs2"
lab_topology || exit 1
mkdir -p /var/lib/lb
for h in lvs1 lvs2; do
    lab_net "$h" ipvsadm -A -t "$FOREIGN" -s rr
    lab_net "$h" ipvsadm -a -t "$FOREIGN" -r 192.168.1.102:8080 -m
done
for h in rs1 rs2; do lab_http_server "$h" "hello from $h"; done
# rs3, the real server v3 adds, runs no agent (it is no node of the cluster's gossip): a namespace set
# up by hand, so the client is served whichever destination the scheduler picks once v3 is in force.
lab_host rs3 192.168.1.104 && lab_real_server_dr rs3 && lab_http_server rs3 "hello from rs3" || exit 1

# ---------------------------------------------------------------------------------------------
lab_log "1. lb-agent run on $AGENTS; lbctl push v1 from the client"
started=$(lab_now_ms)
for h in $AGENTS; do lab_start_agent "$h"; done
for h in $AGENTS; do
    lab_wait 60 grep -q 'Server started and listening' "/tmp/agent-$h.log" || lab_fail "$h: agent started" "$(tail -n 20 "/tmp/agent-$h.log")"
done
echo "figure: agents_start_ms=$(($(lab_now_ms) - started))"
lab_check_output "lbctl push v1" '^pushed v1 ' push v1 lvs1
lab_log "v1 pushed"

for h in rs1 rs2; do
    lab_wait 30 rs_vip "$h"
    lab_check_output "$h holds the VIP on lo:0" "inet $VIP/32 scope global lo:0" ip -n "$h" addr show dev lo
    lab_check "$h ignores ARP for the VIP (arp_ignore=1)" rs_arp_ignore "$h"
done
lab_wait 30 elected
lab_check "lvs1 holds $VIP/24" holds_vip lvs1
lab_check "lvs2 does not" lacks_vip lvs2
for h in lvs1 lvs2; do
    lab_wait 30 ipvs_complete "$h"
    lab_check "$h has the IPVS service with rs1 and rs2" ipvs_complete "$h"
    lab_check_output "$h has the WebSocket-aware timeouts" '7260 120 300' lab_net "$h" ipvsadm -Ln --timeout
    lab_check_output "$h runs the master sync daemon" '^master sync daemon \(mcast=eth0, syncid=0' lab_net "$h" ipvsadm -L --daemon
    lab_check_output "$h runs the backup sync daemon" '^backup sync daemon \(mcast=eth0, syncid=0' lab_net "$h" ipvsadm -L --daemon
    lab_check "$h keeps the foreign service $FOREIGN" foreign_kept "$h"
done
for h in $AGENTS; do lab_wait 30 converged_at "$h" 1; done
lab_log "every agent converged at v1"
lab_check "lvs1: lb-agent status: converged at v1, VRRP MASTER" status_says lvs1 1 "MASTER priority 100"
lab_check "lvs2: lb-agent status: converged at v1, VRRP BACKUP" status_says lvs2 1 "BACKUP priority 99"
lab_check "rs1: lb-agent status: converged at v1" status_says rs1 1
lab_check "rs2: lb-agent status: converged at v1" status_says rs2 1
lab_check_output "the client reaches a real server through the VIP" '^hello from rs[12]$' lab_http_get client "http://$VIP/"
lab_net lvs1 ipvsadm -Ln

# ---------------------------------------------------------------------------------------------
lab_log "2. hitless changes: v2 (lvs2 priority 98), v3 (a third real server), lvs1's VIP sampled every 20 ms"
from_lvs1=$(lines lvs1) from_lvs2=$(lines lvs2)
rm -f /tmp/sampler.stop
# One `ip -batch` is fed an "addr show" every 20 ms, with no fork per sample (one costs ≈50 ms under
# TCG): the pause is `read -t` on a FIFO nobody writes. Each sample prints lvs1's own address, and the
# VIP when it is there.
mkfifo /tmp/never
sampling_since=$(lab_now_ms)
(
    exec 3<>/tmp/never
    while [ ! -e /tmp/sampler.stop ]; do
        echo "address show dev eth0"
        read -r -t 0.02 -u 3 _
    done | ip -4 -o -n lvs1 -batch - >/tmp/vip-samples
) &
sampler=$!
lab_check_output "lbctl push v2" '^pushed v2 ' push v2 lvs2
lab_check_log "lvs2 took priority 98 in place" 'VI_51: updated in place \(BACKUP\): priority 99 -> 98' /tmp/agent-lvs2.log 30
lab_check_output "lbctl push v3" '^pushed v3 ' push v3 lvs1
lab_log "v3 pushed"
for h in lvs1 lvs2; do
    lab_wait 30 ipvs_complete "$h" 192.168.1.102:80 192.168.1.103:80 192.168.1.104:80
    lab_check "$h has the new destination rs3" ipvs_complete "$h" 192.168.1.102:80 192.168.1.103:80 192.168.1.104:80
done
for h in $AGENTS; do lab_wait 30 converged_at "$h" 3; done
lab_log "every agent converged at v3; sampling 4 s more"
# A backup that stopped hearing the master would take over after Master_Down_Interval (3.6 s): keep
# sampling that long after the last change before judging. Nothing to wait for here but time.
sleep 4
touch /tmp/sampler.stop
sampled_ms=$(($(lab_now_ms) - sampling_since))
wait "$sampler"
samples=$(grep -c 'inet 192\.168\.1\.100/24 ' /tmp/vip-samples)
missing=$((samples - $(grep -c "inet $VIP/24 " /tmp/vip-samples)))
echo "figure: vip_samples=$samples vip_samples_missing=$missing vip_sample_interval_ms=$((sampled_ms / (samples > 0 ? samples : 1)))"
lab_check "the VIP was sampled at least 100 times" [ "$samples" -ge 100 ]
lab_check_eq "lvs1 held the VIP in every sample" 0 "$missing"
lab_check_no_output "no VRRP transition on lvs1" '.' transitions lvs1 "$from_lvs1"
lab_check_no_output "no VRRP transition on lvs2" '.' transitions lvs2 "$from_lvs2"
lab_check "lvs1: lb-agent status: converged at v3, still MASTER" status_says lvs1 3 "MASTER priority 100"
lab_check "lvs2: lb-agent status: converged at v3, still BACKUP, priority 98" status_says lvs2 3 "BACKUP priority 98"
lab_check "rs1: lb-agent status: converged at v3" status_says rs1 3
lab_check "rs2: lb-agent status: converged at v3" status_says rs2 3
ALL="192.168.1.102:80 192.168.1.103:80 192.168.1.104:80"

# ---------------------------------------------------------------------------------------------
lab_log "3. drift on the master and on rs1"
t0=$(lab_now_ms)
lab_net lvs1 ipvsadm -C
# -C flushes every service, the foreign one too: put it back as its owner would, at once.
lab_net lvs1 ipvsadm -A -t "$FOREIGN" -s rr
lab_net lvs1 ipvsadm -a -t "$FOREIGN" -r 192.168.1.102:8080 -m
repaired ipvsadm_clear_repair "$t0" 10 ipvs_complete lvs1 $ALL
t0=$(lab_now_ms)
lab_net lvs1 ipvsadm -d -t "$SERVICE" -r 192.168.1.102:80
repaired ipvsadm_delete_destination_repair "$t0" 10 ipvs_complete lvs1 $ALL
t0=$(lab_now_ms)
ip -n lvs1 addr del "$VIP/24" dev eth0
repaired master_vip_delete_repair "$t0" 10 holds_vip lvs1
t0=$(lab_now_ms)
ip -n rs1 addr del "$VIP/32" dev lo
repaired rs_vip_delete_repair "$t0" 10 rs_vip rs1
t0=$(lab_now_ms)
lab_net rs1 sysctl -q -w net.ipv4.conf.eth0.arp_ignore=0
repaired rs_arp_ignore_repair "$t0" 10 rs_arp_ignore rs1
lab_check "lvs2 never took the VIP" lacks_vip lvs2
for h in lvs1 lvs2; do lab_check "$h kept the foreign service $FOREIGN" foreign_kept "$h"; done
lab_check_log "lvs1 logged the IPVS repairs" 'drift repaired: IPVS service 192\.168\.1\.200:80/tcp missing' /tmp/agent-lvs1.log
lab_check_log "lvs1 logged the VIP repair" "VI_51: $VIP/24 missing on eth0 while MASTER: re-added" /tmp/agent-lvs1.log
lab_check_output "lvs1's /metrics counts IPVS repairs" '^lb_drift_repairs_total\{kind="ipvs_service"\} [1-9]' \
    lab_net lvs1 wget -q -O - http://127.0.0.1:9110/metrics
lab_check_log "rs1 logged both repairs" 'drift repaired: net\.ipv4\.conf\.eth0\.arp_ignore was 0, want 1' /tmp/agent-rs1.log

# ---------------------------------------------------------------------------------------------
lab_log "4. failover: SIGTERM to lvs1's agent"
t0=$(lab_now_ms)
kill -TERM "$pid_lvs1"
repaired failover "$t0" 10 holds_vip lvs2
stopped lvs1
lab_check_log "lvs1's agent resigned" 'VI_51: MASTER -> INIT: shut down' /tmp/agent-lvs1.log
lab_check_log "lvs2 took over on the resignation" 'VI_51: BACKUP -> MASTER: master 192\.168\.1\.100 resigned' /tmp/agent-lvs2.log
lab_check "lvs1 released the VIP" lacks_vip lvs1
lab_check_output "the client reaches a real server through lvs2" '^hello from rs[123]$' lab_http_get client "http://$VIP/"
lab_check "lvs1 keeps its IPVS service (the agent leaves kernel state on stop)" ipvs_complete lvs1 $ALL
lab_check_output "lvs1 keeps its sync daemons" '^master sync daemon' lab_net lvs1 ipvsadm -L --daemon

lab_log "4b. lvs1's agent again, with nothing changed: it restores v3 and preempts"
from_lvs2=$(lines lvs2)
mv /tmp/agent-lvs1.log /tmp/agent-lvs1.first.log
t0=$(lab_now_ms)
lab_start_agent lvs1
lab_check_log "lvs1 restores v3 from its state directory" 'restoring v3 from /var/lib/lb/lvs1' /tmp/agent-lvs1.log 60
repaired preempt_after_restart "$t0" 30 holds_vip lvs1
lab_wait 10 lacks_vip lvs2
lab_check "lvs2 gave the VIP back" lacks_vip lvs2
lab_check_output "lvs2 went back to BACKUP" 'VI_51: MASTER -> BACKUP: advertisement from 192\.168\.1\.100 with priority 100 wins' transitions lvs2 "$from_lvs2"
lab_wait 30 converged_at lvs1 3
lab_check "lvs1: lb-agent status: converged at v3 after the restart, MASTER again" status_says lvs1 3 "MASTER priority 100"
lab_check_no_output "lvs1 changed nothing in the kernel on restart" 'applied v|drift repaired' cat /tmp/agent-lvs1.log
lab_check_output "the client reaches a real server through lvs1 again" '^hello from rs[123]$' lab_http_get client "http://$VIP/"

# ---------------------------------------------------------------------------------------------
lab_log "6. health checks: rs2's listener stopped, then started again"
# Bound of the spec: interval × retries + connect_timeout = 5 s × 3 + 3 s.
t0=$(lab_now_ms)
http_stop rs2
repaired rs2_down_removed "$t0" 18 lacks_destination lvs1 192.168.1.103:80
lab_wait 18 lacks_destination lvs2 192.168.1.103:80
lab_check "lvs2 removed rs2 too" lacks_destination lvs2 192.168.1.103:80
lab_check_log "lvs1 logged rs2 down" 'rs2 192\.168\.1\.103:80 of 192\.168\.1\.200:80/tcp down after 3 failures: connection refused' /tmp/agent-lvs1.log
lab_check_output "lvs1's status shows rs2's check down" '^check +rs2 192\.168\.1\.103:80 of 192\.168\.1\.200:80/tcp tcp: down' \
    lab_ns lvs1 lb-agent status --timeout 30 --config /etc/lb/lvs1.yaml
lab_check_output "the client is still served, by the others" '^hello from rs[13]$' lab_http_get client "http://$VIP/"
t0=$(lab_now_ms)
lab_http_server rs2 "hello from rs2"
repaired rs2_up_readded "$t0" 8 ipvs_complete lvs1 $ALL
lab_check_log "lvs1 logged rs2 up again" 'rs2 192\.168\.1\.103:80 of 192\.168\.1\.200:80/tcp up again' /tmp/agent-lvs1.log
lab_check_output "lvs1's /metrics counts the transitions" '^lb_health_transitions_total\{to="down"\} [1-9]' \
    lab_net lvs1 wget -q -O - http://127.0.0.1:9110/metrics
lab_check_output "lvs1's /metrics has the check latency histogram" '^lb_health_check_latency_seconds_count [1-9]' \
    lab_net lvs1 wget -q -O - http://127.0.0.1:9110/metrics

lab_log "7. v4: quorum 3 with a sorry server; rs2 stopped takes the service below quorum"
lab_host sorry 192.168.1.105 && lab_real_server_dr sorry && lab_http_server sorry "sorry" || exit 1
lab_check_output "lbctl push v4" '^pushed v4 ' push v4 lvs1
for h in $AGENTS; do lab_wait 30 converged_at "$h" 4; done
lab_check "no sorry server while all three are up" lacks_destination lvs1 192.168.1.105:80
t0=$(lab_now_ms)
http_stop rs2
repaired sorry_server_added "$t0" 18 has_destination lvs1 192.168.1.105:80
lab_check "rs2 is out" lacks_destination lvs1 192.168.1.103:80
t0=$(lab_now_ms)
lab_http_server rs2 "hello from rs2"
repaired sorry_server_removed "$t0" 8 lacks_destination lvs1 192.168.1.105:80
lab_check "rs2 is back" ipvs_complete lvs1 $ALL

lab_log "8. drain the real server the client's open connection went to: v5 (weight 0), v6 (deadline passed)"
mkfifo /tmp/hold
# An established connection through the VIP, held open: nc waits on a FIFO nobody writes.
( exec 3<>/tmp/hold; exec nsenter --net=/run/netns/client -- nc "$VIP" 80 <&3 >/dev/null 2>&1 ) &
holder=$!
lab_wait 10 connection_on lvs1
drained=$(connection_on lvs1)
case "$drained" in 192.168.1.102:80) n=1 ;; 192.168.1.103:80) n=2 ;; *) n=3 ;; esac
lab_log "the connection went to rs$n ($drained)"
lab_check_output "lbctl push v5-rs$n" '^pushed v5 ' push "v5-rs$n" lvs1
lab_wait 10 weight_zero lvs1 "$drained"
lab_check "lvs1 holds rs$n at weight 0 with its connection" weight_zero lvs1 "$drained"
lab_wait 10 weight_zero lvs2 "$drained"
lab_check "lvs2 holds rs$n at weight 0" weight_zero lvs2 "$drained"
lab_check "the client's connection is still open" kill -0 "$holder"
lab_check_no_output "not drained yet: it has a connection" 'drained' cat /tmp/agent-lvs1.log
lab_check_output "lbctl push v6-rs$n" '^pushed v6 ' push "v6-rs$n" lvs1
t0=$(lab_now_ms)
repaired drain_deadline_removed "$t0" 10 lacks_destination lvs1 "$drained"
lab_check_output "lvs1 logged the drain with its open connections" "rs$n $drained of $SERVICE/tcp drained at its deadline with [1-9][0-9]* connections? still open: removed" \
    cat /tmp/agent-lvs1.log
lab_check_output "lvs1's status reports it" "^drained +rs$n $drained of $SERVICE/tcp at .*: deadline, [1-9][0-9]* connection\(s\) still open" \
    lab_ns lvs1 lb-agent status --timeout 30 --config /etc/lb/lvs1.yaml
kill "$holder" 2>/dev/null

lab_log "9. v7: an exec check with dynamic_weight (keepalived's misc_dynamic) sets the weights in the kernel"
# has_weight HOST ADDR:PORT W: IPVS holds the destination at weight W.
has_weight() { lab_net "$1" ipvsadm -Ln | grep -Eq "^  -> $2 +Route +$3 "; }
lab_check_output "lbctl push v7-rs$n" '^pushed v7 ' push "v7-rs$n" lvs1
lab_wait 15 ipvs_complete lvs1 $ALL
lab_check "lvs1: exit 0 keeps every planned weight" has_weight lvs1 192.168.1.103:80 1
echo 12 >/tmp/load-192.168.1.102
t0=$(lab_now_ms)
repaired dynamic_weight_set "$t0" 10 has_weight lvs1 192.168.1.102:80 10
lab_wait 10 has_weight lvs2 192.168.1.102:80 10
lab_check "lvs2 sets the same weight from its own check" has_weight lvs2 192.168.1.102:80 10
lab_check "the other real servers keep theirs" has_weight lvs1 192.168.1.103:80 1
echo 5 >/tmp/load-192.168.1.102
lab_wait 10 has_weight lvs1 192.168.1.102:80 3
lab_check "exit 5: weight 3, in place" has_weight lvs1 192.168.1.102:80 3
echo 1 >/tmp/load-192.168.1.102
lab_wait 10 lacks_destination lvs1 192.168.1.102:80
lab_check "exit 1: the check fails and rs1 is removed" lacks_destination lvs1 192.168.1.102:80
rm -f /tmp/load-192.168.1.102
lab_wait 10 has_weight lvs1 192.168.1.102:80 1
lab_check "exit 0 again: rs1 is back at its planned weight" has_weight lvs1 192.168.1.102:80 1

lab_log "10. v8: a UDP service with ops (one-packet scheduling), then v9: ops off on the same service"
UDP_SERVICE="$VIP:5353"
# udp_service HOST [ops]: HOST's IPVS table has the UDP service, rr, with one-packet scheduling when
# "ops" is given and without it otherwise (ipvsadm -Ln prints " ops" after the scheduler, as for
# persistence), and rs1 and rs2 as direct-routing destinations with weight 1.
udp_service() {
    local out e
    out=$(lab_net "$1" ipvsadm -Ln 2>&1) || return 1
    printf '%s\n' "$out" | grep -Eq "^UDP  $UDP_SERVICE rr${2:+ $2} *\$" || return 1
    for e in 192.168.1.102:5353 192.168.1.103:5353; do
        printf '%s\n' "$out" | grep -Eq "^  -> $e +Route +1 " || return 1
    done
}
# changes_for HOST VERSION: how many changes HOST's agent made applying vVERSION, the sum of all its
# "applied vVERSION: N change(s)" lines (one apply may take more than one pass, each logged with its own
# count, and a pass can converge before the next: destinations wait for their first health check);
# fails until a "converged on vVERSION" line is there. Called once the kernel shows the whole version.
changes_for() {
    awk -v v="$2" '
        index($0, "applied v" v ": ") { s = $0; sub(/.*applied v[0-9]+: /, "", s); n += s + 0 }
        $0 ~ ("converged on v" v "$") { done = 1 }
        END { if (!done) exit 1; print n + 0 }' "/tmp/agent-$1.log"
}
lab_check_output "lbctl push v8-rs$n" '^pushed v8 ' push "v8-rs$n" lvs1
t0=$(lab_now_ms)
for h in lvs1 lvs2; do
    lab_wait 15 udp_service "$h" ops
    lab_check "$h has the UDP service with ops and rs1, rs2" udp_service "$h" ops
done
echo "figure: ops_service_ms=$(($(lab_now_ms) - t0))"
for h in lvs1 lvs2; do lab_check "$h keeps the TCP service as it was" ipvs_complete "$h" $ALL; done
for h in $AGENTS; do
    lab_wait 30 converged_at "$h" 8
    lab_check "$h converged at v8" converged_at "$h" 8
done
for h in lvs1 lvs2; do
    # Three changes: the UDP service and its two destinations, nothing of the TCP service.
    lab_wait 10 changes_for "$h" 8
    lab_check_eq "$h applied v8 as the new service alone (three changes)" 3 "$(changes_for "$h" 8)"
done
lab_net lvs1 ipvsadm -Ln
lab_check_output "lbctl push v9-rs$n" '^pushed v9 ' push "v9-rs$n" lvs1
t0=$(lab_now_ms)
for h in lvs1 lvs2; do
    lab_wait 15 udp_service "$h"
    lab_check "$h has the UDP service without ops, rs1 and rs2 kept" udp_service "$h"
done
echo "figure: ops_off_ms=$(($(lab_now_ms) - t0))"
for h in lvs1 lvs2; do
    # One change, the edit of the service: a delete and an add would be four (service, two destinations).
    lab_wait 10 changes_for "$h" 9
    lab_check_eq "$h edited the service in place (one change)" 1 "$(changes_for "$h" 9)"
done
for h in lvs1 lvs2; do lab_check "$h still keeps the TCP service as it was" ipvs_complete "$h" $ALL; done
lab_net lvs1 ipvsadm -Ln

# ---------------------------------------------------------------------------------------------
lab_log "5. SIGTERM to every agent"
for h in $AGENTS; do eval "kill -TERM \$pid_$h"; done
for h in $AGENTS; do stopped "$h"; done
for f in /tmp/agent-lvs1.first.log /tmp/agent-lvs1.log /tmp/agent-lvs2.log /tmp/agent-rs1.log /tmp/agent-rs2.log; do
    echo "---- $f (last 25 lines)"
    tail -n 25 "$f"
    cp "$f" /out/
done
lab_done
