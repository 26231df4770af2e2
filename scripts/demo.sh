#!/usr/bin/env bash
# The main job, as an operator lives it (README): make keys, check and plan the reference scenario,
# sign it into a desired-state document, and show that agents would accept it and refuse forgeries.
# Then the reference scenario runs in the qemu lab with real daemons and 200 WebSockets, narrated
# (lab/scenarios/websocket.sh --narrate), and its figures are printed beside keepalived's.
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

step "the reference scenario with real WebSockets, in the lab: a kernel with IPVS under qemu, hosts in namespaces"
cat <<'TXT'
   lb-controller on the client's host, lb-agent run on lvs1, lvs2, rs1 and rs2, lbctl against the controller,
   echo servers on the real servers and 200 WebSocket clients through the VIP. The story: apply, a director
   crash, its return as after a reboot, a real server failing, a drain, tampering, forgery, the controller lost.
TXT
# Keys, each host's configuration and the documents are made here; the VM gets them as /etc/lb.
bin=$(swift build --show-bin-path)
lab/websocket-inputs.sh "$bin/lbctl" "$work/ws" >/dev/null
lab/run.sh --timeout 600 --smp 2 --memory 2048 --no-keepalived --bin "$bin/lb-agent" --bin "$bin/lb-controller" \
    --bin "$bin/lbctl" --bin "$bin/lb-bench" --file "$work/ws:/etc/lb" lab/scenarios/websocket.sh --narrate | tee "$work/story.log" \
    && story=0 || story=$?

step "the figures, beside keepalived's for the same steps"
# keepalived's column is what `make bench-websocket` measured on this kind of machine (2026-12-02, README);
# it runs keepalived with lbctl's export of the same spec through the same clients and steps.
fig() { grep -o "figure: .*" "$work/story.log" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1; }
closed=$(fig failover_closed_early)
kept=$((200 - ${closed:-200}))
printf '%-44s %-32s %s\n' "step" "lb (this run)" "keepalived 2.2.7 (lab, same steps)"
printf '%-44s %-32s %s\n' "director crash: VIP on the backup (polled)" "$(fig vip_move_ms) ms" "3870 ms"
printf '%-44s %-32s %s\n' "  after the master's last advert (goal 3710)" "$(fig vip_up_after_last_advert_ms) ms" "-"
printf '%-44s %-32s %s\n' "WebSockets kept through crash and return" "$kept of 200" "200 of 200 on the crash, 20 of 200 on the return"
printf '%-44s %-32s %s\n' "messages lost" "$(fig failover_lost)" "179 (the reset connections')"
printf '%-44s %-32s %s\n' "return: VIP back on lvs1" "$(fig failback_ms) ms, after the handover" "4760 ms, without the quiet connections"
printf '%-44s %-32s %s\n' "real server down: out of IPVS" "$(fig rs_removal_ms) ms" "TCP_CHECK, same bound"
printf '%-44s %-32s %s\n' "ipvsadm -C on the master: repaired" "$(fig repair_ipvs_clear_ms) ms" "never"
printf '%-44s %-32s %s\n' "real server's lo VIP deleted: repaired" "$(fig repair_rs_vip_ms) ms" "not managed"
grep -E '^lab: ' "$work/story.log" || true
[ "$story" = 0 ] || { echo "demo: the lab story failed (exit $story); its output is above" >&2; exit 1; }

step "demo complete"
