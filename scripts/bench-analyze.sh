#!/usr/bin/env bash
# How long does `analyze report` take over many bundles, next to merely
# decompressing them? Generates COUNT valid bundles of about ROWS metric rows
# each (analyze/examples/gen-bundles.rs: native, KVM and Xen over three
# experiments, a log file per run, four hosts), then times, ROUNDS times in
# alternation:
#
#   unzstd   zstd -dc of every bundle to /dev/null, one zstd process for all
#            of them (the limit: every byte decoded once, nothing else)
#   report   analyze report over all bundles (verify every hash, validate
#            every metrics row, Table 1, comparisons, warnings, guard, every
#            format, data.parquet)
#
# and prints the medians and their ratio. Targets (issue 7): report < 10 s
# for 1,000 bundles of ~1,000 rows, and within 2x of decompression alone.
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
for ((i = 0; i < rounds; i++)); do
    t unzstd zstd -q -dc "${bundles[@]}"
    t report env RUST_LOG=error "$analyze" report --out "$dir/report" "${bundles[@]}"
done
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
unzstd=$(median "$dir/unzstd.s")
report=$(median "$dir/report.s")
awk -v u="$unzstd" -v r="$report" -v n="$count" 'BEGIN {
    printf "decompress only (zstd -dc, median): %7.3f s\n", u
    printf "analyze report (median):            %7.3f s\n", r
    printf "ratio report / decompress:          %7.2f   (target: <= 2, and report < 10 s for 1000 bundles)\n", r / u
}'
rows_out=$(grep -o '[0-9]* metric rows' "$dir/report/report.md" | head -1)
echo "report: $rows_out; written to $dir/report"
