#!/usr/bin/env bash
# lab/controller-inputs.sh LBCTL DIR: everything lab/scenarios/controller.sh needs, made on the host
# with the lbctl binary LBCTL, in DIR (created; it must not exist yet):
#
#   DIR/operator.key operator.pub cluster.keyring     lbctl init: a throwaway key of this run only; lbctl
#                                                      apply runs inside the VM, so the key goes there
#   DIR/lvs1.yaml lvs2.yaml rs1.yaml rs2.yaml          one agent configuration per host, LAN gossip profile,
#                                                      the controller among the seeds
#   DIR/controller.yaml                                lb-controller in the client's namespace (.50): API and
#                                                      status page on its loopback, a webhook with a secret
#   DIR/webhook.secret                                 the webhook's HMAC key
#   DIR/v1.yaml                                        examples/reference.yaml with notifications.email to the
#                                                      lab's SMTP sink on the client's loopback
#   DIR/v2.yaml                                        v1 with lvs2's priority 99 -> 98
#
# The scenario gets DIR as /etc/lb (lab/run.sh --file DIR:/etc/lb).
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
        echo "    - 192.168.1.50:7946"
        for o in $hosts; do [ "$o" = "$h" ] || echo "    - $(address "$o"):7946"; done
        echo "  profile: lan"
        echo "keyring: /etc/lb/cluster.keyring"
        echo "trust:"
        echo "  keys: /etc/lb/operator.pub"
        echo "state_dir: /var/lib/lb/$h"
        echo "status:"
        echo "  listen: 127.0.0.1:9110"
    } >"$dir/$h.yaml"
done
cat >"$dir/controller.yaml" <<'YAML'
name: ctl
cluster: web
gossip:
  listen: 192.168.1.50:7946
  seeds:
    - 192.168.1.100:7946
    - 192.168.1.101:7946
    - 192.168.1.102:7946
    - 192.168.1.103:7946
  profile: lan
keyring: /etc/lb/cluster.keyring
trust:
  keys: /etc/lb/operator.pub
state_dir: /var/lib/lb/ctl
api:
  listen: 127.0.0.1:9120
status:
  listen: 127.0.0.1:9121
notifications:
  webhook:
    url: http://127.0.0.1:8099/cgi-bin/hook
    secret_file: /etc/lb/webhook.secret
    retries: 3
YAML
echo "s3cret-for-the-lab" >"$dir/webhook.secret"
chmod 600 "$dir/webhook.secret"

{
    cat "$spec"
    echo
    echo "notifications:"
    echo "  email:"
    echo "    to: ops@example.com"
    echo "    from: lb@example.com"
    echo "    smtp_server: 127.0.0.1"
    echo "    smtp_port: 2525"
} >"$dir/v1.yaml"
sed 's/{ node: lvs2, priority: 99 }/{ node: lvs2, priority: 98 }/' "$dir/v1.yaml" >"$dir/v2.yaml"
grep -q 'node: lvs2, priority: 98' "$dir/v2.yaml" || { echo "$0: v2: lvs2's priority not changed" >&2; exit 1; }
"$lbctl" validate "$dir/v1.yaml" "$dir/v2.yaml" >/dev/null
