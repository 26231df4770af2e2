# shellcheck shell=dash source=lab/lib.sh
# lab/scenarios/smoke.sh — proves the lab end to end with ipvsadm alone: every rule kind lb will
# program, each asserted against `ipvsadm -Ln`, the sync daemon, and real direct-routing traffic from
# a client through a director to two real servers. Run: lab/run.sh lab/scenarios/smoke.sh
. /lab/lib.sh

VIP=$LAB_VIP
RS1=$(lab_addr rs1)
RS2=$(lab_addr rs2)

lab_log "topology: client lvs1 lvs2 rs1 rs2 on $LAB_BRIDGE"
lab_check topology lab_topology || lab_done
lab_check ping-rs1-from-client lab_net client ping -c 1 -W 2 "$RS1"

ipvs() { lab_net lvs1 ipvsadm "$@"; }
table() { ipvs -Ln; }
# has NAME REGEX / hasnt NAME REGEX: a line of `ipvsadm -Ln` in lvs1 matches (or none does).
has() { lab_check_output "$1" "$2" table; }
hasnt() { lab_check_no_output "$1" "$2" table; }

lab_log "schedulers"
i=0
for s in rr wrr lc wlc sh mh; do
    i=$((i + 1))
    lab_check "add-service-$s" ipvs -A -t "10.10.1.$i:80" -s "$s"
    has "listed-service-$s" "^TCP  10\.10\.1\.$i:80 $s *\$"
done
lab_check add-service-sh-flags ipvs -A -t 10.10.2.1:80 -s sh -b sh-fallback,sh-port
has listed-sh-flags '^TCP  10\.10\.2\.1:80 sh \(sh-fallback,sh-port\) *$'
lab_check add-service-mh-flags ipvs -A -t 10.10.2.2:80 -s mh -b mh-fallback,mh-port
has listed-mh-flags '^TCP  10\.10\.2\.2:80 mh \(mh-fallback,mh-port\) *$'
lab_check add-service-udp ipvs -A -u 10.10.2.3:53 -s rr
has listed-udp '^UDP  10\.10\.2\.3:53 rr *$'
lab_check add-service-fwmark ipvs -A -f 7 -s wlc
has listed-fwmark '^FWM  7 wlc *$'

lab_log "persistence"
lab_check add-persistent ipvs -A -t 10.10.3.1:443 -s wrr -p 300 -M 255.255.255.0
has listed-persistent '^TCP  10\.10\.3\.1:443 wrr persistent 300 mask 255\.255\.255\.0 *$'
lab_check edit-persistence ipvs -E -t 10.10.3.1:443 -s wrr -p 60 -M 255.255.0.0
has listed-edited-persistence '^TCP  10\.10\.3\.1:443 wrr persistent 60 mask 255\.255\.0\.0 *$'

lab_log "destinations: direct routing, NAT, tunnel"
lab_check add-dest-dr ipvs -a -t 10.10.3.1:443 -r "$RS1:443" -g -w 2
lab_check add-dest-nat ipvs -a -t 10.10.3.1:443 -r "$RS2:8443" -m -w 3
lab_check add-dest-tun ipvs -a -t 10.10.3.1:443 -r 10.20.0.1:443 -i -w 4
has listed-dest-dr "^  -> $RS1:443 +Route +2 +0 +0 *\$"
has listed-dest-nat "^  -> $RS2:8443 +Masq +3 +0 +0 *\$"
has listed-dest-tun '^  -> 10\.20\.0\.1:443 +Tunnel +4 +0 +0 *$'
lab_check_output saved-tun-type '-r 10\.20\.0\.1:443 -i -w 4 --tun-type ipip' ipvs -S -n

lab_log "weight edit"
lab_check edit-weight ipvs -e -t 10.10.3.1:443 -r "$RS1:443" -g -w 7
has listed-new-weight "^  -> $RS1:443 +Route +7 "
lab_check quiesce ipvs -e -t 10.10.3.1:443 -r "$RS2:8443" -m -w 0
has listed-quiesced "^  -> $RS2:8443 +Masq +0 "
# (ipvsadm gives direct-routing and tunnel destinations the service's port, so DR -> NAT here.)
lab_check edit-forwarding ipvs -e -t 10.10.3.1:443 -r "$RS1:443" -m -w 1
has listed-new-forwarding "^  -> $RS1:443 +Masq +1 "

lab_log "delete"
lab_check delete-dest ipvs -d -t 10.10.3.1:443 -r 10.20.0.1:443
hasnt deleted-dest-gone '10\.20\.0\.1:443'
lab_check delete-service ipvs -D -t 10.10.1.1:80
hasnt deleted-service-gone '^TCP  10\.10\.1\.1:80 '
has other-services-kept '^TCP  10\.10\.1\.2:80 wrr'
lab_check clear ipvs -C
hasnt cleared '^(TCP|UDP|FWM) '

lab_log "timeouts"
lab_check set-timeouts ipvs --set 900 120 300
lab_check_output listed-timeouts '^Timeout \(tcp tcpfin udp\): 900 120 300$' ipvs -L --timeout

lab_log "sync daemon"
lab_check start-master ipvs --start-daemon master --mcast-interface eth0 --syncid 7
lab_check start-backup lab_net lvs2 ipvsadm --start-daemon backup --mcast-interface eth0 --syncid 7
lab_check_output listed-master '^master sync daemon \(mcast=eth0, syncid=7' ipvs -L --daemon
lab_check_output listed-backup '^backup sync daemon \(mcast=eth0, syncid=7' lab_net lvs2 ipvsadm -L --daemon

lab_log "direct-routing traffic: client -> $VIP (lvs1) -> rs1, rs2"
for rs in rs1 rs2; do
    lab_check "real-server-$rs" lab_real_server_dr "$rs"
    lab_check "httpd-$rs" lab_http_server "$rs" "hello from $rs"
done
lab_check direct-rs1 lab_http_get client "http://$RS1/"
lab_check vip-on-lvs1 ip -n lvs1 addr add "$VIP/32" dev eth0
lab_check add-vip-service ipvs -A -t "$VIP:80" -s wrr
lab_check add-vip-rs1 ipvs -a -t "$VIP:80" -r "$RS1:80" -g -w 1
lab_check add-vip-rs2 ipvs -a -t "$VIP:80" -r "$RS2:80" -g -w 1
responses=""
for n in 1 2 3 4 5 6; do
    body=$(lab_http_get client "http://$VIP/") || body="(request $n failed)"
    responses="$responses$body
"
done
printf '%s' "$responses" | sed 's/^/# response: /'
lab_check_output traffic-reaches-rs1 '^hello from rs1$' printf '%s' "$responses"
lab_check_output traffic-reaches-rs2 '^hello from rs2$' printf '%s' "$responses"
lab_check_no_output traffic-no-failures 'failed' printf '%s' "$responses"

# The director's counters are refreshed by the estimator every ≈2 s. In direct routing the replies
# go from the real servers to the client: InPkts grows, OutPkts stays 0.
stats_ok() {
    ipvs -Ln --stats -t "$VIP:80" | awk -v vip="$VIP:80" '$1 == "TCP" && $2 == vip { found = 1; ok = ($3 >= 6 && $4 > 0 && $5 == 0) } END { exit !(found && ok) }'
}
lab_wait 8 stats_ok
lab_check_output director-stats "^TCP  $VIP:80 +[0-9]+ +[1-9][0-9]* +0 " ipvs -Ln --stats -t "$VIP:80"
lab_check_output director-conns "^  -> $RS1:80 +Route +1 " ipvs -Ln -t "$VIP:80"

# The backup director learns the connections from the master's sync messages.
lab_wait 8 sh -c "nsenter --net=/run/netns/lvs2 ipvsadm -Lnc | grep -q '$VIP:80'"
lab_check_output synced-connections "$VIP:80" lab_net lvs2 ipvsadm -Lnc

lab_log "sync daemon stop"
lab_check stop-master ipvs --stop-daemon master
lab_check stop-backup lab_net lvs2 ipvsadm --stop-daemon backup
lab_check_no_output master-stopped 'sync daemon' ipvs -L --daemon
lab_check_no_output backup-stopped 'sync daemon' lab_net lvs2 ipvsadm -L --daemon

lab_log "results to /out"
mkdir -p /out/smoke
{
    ipvs -Ln --stats
    ipvs -Lnc
} >/out/smoke/director.txt 2>&1
printf '%s' "$responses" >/out/smoke/responses.txt
lab_check out-written test -s /out/smoke/director.txt

lab_done
