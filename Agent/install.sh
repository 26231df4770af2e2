#!/usr/bin/env bash
# Agent/install.sh: lb-agent on a host without dpkg, as the lb-agent package would put it there: the
# binary, the systemd unit, the placeholder /etc/lb/agent.yaml (only when there is none) and the state
# directory. Run it again to upgrade: the binary and unit are replaced, the configuration never is.
# Enabling and starting stay the operator's step, as with the package.
#
# Usage: Agent/install.sh [--bin DIR] [--prefix DIR] [--root DIR] [--uninstall]
#   --bin DIR      where the lb-agent binary is (default: beside this script if it is there, else the
#                  release build, .build-release/release)
#   --prefix DIR   the binary goes to DIR/bin, the unit names it there (default /usr/local)
#   --root DIR     install into DIR instead of / (systemctl is then left alone)
#   --uninstall    stop and disable the unit, remove the binary and the unit; /etc/lb and /var/lib/lb
#                  stay (run `lb-agent reset` before, to remove what lb made in the kernel)
# Controller/install.sh is the same script for lb-controller; change both alike.
set -euo pipefail

name=lb-agent
binaries=(lb-agent)
config=agent.yaml
state=/var/lib/lb

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2; exit 2; }
die() { echo "$name install: error: $*" >&2; exit 1; }
say() { echo "$name install: $*"; }

bin="" prefix=/usr/local root="" uninstall=0
while (($#)); do
    case "$1" in
        --bin) bin=${2:?--bin needs DIR}; shift 2 ;;
        --prefix) prefix=${2:?--prefix needs DIR}; shift 2 ;;
        --root) root=${2:?--root needs DIR}; shift 2 ;;
        --uninstall) uninstall=1; shift ;;
        -h|--help) usage ;;
        *) echo "$name install: unknown argument $1" >&2; usage ;;
    esac
done
[[ "$prefix" == /* ]] || die "--prefix $prefix is not an absolute path"
[ -z "$root" ] || [ -d "$root" ] || die "--root $root is not a directory"
[ -n "$root" ] || [ "$(id -u)" -eq 0 ] || die "run it as root (or with --root DIR)"
unit=$root/etc/systemd/system/$name.service
# systemctl only for the live system, and only when systemd runs it.
systemd=0
[ -z "$root" ] && [ -d /run/systemd/system ] && systemd=1

if [ "$uninstall" = 1 ]; then
    if [ "$systemd" = 1 ]; then
        systemctl disable --now "$name.service" 2>/dev/null || true
    fi
    for b in "${binaries[@]}"; do rm -f "$root$prefix/bin/$b"; done
    rm -f "$unit"
    [ "$systemd" = 1 ] && systemctl daemon-reload
    say "removed ${binaries[*]} and $name.service; kept /etc/lb and $state (remove them by hand to forget this host's configuration and state)"
    exit 0
fi

if [ -z "$bin" ]; then
    if [ -x "$here/${binaries[0]}" ]; then bin=$here; else bin=$(dirname "$here")/.build-release/release; fi
fi
for b in "${binaries[@]}"; do
    [ -x "$bin/$b" ] || die "no $b in $bin; build it (swift build -c release --static-swift-stdlib --scratch-path .build-release --product $b) or give --bin DIR"
done
[ -f "$here/$name.service" ] && [ -f "$here/$config" ] || die "$name.service and $config must be beside this script in $here"

for b in "${binaries[@]}"; do
    # Through a temporary name and a rename: a running daemon keeps its old binary, never a half-copied one.
    install -d -m 0755 "$root$prefix/bin"
    install -m 0755 "$bin/$b" "$root$prefix/bin/.$b.new"
    mv -f "$root$prefix/bin/.$b.new" "$root$prefix/bin/$b"
done
install -d -m 0755 "$(dirname "$unit")"
# The package's unit, with the binary where this script put it.
sed "s|/usr/bin/|$prefix/bin/|g" "$here/$name.service" >"$unit.new"
chmod 0644 "$unit.new"
mv -f "$unit.new" "$unit"
install -d -m 0755 "$root/etc/lb"
if [ -e "$root/etc/lb/$config" ]; then
    say "kept /etc/lb/$config"
else
    install -m 0644 "$here/$config" "$root/etc/lb/$config"
    say "installed the placeholder /etc/lb/$config: replace it with this host's file from the lbctl init bundle"
fi
install -d -m 0700 "$root$state"
if [ "$systemd" = 1 ]; then
    systemctl daemon-reload
    # As the package's upgrade does: a running daemon moves to the new binary, a stopped one stays stopped.
    systemctl try-restart "$name.service"
fi
say "installed ${binaries[*]} in $prefix/bin and $name.service; when /etc/lb holds this host's configuration and keys: systemctl enable --now $name"
