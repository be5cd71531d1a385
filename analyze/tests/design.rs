//! The design of the runs, re-derived: the order the blocks ran in, why
//! each lane stopped, each run's quiet evidence and each disk run's cache
//! policy. A bundle made on the fake platforms in the interleaved order
//! with adaptive repetitions passes; each forgery of a design claim is
//! refused with the file that contradicts it.

mod forge;

use collect::plan::RunOrder;
use forge::*;

#[test]
fn interleaved_adaptive_bundle_passes_with_its_runs_not_needed() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = design_run(tmp.path(), RunOrder::INTERLEAVED);
    let out = rederive(&pack(&root));
    assert!(out.ok, "{}", out.text);
    // cpu: native stops after its first block (3 of 9, 4 warm-ups and 6
    // repetitions not needed); kvm runs on to 9.
    assert!(
        out.text.contains("not needed by their stopping rule); the interleaved order and the stopping of 4 lanes played again"),
        "{}",
        out.text
    );
    let native: serde_json::Value = serde_json::from_slice(
        &std::fs::read(root.join("runs/native/overall/cpu/stopping.json")).expect("read"),
    )
    .expect("json");
    assert_eq!(native["stopped"], "target");
    assert!(!root.join("runs/native/overall/cpu/rep-04").exists());
    let kvm: serde_json::Value = serde_json::from_slice(
        &std::fs::read(root.join("runs/kvm/overall/cpu/stopping.json")).expect("read"),
    )
    .expect("json");
    assert_eq!(kvm["repetitions"], 9, "{kvm}");
}

#[test]
fn a_forged_stopping_record_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = design_run(tmp.path(), RunOrder::random(11));
    edit_json(&root.join("runs/kvm/overall/cpu/stopping.json"), |v| {
        v["stopped"] = "target".into();
    });
    rederive(&pack(&root)).refused(&[
        "runs/kvm/overall/cpu/stopping.json: says the lane stopped (target) after 9 repetitions, not (max) after 9",
        "the stopping rule decided again from the values of the raw files: max of 9 repetitions reached",
    ]);
}

#[test]
fn a_run_the_rule_did_not_need_may_not_appear() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = design_run(tmp.path(), RunOrder::INTERLEAVED);
    // The forger adds a fourth native cpu repetition (a copy of the
    // third) to the folder, so the sample looks larger.
    let from = root.join("runs/native/overall/cpu/rep-03");
    let to = root.join("runs/native/overall/cpu/rep-04");
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(&from)
        .arg(&to)
        .status()
        .expect("cp");
    assert!(status.success());
    rederive(&pack(&root)).refused(&[
        "runs/native/overall/cpu/rep-04/",
        "a planned run its lane's stopping record says was not needed",
    ]);
}

#[test]
fn a_forged_place_in_the_order_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = design_run(tmp.path(), RunOrder::INTERLEAVED);
    // kvm's disk block ran first of the second workload; the forger says
    // native's did.
    edit_json(
        &root.join("runs/native/overall/disk-read/rep-01/run.json"),
        |v| {
            v["sequence"] = 1.into();
            v["block"] = 1.into();
        },
    );
    rederive(&pack(&root)).refused(&[
        "runs/native/overall/disk-read/rep-01/run.json: says it ran as run 1 of the bundle, in block 1",
        "config/plan.json's order (interleaved) played again with the runs' values puts it at run",
    ]);
    // The plan claims the blocked order the runs did not run in.
    let root = design_run(&tmp.path().join("blocked"), RunOrder::INTERLEAVED);
    edit_json(&root.join("config/plan.json"), |v| {
        v["order"]["kind"] = "blocked".into();
    });
    rederive(&pack(&root)).refused(&["config/plan.json is not the plan config/suite.toml gives"]);
}

#[test]
fn forged_quiet_and_disk_claims_are_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = design_run(tmp.path(), RunOrder::INTERLEAVED);
    // kvm lost 7.5% to steal; the forger calls the run quiet.
    edit_json(&root.join("runs/kvm/overall/cpu/rep-02/run.json"), |v| {
        v["quiet"]["busy"] = serde_json::json!([]);
    });
    rederive(&pack(&root)).refused(&[
        "runs/kvm/overall/cpu/rep-02/run.json: its quiet claim (quiet) is not what runs/kvm/overall/cpu/rep-02/quiet.json and host-quiet.json give (busy: steal 7.5% of the CPU time during the measured step (above 5%)",
    ]);
    // The evidence edited instead: no steal at all.
    let root = design_run(&tmp.path().join("evidence"), RunOrder::INTERLEAVED);
    edit_json(&root.join("runs/kvm/overall/cpu/rep-02/quiet.json"), |v| {
        v["after"]["cpu"]["steal"] = 0.into();
    });
    rederive(&pack(&root))
        .refused(&["runs/kvm/overall/cpu/rep-02/run.json: its quiet claim (busy: steal 7.5%"]);
    // A direct-I/O run said to be cached.
    let root = design_run(&tmp.path().join("disk"), RunOrder::INTERLEAVED);
    edit_json(
        &root.join("runs/native/overall/disk-read/rep-02/run.json"),
        |v| {
            v["disk"]["policy"] = "cached".into();
        },
    );
    rederive(&pack(&root)).refused(&[
        "runs/native/overall/disk-read/rep-02/run.json: says its disk cache policy was",
        "\"policy\":\"direct\"",
    ]);
}

#[test]
fn show_and_report_say_the_order_the_stopping_the_quiet_and_the_cache_policy() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let bundle = pack(&design_run(tmp.path(), RunOrder::random(11)));
    let show = std::process::Command::new(bin("analyze"))
        .arg("show")
        .arg(&bundle)
        .output()
        .expect("analyze show");
    let text = String::from_utf8_lossy(&show.stdout);
    assert!(show.status.success(), "{text}");
    for needed in [
        "order     random (seed 11)",
        "kvm        cpu              max      max of 9 repetitions reached",
        "native     cpu              target   every metric's 95% interval within +-2% of its mean after 3 repetitions",
        "native     disk-read        fixed    fixed by the suite: 2 repetitions",
        "busy: steal 7.5% of the CPU time during the measured step",
        "runs/native/overall/cpu/rep-01",
    ] {
        assert!(text.contains(needed), "{needed:?} not in:\n{text}");
    }
    let out = tmp.path().join("report");
    let report = std::process::Command::new(bin("analyze"))
        .arg("report")
        .arg(&bundle)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("analyze report");
    assert!(
        report.status.success(),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    let md = std::fs::read_to_string(out.join("report.md")).expect("report.md");
    for needed in [
        "Run order: random (seed 11): the workloads and each round's platforms in an order drawn from the seed",
        "cpu on kvm (",
        "max of 9 repetitions reached before every 95% interval was within +-2%",
        "## Why each workload stopped, per platform",
        "## Host quiet per run",
        "| busy-host | cpu / events_per_sec, wall_time | KVM (TCG) | steal 7.5% of the CPU time during the measured step (above 5%)",
        "disk-read: direct I/O on every platform (fio --direct=1, past the page cache of the system running fio); scratch disks: native: the host's own file system; kvm: ",
    ] {
        assert!(md.contains(needed), "{needed:?} not in report.md:\n{md}");
    }
    let table1 = std::fs::read_to_string(out.join("table1.md")).expect("table1.md");
    assert!(
        table1.contains("disk-read: direct I/O on every platform"),
        "{table1}"
    );
    let quiet = std::fs::read_to_string(out.join("quiet.csv")).expect("quiet.csv");
    // Every run that ran has its figures, warm-ups included: cpu on
    // native 1 + 3, on kvm 1 + 3 then 1 + 6; disk-read 1 + 2 on each.
    assert_eq!(quiet.lines().count(), 1 + 4 + 11 + 6, "{quiet}");
}
