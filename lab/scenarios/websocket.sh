# The reference scenario end to end with real WebSockets (issue 13): lb-controller in the client's
# namespace, `lb-agent run` on lvs1, lvs2, rs1 and rs2 (LAN gossip profile), the operator's lbctl against
# the controller, `lb-bench websocket serve` on the real servers and `lb-bench websocket clients` on the
# client (several source addresses, so persistence spreads them over both real servers):
#   1. `lbctl apply --wait` of v1 (examples/reference.yaml), lvs2's agent started once lvs1 holds the VIP;
#      `lbctl status`: lvs1 master, both real servers up;
#   2. 200 WebSockets through the VIP (fast 2 %, heartbeats 88 %, idle 10 %), all open on lvs1 and known
#      to lvs2 through the sync daemon;
#   3. director crash: lvs1's link down and its agent SIGKILLed; lvs2 takes the VIP (`vip_move_ms` polled
#      from the crash; the goal, Master_Down_Interval + 100 ms, checked on lvs2's own log: silence + VIP add);
#   4. director return as after a reboot: lvs1's namespace deleted and made again (an empty kernel table),
#      its agent started on the same state directory; it may preempt only once it carries every open
#      connection (`failback_ms`); ~10 s more traffic, then the 200 clients end: every one must still be
#      open, nothing lost (`failover_*` figures from the clients' JSON summaries);
#   5. real-server failure: rs2's server SIGKILLed, out of IPVS within interval x retries + connect timeout
#      (`rs_removal_ms`); 20 new WebSockets all go to rs1;
#   6. drain: rs2's server back; `lbctl drain rs1 --deadline 60s --wait` with the 20 open: weight 0 at once,
#      they go on, new connections go to rs2; the 20 close and `lbctl status` shows rs1's count fall;
#      `lbctl undrain rs1`;
#   7. tampering, each repair timed (`repair_*_ms`): rs1's lo VIP deleted, its all.arp_ignore set to 0, the
#      master's `ipvsadm -C`, then one destination deleted; a foreign IPVS service on the directors and a
#      foreign address on rs1, present from the start, are still there at the end;
#   8. forgery: a document signed by a key nobody trusts, pushed over gossip by a member holding the cluster
#      key, is refused by every agent and shown by `lbctl status`; the replayed v1 is taken by nobody;
#   9. controller loss: lb-controller SIGKILLed; rs2's lo VIP deleted is still repaired, and rs2's agent,
#      restarted with an empty state directory, gets the document from its peers;
# then every daemon stops and the tails of their logs are printed.
#
# Inputs (lab/websocket-inputs.sh makes them on the host): /etc/lb/{cluster.keyring,operator.key,operator.pub,
# HOST.yaml,controller.yaml,v1.yaml,forged.json,forger.pub}; /usr/local/bin/lb-agent, lb-controller, lbctl,
# lb-bench. The logs, the status outputs and the clients' JSON summaries are left in /out. As
# scripts/lab-tests.sh runs it (debug binaries stripped; two virtual CPUs: with one, beside four agents and a
# controller, it takes 270 s instead of 130-210 and the VIP's move after the crash misses its goal):
#     lab/websocket-inputs.sh .build/debug/lbctl /tmp/in/ws
#     lab/run.sh --timeout 600 --smp 2 --memory 2048 --no-keepalived --bin STRIPPED/lb-agent \
#         --bin STRIPPED/lb-controller --bin STRIPPED/lbctl --bin STRIPPED/lb-bench --file /tmp/in/ws:/etc/lb \
#         lab/scenarios/websocket.sh
. /lab/lib.sh

VIP=192.168.1.200
SERVICE="$VIP:80"
RS1=192.168.1.102:80
RS2=192.168.1.103:80
AGENTS="lvs1 lvs2 rs1 rs2"
# The load client's source addresses (on the client's eth0 beside .50, which the controller uses).
SOURCES=192.168.1.51,192.168.1.52,192.168.1.53,192.168.1.54
CONNECTIONS=200
# Mostly quiet, as real WebSocket applications are: heartbeats every 2-30 s, idle ones only at the start and
# the end, and a few every 200 ms. A few: 20 fast ones (the 10 % of `lb-bench websocket clients`' default
# mix) are 100 messages a second, which the debug binaries under TCG cannot carry beside four agents and a
# controller (the echoes fell minutes behind); 4 are 20 a second.
MIX=fast:0.02,heartbeat:0.88,idle:0.1
# Made before lb starts, by someone else: lb must leave them alone.
FOREIGN_SERVICE=10.9.9.9:81
FOREIGN_ADDRESS=10.9.9.1/32

# serve HOST: the WebSocket echo server on HOST's port 80, its pid in serve_HOST.
serve() {
    "$LAB_IP" netns exec "$1" lb-bench websocket serve --listen 0.0.0.0:80 --name "$1" >>"/tmp/serve-$1.log" 2>&1 &
    eval "serve_$1=$!"
}
# clients NAME N MIX M: N WebSockets through the VIP to director M, from every address of $SOURCES, in the
# background: lb-bench processes of $BATCH connections each (seeded apart), each started once the ones
# before are established on the director and have had 2 s for their upgrades. All at once, 200 upgrades
# by the debug binaries under TCG can take longer than the client's fixed 10 s open timeout.
# The pids are in clients_NAME; each process's JSON summary goes to /out/clients-NAME-K.json when it ends
# (SIGTERM, or --duration as a bound).
BATCH=50
clients() {
    local name=$1 left=$2 mix=$3 m=$4 k=0 n base pids=""
    base=$(active "$m")
    while [ "$left" -gt 0 ]; do
        k=$((k + 1))
        n=$((left < BATCH ? left : BATCH))
        left=$((left - n))
        "$LAB_IP" netns exec client lb-bench websocket clients --target "$SERVICE" --connections "$n" --sources "$SOURCES" \
            --mix "$mix" --seed "$k" --duration 280 >"/out/clients-$name-$k.json" 2>>"/tmp/clients-$name.err" &
        pids="$pids $!"
        base=$((base + n))
        slow_wait 30 active_at_least "$m" "$base" || lab_log "clients $name-$k: $(active "$m") of $base established on $m"
        [ "$left" -eq 0 ] || sleep 2
    done
    eval "clients_$name=\"$pids\""
}
# slow_wait SECONDS CMD...: lab_wait at 0.5 s, for polls that would take CPU from the WebSockets.
slow_wait() {
    local tries=$(($1 * 2))
    shift
    until "$@" >/dev/null 2>&1; do
        tries=$((tries - 1))
        [ "$tries" -gt 0 ] || return 1
        sleep 0.5
    done
}
exited() { ! kill -0 "$1" 2>/dev/null; }
# end_clients NAME: SIGTERM to each process in turn (each sends a last message per connection, waits 2 s
# for the echoes, closes cleanly and sums up; in turn, so that the last echoes of 200 do not come due at
# once); status_NAME is 0 when every process exited 0.
end_clients() {
    local pid pids rc=0
    eval "pids=\$clients_$1"
    for pid in $pids; do
        kill -TERM "$pid"
        lab_wait 40 exited "$pid" || { lab_fail "clients $1 ended within 40 s of SIGTERM" "SIGKILL"; kill -KILL "$pid"; }
        wait "$pid" || rc=$?
    done
    eval "status_$1=$rc clients_$1=''"
    echo "clients $1:"
    cat "/out/clients-$1-"*.json "/tmp/clients-$1.err"
}
# summary NAME KEY: a count of the clients' JSON summaries (one line each, each key unique), summed over
# the processes, or for a key ending in _ms, the largest.
summary() {
    cat "/out/clients-$1-"*.json | grep -o "\"$2\":[0-9.]*" | cut -d: -f2 | case "$2" in
        *_ms) awk '$1 > m { m = $1 } END { print m + 0 }' ;;
        *) awk '{ s += $1 } END { print s + 0 }' ;;
    esac
}
# survived NAME N: the checks of a run that must have opened N connections and kept every one that opened,
# and every message (one that failed to open is the client's or the emulation's fault, not the director's:
# it is counted once, in the first check, and does not hide what happened to the others).
survived() {
    local opened
    opened=$(summary "$1" opened)
    lab_check_eq "$1: $2 connections opened" "$2" "$opened"
    lab_check_eq "$1: none closed early" 0 "$(summary "$1" closed_early)"
    lab_check_eq "$1: all $opened still open at the end" "$opened" "$(summary "$1" still_open_at_end)"
    lab_check_eq "$1: no message lost" 0 "$(summary "$1" lost)"
    lab_check_eq "$1: none out of order or corrupted" 00 "$(summary "$1" out_of_order)$(summary "$1" corrupted)"
    eval "lab_check_eq \"\$1: the client exited 0\" 0 \"\$status_$1\""
    echo "figure: ${1}_longest_echo_gap_ms=$(summary "$1" longest_echo_gap_ms) ${1}_longest_stall_ms=$(summary "$1" longest_stall_ms) ${1}_closed_early=$(summary "$1" closed_early) ${1}_lost=$(summary "$1" lost)"
}

ctl() { lab_net client lbctl "$@" --controller http://127.0.0.1:9120 --key /etc/lb/operator.key; }
status_json() { ctl status -o json | tr -d '\n '; }
master_is() { status_json | grep -q "\"master\":\"$1\""; }
health_of() { status_json | grep -q "\"endpoint\":\"$1\",\"health\":\"$2\""; }
# status_active NODE ENDPOINT: the active connections to ENDPOINT that director NODE reports (empty when it
# lists none). Only the master's count is the real one: a backup counts the entries its sync daemon learnt.
# NODE's object is picked out of the pretty JSON by its indentation (its keys are sorted: "destinations"
# comes before "name").
status_active() {
    ctl status -o json | awk -v want="\"name\":\"$1\"" '
        /^    \{$/ { buf = ""; on = 1 }
        on { buf = buf $0 }
        on && /^    \},?$/ { on = 0; gsub(/ /, "", buf); if (index(buf, want)) print buf }' |
        grep -o "{[^{}]*\"endpoint\":\"$2\"[^{}]*}" | grep -o '"active":[0-9]*' | cut -d: -f2
}
status_active_at_least() { [ "$(status_active "$1" "$2")" -ge "$3" ] 2>/dev/null; }
status_active_zero() { local n; n=$(status_active "$1" "$2"); [ "${n:-0}" = 0 ]; }

# The agent's /status (what `lb-agent status` reads; busybox wget is quicker than it under TCG): pretty JSON
# with sorted keys, the top level indented by two spaces.
agent_status() { lab_net "$1" wget -q -O - http://127.0.0.1:9110/status; }
version_of() { agent_status "$1" | sed -n 's/^  "version" : \([0-9]*\),\{0,1\}$/\1/p'; }
converged_at() {
    local out
    out=$(agent_status "$1") || return 1
    printf '%s\n' "$out" | grep -q '^  "converged" : true,$' && printf '%s\n' "$out" | grep -Eq "^  \"version\" : $2,?\$"
}
refused_forgery() { agent_status "$1" | tr -d '\n ' | grep -o '"refused":{[^}]*}' | grep '"version":99' | grep -q '"reason":"unknown_key"'; }

holds_vip() { ip -n "$1" -4 addr show dev eth0 | grep -q "inet $VIP/24"; }
lacks_vip() { ! holds_vip "$1"; }
master() { if holds_vip lvs1; then echo lvs1; else echo lvs2; fi; }
# active HOST [ENDPOINT]: ActiveConn of lb's service on director HOST, one destination or all of them.
active() {
    lab_net "$1" ipvsadm -Ln -t "$SERVICE" 2>/dev/null | awk -v e="$2" '$1 == "->" && (e == "" || $2 == e) { n += $5 } END { print n + 0 }'
}
active_at_least() { [ "$(active "$1" "$3")" -ge "$2" ]; }
# known HOST: established connections to the VIP in HOST's IPVS table (a backup's come from the sync daemon).
known() { lab_net "$1" ipvsadm -Lnc 2>/dev/null | grep -c "ESTABLISHED .* $SERVICE "; }
known_at_least() { [ "$(known "$1")" -ge "$2" ]; }
ipvs_complete() {
    local out
    out=$(lab_net "$1" ipvsadm -Ln -t "$SERVICE" 2>&1) || return 1
    printf '%s\n' "$out" | grep -Eq "^TCP  $SERVICE wrr persistent 3600" && printf '%s\n' "$out" | grep -Eq "^  -> $RS1 +Route +1 " \
        && printf '%s\n' "$out" | grep -Eq "^  -> $RS2 +Route +1 "
}
has_destination() { lab_net "$1" ipvsadm -Ln -t "$SERVICE" | grep -Eq "^  -> $2 "; }
lacks_destination() { ! has_destination "$@"; }
weight_zero() { lab_net "$1" ipvsadm -Ln -t "$SERVICE" | grep -Eq "^  -> $2 +Route +0 "; }
foreign_service_kept() { lab_net "$1" ipvsadm -Ln | grep -Eq "^TCP  $FOREIGN_SERVICE rr"; }
rs_vip() { ip -n "$1" -4 addr show dev lo | grep -q "inet $VIP/32 "; }
rs_arp_ignore_all() { [ "$(lab_net "$1" sysctl -n net.ipv4.conf.all.arp_ignore)" = 1 ]; }

# measure EVERY FIGURE SINCE LIMIT CHECK...: polls CHECK every EVERY seconds for up to LIMIT seconds;
# prints `figure: FIGURE_ms=N` (N from SINCE, a lab_now_ms taken just before the event), keeps N in $measured
# and records a check. The resolution is EVERY plus a check's own cost (ip ≈10-40 ms, ipvsadm ≈40 ms,
# lbctl 2-3 s). Every poll forks, and the VM has one CPU that the WebSockets need too: a poll every 10 ms
# for long starves them (the first runs of this scenario timed out all 200 upgrades that way), so EVERY
# is coarse except where the figure is a goal.
measure() {
    local every=$1 figure=$2 since=$3 limit=$4 deadline
    shift 4
    deadline=$(($(lab_now_ms) + limit * 1000))
    measured=""
    while ! "$@" >/dev/null 2>&1; do
        if [ "$(lab_now_ms)" -gt "$deadline" ]; then
            lab_fail "$figure within ${limit}s" "\`$*\` still fails"
            return 1
        fi
        sleep "$every"
    done
    measured=$(($(lab_now_ms) - since))
    echo "figure: ${figure}_ms=$measured"
    lab_pass "$figure within ${limit}s"
}

# finish: every daemon stopped, the logs kept and their tails printed, the verdict.
finish() {
    local h p f
    for p in $clients_failover $clients_drain $clients_new; do kill -TERM "$p" 2>/dev/null && lab_wait 20 exited "$p"; done
    for h in $AGENTS; do eval "p=\$pid_$h"; [ -z "$p" ] || kill -TERM "$p" 2>/dev/null; done
    [ -z "$controller" ] || kill -TERM "$controller" 2>/dev/null
    for h in rs1 rs2; do eval "p=\$serve_$h"; [ -z "$p" ] || kill -TERM "$p" 2>/dev/null; done
    sleep 3
    for f in /tmp/controller.log /tmp/agent-*.log /tmp/serve-*.log /tmp/clients-*.err; do
        [ -f "$f" ] || continue
        cp "$f" /out/
        echo "---- $f (last 15 lines)"
        tail -n 15 "$f"
    done
    echo "figure: scenario_s=$((($(lab_now_ms) - scenario_start) / 1000))"
    lab_done
}

# --narrate (make demo): the same story, told for a person: what each step does and what lb is to do, and
# `lbctl status` after the steps that change it. The checks and figures are the same.
NARRATE=0
[ "${1:-}" = --narrate ] && NARRATE=1
say() { [ "$NARRATE" = 1 ] || return 0; local l; for l in "$@"; do printf '   \033[2m%s\033[0m\n' "$l"; done; }
show_status() { [ "$NARRATE" = 1 ] || return 0; echo "   \$ lbctl status"; ctl status | sed 's/^/   /'; }

scenario_start=$(lab_now_ms)
lab_log "hosts: client (.50-.54, the controller on .50), lvs1, lvs2, rs1, rs2; a foreign IPVS service and address"
lab_topology || exit 1
for a in 51 52 53 54; do ip -n client addr add "192.168.1.$a/24" dev eth0 || exit 1; done
mkdir -p /var/lib/lb /out
for h in lvs1 lvs2; do lab_net "$h" ipvsadm -A -t "$FOREIGN_SERVICE" -s rr || exit 1; done
ip -n rs1 addr add "$FOREIGN_ADDRESS" dev lo || exit 1

# ---------------------------------------------------------------------------------------------
lab_log "1. lb-controller, then lb-agent run on $AGENTS and the echo servers on rs1, rs2; lbctl apply --wait v1"
say "The operator applies examples/reference.yaml through the controller: lbctl shows the plan, signs version 1" \
    "and waits until every agent confirms that its kernel holds its part (VIP on lo:0 and ARP sysctls on the" \
    "real servers; IPVS, sync daemons and a VRRP speaker on the directors)."
lab_net client lb-controller run --config /etc/lb/controller.yaml >>/tmp/controller.log 2>&1 &
controller=$!
# The controller first, so the agents find it among their seeds (lab/scenarios/controller.sh says why).
lab_wait 60 grep -q 'listening on 127.0.0.1:9120' /tmp/controller.log || lab_fail "the controller started" "$(tail -n 20 /tmp/controller.log)"
# lvs2's agent only once lvs1 holds the VIP: two directors that get their first document at the same
# moment start their speakers together, and the backup's Master_Down_Interval is only 4 ms longer than the
# master's, so under TCG it sometimes becomes MASTER too for a blink (LAB-NOTES saw the same of keepalived).
started() { lab_wait 60 grep -q 'Server started and listening' "/tmp/agent-$1.log" || lab_fail "$1: agent started" "$(tail -n 20 "/tmp/agent-$1.log")"; }
for h in lvs1 rs1 rs2; do lab_start_agent "$h"; done
for h in rs1 rs2; do serve "$h"; done
for h in lvs1 rs1 rs2; do started "$h"; done
for h in rs1 rs2; do
    lab_wait 30 grep -q 'listening on' "/tmp/serve-$h.log" || lab_fail "$h: echo server started" "$(cat "/tmp/serve-$h.log")"
done
t0=$(lab_now_ms)
ctl apply /etc/lb/v1.yaml --yes --wait --timeout 180s >/tmp/apply.out 2>&1 &
apply=$!
lab_wait 60 holds_vip lvs1
lab_check "lvs1 is elected alone" holds_vip lvs1
lab_start_agent lvs2
started lvs2
wait "$apply"
lab_check_output "lbctl apply --wait v1: every node confirmed" '^v1 converged on all 4 nodes' sh -c "cat /tmp/apply.out; exit $?" || finish
echo "figure: apply_v1_wait_ms=$(($(lab_now_ms) - t0))"
lab_check_no_output "lvs2 never became MASTER" 'BACKUP -> MASTER' cat /tmp/agent-lvs2.log
lab_wait 30 master_is lvs1
lab_check "lbctl status: lvs1 is master of the VIP" master_is lvs1
for e in $RS1 $RS2; do
    lab_wait 60 health_of "$e" up
    lab_check "lbctl status: $e is up (the TCP check passes against the echo server)" health_of "$e" up
done
ctl status | tee /out/status-1.txt
lab_wait 30 ipvs_complete lvs1
lab_check "lvs1 has the IPVS service with rs1 and rs2" ipvs_complete lvs1
lab_check_output "the client reaches an echo server through the VIP" '^ok rs[12]$' lab_http_get client "http://$VIP/"
# The signed v1 as every agent holds it, for the replay in step 8.
cp /var/lib/lb/lvs1/document.json /tmp/v1.json

# ---------------------------------------------------------------------------------------------
lab_log "2. $CONNECTIONS WebSockets through the VIP from $SOURCES"
say "200 long-lived WebSockets from four client addresses, each echo checked in order: a few chatty, most" \
    "sending a heartbeat every 2-30 s, some idle between their first and last message. lvs1's kernel sync" \
    "daemon tells lvs2 about each connection at its third packet."
t0=$(lab_now_ms)
clients failover "$CONNECTIONS" "$MIX" lvs1
# Opening is the emulation's pace, not lb's (16-25 s for 200 paced handshakes under TCG): the bound only
# catches a director that stops forwarding.
measure 0.5 ws_open "$t0" 60 active_at_least lvs1 "$CONNECTIONS"
# A few that failed to open (the emulation being slow) are counted there; the story goes on with the rest.
opened=$(active lvs1)
lab_check "at least 90 % of them are open" [ "$opened" -ge $((CONNECTIONS * 9 / 10)) ] || finish
measure 0.5 ws_synced_to_lvs2 "$t0" 30 known_at_least lvs2 "$opened"
lab_net lvs1 ipvsadm -Ln -t "$SERVICE"
for e in $RS1 $RS2; do lab_check "lvs1 sends connections to $e" active_at_least lvs1 1 "$e"; done

# ---------------------------------------------------------------------------------------------
lab_log "3. director crash: lvs1's link down, its agent SIGKILLed"
say "lvs1 vanishes without a word: no resignation. lvs2 must take the VIP after Master_Down_Interval" \
    "(3 x 1 s + skew = 3.61 s) and carry every connection from its synced table."
t0=$(lab_now_ms)
ip -n lvs1 link set eth0 down
ip link set v-lvs1 down
kill -KILL "$pid_lvs1"
# vip_move_ms, polled from here, adds the crash commands' and each poll's own cost under emulation
# (10-40 ms an `ip` call) to the move; the goal is checked on lvs2's own account instead: how long the
# master had been silent when lvs2 took over, plus how long adding the VIP took (its log says both).
measure 0.02 vip_move "$t0" 15 holds_vip lvs2
wait "$pid_lvs1" 2>/dev/null
pid_lvs1=""
lab_check_log "lvs2 took over on the master's silence" 'VI_51: BACKUP -> MASTER: no advertisement' /tmp/agent-lvs2.log
silent=$(sed -n 's/.*VI_51: BACKUP -> MASTER: no advertisement.* for \([0-9.]*\) s (Master_Down_Interval).*/\1/p' /tmp/agent-lvs2.log | tail -n 1)
added=$(sed -n 's/.*VI_51: added [0-9.\/]* to eth0 in \([0-9.]*\) ms.*/\1/p' /tmp/agent-lvs2.log | tail -n 1)
takeover=$(awk -v s="${silent:-99}" -v a="${added:-99999}" 'BEGIN { printf "%d", s * 1000 + a }')
goal=missed
[ "$takeover" -le 3710 ] && goal=met
echo "figure: vip_up_after_last_advert_ms=$takeover (silent ${silent:-?} s, VIP added in ${added:-?} ms; goal 3710: $goal)"
# The goal itself is the figure's: under emulation a busy host delays the VM's timers by up to ~100 ms
# (3.71 s of silence measured once while the host compiled, 3.62 s when quiet), so the check allows
# 400 ms more; a Master_Down_Interval computed or followed wrongly misses it by seconds.
lab_check "the VIP was up within Master_Down_Interval + 500 ms (4110 ms) of lvs1's last advertisement" [ "$takeover" -le 4110 ]
lab_check_output "the client reaches an echo server through lvs2" '^ok rs[12]$' lab_http_get client "http://$VIP/"
lab_check "lvs2 carries the connections" active_at_least lvs2 1
lab_wait 30 master_is lvs2
lab_check "lbctl status: lvs2 is master" master_is lvs2

# ---------------------------------------------------------------------------------------------
lab_log "4. director return as after a reboot: a fresh lvs1 namespace, its agent on the same state directory"
say "lvs1 comes back with an empty kernel table. keepalived would preempt at once and reset every quiet" \
    "connection (the sync daemon never sent it those). lb's agent restores v1 from disk, holds preemption," \
    "asks lvs2 for its whole table over gossip, and lvs2 multicasts it in the kernel's own sync format;" \
    "only when lvs1's kernel holds it does lvs1 take the VIP back (docs/connection-sync.md)."
ip netns del lvs1
gone() { ! ip link show v-lvs1 >/dev/null 2>&1; }
lab_wait 20 gone
lab_host lvs1 "$(lab_addr lvs1)" || finish
lab_net lvs1 ipvsadm -A -t "$FOREIGN_SERVICE" -s rr  # as its owner's boot script would
mv /tmp/agent-lvs1.log /tmp/agent-lvs1.first.log
t0=$(lab_now_ms)
lab_start_agent lvs1
lab_check_log "lvs1 restores v1 from its state directory" 'restoring v1 from /var/lib/lb/lvs1' /tmp/agent-lvs1.log 60
if measure 0.1 failback "$t0" 60 holds_vip lvs1; then
    echo "figure: failback_known_connections=$(known lvs1) of $opened"
fi
lab_wait 10 lacks_vip lvs2
lab_check "lvs2 gave the VIP back" lacks_vip lvs2
lab_check_log "lvs1 waited for lvs2's connection table before preempting (handover)" 'handover: .*preemption allowed' /tmp/agent-lvs1.log
lab_log "10 s of traffic through lvs1"
[ "$NARRATE" = 0 ] || grep 'handover' /tmp/agent-lvs1.log /tmp/agent-lvs2.log | sed 's/^\/tmp\/agent-//; s/+0000 [a-z]* lb-agent: \[LBAgent\]//; s/^/   /'
sleep 10
# Whether the path works, seen from the client's sockets rather than through the client's fixed 2 s final
# wait: a WebSocket whose sent data stays unacknowledged (Send-Q) across two looks 2 s apart is black-holed.
unacked() { lab_net client netstat -tn | awk -v vip="$SERVICE" '$5 == vip && $3 > 0 { print $4 }' | sort; }
unacked >/tmp/unacked.1
sleep 2
unacked >/tmp/unacked.2
stuck=0
[ ! -s /tmp/unacked.1 ] || stuck=$(grep -cFxf /tmp/unacked.1 /tmp/unacked.2)
echo "figure: failback_stuck_connections=$stuck"
lab_check_eq "no WebSocket has data stuck unacknowledged after the return" 0 "$stuck"
lab_net client netstat -tn >/out/client-sockets-after-failback.txt
lab_net lvs1 ipvsadm -Lnc >/out/lvs1-connections-after-failback.txt
lab_check "the failover clients are still running" kill -0 "$clients_failover"
end_clients failover
survived failover "$CONNECTIONS"
show_status

# ---------------------------------------------------------------------------------------------
m=$(master)
lab_log "5. real-server failure: rs2's echo server SIGKILLed ($m is master)"
say "The directors' TCP checks (every 5 s, 3 tries) must take rs2 out of IPVS; new connections go to rs1."
t0=$(lab_now_ms)
kill -KILL "$serve_rs2"
wait "$serve_rs2" 2>/dev/null
serve_rs2=""
# Bound of the spec: interval x retries + connect_timeout = 5 s x 3 + 3 s.
measure 0.05 rs_removal "$t0" 18 lacks_destination "$m" "$RS2"
lab_wait 18 lacks_destination lvs2 "$RS2"
lab_check "rs2 left IPVS on lvs2 too" lacks_destination lvs2 "$RS2"
clients drain 20 fast:0.1,heartbeat:0.9 "$m"
slow_wait 30 active_at_least "$m" 20
lab_check "20 new WebSockets are all on rs1" active_at_least "$m" 20 "$RS1"
lab_net "$m" ipvsadm -Ln -t "$SERVICE"

# ---------------------------------------------------------------------------------------------
lab_log "6. drain: rs2's server again, then lbctl drain rs1 --deadline 60s --wait with 20 WebSockets on rs1"
say "Maintenance on rs1: its weight goes to 0 at once, the open WebSockets carry on, new ones (persistent" \
    "clients included) go to rs2, and rs1 leaves IPVS when its last connection closes."
t0=$(lab_now_ms)
serve rs2
measure 0.1 rs_readd "$t0" 25 has_destination "$m" "$RS2"
# lbctl in the background, so that the time until rs1's weight is 0 on the master is measured from the
# operator's command, not from --wait's return.
t0=$(lab_now_ms)
ctl drain rs1 --deadline 60s --yes --wait --timeout 120s >/tmp/drain.out 2>&1 &
drain=$!
measure 0.05 drain_weight0 "$t0" 60 weight_zero "$m" "$RS1"
wait "$drain"
lab_check_output "lbctl drain rs1 --deadline 60s --wait: every node confirmed" '^v2 converged on all 4 nodes' sh -c "cat /tmp/drain.out; exit $?"
lab_check "the 20 WebSockets on rs1 go on" active_at_least "$m" 20 "$RS1"
lab_check "and so does their client" kill -0 "$clients_drain"
slow_wait 30 status_active_at_least "$m" "$RS1" 20
lab_check "lbctl status shows rs1's 20 open connections on $m" status_active_at_least "$m" "$RS1" 20
ctl status | tee /out/status-6-drain.txt
# New connections, from the same client addresses (which persistence had bound to rs1): they must go to rs2.
clients new 8 heartbeat:1 "$m"
slow_wait 30 active_at_least "$m" 28
lab_net "$m" ipvsadm -Ln -t "$SERVICE"
lab_check "8 new WebSockets during the drain all go to rs2" active_at_least "$m" 8 "$RS2"
lab_check_eq "rs1 got none of them" 20 "$(active "$m" "$RS1")"
end_clients new
survived new 8
end_clients drain
survived drain 20
t0=$(lab_now_ms)
measure 0.5 drain_status_zero "$t0" 60 status_active_zero "$m" "$RS1"
ctl status | tee /out/status-6-drained.txt
lab_check_output "lbctl undrain rs1 --wait: every node confirmed" '^v3 converged on all 4 nodes' ctl undrain rs1 --yes --wait --timeout 120s
lab_wait 20 ipvs_complete "$m"
lab_check "rs1 is back at weight 1" ipvs_complete "$m"

# ---------------------------------------------------------------------------------------------
lab_log "7. tampering on rs1 and on the master, $m"
say "Someone undoes lb's work by hand: rs1's VIP and arp_ignore, the master's IPVS table. Each is put back" \
    "by the agent on its own; a foreign IPVS service and address made before lb started stay untouched."
t0=$(lab_now_ms)
ip -n rs1 addr del "$VIP/32" dev lo
measure 0.01 repair_rs_vip "$t0" 10 rs_vip rs1
t0=$(lab_now_ms)
lab_net rs1 sysctl -q -w net.ipv4.conf.all.arp_ignore=0
measure 0.01 repair_rs_arp_ignore "$t0" 10 rs_arp_ignore_all rs1
t0=$(lab_now_ms)
lab_net "$m" ipvsadm -C
# -C flushes every service, the foreign one too: its owner puts it back at once.
lab_net "$m" ipvsadm -A -t "$FOREIGN_SERVICE" -s rr
measure 0.01 repair_ipvs_clear "$t0" 10 ipvs_complete "$m"
t0=$(lab_now_ms)
lab_net "$m" ipvsadm -d -t "$SERVICE" -r "$RS1"
measure 0.01 repair_ipvs_destination "$t0" 10 ipvs_complete "$m"
lab_check_log "rs1 logged the sysctl repair" 'drift repaired: net\.ipv4\.conf\.all\.arp_ignore was 0, want 1' /tmp/agent-rs1.log
lab_check_output "$m logged the IPVS repair" 'drift repaired: IPVS service 192\.168\.1\.200:80/tcp missing' cat "/tmp/agent-$m.log"

# ---------------------------------------------------------------------------------------------
lab_log "8. forgery: v99 signed by an unknown key, pushed by a member with the cluster key; v1 replayed"
say "A member holding the cluster key gossips a document signed by a key nobody trusts, then replays v1:" \
    "every agent refuses the forgery (lbctl status says so) and stays on its version."
head=$(version_of lvs2)
lab_check_output "lbctl push of the forgery: no member takes it" 'no member holds v99' \
    lab_net client sh -c 'lbctl push /etc/lb/forged.json --seed 192.168.1.101:7946 --keyring /etc/lb/cluster.keyring \
        --trust /etc/lb/forger.pub --timeout 10 2>&1; [ $? = 1 ]'
for h in $AGENTS; do
    lab_wait 20 refused_forgery "$h"
    lab_check "$h refused v99: unknown_key" refused_forgery "$h"
done
lab_check_output "$m logged the refusal" 'refused document v99' cat "/tmp/agent-$m.log"
shows_forgery() { [ "$(ctl status | grep -c '^\(lvs1\|lvs2\|rs1\|rs2\) .*refused v99: unknown_key')" = 4 ]; }
lab_wait 30 shows_forgery
lab_check "lbctl status shows the refusal on all 4 nodes" shows_forgery
ctl status | tee /out/status-8-forgery.txt
lab_check_output "lbctl push of the replayed v1: the members hold a newer one" "newer than v1" \
    lab_net client sh -c 'lbctl push /tmp/v1.json --seed 192.168.1.101:7946 --keyring /etc/lb/cluster.keyring \
        --trust /etc/lb/operator.pub --timeout 10 2>&1; [ $? = 1 ]'
for h in $AGENTS; do lab_check_eq "$h still holds v$head" "$head" "$(version_of "$h")"; done

# ---------------------------------------------------------------------------------------------
lab_log "9. controller loss: lb-controller SIGKILLed; a tampering, and rs2's agent from an empty state directory"
say "The controller is only the operator's door: without it, agents still repair drift, and a new agent" \
    "gets the document from its peers."
kill -KILL "$controller"
wait "$controller" 2>/dev/null
controller=""
t0=$(lab_now_ms)
ip -n rs2 addr del "$VIP/32" dev lo
measure 0.01 repair_rs2_vip_without_controller "$t0" 10 rs_vip rs2
kill -TERM "$pid_rs2"
lab_wait 20 exited "$pid_rs2"
wait "$pid_rs2"
lab_check_eq "rs2's agent exited 0 on SIGTERM" 0 "$?"
rm -rf /var/lib/lb/rs2
mv /tmp/agent-rs2.log /tmp/agent-rs2.first.log
t0=$(lab_now_ms)
lab_start_agent rs2
measure 0.2 new_agent_document "$t0" 60 converged_at rs2 "$head"
lab_check_log "rs2 started with no document" "no document in /var/lib/lb/rs2 yet" /tmp/agent-rs2.log

# ---------------------------------------------------------------------------------------------
lab_log "the foreign IPVS service and address are still there"
for h in lvs1 lvs2; do lab_check "$h keeps the foreign service $FOREIGN_SERVICE" foreign_service_kept "$h"; done
lab_check_output "rs1 keeps the foreign address $FOREIGN_ADDRESS" "inet $FOREIGN_ADDRESS " ip -n rs1 addr show dev lo
finish
