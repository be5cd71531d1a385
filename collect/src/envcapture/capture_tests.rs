//! `capture` run for real on this host.

use std::fs;
use std::time::Duration;

use benchvm_format::env::EnvSummary;

use super::*;

const RAW_FILES: &[&str] = &[
    "uname.txt",
    "os-release.txt",
    "cmdline.txt",
    "lscpu.txt",
    "lscpu.json",
    "cpuinfo.txt",
    "meminfo.txt",
    "numa.txt",
    "cpufreq.txt",
    "smt.txt",
    "vulnerabilities.txt",
    "microcode.txt",
    "dmidecode.txt",
    "lsblk.txt",
    "scratch-fs.txt",
    "tools.txt",
    "virt.txt",
    "collect.txt",
];

const MISSING_TOOL: &str = "benchvm-no-such-tool-4242";

#[test]
fn capture_for_real() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let env_dir = tmp.path().join("bundle/env");
    let tools = [
        ToolProbe {
            name: "kernel",
            argv: &["uname", "-r"],
        },
        ToolProbe {
            name: "missing",
            argv: &[MISSING_TOOL, "--version"],
        },
    ];
    let summary =
        capture(&env_dir, tmp.path(), &tools, "9.9.9", Some("deadbeef")).expect("capture");

    let json = fs::read_to_string(env_dir.join(SUMMARY_FILE)).expect("summary.json");
    let parsed: EnvSummary = serde_json::from_str(&json).expect("summary.json parses");
    assert_eq!(parsed, summary);

    let uname = run_with_deadline(&["uname", "-r"], Duration::from_secs(10));
    let release = uname.stdout.trim();
    assert!(uname.success() && !release.is_empty());
    assert_eq!(summary.kernel.as_deref(), Some(release));
    assert_eq!(
        summary.tools.get("kernel").map(String::as_str),
        Some(release)
    );
    assert_eq!(
        summary.tools.get("missing").map(String::as_str),
        Some("not found")
    );
    assert!(summary.cpus >= Some(1));
    assert!(summary.mem_total_kib > Some(0));
    assert!(summary.numa_nodes >= Some(1));
    assert!(summary.arch.is_some());
    assert_eq!(summary.collect_version, "9.9.9");
    assert_eq!(summary.collect_commit.as_deref(), Some("deadbeef"));
    assert!(summary.platforms.is_empty());

    for name in RAW_FILES {
        let path = env_dir.join(name);
        let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!text.trim().is_empty(), "{name} is empty");
    }
    let tools_txt = fs::read_to_string(env_dir.join("tools.txt")).expect("tools.txt");
    assert!(tools_txt.contains(MISSING_TOOL) && tools_txt.contains("not found"));
    let lscpu_json = fs::read_to_string(env_dir.join("lscpu.json")).expect("lscpu.json");
    serde_json::from_str::<serde_json::Value>(&lscpu_json).expect("lscpu.json is JSON");
    let collect_txt = fs::read_to_string(env_dir.join("collect.txt")).expect("collect.txt");
    assert!(collect_txt.contains("9.9.9") && collect_txt.contains("deadbeef"));
}

#[test]
fn unwritable_env_dir_is_an_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("a-file");
    fs::write(&file, "x").expect("write");
    let err =
        capture(&file.join("env"), tmp.path(), &[], "v", None).expect_err("env_dir under a file");
    assert!(matches!(err, CaptureError::CreateDir { .. }), "{err}");
}
