//! Run folders to forge, the forger's edits, and the two commands that
//! pack and check the result.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use benchvm_format::env::{EnvSummary, SUMMARY_PATH};
use benchvm_format::metrics::{self, MetricRow, Status};
use benchvm_format::{RunMeta, Tool};
use collect::journal::Record;
use collect::platform::fake::Fake;
use collect::platform::Platform;
use collect::runfolder::RunFolder;
use collect::{plan, runner, suite};
use serde_json::Value;

/// Seconds long: real sysbench and fio, three repetitions each.
const NATIVE_SUITE: &str = r#"
name = "forgery"
platforms = ["native"]
[defaults]
repetitions = 3
warmups = 1
deadline_s = 60
[experiments.overall]
workloads = ["cpu", "disk-read"]
[workloads.cpu]
kind = "sysbench-cpu"
max_prime = 2000
events = 500
threads = 1
[workloads.disk-read]
kind = "fio"
rw = "read"
block_kib = 1024
file_mib = 16
"#;

/// One workload on one guest platform: a warm-up and a repetition.
const GUEST_SUITE: &str = r#"
name = "forgery-guests"
platforms = ["kvm"]
[defaults]
repetitions = 1
warmups = 1
deadline_s = 60
[experiments.overall]
workloads = ["cpu"]
[workloads.cpu]
kind = "sysbench-cpu"
max_prime = 2000
events = 2000
threads = 1
"#;

pub fn bin(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_BIN_EXE_analyze")).with_file_name(name);
    assert!(
        path.exists(),
        "{} is not built: cargo build -p collect (or run the workspace tests)",
        path.display()
    );
    path
}

/// A real native run folder, made once per test binary by `collect run`.
fn native_original() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("forgery-native-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(&base).expect("mkdir");
        let suite = base.join("forgery.toml");
        std::fs::write(&suite, NATIVE_SUITE).expect("suite");
        let run = base.join("run");
        let out = Command::new(bin("collect"))
            .arg("run")
            .arg("--suite")
            .arg(&suite)
            .args(["--platform", "native", "--label", "forgery"])
            .arg("--out")
            .arg(base.join("out"))
            .arg("--run-dir")
            .arg(&run)
            .output()
            .expect("collect run");
        assert!(
            out.status.success(),
            "collect run: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        run
    })
}

/// A copy of the real native run folder in `dir`, to edit.
pub fn native_copy(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).expect("mkdir");
    let root = dir.join("run");
    let status = Command::new("cp")
        .arg("-a")
        .arg(native_original())
        .arg(&root)
        .status()
        .expect("cp");
    assert!(status.success());
    root
}

fn meta(platforms: &[&str]) -> RunMeta {
    RunMeta {
        tool: Tool {
            name: "collect".into(),
            version: "0.1.0".into(),
            git_commit: None,
        },
        created: "2026-11-25T00:00:00Z".into(),
        host: "h".into(),
        suite: "forgery-guests".into(),
        platforms: platforms.iter().map(|p| (*p).to_owned()).collect(),
        label: "forgery".into(),
    }
}

/// The scalability experiment alone: N = 1 and 2 guests.
const SCALABILITY_SUITE: &str = r#"
name = "forgery-guests"
platforms = ["kvm"]
[defaults]
repetitions = 1
warmups = 0
deadline_s = 60
[experiments.scalability]
workload = "compile"
n_guests = [1, 2]
[workloads.compile]
kind = "tools-compile"
tool = "gpio"
"#;

/// kvm (TCG) running the scalability experiment.
pub fn kvm_scalability_run(dir: &Path) -> PathBuf {
    let fake = Fake::new("kvm").answer("make", "", Status::Ok, 12.5);
    fake_run_of(&dir.join("run"), fake, SCALABILITY_SUITE)
}

/// A run folder the real runner writes on the fake `platform`, with the
/// suite, plan and environment summary collect writes beside it.
fn fake_run(root: &Path, fake: Fake) -> PathBuf {
    fake_run_of(root, fake, GUEST_SUITE)
}

fn fake_run_of(root: &Path, fake: Fake, text: &str) -> PathBuf {
    let name = fake.name;
    let suite = suite::parse(text, Path::new("forgery-guests.toml")).expect("suite");
    let kind = benchvm_core::registry::PlatformKind::parse(name).expect("a known platform");
    let plan = plan::build(&suite, &[kind]);
    let start = Record::Start {
        collect_version: "0.1.0".into(),
        suite_sha256: String::new(),
        suite_path: "forgery-guests.toml".into(),
        runs: plan.runs.len(),
    };
    let folder = RunFolder::create(root, &meta(&[name]), &start).expect("folder");
    let write = |path: &str, bytes: &[u8]| folder.write_file(path, bytes).expect(path);
    write("config/suite.toml", text.as_bytes());
    write(
        "config/plan.json",
        &serde_json::to_vec_pretty(&plan).expect("plan"),
    );
    let fake = fake.recording(root).expect("recording").answer(
        "sysbench",
        include_str!("../../../collect/testdata/sysbench_cpu_t1_events.txt"),
        Status::Ok,
        0.5,
    );
    let mut summary = EnvSummary::default();
    summary.platforms.insert(name.into(), fake.facts());
    write(
        SUMMARY_PATH,
        &serde_json::to_vec_pretty(&summary).expect("summary"),
    );
    let mut platforms: Vec<Box<dyn Platform>> = vec![Box::new(fake)];
    runner::execute(&plan, &mut platforms, None, &folder, &Default::default()).expect("runs");
    folder.finalize().expect("metrics");
    root.to_path_buf()
}

/// The design of the runs: cpu with adaptive repetitions, disk-read fixed,
/// on native and kvm, interleaved.
const DESIGN_SUITE: &str = r#"
name = "forgery-guests"
platforms = ["native", "kvm"]
[defaults]
repetitions = 2
warmups = 1
deadline_s = 60
[experiments.overall]
workloads = ["cpu", "disk-read"]
[workloads.cpu]
kind = "sysbench-cpu"
max_prime = 2000
events = 2000
threads = 1
repetitions = { min = 3, max = 9, target_ci = 0.02 }
[workloads.disk-read]
kind = "fio"
rw = "read"
block_kib = 1024
file_mib = 16
"#;

/// A run folder of [`DESIGN_SUITE`] on fake native and kvm (TCG)
/// platforms in `order`: native's cpu wall times are steady (its lane
/// stops after its first block), kvm's spread (its lane runs to 9), and
/// kvm's steps lose 7.5% of their CPU time to steal.
pub fn design_run(dir: &Path, order: plan::RunOrder) -> PathBuf {
    let root = dir.join("run");
    let suite = suite::parse(DESIGN_SUITE, Path::new("forgery-guests.toml")).expect("suite");
    let kinds = [
        benchvm_core::registry::PlatformKind::Native,
        benchvm_core::registry::PlatformKind::Kvm,
    ];
    let plan = plan::build_with(&suite, &kinds, order);
    let start = Record::Start {
        collect_version: "0.1.0".into(),
        suite_sha256: String::new(),
        suite_path: "forgery-guests.toml".into(),
        runs: plan.runs.len(),
    };
    let folder = RunFolder::create(&root, &meta(&["native", "kvm"]), &start).expect("folder");
    let write = |path: &str, bytes: &[u8]| folder.write_file(path, bytes).expect(path);
    write("config/suite.toml", DESIGN_SUITE.as_bytes());
    write(
        "config/plan.json",
        &serde_json::to_vec_pretty(&plan).expect("plan"),
    );
    let sysbench = include_str!("../../../collect/testdata/sysbench_cpu_t1_events.txt");
    let fio = include_str!("../../../collect/testdata/fio_seqread.json");
    let native = Fake::new("native")
        .answer("sysbench", sysbench, Status::Ok, 0.5)
        .answer("fio", fio, Status::Ok, 1.0);
    let kvm = Fake::new("kvm")
        .recording(&root)
        .expect("recording")
        .answer("sysbench", sysbench, Status::Ok, 0.5)
        .wall_times(
            "sysbench",
            &[1.0, 1.3, 0.8, 1.1, 0.9, 1.2, 1.0, 0.95, 1.05, 1.1],
        )
        .answer("fio", fio, Status::Ok, 1.0)
        .quiet(150, 0);
    let mut summary = EnvSummary::default();
    summary.platforms.insert("native".into(), native.facts());
    summary.platforms.insert("kvm".into(), kvm.facts());
    write(
        SUMMARY_PATH,
        &serde_json::to_vec_pretty(&summary).expect("summary"),
    );
    let mut platforms: Vec<Box<dyn Platform>> = vec![Box::new(native), Box::new(kvm)];
    runner::execute(&plan, &mut platforms, None, &folder, &Default::default()).expect("runs");
    folder.finalize().expect("metrics");
    root
}

/// kvm on a machine without KVM: TCG guests.
pub fn kvm_tcg_run(dir: &Path) -> PathBuf {
    fake_run(&dir.join("run"), Fake::new("kvm"))
}

/// xen PV domUs; `lab`: on a Xen host that itself runs under emulation.
pub fn xen_run(dir: &Path, lab: Option<&str>) -> PathBuf {
    let fake = match lab {
        Some(kind) => Fake::new("xen").lab(kind),
        None => Fake::new("xen"),
    };
    fake_run(&dir.join("run"), fake)
}

/// The forger's edit of `metrics.ndjson`, row by row.
pub fn edit_rows(root: &Path, edit: impl Fn(&mut MetricRow)) {
    edit_table(root, |rows| rows.iter_mut().for_each(&edit));
}

/// The forger's edit of `metrics.ndjson` as a whole.
pub fn edit_table(root: &Path, edit: impl FnOnce(&mut Vec<MetricRow>)) {
    let path = root.join("metrics.ndjson");
    let mut rows = metrics::parse(&std::fs::read(&path).expect("read")).expect("table");
    edit(&mut rows);
    std::fs::write(&path, metrics::to_ndjson(&rows)).expect("write");
}

pub fn edit_json(path: &Path, edit: impl FnOnce(&mut Value)) {
    let mut v: Value = serde_json::from_slice(&std::fs::read(path).expect("read")).expect("json");
    edit(&mut v);
    std::fs::write(path, serde_json::to_vec_pretty(&v).expect("json")).expect("write");
}

/// Adds `platform` to the platforms the manifest, the plan and the
/// settings list.
pub fn add_platform(root: &Path, platform: &str) {
    for file in ["meta.json", "config/plan.json", "config/settings.json"] {
        let path = root.join(file);
        if path.exists() {
            edit_json(&path, |v| {
                v["platforms"]
                    .as_array_mut()
                    .expect("platforms")
                    .push(platform.into())
            });
        }
    }
}

/// Moves a run folder, and its rows and run.json with it.
pub fn move_run(root: &Path, from: &str, to: &str) {
    let platform = to.split('/').nth(1).expect("platform").to_owned();
    let accel = if platform == "kvm" { "kvm" } else { "xen-pv" };
    std::fs::create_dir_all(root.join(to).parent().expect("parent")).expect("mkdir");
    std::fs::rename(root.join(from), root.join(to)).expect("move");
    edit_json(&root.join(to).join("run.json"), |v| {
        v["platform"] = platform.clone().into();
        v["accel"] = accel.into();
    });
    edit_rows(root, |r| {
        if r.run == from {
            r.run = to.into();
            r.platform = platform.clone();
            r.accel = accel.into();
        }
    });
}

/// Changes the platform of the planned run at `folder`.
pub fn edit_plan_run(root: &Path, folder: &str, platform: &str) {
    let rep: String = folder.rsplit('/').next().expect("rep").into();
    let workload: String = folder.split('/').nth(3).expect("workload").into();
    edit_json(&root.join("config/plan.json"), |v| {
        for run in v["runs"].as_array_mut().expect("runs") {
            let index = run["phase"]["index"].as_u64().expect("index");
            if run["workload"]["name"] == workload.as_str()
                && run["phase"]["kind"] == "rep"
                && format!("rep-{index:02}") == rep
            {
                run["platform"] = platform.into();
            }
        }
    });
}

/// Removes the planned run at `folder` from the plan.
pub fn drop_plan_run(root: &Path, folder: &str) {
    let plan: plan::Plan =
        serde_json::from_slice(&std::fs::read(root.join("config/plan.json")).expect("read"))
            .expect("plan");
    let keep: Vec<bool> = plan.runs.iter().map(|r| r.folder() != folder).collect();
    edit_json(&root.join("config/plan.json"), |v| {
        let runs = v["runs"].as_array_mut().expect("runs");
        let mut i = 0;
        runs.retain(|_| {
            i += 1;
            keep[i - 1]
        });
    });
}

/// Every file named `name` under `runs/`.
pub fn run_files(root: &Path, name: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.join("runs")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n == name) {
                out.push(path);
            }
        }
    }
    out
}

/// Files of `dir` whose name ends with `suffix`.
pub fn files_in(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect()
}

/// `collect pack ROOT -o ROOT.tar.zst`, as the forger would.
pub fn pack(root: &Path) -> PathBuf {
    let bundle = root.with_extension("tar.zst");
    let out = Command::new(bin("collect"))
        .arg("pack")
        .arg(root)
        .arg("-o")
        .arg(&bundle)
        .output()
        .expect("collect pack");
    assert!(
        out.status.success(),
        "collect pack: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    bundle
}

/// What `analyze verify` said.
#[derive(Debug)]
pub struct Verdict {
    pub ok: bool,
    pub code: Option<i32>,
    pub text: String,
}

impl Verdict {
    /// Asserts a refusal (exit 1) whose message holds every one of `needed`.
    #[track_caller]
    pub fn refused(&self, needed: &[&str]) {
        assert_eq!(self.code, Some(1), "not refused:\n{}", self.text);
        for n in needed {
            assert!(self.text.contains(n), "{n:?} not in:\n{}", self.text);
        }
        for debug in ["Some(", "None", "Ok", "Dnr", "Failed"] {
            assert!(
                !self.text.contains(debug),
                "a Rust debug form {debug:?} in:\n{}",
                self.text
            );
        }
    }
}

fn analyze(args: &[&str], bundle: &Path) -> Verdict {
    let out = Command::new(bin("analyze"))
        .args(args)
        .arg(bundle)
        .output()
        .expect("analyze");
    Verdict {
        ok: out.status.success(),
        code: out.status.code(),
        text: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

pub fn verify(bundle: &Path) -> Verdict {
    analyze(&["verify"], bundle)
}

pub fn rederive(bundle: &Path) -> Verdict {
    analyze(&["verify", "--rederive"], bundle)
}
