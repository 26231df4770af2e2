#!/usr/bin/env bash
# scripts/package-boot-test.sh ROOT WORK: the lb packages on a booted Debian, with systemd as init,
# in the qemu lab's VM (Debian's cloud kernel, TCG). Called by scripts/package-tests.sh with its Debian
# root, in which lb-agent is installed, the keys from an lbctl init bundle (/root/bundle) are in /etc/lb
# and the spec is /tmp/cluster.yaml.
#
# In ROOT, as an operator would: rs1's agent.yaml from the bundle into /etc/lb, a signed v1 as the
# document in /var/lib/lb (the host "rebooted" with it), `systemctl enable lb-agent`; the controller's
# file and `systemctl enable lb-controller` on the same host; and, for the test only, a oneshot unit
# after both that prints what systemd and the kernel say on the console, stops the agent, prints again
# and powers off. The VM's eth0 is a dummy interface with rs1's and the controller's addresses, made
# before systemd starts. ROOT then becomes an ext4 image (WORK/root.img), booted through a small
# busybox initramfs that loads the virtio modules and switches to systemd.
#
# Checked from the console: lb-agent.service is active (Type=notify: READY=1 came) with STATUS "v1
# applied", under the unit's sandbox the real-server plan is in the kernel (the VIP on lo, arp_ignore
# and arp_announce on eth0); lb-controller.service is active and `lbctl status` gets its API's answer;
# after `systemctl stop lb-agent` the VIP is still there.
set -euo pipefail
export PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin

[ $# -eq 2 ] || { echo "usage: $0 ROOT WORK" >&2; exit 2; }
root=$1 work=$2
mkdir -p "$work"
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
vip=192.168.1.200 address=192.168.1.102/24 controller=192.168.1.10/24
fail() { echo "package-boot-test: FAIL: $*" >&2; exit 1; }
ok() { echo "  ok: $*"; }

for tool in qemu-system-x86_64 mkfs.ext4 busybox modprobe; do
    command -v "$tool" >/dev/null || fail "$tool is missing (Debian packages qemu-system-x86, e2fsprogs, busybox-static, kmod)"
done
kdir=$("$repo/lab/kernel.sh" --quiet)
release=$(cat "$kdir/release")
kernel=$kdir/vmlinux
[ -f "$kernel" ] || kernel=$kdir/vmlinuz

# The operator's steps on rs1, in the root.
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "$@" </dev/null; }
in_root install -m 0644 /root/bundle/nodes/rs1/agent.yaml /etc/lb/agent.yaml
in_root lbctl sign /tmp/cluster.yaml --key /root/bundle/operator.key --version 1 --out /var/lib/lb/document.json >/dev/null
in_root systemctl enable lb-agent >/dev/null 2>&1 || fail "systemctl enable lb-agent in the root"
# The controller on the same host (its own gossip address), as the README's step 4 sets it up.
in_root install -m 0644 /root/bundle/controller/controller.yaml /etc/lb/controller.yaml
in_root systemctl enable lb-controller >/dev/null 2>&1 || fail "systemctl enable lb-controller in the root"

# The test's own unit: it reports on the console, then powers the VM off, passed or not.
install -m 0755 /bin/busybox "$root/usr/local/bin/busybox"
cat >"$root/usr/local/sbin/lb-boot-check" <<EOF
#!/bin/sh
addresses() { /usr/local/bin/busybox ip -o -4 addr show dev lo | awk '{ print \$4 }' | tr '\n' ' '; }
show() { systemctl show -p "\$1" --value "\${2:-lb-agent}.service"; }
# The firmware's last words have no newline; the report starts on a line of its own.
echo
echo "lb-boot: unit \$(show ActiveState)/\$(show SubState) status=\$(show StatusText) restarts=\$(show NRestarts) after \$(cut -d' ' -f1 /proc/uptime)s"
echo "lb-boot: lo \$(addresses)"
echo "lb-boot: controller \$(show ActiveState lb-controller)/\$(show SubState lb-controller) status=\$(show StatusText lb-controller) restarts=\$(show NRestarts lb-controller)"
lbctl status --controller http://127.0.0.1:9120 --key /root/bundle/operator.key >/tmp/status 2>&1
echo "lb-boot: lbctl-status exit=\$? \$(head -n1 /tmp/status)"
echo "lb-boot: sysctl eth0 arp_ignore=\$(cat /proc/sys/net/ipv4/conf/eth0/arp_ignore) arp_announce=\$(cat /proc/sys/net/ipv4/conf/eth0/arp_announce)"
systemctl stop lb-agent.service
echo "lb-boot: stopped \$(show ActiveState) result=\$(show Result) lo \$(addresses)"
journalctl -b -u lb-agent --no-pager -o cat | sed 's/^/lb-boot: journal: /' | tail -n 20
echo "lb-boot: end"
EOF
chmod 0755 "$root/usr/local/sbin/lb-boot-check"
cat >"$root/etc/systemd/system/lb-boot-check.service" <<'EOF'
[Unit]
Description=lb package test: what lb-agent's unit did, on the console
After=lb-agent.service lb-controller.service
SuccessAction=poweroff-force
FailureAction=poweroff-force

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/lb-boot-check
StandardOutput=tty
TTYPath=/dev/ttyS0

[Install]
WantedBy=multi-user.target
EOF
in_root systemctl enable lb-boot-check >/dev/null 2>&1
# Nothing in this VM logs in; a getty on the console would only add to the boot.
in_root systemctl mask serial-getty@ttyS0.service getty@tty1.service >/dev/null 2>&1 || true

# The root as a disk: the packages' files, a little room for the journal and the state.
umount -l "$root/proc" 2>/dev/null || true
rm -f "$root"/tmp/*.deb
size=$(($(du -sm "$root" | cut -f1) + 256))
mkfs.ext4 -q -F -L lb-root -d "$root" "$work/root.img" "${size}M" || fail "mkfs.ext4 -d of the root"

# The initramfs: busybox, the modules that reach the disk and make eth0, and an /init that switches
# to systemd on the disk.
initrd=$work/initrd
mkdir -p "$initrd"/{bin,proc,sys,dev,newroot}
install -m 0755 /bin/busybox "$initrd/bin/busybox"
for applet in sh mount umount insmod ip sleep switch_root poweroff cat echo mkdir; do ln -s busybox "$initrd/bin/$applet"; done
for m in virtio_pci virtio_blk dummy; do
    modprobe --config=/dev/null -d "$kdir" -S "$release" --show-depends "$m"
done | awk '$1 == "insmod" { print $2 }' | awk '!seen[$0]++' >"$work/modules"
while read -r path; do
    name=$(basename "$path"); name=${name%.xz}; name=${name%.zst}; name=${name%.gz}
    case "$path" in
        *.xz) xz -dc "$path" >"$initrd/$name" ;; *.zst) zstd -dcq "$path" >"$initrd/$name" ;;
        *.gz) gzip -dc "$path" >"$initrd/$name" ;; *) cp "$path" "$initrd/$name" ;;
    esac
    echo "$name" >>"$initrd/modules"
done <"$work/modules"
cat >"$initrd/init" <<EOF
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
while read -r m; do insmod "/\$m" \$([ "\$m" = dummy.ko ] && echo numdummies=0); done </modules
ip link add eth0 type dummy && ip addr add $address dev eth0 && ip addr add $controller dev eth0 && ip link set eth0 up
i=0
while [ ! -b /dev/vda ] && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i + 1)); done
mount -t ext4 /dev/vda /newroot || { echo "lb-boot: cannot mount /dev/vda"; poweroff -f; }
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot /lib/systemd/systemd
EOF
chmod 0755 "$initrd/init"
(cd "$initrd" && find . | cpio -o -H newc --quiet) >"$work/initrd.cpio"

started=$(date +%s)
timeout 300 qemu-system-x86_64 -accel tcg -cpu max -m 1024 -smp 1 -nodefaults -nographic -no-reboot -monitor none -nic none \
    -kernel "$kernel" -initrd "$work/initrd.cpio" -serial "file:$work/console.log" \
    -append "console=ttyS0 quiet panic=-1 systemd.show_status=0 loglevel=3" \
    -drive "file=$work/root.img,format=raw,if=none,id=root,cache=unsafe" -device virtio-blk-pci,drive=root \
    || fail "qemu did not power off within 300 s (exit $?); console: $(tail -20 "$work/console.log")"
echo "  the VM booted systemd, ran the check and powered off in $(($(date +%s) - started)) s"
grep -a -o 'lb-boot: .*' "$work/console.log" | sed 's/^/  /' || true

report() { grep -a -o "lb-boot: $1.*" "$work/console.log" | head -n1 || true; }
[ -n "$(report end)" ] || fail "the check never finished; console: $(tail -30 "$work/console.log")"
unit=$(report unit)
[[ "$unit" == *"unit active/running status=v1 applied restarts=0"* ]] || fail "lb-agent.service is not active with 'v1 applied': $unit"
ok "systemd started lb-agent.service (Type=notify) on boot: active, STATUS 'v1 applied', no restart"
[[ "$(report lo)" == *"$vip/32"* ]] || fail "the VIP is not on lo: $(report lo)"
[[ "$(report sysctl)" == *"arp_ignore=1 arp_announce=2"* ]] || fail "the ARP sysctls are not set: $(report sysctl)"
ok "under the unit's sandbox the real-server plan is in the kernel: $vip/32 on lo, arp_ignore 1, arp_announce 2"
controller_unit=$(report controller)
[[ "$controller_unit" == *"controller active/running status="*"; API on 127.0.0.1:9120 restarts=0"* ]] ||
    fail "lb-controller.service is not active with its API: $controller_unit"
[[ "$(report lbctl-status)" == *"exit=0 cluster web (controller controller)"* ]] || fail "lbctl status through the API: $(report lbctl-status)"
ok "systemd started lb-controller.service on the same host: active once its API listened, and lbctl status answered"
stopped=$(report stopped)
[[ "$stopped" == *"stopped inactive result=success"* && "$stopped" == *"$vip/32"* ]] || fail "after systemctl stop: $stopped"
ok "systemctl stop lb-agent: a clean stop, and the VIP stays on lo"
