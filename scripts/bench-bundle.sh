#!/usr/bin/env bash
# What do packing and verifying a bundle cost, next to the plain tools?
# Generates a run folder of realistic logs (benchvm-format/examples/gen-run.rs,
# ~8x compressible with zstd -3), then times in alternation, ROUNDS times:
#
#   pack        collect pack RUN --out B
#   tar+sha     tar -c RUN | zstd -3 -T0 > F, then sha256sum of every file
#   zstd        zstd -3 -T0 on the same tar, read from a file (the limit)
#   verify      analyze verify B
#   unzstd+sha  zstd -dc B | sha256sum
#   unzstd      zstd -dc B > /dev/null (the limit)
#
# and prints the medians, their ratios against the targets of issue 9, and
# the peak RSS of pack and verify. Every command starts with its inputs in
# the page cache (read just before) and no dirty pages (a `sync`); neither
# is timed.
#
#     scripts/bench-bundle.sh [ROUNDS] [MIB]     (defaults: 7 rounds, 1024 MiB)
#
# Environment:
#   BENCH_DIR        where the files go (default: target/, so on disk, not tmpfs)
#   BENCH_IDLE_WAIT  on a shared machine: before each timed command, wait up to
#                    this many seconds for the CPUs to be 90% idle over one
#                    second (default 0: do not wait); commands that start on a
#                    busy machine are counted in the output
#   BENCH_NO_BUILD   1: use the release binaries already in target/
# Needs tar, zstd, sha256sum and GNU time (scripts/install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-7}
mib=${2:-1024}

for tool in tar zstd sha256sum /usr/bin/time; do
    command -v "$tool" > /dev/null || { echo "missing $tool: run scripts/install-deps.sh" >&2; exit 1; }
done
if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
    cargo build -q --release --locked -p collect -p analyze
    cargo build -q --release --locked -p benchvm-format --example gen-run
fi
collect=target/release/collect
analyze=target/release/analyze

mkdir -p "${BENCH_DIR:-target}"
work=$(mktemp -d "${BENCH_DIR:-target}/bench-bundle.XXXXXX")
trap 'rm -rf "$work"' EXIT
run="$work/run"
target/release/examples/gen-run "$run" "$mib"
# The tar of the same files, in bundle order, for zstd alone.
tar -C "$run" --sort=name -cf "$work/run.tar" config env metrics.ndjson runs

# idle_percent: the share of CPU time spent idle over the next second.
idle_percent() {
    local a b
    read -r -a a < /proc/stat
    sleep 1
    read -r -a b < /proc/stat
    awk -v a="${a[*]:1:8}" -v b="${b[*]:1:8}" 'BEGIN {
        split(a, x); split(b, y)
        for (i = 1; i <= 8; i++) total += y[i] - x[i]
        print int(100 * (y[4] - x[4] + y[5] - x[5]) / (total ? total : 1))
    }'
}
# wait_idle SECONDS: returns once the CPUs are 90% idle, or fails after
# SECONDS seconds of a busy machine.
wait_idle() {
    local deadline=$((SECONDS + $1))
    [ "$1" -gt 0 ] || return 0
    while [ "$(idle_percent)" -lt 90 ]; do
        [ $SECONDS -lt "$deadline" ] || return 1
    done
}

# warm PATH...: reads PATH (files, or folders whole) so that it is in the
# page cache: the host may page out what has not been read for a while.
warm() { find "$@" -type f -exec cat {} + > /dev/null; }

# t NAME CMD...: runs CMD under GNU time; appends its wall time (s) to
# NAME.s, its CPU time (user + system, s) to NAME.cpu, its peak RSS (KiB) to
# NAME.kib and what it read from disk (MiB) to NAME.disk. Output goes to
# NAME.out.
t() {
    local name=$1
    shift
    sync
    wait_idle "${BENCH_IDLE_WAIT:-0}" || echo "$name" >> "$work/busy"
    local start=$EPOCHREALTIME
    /usr/bin/time -f '%M %U %S %I' -o "$work/$name.time" "$@" > "$work/$name.out"
    local end=$EPOCHREALTIME
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%.6f\n", b - a }' >> "$work/$name.s"
    awk '{ print $1 >> w "/" n ".kib"; print $2 + $3 >> w "/" n ".cpu"; print $4 / 2048 >> w "/" n ".disk" }' \
        w="$work" n="$name" "$work/$name.time"
}
bundle="$work/pack.tar.zst"
pack() { warm "$run"; t pack "$collect" pack "$run" --out "$bundle"; }
tar_sha() {
    warm "$run"
    t tar-sha bash -c 'tar -C "$1" --sort=name -cf - config env metrics.ndjson runs \
        | zstd -q -3 -T0 -f -o "$2/tar.tar.zst" \
        && cd "$1" && find config env metrics.ndjson runs -type f -print0 | sort -z | xargs -0 sha256sum' \
        _ "$run" "$work"
}
zstd_alone() { warm "$work/run.tar"; t zstd zstd -q -3 -T0 -f "$work/run.tar" -o "$work/zstd.tar.zst"; }
verify() { warm "$bundle"; t verify "$analyze" verify "$bundle"; }
unzstd_sha() { warm "$bundle"; t unzstd-sha bash -c 'zstd -q -dc "$1" | sha256sum' _ "$bundle"; }
unzstd() { warm "$bundle"; t unzstd zstd -q -dc "$bundle" -o /dev/null; }

# One untimed round: warms binaries and caches, checks everything works.
pack; verify; tar_sha; zstd_alone; unzstd_sha; unzstd
rm -f "$work"/*.s "$work"/*.cpu "$work"/*.kib "$work"/*.disk "$work/busy"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for i in $(seq 1 "$rounds"); do
    # Rotate the order, so no command always follows the same one.
    case $((i % 3)) in
        0) pack; tar_sha; zstd_alone; verify; unzstd_sha; unzstd ;;
        1) zstd_alone; pack; tar_sha; unzstd; verify; unzstd_sha ;;
        2) tar_sha; zstd_alone; pack; unzstd_sha; unzstd; verify ;;
    esac
done

median() { sort -g "$work/$1" | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
maxof() { sort -g "$work/$1" | tail -1; }
ratio() { awk -v a="$(median "$1.s")" -v b="$(median "$2.s")" 'BEGIN { print a / b }'; }
check() { awk -v r="$1" -v cap="$2" 'BEGIN { print (r <= cap ? "ok" : "OVER") }'; }

content=$(du -sb --apparent-size "$run" | cut -f1)
printf 'content          %d MiB in %d files; bundle %d MiB (%.1fx)\n' \
    $((content >> 20)) "$(find "$run" -type f | wc -l)" $(($(stat -c %s "$bundle") >> 20)) \
    "$(awk -v a="$content" -v b="$(stat -c %s "$bundle")" 'BEGIN { print a / b }')"
printf 'rounds           %d, in alternation; %d cores; load average %s before, %s after\n' \
    "$rounds" "$(nproc)" "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)"
if [ "${BENCH_IDLE_WAIT:-0}" -gt 0 ]; then
    printf '  %d of %d timed commands started on a busy machine (CPUs < 90%% idle)\n' \
        "$(cat "$work/busy" 2>/dev/null | wc -l)" $((6 * rounds))
fi
printf '  median           wall s  cpu s  read from disk MiB\n'
for name in pack tar-sha zstd verify unzstd-sha unzstd; do
    printf '  %-14s %6.3f %6.3f %6.1f\n' "$name" "$(median "$name.s")" "$(median "$name.cpu")" "$(median "$name.disk")"
done
r1=$(ratio pack tar-sha); r2=$(ratio pack zstd); r3=$(ratio verify unzstd-sha); r4=$(ratio verify unzstd)
printf 'pack   / (tar | zstd -3 -T0 ; sha256sum)   %.3f   target <= 0.6   %s\n' "$r1" "$(check "$r1" 0.6)"
printf 'pack   / zstd -3 -T0 alone (limit)          %.3f   target <= 1.3   %s\n' "$r2" "$(check "$r2" 1.3)"
printf 'verify / (zstd -d | sha256sum)              %.3f\n' "$r3"
printf 'verify / zstd -d alone (limit)              %.3f   target <= 1.3   %s\n' "$r4" "$(check "$r4" 1.3)"
p=$(maxof pack.kib); v=$(maxof verify.kib)
printf 'peak RSS pack    %d MiB   target <= 256   %s\n' $((p >> 10)) "$(check "$p" $((256 << 10)))"
printf 'peak RSS verify  %d MiB   target <= 256   %s\n' $((v >> 10)) "$(check "$v" $((256 << 10)))"
