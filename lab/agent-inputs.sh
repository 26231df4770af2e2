#!/usr/bin/env bash
# lab/agent-inputs.sh LBCTL DIR: everything lab/scenarios/agent.sh needs, made on the host with the
# lbctl binary LBCTL, in DIR (created; it must not exist yet, since lbctl init never overwrites keys):
#
#   DIR/operator.pub cluster.keyring                 lbctl init (operator.key signs, then is removed:
#                                                     no signing key enters the VM)
#   DIR/lvs1.yaml lvs2.yaml rs1.yaml rs2.yaml         one agent configuration per host (docs/agent.md)
#   DIR/v1.json v2.json v3.json                       signed documents, each chained to the one before:
#       v1  examples/reference.yaml
#       v2  lvs2's priority 99 -> 98                  (a VRRP change the speakers take in place)
#       v3  v2 plus a third real server, rs3 .104     (a new IPVS destination on both directors)
#       v4  v3 with quorum 3 and a sorry server .105  (health checks: below quorum it is served)
#       v5-rsN  v3 with rsN drained                   (N = 1, 2, 3: the scenario drains the real server
#       v6-rsN  v5-rsN with a deadline long past       its client's connection went to; each chained
#                                                     to the one before)
#       v7-rsN  v3 with an exec check, dynamic_weight  (keepalived's misc_dynamic: the exit status of
#                                                     /etc/lb/load.sh sets the weight; chained to v6-rsN)
#       v8-rsN  v7 plus a UDP service, port 5353,     (keepalived's ops: IPVS one-packet scheduling;
#               with ops: true, on rs1 and rs2         chained to v7-rsN)
#       v9-rsN  v8-rsN with ops: false                (the same service edited; chained to v8-rsN)
#   DIR/load.sh                                       that check: exits with what /tmp/load-ADDRESS
#                                                     holds, else 0
#
# The scenario gets DIR as /etc/lb (lab/run.sh --file DIR:/etc/lb); every path in the configurations
# is one under /etc/lb or /var/lib/lb.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 LBCTL DIR" >&2; exit 2; }
lbctl=$1 dir=$2
here=$(cd "$(dirname "$0")" && pwd)
spec=$here/../examples/reference.yaml

[ ! -e "$dir" ] || { echo "$0: $dir exists" >&2; exit 2; }
"$lbctl" init --dir "$dir" >/dev/null

address() {
    case "$1" in lvs1) echo 192.168.1.100 ;; lvs2) echo 192.168.1.101 ;; rs1) echo 192.168.1.102 ;; rs2) echo 192.168.1.103 ;; esac
}
hosts="lvs1 lvs2 rs1 rs2"
for h in $hosts; do
    {
        echo "node: $h"
        echo "cluster: web"
        echo "gossip:"
        echo "  listen: $(address "$h"):7946"
        echo "  seeds:"
        for o in $hosts; do [ "$o" = "$h" ] || echo "    - $(address "$o"):7946"; done
        echo "  profile: fast"
        echo "keyring: /etc/lb/cluster.keyring"
        echo "trust:"
        echo "  keys: /etc/lb/operator.pub"
        echo "state_dir: /var/lib/lb/$h"
        echo "status:"
        echo "  listen: 127.0.0.1:9110"
    } >"$dir/$h.yaml"
done

# The spec copies are checked to differ where they must: a sed that matched nothing would sign v1 again.
sed 's/{ node: lvs2, priority: 99 }/{ node: lvs2, priority: 98 }/' "$spec" >"$dir/v2.yaml"
sed -e 's/^  - { name: rs2,  address: 192.168.1.103\/24, interface: eth0 }$/&\n  - { name: rs3,  address: 192.168.1.104\/24, interface: eth0 }/' \
    -e 's/^          - { node: rs2, weight: 1 }$/&\n          - { node: rs3, weight: 1 }/' "$dir/v2.yaml" >"$dir/v3.yaml"
grep -q 'node: lvs2, priority: 98' "$dir/v2.yaml" || { echo "$0: v2: lvs2's priority not changed" >&2; exit 1; }
[ "$(grep -c rs3 "$dir/v3.yaml")" = 2 ] || { echo "$0: v3: rs3 not added" >&2; exit 1; }

"$lbctl" sign "$spec" --key "$dir/operator.key" --version 1 --out "$dir/v1.json" >/dev/null
"$lbctl" sign "$dir/v2.yaml" --key "$dir/operator.key" --version 2 --previous "$dir/v1.json" --out "$dir/v2.json" >/dev/null
"$lbctl" sign "$dir/v3.yaml" --key "$dir/operator.key" --version 3 --previous "$dir/v2.json" --out "$dir/v3.json" >/dev/null
sed 's/^        health_check: .*$/        quorum: 3\n        sorry_server: 192.168.1.105:80\n&/' "$dir/v3.yaml" >"$dir/v4.yaml"
grep -q 'sorry_server: 192.168.1.105:80' "$dir/v4.yaml" || { echo "$0: v4: no sorry server" >&2; exit 1; }
"$lbctl" sign "$dir/v4.yaml" --key "$dir/operator.key" --version 4 --previous "$dir/v3.json" --out "$dir/v4.json" >/dev/null
for n in 1 2 3; do
    sed "s/^          - { node: rs$n, weight: 1 }\$/          - { node: rs$n, weight: 1, drain: true }/" "$dir/v3.yaml" >"$dir/v5-rs$n.yaml"
    sed "s/drain: true }/drain: true, drain_deadline: 2000-01-01T00:00:00Z }/" "$dir/v5-rs$n.yaml" >"$dir/v6-rs$n.yaml"
    grep -q "node: rs$n, weight: 1, drain: true, drain_deadline" "$dir/v6-rs$n.yaml" || { echo "$0: v6-rs$n: rs$n not drained" >&2; exit 1; }
    "$lbctl" sign "$dir/v5-rs$n.yaml" --key "$dir/operator.key" --version 5 --previous "$dir/v4.json" --out "$dir/v5-rs$n.json" >/dev/null
    "$lbctl" sign "$dir/v6-rs$n.yaml" --key "$dir/operator.key" --version 6 --previous "$dir/v5-rs$n.json" --out "$dir/v6-rs$n.json" >/dev/null
done
# v7: a check every two seconds whose command's exit status sets the weight (status - 2), down at the first
# failure, so the scenario sees each change within a few seconds.
sed 's|^        health_check: .*$|        health_check: { type: exec, command: /etc/lb/load.sh, dynamic_weight: true, interval: 2s, connect_timeout: 1500ms, retries: 1 }|' \
    "$dir/v3.yaml" >"$dir/v7.yaml"
grep -q 'dynamic_weight: true' "$dir/v7.yaml" || { echo "$0: v7: no exec check" >&2; exit 1; }
for n in 1 2 3; do
    "$lbctl" sign "$dir/v7.yaml" --key "$dir/operator.key" --version 7 --previous "$dir/v6-rs$n.json" --out "$dir/v7-rs$n.json" >/dev/null
done
# v8: a second service on the VIP, UDP with one-packet scheduling (docs/spec.md: ops only with protocol
# udp). Its check is TCP on the real servers' port 80, where the lab's httpd answers, so both stay in;
# the services are the last lines of the spec, so it is appended. v9 turns ops off on that same service.
[ "$(tail -n 1 "$dir/v7.yaml")" = "          - { node: rs3, weight: 1 }" ] || { echo "$0: v7: does not end with the services" >&2; exit 1; }
{
    cat "$dir/v7.yaml"
    echo "      - port: 5353"
    echo "        protocol: udp"
    echo "        scheduler: rr"
    echo "        ops: true"
    echo "        health_check: { type: tcp, port: 80, interval: 5s, connect_timeout: 3s, retries: 3 }"
    echo "        real_servers:"
    echo "          - { node: rs1, weight: 1 }"
    echo "          - { node: rs2, weight: 1 }"
} >"$dir/v8.yaml"
sed 's/^        ops: true$/        ops: false/' "$dir/v8.yaml" >"$dir/v9.yaml"
grep -q '^        ops: false$' "$dir/v9.yaml" || { echo "$0: v9: ops not turned off" >&2; exit 1; }
for n in 1 2 3; do
    "$lbctl" sign "$dir/v8.yaml" --key "$dir/operator.key" --version 8 --previous "$dir/v7-rs$n.json" --out "$dir/v8-rs$n.json" >/dev/null
    "$lbctl" sign "$dir/v9.yaml" --key "$dir/operator.key" --version 9 --previous "$dir/v8-rs$n.json" --out "$dir/v9-rs$n.json" >/dev/null
done
cat >"$dir/load.sh" <<'SH'
#!/bin/sh
# lb appends the real server's address and port; the scenario writes the status to exit with.
[ -f "/tmp/load-$1" ] && exit "$(cat "/tmp/load-$1")"
exit 0
SH
chmod 0755 "$dir/load.sh"
rm -f "$dir"/v[2-9]*.yaml "$dir/operator.key"
