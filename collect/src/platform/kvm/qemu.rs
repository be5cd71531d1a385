//! The QEMU command line of a guest, built from typed settings so every
//! guest's line is generated the same way (and recorded in the bundle).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::process::{self, shell_quote};

/// The QEMU binary.
pub const QEMU: &str = "qemu-system-x86_64";
/// Machine type. `pc` (i440FX) is what the recipe measured; QEMU resolves
/// it to a versioned type, recorded in the facts.
pub const MACHINE: &str = "pc";
/// The 9p tag the init mounts as the host root.
pub const ROOT_TAG: &str = "hostroot";

/// An accelerator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Accel {
    Kvm,
    Tcg,
}

impl Accel {
    pub fn name(self) -> &'static str {
        match self {
            Accel::Kvm => "kvm",
            Accel::Tcg => "tcg",
        }
    }

    /// CPU model: the host's under KVM; under TCG the plain `qemu64`
    /// rather than `max`: with `max`, glibc picks AVX2 string routines
    /// that TCG runs through slow helpers (measured here one after the
    /// other: a kernel `init/` build 149 s with `max`, 106 s with
    /// `qemu64`). The model is recorded (`cpu_model`).
    pub fn cpu(self) -> &'static str {
        match self {
            Accel::Kvm => "host",
            Accel::Tcg => "qemu64",
        }
    }
}

/// A raw disk attached as virtio-blk, found by the guest by its serial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drive {
    pub id: String,
    pub path: PathBuf,
    pub serial: String,
    /// QEMU cache mode (`none` bypasses the host page cache).
    pub cache: String,
    /// Attached read-only (shared by guests running at once).
    pub readonly: bool,
}

/// A guest's QEMU command line.
#[derive(Debug, Clone, PartialEq)]
pub struct QemuCommand {
    accel: Accel,
    memory_mib: u32,
    vcpus: u32,
    kernel: PathBuf,
    initrd: PathBuf,
    append: Vec<String>,
    host_root: bool,
    drives: Vec<Drive>,
    nic: Option<Nic>,
}

/// A virtio-net NIC on a host tap device (inside the run's network
/// namespace, see `isolation::netns`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nic {
    pub tap: String,
    /// Distinct per guest: guests share one bridge.
    pub mac: String,
}

impl QemuCommand {
    /// A guest booting `kernel` with `initrd`, console on the serial port.
    pub fn new(accel: Accel, kernel: &Path, initrd: &Path) -> Self {
        QemuCommand {
            accel,
            memory_mib: 512,
            vcpus: 1,
            kernel: kernel.to_path_buf(),
            initrd: initrd.to_path_buf(),
            // panic=-1 with -no-reboot: a guest panic ends QEMU at once.
            // no_timer_check: on a loaded host a TCG guest's IO-APIC timer
            // check can fail and panic the boot ("IO-APIC + timer doesn't
            // work!"), seen with a load of 16 on 2 cores.
            append: ["console=ttyS0", "quiet", "panic=-1", "no_timer_check"]
                .map(str::to_owned)
                .to_vec(),
            host_root: false,
            drives: Vec::new(),
            nic: None,
        }
    }

    pub fn memory_mib(mut self, mib: u32) -> Self {
        self.memory_mib = mib;
        self
    }

    pub fn vcpus(mut self, n: u32) -> Self {
        self.vcpus = n;
        self
    }

    /// Adds `key=value` to the kernel command line.
    pub fn kernel_arg(mut self, key: &str, value: &str) -> Self {
        self.append.push(format!("{key}={value}"));
        self
    }

    /// Shares the host's `/` read-only over virtio 9p (tag [`ROOT_TAG`]).
    pub fn host_root(mut self) -> Self {
        self.host_root = true;
        self
    }

    pub fn drive(mut self, drive: Drive) -> Self {
        self.drives.push(drive);
        self
    }

    /// Gives the guest one NIC on `nic.tap`.
    pub fn nic(mut self, nic: Nic) -> Self {
        self.nic = Some(nic);
        self
    }

    pub fn accel(&self) -> Accel {
        self.accel
    }

    /// The kernel command line.
    pub fn append(&self) -> String {
        self.append.join(" ")
    }

    /// The argv, program first.
    pub fn argv(&self) -> Vec<String> {
        let mut a: Vec<String> = vec![QEMU.into()];
        let mut push = |parts: &[&str]| a.extend(parts.iter().map(|s| (*s).to_owned()));
        // No default NIC (its option ROM slows boot), VGA or monitor.
        push(&["-nodefaults", "-no-user-config", "-machine", MACHINE]);
        push(&["-accel", self.accel.name(), "-cpu", self.accel.cpu()]);
        push(&["-m", &self.memory_mib.to_string()]);
        push(&["-smp", &self.vcpus.to_string()]);
        push(&["-display", "none", "-serial", "stdio", "-no-reboot"]);
        push(&["-kernel", &self.kernel.to_string_lossy()]);
        push(&["-initrd", &self.initrd.to_string_lossy()]);
        push(&["-append", &self.append()]);
        if self.host_root {
            push(&[
                "-virtfs",
                &format!(
                    "local,path=/,mount_tag={ROOT_TAG},security_model=none,readonly=on,multidevs=remap"
                ),
            ]);
        }
        for d in &self.drives {
            push(&[
                "-drive",
                &format!(
                    "file={},format=raw,if=none,id={},cache={}{}",
                    d.path.display(),
                    d.id,
                    d.cache,
                    if d.readonly { ",readonly=on" } else { "" }
                ),
                "-device",
                &format!("virtio-blk-pci,drive={},serial={}", d.id, d.serial),
            ]);
        }
        if let Some(n) = &self.nic {
            push(&[
                "-netdev",
                &format!("tap,id=net0,ifname={},script=no,downscript=no", n.tap),
                "-device",
                &format!("virtio-net-pci,netdev=net0,mac={}", n.mac),
            ]);
        }
        a
    }

    /// The argv as one shell-quoted line, for the bundle.
    pub fn line(&self) -> String {
        self.argv()
            .iter()
            .map(|a| shell_quote(a))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// `QEMU emulator version ...`: the first line of `--version`.
pub fn version() -> String {
    let out = capture(&[QEMU, "--version"]);
    out.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("unknown")
        .trim()
        .to_owned()
}

/// `pc (alias of pc-i440fx-7.2)`, from `qemu -machine help`.
pub fn machine_type() -> String {
    let out = capture(&[QEMU, "-machine", "help"]);
    out.lines()
        .find(|l| l.split_whitespace().next() == Some(MACHINE))
        .and_then(|l| l.find("(alias of ").map(|i| l[i..].trim().to_owned()))
        .map(|alias| format!("{MACHINE} {alias}"))
        .unwrap_or_else(|| MACHINE.to_owned())
}

/// A short command's stdout (empty when it fails), under a deadline.
fn capture(argv: &[&str]) -> String {
    let argv: Vec<String> = argv.iter().map(|s| (*s).to_owned()).collect();
    let (Ok(out), Ok(err)) = (tempfile::tempfile(), tempfile::tempfile()) else {
        return String::new();
    };
    let Ok(mut reader) = out.try_clone() else {
        return String::new();
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    match process::run(&argv, Path::new("/"), out, err, deadline) {
        Ok(done) if done.success() => {
            let mut s = String::new();
            let _ = std::io::Seek::rewind(&mut reader);
            let _ = reader.read_to_string(&mut s);
            s
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_has_what_the_guest_needs() {
        let cmd = QemuCommand::new(Accel::Tcg, Path::new("/k/vmlinuz"), Path::new("/c/i.cpio"))
            .memory_mib(1024)
            .vcpus(2)
            .host_root()
            .kernel_arg("benchvm.job", "/r/job.json")
            .drive(Drive {
                id: "scratch".into(),
                path: "/s/scratch.img".into(),
                serial: "benchvm-scratch".into(),
                cache: "none".into(),
                readonly: false,
            })
            .drive(Drive {
                id: "data".into(),
                path: "/c/data.img".into(),
                serial: "benchvm-data".into(),
                cache: "writeback".into(),
                readonly: true,
            });
        let argv = cmd.argv();
        let after = |flag: &str| {
            let i = argv.iter().position(|a| a == flag).expect(flag);
            argv[i + 1].clone()
        };
        assert_eq!(argv[0], QEMU);
        assert_eq!(after("-accel"), "tcg");
        assert_eq!(after("-cpu"), "qemu64");
        assert_eq!(after("-m"), "1024");
        assert_eq!(after("-smp"), "2");
        assert_eq!(
            after("-append"),
            "console=ttyS0 quiet panic=-1 no_timer_check benchvm.job=/r/job.json"
        );
        assert!(after("-virtfs").contains("readonly=on"));
        assert_eq!(
            after("-drive"),
            "file=/s/scratch.img,format=raw,if=none,id=scratch,cache=none"
        );
        assert_eq!(
            after("-device"),
            "virtio-blk-pci,drive=scratch,serial=benchvm-scratch"
        );
        assert!(cmd.line().contains(
            "-drive file=/c/data.img,format=raw,if=none,id=data,cache=writeback,readonly=on"
        ));
        assert!(argv.contains(&"-no-reboot".to_owned()));
        assert!(cmd.line().contains(
            "-append 'console=ttyS0 quiet panic=-1 no_timer_check benchvm.job=/r/job.json'"
        ));
        let kvm = QemuCommand::new(Accel::Kvm, Path::new("/k"), Path::new("/i")).argv();
        assert!(kvm.windows(2).any(|w| w == ["-cpu", "host"]));
    }
}
