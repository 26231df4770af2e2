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
lab_ns lvs1 ipvsadm --set 7260 120 300
lab_ns lvs1 lb-agent inspect >/tmp/inspect.out 2>&1
lab_ns lvs1 ipvsadm -Ln >/tmp/ipvsadm.out 2>&1
cat /tmp/inspect.out /tmp/ipvsadm.out
lab_check_output "inspect: persistent service" '^TCP  192\.168\.1\.200:80 wrr persistent 3600 mask 255\.255\.255\.0 ' cat /tmp/inspect.out
lab_check_output "inspect: DR destination" '^  -> 192\.168\.1\.102:80 Route 3 0 0 ' cat /tmp/inspect.out
lab_check_output "inspect: NAT destination" '^  -> 192\.168\.1\.103:8080 Masq 0 0 0 ' cat /tmp/inspect.out
lab_check_output "inspect: UDP sh service with flags" '^UDP  192\.168\.1\.200:53 sh \(sh-fallback,sh-port\) ' cat /tmp/inspect.out
lab_check_output "inspect: timeouts" '^ipvs [0-9.]+: timeouts tcp 7260 tcpfin 120 udp 300$' cat /tmp/inspect.out
lab_check_output "ipvsadm agrees: persistent service" '^TCP  192\.168\.1\.200:80 wrr persistent 3600 mask 255\.255\.255\.0' cat /tmp/ipvsadm.out
lab_check_output "ipvsadm agrees: DR destination" '^  -> 192\.168\.1\.102:80 +Route +3 ' cat /tmp/ipvsadm.out
lab_check_output "inspect json says IPVS is available" '"available" : true' lab_ns lvs1 lb-agent inspect --output json

# Without the module, inspect still prints the rest and says why IPVS is missing (a fresh namespace
# still has IPVS here, so this is checked on the host, where the kernel has none: LinuxNamespaceTests).
lab_done
