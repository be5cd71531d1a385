//! The documentation, tested like code.
//!
//! - Every ```` ```console ```` block of README.md, collect/IMPORT.md and
//!   suites/README.md runs: each `$ ` line is a command, run with `sh` in a
//!   sandbox folder of the document's own (the workspace's folders linked
//!   in, so `collect/tests/data/...` paths work; bundles and reports land
//!   in the sandbox), with the built `collect` and `analyze` first on
//!   `PATH`. The lines after it are its output (standard output and error,
//!   as a terminal shows them), `...` for any lines and `[..]` for any
//!   text; `[exit status N]` as the last line expects that status (else
//!   0). The blocks of one document run in order in one sandbox, so a
//!   later block may use what an earlier one wrote.
//! - A fenced block whose info string names `file=PATH` (```` ```csv
//!   file=collect/tests/data/import/results.csv ````) is that file: equal,
//!   or an excerpt when it holds `...` lines.
//! - The command examples that do not run here are listed in [`NOT_RUN`]
//!   with the reason; the test checks each is still in its document.
//! - `--help` of both binaries and every subcommand is a snapshot under
//!   `tests/snapshots/help/` (`BENCHVM_UPDATE_SNAPSHOTS=1` rewrites them),
//!   so a change of interface is a reviewed diff.
//!
//! Needs both binaries built (`cargo build -p collect -p analyze`, or any
//! workspace build).

#[path = "docs/blocks.rs"]
mod blocks;
#[path = "docs/help.rs"]
mod help;
#[path = "docs/matching.rs"]
mod matching;

use std::path::{Path, PathBuf};
use std::process::Command;

/// Documents whose examples run.
const DOCS: [&str; 3] = ["README.md", "collect/IMPORT.md", "suites/README.md"];

/// Command examples that are documented but not run by this test, each
/// with its document and why.
const NOT_RUN: &[(&str, &str, &str)] = &[
    (
        "README.md",
        "sudo scripts/quick.sh",
        "the main job: boots guests, about 37 minutes",
    ),
    (
        "README.md",
        "sudo scripts/test.sh",
        "runs every test of the workspace, as root",
    ),
    (
        "README.md",
        "collect run [--suite NAME|FILE]",
        "a synopsis; runs are tested by e2e_native and collect's kvm and xen_lab tests",
    ),
    (
        "README.md",
        "collect push bundles/*.tar.zst --to s3://lab/benchvm",
        "needs an S3 server; analyze/tests/store.rs and collect/tests/push.rs start one",
    ),
    (
        "README.md",
        "BENCH_IDLE_WAIT=300 scripts/bench-bundle.sh 9 1024",
        "a benchmark over 1 GiB, minutes long; its figures are a measurement",
    ),
    (
        "collect/IMPORT.md",
        "collect import csv       SOURCE.csv",
        "a synopsis; every importer runs in the examples below it",
    ),
    (
        "README.md",
        "analyze verify THEIR-BUNDLE.tar.zst",
        "a synopsis; the console block below it runs each command",
    ),
    (
        "README.md",
        "BENCHVM_UPDATE_SNAPSHOTS=1 cargo test -p analyze --test docs",
        "this test itself",
    ),
    (
        "README.md",
        "analyze report s3://lab/benchvm/suite=paper/date=2026-11",
        "needs an S3 server; analyze/tests/store.rs starts one",
    ),
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("workspace")
}

fn read_doc(doc: &str) -> String {
    std::fs::read_to_string(workspace().join(doc)).unwrap_or_else(|e| panic!("{doc}: {e}"))
}

/// The folder holding the built `collect` and `analyze`.
fn bin_dir() -> PathBuf {
    let analyze = Path::new(env!("CARGO_BIN_EXE_analyze"));
    let dir = analyze.parent().expect("bin dir").to_path_buf();
    assert!(
        dir.join("collect").exists(),
        "{} has no collect: build it first (cargo build -p collect)",
        dir.display()
    );
    dir
}

/// A fresh folder with the workspace's folders linked in.
fn sandbox() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    let ws = workspace();
    for entry in std::fs::read_dir(&ws).expect("workspace") {
        let entry = entry.expect("entry");
        let name = entry.file_name();
        let skip = ["bundles", "reports", "target", ".git"];
        if skip.iter().any(|s| name == *s) || !entry.path().is_dir() {
            continue;
        }
        std::os::unix::fs::symlink(entry.path(), tmp.path().join(&name)).expect("symlink");
    }
    tmp
}

/// Runs one command line in `dir`; returns its output lines and status.
fn run(dir: &Path, command: &str) -> (String, i32) {
    let path = format!(
        "{}:{}",
        bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("exec 2>&1\n{command}"))
        .current_dir(dir)
        .env("PATH", path)
        .env("BENCHVM_CACHE", dir.join(".cache"))
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .output()
        .expect("sh");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (text, out.status.code().unwrap_or(-1))
}

#[test]
fn every_console_example_runs_and_prints_what_the_doc_shows() {
    let mut failures = Vec::new();
    let mut ran = 0;
    for doc in DOCS {
        let text = read_doc(doc);
        let dir = sandbox();
        for block in blocks::parse(&text) {
            if block.lang != "console" {
                continue;
            }
            for example in blocks::commands(&block) {
                ran += 1;
                let (output, status) = run(dir.path(), &example.command);
                let actual: Vec<&str> = output.lines().collect();
                let expected: Vec<&str> = example.output.iter().map(String::as_str).collect();
                if status != example.status || !matching::lines_match(&expected, &actual) {
                    failures.push(format!(
                        "{doc} line {}: $ {}\nexpected (status {}):\n{}\ngot (status {status}):\n{output}",
                        example.line,
                        example.command,
                        example.status,
                        expected.join("\n"),
                    ));
                }
            }
        }
    }
    assert!(
        ran >= 10,
        "only {ran} examples found: are the console blocks gone?"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_block_that_names_a_file_shows_that_file() {
    let ws = workspace();
    let mut checked = 0;
    for doc in DOCS {
        for block in blocks::parse(&read_doc(doc)) {
            let Some(file) = block.file.as_deref() else {
                continue;
            };
            checked += 1;
            let content = std::fs::read_to_string(ws.join(file))
                .unwrap_or_else(|e| panic!("{doc} line {} shows {file}: {e}", block.line));
            let expected: Vec<&str> = block.body.iter().map(String::as_str).collect();
            let actual: Vec<&str> = content.lines().collect();
            assert!(
                matching::lines_match(&expected, &actual),
                "{doc} line {}: the block differs from {file}\nblock:\n{}\nfile:\n{content}",
                block.line,
                expected.join("\n")
            );
        }
    }
    assert!(checked >= 8, "only {checked} blocks name a file");
}

#[test]
fn the_examples_not_run_are_still_in_their_documents() {
    for (doc, command, reason) in NOT_RUN {
        assert!(
            read_doc(doc).contains(command),
            "{doc} no longer shows {command:?} (listed as not run: {reason}): update NOT_RUN"
        );
    }
}

#[test]
fn help_texts_match_their_snapshots() {
    help::check(
        &bin_dir(),
        &workspace().join("analyze/tests/snapshots/help"),
    );
}

#[test]
fn the_matcher_means_what_the_docs_say() {
    matching::self_test();
}
