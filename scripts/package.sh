#!/usr/bin/env bash
# scripts/package.sh PRODUCT VERSION SCRATCH OUTDIR: one Debian package from release binaries, with
# dpkg-deb alone (no debhelper, so the whole package is these lines and the files under Agent/ or
# Controller/).
#
#   PRODUCT   agent (lb-agent) or controller (lb-controller with lbctl)
#   VERSION   the package version, e.g. 0.1.0 (a native package: no Debian revision)
#   SCRATCH   the release build's scratch path: its release/ holds the binaries (built with
#             --static-swift-stdlib) and its checkouts/ the dependencies whose licenses the copyright
#             file carries
#   OUTDIR    where OUTDIR/lb-PRODUCT_VERSION_amd64.deb is written (its path is printed)
#
# The binaries are stripped; Depends is what dpkg-shlibdeps finds they link (libc6, libsodium23, …).
# Environment: LB_MAINTAINER (default: the maintainers' address below), SOURCE_DATE_EPOCH (default:
# the last commit's time; the changelog's date, so the same commit gives the same package),
# LB_DEB_COMPRESSION and LB_DEB_LEVEL (default xz at dpkg-deb's level; the tests use gzip at level 1,
# about ten times faster on these binaries), LB_PACKAGE_BIN (default SCRATCH/release: where the binaries
# are; make test packages the debug build's, linked by scripts/static-link.sh).
set -euo pipefail

[ $# -eq 4 ] || { sed -n '2,18s/^# \{0,1\}//p' "$0" >&2; exit 2; }
product=$1 version=$2 scratch=$3 out=$4
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
die() { echo "package: error: $*" >&2; exit 1; }
bin=${LB_PACKAGE_BIN:-$scratch/release}

case "$product" in
    agent) name=lb-agent dir=$repo/Agent binaries=(lb-agent) docs=("$repo/docs/agent.md") ;;
    controller) name=lb-controller dir=$repo/Controller binaries=(lb-controller lbctl) docs=("$repo/docs/controller.md" "$repo/docs/api.md") ;;
    *) die "PRODUCT is agent or controller, not '$product'" ;;
esac
[[ "$version" =~ ^[0-9][A-Za-z0-9.+~]*$ ]] || die "VERSION '$version' is not a Debian native version (digits first; letters, digits, . + ~)"
for b in "${binaries[@]}"; do
    [ -x "$bin/$b" ] || die "$bin/$b is missing: build it with swift build -c release --static-swift-stdlib --scratch-path $scratch --product $b"
done
for tool in dpkg-deb dpkg-shlibdeps strip gzip; do command -v "$tool" >/dev/null || die "$tool is missing (Debian packages dpkg-dev, binutils)"; done
maintainer=${LB_MAINTAINER:-"lb maintainers <maintainers@users.noreply.r-seed-0188e1cd.example>"}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct 2>/dev/null || date +%s)}
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)

mkdir -p "$out"
# Absolute, since dpkg-shlibdeps runs from a directory of its own below.
out=$(cd "$out" && pwd) scratch=$(cd "$scratch" && pwd) bin=$(cd "$bin" && pwd)
stage=$(mktemp -d "$out/.stage-$name.XXXXXX")
trap 'rm -rf "$stage"' EXIT
root=$stage/root
doc=$root/usr/share/doc/$name

for b in "${binaries[@]}"; do
    install -D -m 0755 "$bin/$b" "$root/usr/bin/$b"
    # Symbols only serve a debugger; the binaries shrink to about a third.
    strip --strip-all "$root/usr/bin/$b"
done
install -D -m 0644 "$dir/$name.service" "$root/lib/systemd/system/$name.service"
install -D -m 0644 "$dir/$product.yaml" "$root/etc/lb/$product.yaml"
install -D -m 0644 "$dir/README.md" "$doc/README.md"
install -D -m 0644 "$dir/debian/lintian-overrides" "$root/usr/share/lintian/overrides/$name"
for d in "${docs[@]}"; do install -m 0644 "$d" "$doc/$(basename "$d")"; done

# A native package's changelog: one entry for this version, dated by the commit.
{
    echo "$name ($version) unstable; urgency=medium"
    echo
    echo "  * Built from lb commit $commit."
    echo
    echo " -- $maintainer  $(date -u -R -d "@$SOURCE_DATE_EPOCH")"
} | gzip -9n >"$doc/changelog.gz"
chmod 0644 "$doc/changelog.gz"

# The copyright file: lb itself, then everything linked into the binaries statically, with its
# license: the Swift runtime and Foundation from the toolchain, each package of the release build.
apache=/usr/share/common-licenses/Apache-2.0
{
    echo "$name: lb, a highly available LVS load balancer, and what its binaries include."
    echo
    echo "lb"
    echo "  Copyright: the lb authors (the commit history of the lb repository)."
    echo "  License: the lb sources carry no license grant; all rights are reserved by their authors."
    echo
    echo "The Swift standard library, runtime and Foundation (swift.org toolchain $(swift --version 2>/dev/null | sed -n 's/.*Swift version \([^ ]*\).*/\1/p;q'))"
    echo "  Copyright: Apple Inc. and the Swift project authors."
    echo "  License: Apache-2.0 with the Runtime Library Exception; the text of Apache-2.0 is in $apache,"
    echo "  the exception follows. Foundation's internationalization data (swift-foundation-icu) is ICU's,"
    echo "  under the Unicode License."
    echo
    sed -n '/Runtime Library Exception/,$p' /opt/swift/usr/share/swift/LICENSE.txt 2>/dev/null ||
        echo "  (the Runtime Library Exception: see https://swift.org/LICENSE.txt)"
    for checkout in "$scratch"/checkouts/*/; do
        package=$(basename "$checkout")
        pinned=$(awk -v id="$(echo "$package" | tr 'A-Z' 'a-z')" '
            $1 == "\"identity\"" { gsub(/[",]/, "", $3); current = $3 }
            $1 == "\"version\"" && current == id { gsub(/[",]/, "", $3); print $3; exit }' "$repo/Package.resolved" 2>/dev/null || true)
        echo
        echo "$package${pinned:+ $pinned} (Swift package, statically linked)"
        for file in $(find "$checkout" -maxdepth 3 \( -iname 'LICENSE*' -o -iname 'NOTICE*' -o -iname 'COPYING*' \) \
                          -not -path '*/Tests/*' -not -path '*/Benchmarks/*' -type f | sort); do
            relative=${file#"$checkout"}
            if head -3 "$file" | grep -q 'Apache License' && head -5 "$file" | grep -q 'Version 2.0'; then
                echo "  $relative: Apache-2.0, whose text is in $apache"
            else
                echo "  $relative:"
                sed 's/^/    /' "$file"
            fi
        done
    done
    echo
    echo "C libraries compiled into the binaries by those packages"
    echo "  libyaml, in Yams (Sources/CYaml): Copyright 2006-2020 Kirill Simonov; the MIT (Expat) license, as"
    echo "  Yams's LICENSE above."
    zlib=$scratch/checkouts/swift-nio-extras/Sources/CNIOExtrasZlib/include/nioextras-zlib.h
    if [ -f "$zlib" ]; then
        echo "  zlib, in swift-nio-extras (Sources/CNIOExtrasZlib), under the zlib license:"
        sed -n '/Copyright (C)/,/madler@/p' "$zlib" | sed 's/^ */    /'
    fi
} >"$doc/copyright"
chmod 0644 "$doc/copyright"

# Depends: the shared libraries the binaries need, from the packages that provide them on this system.
shlibs=$stage/shlibs
mkdir -p "$shlibs/debian"
printf 'Source: lb\n\nPackage: %s\nArchitecture: amd64\n' "$name" >"$shlibs/debian/control"
depends=$(cd "$shlibs" && dpkg-shlibdeps -O "${binaries[@]/#/-e$root/usr/bin/}" 2>"$stage/shlibdeps.err" | sed -n 's/^shlibs:Depends=//p') ||
    die "dpkg-shlibdeps failed: $(cat "$stage/shlibdeps.err")"
[ -n "$depends" ] || die "dpkg-shlibdeps found no dependencies: $(cat "$stage/shlibdeps.err")"

mkdir -p "$root/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s|@VERSION@|$version|" -e "s|@MAINTAINER@|$maintainer|" -e "s|@INSTALLED_SIZE@|$size|" -e "s|@DEPENDS@|$depends|" \
    "$dir/debian/control" >"$root/DEBIAN/control"
install -m 0644 "$dir/debian/conffiles" "$root/DEBIAN/conffiles"
for script in postinst prerm postrm; do install -m 0755 "$dir/debian/$script" "$root/DEBIAN/$script"; done
(cd "$root" && find . -type f -not -path './DEBIAN/*' -printf '%P\0' | sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/md5sums"
# Modes as installed, whatever this checkout's umask left.
find "$root" -type d -exec chmod 0755 {} +

deb=$out/${name}_${version}_amd64.deb
dpkg-deb --root-owner-group "-Z${LB_DEB_COMPRESSION:-xz}" ${LB_DEB_LEVEL:+"-z$LB_DEB_LEVEL"} --build "$root" "$deb" >/dev/null
echo "$deb"
