//! `scripts/install-deps.sh` against the QEMU release conflict a fresh
//! image can carry: a backported qemu-utils 10 (its real dpkg stanza, taken
//! from such an image, in `data/apt/`) whose Breaks refuse bookworm's
//! qemu-system-common 7.2. The machine state is fabricated as a dpkg status
//! file (this machine's own, with that stanza in place of its qemu-utils);
//! apt-get plans against it with `-s`, so the test needs no root and
//! changes nothing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// This machine's dpkg status with qemu-utils replaced by the backport's
/// stanza. Its Depends and Recommends name libraries this machine may not
/// have; they are left out so that the state is otherwise consistent and
/// the only fault is the one under test (the Breaks line stays).
fn fabricated_status(dir: &Path) -> PathBuf {
    let real = std::fs::read_to_string("/var/lib/dpkg/status").expect("reading dpkg status");
    let backport = std::fs::read_to_string(
        workspace().join("collect/tests/data/apt/qemu-utils-backport.status"),
    )
    .expect("reading the backport stanza");
    assert!(backport.contains("Breaks: qemu-system-common (<< 1:8.0+dfsg-5~)"));
    let backport: String = backport
        .lines()
        .filter(|l| !l.starts_with("Depends:") && !l.starts_with("Recommends:"))
        .map(|l| format!("{l}\n"))
        .collect();
    let mut out = String::new();
    for stanza in real.split("\n\n").filter(|s| !s.trim().is_empty()) {
        let name = stanza.lines().next().unwrap_or_default();
        // Drop every package of the QEMU family: the image has only the
        // backported qemu-utils.
        if name.starts_with("Package: qemu-") {
            continue;
        }
        out.push_str(stanza.trim_end());
        out.push_str("\n\n");
    }
    out.push_str(&backport);
    out.push('\n');
    let path = dir.join("status");
    std::fs::write(&path, out).expect("writing the fabricated status");
    path
}

fn apt_sim(status: &Path, packages: &[&str]) -> Output {
    Command::new("apt-get")
        .arg("-o")
        .arg(format!("Dir::State::status={}", status.display()))
        .args(["-s", "install", "-y", "--no-install-recommends"])
        .args(packages)
        .output()
        .expect("running apt-get -s")
}

fn candidate(package: &str) -> String {
    let out = Command::new("apt-cache")
        .args(["policy", package])
        .output()
        .expect("apt-cache policy");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.trim().strip_prefix("Candidate: ").map(str::to_owned))
        .expect("a candidate version")
}

#[test]
fn backported_qemu_utils_is_brought_into_the_family_release() {
    let dir = tempfile::tempdir().expect("tempdir");
    let status = fabricated_status(dir.path());

    // The state reproduces the refusal users saw.
    let naive = apt_sim(&status, &["qemu-system-x86", "qemu-system-xen"]);
    let said = String::from_utf8_lossy(&naive.stdout).to_string()
        + &String::from_utf8_lossy(&naive.stderr);
    assert!(
        !naive.status.success(),
        "apt-get accepted the conflict:\n{said}"
    );
    assert!(said.contains("Breaks: qemu-system-common"), "{said}");

    // The script resolves it: one release for the family, said in one line.
    let out = Command::new(workspace().join("scripts/install-deps.sh"))
        .env("BENCHVM_APT_STATUS", &status)
        .output()
        .expect("running install-deps.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    let x86 = candidate("qemu-system-x86");
    for p in ["qemu-system-x86", "qemu-system-xen", "qemu-utils"] {
        assert!(
            stdout.contains(&format!(" {p}={x86}")),
            "{p} not pinned to {x86}:\n{stdout}"
        );
    }
    assert!(stdout.contains("--allow-downgrades"), "{stdout}");
    let changes: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("must be one release"))
        .collect();
    assert_eq!(changes.len(), 1, "{stderr}");
    assert!(
        changes[0].contains("downgrades qemu-utils 1:10.0.2+ds-2+deb13u1~bpo12+1 to"),
        "{stderr}"
    );
    assert!(
        stderr.contains("dry run: apt-get would install"),
        "{stderr}"
    );
}

#[test]
fn a_consistent_machine_needs_no_pins() {
    // This machine after install-deps.sh (as .ci/run runs it first): the
    // plan pins nothing and asks for no downgrade.
    let out = Command::new(workspace().join("scripts/install-deps.sh"))
        .arg("--dry-run")
        .output()
        .expect("running install-deps.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(!stdout.contains("--allow-downgrades"), "{stdout}");
    assert!(!stderr.contains("must be one release"), "{stderr}");
}
