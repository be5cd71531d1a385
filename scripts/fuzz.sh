#!/usr/bin/env bash
# Runs every cargo-fuzz target for a bounded time (default 30 s each) on
# the seed corpora in fuzz/corpus/. New inputs go to a temporary folder so
# the repository's seeds stay as committed. A crash fails the script; its
# input lands in fuzz/artifacts/<target>/ and becomes a regression test.
#     scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
targets=$(cargo fuzz list --fuzz-dir fuzz)
# RUSTC_BOOTSTRAP lets the stable toolchain accept the -Z flags cargo-fuzz
# passes; the sanitizer stays off (it needs a nightly std).
export RUSTC_BOOTSTRAP=1
cargo fuzz build --fuzz-dir fuzz --sanitizer none --dev
for t in $targets; do
    mkdir -p "$work/$t"
    echo "=== fuzz $t (${secs} s)"
    if ! cargo fuzz run --fuzz-dir fuzz --sanitizer none --dev "$t" "$work/$t" "fuzz/corpus/$t" -- \
        -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=1 > "$work/$t.log" 2>&1; then
        tail -n 40 "$work/$t.log"
        echo "fuzz target $t failed; the input is in fuzz/artifacts/$t/" >&2
        exit 1
    fi
    grep -E "^(Done|stat::number_of_executed_units)" "$work/$t.log" || true
done
