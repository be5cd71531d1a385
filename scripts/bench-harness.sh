#!/usr/bin/env bash
# What does collect cost the measurement? Runs one workload (sysbench cpu)
# through `collect run` and the same command bare, in alternation, and
# prints the medians and their ratio. The collect figure is the wall time
# collect itself records for the measured command (metric wall_time of the
# bundle); the bare figure is the same command timed by this script.
# Also prints the whole `collect run` time (environment capture and packing
# included) for information.
#     scripts/bench-harness.sh [ROUNDS]   (default 7)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-7}
cargo build -q --locked -p collect
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat > "$work/bench.toml" <<'TOML'
name = "bench-harness"
platforms = ["native"]
[defaults]
repetitions = 1
warmups = 0
deadline_s = 600
[experiments.overall]
workloads = ["cpu"]
[workloads.cpu]
kind = "sysbench-cpu"
max_prime = 20000
events = 4000
threads = 1
TOML
bare=(sysbench cpu --cpu-max-prime=20000 --threads=1 --events=4000 --time=0 run)

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

: > "$work/collect.txt"; : > "$work/bare.txt"; : > "$work/whole.txt"
"${bare[@]}" > /dev/null   # warm the binary and caches once
for i in $(seq 1 "$rounds"); do
    start=$EPOCHREALTIME
    out=$(target/debug/collect run --suite "$work/bench.toml" --platform native --out "$work/b$i" --label "bench $i" 2>/dev/null)
    end=$EPOCHREALTIME
    echo "$end - $start" | bc -l >> "$work/whole.txt"
    bundle=$(printf '%s\n' "$out" | awk '$1 == "bundle" { print $2 }')
    zstd -qdc "$bundle" | tar -xO metrics.ndjson \
        | grep '"metric":"wall_time"' | sed 's/.*"value":\([0-9.eE+-]*\).*/\1/' >> "$work/collect.txt"

    start=$EPOCHREALTIME
    "${bare[@]}" > /dev/null
    end=$EPOCHREALTIME
    echo "$end - $start" | bc -l >> "$work/bare.txt"
done

c=$(median < "$work/collect.txt"); b=$(median < "$work/bare.txt"); w=$(median < "$work/whole.txt")
printf 'rounds                         %d (alternating)\n' "$rounds"
printf 'bare sysbench, median          %.4f s\n' "$b"
printf 'under collect, median          %.4f s   (wall_time recorded in the bundle)\n' "$c"
printf 'ratio collect / bare           %.4f   (target <= 1.02)\n' "$(echo "$c / $b" | bc -l)"
printf 'whole collect run, median      %.2f s   (with environment capture and packing)\n' "$w"
