//! collect's command-line conventions, run as a user runs them: exit
//! statuses (0, 2 for usage, 3 for failures), `pack --out` (and the old
//! `--output`), `--json` of `pack` and `import`, `keygen` with and without
//! a password and `sign` with an encrypted key, shell completions and man
//! pages made from the clap definitions.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use benchvm_format::env::{EnvSummary, SUMMARY_PATH};
use benchvm_format::metrics::{to_ndjson, Direction, MetricRow, Status, Unit};
use benchvm_format::{RunMeta, Tool};
use serde_json::Value;

fn collect(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_collect"));
    c.args(args)
        .env_remove("BENCHVM_KEY_PASSWORD")
        .env_remove("RUST_LOG");
    c
}

fn run(c: &mut Command) -> Output {
    c.output().expect("spawn collect")
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn json(out: &Output) -> Value {
    assert!(out.status.success(), "{}", text(out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "one line of JSON: {stdout}");
    serde_json::from_str(&stdout).expect("stdout is JSON")
}

/// A finished run folder of one native sysbench workload: two runs, one
/// of them failed.
fn run_folder(dir: &Path, label: &str) -> PathBuf {
    let run_dir = dir.join(label);
    std::fs::create_dir_all(run_dir.join("env")).expect("mkdir");
    let meta = RunMeta {
        tool: Tool {
            name: "collect".into(),
            version: "0.1.0".into(),
            git_commit: None,
        },
        created: "2026-12-01T10:00:00Z".into(),
        host: "lab-01".into(),
        suite: "cli-test".into(),
        platforms: vec!["native".into()],
        label: label.into(),
    };
    let rows: Vec<MetricRow> = [(1, Some(1500.0)), (2, None)]
        .into_iter()
        .map(|(rep, value)| MetricRow {
            platform: "native".into(),
            accel: "none".into(),
            emulated: false,
            experiment: "overall".into(),
            workload: "cpu".into(),
            metric: "events_per_s".into(),
            unit: Unit::EVENTS_PER_SECOND,
            direction: Direction::Higher,
            repetition: rep,
            guest: None,
            n_guests: None,
            stressor: None,
            role: None,
            status: if value.is_some() {
                Status::Ok
            } else {
                Status::Failed
            },
            value,
            run: format!("runs/native/overall/cpu/rep-{rep:02}"),
        })
        .collect();
    let summary = EnvSummary {
        host: "lab-01".into(),
        ..Default::default()
    };
    let write = |name: &str, bytes: Vec<u8>| std::fs::write(run_dir.join(name), bytes);
    write("meta.json", serde_json::to_vec(&meta).expect("meta")).expect("meta.json");
    write("metrics.ndjson", to_ndjson(&rows)).expect("metrics");
    write(SUMMARY_PATH, serde_json::to_vec(&summary).expect("env")).expect("summary");
    run_dir
}

#[test]
fn pack_out_and_its_old_name_output_write_the_same_bundle_and_json_says_what() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let run_dir = run_folder(tmp.path(), "cli run");
    let first = tmp.path().join("first.tar.zst");
    let v = json(&run(collect(&["pack", "--json", "--out"])
        .arg(&first)
        .arg(&run_dir)));
    let bundle = benchvm_format::read::open(&first, &Default::default(), &|_| false)
        .expect("the bundle verifies");
    assert_eq!(v["path"], first.display().to_string());
    assert_eq!(v["id"], bundle.id.hex());
    assert_eq!(v["files"], bundle.manifest.files.len() + 1);
    let size = std::fs::metadata(&first).expect("stat").len();
    assert_eq!(v["bytes"], size);

    // `--output`, the flag's old name, still works (text output).
    let second = tmp.path().join("second.tar.zst");
    let out = run(collect(&["pack", "--output"]).arg(&second).arg(&run_dir));
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("bundle {}", second.display())),
        "{stdout}"
    );
    assert!(stdout.contains(&bundle.id.to_string()), "same id: {stdout}");
    assert_eq!(std::fs::read(&first).ok(), std::fs::read(&second).ok());
}

#[test]
fn import_json_names_each_bundle_with_its_rows() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/import");
    let v = json(&run(collect(&["import", "hyperfine", "--json", "--meta"])
        .arg(data.join("one-platform.toml"))
        .arg("--out")
        .arg(tmp.path())
        .arg(data.join("hyperfine.json"))));
    let bundles = v["bundles"].as_array().expect("bundles");
    assert_eq!(bundles.len(), 1, "{v}");
    let b = &bundles[0];
    let path = PathBuf::from(b["path"].as_str().expect("path"));
    let bundle = benchvm_format::read::open(&path, &Default::default(), &|_| false)
        .expect("the bundle verifies");
    assert_eq!(b["id"], bundle.id.hex());
    assert!(!bundle.metrics.is_empty());
    assert_eq!(b["rows"], bundle.metrics.len());
    assert!(b["notes"].is_array(), "{b}");
}

#[test]
fn exit_statuses_tell_usage_errors_from_failures() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = run(&mut collect(&["pack", "--no-such-flag", "x"]));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = run(collect(&["pack"]).arg(tmp.path().join("missing")));
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).starts_with("error: "),
        "{}",
        text(&out)
    );
    let out = run(&mut collect(&["-q", "-v", "man"]));
    assert_eq!(
        out.status.code(),
        Some(2),
        "-q and -v conflict: {}",
        text(&out)
    );
    let help = run(&mut collect(&["--help"]));
    let help = String::from_utf8_lossy(&help.stdout);
    for needed in ["Exit status:", "  3    runtime failure", "RUST_LOG", "-vv"] {
        assert!(help.contains(needed), "{needed:?} not in\n{help}");
    }
}

#[test]
fn keygen_asks_for_a_password_or_says_it_is_unencrypted() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let prefix = tmp.path().join("alice");

    // No terminal, no password variable, no --unencrypted: refused.
    let out = run(collect(&["keygen", "--out"]).arg(&prefix));
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("BENCHVM_KEY_PASSWORD"), "{err}");
    assert!(err.contains("--unencrypted"), "{err}");
    assert!(!prefix.with_extension("key").exists(), "nothing written");

    let out = run(collect(&["keygen", "--unencrypted", "--out"]).arg(&prefix));
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("(unencrypted: anybody who can read it"),
        "{}",
        text(&out)
    );
    let secret = std::fs::read_to_string(prefix.with_extension("key")).expect("key");
    assert!(!benchvm_format::sign::is_encrypted(&secret));
}

#[test]
fn an_encrypted_key_signs_only_with_its_password() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let prefix = tmp.path().join("bob");
    let out = run(collect(&["keygen", "--out"])
        .arg(&prefix)
        .env("BENCHVM_KEY_PASSWORD", "correct horse"));
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("(encrypted"),
        "{}",
        text(&out)
    );
    let key = prefix.with_extension("key");
    let secret = std::fs::read_to_string(&key).expect("key");
    assert!(benchvm_format::sign::is_encrypted(&secret));

    let run_dir = run_folder(tmp.path(), "signed run");
    let bundle = tmp.path().join("signed.tar.zst");
    let packed = run(collect(&["pack", "--out"]).arg(&bundle).arg(&run_dir));
    assert!(packed.status.success(), "{}", text(&packed));
    let sign = |password: Option<&str>| {
        let mut c = collect(&["sign", "--key"]);
        c.arg(&key).arg(&bundle);
        if let Some(p) = password {
            c.env("BENCHVM_KEY_PASSWORD", p);
        }
        run(&mut c)
    };
    let out = sign(None);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is encrypted"),
        "{}",
        text(&out)
    );
    let out = sign(Some("wrong"));
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("wrong password"),
        "{}",
        text(&out)
    );
    let out = sign(Some("correct horse"));
    assert!(out.status.success(), "{}", text(&out));
    let sig = std::fs::read_to_string(benchvm_format::sign::signature_path(&bundle)).expect("sig");
    let public = std::fs::read_to_string(prefix.with_extension("pub")).expect("pub");
    let verified = benchvm_format::read::open(&bundle, &Default::default(), &|_| false)
        .expect("the bundle verifies");
    benchvm_format::sign::verify(&verified.manifest_bytes, &sig, &public)
        .expect("the signature verifies with the public key");
}

#[test]
fn completions_and_man_pages_name_the_commands() {
    for shell in ["bash", "zsh", "fish"] {
        let out = run(&mut collect(&["completions", shell]));
        assert!(out.status.success(), "{}", text(&out));
        let script = String::from_utf8_lossy(&out.stdout);
        for command in [
            "run",
            "pack",
            "import",
            "keygen",
            "sign",
            "push",
            "completions",
        ] {
            assert!(script.contains(command), "{shell}: {command} missing");
        }
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("man1");
    let out = run(collect(&["man", "--out"]).arg(&dir));
    assert!(out.status.success(), "{}", text(&out));
    for page in [
        "collect.1",
        "collect-run.1",
        "collect-pack.1",
        "collect-import-csv.1",
        "collect-keygen.1",
    ] {
        let roff =
            std::fs::read_to_string(dir.join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(roff.starts_with(".ie"), "{page} is roff: {roff:.60}");
    }
    assert!(!dir.join("collect-guest-agent.1").exists());
    let top = std::fs::read_to_string(dir.join("collect.1")).expect("collect.1");
    assert!(top.contains("Exit status"), "after_help in the page");
    let printed = run(&mut collect(&["man"]));
    assert_eq!(String::from_utf8_lossy(&printed.stdout), top);
}
