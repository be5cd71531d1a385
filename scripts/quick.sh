#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: install what is missing, build,
# run the quick suite on its default platforms and write the report.
#     scripts/quick.sh [extra collect run arguments, e.g. --platform native,kvm]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cargo build --locked -p collect -p analyze
out=$(target/debug/collect run --suite quick "$@" | tee /dev/stderr)
bundle=$(printf '%s\n' "$out" | awk '$1 == "bundle" { print $2 }' | tail -n 1)
target/debug/analyze verify "$bundle"
target/debug/analyze report "$bundle"
