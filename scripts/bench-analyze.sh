#!/usr/bin/env bash
# How long does `analyze report` take over many bundles, next to merely
# decompressing them? Generates COUNT valid bundles of about ROWS metric rows
# each (analyze/examples/gen-bundles.rs: native, KVM and Xen over three
# experiments, some run logs, four hosts), then times, ROUNDS times in
# alternation:
#
#   unzstd-each  zstd -d of each bundle to /dev/null, one zstd process per
#                bundle (what a script decompressing them one by one pays)
#   unzstd-all   one zstd process decompressing every bundle (the floor:
#                every byte decoded once, nothing else)
#   report       analyze report over all bundles (verify every hash and
#                metrics row, Table 1, comparisons, warnings, guard, every
#                format, data.parquet, figures, report.html)
#
# and prints the medians and the ratios. Targets (issue 7): report < 10 s
# for 1,000 bundles of ~1,000 rows, and within 2x of decompression alone.
# The machine's load is printed too: timings on a shared machine are noisy.
#
#     scripts/bench-analyze.sh [COUNT] [ROWS] [ROUNDS]   (defaults: 1000 1000 3)
#
# BENCH_DIR sets where the bundles go (default: target/bench-analyze, kept
# between runs: the generator only runs when the count or size changed).
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-1000}
rows=${2:-1000}
rounds=${3:-3}

command -v zstd > /dev/null || { echo "missing zstd: run scripts/install-deps.sh" >&2; exit 1; }
cargo build -q --release --locked -p analyze --bin analyze --example gen-bundles
analyze=target/release/analyze

dir=${BENCH_DIR:-target/bench-analyze}/$count-$rows
if [[ ! -f "$dir/.done" ]]; then
    rm -rf "$dir"
    mkdir -p "$dir/bundles"
    echo "generating $count bundles of ~$rows rows in $dir ..."
    target/release/examples/gen-bundles "$dir/bundles" "$count" "$rows" > /dev/null
    touch "$dir/.done"
fi
mapfile -t bundles < <(find "$dir/bundles" -name '*.tar.zst' | sort)
[[ ${#bundles[@]} -eq $count ]] || { echo "expected $count bundles in $dir, found ${#bundles[@]}" >&2; exit 1; }
compressed=$(du -cb "${bundles[@]}" | tail -1 | cut -f1)
decoded=$(zstd -dc "${bundles[@]}" | wc -c)
echo "$count bundles, $((compressed / 1024)) KiB compressed, $((decoded / 1024 / 1024)) MiB decoded"

# t NAME CMD...: appends CMD's wall time in seconds to $dir/NAME.s
t() {
    local name=$1
    shift
    local start=$EPOCHREALTIME
    "$@" > /dev/null
    local end=$EPOCHREALTIME
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%.6f\n", b - a }' >> "$dir/$name.s"
}
rm -f "$dir"/*.s
# Warm the page cache once so both read from memory.
cat "${bundles[@]}" > /dev/null
each() { for b in "$@"; do zstd -q -d -c "$b"; done; }
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for ((i = 0; i < rounds; i++)); do
    t unzstd-each each "${bundles[@]}"
    t unzstd-all zstd -q -dc "${bundles[@]}"
    t report env RUST_LOG=error "$analyze" report --out "$dir/report" "${bundles[@]}"
done
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
each=$(median "$dir/unzstd-each.s")
all=$(median "$dir/unzstd-all.s")
report=$(median "$dir/report.s")
awk -v e="$each" -v a="$all" -v r="$report" 'BEGIN {
    printf "decompress, zstd -d of each (median):    %7.3f s\n", e
    printf "decompress, one zstd for all (median):   %7.3f s\n", a
    printf "analyze report (median):                 %7.3f s   (target: < 10 s for 1000 bundles)\n", r
    printf "ratio report / zstd -d of each:          %7.2f   (target: <= 2)\n", r / e
    printf "ratio report / one zstd for all:         %7.2f\n", r / a
}'
rows_out=$(grep -o '[0-9]* metric rows' "$dir/report/report.md" | head -1)
echo "report: $rows_out; written to $dir/report"
