#!/usr/bin/env bash
# lab/run.sh — runs one scenario script inside a qemu VM that boots Debian's cloud kernel (which has
# IPVS, unlike the host) with a busybox initramfs, and brings its results back. See docs/lab.md.
#
# Usage: lab/run.sh [OPTIONS] SCENARIO.sh [ARGS...]
#   --timeout SECONDS   hard wall-clock limit for the VM (default 300); on expiry qemu is killed,
#                       the last 50 console lines are printed and the exit status is 124
#   --out DIR           where results go (default .lab-cache/runs/NAME-TIME-PID, last 20 kept):
#                       console.log, output.log, files/ (the VM's /out), dmesg.log, status, timing
#   --memory MB         guest memory (default 512, or 1024 when the initramfs is over 48 MiB)
#   --smp N             virtual CPUs (default 1; TCG runs one host thread per CPU)
#   --bin PATH          an executable for /usr/local/bin, with its ldd libraries, stripped (repeatable)
#   --file SRC:DEST     a file or directory copied to DEST inside the VM, or into DEST when it
#                       ends with / (repeatable)
#   --module NAME       one more kernel module (with its dependencies) loaded at boot (repeatable)
#   --append ARGS       more kernel command-line arguments
#   --no-keepalived     leave keepalived out even when it is installed (smaller, faster boot)
#   --quiet             print only errors (the results are in the --out directory)
#   --console           print the whole console live instead of only the scenario's output
#
# Exit status: the scenario's; 124 on timeout; 125 when the VM stopped without a result (kernel
# panic, /init failure, qemu error; the console tail says why); 2 for bad arguments or inputs.
set -euo pipefail
# ipvsadm, modprobe and depmod live in sbin, which a non-login PATH may lack.
export PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
cache=${LAB_CACHE:-$repo/.lab-cache}
HOST_PACKAGES=(qemu-system-x86 busybox-static ipvsadm cpio kmod iproute2)
# Modules every VM loads (with their dependencies from modules.dep), and per-module options.
BASE_MODULES=(ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_sh ip_vs_mh nf_conntrack
    veth bridge stp llc ipip tunnel4 ip_tunnel dummy virtio_pci virtio_blk)
declare -A MODULE_OPTIONS=([dummy]="numdummies=0")
# Bump when the layout of the cached base initramfs changes.
BASE_FORMAT=4

usage() { awk 'NR >= 5 && /^#/ { sub(/^# ?/, ""); print } /^set -euo/ { exit }' "${BASH_SOURCE[0]}" >&2; exit 2; }
die() { echo "lab/run: error: $*" >&2; exit 2; }
note() { [ "$quiet" = 1 ] || echo "lab/run: $*" >&2; }

timeout=300 out="" memory="" append="" smp=1 quiet=0 console=0 keepalived=1
bins=() files=() modules=()
while (($#)); do
    case "$1" in
        --timeout) timeout=${2:?--timeout needs SECONDS}; shift 2 ;;
        --out) out=${2:?--out needs DIR}; shift 2 ;;
        --memory) memory=${2:?--memory needs MB}; shift 2 ;;
        --smp) smp=${2:?--smp needs N}; shift 2 ;;
        --bin) bins+=("${2:?--bin needs PATH}"); shift 2 ;;
        --file) files+=("${2:?--file needs SRC:DEST}"); shift 2 ;;
        --module) modules+=("${2:?--module needs NAME}"); shift 2 ;;
        --append) append+=" ${2:?--append needs ARGS}"; shift 2 ;;
        --no-keepalived) keepalived=0; shift ;;
        --quiet) quiet=1; shift ;;
        --console) console=1; shift ;;
        -h|--help) usage ;;
        --) shift; break ;;
        -*) echo "lab/run: unknown option $1" >&2; usage ;;
        *) break ;;
    esac
done
(($#)) || usage
scenario=$1; shift
if ! [[ "$timeout" =~ ^[1-9][0-9]*$ ]]; then die "--timeout must be a positive number of seconds"; fi
[ -z "$memory" ] || [[ "$memory" =~ ^[0-9]+$ ]] || die "--memory must be a number of MiB"
[[ "$smp" =~ ^[0-9]+$ ]] || die "--smp must be a number"

# Check every input before anything slow happens.
[ -f "$scenario" ] || die "scenario $scenario not found"
for b in "${bins[@]}"; do
    [ -f "$b" ] || die "--bin $b: no such file"
    [ -x "$b" ] || die "--bin $b: not executable"
done
for f in "${files[@]}"; do
    [[ "$f" == *:/* ]] || die "--file $f: expected SRC:/ABSOLUTE/DEST"
    [ -e "${f%%:/*}" ] || die "--file $f: ${f%%:/*} not found"
done

# Host packages: install only what is missing (scripts/install-deps.sh also wants swift on PATH, so
# its verdict is the packages' presence afterwards, not its exit status).
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
missing=()
for p in "${HOST_PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
if ((${#missing[@]})); then
    note "installing host packages: ${missing[*]}"
    PATH=$PATH:/opt/swift/usr/bin "$repo/scripts/install-deps.sh" "${missing[@]}" >&2 || true
    for p in "${missing[@]}"; do installed "$p" || die "could not install host package $p"; done
fi
qemu=$(command -v qemu-system-x86_64) || die "qemu-system-x86_64 not found"

kernel_args=()
[ "$quiet" = 0 ] || kernel_args=(--quiet)
kdir=$("$here/kernel.sh" "${kernel_args[@]}") || die "lab/kernel.sh failed"
release=$(cat "$kdir/release")
moddir=lib/modules/$release

# ---------------------------------------------------------------------------------------------
# Per-run state; removed, with qemu and helpers stopped, on every exit path.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lab-run.XXXXXX")
qpid="" spid="" tpid=""
# shellcheck disable=SC2317  # (called from the trap)
cleanup() {
    local pid
    for pid in $qpid $spid $tpid; do kill "$pid" 2>/dev/null || true; done
    if [ -n "$qpid" ]; then
        # qemu gets a moment to exit on SIGTERM, then is killed.
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$qpid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$qpid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo "lab/run: interrupted" >&2; exit 130' INT
trap 'exit 143' TERM HUP

# Ordered insmod lines ("relative/path.ko options") for modules and their dependencies. Paths are
# given as .ko even when the package ships .ko.xz/.zst/.gz: install_module decompresses them, since
# busybox insmod may not.
module_lines() {
    local m
    for m in "$@"; do
        modprobe --config=/dev/null -d "$kdir" -S "$release" --show-depends "$m" 2>"$tmp/modprobe.err" \
            || die "kernel module $m: $(cat "$tmp/modprobe.err")"
    done | awk -v pre="$kdir/$moddir/" '$1 == "insmod" && index($2, pre) == 1 { print substr($2, length(pre) + 1) }' |
        sed -E 's/\.ko\.(xz|zst|gz)$/.ko/' | awk '!seen[$0]++' |
        while read -r path; do
            name=${path##*/}; name=${name%.ko}; name=${name//-/_}
            echo "$path ${MODULE_OPTIONS[$name]:-}"
        done
}
# install_module REL STAGE: the module REL (a .ko path from module_lines) into STAGE, uncompressed.
install_module() {
    local src=$kdir/$moddir/$1 dest=$2/$moddir/$1
    mkdir -p "$(dirname "$dest")"
    if [ -f "$src" ]; then install -m 0644 "$src" "$dest"
    elif [ -f "$src.xz" ]; then xz -dc "$src.xz" >"$dest"
    elif [ -f "$src.zst" ]; then zstd -dcq "$src.zst" >"$dest"
    elif [ -f "$src.gz" ]; then gzip -dc "$src.gz" >"$dest"
    else die "module file $src not found"
    fi
}

# Copies an executable to DEST in STAGE with the libraries ldd lists (at the same paths), and records
# each library directory in STAGE/.libdirs.
copy_with_libs() {
    local src=$1 stage=$2 dest=$3 lib
    install -D -m 0755 "$src" "$stage$dest"
    if ldd "$src" >"$tmp/ldd.out" 2>&1; then
        if grep -q "not found" "$tmp/ldd.out"; then
            die "$src needs libraries this host lacks: $(grep 'not found' "$tmp/ldd.out" | tr -s ' \t\n' ' ')"
        fi
        for lib in $(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' "$tmp/ldd.out"); do
            [ -e "$stage$lib" ] || install -D -m 0755 "$lib" "$stage$lib"
            dirname "$lib" >>"$stage/.libdirs"
        done
    fi   # static binaries and scripts: nothing more to copy
}

# ---------------------------------------------------------------------------------------------
# The base initramfs (busybox, iproute2, ipvsadm, keepalived, modules), cached by its inputs.
base_modules=$(module_lines "${BASE_MODULES[@]}")
base_bins=(/bin/busybox "$(readlink -f "$(command -v ip)")" "$(command -v ipvsadm)")
if [ "$keepalived" = 1 ] && command -v keepalived >/dev/null 2>&1; then
    base_bins+=("$(command -v keepalived)")
else
    keepalived=0
fi
key=$( {
    echo "format $BASE_FORMAT kernel $kdir keepalived $keepalived"
    echo "$base_modules"
    for b in "${base_bins[@]}"; do
        stat -L -c '%n %s %Y' "$b"
        ldd "$b" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
            xargs -r stat -L -c '%n %s %Y'
    done
} | sha256sum | cut -c1-16)
base="$cache/initramfs/base-$key.cpio"

build_base() {
    local stage=$tmp/base applet b
    mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,etc/lab,lab,proc,sys,dev,run,tmp,out,root}
    install -m 0755 /bin/busybox "$stage/bin/busybox"
    for applet in $(/bin/busybox --list-full); do
        # iproute2 plays `ip`; busybox's applet stays reachable as `busybox ip`.
        case "$applet" in */ip) continue ;; esac
        mkdir -p "$stage/$(dirname "$applet")"
        [ -e "$stage/$applet" ] || ln -s /bin/busybox "$stage/$applet"
    done
    copy_with_libs "${base_bins[1]}" "$stage" /sbin/ip-full
    ln -s ip-full "$stage/sbin/ip"
    ln -s /sbin/ip-full "$stage/bin/ip"
    copy_with_libs "${base_bins[2]}" "$stage" /sbin/ipvsadm
    if [ "$keepalived" = 1 ]; then copy_with_libs "${base_bins[3]}" "$stage" /usr/sbin/keepalived; fi
    while read -r path _; do install_module "$path" "$stage"; done <<<"$base_modules"
    echo "$base_modules" >"$stage/etc/lab/modules"
    cp "$kdir/$moddir"/modules.{dep,dep.bin,alias,alias.bin,symbols,symbols.bin,builtin,builtin.bin,order} \
        "$stage/$moddir/" 2>/dev/null || true
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$stage/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$stage/etc/group"
    printf '127.0.0.1 localhost\n::1 localhost\n' >"$stage/etc/hosts"
    [ -d /etc/iproute2 ] && cp -r /etc/iproute2 "$stage/etc/iproute2"
    rm -f "$stage/.libdirs"
    if [ "$(id -u)" = 0 ]; then mknod -m 0600 "$stage/dev/console" c 5 1; fi
    (cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) >"$tmp/base.cpio"
}

mkdir -p "$cache/initramfs"
if [ ! -f "$base" ]; then
    exec 8>"$cache/initramfs/.lock"
    flock 8
    if [ ! -f "$base" ]; then
        note "building base initramfs ($key)"
        build_base
        mv "$tmp/base.cpio" "$base"
        # Older bases are stale once a new one exists for the same inputs' successor.
        find "$cache/initramfs" -name 'base-*.cpio' ! -name "base-$key.cpio" -mmin +60 -delete 2>/dev/null || true
    fi
    exec 8>&-
fi
touch "$base"   # (marks it in use: bases unused for an hour are removed when another is built)

# ---------------------------------------------------------------------------------------------
# The per-run initramfs: init, lib.sh, the scenario and its arguments, --bin, --file, --module.
nonce=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
stage=$tmp/run
mkdir -p "$stage/etc/lab" "$stage/lab" "$stage/usr/local/bin"
install -m 0755 "$here/init.sh" "$stage/init"
install -m 0644 "$here/lib.sh" "$stage/lab/lib.sh"
install -m 0755 "$scenario" "$stage/scenario.sh"
sq() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; }
{
    printf 'set --'
    for a in "$@"; do printf ' %s' "$(sq "$a")"; done
    printf '\n'
} >"$stage/etc/lab/args.sh"
# Each --bin goes in stripped of its debug information: a Swift debug build is mostly DWARF (lb-agent
# 140 MB, 74 MB stripped), and with it the guest's RAM is short enough that the agent scenario took
# over 12 minutes under TCG instead of 4, with `lb-agent status` missing its 5 s deadline. A script
# or an already stripped binary goes in as it is.
for b in "${bins[@]}"; do
    dest=/usr/local/bin/$(basename "$b")
    copy_with_libs "$b" "$stage" "$dest"
    if [ "$(head -c 4 "$b" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
        strip "$stage$dest" || die "--bin $b: strip failed"
    fi
done
for f in "${files[@]}"; do
    src=${f%%:/*} dest=/${f#*:/}
    if [[ "$dest" == */ ]]; then
        # DEST/ names a directory to copy into.
        mkdir -p "$stage$dest"
        cp -rL "$src" "$stage$dest"
    else
        mkdir -p "$stage$(dirname "$dest")"
        cp -rL "$src" "$stage$dest"
    fi
done
if ((${#modules[@]})); then
    module_lines "${modules[@]}" | while read -r path opts; do
        grep -q "^$path " <<<"$base_modules" && continue
        install_module "$path" "$stage"
        echo "$path $opts"
    done >"$stage/etc/lab/modules.extra"
fi
libpath=""
if [ -f "$stage/.libdirs" ]; then
    for d in $(sort -u "$stage/.libdirs"); do
        case "$d" in /lib|/lib64|/usr/lib|/lib/x86_64-linux-gnu|/usr/lib/x86_64-linux-gnu) ;; *) libpath+=${libpath:+:}$d ;; esac
    done
    rm -f "$stage/.libdirs"
fi
{
    echo "LAB_NONCE=$nonce"
    echo "LAB_MODULES_DIR=/$moddir"
    echo "LAB_KERNEL_PACKAGE='$(cat "$kdir/package")'"
    [ -z "$libpath" ] || echo "export LD_LIBRARY_PATH=$libpath"
} >"$stage/etc/lab/env"
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) >"$tmp/run.cpio"
# The kernel unpacks concatenated archives in order: the per-run part overrides the base.
cat "$base" "$tmp/run.cpio" >"$tmp/initrd.cpio"
initrd_mb=$(($(stat -c %s "$tmp/initrd.cpio") / 1048576))
if [ -z "$memory" ]; then
    memory=512
    ((initrd_mb <= 48)) || memory=$((1024 > initrd_mb * 4 ? 1024 : initrd_mb * 4))
fi

# The data disk the VM writes its /out (as a tar archive) to; sparse, so its size costs nothing.
truncate -s 1G "$tmp/data.img"

# ---------------------------------------------------------------------------------------------
# Results directory.
name=$(basename "$scenario" .sh)
if [ -z "$out" ]; then
    out="$cache/runs/$name-$(date +%Y%m%d-%H%M%S)-$$"
    # Keep the last 20 default result directories.
    ls -1dt "$cache"/runs/*/ 2>/dev/null | tail -n +20 | xargs -r rm -rf || true
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -rf "$out/files" "$out/console.log" "$out/output.log" "$out/dmesg.log" "$out/status" "$out/timing"
console_log=$out/console.log
: >"$console_log"

kernel=$kdir/vmlinuz
[ -f "$kdir/vmlinux" ] && kernel=$kdir/vmlinux
# shellcheck disable=SC2054  # (commas belong to qemu's option syntax)
qemu_args=(
    -accel tcg -cpu max -m "$memory" -smp "$smp"
    -nodefaults -nographic -no-reboot -monitor none -nic none
    -kernel "$kernel" -initrd "$tmp/initrd.cpio"
    -append "console=ttyS0 quiet panic=-1 oops=panic cryptomgr.notests${append}"
    -serial "file:$console_log"
    -drive "file=$tmp/data.img,format=raw,if=none,id=data,cache=unsafe"
    -device virtio-blk-pci,drive=data
)
# shellcheck disable=SC2206
qemu_args+=(${LAB_QEMU_EXTRA:-})
note "booting $release with $name (initramfs ${initrd_mb} MiB, ${memory} MiB RAM, timeout ${timeout}s); results in $out"

start=$(date +%s.%N)
"$qemu" "${qemu_args[@]}" </dev/null >"$tmp/qemu.out" 2>&1 &
qpid=$!
sleep "$timeout" &
spid=$!

# Live view: the scenario's lines (between the markers), or the whole console.
if [ "$quiet" = 0 ]; then
    if [ "$console" = 1 ]; then
        tail -n +1 -s 0.2 -f --pid="$qpid" "$console_log" &
    else
        # (A shell loop, not awk: mawk buffers its input and would print only at the end.)
        tail -n +1 -s 0.2 -f --pid="$qpid" "$console_log" | {
            on=0
            while IFS= read -r line; do
                line=${line%$'\r'}
                if [ "$on" = 0 ]; then
                    [[ "$line" != *"@@LAB-BEGIN $nonce"* ]] || on=1
                elif [[ "$line" == *"@@LAB-END $nonce"* ]]; then
                    [ -z "${line%%@@LAB-END*}" ] || printf '%s\n' "${line%%@@LAB-END*}"
                    break
                else
                    printf '%s\n' "$line"
                fi
            done
        } &
    fi
    tpid=$!
fi

wait -n "$qpid" "$spid" || true
timed_out=0
if kill -0 "$qpid" 2>/dev/null; then
    timed_out=1
    kill "$qpid" 2>/dev/null || true
    for _ in $(seq 20); do kill -0 "$qpid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$qpid" 2>/dev/null || true
fi
wait "$qpid" 2>/dev/null && qemu_status=0 || qemu_status=$?
qpid=""
kill "$spid" 2>/dev/null || true
wait "$spid" 2>/dev/null || true
spid=""
end=$(date +%s.%N)
if [ -n "$tpid" ]; then wait "$tpid" 2>/dev/null || true; tpid=""; fi
elapsed=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')

# The scenario's output: everything between the markers (a last line without a newline keeps it so).
awk -v n="$nonce" '
    index($0, "@@LAB-BEGIN " n) { on = 1; next }
    on && (i = index($0, "@@LAB-END " n)) { printf "%s", substr($0, 1, i - 1); exit }
    on { print }' "$console_log" >"$out/output.log"
end_line=$(grep -a -o "@@LAB-END $nonce status=[0-9]* uptime=[0-9.]*@@" "$console_log" | head -n1 || true)
begin_line=$(grep -a -o "@@LAB-BEGIN $nonce uptime=[0-9.]*@@" "$console_log" | head -n1 || true)
xfer_line=$(grep -a -o "@@LAB-XFER $nonce [^@]*@@" "$console_log" | head -n1 || true)

tail_console() {
    echo "---- last 50 console lines ($console_log) ----" >&2
    # Without carriage returns and the firmware's terminal escapes.
    tail -n 50 "$console_log" | tr -d '\r' | sed 's/\x1bc//g; s/\x1b\[[0-9;?]*[A-Za-z]//g' >&2
    if [ -s "$tmp/qemu.out" ]; then echo "---- qemu ----" >&2; cat "$tmp/qemu.out" >&2; fi
    echo "----" >&2
}

if [ "$timed_out" = 1 ]; then
    echo "lab/run: TIMEOUT after ${timeout}s: qemu killed ($name; the scenario $([ -n "$end_line" ] && echo finished || echo "never finished"))" >&2
    tail_console
    echo 124 >"$out/status"
    exit 124
fi
if [ -z "$end_line" ]; then
    why=$(grep -a -m1 -o 'Kernel panic - not syncing:.*' "$console_log" | tr -d '\r' || true)
    echo "lab/run: the VM stopped without a result after ${elapsed}s (qemu exit $qemu_status): ${why:-no kernel panic seen; /init failure or qemu error?}" >&2
    tail_console
    echo 125 >"$out/status"
    exit 125
fi
status=${end_line#*status=}; status=${status%% *}

# Files from /out and the run's metadata, sent back as a tar archive on the data disk.
mkdir -p "$out/files"
if [[ "$xfer_line" == *" ok@@" ]]; then
    mkdir -p "$tmp/xfer"
    if tar -xf "$tmp/data.img" -C "$tmp/xfer" 2>"$tmp/tar.err"; then
        [ -d "$tmp/xfer/out" ] && cp -a "$tmp/xfer/out/." "$out/files/"
        [ -f "$tmp/xfer/lab-meta/dmesg.log" ] && cp "$tmp/xfer/lab-meta/dmesg.log" "$out/dmesg.log"
    else
        echo "lab/run: warning: could not unpack /out: $(cat "$tmp/tar.err")" >&2
    fi
else
    echo "lab/run: warning: /out did not come back: ${xfer_line:-no transfer marker}" >&2
fi

echo "$status" >"$out/status"
boot=${begin_line#*uptime=}; boot=${boot%@@}
done_at=${end_line##*uptime=}; done_at=${done_at%@@}
printf 'wall %s\nguest_boot %s\nguest_scenario_end %s\n' "$elapsed" "$boot" "$done_at" >"$out/timing"
note "$name exited $status (wall ${elapsed}s, guest boot ${boot}s, scenario done at ${done_at}s); results in $out"
exit "$status"
