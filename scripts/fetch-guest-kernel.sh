#!/usr/bin/env bash
# Fetches the Debian kernel that collect's kvm (and xen) guests boot:
# the package linux-image-amd64 depends on, downloaded (not installed) and
# unpacked into .cache/guest-kernel/, with modules.dep made by depmod.
# Prints the path of the vmlinuz. Idempotent: a second run only prints.
#
# Usage: scripts/fetch-guest-kernel.sh [DEST]   (default: .cache/guest-kernel)
# Needs: apt-get, apt-cache, dpkg, depmod (package kmod).
set -euo pipefail

dest="${1:-${BENCHVM_CACHE:-.cache}/guest-kernel}"
mkdir -p "$dest"
dest="$(cd "$dest" && pwd)"

# The versioned package, e.g. linux-image-6.1.0-56-amd64.
pkg="$(apt-cache depends linux-image-amd64 2>/dev/null |
    awk '/Depends: linux-image-[0-9]/ { print $2; exit }')"
if [[ -z "$pkg" ]]; then
    echo "error: apt-cache depends linux-image-amd64 names no linux-image package;" >&2
    echo "       run apt-get update, or pass a kernel to collect with --kernel" >&2
    exit 1
fi
ver="${pkg#linux-image-}"
vmlinuz="$dest/boot/vmlinuz-$ver"
moddir="$dest/lib/modules/$ver"

if [[ -f "$vmlinuz" && -s "$moddir/modules.dep" ]]; then
    echo "$vmlinuz"
    exit 0
fi

command -v depmod >/dev/null || { echo "error: depmod missing: apt-get install -y kmod" >&2; exit 1; }

debs="$dest/debs"
mkdir -p "$debs"
if ! compgen -G "$debs/${pkg}_*.deb" >/dev/null; then
    echo "downloading $pkg" >&2
    # As root, apt would hand the download to its _apt sandbox user, who
    # may not be allowed to write here: download as root instead.
    sandbox=()
    [[ $EUID -eq 0 ]] && sandbox=(-o APT::Sandbox::User=root)
    (cd "$debs" && apt-get "${sandbox[@]}" download "$pkg" >&2)
fi
deb="$(compgen -G "$debs/${pkg}_*.deb" | head -n 1)"

echo "unpacking $(basename "$deb")" >&2
dpkg -x "$deb" "$dest"
depmod -b "$dest" "$ver"
[[ -f "$vmlinuz" ]] || { echo "error: $deb holds no boot/vmlinuz-$ver" >&2; exit 1; }
echo "$vmlinuz"
