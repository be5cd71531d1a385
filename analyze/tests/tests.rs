//! Integration tests of analyze on synthetic bundles (no tools needed):
//! snapshots of every output format, the report and compare commands end to
//! end, diff, filters, the command-line conventions (exit statuses, --json,
//! completions, man pages), and property tests of the statistics.

#[path = "suite/cli.rs"]
mod cli;
#[path = "suite/commands.rs"]
mod commands;
#[path = "suite/common.rs"]
mod common;
#[path = "suite/props.rs"]
mod props;
#[path = "suite/snapshots.rs"]
mod snapshots;
