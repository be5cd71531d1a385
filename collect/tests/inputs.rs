//! Files collect reads whole (suites, import metadata, a run folder's
//! `meta.json`) are read only when they are small regular files: a FIFO or
//! a device is refused before a byte is read, so nothing blocks or grows
//! without bound; each refusal names the file and says what it is.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/import")
        .join(name)
}

/// Runs collect with `args`, failing the test if it takes over 20 s.
fn collect(args: &[&Path]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_collect"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("collect {args:?} still ran after 20 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out: Output = child.wait_with_output().expect("output");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

fn fifo(path: &Path) {
    let made = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(made.success());
}

#[test]
fn a_device_or_a_fifo_is_not_a_suite() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pipe = tmp.path().join("suite.toml");
    fifo(&pipe);
    for (suite, kind) in [
        (Path::new("/dev/zero"), "a character device"),
        (pipe.as_path(), "a FIFO (named pipe)"),
    ] {
        let (code, text) = collect(&[
            Path::new("run"),
            Path::new("--suite"),
            suite,
            Path::new("--out"),
            tmp.path(),
        ]);
        assert_eq!(code, Some(3), "{text}");
        assert!(
            text.contains(&format!(
                "{}: (file): {kind}, not a regular file (refused before reading it)",
                suite.display()
            )),
            "{text}"
        );
    }
}

#[test]
fn import_metadata_must_be_a_small_regular_file() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pipe = tmp.path().join("meta.toml");
    fifo(&pipe);
    let big = tmp.path().join("big.toml");
    std::fs::File::create(&big)
        .and_then(|f| f.set_len(200 << 20))
        .expect("sparse");
    for (meta, why) in [
        (
            Path::new("/dev/zero"),
            "a character device, not a regular file",
        ),
        (pipe.as_path(), "a FIFO (named pipe), not a regular file"),
        (
            big.as_path(),
            "over 1048576 bytes, more than a metadata file ever holds",
        ),
    ] {
        let (code, text) = collect(&[
            Path::new("import"),
            Path::new("csv"),
            &data("results.csv"),
            Path::new("--meta"),
            meta,
            Path::new("--out"),
            tmp.path(),
        ]);
        assert_eq!(code, Some(3), "{text}");
        assert!(
            text.contains(&format!("{}: {why}", meta.display())),
            "{text}"
        );
    }
}

#[test]
fn a_run_folder_whose_meta_json_is_a_fifo_is_not_packed() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let run = tmp.path().join("run");
    std::fs::create_dir_all(&run).expect("mkdir");
    fifo(&run.join("meta.json"));
    let (code, text) = collect(&[Path::new("pack"), &run]);
    assert_eq!(code, Some(3), "{text}");
    assert!(
        text.contains("meta.json: a FIFO (named pipe), not a regular file"),
        "{text}"
    );
}

#[test]
fn an_error_says_each_cause_once() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let run = tmp.path().join("run");
    std::fs::create_dir_all(run.join("runs")).expect("mkdir");
    std::fs::write(
        run.join("meta.json"),
        r#"{"tool":{"name":"collect","version":"0.1.0","git_commit":null},"created":"2026-11-25T18:00:00Z","host":"h","suite":"s","platforms":["native"],"label":"l"}"#,
    )
    .expect("meta");
    std::fs::write(run.join("metrics.ndjson"), "").expect("metrics");
    // The bundle's folder is a file: every write there fails.
    let file = tmp.path().join("file");
    std::fs::write(&file, "").expect("file");
    let (code, text) = collect(&[
        Path::new("pack"),
        &run,
        Path::new("--out"),
        &file.join("b.tar.zst"),
    ]);
    assert_eq!(code, Some(3), "{text}");
    assert_eq!(
        text.matches("Not a directory (os error 20)").count(),
        1,
        "{text}"
    );
}

/// A one-workload native suite with `defaults` and `workload` keys added.
fn suite_with(defaults: &str, workload: &str) -> String {
    format!(
        "name = \"s\"\nplatforms = [\"native\"]\n[defaults]\n{defaults}\ndeadline_s = 60\n\
         [experiments.overall]\nworkloads = [\"c\"]\n[workloads.c]\nkind = \"sysbench-cpu\"\n\
         max_prime = 100\nevents = 10\n{workload}\n"
    )
}

#[test]
fn huge_counts_are_reported_as_given() {
    use collect::suite::parse;
    let path = Path::new("s.toml");
    let err = |text: &str| parse(text, path).expect_err(text).to_string();
    let e = err(&suite_with(
        "repetitions = 1\nwarmups = 0",
        "repetitions = 4294967296",
    ));
    assert!(
        e.ends_with("workloads.c.repetitions: 4294967296 is outside 1-1000"),
        "{e}"
    );
    let e = err(&suite_with(
        "repetitions = 1\nwarmups = 0",
        "warmups = 4294967297",
    ));
    assert!(
        e.ends_with("workloads.c.warmups: 4294967297 is outside 0-100"),
        "{e}"
    );
    let e = err(&suite_with("repetitions = 4294967296\nwarmups = 0", ""));
    assert!(
        e.ends_with("defaults.repetitions: 4294967296 is outside 1-1000"),
        "{e}"
    );
    let e = err(&suite_with("repetitions = 1\nwarmups = 4294967296", ""));
    assert!(
        e.ends_with(
            "line 5: invalid value: integer `4294967296`, expected a whole number from 0 to 4294967295"
        ),
        "{e}"
    );
    parse(&suite_with("repetitions = 1\nwarmups = 0", ""), path).expect("the base is sound");
}

#[test]
fn a_suite_file_over_its_cap_is_refused_unread() {
    let dir = tempfile::tempdir().expect("tempdir");
    let big = dir.path().join("big.toml");
    std::fs::File::create(&big)
        .and_then(|f| f.set_len(2 << 20))
        .expect("sparse");
    let e = collect::suite::load(&collect::suite::SuiteRef::File(big))
        .expect_err("too large")
        .to_string();
    assert!(
        e.contains("over 1048576 bytes, more than a suite file ever holds"),
        "{e}"
    );
}
