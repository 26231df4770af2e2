#!/bin/sh
# lab/init.sh — /init of the lab VM, run by busybox sh as PID 1 (lab/run.sh puts it in the initramfs).
# Mounts the pseudo file systems, loads the kernel modules in dependency order, brings up lo, runs
# `sh /scenario.sh ARGS` with its output on the console between two markers, sends /out and the
# run's metadata back on the data disk (/dev/vda, a raw tar archive), then powers off. It never exits:
# PID 1 exiting would panic the kernel.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mkdir -p /dev/pts /dev/shm /run /tmp /out /root /var
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /dev/shm
ln -sf /proc/self/fd /dev/fd
ln -sf /run /var/run
# The scenario's bytes reach the host unchanged: no \n -> \r\n on the console (kernel lines keep \r\n).
stty -onlcr 2>/dev/null

# LAB_NONCE, LAB_MODULES_DIR, LD_LIBRARY_PATH (when a --bin needs libraries outside the default dirs).
. /etc/lab/env

# Each line: a module path relative to LAB_MODULES_DIR, then its options. CPU-specific modules
# (arch/x86/crypto) may refuse this virtual CPU; the kernel falls back to the generic code.
for list in /etc/lab/modules /etc/lab/modules.extra; do
    [ -f "$list" ] || continue
    while read -r mod opts; do
        [ -n "$mod" ] || continue
        # shellcheck disable=SC2086
        out=$(insmod "$LAB_MODULES_DIR/$mod" $opts 2>&1) || case "$mod:$out" in
            arch/*|*"File exists"*) ;;
            *) echo "lab-init: insmod $mod failed: $out" ;;
        esac
    done <"$list"
done

/sbin/ip-full link set lo up
hostname lab
cd /

printf '@@LAB-BEGIN %s uptime=%s@@\n' "$LAB_NONCE" "$(cut -d' ' -f1 /proc/uptime)"
# The arguments as `set -- 'a' 'b'`, written by run.sh.
export LAB_OUT=/out LAB_LIB=/lab/lib.sh
(. /etc/lab/args.sh; exec sh /scenario.sh "$@") </dev/null
status=$?
# No newline before the marker: a last line without one stays that way in output.log.
printf '@@LAB-END %s status=%s uptime=%s@@\n' "$LAB_NONCE" "$status" "$(cut -d' ' -f1 /proc/uptime)"

mkdir -p /lab-meta
echo "$status" >/lab-meta/status
dmesg >/lab-meta/dmesg.log 2>&1
if [ -b /dev/vda ]; then
    if err=$(tar -cf /dev/vda -C / out lab-meta 2>&1) && sync; then
        printf '@@LAB-XFER %s ok@@\n' "$LAB_NONCE"
    else
        printf '@@LAB-XFER %s failed: %s@@\n' "$LAB_NONCE" "$err"
    fi
else
    printf '@@LAB-XFER %s failed: no /dev/vda@@\n' "$LAB_NONCE"
fi
poweroff -f
# Not reached; if poweroff ever returned, stay alive rather than panic.
while :; do sleep 3600; done
