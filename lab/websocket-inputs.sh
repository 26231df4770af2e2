#!/usr/bin/env bash
# lab/websocket-inputs.sh LBCTL DIR: everything lab/scenarios/websocket.sh needs, made on the host with
# the lbctl binary LBCTL, in DIR (created; it must not exist yet). It is lab/controller-inputs.sh's set
# (keys, one agent configuration per host with the controller among the seeds, the controller's
# configuration), with two differences and one addition:
#
#   DIR/v1.yaml              examples/reference.yaml as it is (no notifications: nothing listens for them)
#   DIR/controller.yaml      without the webhook, for the same reason; v2.yaml and webhook.secret are removed
#   DIR/forged.json          a document for cluster web at v99 signed by a key nobody trusts (an attacker's,
#   DIR/forger.pub           made by lbctl init and thrown away but for its public half, which lbctl push
#                            needs to publish the forgery as a member holding the cluster key would)
#
# The scenario gets DIR as /etc/lb (lab/run.sh --file DIR:/etc/lb).
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 LBCTL DIR" >&2; exit 2; }
lbctl=$1 dir=$2
here=$(cd "$(dirname "$0")" && pwd)
spec=$here/../examples/reference.yaml

"$here/controller-inputs.sh" "$lbctl" "$dir"
cp "$spec" "$dir/v1.yaml"
sed -i '/^notifications:$/,$d' "$dir/controller.yaml"
! grep -q 'webhook' "$dir/controller.yaml" || { echo "$0: controller.yaml: webhook not removed" >&2; exit 1; }
rm -f "$dir/v2.yaml" "$dir/webhook.secret"

forger=$(mktemp -d)
trap 'rm -rf "$forger"' EXIT
rmdir "$forger"
"$lbctl" init --dir "$forger" >/dev/null
"$lbctl" sign "$spec" --key "$forger/operator.key" --version 99 --out "$dir/forged.json" >/dev/null
cp "$forger/operator.pub" "$dir/forger.pub"
# The forgery must be what it claims: accepted under the forger's key, refused under the operator's.
"$lbctl" verify "$dir/forged.json" --trust "$dir/forger.pub" --cluster web >/dev/null
! "$lbctl" verify "$dir/forged.json" --trust "$dir/operator.pub" --cluster web >/dev/null 2>&1 \
    || { echo "$0: forged.json verifies under the operator's key" >&2; exit 1; }
"$lbctl" validate "$dir/v1.yaml" >/dev/null
