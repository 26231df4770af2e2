# shellcheck shell=dash
# lab/lib.sh — helpers for lab scenarios. Inside the VM it is /lab/lib.sh; a scenario starts with
#     . /lab/lib.sh
# It runs under busybox sh (ash): POSIX sh plus `local`; no bash arrays or [[ ]].
#
# `ip`: busybox's own `ip` applet wins over any ip on PATH inside busybox sh and has no `netns`.
# iproute2 is /sbin/ip-full in the VM (/sbin/ip and /bin/ip are symlinks to it, for programs that
# exec `ip`), and this file defines an `ip` function that calls it. `busybox ip` is the applet.
#
# The reference topology (lab_topology): one bridge, br0, in the VM's own namespace, and one network
# namespace per host, each with eth0 (a veth whose peer is on br0) in 192.168.1.0/24:
#     client .50   lvs1 .100   lvs2 .101   rs1 .102   rs2 .103   VIP .200 (not assigned by lab_topology)
#
# Checks print `ok NAME` or `FAIL NAME: detail`; lab_summary prints `lab: N passed, M failed`.

LAB_IP=/sbin/ip-full
LAB_NET=192.168.1
LAB_PREFIX=24
LAB_VIP=192.168.1.200
LAB_HOSTS="client lvs1 lvs2 rs1 rs2"
LAB_BRIDGE=br0
# Results of lab_check & co., one line each, in a file so checks in subshells count too.
LAB_RESULTS=${LAB_RESULTS:-/tmp/lab-results}
[ -f "$LAB_RESULTS" ] || : >"$LAB_RESULTS"

ip() { "$LAB_IP" "$@"; }

# lab_addr NAME: the host's address in the reference topology.
lab_addr() {
    case "$1" in
        client) echo "$LAB_NET.50" ;;
        lvs1) echo "$LAB_NET.100" ;;
        lvs2) echo "$LAB_NET.101" ;;
        rs1) echo "$LAB_NET.102" ;;
        rs2) echo "$LAB_NET.103" ;;
        vip) echo "$LAB_VIP" ;;
        *) echo "lab_addr: unknown host $1" >&2; return 1 ;;
    esac
}

# lab_log TEXT...: a progress line with the VM's uptime, marked so it is not mistaken for a check.
lab_log() {
    local up _
    read -r up _ </proc/uptime
    echo "# [${up}s] $*"
}

# lab_ns NAME CMD...: runs CMD in the network namespace NAME the way `ip netns exec` does: with
# /sys remounted for that namespace and /etc/netns/NAME bound over /etc. ≈50 ms a call under TCG.
lab_ns() {
    local ns=$1
    shift
    "$LAB_IP" netns exec "$ns" "$@"
}

# lab_net NAME CMD...: runs CMD in the network namespace NAME only (nsenter), ≈7 ms a call. Enough
# for ipvsadm, ip, sysctl net.*, ping, wget, httpd; /sys stays the VM's own, so use lab_ns for
# programs that read /sys/class/net.
lab_net() {
    local ns=$1
    shift
    nsenter --net="/run/netns/$ns" -- "$@"
}

# lab_host NAME ADDRESS: one namespace NAME with lo up and eth0 (ADDRESS/24) bridged on br0.
lab_host() {
    local name=$1 addr=$2
    "$LAB_IP" netns add "$name" || return 1
    "$LAB_IP" link add "v-$name" type veth peer name eth0 netns "$name" || return 1
    "$LAB_IP" link set "v-$name" master "$LAB_BRIDGE" up || return 1
    "$LAB_IP" -n "$name" link set lo up || return 1
    "$LAB_IP" -n "$name" addr add "$addr/$LAB_PREFIX" dev eth0 || return 1
    "$LAB_IP" -n "$name" link set eth0 up || return 1
}

# lab_topology [NAME...]: the bridge and the reference hosts (all five when no NAME is given).
lab_topology() {
    local h
    if ! "$LAB_IP" link show "$LAB_BRIDGE" >/dev/null 2>&1; then
        "$LAB_IP" link add "$LAB_BRIDGE" type bridge stp_state 0 forward_delay 0 || return 1
        "$LAB_IP" link set "$LAB_BRIDGE" up || return 1
    fi
    # shellcheck disable=SC2048,SC2086  # (host names are single words)
    for h in ${*:-$LAB_HOSTS}; do
        lab_host "$h" "$(lab_addr "$h")" || { echo "lab_topology: cannot create $h" >&2; return 1; }
    done
}

# lab_real_server_dr NAME [VIP]: makes NAME a direct-routing real server: the VIP on lo, and ARP
# neither answered (arp_ignore=1) nor announced (arp_announce=2) for it.
lab_real_server_dr() {
    local name=$1 vip=${2:-$LAB_VIP}
    lab_net "$name" sysctl -q -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
        net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2 || return 1
    "$LAB_IP" -n "$name" addr add "$vip/32" dev lo || return 1
}

# lab_http_server NAME TEXT [PORT]: busybox httpd in NAME (daemon) serving TEXT as index.html.
lab_http_server() {
    local name=$1 text=$2 port=${3:-80} dir=/tmp/www-$1-${3:-80}
    mkdir -p "$dir" && echo "$text" >"$dir/index.html" || return 1
    lab_net "$name" httpd -p "$port" -h "$dir" || return 1
}

# lab_http_get NAME URL [SECONDS]: fetches URL from NAME; prints the body. busybox wget's own -T
# crashes, so `timeout` bounds it (default 5 s).
lab_http_get() {
    lab_net "$1" timeout "${3:-5}" wget -q -O - "$2"
}

# lab_now_ms: milliseconds of VM uptime (/proc/uptime counts centiseconds; busybox date has no %N).
lab_now_ms() {
    local up _
    read -r up _ </proc/uptime
    echo $((${up%.*}${up#*.} * 10))
}

# lab_start_agent HOST [LOG]: `lb-agent run --config /etc/lb/HOST.yaml` in HOST's namespace, in the
# background, its output appended to LOG (default /tmp/agent-HOST.log), its pid in pid_HOST. Started
# directly, not through lab_ns, so $! is the agent itself (ip netns exec execs) and a signal reaches it.
lab_start_agent() {
    "$LAB_IP" netns exec "$1" lb-agent run --config "/etc/lb/$1.yaml" >>"${2:-/tmp/agent-$1.log}" 2>&1 &
    eval "pid_$1=$!"
}

# lab_wait SECONDS CMD...: runs CMD every 0.2 s until it succeeds (0) or SECONDS pass (1).
lab_wait() {
    local limit=$1 tries
    shift
    tries=$((limit * 5))
    while [ "$tries" -gt 0 ]; do
        "$@" >/dev/null 2>&1 && return 0
        tries=$((tries - 1))
        sleep 0.2
    done
    "$@" >/dev/null 2>&1
}

# lab_pass NAME / lab_fail NAME DETAIL: record a result directly.
lab_pass() {
    echo "ok $1"
    echo "ok $1" >>"$LAB_RESULTS"
}
lab_fail() {
    local name=$1
    shift
    echo "FAIL $name: $*"
    echo "FAIL $name" >>"$LAB_RESULTS"
}

# Prints the first lines of a captured output, indented under a FAIL line.
lab__detail() { printf '%s\n' "$1" | head -n 20 | sed 's/^/    | /'; }

# lab_check NAME CMD...: ok when CMD exits 0; otherwise FAIL with its status and output.
lab_check() {
    local name=$1 out rc
    shift
    out=$("$@" 2>&1)
    rc=$?
    if [ "$rc" -eq 0 ]; then
        lab_pass "$name"
    else
        lab_fail "$name" "\`$*\` exited $rc"
        [ -z "$out" ] || lab__detail "$out"
    fi
    return "$rc"
}

# lab_check_output NAME PATTERN CMD...: ok when CMD exits 0 and a line of its output matches the
# extended regular expression PATTERN; otherwise FAIL with the output.
lab_check_output() {
    local name=$1 pattern=$2 out rc
    shift 2
    out=$("$@" 2>&1)
    rc=$?
    if [ "$rc" -eq 0 ] && printf '%s\n' "$out" | grep -Eq -- "$pattern"; then
        lab_pass "$name"
        return 0
    fi
    if [ "$rc" -ne 0 ]; then
        lab_fail "$name" "\`$*\` exited $rc"
    else
        lab_fail "$name" "no line of \`$*\` matches /$pattern/"
    fi
    [ -z "$out" ] || lab__detail "$out"
    return 1
}

# lab_check_log NAME PATTERN FILE [SECONDS]: ok when a line of FILE matches PATTERN within SECONDS
# (default 3). An agent logs a transition after it has acted on it (the VIP is added first, the line
# follows from another task), so a check made the moment the kernel shows the effect must wait.
lab_check_log() {
    local name=$1 pattern=$2 file=$3 limit=${4:-3}
    if lab_wait "$limit" grep -Eq -- "$pattern" "$file"; then
        lab_pass "$name"
        return 0
    fi
    lab_fail "$name" "no line of $file matches /$pattern/ within ${limit}s"
    [ -s "$file" ] && lab__detail "$(tail -n 20 "$file")"
    return 1
}

# lab_check_no_output NAME PATTERN CMD...: ok when CMD exits 0 and no line matches PATTERN.
lab_check_no_output() {
    local name=$1 pattern=$2 out rc
    shift 2
    out=$("$@" 2>&1)
    rc=$?
    if [ "$rc" -eq 0 ] && ! printf '%s\n' "$out" | grep -Eq -- "$pattern"; then
        lab_pass "$name"
        return 0
    fi
    if [ "$rc" -ne 0 ]; then
        lab_fail "$name" "\`$*\` exited $rc"
    else
        lab_fail "$name" "a line of \`$*\` matches /$pattern/"
    fi
    [ -z "$out" ] || lab__detail "$out"
    return 1
}

# lab_check_eq NAME EXPECTED ACTUAL: ok when the two strings are equal.
lab_check_eq() {
    if [ "$2" = "$3" ]; then lab_pass "$1"; else lab_fail "$1" "expected '$2', got '$3'"; return 1; fi
}

# lab_summary: prints `lab: N passed, M failed`; returns 1 when a check failed or none ran.
lab_summary() {
    local passed failed
    passed=$(grep -c '^ok ' "$LAB_RESULTS")
    failed=$(grep -c '^FAIL ' "$LAB_RESULTS")
    echo "lab: $passed passed, $failed failed"
    [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
}

# lab_done: lab_summary, then exit with its verdict (0 or 1).
lab_done() {
    if lab_summary; then exit 0; else exit 1; fi
}
