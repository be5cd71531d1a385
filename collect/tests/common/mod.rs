//! Helpers shared by the tests that boot real guests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use collect::guest;
use collect::guest::drive::Timeouts;
use collect::platform::kvm::qemu::QEMU;
use collect::platform::kvm::settings::{AccelSetting, KvmSettings};
use collect::platform::kvm::Kvm;
use collect::platform::GuestSettings;
use collect::suite::GuestSize;
use collect::workload::Steps;

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The cache collect uses by default (`collect fetch` fills it).
pub fn cache() -> PathBuf {
    collect::cache::resolve(None).expect("the cache folder")
}

/// Whether guests can boot here; prints why not.
pub fn can_boot(test: &str) -> bool {
    report_missing(test, guest_missing())
}

/// What guests still need here, if anything.
pub fn guest_missing() -> Option<String> {
    if !collect::tools::present(QEMU) {
        Some("qemu-system-x86_64 (apt-get install -y qemu-system-x86)".to_owned())
    } else if !Path::new(guest::initramfs::BUSYBOX).exists() {
        Some("busybox (apt-get install -y busybox-static)".to_owned())
    } else if let Err(e) = guest::kernel::find(None, &cache()) {
        Some(e.to_string())
    } else {
        None
    }
}

/// Prints why a test is skipped; true when nothing is missing.
pub fn report_missing(test: &str, missing: Option<String>) -> bool {
    if let Some(m) = &missing {
        eprintln!("SKIPPED {test}: missing {m}");
    }
    missing.is_none()
}

/// Processes whose ancestry includes `root`, with their names.
pub fn descendants(root: u32) -> Vec<(u32, String)> {
    let mut parent = BTreeMap::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid ...
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = stat[open + 1..close].to_owned();
        let mut rest = stat[close + 1..].split_whitespace();
        let state = rest.next().unwrap_or("");
        let ppid: u32 = rest.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        if state != "Z" {
            parent.insert(pid, (ppid, comm));
        }
    }
    let mut found = Vec::new();
    for (&pid, (_, comm)) in &parent {
        let mut p = pid;
        for _ in 0..64 {
            match parent.get(&p) {
                Some((pp, _)) if *pp == root => {
                    found.push((pid, comm.clone()));
                    break;
                }
                Some((pp, _)) if *pp > 1 => p = *pp,
                _ => break,
            }
        }
    }
    found
}

pub fn qemu_descendants(root: u32) -> Vec<u32> {
    descendants(root)
        .into_iter()
        .filter(|(_, comm)| comm.starts_with("qemu-system"))
        .map(|(pid, _)| pid)
        .collect()
}

/// `collect run --platform kvm --accel tcg --suite SUITE --cache CACHE
/// --out OUT`, run from the workspace; add arguments, then run it.
pub fn kvm_run(suite: &Path, out: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_collect"));
    cmd.current_dir(workspace())
        .args(["run", "--platform", "kvm", "--accel", "tcg"])
        .arg("--suite")
        .arg(suite)
        .arg("--cache")
        .arg(cache())
        .arg("--out")
        .arg(out);
    cmd
}

/// Runs `cmd` (a `collect run`) to its end and returns the bundle it
/// printed; panics with its output unless it succeeded.
pub fn bundle_of(cmd: &mut Command) -> PathBuf {
    let out = cmd.output().expect("run collect");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "collect failed\n{stdout}\n{stderr}");
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("bundle "))
        .map(|p| PathBuf::from(p.trim()))
        .unwrap_or_else(|| panic!("collect printed no bundle path\n{stdout}"))
}

/// Polls the QEMUs below `pid` until `enough` says so or `within` passed;
/// returns the last ones seen.
pub fn wait_for_qemus(pid: u32, within: Duration, enough: impl Fn(&[u32]) -> bool) -> Vec<u32> {
    let deadline = Instant::now() + within;
    loop {
        let seen = qemu_descendants(pid);
        if enough(&seen) || Instant::now() >= deadline {
            return seen;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Sends `signal` to `child` and waits up to 30 s for it to end.
pub fn signal_and_wait(child: &mut Child, signal: Signal) -> ExitStatus {
    kill(
        Pid::from_raw(i32::try_from(child.id()).expect("pid")),
        signal,
    )
    .expect("signal");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(s) = child.try_wait().expect("wait") {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "collect did not stop on {signal}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Asserts that every process of `pids` is gone (or a zombie) within
/// `within`.
pub fn assert_gone(pids: &[u32], within: Duration) {
    let alive = |pid: &u32| {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "))
    };
    let deadline = Instant::now() + within;
    while pids.iter().any(alive) {
        assert!(
            Instant::now() < deadline,
            "outlived collect: {:?}",
            pids.iter().filter(|p| alive(p)).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// What the Xen lab (`collect lab xen`) needs and is missing here, if
/// anything.
pub fn lab_missing() -> Option<String> {
    for (tool, package) in [(QEMU, "qemu-system-x86"), ("xl", "xen-utils-4.17")] {
        if !collect::tools::present(tool) {
            return Some(format!("{tool} (apt-get install -y {package})"));
        }
    }
    if !Path::new(collect::platform::xen::DEVICE_MODEL).exists() {
        return Some("the Xen device model (apt-get install -y qemu-system-xen)".into());
    }
    if !Path::new(guest::initramfs::BUSYBOX).exists() {
        return Some("busybox (apt-get install -y busybox-static)".into());
    }
    if let Err(e) = guest::kernel::find(None, &cache()) {
        return Some(e.to_string());
    }
    if !cache().join(collect::fetch::XEN_BIN).is_file() {
        return Some("the Xen hypervisor (run collect fetch xen)".into());
    }
    None
}

/// A temporary folder for a lab test under target/, which the test keeps
/// (`TempDir::keep`) when the lab fails.
pub fn lab_dir(prefix: &str) -> tempfile::TempDir {
    let target = workspace().join("target");
    std::fs::create_dir_all(&target).expect("target");
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(std::fs::canonicalize(&target).expect("target"))
        .expect("tempdir")
}

/// One run's steps: just a measured command.
pub fn steps(measured: &[&str]) -> Steps {
    Steps {
        setup: Vec::new(),
        measured: measured.iter().map(|s| (*s).to_owned()).collect(),
        cleanup: Vec::new(),
    }
}

/// The kvm platform under TCG with small guests (1 vCPU, 512 MiB, 1 GiB
/// scratch), short cleanup and a roomy boot deadline, its files in `work`.
pub fn small_tcg_guests(work: PathBuf) -> Kvm {
    let settings = GuestSettings {
        kernel: None,
        cache: cache(),
        work,
        agent: PathBuf::from(env!("CARGO_BIN_EXE_collect")),
        guest: GuestSize {
            vcpus: 1,
            memory_mib: 512,
            scratch_gib: 1,
        },
        timeouts: Some(Timeouts {
            boot: Duration::from_secs(180),
            cleanup: Duration::from_secs(5),
            margin: Duration::from_secs(20),
        }),
        folder: None,
        data_disk: None,
    };
    let kvm = KvmSettings {
        accel: AccelSetting::Tcg,
    };
    Kvm::new(settings, kvm).expect("kvm platform set up")
}
