//! Every command that prints, of analyze and collect, run with a reader
//! that has gone away: standard output a pipe whose read end is closed
//! before the command writes (`analyze diff A B | head -1`), or standard
//! error so. The command stops quietly with exit status 141 (stdout; see
//! `collect::output`) or finishes with its own status (stderr); nothing
//! panics.

mod forge;

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};

use forge::*;

/// Runs `cmd` with its `closed` stream's reader gone from the start;
/// returns its status and what it wrote on the other stream.
fn run_closed(cmd: &mut Command, closed: Stream) -> (ExitStatus, String) {
    let mut child: Child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // The only read end goes before the command gets to write.
    let (closing, other): (Box<dyn Read>, Box<dyn Read>) = match closed {
        Stream::Stdout => (
            Box::new(child.stdout.take().expect("stdout")),
            Box::new(child.stderr.take().expect("stderr")),
        ),
        Stream::Stderr => (
            Box::new(child.stderr.take().expect("stderr")),
            Box::new(child.stdout.take().expect("stdout")),
        ),
    };
    drop(closing);
    let mut text = String::new();
    let mut other = other;
    other.read_to_string(&mut text).expect("read");
    (child.wait().expect("wait"), text)
}

#[derive(Debug, Clone, Copy)]
enum Stream {
    Stdout,
    Stderr,
}

fn cmd(bin_name: &str, args: &[&str], paths: &[&Path]) -> Command {
    let mut c = Command::new(bin(bin_name));
    c.args(args).args(paths).env("RUST_BACKTRACE", "1");
    c
}

#[track_caller]
fn quiet_141(mut c: Command) {
    let (status, stderr) = run_closed(&mut c, Stream::Stdout);
    assert_eq!(status.code(), Some(141), "{c:?}: {status}\n{stderr}");
    assert!(!stderr.contains("panicked"), "{c:?} panicked:\n{stderr}");
    assert!(
        !stderr.contains("Broken pipe"),
        "{c:?} spoke of it:\n{stderr}"
    );
}

#[test]
fn commands_stop_quietly_when_their_reader_goes_away() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = native_copy(tmp.path());
    let bundle = pack(&root);
    let other = pack(&kvm_tcg_run(&tmp.path().join("kvm")));
    let b = bundle.as_path();
    for args in [
        &["verify"][..],
        &["verify", "--rederive"],
        &["show"],
        &["compare", "--a"],
    ] {
        let mut c = cmd("analyze", args, &[b]);
        if args[0] == "compare" {
            c.arg("--b").arg(b);
        }
        quiet_141(c);
    }
    quiet_141(cmd("analyze", &["diff"], &[b, &other]));
    let report = tmp.path().join("report");
    quiet_141(cmd("analyze", &["report", "--out"], &[&report, b]));

    let keys = tmp.path().join("alice");
    quiet_141(cmd(
        "collect",
        &["keygen", "--unencrypted", "--out"],
        &[&keys],
    ));
    assert!(
        keys.with_extension("pub").exists(),
        "keys are written first"
    );
    quiet_141(cmd(
        "collect",
        &["sign", "--key"],
        &[&keys.with_extension("key"), b],
    ));
    let again = tmp.path().join("again.tar.zst");
    quiet_141(cmd("collect", &["pack", "-o"], &[&again, &root]));
    assert!(again.exists(), "the bundle is written before it is named");

    // clap's help and version: no panic either.
    for args in [&["--help"][..], &["--version"], &["verify", "--help"]] {
        for bin_name in ["analyze", "collect"] {
            let mut c = cmd(bin_name, args, &[]);
            let (_, stderr) = run_closed(&mut c, Stream::Stdout);
            assert!(!stderr.contains("panicked"), "{c:?} panicked:\n{stderr}");
        }
    }
}

#[test]
fn a_closed_stderr_changes_nothing_but_what_is_said() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let bad = tmp.path().join("bad.tar.zst");
    std::fs::write(&bad, b"not a bundle").expect("write");
    let missing = tmp.path().join("missing.tar.zst");
    let cases: [(Command, i32); 4] = [
        // One FAIL on stdout, the count on stderr.
        (cmd("analyze", &["verify"], &[&bad]), 1),
        (cmd("analyze", &["show"], &[&missing]), 3),
        (cmd("collect", &["pack"], &[&missing]), 3),
        (cmd("collect", &["sign", "--key"], &[&missing, &bad]), 3),
    ];
    for (mut c, code) in cases {
        let (status, stdout) = run_closed(&mut c, Stream::Stderr);
        assert_eq!(status.code(), Some(code), "{c:?}: {status}\n{stdout}");
        assert!(!stdout.contains("panicked"), "{stdout}");
    }
}
