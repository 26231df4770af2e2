# The agent's IPVS benchmark (scripts/bench-agent-lab.sh prepares its files): one director namespace,
# lvs1, running the real `lb-agent run`. Prints one JSON line with every figure.
# Argument: SERVICES of the big document. Needs /usr/local/bin/lb-agent, /keys, /ref, /big, /etc/lb/*.yaml.
. /lab/lib.sh

services=${1:-10000}
# rs1 and rs2 answer the reference scenario's health checks: without them its destinations go down.
lab_topology lvs1 rs1 rs2 || exit 1
for h in rs1 rs2; do lab_real_server_dr "$h" && lab_http_server "$h" "hello from $h" || exit 1; done

ms() { local up _; read -r up _ </proc/uptime; echo "$up" | awk '{ printf "%d", $1 * 1000 }'; }
# has_last N: the agent applies services in port order, so the Nth service (port 10000+N-1 in the big
# document, 80 in the reference) with its last destination is the end of an apply. One netlink GET: a
# poll that read the whole listing would cost more than the agent's own pass under emulation.
has_last() {
    local port=80 last=192.168.1.103:80
    [ "$1" -gt 1 ] && { port=$((10000 + $1 - 1)); last=192.168.1.105:$port; }
    lab_net lvs1 ipvsadm -Ln -t "192.168.1.200:$port" 2>/dev/null | grep -q "$last"
}
# wait_count N SECONDS: until the Nth service is complete; 1 when it is not within SECONDS.
wait_count() {
    local want=$1 limit=$(($2 * 1000)) t0
    t0=$(ms)
    until has_last "$want"; do
        [ $(($(ms) - t0)) -gt "$limit" ] && return 1
        sleep 0.02
    done
}
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# repair_ms WANT: ipvsadm -C, then the time until WANT services are back.
repair_ms() {
    local want=$1 t0
    t0=$(ms)
    lab_net lvs1 ipvsadm -C
    wait_count "$want" 400 || { echo -1; return; }
    echo $(($(ms) - t0))
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

lab_log "reference scenario: lvs1's agent"
# Started directly, not through lab_ns: $! must be the agent itself.
"$LAB_IP" netns exec lvs1 lb-agent run --config /etc/lb/ref.yaml >/tmp/agent-ref.log 2>&1 &
agent=$!
wait_count 1 60 || { echo "the agent did not apply the reference scenario"; tail -20 /tmp/agent-ref.log; }
lab_wait 60 sh -c "$LAB_IP -n lvs1 addr show dev eth0 | grep -q 'inet 192.168.1.200/24'"
sleep 10
ref_rss=$(rss $agent)
ref_repairs=""
for i in 1 2 3 4 5; do ref_repairs="$ref_repairs $(repair_ms 1)"; sleep 1; done
ref_repair=$(echo "$ref_repairs" | tr ' ' '\n' | grep . | median)
kill -TERM $agent; wait $agent 2>/dev/null

lab_log "keepalived for the same director"
lab_host ka 192.168.1.100 2>/dev/null || { "$LAB_IP" netns add ka; "$LAB_IP" -n ka link set lo up; }
lab_net ka keepalived -n -D -f /etc/keepalived/reference.conf -p /tmp/k.pid -r /tmp/k.vrrp.pid -c /tmp/k.chk.pid -b /tmp/k.bfd.pid >/tmp/keepalived.log 2>&1 &
lab_wait 30 sh -c "[ -s /tmp/k.vrrp.pid ] && [ -s /tmp/k.chk.pid ]"
sleep 10
ka_rss=0
for f in /tmp/k.pid /tmp/k.vrrp.pid /tmp/k.chk.pid; do
    [ -s "$f" ] && ka_rss=$((ka_rss + $(rss "$(cat "$f")")))
done
kill -TERM "$(cat /tmp/k.pid)" 2>/dev/null
sleep 1

lab_log "$services services × 4 destinations"
lab_net lvs1 ipvsadm -C
t0=$(ms)
"$LAB_IP" netns exec lvs1 lb-agent run --config /etc/lb/big.yaml >/tmp/agent-big.log 2>&1 &
agent=$!
wait_count "$services" 900 || { echo "the agent did not apply $services services"; tail -20 /tmp/agent-big.log; }
apply_ms=$(($(ms) - t0))
sleep 5
c0=$(cpu_ticks $agent); w0=$(ms)
sleep 30
c1=$(cpu_ticks $agent); w1=$(ms)
idle_cpu=$(awk -v c=$((c1 - c0)) -v w=$((w1 - w0)) 'BEGIN { printf "%.1f", c * 10 * 100 / w }')
big_rss=$(rss $agent)
big_repairs=""
for i in 1 2 3 4 5; do big_repairs="$big_repairs $(repair_ms "$services")"; sleep 3; done
big_repair=$(echo "$big_repairs" | tr ' ' '\n' | grep . | median)
kill -TERM $agent; wait $agent 2>/dev/null
# The floor under this emulation: the kernel taking the same table from `ipvsadm -R` (ipvsadm-restore), which sends
# one request per service and destination as the agent does, with nothing to observe or decide.
lab_net lvs1 ipvsadm -S -n >/tmp/table.rules
restores=""
for i in 1 2 3; do
    lab_net lvs1 ipvsadm -C
    t0=$(ms)
    lab_net lvs1 ipvsadm -R </tmp/table.rules
    restores="$restores $(($(ms) - t0))"
done
restore=$(echo "$restores" | tr ' ' '\n' | grep . | median)
cp /tmp/agent-ref.log /tmp/agent-big.log /out/ 2>/dev/null
tail -5 /tmp/agent-big.log

echo "{\"reference\": {\"director_agent_rss_kb\": $ref_rss, \"keepalived_rss_kb\": $ka_rss, \"ipvsadm_clear_repair_ms\": $ref_repair, \"runs_ms\": \"$ref_repairs\"}, \"services_$services\": {\"apply_from_empty_ms\": $apply_ms, \"idle_cpu_percent\": $idle_cpu, \"agent_rss_kb\": $big_rss, \"ipvsadm_clear_repair_ms\": $big_repair, \"runs_ms\": \"$big_repairs\", \"ipvsadm_restore_ms\": $restore}}" | tee /out/bench-agent.json
