#!/usr/bin/env bash
# How long does `analyze report` take over many bundles, next to merely
# decompressing them? Two benchmarks:
#
#     scripts/bench-analyze.sh [COUNT] [ROWS] [ROUNDS]            (defaults: 1000 1000 3)
#     scripts/bench-analyze.sh store [COUNT] [ROWS] [NEW] [ROUNDS] (defaults: 10000 100 10 3)
#
# Files: generates COUNT valid bundles of about ROWS metric rows each
# (analyze/examples/gen-bundles.rs: native, KVM and Xen over three
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
# and prints the medians and the ratios. Targets: report < 10 s for 1,000
# bundles of ~1,000 rows, and within 2x of decompression alone.
#
# Store: generates COUNT + NEW bundles, pushes COUNT of them into a folder
# store (collect push), and a copy of it with the NEW ones too, then
# times, ROUNDS times in alternation:
#
#   unzstd-first  one zstd -dc of the COUNT bundles (decompression alone)
#   first         analyze report STORE with an empty local catalog: every
#                 bundle fetched, verified, decoded and added to it
#   unzstd-inc    one zstd -dc of the COUNT + NEW bundles
#   incremental   analyze report STORE+NEW with the catalog the first report
#                 left: NEW bundles verified, the rest read from the catalog
#
# and prints both ratios. Targets: first report within 2x of decompression
# alone, incremental report under 2 s.
#
# The machine's load is printed too: timings on a shared machine are noisy.
# BENCH_DIR sets where the bundles go (default: target/bench-analyze, kept
# between runs: bundles and stores are made again only when the counts or
# sizes changed).
set -euo pipefail
cd "$(dirname "$0")/.."

# t DIR NAME CMD...: appends CMD's wall time in seconds to DIR/NAME.s
t() {
    local dir=$1 name=$2
    shift 2
    local start=$EPOCHREALTIME
    "$@" > /dev/null
    local end=$EPOCHREALTIME
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%.6f\n", b - a }' >> "$dir/$name.s"
}
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

store_bench() {
    local count=${1:-10000} rows=${2:-100} new=${3:-10} rounds=${4:-3}
    command -v zstd > /dev/null || { echo "missing zstd: run scripts/install-deps.sh" >&2; exit 1; }
    cargo build -q --release --locked -p analyze -p collect --bin analyze --bin collect --example gen-bundles
    local analyze=target/release/analyze collect=target/release/collect
    local dir=${BENCH_DIR:-target/bench-analyze}/store-$count-$rows-$new
    if [[ ! -f "$dir/.done" ]]; then
        rm -rf "$dir"
        mkdir -p "$dir/bundles"
        echo "generating $((count + new)) bundles of ~$rows rows in $dir ..."
        target/release/examples/gen-bundles "$dir/bundles" "$((count + new))" "$rows" > /dev/null
        # Bundles sort by name in generation order: the first COUNT, then NEW.
        find "$dir/bundles" -name '*.tar.zst' | sort > "$dir/all.list"
        head -n "$count" "$dir/all.list" > "$dir/first.list"
        tail -n "$new" "$dir/all.list" > "$dir/new.list"
        echo "pushing $count bundles into $dir/store ..."
        xargs -a "$dir/first.list" -n 1000 "$collect" push --to "$dir/store" > /dev/null
        cp -a "$dir/store" "$dir/store+new"
        xargs -a "$dir/new.list" "$collect" push --to "$dir/store+new" > /dev/null
        touch "$dir/.done"
    fi
    local -a first all
    mapfile -t first < "$dir/first.list"
    mapfile -t all < "$dir/all.list"
    [[ ${#first[@]} -eq $count && ${#all[@]} -eq $((count + new)) ]] || { echo "bundle lists in $dir do not match the counts" >&2; exit 1; }
    local compressed decoded
    compressed=$(cat "${first[@]}" | wc -c)
    decoded=$(zstd -q -dc "${first[@]}" | wc -c)
    echo "$count bundles (+$new), $((compressed / 1024)) KiB compressed, $((decoded / 1024 / 1024)) MiB decoded"
    rm -f "$dir"/*.s
    cat "${all[@]}" > /dev/null
    echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    for ((i = 0; i < rounds; i++)); do
        rm -rf "$dir/cache"
        t "$dir" unzstd-first zstd -q -dc "${first[@]}"
        t "$dir" first env RUST_LOG=error BENCHVM_CACHE="$dir/cache" "$analyze" report --out "$dir/report-first" "$dir/store"
        rm -rf "$dir/cache-inc"
        cp -a "$dir/cache" "$dir/cache-inc"
        t "$dir" unzstd-inc zstd -q -dc "${all[@]}"
        t "$dir" incremental env RUST_LOG=error BENCHVM_CACHE="$dir/cache-inc" "$analyze" report --out "$dir/report-inc" "$dir/store+new"
    done
    echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
    local uf f ui inc
    uf=$(median "$dir/unzstd-first.s")
    f=$(median "$dir/first.s")
    ui=$(median "$dir/unzstd-inc.s")
    inc=$(median "$dir/incremental.s")
    awk -v uf="$uf" -v f="$f" -v ui="$ui" -v inc="$inc" -v n="$count" -v k="$new" 'BEGIN {
        printf "decompress %d bundles, one zstd -dc (median):        %7.3f s\n", n, uf
        printf "first report, empty local catalog (median):        %7.3f s\n", f
        printf "decompress %d bundles, one zstd -dc (median):        %7.3f s\n", n + k, ui
        printf "incremental report, +%d bundles (median):           %7.3f s   (target: < 2 s)\n", k, inc
        printf "ratio first report / zstd -dc:                     %7.2f   (target: <= 2)\n", f / uf
        printf "ratio incremental report / zstd -dc:               %7.2f\n", inc / ui
    }'
    echo "incremental report: $(grep -o '[0-9]* metric rows' "$dir/report-inc/report.md" | head -1); written to $dir/report-inc"
}

if [[ ${1:-} == store ]]; then
    shift
    store_bench "$@"
    exit
fi
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

rm -f "$dir"/*.s
# Warm the page cache once so both read from memory.
cat "${bundles[@]}" > /dev/null
each() { for b in "$@"; do zstd -q -d -c "$b"; done; }
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for ((i = 0; i < rounds; i++)); do
    t "$dir" unzstd-each each "${bundles[@]}"
    t "$dir" unzstd-all zstd -q -dc "${bundles[@]}"
    t "$dir" report env RUST_LOG=error "$analyze" report --out "$dir/report" "${bundles[@]}"
done
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
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
