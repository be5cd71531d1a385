//! Who made a bundle and whether its table tells the truth: minisign
//! signatures (`collect keygen`/`sign`, `analyze verify --trusted-key`) and
//! `analyze verify --rederive` against an edited, re-hashed metrics table.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use benchvm_format::metrics::Status;
use benchvm_format::{RunMeta, Tool};
use collect::journal::Record;
use collect::platform::fake::Fake;
use collect::platform::Platform;
use collect::runfolder::RunFolder;
use collect::{plan, runner, suite};

const SUITE: &str = r#"
name = "integrity"
platforms = ["native"]
[defaults]
repetitions = 3
warmups = 1
deadline_s = 10
[experiments.overall]
workloads = ["cpu", "disk-read"]
[workloads.cpu]
kind = "sysbench-cpu"
max_prime = 2000
events = 2000
threads = 1
[workloads.disk-read]
kind = "fio"
rw = "read"
block_kib = 1024
file_mib = 64
"#;

fn bin(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_BIN_EXE_analyze")).with_file_name(name);
    assert!(
        path.exists(),
        "{} is not built: run the workspace tests",
        path.display()
    );
    path
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("spawn")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A run folder made by the real runner on the fake platform, with real
/// sysbench and fio output.
fn run_folder(dir: &Path) -> PathBuf {
    let suite = suite::parse(SUITE, Path::new("integrity.toml")).expect("suite");
    let plan = plan::build(&suite, &[benchvm_core::registry::PlatformKind::Native]);
    let meta = RunMeta {
        tool: Tool {
            name: "collect".into(),
            version: "0.1.0".into(),
            git_commit: None,
        },
        created: "2026-11-25T00:00:00Z".into(),
        host: "h".into(),
        suite: "integrity".into(),
        platforms: vec!["native".into()],
        label: "integrity".into(),
    };
    let start = Record::Start {
        collect_version: "0.1.0".into(),
        suite_sha256: String::new(),
        suite_path: "x".into(),
        runs: plan.runs.len(),
    };
    let root = dir.join("run");
    let folder = RunFolder::create(&root, &meta, &start).expect("folder");
    folder
        .write_file(
            "config/plan.json",
            &serde_json::to_vec(&plan).expect("plan"),
        )
        .expect("plan");
    folder
        .write_file("config/suite.toml", SUITE.as_bytes())
        .expect("suite");
    let fake = Fake::new("native")
        .answer(
            "sysbench",
            include_str!("../../collect/testdata/sysbench_cpu_t1_events.txt"),
            Status::Ok,
            0.5,
        )
        .answer(
            "fio",
            include_str!("../../collect/testdata/fio_seqread.json"),
            Status::Ok,
            0.2,
        );
    let mut summary = benchvm_format::EnvSummary::default();
    summary.platforms.insert("native".into(), fake.facts());
    folder
        .write_file(
            benchvm_format::env::SUMMARY_PATH,
            &serde_json::to_vec(&summary).expect("summary"),
        )
        .expect("summary");
    let mut platforms: Vec<Box<dyn Platform>> = vec![Box::new(fake)];
    runner::execute(&plan, &mut platforms, None, &folder, &Default::default()).expect("runs");
    folder.finalize().expect("metrics");
    root
}

fn pack(run_dir: &Path, dest: &Path) {
    benchvm_format::rundir::pack(run_dir, Some(dest), dest.parent().expect("dir")).expect("pack");
}

#[test]
fn rederive_passes_on_a_real_table_and_catches_an_edited_one() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = run_folder(tmp.path());
    let good = tmp.path().join("good.tar.zst");
    pack(&root, &good);
    let out = run(Command::new(bin("analyze"))
        .args(["verify", "--rederive"])
        .arg(&good));
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("re-derived all 9 rows from the raw files (9 values parsed again)"),
        "{}",
        text(&out)
    );

    // Make events/s of rep 2 look 10% better, then re-pack: every hash is
    // consistent again, only the raw output tells.
    let metrics = root.join("metrics.ndjson");
    let table = std::fs::read_to_string(&metrics).expect("table");
    let line = table
        .lines()
        .find(|l| l.contains("\"events_per_sec\"") && l.contains("\"repetition\":2"))
        .expect("row");
    let value: f64 = line
        .split("\"value\":")
        .nth(1)
        .and_then(|v| v.split(',').next())
        .and_then(|v| v.parse().ok())
        .expect("value");
    std::fs::write(
        &metrics,
        table.replace(
            line,
            &line.replace(
                &format!("\"value\":{value}"),
                &format!("\"value\":{}", value * 1.1),
            ),
        ),
    )
    .expect("edit");
    let edited = tmp.path().join("edited.tar.zst");
    pack(&root, &edited);
    let out = run(Command::new(bin("analyze")).arg("verify").arg(&edited));
    assert!(
        out.status.success(),
        "hash checks alone cannot see the edit: {}",
        text(&out)
    );
    let out = run(Command::new(bin("analyze"))
        .args(["verify", "--rederive"])
        .arg(&edited));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("(native overall cpu events_per_sec rep 2): value is") && t.contains("rep-02"),
        "{t}"
    );
}

#[test]
fn signatures_round_trip_and_refuse_strangers_and_changes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = run_folder(tmp.path());
    let bundle = tmp.path().join("b.tar.zst");
    pack(&root, &bundle);
    for name in ["alice", "mallory"] {
        let out = run(Command::new(bin("collect"))
            .args(["keygen", "--unencrypted", "--out"])
            .arg(tmp.path().join(name)));
        assert!(out.status.success(), "{}", text(&out));
    }
    let key = |n: &str, ext: &str| tmp.path().join(format!("{n}.{ext}"));
    let verify = |b: &Path, pubkey: &str| {
        run(Command::new(bin("analyze"))
            .arg("verify")
            .arg("--trusted-key")
            .arg(key(pubkey, "pub"))
            .arg(b))
    };

    // Unsigned: fine without a key, refused when one is required.
    assert!(run(Command::new(bin("analyze")).arg("verify").arg(&bundle))
        .status
        .success());
    let out = verify(&bundle, "alice");
    assert!(
        !out.status.success() && text(&out).contains("no signature at"),
        "{}",
        text(&out)
    );

    let out = run(Command::new(bin("collect"))
        .arg("sign")
        .arg(&bundle)
        .arg("--key")
        .arg(key("alice", "key")));
    assert!(out.status.success(), "{}", text(&out));
    let out = verify(&bundle, "alice");
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("signed by key"), "{}", text(&out));
    let out = verify(&bundle, "mallory");
    assert!(
        !out.status.success() && text(&out).contains("not by the trusted key"),
        "{}",
        text(&out)
    );

    // The same signature next to a changed bundle.
    std::fs::write(
        root.join("runs/native/overall/cpu/rep-01/stdout.log"),
        "tampered\n",
    )
    .expect("tamper");
    let changed = tmp.path().join("changed.tar.zst");
    pack(&root, &changed);
    std::fs::copy(
        benchvm_format::sign::signature_path(&bundle),
        benchvm_format::sign::signature_path(&changed),
    )
    .expect("copy sig");
    let out = verify(&changed, "alice");
    assert!(
        !out.status.success() && text(&out).contains("does not match this manifest"),
        "{}",
        text(&out)
    );
}

/// Runs `cmd`, killing it when it takes longer than `limit`.
fn run_within(cmd: &mut Command, limit: std::time::Duration) -> Output {
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let started = std::time::Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} still ran after {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

#[test]
fn signature_and_key_files_are_checked_before_they_are_trusted() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = run_folder(tmp.path());
    let bundle = tmp.path().join("b.tar.zst");
    pack(&root, &bundle);
    let prefix = tmp.path().join("alice");
    let out = run(Command::new(bin("collect"))
        .args(["keygen", "--unencrypted", "--out"])
        .arg(&prefix));
    assert!(out.status.success(), "{}", text(&out));
    let (secret, public) = (prefix.with_extension("key"), prefix.with_extension("pub"));

    // The public key where the secret key is wanted, and the other way.
    let out = run(Command::new(bin("collect"))
        .arg("sign")
        .arg(&bundle)
        .arg("--key")
        .arg(&public));
    let t = text(&out);
    assert_eq!(out.status.code(), Some(3), "{t}");
    assert!(
        t.contains("alice.pub: a minisign public key, where the secret key is wanted"),
        "{t}"
    );
    assert!(!t.contains("failed to fill whole buffer"), "{t}");
    let out = run(Command::new(bin("collect"))
        .arg("sign")
        .arg(&bundle)
        .arg("--key")
        .arg(&secret));
    assert!(out.status.success(), "{}", text(&out));
    let verify = |key: &Path| {
        run_within(
            Command::new(bin("analyze"))
                .arg("verify")
                .arg("--trusted-key")
                .arg(key)
                .arg(&bundle),
            std::time::Duration::from_secs(20),
        )
    };
    let t = text(&verify(&secret));
    assert!(
        t.contains("a minisign secret key, where the trusted public key is wanted"),
        "{t}"
    );
    assert!(verify(&public).status.success());

    // Trailing junk after the signature: nothing after it is signed.
    let sig = benchvm_format::sign::signature_path(&bundle);
    let good = std::fs::read(&sig).expect("sig");
    std::fs::write(&sig, [good.as_slice(), b"more text\n"].concat()).expect("junk");
    let out = verify(&public);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("a signature file holds 4 lines, this one 5"),
        "{}",
        text(&out)
    );

    // 200 MB of signature: refused by its size, before reading it.
    std::fs::File::create(&sig)
        .and_then(|f| f.set_len(200 << 20))
        .expect("sparse");
    let out = verify(&public);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("over 16384 bytes, more than a minisign signature ever holds"),
        "{}",
        text(&out)
    );

    // A FIFO nobody writes to: refused at once, not waited on forever.
    std::fs::remove_file(&sig).expect("rm");
    let made = Command::new("mkfifo").arg(&sig).status().expect("mkfifo");
    assert!(made.success());
    let out = verify(&public);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("a FIFO (named pipe), not a regular file (refused before reading it)"),
        "{}",
        text(&out)
    );
    let out = run_within(
        Command::new(bin("analyze"))
            .arg("verify")
            .arg("--trusted-key")
            .arg("/dev/zero")
            .arg(&bundle),
        std::time::Duration::from_secs(20),
    );
    assert!(
        text(&out).contains("the trusted key /dev/zero: a character device, not a regular file"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_failure_says_each_cause_once() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = run(Command::new(bin("analyze"))
        .arg("verify")
        .arg(tmp.path().join("missing.tar.zst")));
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert_eq!(
        t.matches("No such file or directory (os error 2)").count(),
        1,
        "{t}"
    );
}
