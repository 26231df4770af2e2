#!/usr/bin/env bash
# The main job, as an operator lives it (README): make keys, check and plan the reference scenario,
# sign it into a desired-state document, and show that agents would accept it and refuse forgeries.
# Then the whole reference scenario runs in the qemu lab: apply, VRRP election, traffic, failover, repair.
set -euo pipefail
cd "$(dirname "$0")/.."
lbctl() { "$(swift build --show-bin-path)/lbctl" "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step "lbctl init: an operator signing key and a cluster key"
lbctl init --dir "$work/keys"
ls -l "$work/keys"

step "lbctl validate examples/reference.yaml"
lbctl validate examples/reference.yaml

step "lbctl plan: what each agent will hold"
lbctl plan examples/reference.yaml

step "lbctl sign: version 1 of the desired state"
lbctl sign examples/reference.yaml --key "$work/keys/operator.key" --version 1 --out "$work/v1.json"

step "lbctl verify: what an agent checks before it applies anything"
lbctl verify "$work/v1.json" --trust "$work/keys/operator.pub" --cluster web

step "a new version chains to the previous one"
lbctl sign examples/reference.yaml --key "$work/keys/operator.key" --version 2 --previous "$work/v1.json" --out "$work/v2.json"
lbctl verify "$work/v2.json" --trust "$work/keys/operator.pub" --cluster web --min-version 2

step "refused: version 1 again once version 2 is held (a replay)"
if lbctl verify "$work/v1.json" --trust "$work/keys/operator.pub" --cluster web --min-version 2; then
    echo "demo: a replayed document was accepted" >&2; exit 1
fi

step "refused: a document signed by a key the agents do not trust"
lbctl init --dir "$work/mallory" >/dev/null
lbctl sign examples/reference.yaml --key "$work/mallory/operator.key" --version 3 --out "$work/forged.json"
if lbctl verify "$work/forged.json" --trust "$work/keys/operator.pub" --cluster web; then
    echo "demo: a forged document was accepted" >&2; exit 1
fi

step "refused: a document whose payload was altered after signing"
python3 - "$work/v2.json" "$work/tampered.json" <<'PY'
import base64, json, sys
env = json.load(open(sys.argv[1]))
payload = base64.b64decode(env["payload"]).replace(b"192.168.1.103", b"192.168.1.666")
env["payload"] = base64.b64encode(payload).decode()
json.dump(env, open(sys.argv[2], "w"))
PY
if lbctl verify "$work/tampered.json" --trust "$work/keys/operator.pub" --cluster web; then
    echo "demo: a tampered document was accepted" >&2; exit 1
fi

step "the reference scenario in the lab: a kernel with IPVS under qemu, five hosts in namespaces, lb-agent run on each"
# Keys, each host's agent.yaml and signed documents v1-v3 are made here; the signing key stays here.
lab/agent-inputs.sh "$(swift build --show-bin-path)/lbctl" "$work/lb"
lab/run.sh --timeout 480 --no-keepalived --bin "$(swift build --show-bin-path)/lb-agent" --bin "$(swift build --show-bin-path)/lbctl" \
    --file "$work/lb:/etc/lb" lab/scenarios/agent.sh

step "demo complete"
