#!/usr/bin/env bash
# lab/kernel.sh — fetches Debian's cloud kernel (the package that linux-image-cloud-amd64 depends on),
# unpacks vmlinuz and its modules, runs depmod, and caches the result under .lab-cache/kernel/, keyed by
# the package name and version, so a new version in apt's lists is fetched and an unchanged one costs
# nothing. Prints the cache directory (…/kernel/PKG_VERSION) on stdout; it holds
#   vmlinuz          the kernel (bzImage)
#   vmlinux          the same kernel uncompressed (an ELF with a PVH entry; qemu boots it ≈0.3 s
#                    faster), when it could be extracted; otherwise the marker vmlinux.none
#   release          the kernel release (uname -r), e.g. 6.1.0-56-cloud-amd64
#   lib/modules/R/   the modules with modules.dep
#   config           the kernel's build configuration
#   package          "PKG VERSION"
# Usage: lab/kernel.sh [--quiet]
# Environment: LAB_CACHE (default: <repo>/.lab-cache), LAB_KERNEL_PACKAGE (default: resolved from
# linux-image-cloud-amd64).
set -euo pipefail
# ipvsadm, modprobe and depmod live in sbin, which a non-login PATH may lack.
export PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
cache=${LAB_CACHE:-$repo/.lab-cache}
meta=linux-image-cloud-amd64
quiet=0
[ "${1:-}" = "--quiet" ] && quiet=1
say() { [ "$quiet" = 1 ] || echo "lab/kernel: $*" >&2; }
die() { echo "lab/kernel: error: $*" >&2; exit 1; }

if ! command -v depmod >/dev/null 2>&1; then
    PATH=$PATH:/opt/swift/usr/bin "$repo/scripts/install-deps.sh" kmod >&2 || true
    command -v depmod >/dev/null 2>&1 || die "depmod missing (Debian package kmod)"
fi

# The ABI package (e.g. linux-image-6.1.0-56-cloud-amd64) and its candidate version, from apt's lists.
resolve() {
    local pkg ver
    pkg=${LAB_KERNEL_PACKAGE:-$(apt-cache depends "$meta" 2>/dev/null |
        awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')}
    [ -n "$pkg" ] || return 1
    ver=$(apt-cache policy "$pkg" 2>/dev/null | awk '$1 == "Candidate:" { print $2; exit }')
    [ -n "$ver" ] && [ "$ver" != "(none)" ] || return 1
    echo "$pkg $ver"
}
# apt-cache takes ≈1 s; its answer changes only when apt's package lists do, so it is remembered
# with a fingerprint of those lists.
lists_stamp() {
    { echo "${LAB_KERNEL_PACKAGE:-}"; stat -c '%n %s %Y' /var/lib/apt/lists/*Packages* 2>/dev/null || true; } |
        sha256sum | cut -c1-16
}
updated=0
apt_update() {
    [ "$updated" = 0 ] || return 1
    updated=1
    say "running apt-get update (once)"
    apt-get update -qq >&2
}

# Extracts the ELF kernel from the bzImage DIR/vmlinuz into DIR/vmlinux, like the kernel's
# scripts/extract-vmlinux: find a compressed stream by its magic, decompress it, keep the result if it
# is an ELF with a Xen PVH entry note (type 0x12), which qemu's -kernel needs to boot an ELF.
extract_vmlinux() {
    local d=$1 pair magic tool off
    for pair in '\x02\x21\x4c\x18:lz4 -dc' '\x28\xb5\x2f\xfd:zstd -dcq' '\xfd\x37\x7a\x58\x5a:xz -dcq' '\x1f\x8b\x08:gzip -dcq'; do
        magic=${pair%%:*} tool=${pair#*:}
        command -v "${tool%% *}" >/dev/null 2>&1 || continue
        # shellcheck disable=SC2059  # (the magic is a printf escape sequence)
        for off in $(LC_ALL=C grep -abo "$(printf "$magic")" "$d/vmlinuz" 2>/dev/null | head -n 3 | cut -d: -f1); do
            tail -c +$((off + 1)) "$d/vmlinuz" | $tool >"$d/vmlinux.tmp" 2>/dev/null || true
            if [ "$(head -c 4 "$d/vmlinux.tmp" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] &&
                command -v readelf >/dev/null 2>&1 &&
                readelf -n "$d/vmlinux.tmp" 2>/dev/null | grep -q 'Unknown note type: (0x00000012)'; then
                mv "$d/vmlinux.tmp" "$d/vmlinux"
                return 0
            fi
        done
    done
    rm -f "$d/vmlinux.tmp"
    : >"$d/vmlinux.none"
}

mkdir -p "$cache/kernel"
# One fetch at a time: concurrent runs wait here, then find the cache filled.
exec 9>"$cache/kernel/.lock"
flock 9

found=""
stamp=$(lists_stamp)
if [ -f "$cache/kernel/resolved" ]; then
    read -r rstamp rpkg rver <"$cache/kernel/resolved" || true
    [ "${rstamp:-}" != "$stamp" ] || [ -z "${rver:-}" ] || found="$rpkg $rver"
fi
if [ -z "$found" ] && ! found=$(resolve); then
    say "apt-cache does not know ${LAB_KERNEL_PACKAGE:-$meta}"
    if ! apt_update; then
        # Offline, with a kernel cached: use the newest one rather than fail.
        newest=$(ls -1dt "$cache"/kernel/*/ 2>/dev/null | head -n1 || true)
        if [ -n "$newest" ] && [ -f "$newest/vmlinuz" ]; then
            say "apt-get update failed; using the cached ${newest%/}"
            echo "${newest%/}"
            exit 0
        fi
        die "apt-get update failed and no kernel is cached"
    fi
    found=$(resolve) || die "apt-cache cannot resolve ${LAB_KERNEL_PACKAGE:-$meta} even after apt-get update"
    stamp=$(lists_stamp)
fi
echo "$stamp $found" >"$cache/kernel/resolved"
read -r pkg ver <<<"$found"
dir="$cache/kernel/${pkg}_${ver//:/%}"

if [ -f "$dir/vmlinuz" ] && [ -f "$dir/release" ]; then
    [ -f "$dir/vmlinux" ] || [ -f "$dir/vmlinux.none" ] || extract_vmlinux "$dir"
    echo "$dir"
    exit 0
fi

tmp=$(mktemp -d "$cache/kernel/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
say "fetching $pkg $ver"
if ! (cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "$pkg=$ver" >&2); then
    # Stale lists name a version the mirror no longer has: update once and resolve again.
    apt_update || die "apt-get download $pkg=$ver failed"
    found=$(resolve) || die "apt-cache cannot resolve $meta after apt-get update"
    read -r pkg ver <<<"$found"
    echo "$(lists_stamp) $found" >"$cache/kernel/resolved"
    dir="$cache/kernel/${pkg}_${ver//:/%}"
    say "fetching $pkg $ver"
    (cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "$pkg=$ver" >&2) ||
        die "apt-get download $pkg=$ver failed"
fi
deb=$(ls "$tmp"/*.deb)
dpkg -x "$deb" "$tmp/x"
vmlinuz=$(ls "$tmp"/x/boot/vmlinuz-* 2>/dev/null | head -n1)
[ -n "$vmlinuz" ] || die "no /boot/vmlinuz-* in $deb"
release=${vmlinuz##*/vmlinuz-}
[ -d "$tmp/x/lib/modules/$release" ] || die "no /lib/modules/$release in $deb"

out="$tmp/out"
mkdir -p "$out/lib/modules"
mv "$vmlinuz" "$out/vmlinuz"
mv "$tmp/x/lib/modules/$release" "$out/lib/modules/$release"
[ ! -f "$tmp/x/boot/config-$release" ] || mv "$tmp/x/boot/config-$release" "$out/config"
depmod -b "$out" "$release"
extract_vmlinux "$out"
echo "$release" >"$out/release"
echo "$pkg $ver" >"$out/package"
rm -rf "$dir"
mv "$out" "$dir"
# Older versions are not needed once a newer one is cached.
for old in "$cache"/kernel/*/; do [ "${old%/}" = "$dir" ] || rm -rf "${old%/}"; done
say "cached $pkg $ver in $dir"
echo "$dir"
