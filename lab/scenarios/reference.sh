# The reference scenario end to end (README `make demo`), in one VM with a real IPVS kernel:
# every host applies its part of examples/reference.yaml with `lb-agent apply` (real servers: VIP /32 on
# lo:0 and ARP sysctls; directors: the IPVS service, timeouts, sync daemons), the directors elect a
# master with `lb-agent vrrp`, a client reaches the VIP, the master is stopped and the backup takes
# over, and drift (`ipvsadm -C`) is repaired. Needs /plan.json (lbctl plan --output json) and
# /usr/local/bin/lb-agent.
. /lab/lib.sh

VIP=192.168.1.200
lab_log "five hosts on one bridge: client, lvs1, lvs2, rs1, rs2"
lab_topology || exit 1

for h in rs1 rs2; do
    lab_log "$h: lb-agent apply"
    lab_ns "$h" lb-agent apply --plan /plan.json --node "$h"
    lab_http_server "$h" "hello from $h"
done
for h in lvs1 lvs2; do
    lab_log "$h: lb-agent apply"
    lab_ns "$h" lb-agent apply --plan /plan.json --node "$h"
done
lab_check_output "rs1 holds the VIP on lo:0" "inet $VIP/32 scope global lo:0" ip -n rs1 addr show dev lo
lab_check_output "rs1 ignores ARP for the VIP" '^1$' lab_ns rs1 cat /proc/sys/net/ipv4/conf/eth0/arp_ignore
lab_check_output "lvs1 has the service" "^TCP  $VIP:80 wrr persistent 3600" lab_ns lvs1 ipvsadm -Ln
lab_check_output "lvs1 has WebSocket-aware timeouts" "7260 120 300" lab_ns lvs1 ipvsadm -Ln --timeout

# Started directly, not through lab_ns: $! must be the agent itself so the signal reaches it.
lab_log "VRRP: lvs1 priority 100, lvs2 priority 99, v2, advert 1 s, password"
"$LAB_IP" netns exec lvs1 lb-agent vrrp --interface eth0 --vrid 51 --priority 100 --vip $VIP/24 --auth-pass s3cret >/tmp/vrrp-lvs1.log 2>&1 &
lvs1_vrrp=$!
"$LAB_IP" netns exec lvs2 lb-agent vrrp --interface eth0 --vrid 51 --priority 99 --vip $VIP/24 --auth-pass s3cret >/tmp/vrrp-lvs2.log 2>&1 &
lvs2_vrrp=$!
lab_wait 10 sh -c "$LAB_IP -n lvs1 addr show dev eth0 | grep -q 'inet $VIP/24'"
lab_check_output "lvs1 is master and holds the VIP" "inet $VIP/24" ip -n lvs1 addr show dev eth0
lab_check_no_output "lvs2 does not hold the VIP" "inet $VIP/" ip -n lvs2 addr show dev eth0

first=$(lab_http_get client "http://$VIP/")
lab_check_output "the client reaches a real server through the VIP" '^hello from rs[12]$' echo "$first"
lab_check_output "lvs1 forwarded it" '^  -> 192\.168\.1\.10[23]:80 +Route +1 ' lab_ns lvs1 ipvsadm -Ln
again=$(lab_http_get client "http://$VIP/")
lab_check_eq "persistence keeps the client on the same real server" "$first" "$again"

lab_log "stop lvs1's VRRP (SIGTERM: it resigns with priority 0)"
kill -TERM "$lvs1_vrrp"
lab_wait 5 sh -c "$LAB_IP -n lvs2 addr show dev eth0 | grep -q 'inet $VIP/24'"
lab_check_output "lvs2 took over the VIP" "inet $VIP/24" ip -n lvs2 addr show dev eth0
lab_check_no_output "lvs1 released the VIP" "inet $VIP/" ip -n lvs1 addr show dev eth0
lab_check_output "the client still reaches a real server, through lvs2" '^hello from rs[12]$' lab_http_get client "http://$VIP/"

lab_log "drift: someone runs ipvsadm -C on lvs2; lb-agent apply puts the service back"
lab_ns lvs2 ipvsadm -C
lab_check_output "repair re-adds the service and both real servers" "converged" lab_ns lvs2 lb-agent apply --plan /plan.json --node lvs2
lab_check_output "a second pass has nothing to do" "nothing to change" lab_ns lvs2 lb-agent apply --plan /plan.json --node lvs2
lab_check_output "the client reaches a real server after the repair" '^hello from rs[12]$' lab_http_get client "http://$VIP/"
lab_ns lvs2 lb-agent inspect | sed -n '/^ipvs/,$p'

kill -TERM "$lvs2_vrrp" 2>/dev/null
wait 2>/dev/null
cat /tmp/vrrp-lvs1.log /tmp/vrrp-lvs2.log
lab_done
