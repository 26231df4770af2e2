#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need, only those missing, so `make` works on a
# fresh machine and costs nothing on a prepared one. Usage: install-deps.sh PACKAGE...
set -euo pipefail

missing=()
for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

if ((${#missing[@]})); then
    echo "installing Debian packages: ${missing[*]}"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
    echo "error: no 'swift' on PATH. lb needs a Swift 6 toolchain (swift.org builds for Debian 12);" >&2
    echo "       if it is installed under /opt/swift, run: export PATH=/opt/swift/usr/bin:\$PATH" >&2
    exit 1
fi
