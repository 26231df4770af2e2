# The reference scenario run through the controller: lb-controller in the client's namespace, `lb-agent
# run` on lvs1, lvs2, rs1 and rs2 (LAN gossip profile), and the operator's `lbctl` against the
# controller's API:
#   1. `lbctl apply --wait` of v1 (examples/reference.yaml with e-mail notifications) returns once every
#      node has confirmed; the time it took is `figure: apply_v1_wait_ms`;
#   2. `lbctl status` shows lvs1 as the VIP's master and both real servers up, as the directors check them;
#   3. `lbctl apply --wait` of v2 (lvs2's priority 99 -> 98): `figure: apply_v2_wait_ms`, the benchmark
#      of an apply on the reference scenario (this is TCG emulation, several times slower than hardware);
#   4. rs2's listener stopped: the directors take it out, and the controller sends a real-server-down
#      e-mail to the SMTP sink and a signed webhook call to the receiver, both on the client's loopback;
#      started again: real-server-up;
#   5. every daemon stopped, the tails of their logs printed.
#
# Inputs (lab/controller-inputs.sh makes them on the host): /etc/lb/{cluster.keyring,operator.key,
# operator.pub,HOST.yaml,controller.yaml,webhook.secret,v1.yaml,v2.yaml}, /usr/local/bin/lb-agent,
# lb-controller and lbctl. The logs are left in /out.
. /lab/lib.sh

VIP=192.168.1.200
AGENTS="lvs1 lvs2 rs1 rs2"

ctl() { lab_net client lbctl "$@" --controller http://127.0.0.1:9120 --key /etc/lb/operator.key; }

http_stop() {
    local p found=""
    for p in /proc/[0-9]*; do
        [ "$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)" = "httpd -p 80 -h /tmp/www-$1-80 " ] && { kill "${p#/proc/}"; found=1; }
    done
    [ -n "$found" ] || { echo "http_stop: no httpd of $1 found" >&2; return 1; }
}

# The status as JSON says MASTER for lvs1 and rs1, rs2 health $1 on lvs1.
master_is_lvs1() { ctl status -o json | grep -q '"master" : "lvs1"'; }
health_of() { ctl status -o json | tr -d '\n ' | grep -q "\"endpoint\":\"$1\",\"health\":\"$2\""; }
mailed() { grep -q "Subject: \[lb web\] $1" /out/mail.txt 2>/dev/null; }
hooked() { grep -q "\"kind\":\"$1\"" /out/hooks.txt 2>/dev/null; }

lab_log "five hosts on one bridge; the SMTP sink and the webhook receiver on the client's loopback"
lab_topology || exit 1
mkdir -p /var/lib/lb /out
for h in rs1 rs2; do lab_http_server "$h" "hello from $h"; done

# A minimal SMTP sink (busybox nc runs it per connection): every line of every message's DATA goes to
# /out/mail.txt. The lab has no Python; the SMTP client itself is tested against aiosmtpd on the host.
cat >/tmp/smtp-sink.sh <<'SH'
#!/bin/sh
cr=$(printf '\r')
printf '220 sink.lab ESMTP\r\n'
while IFS= read -r line; do
    line=${line%"$cr"}
    case "$line" in
        EHLO*|HELO*) printf '250 sink.lab\r\n' ;;
        MAIL*|RCPT*|RSET*|NOOP*) printf '250 ok\r\n' ;;
        DATA)
            printf '354 end with .\r\n'
            while IFS= read -r l; do l=${l%"$cr"}; [ "$l" = "." ] && break; echo "$l" >>/out/mail.txt; done
            echo "--- end of message" >>/out/mail.txt
            printf '250 queued\r\n' ;;
        QUIT) printf '221 bye\r\n'; exit 0 ;;
        *) printf '502 unknown\r\n' ;;
    esac
done
SH
chmod +x /tmp/smtp-sink.sh
lab_net client nc -ll -p 2525 -e /tmp/smtp-sink.sh &
sink=$!
# The webhook receiver: busybox httpd with a CGI that keeps each body and its signature header.
mkdir -p /tmp/www-hook/cgi-bin
cat >/tmp/www-hook/cgi-bin/hook <<'SH'
#!/bin/sh
head -c "${CONTENT_LENGTH:-0}" >>/out/hooks.txt
echo >>/out/hooks.txt
printf 'Content-Type: text/plain\r\n\r\nok\n'
SH
chmod +x /tmp/www-hook/cgi-bin/hook
lab_net client httpd -p 127.0.0.1:8099 -h /tmp/www-hook || exit 1

# ---------------------------------------------------------------------------------------------
lab_log "1. lb-controller on the client, lb-agent run on $AGENTS, lbctl apply --wait v1"
lab_net client lb-controller run --config /etc/lb/controller.yaml >>/tmp/controller.log 2>&1 &
controller=$!
# The controller first, as in an install (agents keep retrying seeds that never answered, but the first
# retry may be seconds away), and its own seeds are its way in.
lab_wait 60 grep -q 'listening on 127.0.0.1:9120' /tmp/controller.log || lab_fail "the controller started" "$(tail -n 20 /tmp/controller.log)"
for h in $AGENTS; do lab_start_agent "$h"; done
for h in $AGENTS; do
    lab_wait 60 grep -q 'Server started and listening' "/tmp/agent-$h.log" || lab_fail "$h: agent started" "$(tail -n 20 "/tmp/agent-$h.log")"
done
started=$(lab_now_ms)
lab_check_output "lbctl apply --wait v1: every node confirmed" '^v1 converged on all 4 nodes' ctl apply /etc/lb/v1.yaml --yes --wait --timeout 180s
echo "figure: apply_v1_wait_ms=$(($(lab_now_ms) - started))"

# ---------------------------------------------------------------------------------------------
lab_log "2. status: the VRRP master and the real servers' health as the directors see them"
lab_wait 30 master_is_lvs1
lab_check "lbctl status: lvs1 is master of the VIP" master_is_lvs1
for e in 192.168.1.102:80 192.168.1.103:80; do
    lab_wait 60 health_of "$e" up
    lab_check "lbctl status: $e is up" health_of "$e" up
done
ctl status | tee /out/status-v1.txt

# ---------------------------------------------------------------------------------------------
lab_log "3. lbctl apply --wait v2 (lvs2 priority 98)"
started=$(lab_now_ms)
lab_check_output "lbctl apply --wait v2: every node confirmed" '^v2 converged on all 4 nodes' ctl apply /etc/lb/v2.yaml --yes --wait --timeout 120s
echo "figure: apply_v2_wait_ms=$(($(lab_now_ms) - started))"
lab_check_output "lbctl history lists v1 and v2" '^v2 ' ctl history

# ---------------------------------------------------------------------------------------------
lab_log "4. rs2's listener stopped: down by e-mail and webhook; started again: up"
lab_check "rs2's listener stopped" http_stop rs2
lab_wait 60 health_of 192.168.1.103:80 down
lab_check "lbctl status: 192.168.1.103:80 is down" health_of 192.168.1.103:80 down
lab_wait 30 mailed real-server-down
lab_check "a real-server-down e-mail reached the SMTP sink" mailed real-server-down
lab_wait 30 hooked real-server-down
lab_check "a real-server-down webhook call reached the receiver" hooked real-server-down
lab_http_server rs2 "hello from rs2"
lab_wait 60 hooked real-server-up
lab_check "real-server-up followed by webhook" hooked real-server-up
lab_wait 30 mailed real-server-up
lab_check "and by e-mail" mailed real-server-up

# ---------------------------------------------------------------------------------------------
lab_log "5. stop everything"
for h in $AGENTS; do eval "kill -TERM \$pid_$h"; done
kill -TERM "$controller"
sleep 3
kill "$sink" 2>/dev/null
cp /tmp/controller.log /tmp/agent-*.log /out/ 2>/dev/null
echo "---- /tmp/controller.log (last 25 lines)"
tail -n 25 /tmp/controller.log
lab_done
