#!/usr/bin/env bash
# scripts/package-tests.sh: the Debian packages and install scripts, tested as an operator uses them
# (part of `make test`; root, for chroot).
#
#   1. release binaries: swift build -c release --static-swift-stdlib in .build-release (incremental:
#      seconds when nothing changed; a fresh clone pays the whole release build once); or, with
#      LB_PACKAGE_BIN (make test), the debug build's binaries that scripts/static-link.sh linked with the
#      static Swift runtime, since a second build of the whole graph was a quarter of CI's run. Either
#      way none may need libswiftCore.so, which no Debian package provides
#   2. lb-agent and lb-controller packages at VERSION and at a later version (scripts/package.sh)
#   3. lintian: no error on either package
#   4. in a minimal Debian 12 root made by debootstrap (cached under .lab-cache/debian-root, so only
#      the first run downloads): apt installs both packages with nothing else; nothing is enabled;
#      the placeholders are refused; lbctl init makes a bundle whose files, copied into /etc/lb, pass
#      check-config; the later version upgrades over it and keeps the copied configuration (no conffile
#      prompt); remove keeps configuration and state; purge leaves the root as it was before, but for
#      the operator's keys
#   5. systemd-analyze verify on both units as installed in that root; then that root booted with
#      systemd as init in the qemu lab (scripts/package-boot-test.sh): lb-agent enabled with rs1's
#      file and a stored v1 comes up active with STATUS "v1 applied" and the real-server plan in the
#      kernel, and `systemctl stop` leaves the VIP in place
#   6. Agent/install.sh and Controller/install.sh into a scratch root: install, install again (nothing
#      changes), uninstall
#
# Usage: scripts/package-tests.sh [--keep]   (--keep: leave the work directory for a look afterwards)
# Environment: LB_RELEASE_SCRATCH (default .build-release), LB_PACKAGE_BIN (default: build release
# binaries; else the directory with lb-agent, lb-controller and lbctl; the licenses then come from the
# debug build's checkouts in .build), LAB_CACHE (default .lab-cache),
# DEBIAN_MIRROR (default http://deb.debian.org/debian).
set -euo pipefail
export PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin:/opt/swift/usr/bin

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
scratch=${LB_RELEASE_SCRATCH:-$repo/.build-release}
bin=${LB_PACKAGE_BIN:-}
if [ -n "$bin" ]; then
    bin=$(cd "$bin" && pwd)
    scratch=${LB_RELEASE_SCRATCH:-$repo/.build}
else
    bin=$scratch/release
fi
export LB_PACKAGE_BIN=$bin
cache=${LAB_CACHE:-$repo/.lab-cache}/debian-root
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=bookworm
keep=0
[ "${1:-}" = "--keep" ] && keep=1

started=$(date +%s)
passed=0
step() { printf '\npackage-tests: %s (%ds)\n' "$*" "$(($(date +%s) - started))"; }
ok() { passed=$((passed + 1)); echo "  ok: $*"; }
fail() { echo "package-tests: FAIL: $*" >&2; exit 1; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }

[ "$(id -u)" -eq 0 ] || fail "needs root (chroot, dpkg in a Debian root); CI runs as root"
for tool in debootstrap lintian dpkg-deb dpkg-shlibdeps systemd-analyze; do
    command -v "$tool" >/dev/null || fail "$tool is missing: make deps installs it (APT_PACKAGES in the Makefile)"
done

work=$(mktemp -d /tmp/lb-package-tests.XXXXXX)
root=$work/root
cleanup() {
    umount -l "$root/proc" 2>/dev/null || true
    if [ "$keep" = 1 ]; then echo "package-tests: kept $work"; else rm -rf --one-file-system "$work"; fi
}
trap cleanup EXIT

# 1. The binaries the packages carry: release ones as `make package` builds them, or those given.
if [ "$bin" = "$scratch/release" ]; then
    step "release binaries in $scratch"
    for product in lb-agent lb-controller lbctl; do
        t=$(date +%s)
        nice -n 19 swift build -c release --static-swift-stdlib --scratch-path "$scratch" --product "$product" >"$work/build-$product.log" 2>&1 ||
            { tail -30 "$work/build-$product.log" >&2; fail "release build of $product"; }
        echo "  $product: $(($(date +%s) - t)) s"
    done
else
    step "the binaries in $bin"
fi
for product in lb-agent lb-controller lbctl; do
    [ -x "$bin/$product" ] || fail "$bin/$product is missing"
    if ldd "$bin/$product" | grep -q libswift; then fail "$bin/$product needs the shared Swift runtime: not linked with the static one"; fi
done

# 2. Two versions of each package from the same binaries: what an upgrade replaces.
version=$(cat "$repo/VERSION")
next=$version+1
step "packages $version and $next"
for v in "$version" "$next"; do
    for product in agent controller; do
        LB_DEB_COMPRESSION=gzip LB_DEB_LEVEL=1 "$here/package.sh" "$product" "$v" "$scratch" "$work/debs/$v" >/dev/null
    done
done
agent1=$work/debs/$version/lb-agent_${version}_amd64.deb controller1=$work/debs/$version/lb-controller_${version}_amd64.deb
agent2=$work/debs/$next/lb-agent_${next}_amd64.deb controller2=$work/debs/$next/lb-controller_${next}_amd64.deb
for deb in "$agent1" "$controller1"; do
    echo "  $(basename "$deb"): $(du -k "$deb" | cut -f1) KiB, Depends: $(dpkg-deb -f "$deb" Depends)"
done

# 3. lintian, as Debian runs it: errors fail, warnings are shown.
step "lintian"
for deb in "$agent1" "$controller1"; do
    lintian --fail-on error --tag-display-limit 0 "$deb" >"$work/lintian.out" 2>&1 || { cat "$work/lintian.out" >&2; fail "lintian errors on $(basename "$deb")"; }
    grep -v 'running with root privileges' "$work/lintian.out" | sed 's/^/  /' || true
    ok "lintian: no error on $(basename "$deb")"
done

# 4. A Debian root with what the packages depend on and systemd (as on a real host, and for
# systemd-analyze verify --root), made once and unpacked fresh each run.
step "a Debian $suite root"
depends=$( { dpkg-deb -f "$agent1" Depends; echo ,; dpkg-deb -f "$controller1" Depends; } | tr ',|' '\n\n' |
    sed 's/(.*)//; s/ //g' | grep -v '^$' | sort -u | tr '\n' ',')systemd
key=$(echo "$suite minbase $depends" | sha256sum | cut -c1-12)
tarball=$cache/$suite-minbase-$key.tar
if [ ! -f "$tarball" ]; then
    echo "  debootstrap $suite (minbase + $depends) from $mirror: once, then cached as $tarball"
    mkdir -p "$cache"
    nice -n 19 debootstrap --variant=minbase --include="$depends" "$suite" "$work/bootstrap" "$mirror" >"$work/debootstrap.log" 2>&1 ||
        { tail -20 "$work/debootstrap.log" >&2; fail "debootstrap"; }
    chroot "$work/bootstrap" apt-get clean
    tar -C "$work/bootstrap" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    # A root for other Depends is not used again.
    find "$cache" -name "$suite-minbase-*.tar" -not -name "$(basename "$tarball")" -delete
    rm -rf --one-file-system "$work/bootstrap"
fi
mkdir "$root"
tar -C "$root" -xf "$tarball"
mount -t proc proc "$root/proc"
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root DEBIAN_FRONTEND=noninteractive "$@" </dev/null; }
# What the root holds before any lb package, to compare with after the purge.
snapshot() { (cd "$root" && find . -xdev -not -path './proc/*' -not -path './var/lib/dpkg/*' -not -path './var/log/*' \
    -not -path './var/cache/*' -not -path './var/lib/apt/*' -not -path './tmp/*' -not -path './root/*' -printf '%p %m\n' | sort); }
snapshot >"$work/before"
cp "$agent1" "$controller1" "$agent2" "$controller2" "$root/tmp/"

step "install $version"
in_root apt-get install -y -q "/tmp/$(basename "$agent1")" "/tmp/$(basename "$controller1")" >"$work/apt.log" 2>&1 ||
    { cat "$work/apt.log" >&2; fail "apt install of both packages"; }
check "apt installed both and nothing else: the root holds their Depends" grep -q "^0 upgraded, 2 newly installed, 0 to remove" "$work/apt.log"
for f in usr/bin/lb-agent usr/bin/lb-controller usr/bin/lbctl lib/systemd/system/lb-agent.service lib/systemd/system/lb-controller.service \
         etc/lb/agent.yaml etc/lb/controller.yaml usr/share/doc/lb-agent/copyright usr/share/doc/lb-controller/changelog.gz; do
    [ -e "$root/$f" ] || fail "/$f not installed"
done
ok "binaries, units, placeholders and docs are in place"
check "/var/lib/lb and /var/lib/lb-controller made private by postinst" \
    test "$(stat -c %a "$root/var/lib/lb")" = 700 -a "$(stat -c %a "$root/var/lib/lb-controller")" = 700
check "nothing enabled on install" test -z "$(find "$root/etc/systemd/system" -name 'lb-*' 2>/dev/null)"
set +e
placeholder=$(in_root lb-agent check-config --config /etc/lb/agent.yaml 2>&1); status=$?
set -e
check "the placeholder agent.yaml is refused: $placeholder" test "$status" = 1 -a -n "$(echo "$placeholder" | grep 'the agent configuration is empty')"
set +e
placeholder=$(in_root lb-controller check-config --config /etc/lb/controller.yaml 2>&1); status=$?
set -e
check "the placeholder controller.yaml is refused" test "$status" = 1 -a -n "$(echo "$placeholder" | grep 'the controller configuration is empty')"

step "the bundle into /etc/lb"
cp "$repo/examples/reference.yaml" "$root/tmp/cluster.yaml"
in_root lbctl init --spec /tmp/cluster.yaml --out /root/bundle --controller-address 192.168.1.10 >"$work/init.log" 2>&1 ||
    { cat "$work/init.log" >&2; fail "lbctl init in the Debian root"; }
ok "lbctl init --spec wrote a bundle: $(grep -c '^wrote' "$work/init.log") files"
# As README's "Install on real hosts" does it, for rs1 and the controller on one host.
in_root install -m 0600 /root/bundle/cluster.keyring /etc/lb/cluster.keyring
in_root install -m 0644 /root/bundle/operators.pub /etc/lb/operators.pub
in_root install -m 0644 /root/bundle/nodes/rs1/agent.yaml /etc/lb/agent.yaml
in_root install -m 0644 /root/bundle/controller/controller.yaml /etc/lb/controller.yaml
in_root lb-agent check-config --config /etc/lb/agent.yaml >"$work/check.log" 2>&1 || { cat "$work/check.log" >&2; fail "lb-agent check-config on the bundle's file"; }
ok "lb-agent check-config accepts rs1's file and keys"
in_root lb-controller check-config --config /etc/lb/controller.yaml >"$work/check.log" 2>&1 || { cat "$work/check.log" >&2; fail "lb-controller check-config on the bundle's file"; }
ok "lb-controller check-config accepts the controller's file and keys"
configured=$(md5sum "$root/etc/lb/agent.yaml" "$root/etc/lb/controller.yaml")

step "upgrade to $next"
in_root dpkg -i "/tmp/$(basename "$agent2")" "/tmp/$(basename "$controller2")" >"$work/upgrade.log" 2>&1 ||
    { cat "$work/upgrade.log" >&2; fail "dpkg -i of $next over $version (a conffile prompt fails here too: stdin is /dev/null)"; }
check "both at $next" test "$(in_root dpkg-query -W -f '${Version} ' lb-agent lb-controller)" = "$next $next "
check "the configuration the operator put in /etc/lb is kept" test "$(md5sum "$root/etc/lb/agent.yaml" "$root/etc/lb/controller.yaml")" = "$configured"
check "no .dpkg-new or .dpkg-dist beside it" test -z "$(find "$root/etc/lb" -name '*.dpkg-*')"

step "remove, then purge"
in_root dpkg -r lb-agent lb-controller >"$work/remove.log" 2>&1 || { cat "$work/remove.log" >&2; fail "dpkg -r"; }
check "remove: binaries gone" test ! -e "$root/usr/bin/lb-agent" -a ! -e "$root/usr/bin/lbctl"
check "remove: configuration and state kept" test -f "$root/etc/lb/agent.yaml" -a -d "$root/var/lib/lb" -a -d "$root/var/lib/lb-controller"
in_root dpkg -P lb-agent lb-controller >"$work/purge.log" 2>&1 || { cat "$work/purge.log" >&2; fail "dpkg -P"; }
check "purge: configuration and state gone" test ! -e "$root/etc/lb/agent.yaml" -a ! -e "$root/var/lib/lb" -a ! -e "$root/var/lib/lb-controller"
snapshot >"$work/after"
# The operator's keys are not the packages' to remove (both packages may share them), so they, and
# /etc/lb holding them, are all that may be left.
leftover=$(diff "$work/before" "$work/after" | grep '^[<>]' | grep -v -E '^> \./etc/lb( |/cluster\.keyring |/operators\.pub )' || true)
check "purge leaves the root as before, but for the operator's keys${leftover:+: $leftover}" test -z "$leftover"

step "systemd-analyze verify"
in_root dpkg -i "/tmp/$(basename "$agent1")" "/tmp/$(basename "$controller1")" >"$work/reinstall.log" 2>&1 || { cat "$work/reinstall.log" >&2; fail "dpkg -i again"; }
for unit in lb-agent lb-controller; do
    set +e
    systemd-analyze verify --root="$root" "$root/lib/systemd/system/$unit.service" >"$work/verify.log" 2>&1; status=$?
    set -e
    # A setting it cannot parse is only a warning to verify, so every line about this unit counts
    # (lines about other units of the root do not).
    problems=$(grep -F "$unit.service" "$work/verify.log" || true)
    check "systemd-analyze verify $unit.service${problems:+: $problems}" test "$status" = 0 -a -z "$problems"
done

step "boot that root with systemd in the qemu lab"
"$here/package-boot-test.sh" "$root" "$work/boot" || fail "the booted Debian (scripts/package-boot-test.sh)"
passed=$((passed + 3))

step "Agent/install.sh and Controller/install.sh without dpkg"
alt=$work/alt
mkdir "$alt"
for dir in Agent Controller; do
    "$repo/$dir/install.sh" --root "$alt" --bin "$bin" >"$work/install.log" 2>&1 || { cat "$work/install.log" >&2; fail "$dir/install.sh"; }
done
for f in usr/local/bin/lb-agent usr/local/bin/lb-controller usr/local/bin/lbctl etc/systemd/system/lb-agent.service \
         etc/systemd/system/lb-controller.service etc/lb/agent.yaml etc/lb/controller.yaml; do
    [ -e "$alt/$f" ] || fail "install.sh: /$f missing"
done
check "install.sh: the unit runs /usr/local/bin/lb-agent" grep -q '^ExecStart=/usr/local/bin/lb-agent run' "$alt/etc/systemd/system/lb-agent.service"
check "install.sh: state directories private" test "$(stat -c %a "$alt/var/lib/lb")" = 700 -a "$(stat -c %a "$alt/var/lib/lb-controller")" = 700
echo "# edited" >>"$alt/etc/lb/agent.yaml"
sums() { (cd "$alt" && find . -type f -exec md5sum {} + | sort -k2); }
before=$(sums)
"$repo/Agent/install.sh" --root "$alt" --bin "$bin" >"$work/install.log" 2>&1
check "install.sh again: nothing changes, the edited configuration is kept" test "$(sums)" = "$before"
check "install.sh says it kept the configuration" grep -q 'kept /etc/lb/agent.yaml' "$work/install.log"
"$repo/Agent/install.sh" --root "$alt" --uninstall >"$work/install.log" 2>&1
check "install.sh --uninstall: binary and unit gone, configuration and state kept" \
    test ! -e "$alt/usr/local/bin/lb-agent" -a ! -e "$alt/etc/systemd/system/lb-agent.service" -a -f "$alt/etc/lb/agent.yaml" -a -d "$alt/var/lib/lb"
set +e
"$repo/Agent/install.sh" --root "$alt" --bin "$work/nowhere" >"$work/install.log" 2>&1; status=$?
set -e
check "install.sh without a binary says where to get one" test "$status" = 1 -a -n "$(grep 'no lb-agent in' "$work/install.log")"

step "done: $passed checks passed"
