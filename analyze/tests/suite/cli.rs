//! analyze's command-line conventions, run as a user runs them: exit
//! statuses (1 a negative result, 2 usage, 3 failure), `--json` of
//! `verify`, `show` and `diff` checked against the bundles, `show`
//! counting runs (not metric rows), `diff` showing but not counting the
//! label and creation time, `compare -a/-b`, and completions, man pages
//! and scripts/install.sh.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use benchvm_format::metrics::{MetricRow, Status, Unit};
use benchvm_format::write::{plan, Content, Source};
use benchvm_format::{RunMeta, Tool};
use serde_json::Value;

use crate::common::*;

fn analyze(args: &[&str], paths: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_analyze"))
        .args(args)
        .args(paths)
        .env_remove("RUST_LOG")
        .output()
        .expect("spawn analyze")
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// One workload with two metrics per run: three runs, the last with one
/// metric failed: 2 ok and 1 failed runs, 5 ok and 1 failed metric rows.
fn two_metric_rows() -> Vec<MetricRow> {
    let mut rows = Vec::new();
    for rep in 1..=3 {
        for metric in ["read_iops", "write_iops"] {
            let value = (rep < 3 || metric == "read_iops").then_some(1000.0 + f64::from(rep));
            let mut r = row(NATIVE, "disk", metric, Unit::EVENTS_PER_SECOND, rep, value);
            r.run = format!("runs/native/overall/disk/rep-{rep:02}");
            rows.push(r);
        }
    }
    rows
}

/// A bundle of `rows` labelled `label` and created at `created`.
fn bundle_at(dir: &Path, label: &str, created: &str, rows: &[MetricRow]) -> PathBuf {
    let env = summary("lab-01", "AMD EPYC 7B13", "6.1.0-28-amd64", &[NATIVE]);
    let meta = RunMeta {
        tool: Tool {
            name: "collect".into(),
            version: "0.1.0".into(),
            git_commit: None,
        },
        created: created.into(),
        host: env.host.clone(),
        suite: "synthetic".into(),
        platforms: vec!["native".into()],
        label: label.into(),
    };
    let sources = vec![
        Source {
            path: benchvm_format::metrics::METRICS_PATH.into(),
            content: Content::Bytes(benchvm_format::metrics::to_ndjson(rows)),
        },
        Source {
            path: benchvm_format::env::SUMMARY_PATH.into(),
            content: Content::Bytes(serde_json::to_vec(&env).expect("env")),
        },
    ];
    let planned = plan(meta, sources).expect("plan");
    let path = dir.join(benchvm_format::manifest::file_name(label, &planned.id));
    let file = std::fs::File::create(&path).expect("create");
    planned.write(std::io::BufWriter::new(file)).expect("write");
    path
}

fn id_of(path: &Path) -> String {
    benchvm_format::read::open(path, &Default::default(), &|_| false)
        .expect("verifies")
        .id
        .hex()
}

#[test]
fn show_counts_runs_not_metric_rows_in_text_and_json() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let rows = two_metric_rows();
    assert_eq!(rows.iter().filter(|r| r.status == Status::Ok).count(), 5);
    let b = bundle_at(tmp.path(), "two metrics", "2026-12-01T10:00:00Z", &rows);

    let out = analyze(&["show"], &[&b]);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("runs by status (run folders; 6 metric rows):"),
        "{stdout}"
    );
    let line = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("native"))
        .expect("a native line");
    let counts: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        counts,
        ["native", "none", "overall", "2", "1", "0"],
        "{line}"
    );

    let out = analyze(&["show", "--json"], &[&b]);
    assert!(out.status.success(), "{}", text(&out));
    let v = &json_lines(&out)[0];
    assert_eq!(v["id"], id_of(&b));
    assert_eq!(v["label"], "two metrics");
    assert_eq!(v["created"], "2026-12-01T10:00:00Z");
    assert_eq!(v["metric_rows"], 6);
    assert_eq!(v["environment"]["cpu_model"], "AMD EPYC 7B13");
    let runs = v["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1, "{v}");
    assert_eq!(
        (
            &runs[0]["platform"],
            &runs[0]["ok"],
            &runs[0]["failed"],
            &runs[0]["dnr"]
        ),
        (
            &Value::from("native"),
            &Value::from(2),
            &Value::from(1),
            &Value::from(0)
        )
    );
}

#[test]
fn diff_shows_label_and_created_but_does_not_count_them() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let rows = two_metric_rows();
    let monday = bundle_at(tmp.path(), "monday", "2026-11-30T09:00:00Z", &rows);
    let tuesday = bundle_at(tmp.path(), "tuesday", "2026-12-01T09:00:00Z", &rows);

    let out = analyze(&["diff"], &[&monday, &tuesday]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("same environment"), "{stdout}");
    let (_, ignored) = stdout
        .split_once("not counted")
        .expect("a not-counted part");
    for needed in ["manifest.created", "2026-11-30T09:00:00Z", "manifest.label"] {
        assert!(ignored.contains(needed), "{needed:?} not in\n{stdout}");
    }

    let out = analyze(&["diff", "--json"], &[&monday, &tuesday]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v = &json_lines(&out)[0];
    assert_eq!(v["same"], true);
    assert_eq!(v["a"]["id"], id_of(&monday));
    assert_eq!(v["b"]["id"], id_of(&tuesday));
    assert_eq!(v["differences"].as_array().map(Vec::len), Some(0), "{v}");
    let fields: Vec<&str> = v["not_counted"]
        .as_array()
        .expect("not_counted")
        .iter()
        .filter_map(|c| c["field"].as_str())
        .collect();
    assert_eq!(fields, ["manifest.created", "manifest.label"]);
    assert_eq!(v["not_counted"][0]["b"], "2026-12-01T09:00:00Z");
}

#[test]
fn diff_json_counts_what_differs_and_exits_1() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let rows = two_metric_rows();
    let a = bundle_at(tmp.path(), "here", "2026-12-01T09:00:00Z", &rows);
    let env = summary(
        "lab-02",
        "Intel Xeon Gold 6338",
        "6.1.0-28-amd64",
        &[NATIVE],
    );
    let b = write_bundle(tmp.path(), "there", &env, &rows);
    let out = analyze(&["diff", "--json"], &[&a, &b]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let v = &json_lines(&out)[0];
    assert_eq!(v["same"], false);
    let cpu = v["differences"]
        .as_array()
        .expect("differences")
        .iter()
        .find(|c| c["field"] == "summary.cpu_model")
        .expect("cpu_model differs");
    assert_eq!(
        (&cpu["a"], &cpu["b"]),
        (
            &Value::from("AMD EPYC 7B13"),
            &Value::from("Intel Xeon Gold 6338")
        )
    );
}

#[test]
fn verify_json_is_one_line_per_bundle_and_exit_1_when_one_fails() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let good = bundle_at(
        tmp.path(),
        "good",
        "2026-12-01T09:00:00Z",
        &two_metric_rows(),
    );
    let bad = tmp.path().join("bad.tar.zst");
    std::fs::write(&bad, b"not a bundle").expect("write");
    let out = analyze(&["verify", "--json"], &[&good, &bad]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 2, "{}", text(&out));
    let ok = &lines[0];
    let opened =
        benchvm_format::read::open(&good, &Default::default(), &|_| false).expect("verifies");
    assert_eq!(ok["ok"], true);
    assert_eq!(ok["bundle"], good.display().to_string());
    assert_eq!(ok["id"], opened.id.hex());
    assert_eq!(ok["files"], opened.manifest.files.len() + 1);
    assert_eq!(ok["metric_rows"], 6);
    assert_eq!(ok["rows_by_status"]["failed"], 1);
    assert_eq!(lines[1]["ok"], false);
    assert_eq!(lines[1]["bundle"], bad.display().to_string());
    assert!(lines[1]["error"].as_str().is_some_and(|e| !e.is_empty()));
}

#[test]
fn exit_statuses_and_their_help() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = analyze(&["verify", "--no-such-flag"], &[tmp.path()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = analyze(&["show"], &[&tmp.path().join("missing.tar.zst")]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let help = analyze(&["--help"], &[]);
    let help = String::from_utf8_lossy(&help.stdout);
    for needed in [
        "Exit status:",
        "  1    a negative result",
        "  2    usage error",
        "  3    runtime failure",
        "RUST_LOG",
    ] {
        assert!(help.contains(needed), "{needed:?} not in\n{help}");
    }
}

#[test]
fn compare_takes_short_a_and_b() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let rows = two_metric_rows();
    let a = bundle_at(tmp.path(), "a", "2026-12-01T09:00:00Z", &rows);
    let b = bundle_at(tmp.path(), "b", "2026-12-02T09:00:00Z", &rows);
    let out = Command::new(env!("CARGO_BIN_EXE_analyze"))
        .args(["compare", "--format", "csv", "-a"])
        .arg(&a)
        .arg("-b")
        .arg(&b)
        .output()
        .expect("spawn");
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("disk,read_iops"), "{stdout}");
}

#[test]
fn v_shows_debug_messages_and_rust_log_wins_over_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let rows = two_metric_rows();
    let a = bundle_at(tmp.path(), "a", "2026-12-01T09:00:00Z", &rows);
    let b = bundle_at(tmp.path(), "b", "2026-12-02T09:00:00Z", &rows);
    let compare = |flags: &[&str], rust_log: Option<&str>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_analyze"));
        c.args(flags)
            .args(["compare", "-a"])
            .arg(&a)
            .arg("-b")
            .arg(&b)
            .env_remove("RUST_LOG");
        if let Some(filter) = rust_log {
            c.env("RUST_LOG", filter);
        }
        let out = c.output().expect("spawn");
        assert!(out.status.success(), "{}", text(&out));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    // The loader's timing is a debug message.
    let timing = "(summed over threads)";
    assert!(!compare(&[], None).contains(timing));
    assert!(compare(&["-v"], None).contains(timing));
    assert!(!compare(&["-v"], Some("warn")).contains(timing));
    assert!(compare(&["-q"], Some("debug")).contains(timing));
}

/// The install script with binaries already built: both tools, their man
/// pages and their completions land under the prefix.
#[test]
fn install_script_installs_completions_and_man_pages() {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_analyze"))
        .parent()
        .expect("bin dir");
    assert!(
        bin_dir.join("collect").exists(),
        "collect is not built beside analyze: cargo build -p collect"
    );
    let prefix = tempfile::tempdir().expect("tempdir");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/install.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg("--prefix")
        .arg(prefix.path())
        .arg("--bin-dir")
        .arg(bin_dir)
        .output()
        .expect("spawn install.sh");
    assert!(out.status.success(), "{}", text(&out));
    let share = prefix.path().join("share");
    for tool in ["collect", "analyze"] {
        assert!(prefix.path().join("bin").join(tool).exists());
        let bash = std::fs::read_to_string(share.join("bash-completion/completions").join(tool))
            .expect("bash completion");
        let zsh =
            std::fs::read_to_string(share.join("zsh/site-functions").join(format!("_{tool}")))
                .expect("zsh completion");
        let fish = std::fs::read_to_string(
            share
                .join("fish/vendor_completions.d")
                .join(format!("{tool}.fish")),
        )
        .expect("fish completion");
        let man = share.join("man/man1");
        let commands: &[&str] = if tool == "collect" {
            &["run", "pack", "keygen", "completions", "man"]
        } else {
            &["verify", "report", "show", "diff", "compare", "completions"]
        };
        for c in commands {
            for (shell, script) in [("bash", &bash), ("zsh", &zsh), ("fish", &fish)] {
                assert!(script.contains(c), "{tool} {shell}: {c} missing");
            }
            let page = man.join(format!("{tool}-{c}.1"));
            assert!(page.exists(), "{} missing", page.display());
        }
        assert!(man.join(format!("{tool}.1")).exists());
    }
}
