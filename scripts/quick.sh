#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine, unattended: install what is
# missing, build, run the quick suite on native, kvm and xen (kvm falls back
# to TCG where KVM does not work; xen runs in the Xen lab, Xen 4.17 under
# QEMU, where this host is no Xen dom0), verify the bundles and write one
# report over all of them.
#
#     scripts/quick.sh [collect run arguments, e.g. --suite smoke]
#
# Needs root for apt-get and for the isolation experiment's network
# namespaces; run it with sudo otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "quick.sh: $*" >&2; }

if [[ "$(id -u)" -ne 0 ]]; then
    say "not root: apt-get and the isolation experiment's network namespaces need root;"
    say "run it as root: sudo $0 $*"
    exit 1
fi

# The workspace needs Rust 1.85 or newer; Debian 12's own cargo is older.
need=1.85
have=$(cargo --version 2>/dev/null | awk '{ print $2 }' || true)
if [[ -z "$have" ]] || ! printf '%s\n%s\n' "$need" "${have%%-*}" | sort -V -C; then
    say "cargo ${have:-is missing}; benchvm needs Rust $need or newer. Install it with rustup:"
    say "    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y && . \"\$HOME/.cargo/env\""
    say "then run $0 again (Debian 12's apt cargo is 1.65, too old)"
    exit 1
fi

scripts/install-deps.sh
started=$SECONDS
cargo build --locked -p collect -p analyze
say "built in $((SECONDS - started)) s"

out=$(mktemp)
trap 'rm -f "$out"' EXIT
started=$SECONDS
suite=(--suite quick)
for a in "$@"; do [[ "$a" == --suite || "$a" == --suite=* ]] && suite=(); done
target/debug/collect run "${suite[@]}" "$@" | tee "$out"
mapfile -t bundles < <(awk '$1 == "bundle" { print $2 }' "$out")
if [[ ${#bundles[@]} -eq 0 ]]; then
    say "collect printed no bundle"
    exit 1
fi
for b in "${bundles[@]}"; do
    target/debug/analyze verify "$b"
done
target/debug/analyze report "${bundles[@]}" | tee "$out"
report=$(awk '$1 == "written" && $2 == "to" { print $3 }' "$out" | tail -n 1)
say "collect, verify and report took $((SECONDS - started)) s after the build"
say "report: $report/report.html (tables in $report/, figures in $report/figures/)"
