#!/usr/bin/env bash
# Fetches Debian's Xen 4.17 hypervisor for `collect lab xen`: the package
# xen-hypervisor-4.17-amd64 downloaded (not installed), unpacked, and its
# boot/xen-4.17-amd64.gz gunzipped to .cache/xen/xen-4.17.bin (QEMU's
# -kernel loads the uncompressed multiboot ELF, not the .gz). Prints the
# path. Idempotent: a second run only prints.
#
# Usage: scripts/fetch-xen.sh [DEST]   (default: .cache/xen)
# Needs: apt-get, dpkg, gzip.
set -euo pipefail

pkg=xen-hypervisor-4.17-amd64
dest="${1:-${BENCHVM_CACHE:-.cache}/xen}"
mkdir -p "$dest"
dest="$(cd "$dest" && pwd)"
bin="$dest/xen-4.17.bin"
if [[ -s "$bin" ]]; then
    echo "$bin"
    exit 0
fi

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
tree="$dest/tree"
rm -rf "$tree"
dpkg -x "$deb" "$tree"
gz="$(compgen -G "$tree/boot/xen-4.17*-amd64.gz" | head -n 1 || true)"
[[ -n "$gz" ]] || { echo "error: $deb holds no boot/xen-4.17*-amd64.gz" >&2; exit 1; }
gunzip -c "$gz" >"$bin.tmp"
mv "$bin.tmp" "$bin"
rm -rf "$tree"
echo "$bin"
