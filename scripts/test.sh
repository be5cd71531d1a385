#!/usr/bin/env bash
# The test command: every test of the workspace, including the ones that
# run the smoke suite for real natively (and on QEMU when a guest kernel is
# present, see scripts/fetch-guest-kernel.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --locked -- --test-threads=2
