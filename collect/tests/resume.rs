//! Crash safety of `collect run` and `collect resume` (reliability.md part
//! B): real SIGKILLs at named fault points, a torn journal tail, a lock
//! held by another collector, a changed suite or version, a full disk.
//! Each checks that no finished run is lost or duplicated and that the
//! message says what happened.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use benchvm_format::metrics::Status;
use collect::journal::{self, Journal, Record, JOURNAL};

const SUITE: &str = r#"
name = "crash"
platforms = ["native"]
[defaults]
repetitions = 3
warmups = 0
deadline_s = 60
[experiments.overall]
workloads = ["cpu"]
[workloads.cpu]
kind = "sysbench-cpu"
max_prime = 2000
events = 300
threads = 1
"#;

struct Case {
    _tmp: tempfile::TempDir,
    suite: PathBuf,
    out: PathBuf,
    run: PathBuf,
}

impl Case {
    fn new() -> Case {
        let tmp = tempfile::tempdir().expect("tempdir");
        let suite = tmp.path().join("crash.toml");
        fs::write(&suite, SUITE).expect("suite");
        let out = tmp.path().join("out");
        let run = tmp.path().join("run");
        Case {
            suite,
            out,
            run,
            _tmp: tmp,
        }
    }

    fn collect(&self, args: &[&str], fault: Option<&str>) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_collect"));
        cmd.current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
            .args(args);
        match fault {
            Some(f) => cmd.env("BENCHVM_FAULT", f),
            None => cmd.env_remove("BENCHVM_FAULT"),
        };
        cmd.output().expect("spawn collect")
    }

    fn run(&self, fault: Option<&str>) -> Output {
        let (suite, out, run) = (self.suite.to_str(), self.out.to_str(), self.run.to_str());
        let args = [
            "run",
            "--suite",
            suite.expect("utf8"),
            "--platform",
            "native",
            "--label",
            "crash",
        ];
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--out", out.expect("utf8"), "--run-dir", run.expect("utf8")]);
        self.collect(&all, fault)
    }

    fn resume(&self) -> Output {
        self.collect(&["resume", self.run.to_str().expect("utf8")], None)
    }

    fn bundles(&self) -> Vec<PathBuf> {
        let Ok(entries) = fs::read_dir(&self.out) else {
            return Vec::new();
        };
        let mut v: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension().is_some_and(|x| x == "zst")
                    && !p
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect();
        v.sort();
        v
    }

    fn journaled_runs(&self) -> Vec<String> {
        journal::replay(&self.run.join(JOURNAL))
            .expect("replay")
            .records
            .into_iter()
            .filter_map(|r| match r {
                Record::Run { folder, .. } => Some(folder),
                Record::Start { .. } => None,
            })
            .collect()
    }
}

fn killed(out: &Output) {
    assert_eq!(
        out.status.signal(),
        Some(9),
        "expected SIGKILL, got {}: {}",
        out.status,
        text(out)
    );
}

fn ok(out: &Output) {
    assert!(out.status.success(), "collect failed: {}", text(out));
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The single bundle verifies and holds repetitions 1-3 exactly once each.
fn assert_complete(case: &Case) -> PathBuf {
    let bundles = case.bundles();
    assert_eq!(bundles.len(), 1, "{bundles:?}");
    let b = benchvm_format::read::open(&bundles[0], &Default::default(), &|f| {
        f.path == "metrics.ndjson"
    })
    .expect("verifies");
    let rows =
        benchvm_format::metrics::parse(b.file("metrics.ndjson").expect("metrics")).expect("rows");
    let mut per_rep: BTreeMap<(u32, String), usize> = BTreeMap::new();
    for r in &rows {
        assert_eq!(r.status, Status::Ok, "{r:?}");
        *per_rep.entry((r.repetition, r.metric.clone())).or_default() += 1;
    }
    assert_eq!(per_rep.len(), 6, "{per_rep:?}");
    assert!(
        per_rep.values().all(|&n| n == 1),
        "a run was duplicated: {per_rep:?}"
    );
    bundles[0].clone()
}

const REP: &str = "runs/native/overall/cpu/rep-";

#[test]
fn kill_between_rename_and_journal_redoes_only_that_run() {
    let case = Case::new();
    killed(&case.run(Some("before-journal@2")));
    assert_eq!(case.journaled_runs(), vec![format!("{REP}01")]);
    assert!(
        case.run.join(format!("{REP}02")).is_dir(),
        "rep-02 was renamed into place before the kill"
    );
    let first = fs::read(case.run.join(format!("{REP}01/stdout.log"))).expect("rep-01 log");
    assert!(case.bundles().is_empty());

    let out = case.resume();
    ok(&out);
    assert!(
        text(&out).contains(&format!("dropped {REP}02")),
        "{}",
        text(&out)
    );
    assert!(
        text(&out).contains("1 of 3 runs already finished"),
        "{}",
        text(&out)
    );
    assert_complete(&case);
    assert_eq!(
        fs::read(case.run.join(format!("{REP}01/stdout.log"))).expect("rep-01"),
        first,
        "a finished run was redone"
    );
}

#[test]
fn torn_journal_tail_is_cut_and_reported() {
    let case = Case::new();
    killed(&case.run(Some("after-journal@2")));
    assert_eq!(case.journaled_runs().len(), 2);
    let mut bytes = fs::read(case.run.join(JOURNAL)).expect("journal");
    bytes.extend_from_slice(&[200, 0, 0, 0, 9, 9, 9]);
    fs::write(case.run.join(JOURNAL), bytes).expect("tear");
    let out = case.resume();
    ok(&out);
    assert!(
        text(&out).contains("cut 7 bytes of a torn last journal record"),
        "{}",
        text(&out)
    );
    assert!(
        text(&out).contains("2 of 3 runs already finished"),
        "{}",
        text(&out)
    );
    assert_complete(&case);
}

#[test]
fn a_corrupt_record_in_the_middle_costs_only_its_run() {
    let case = Case::new();
    killed(&case.run(Some("after-journal@3")));
    assert_eq!(case.journaled_runs().len(), 3);
    let path = case.run.join(JOURNAL);
    let mut bytes = fs::read(&path).expect("journal");
    // One flipped bit in the record of rep-01, the second of four records
    // (the start record is the first).
    let start_len = 8 + u32::from_le_bytes(bytes[0..4].try_into().expect("4 bytes")) as usize;
    bytes[start_len + 40] ^= 0x01;
    fs::write(&path, &bytes).expect("flip");
    let kept = |rep: &str| fs::read(case.run.join(format!("{REP}{rep}/stdout.log"))).expect("log");
    let (rep2, rep3) = (kept("02"), kept("03"));

    let out = case.resume();
    ok(&out);
    let t = text(&out);
    assert!(
        t.contains("journal record 2 (bytes ")
            && t.contains(
                "fails its CRC-32: corruption in the middle of the journal, not a torn tail"
            ),
        "{t}"
    );
    assert!(!t.contains("torn last journal record"), "{t}");
    assert!(t.contains(&format!("dropped {REP}01")), "{t}");
    assert!(t.contains("2 of 3 runs already finished"), "{t}");
    assert_complete(&case);
    assert_eq!(
        (kept("02"), kept("03")),
        (rep2, rep3),
        "an intact run was redone"
    );
    assert_eq!(
        fs::read(case.run.join(".journal.corrupt")).expect("old journal kept"),
        bytes
    );
}

#[test]
fn kill_while_packing_leaves_no_bundle_and_resume_packs_the_same_bytes() {
    let case = Case::new();
    killed(&case.run(Some("mid-pack")));
    assert!(case.bundles().is_empty(), "only a temporary file may exist");
    ok(&case.resume());
    let bundle = assert_complete(&case);
    let again = case.out.join("again.tar.zst");
    ok(&case.collect(
        &[
            "pack",
            case.run.to_str().expect("utf8"),
            "-o",
            again.to_str().expect("utf8"),
        ],
        None,
    ));
    assert_eq!(
        fs::read(&bundle).expect("bundle"),
        fs::read(&again).expect("again")
    );
}

#[test]
fn second_collector_fails_at_once() {
    let case = Case::new();
    killed(&case.run(Some("after-journal@1")));
    let held = collect::lock::acquire(&case.run).expect("take the lock");
    let t = Instant::now();
    let out = case.resume();
    assert!(!out.status.success());
    assert!(t.elapsed() < Duration::from_secs(10), "waited for the lock");
    assert!(
        text(&out).contains("in use by another collector"),
        "{}",
        text(&out)
    );
    drop(held);
    ok(&case.resume());
    assert_complete(&case);
}

#[test]
fn resume_refuses_a_changed_suite_or_another_version() {
    let case = Case::new();
    killed(&case.run(Some("after-journal@1")));
    fs::write(&case.suite, SUITE.replace("events = 300", "events = 400")).expect("edit suite");
    let out = case.resume();
    assert!(!out.status.success());
    assert!(
        text(&out).contains("changed since the run started"),
        "{}",
        text(&out)
    );
    fs::write(&case.suite, SUITE).expect("restore");

    // The same journal, but started by another collect version.
    let path = case.run.join(JOURNAL);
    let records = journal::replay(&path).expect("replay").records;
    fs::remove_file(&path).expect("rm");
    let mut j = Journal::create(&path).expect("journal");
    for r in &records {
        let r = match r.clone() {
            Record::Start {
                suite_sha256,
                suite_path,
                runs,
                ..
            } => Record::Start {
                collect_version: "9.9.9".into(),
                suite_sha256,
                suite_path,
                runs,
            },
            other => other,
        };
        j.append(&r).expect("append");
    }
    drop(j);
    let out = case.resume();
    assert!(!out.status.success());
    assert!(
        text(&out).contains("started by collect 9.9.9"),
        "{}",
        text(&out)
    );
}

#[test]
fn full_disk_stops_with_a_clear_message_and_loses_nothing() {
    let case = Case::new();
    let small = case.out.parent().expect("tmp").join("small");
    fs::create_dir_all(&small).expect("mkdir");
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=2m", "tmpfs"])
        .arg(&small)
        .status();
    if !mounted.is_ok_and(|s| s.success()) {
        eprintln!("skipped: cannot mount a small tmpfs (needs root)");
        return;
    }
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    let _guard = Unmount(small.clone());
    // Leave about 60 KiB free: the environment capture or a run's files hit ENOSPC.
    let filler = small.join("filler");
    fs::write(&filler, vec![0u8; 2 * 1024 * 1024 - 60 * 1024]).ok();
    let run = small.join("run");
    let out = case.collect(
        &[
            "run",
            "--suite",
            case.suite.to_str().expect("utf8"),
            "--platform",
            "native",
            "--out",
            case.out.to_str().expect("utf8"),
            "--run-dir",
            run.to_str().expect("utf8"),
        ],
        None,
    );
    assert!(
        !out.status.success(),
        "filled disk but succeeded: {}",
        text(&out)
    );
    assert!(
        text(&out).contains("No space left on device"),
        "{}",
        text(&out)
    );
    let finished_before = journal::replay(&run.join(JOURNAL))
        .expect("journal intact")
        .records
        .len();
    fs::remove_file(&filler).expect("free space");
    let out = case.collect(&["resume", run.to_str().expect("utf8")], None);
    ok(&out);
    assert!(
        text(&out).contains(&format!(
            "{} of 3 runs already finished",
            finished_before - 1
        )),
        "{}",
        text(&out)
    );
    assert_complete(&case);
}

/// An fsync that fails (B4) stops collect with a message naming the file;
/// the runs recorded before are kept and `resume` runs the rest once.
fn fsync_error_stops_and_resume_finishes(fault: &str, file: &str, recorded: usize) {
    let case = Case::new();
    let out = case.run(Some(fault));
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains("fsync of ") && said.contains(file) && said.contains("failed"),
        "{said}"
    );
    assert!(said.contains("Input/output error"), "{said}");
    let runs = case.journaled_runs();
    assert_eq!(runs.len(), recorded, "{runs:?}");
    assert!(case.bundles().is_empty());
    let first = fs::read(case.run.join(format!("{REP}01/stdout.log"))).expect("rep-01 log");

    let out = case.resume();
    ok(&out);
    assert!(
        text(&out).contains(&format!("{recorded} of 3 runs already finished")),
        "{}",
        text(&out)
    );
    assert_complete(&case);
    assert_eq!(
        fs::read(case.run.join(format!("{REP}01/stdout.log"))).expect("rep-01"),
        first,
        "a finished run was redone"
    );
}

#[test]
fn failed_journal_fsync_is_fatal_and_its_record_is_not_trusted() {
    // Visit 1 is the start record: visit 3 is rep-02's record.
    fsync_error_stops_and_resume_finishes("fsync-error-journal@3", "/.journal", 1);
}

#[test]
fn failed_run_folder_fsync_is_fatal_and_the_run_is_redone() {
    fsync_error_stops_and_resume_finishes(
        "fsync-error-run@2",
        "/.inflight-runs_native_overall_cpu_rep-02/",
        1,
    );
}

/// cpu in adaptive blocks whose target no real machine meets: a first
/// block of 3, then one of 6 (up to max).
const ADAPTIVE: &str = r#"
name = "crash"
platforms = ["native"]
[defaults]
repetitions = { min = 3, max = 9, target_ci = 0.0001 }
warmups = 1
deadline_s = 60
[experiments.overall]
workloads = ["cpu"]
[workloads.cpu]
kind = "sysbench-cpu"
max_prime = 2000
events = 300
threads = 1
"#;

#[test]
fn a_resumed_adaptive_run_keeps_its_blocks_and_places() {
    let case = Case::new();
    fs::write(&case.suite, ADAPTIVE).expect("suite");
    // Killed in the second block: warm-up 1, reps 1-3, warm-up 2, rep 4
    // are recorded.
    killed(&case.run(Some("after-journal@6")));
    assert_eq!(case.journaled_runs().len(), 6);
    ok(&case.resume());
    assert_eq!(
        case.journaled_runs().len(),
        11,
        "2 warm-ups and 9 repetitions"
    );
    let stopping: serde_json::Value = serde_json::from_slice(
        &fs::read(case.run.join("runs/native/overall/cpu/stopping.json")).expect("stopping"),
    )
    .expect("json");
    assert_eq!(stopping["stopped"], "max", "{stopping}");
    assert_eq!(stopping["repetitions"], 9);
    assert_eq!(
        stopping["not_needed"],
        serde_json::json!([
            "runs/native/overall/cpu/warmup-03",
            "runs/native/overall/cpu/warmup-04"
        ])
    );
    // Each run sits where an uninterrupted run would have put it.
    for (folder, sequence, block) in [
        ("warmup-01", 1, 1),
        ("rep-03", 4, 1),
        ("warmup-02", 5, 2),
        ("rep-04", 6, 2),
        ("rep-05", 7, 2),
        ("rep-09", 11, 2),
    ] {
        let record: serde_json::Value = serde_json::from_slice(
            &fs::read(
                case.run
                    .join(format!("runs/native/overall/cpu/{folder}/run.json")),
            )
            .expect("run.json"),
        )
        .expect("json");
        assert_eq!(
            (record["sequence"].as_u64(), record["block"].as_u64()),
            (Some(sequence), Some(block)),
            "{folder}"
        );
    }
    assert!(!case.run.join("runs/native/overall/cpu/warmup-03").exists());
    assert_eq!(case.bundles().len(), 1);
}
