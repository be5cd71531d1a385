//! Forged bundles, made the way an attacker would: copy a finished run
//! folder, edit it, `collect pack` it (every hash consistent again), then
//! `analyze verify --rederive`. Each forgery must be refused with a message
//! that names the row (or the planned run), the field and the raw file
//! that contradicts it.
//!
//! Native cases start from a real run folder (`collect run` of a seconds
//! long suite, made once per test binary); kvm and xen cases from run
//! folders the real runner writes on the fake platform, which leaves the
//! raw files the real kvm and xen platforms leave (boot.json with the QEMU
//! command line or the xl.cfg, console, generated configs).

mod forge;

use forge::*;

#[test]
fn real_native_and_fake_guest_bundles_pass() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = rederive(&pack(&native_copy(tmp.path())));
    assert!(out.ok, "{}", out.text);
    assert!(
        out.text.contains(
            "re-derived all 9 rows from the raw files (9 values parsed again); all 8 planned runs accounted for (8 ok, 0 failed, 0 dnr)"
        ),
        "{}",
        out.text
    );
    for root in [
        kvm_tcg_run(&tmp.path().join("kvm")),
        xen_run(&tmp.path().join("xen"), None),
        xen_run(&tmp.path().join("lab"), Some("qemu-tcg")),
    ] {
        let out = rederive(&pack(&root));
        assert!(out.ok, "{}: {}", root.display(), out.text);
    }
}

#[test]
fn native_rep3_relabelled_as_kvm_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = native_copy(tmp.path());
    // What `analyze report` would show as a KVM column: the platform of
    // the rows, and the manifest so that plain verify lets them through.
    add_platform(&root, "kvm");
    edit_rows(&root, |r| {
        if r.repetition == 3 && r.workload == "cpu" {
            r.platform = "kvm".into();
            r.accel = "kvm".into();
        }
    });
    let out = rederive(&pack(&root));
    out.refused(&[
        "metrics.ndjson line 5 (kvm overall cpu events_per_sec rep 3)",
        "platform is kvm, but the raw files give native",
        "config/plan.json plans runs/native/overall/cpu/rep-03 with platform native",
        "runs/native/overall/cpu/rep-03 has no boot.json, console or xl.cfg: it ran on the host itself",
    ]);

    // Deeper: the run folder moved under runs/kvm/ and its run.json and
    // rows say so; the plan still says where the run was.
    let root = native_copy(&tmp.path().join("moved"));
    add_platform(&root, "kvm");
    move_run(
        &root,
        "runs/native/overall/cpu/rep-03",
        "runs/kvm/overall/cpu/rep-03",
    );
    let out = rederive(&pack(&root));
    out.refused(&[
        "metrics.ndjson line 5 (kvm overall cpu events_per_sec rep 3)",
        "run runs/kvm/overall/cpu/rep-03 is not a run folder config/plan.json plans",
    ]);

    // Deeper still: the plan edited to match. The folder has nothing a
    // guest leaves.
    edit_plan_run(&root, "runs/native/overall/cpu/rep-03", "kvm");
    let out = rederive(&pack(&root));
    out.refused(&[
        "runs/kvm/overall/cpu/rep-03: config/plan.json plans a kvm run here",
        "runs/kvm/overall/cpu/rep-03 has no boot.json, console or xl.cfg: it ran on the host itself",
    ]);
}

#[test]
fn native_rep3_relabelled_as_xen_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = native_copy(tmp.path());
    add_platform(&root, "xen");
    edit_rows(&root, |r| {
        if r.repetition == 3 && r.workload == "disk-read" {
            r.platform = "xen".into();
            r.accel = "xen-pv".into();
        }
    });
    let out = rederive(&pack(&root));
    out.refused(&[
        "(xen overall disk-read bandwidth rep 3)",
        "platform is xen, but the raw files give native",
        "runs/native/overall/disk-read/rep-03 has no boot.json",
    ]);
}

#[test]
fn a_dropped_planned_run_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = native_copy(tmp.path());
    // The slowest repetition goes, folder and rows; the plan still lists it.
    std::fs::remove_dir_all(root.join("runs/native/overall/cpu/rep-03")).expect("rm");
    edit_table(&root, |rows| {
        rows.retain(|r| r.run != "runs/native/overall/cpu/rep-03")
    });
    let out = rederive(&pack(&root));
    out.refused(&[
        "config/plan.json plans runs/native/overall/cpu/rep-03 (native cpu rep 3/3)",
        "the bundle has no runs/native/overall/cpu/rep-03/run.json: a planned run is missing",
    ]);

    // The plan edited too: it is no longer the plan of the suite.
    drop_plan_run(&root, "runs/native/overall/cpu/rep-03");
    let out = rederive(&pack(&root));
    out.refused(&[
        "config/plan.json is not the plan config/suite.toml gives on native",
        "the suite plans runs/native/overall/cpu/rep-03 (native cpu rep 3/3), it does not",
    ]);

    // Only the rows dropped, the folder kept.
    let root = native_copy(&tmp.path().join("rows"));
    edit_table(&root, |rows| {
        rows.retain(|r| r.run != "runs/native/overall/cpu/rep-03")
    });
    let out = rederive(&pack(&root));
    out.refused(&[
        "metrics.ndjson has no row for events_per_sec of runs/native/overall/cpu/rep-03",
        "runs/native/overall/cpu/rep-03/run.json says the run ended ok",
        "a planned value is missing",
    ]);
}

#[test]
fn a_duplicated_row_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = native_copy(tmp.path());
    let best = |rows: &[benchvm_format::MetricRow]| {
        rows.iter()
            .filter(|r| r.metric == "events_per_sec")
            .max_by(|a, b| a.value.partial_cmp(&b.value).expect("finite"))
            .cloned()
            .expect("rows")
    };
    // The best row twice: n goes from 3 to 4. Plain verify refuses it.
    edit_table(&root, |rows| rows.push(best(rows)));
    let out = verify(&pack(&root));
    out.refused(&["metrics.ndjson line 10", "gives the same value as line"]);

    // The best row again as a fourth repetition of its own run folder.
    let root = native_copy(&tmp.path().join("rep4"));
    edit_table(&root, |rows| {
        let mut again = best(rows);
        again.repetition = 4;
        rows.push(again);
    });
    let out = rederive(&pack(&root));
    out.refused(&[
        "metrics.ndjson lines",
        "both give events_per_sec of runs/native/overall/cpu/rep-0",
    ]);

    // ... or of a folder of its own, which the plan does not have.
    let root = native_copy(&tmp.path().join("rep4-folder"));
    edit_table(&root, |rows| {
        let mut again = best(rows);
        again.repetition = 4;
        again.run = "runs/native/overall/cpu/rep-04".into();
        rows.push(again);
    });
    let out = rederive(&pack(&root));
    out.refused(&[
        "metrics.ndjson line 10 (native overall cpu events_per_sec rep 4)",
        "run runs/native/overall/cpu/rep-04 is not a run folder config/plan.json plans",
    ]);
}

#[test]
fn an_edited_value_or_status_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = native_copy(tmp.path());
    edit_rows(&root, |r| {
        if r.repetition == 2 && r.metric == "events_per_sec" {
            r.value = r.value.map(|v| v * 1.1);
        }
    });
    let bundle = pack(&root);
    assert!(verify(&bundle).ok, "hash checks alone cannot see the edit");
    rederive(&bundle).refused(&[
        "metrics.ndjson line 3 (native overall cpu events_per_sec rep 2): value is",
        "runs/native/overall/cpu/rep-02/stdout.log parsed again",
    ]);

    let root = native_copy(&tmp.path().join("status"));
    edit_rows(&root, |r| {
        if r.repetition == 1 && r.workload == "disk-read" {
            r.status = benchvm_format::metrics::Status::Dnr;
            r.value = None;
        }
    });
    rederive(&pack(&root)).refused(&[
        "(native overall disk-read bandwidth rep 1 dnr): status is dnr, but the raw files give ok",
        "runs/native/overall/disk-read/rep-01/run.json says the run ended ok",
    ]);
}

#[test]
fn a_tcg_run_cannot_claim_kvm() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = kvm_tcg_run(tmp.path());
    edit_rows(&root, |r| {
        r.accel = "kvm".into();
        r.emulated = false;
    });
    rederive(&pack(&root)).refused(&[
        "metrics.ndjson line 1 (kvm overall cpu events_per_sec rep 1 guest 1 of 1): accel is kvm, but the raw files give tcg",
        "runs/kvm/overall/cpu/rep-01/boot.json runs QEMU with -accel tcg (software emulation)",
    ]);
    // Each raw file forged in turn is caught by the next one.
    for f in run_files(&root, "run.json") {
        edit_json(&f, |v| {
            v["accel"] = "kvm".into();
            v["emulated"] = false.into();
        });
    }
    for f in run_files(&root, "boot.json") {
        edit_json(&f, |v| v["accel"] = "kvm".into());
    }
    rederive(&pack(&root)).refused(&[
        "runs/kvm/overall/cpu/warmup-01/boot.json: says accel kvm, but its QEMU command line runs -accel tcg",
    ]);
    for f in run_files(&root, "boot.json") {
        edit_json(&f, |v| {
            let line = v["command_line"]
                .as_str()
                .expect("line")
                .replace("-accel tcg -cpu qemu64", "-accel kvm -cpu host");
            v["command_line"] = line.into();
        });
    }
    rederive(&pack(&root)).refused(&[
        "runs/kvm/overall/cpu/warmup-01/boot.json: its QEMU command line is not the one collect recorded in config/kvm/guest-001.cmdline",
    ]);
    for f in files_in(&root.join("config/kvm"), ".cmdline") {
        let text = std::fs::read_to_string(&f).expect("read");
        std::fs::write(
            &f,
            text.replace("-accel tcg -cpu qemu64", "-accel kvm -cpu host"),
        )
        .expect("write");
    }
    rederive(&pack(&root)).refused(&[
        "env/summary.json says kvm ran with accel tcg, but runs/kvm/overall/cpu/warmup-01/boot.json runs QEMU with -accel kvm",
    ]);
}

#[test]
fn a_tcg_run_cannot_drop_emulated() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = kvm_tcg_run(tmp.path());
    edit_rows(&root, |r| r.emulated = false);
    rederive(&pack(&root)).refused(&[
        "metrics.ndjson line 1 (kvm overall cpu events_per_sec rep 1 guest 1 of 1): emulated is false, but the raw files give true",
        "runs/kvm/overall/cpu/rep-01/boot.json runs QEMU with -accel tcg (software emulation)",
    ]);
}

#[test]
fn an_emulated_xen_host_cannot_claim_bare_metal() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = xen_run(tmp.path(), Some("qemu-tcg"));
    edit_rows(&root, |r| r.emulated = false);
    rederive(&pack(&root)).refused(&[
        "(xen overall cpu events_per_sec rep 1 guest 1 of 1): emulated is false, but the raw files give true",
        "config/xen/dom0-cmdline.txt has benchvm.lab=qemu-tcg: the Xen host itself ran under emulation",
    ]);
    // The runs' own records and the facts forged too: dom0's command
    // line still tells.
    for f in run_files(&root, "run.json") {
        edit_json(&f, |v| v["emulated"] = false.into());
    }
    edit_json(&root.join("env/summary.json"), |v| {
        v["platforms"]["xen"]["lab"] = "none".into()
    });
    rederive(&pack(&root)).refused(&[
        "runs/xen/overall/cpu/warmup-01/run.json: says emulated false, but",
        "config/xen/dom0-cmdline.txt has benchvm.lab=qemu-tcg",
    ]);
}

#[test]
fn a_failed_run_must_say_why() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = native_copy(tmp.path());
    // Rep 2 turned into a failure that hides its reason: table and
    // run.json agree, but a failed run without a reason accounts for
    // nothing.
    edit_json(&root.join("runs/native/overall/cpu/rep-02/run.json"), |v| {
        v["outcome"]["status"] = "failed".into();
        v["outcome"]["wall_s"] = serde_json::Value::Null;
    });
    edit_rows(&root, |r| {
        if r.workload == "cpu" && r.repetition == 2 {
            r.status = benchvm_format::metrics::Status::Failed;
            r.value = None;
        }
    });
    rederive(&pack(&root)).refused(&[
        "runs/native/overall/cpu/rep-02/run.json: the run is failed but gives no reason",
    ]);
    edit_json(&root.join("runs/native/overall/cpu/rep-02/run.json"), |v| {
        v["outcome"]["reason"] = "exit status 1".into();
    });
    let out = rederive(&pack(&root));
    assert!(
        out.ok,
        "a failed run with its reason is accounted for: {}",
        out.text
    );
    assert!(out.text.contains("(7 ok, 1 failed, 0 dnr)"), "{}", out.text);
}
