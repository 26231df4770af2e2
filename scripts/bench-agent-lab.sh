#!/usr/bin/env bash
# The agent's IPVS benchmark (README, `make bench-agent`): in one lab VM, a director agent holding the
# reference scenario (idle memory beside keepalived's for the same director, `ipvsadm -C` repaired), then
# one holding 10,000 services × 4 destinations (apply from empty, CPU of the periodic passes while idle,
# `ipvsadm -C` repaired). Usage: bench-agent-lab.sh BIN_DIR [SERVICES]; BIN_DIR has release lb-agent, lbctl.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$1
services=${2:-10000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$bin/lbctl" init --dir "$work/keys" >/dev/null
# The 10,000-service spec: one VIP, ports 10000… on four real servers, as lb-bench ipvs builds its table.
{
    echo "cluster: web"
    echo "nodes:"
    echo "  - { name: lvs1, address: 192.168.1.100/24, interface: eth0 }"
    for i in 1 2 3 4; do echo "  - { name: rs$i, address: 192.168.1.$((101 + i))/24, interface: eth0 }"; done
    echo "vips:"
    echo "  - name: web"
    echo "    address: 192.168.1.200/24"
    echo "    vrrp: { router_id: 51, directors: [ { node: lvs1, priority: 100 } ] }"
    echo "    services:"
    for ((p = 10000; p < 10000 + services; p++)); do
        echo "      - { port: $p, real_servers: [ { node: rs1 }, { node: rs2 }, { node: rs3 }, { node: rs4 } ] }"
    done
} >"$work/big.yaml"
for doc in ref big; do
    spec=examples/reference.yaml
    [ "$doc" = big ] && spec=$work/big.yaml
    mkdir -p "$work/$doc"
    "$bin/lbctl" sign "$spec" --key "$work/keys/operator.key" --version 1 --out "$work/$doc/document.json" >/dev/null 2>&1
    cat >"$work/$doc.yaml" <<YAML
node: lvs1
cluster: web
gossip:
  listen: 192.168.1.100:7946
  profile: fast
keyring: /keys/cluster.keyring
trust:
  keys: /keys/operator.pub
state_dir: /$doc
log_level: notice
YAML
done
"$bin/lbctl" export keepalived examples/reference.yaml --node lvs1 -o "$work/keepalived.conf"
lab/run.sh --timeout 1500 --memory 2048 --bin "$bin/lb-agent" \
    --file "$work/keys:/keys" --file "$work/ref:/ref" --file "$work/big:/big" \
    --file "$work/ref.yaml:/etc/lb/ref.yaml" --file "$work/big.yaml:/etc/lb/big.yaml" \
    --file "$work/keepalived.conf:/etc/keepalived/reference.conf" \
    lab/scenarios/bench-agent.sh "$services"
