# The host layer against a kernel with IPVS: the conformance suite (every scheduler, flags,
# persistence, DR/NAT/TUN, edits, deletes, timeouts, sync daemons, error classes, foreign rules left
# alone), each IPVS step compared with `ipvsadm -Sn`; rtnetlink events; and `lb-agent inspect`
# agreeing with `ipvsadm -Ln`. Needs /usr/local/bin/lb-hostcheck and lb-agent (lab/run.sh --bin).
. /lab/lib.sh

lab_topology lvs1 || exit 1

# Each line of lb-hostcheck is one check; record them as the lab's own.
lab_ns lvs1 lb-hostcheck --scratch-host --witness --require-ipvs --events --interface eth0 >/tmp/hostcheck.out 2>&1
cat /tmp/hostcheck.out
grep -E '^(ok|FAIL) ' /tmp/hostcheck.out | sed 's/:.*//' >>"$LAB_RESULTS"
grep -q '^lb-hostcheck: .* 0 failed$' /tmp/hostcheck.out || lab_fail "lb-hostcheck completed" "$(tail -n 3 /tmp/hostcheck.out)"

# inspect reads the same table ipvsadm shows, including rules lb did not make.
lab_ns lvs1 ipvsadm -A -t 192.168.1.200:80 -s wrr -p 3600 -M 255.255.255.0
lab_ns lvs1 ipvsadm -a -t 192.168.1.200:80 -r 192.168.1.102:80 -g -w 3
lab_ns lvs1 ipvsadm -a -t 192.168.1.200:80 -r 192.168.1.103:8080 -m -w 0
lab_ns lvs1 ipvsadm -A -u 192.168.1.200:53 -s sh -b sh-fallback,sh-port
lab_ns lvs1 ipvsadm -A -u 192.168.1.200:514 -s rr -o
lab_ns lvs1 ipvsadm --set 7260 120 300
lab_ns lvs1 lb-agent inspect >/tmp/inspect.out 2>&1
lab_ns lvs1 ipvsadm -Ln >/tmp/ipvsadm.out 2>&1
cat /tmp/inspect.out /tmp/ipvsadm.out
lab_check_output "inspect: persistent service" '^TCP  192\.168\.1\.200:80 wrr persistent 3600 mask 255\.255\.255\.0 ' cat /tmp/inspect.out
lab_check_output "inspect: DR destination" '^  -> 192\.168\.1\.102:80 Route 3 0 0 ' cat /tmp/inspect.out
lab_check_output "inspect: NAT destination" '^  -> 192\.168\.1\.103:8080 Masq 0 0 0 ' cat /tmp/inspect.out
lab_check_output "inspect: UDP sh service with flags" '^UDP  192\.168\.1\.200:53 sh \(sh-fallback,sh-port\) ' cat /tmp/inspect.out
lab_check_output "inspect: UDP one-packet service" '^UDP  192\.168\.1\.200:514 rr ops ' cat /tmp/inspect.out
lab_check_output "ipvsadm agrees: UDP one-packet service" '^UDP  192\.168\.1\.200:514 rr ops' cat /tmp/ipvsadm.out
lab_check_output "inspect: timeouts" '^ipvs [0-9.]+: timeouts tcp 7260 tcpfin 120 udp 300$' cat /tmp/inspect.out
lab_check_output "ipvsadm agrees: persistent service" '^TCP  192\.168\.1\.200:80 wrr persistent 3600 mask 255\.255\.255\.0' cat /tmp/ipvsadm.out
lab_check_output "ipvsadm agrees: DR destination" '^  -> 192\.168\.1\.102:80 +Route +3 ' cat /tmp/ipvsadm.out
lab_check_output "inspect json says IPVS is available" '"available" : true' lab_ns lvs1 lb-agent inspect --output json

# ---------------------------------------------------------------------------------------------
# The handover's wire format against the kernel: lvs1's table, multicast by `lb-agent connections
# --send` in the sync daemon's format, lands in lvs2's kernel entry for entry (no kernel master thread
# runs, so nothing else carries them), and the entries carry the connections when the VIP moves; a
# connection opened after the handover does not survive, so the check can fail.
lab_topology client lvs2 rs1 || exit 1
VIP=192.168.1.200
lab_net lvs1 ipvsadm --stop-daemon master 2>/dev/null
lab_net lvs1 ipvsadm -d -t $VIP:80 -r 192.168.1.103:8080
"$LAB_IP" -n lvs1 addr add $VIP/24 dev eth0
lab_net lvs2 ipvsadm -A -t $VIP:80 -s wrr -p 3600 -M 255.255.255.0
lab_net lvs2 ipvsadm -a -t $VIP:80 -r 192.168.1.102:80 -g -w 3
lab_net lvs2 ipvsadm --start-daemon backup --mcast-interface eth0
lab_real_server_dr rs1
lab_net rs1 nc -ll -p 80 -e /bin/cat &
echo_server=$!
sleep 0.5
# Four idle connections through lvs1, each fed by a FIFO kept open here, its echoes in a file.
for i in 1 2 3 4; do mkfifo "/tmp/ws$i"; done
open_connection() {
    (lab_net client nc $VIP 80 <"/tmp/ws$1" >"/tmp/echo$1") &
    eval "exec $((5 + $1))>/tmp/ws$1"
    echo "hello $1" >&$((5 + $1))
}
established() { [ "$(lab_net "$1" cat /proc/net/ip_vs_conn | grep -c ESTABLISHED)" -ge "$2" ]; }
for i in 1 2 3; do open_connection $i; done
lab_wait 10 established lvs1 3
lab_check "three connections through lvs1" established lvs1 3
lab_check "lvs2 has none of them yet" lab_net lvs2 sh -c '! grep -q ESTABLISHED /proc/net/ip_vs_conn'
lab_check_output "lb-agent connections --send multicasts lvs1's table" '^sent 4 entries in 1 datagrams on eth0$' \
    lab_net lvs1 lb-agent connections --send --interface eth0
columns() { lab_net "$1" cat /proc/net/ip_vs_conn | awk 'NR > 1 { print $1, $2, $3, $4, $5, $6, $7, $8 }' | sort; }
same_table() { [ "$(columns lvs1)" = "$(columns lvs2)" ]; }
lab_wait 5 same_table
lab_check "lvs2's kernel holds the same entries (connections and template)" same_table
echo "lvs1:"; columns lvs1; echo "lvs2:"; columns lvs2
# One more connection after the handover: lvs2 never hears of it.
open_connection 4
lab_wait 10 established lvs1 4
# The VIP moves to lvs2 (the client learns the new MAC at once), then every connection sends again.
"$LAB_IP" -n lvs1 addr del $VIP/24 dev eth0
"$LAB_IP" -n lvs2 addr add $VIP/24 dev eth0
lab_net client ip neigh flush all >/dev/null
for i in 1 2 3 4; do echo "again $i" >&$((5 + i)) 2>/dev/null; done
echoed() { grep -q "again $1" "/tmp/echo$1"; }
for i in 1 2 3; do
    lab_wait 10 echoed $i
    lab_check "handed-over connection $i carries on through lvs2" echoed $i
done
lab_check "the connection opened after the handover does not (the check can fail)" sh -c "! grep -q 'again 4' /tmp/echo4"
for i in 1 2 3 4; do eval "exec $((5 + i))>&-"; done
kill "$echo_server" 2>/dev/null

# Without the module, inspect still prints the rest and says why IPVS is missing (a fresh namespace
# still has IPVS here, so this is checked on the host, where the kernel has none: LinuxNamespaceTests).
lab_done
