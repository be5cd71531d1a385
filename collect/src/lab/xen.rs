//! `collect lab xen`: a real Xen host inside QEMU, for machines without
//! Xen (../shared/recipes/xen-in-qemu.md, measured). QEMU (TCG, `-cpu
//! qemu64,+svm`) boots Debian's Xen 4.17 hypervisor with the guest kernel
//! as dom0 and a dom0 initramfs collect builds (`dom0-init.sh`); dom0 runs
//! on the host's root over 9p (so it has the host's `xl`, daemons and
//! collect), gets a dom0-local virtio disk for the domUs' disk images and a
//! writable share (`labout`) for the bundle, and runs `collect run ARGS` on
//! the xen platform. The kernel command line word `benchvm.lab=qemu-tcg`
//! tells that collect its Xen host is emulated.
//!
//! Everything of one lab run stays in `<out>/work/lab-<time>/`: the whole
//! serial log (`serial.log`), QEMU's messages, and the share. The bundle is
//! moved to `<out>/`.

use std::fs::{self, File};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::guest::initramfs::{self, Contents};
use crate::platform::kvm::qemu::QEMU;
use crate::platform::xen::host::{DATA_DISK_ENV, DATA_DISK_SERIAL, LAB_FLAG};
use crate::process::{shell_quote, Owned};
use crate::progress::Progress;
use crate::workload::Requirement;

/// What the lab needs on this host (dom0 runs on its root): QEMU for the
/// lab machine, busybox for the initramfs, and Xen's toolstack and device
/// model for dom0.
pub const REQUIREMENTS: &[Requirement] = &[
    Requirement {
        what: QEMU,
        package: "qemu-system-x86",
    },
    Requirement {
        what: initramfs::BUSYBOX,
        package: "busybox-static",
    },
    Requirement {
        what: crate::platform::xen::xl::XL,
        package: "xen-utils-4.17",
    },
    Requirement {
        what: crate::platform::xen::DEVICE_MODEL,
        package: "qemu-system-xen",
    },
];

/// dom0's init script.
pub const DOM0_INIT: &str = include_str!("dom0-init.sh");
/// Modules dom0 loads: its 9p root, the lab disk, the Xen back ends and
/// device files the toolstack needs (measured in the recipe), and the
/// bridge of isolation runs (dom0's root has no modules of this kernel for
/// modprobe to find).
pub const DOM0_MODULES: &[&str] = &[
    "virtio_pci",
    "virtio_blk",
    "9p",
    "9pnet_virtio",
    "overlay",
    "ext4",
    "xen-evtchn",
    "xen-gntdev",
    "xen-gntalloc",
    "xen-privcmd",
    "xenfs",
    "xen-blkback",
    "xen-netback",
    "bridge",
];
/// Serial console markers printed by `dom0-init.sh`.
const READY: &str = "BENCHVM-LAB-READY";
const EXIT: &str = "BENCHVM-LAB-EXIT";
const FAILED: &str = "BENCHVM-LAB-FAILED";
/// Where dom0 sees the share and its local disk.
const SHARE_IN_DOM0: &str = "/lab-out";
const DISK_IN_DOM0: &str = "/var/lib/benchvm";
/// The lab machine's CPU: `max` kills dom0 at its first instructions
/// (recipe), so `qemu64` with SVM. Without nested paging Xen has no HAP,
/// and Debian's Xen no shadow paging, so HVM and PVH domUs cannot start
/// here ("neither hap nor shadow paging available"); with `+npt` Xen
/// finds HAP but the PV dom0 dies at its start (both seen): the lab runs
/// PV domUs only.
const LAB_CPU: &str = "qemu64,+svm";
/// The marker telling the xen platform its host is emulated.
const LAB_KIND: &str = "qemu-tcg";

/// What a lab run is set up from (validated by the caller).
#[derive(Debug, Clone)]
pub struct LabSettings {
    pub cache: PathBuf,
    /// The host's bundles folder.
    pub out: PathBuf,
    pub kernel: Option<PathBuf>,
    /// Hypervisor binary; default `<cache>/xen/xen-4.17.bin`.
    pub xen: Option<PathBuf>,
    pub memory_mib: u32,
    pub dom0_memory_mib: u32,
    pub cpus: u32,
    pub disk_gib: u32,
    /// From QEMU's start to dom0's ready marker.
    pub dom0_timeout: Duration,
    /// From dom0's ready marker to collect's end in dom0.
    pub run_timeout: Duration,
    /// Arguments of `collect run` inside dom0.
    pub run_args: Vec<String>,
    /// The guests' data disk image, attached to the lab machine read-only
    /// so dom0 serves it to domUs from a block device of its own (qdisk
    /// cannot open images on 9p, and copying it took minutes).
    pub data_disk: Option<PathBuf>,
}

/// A finished lab run.
#[derive(Debug, Clone)]
pub struct LabResult {
    pub bundle: PathBuf,
    pub id: String,
    pub lab_dir: PathBuf,
}

/// The QEMU command line of the lab machine.
fn qemu_argv(
    s: &LabSettings,
    xen: &Path,
    vmlinuz: &Path,
    initrd: &Path,
    share: &Path,
    disk: &Path,
) -> Vec<String> {
    let xen_cmdline = format!(
        "dom0_mem={m}M,max:{m}M console=com1 com1=115200,8n1 noreboot",
        m = s.dom0_memory_mib
    );
    // Multiboot modules: the dom0 kernel with its command line, then its
    // initramfs; QEMU separates them with commas.
    let modules = format!(
        "{} console=hvc0 panic=-1 quiet {LAB_FLAG}={LAB_KIND},{}",
        vmlinuz.display(),
        initrd.display()
    );
    let mut a: Vec<String> = Vec::new();
    let mut push = |parts: &[&str]| a.extend(parts.iter().map(|p| (*p).to_owned()));
    push(&[QEMU, "-accel", "tcg", "-cpu", LAB_CPU]);
    push(&["-m", &s.memory_mib.to_string(), "-smp", &s.cpus.to_string()]);
    push(&["-display", "none", "-serial", "stdio", "-monitor", "none"]);
    push(&["-no-reboot", "-kernel", &xen.to_string_lossy()]);
    push(&["-append", &xen_cmdline, "-initrd", &modules]);
    push(&[
        "-virtfs",
        "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap",
    ]);
    push(&[
        "-virtfs",
        &format!(
            "local,path={},mount_tag=labout,security_model=none,multidevs=remap",
            share.display()
        ),
    ]);
    push(&[
        "-drive",
        &format!(
            "file={},format=raw,if=none,id=labdisk,cache=unsafe",
            disk.display()
        ),
        "-device",
        "virtio-blk-pci,drive=labdisk,serial=benchvm-labdisk",
    ]);
    if let Some(data) = &s.data_disk {
        push(&[
            "-drive",
            &format!(
                "file={},format=raw,if=none,id=labdata,readonly=on",
                data.display()
            ),
            "-device",
            &format!("virtio-blk-pci,drive=labdata,serial={DATA_DISK_SERIAL}"),
        ]);
    }
    a
}

/// The script dom0 runs: `collect run ARGS` with the bundle going to the
/// share and the run folder and disk images on the lab disk.
fn lab_script(
    collect: &Path,
    cwd: &Path,
    cache: &Path,
    hostname: &str,
    env: &[(String, String)],
    run_args: &[String],
) -> String {
    let mut line = vec![shell_quote(&collect.to_string_lossy()), "run".to_owned()];
    line.extend(run_args.iter().map(|a| shell_quote(a)));
    for (flag, value) in [
        ("--out", format!("{SHARE_IN_DOM0}/bundles")),
        // On the share, so a run that fails leaves its folder on the host.
        ("--run-dir", format!("{SHARE_IN_DOM0}/run")),
        ("--scratch", format!("{DISK_IN_DOM0}/scratch")),
    ] {
        line.push(flag.to_owned());
        line.push(value);
    }
    let exports: String = env
        .iter()
        .map(|(k, v)| format!("export {k}={}\n", shell_quote(v)))
        .collect();
    format!(
        "# written by collect lab xen; run by dom0's init\n{exports}\
         hostname {hostname}\ncd {cwd}\nexport BENCHVM_CACHE={cache}\nexport RUST_LOG=${{RUST_LOG:-info}}\n{}\n",
        line.join(" "),
        hostname = shell_quote(hostname),
        cwd = shell_quote(&cwd.to_string_lossy()),
        cache = shell_quote(&cache.to_string_lossy()),
    )
}

/// Test hooks of the platforms that dom0's collect gets from this one's
/// environment.
fn forwarded_env(s: &LabSettings) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = [crate::platform::CRASH_GUEST_ENV]
        .iter()
        .filter_map(|k| Some(((*k).to_owned(), std::env::var(k).ok()?)))
        .collect();
    // dom0's collect reports each finished run on the console.
    env.push((crate::progress::LINES_ENV.to_owned(), "1".to_owned()));
    if let Some(data) = &s.data_disk {
        env.push((DATA_DISK_ENV.to_owned(), data.display().to_string()));
    }
    env
}

/// The job's step for booting the lab, in [`Progress`].
pub const BOOT_STEP: &str = "xen lab boot";

/// What the serial console said.
enum Said {
    Ready,
    Exit(String),
    Failed(String),
    Closed,
}

/// Runs the lab: boots the Xen host, runs collect in dom0, brings the
/// bundle back. With `progress`, dom0's collect reports each finished run
/// (the job's bar counts them) and the boot is a step of its own.
pub fn run(s: &LabSettings, progress: Option<&Progress>) -> Result<LabResult> {
    for a in &s.run_args {
        if ["--out", "--run-dir", "--scratch"].contains(&a.as_str()) {
            bail!("{a}: the lab chooses this itself (the bundle comes back to --out of `collect lab`)");
        }
        if a == "--json" {
            bail!("--json: the lab reads dom0's text output to bring the bundle back; `collect run --json` gives JSON for a lab run");
        }
    }
    let kernel = crate::fetch::guest_kernel(s.kernel.as_deref(), &s.cache)?;
    let xen = crate::fetch::xen_hypervisor(s.xen.as_deref(), &s.cache)?;
    // The guests' initramfs, built here so dom0 finds it in the cache.
    initramfs::build(&kernel, &s.cache)?;
    let dom0 = initramfs::build_with(
        &kernel,
        &s.cache,
        Contents {
            init: DOM0_INIT,
            modules: DOM0_MODULES,
        },
    )?;

    let created = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let stamp: String = created.chars().filter(char::is_ascii_digit).collect();
    fs::create_dir_all(&s.out).with_context(|| format!("creating {}", s.out.display()))?;
    let out = fs::canonicalize(&s.out)?;
    let lab_dir = out.join("work").join(format!("lab-{stamp}"));
    let share = lab_dir.join("share");
    fs::create_dir_all(&share).with_context(|| format!("creating {}", share.display()))?;
    for p in [&xen, &kernel.vmlinuz, &dom0.path, &share] {
        let t = p.to_string_lossy();
        if t.contains(',') || t.contains(char::is_whitespace) {
            bail!("{t}: the lab's QEMU command cannot take paths with commas or spaces");
        }
    }
    // dom0 runs a copy: rebuilding collect meanwhile changes nothing.
    let collect = share.join("collect");
    let exe = std::env::current_exe().context("locating the collect binary")?;
    fs::copy(&exe, &collect).with_context(|| format!("copying {}", exe.display()))?;
    let cwd = std::env::current_dir()?;
    // dom0 is named after the machine it runs on.
    let host = nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "host".into());
    let script = lab_script(
        &Path::new(SHARE_IN_DOM0).join("collect"),
        &cwd,
        &s.cache,
        &format!("{host}-xenlab"),
        &forwarded_env(s),
        &s.run_args,
    );
    fs::write(share.join("lab.sh"), &script)?;
    let disk = lab_dir.join("dom0-disk.img");
    crate::guest::disk::sparse_file(&disk, u64::from(s.disk_gib) << 30)?;

    let argv = qemu_argv(s, &xen, &kernel.vmlinuz, &dom0.path, &share, &disk);
    fs::write(
        lab_dir.join("qemu.cmdline"),
        format!(
            "{}\n",
            argv.iter()
                .map(|a| shell_quote(a))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    )?;
    let serial_path = lab_dir.join("serial.log");
    let result = boot_and_run(s, &argv, &lab_dir, &serial_path, progress);
    let _ = fs::remove_file(&disk);
    let _ = fs::remove_file(&collect);
    let rc = match result {
        Ok(rc) => rc,
        Err(e) => {
            return Err(e.context(format!(
                "the Xen lab failed; serial log: {}\n--- last lines of the serial log ---\n{}",
                serial_path.display(),
                tail(&serial_path, 30)
            )))
        }
    };
    let stdout = fs::read_to_string(share.join("run.stdout")).unwrap_or_default();
    let field = |k: &str| {
        stdout.lines().find_map(|l| {
            l.strip_prefix(k)
                .filter(|r| r.starts_with(' '))
                .map(|r| r.trim().to_owned())
        })
    };
    let (Some(bundle_in_dom0), Some(id)) = (field("bundle"), field("id")) else {
        bail!(
            "collect in dom0 ended with status {rc} and printed no bundle; serial log: {}\n\
             --- last lines of the serial log ---\n{}",
            serial_path.display(),
            tail(&serial_path, 30)
        );
    };
    let rel = Path::new(&bundle_in_dom0)
        .strip_prefix(SHARE_IN_DOM0)
        .with_context(|| format!("dom0 wrote its bundle outside the share: {bundle_in_dom0}"))?;
    let found = share.join(rel);
    let name = found.file_name().context("bundle without a file name")?;
    let bundle = out.join(name);
    fs::rename(&found, &bundle)
        .with_context(|| format!("moving {} to {}", found.display(), bundle.display()))?;
    if rc != "0" {
        log::warn!("collect in dom0 ended with status {rc} after packing its bundle");
    }
    Ok(LabResult {
        bundle,
        id,
        lab_dir,
    })
}

/// Boots the lab machine and follows its serial console to collect's end;
/// returns collect's exit status as dom0 reported it.
fn boot_and_run(
    s: &LabSettings,
    argv: &[String],
    lab_dir: &Path,
    serial: &Path,
    progress: Option<&Progress>,
) -> Result<String> {
    let (program, args) = argv.split_first().context("empty QEMU command")?;
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(File::create(lab_dir.join("qemu.log"))?);
    let started = Instant::now();
    let mut child = Owned::spawn(&mut cmd).with_context(|| format!("starting {program}"))?;
    let stdout = child.take_stdout().context("QEMU has no stdout pipe")?;
    let mut log = File::create(serial)?;
    let (tx, rx) = mpsc::channel();
    let bar = progress.cloned();
    let reader = std::thread::spawn(move || {
        let mut ready = false;
        let mut lines = BufReader::new(stdout);
        let mut buf = Vec::new();
        while lines
            .read_until(b'\n', &mut buf)
            .map(|n| n > 0)
            .unwrap_or(false)
        {
            let _ = log.write_all(&buf);
            let line = String::from_utf8_lossy(&buf).trim_end().to_owned();
            buf.clear();
            let said = if line.contains(READY) {
                ready = true;
                Some(Said::Ready)
            } else if let Some(at) = line.find(EXIT) {
                Some(Said::Exit(line[at + EXIT.len()..].trim().to_owned()))
            } else {
                line.find(FAILED).map(|at| {
                    Said::Failed(
                        line[at + FAILED.len()..]
                            .trim_start_matches(':')
                            .trim()
                            .to_owned(),
                    )
                })
            };
            // collect's own log in dom0, live; its progress lines move the
            // job's bar.
            if ready && said.is_none() && !line.is_empty() {
                match (&bar, crate::progress::Line::parse(&line)) {
                    (Some(p), Some(crate::progress::Line::Run(key))) => {
                        let pillar = key.split('/').nth(2).unwrap_or("runs");
                        p.finish(key, "xen", pillar);
                    }
                    (Some(p), Some(crate::progress::Line::Mark(what))) => p.mark("xen", what),
                    (Some(p), None) => p.suspend(|| crate::errln!("dom0| {line}")),
                    (None, _) => crate::errln!("dom0| {line}"),
                }
            }
            if let Some(s) = said {
                let _ = tx.send(s);
            }
        }
        let _ = log.flush();
        let _ = tx.send(Said::Closed);
    });
    log::info!(
        "booting Xen and dom0 under QEMU TCG (deadline {} s); serial log {}",
        s.dom0_timeout.as_secs(),
        serial.display()
    );
    let mut deadline = started + s.dom0_timeout;
    let mut ready = false;
    let outcome = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Said::Ready) => {
                ready = true;
                if let Some(p) = progress {
                    p.finish(BOOT_STEP, "xen", "lab boot");
                }
                log::info!(
                    "dom0 up after {:.0} s; running collect in dom0 (deadline {} s)",
                    started.elapsed().as_secs_f64(),
                    s.run_timeout.as_secs()
                );
                deadline = Instant::now() + s.run_timeout;
            }
            Ok(Said::Exit(rc)) => break Ok(rc),
            Ok(Said::Failed(why)) => break Err(anyhow::anyhow!("dom0 failed: {why}")),
            Ok(Said::Closed) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                break Err(anyhow::anyhow!(
                    "QEMU ended before {} (after {:.0} s)",
                    if ready {
                        "collect finished in dom0"
                    } else {
                        "dom0 was up"
                    },
                    started.elapsed().as_secs_f64()
                ))
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                break Err(anyhow::anyhow!(
                    "{} after {:.0} s; QEMU killed",
                    if ready {
                        format!(
                            "collect in dom0 did not finish within {} s",
                            s.run_timeout.as_secs()
                        )
                    } else {
                        format!("dom0 was not up within {} s", s.dom0_timeout.as_secs())
                    },
                    started.elapsed().as_secs_f64()
                ))
            }
        }
    };
    // dom0 powers off after its exit marker; give it a little time.
    let grace = if outcome.is_ok() { 60 } else { 0 };
    let _ = child.wait_until(Instant::now() + Duration::from_secs(grace));
    let _ = reader.join();
    outcome
}

/// The last `n` lines of a log file.
fn tail(path: &Path, n: usize) -> String {
    let text = fs::read(path).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dom0_script_runs_collect_with_the_lab_paths() {
        let script = lab_script(
            Path::new("/lab-out/collect"),
            Path::new("/work/main"),
            Path::new("/work/main/.cache"),
            "vm-xenlab",
            &[("BENCHVM_TEST_CRASH_GUEST".into(), "1".into())],
            &[
                "--suite".into(),
                "lab-smoke".into(),
                "--label".into(),
                "a b".into(),
            ],
        );
        assert!(script.contains(
            "/lab-out/collect run --suite lab-smoke --label 'a b' --out /lab-out/bundles \
             --run-dir /lab-out/run --scratch /var/lib/benchvm/scratch\n"
        ));
        assert!(script
            .contains("export BENCHVM_TEST_CRASH_GUEST=1\nhostname vm-xenlab\ncd /work/main\n"));
    }

    #[test]
    fn qemu_line_boots_xen_with_dom0_as_a_module() {
        let s = LabSettings {
            cache: "/c".into(),
            out: "/o".into(),
            kernel: None,
            xen: None,
            memory_mib: 2048,
            dom0_memory_mib: 1024,
            cpus: 2,
            disk_gib: 8,
            dom0_timeout: Duration::from_secs(1),
            run_timeout: Duration::from_secs(1),
            run_args: Vec::new(),
            data_disk: Some("/c/data-disks/data-0123.img".into()),
        };
        let argv = qemu_argv(
            &s,
            Path::new("/c/xen/xen-4.17.bin"),
            Path::new("/k/vmlinuz"),
            Path::new("/c/dom0.cpio"),
            Path::new("/o/share"),
            Path::new("/o/disk.img"),
        );
        let after = |flag: &str| {
            let i = argv.iter().position(|a| a == flag).expect(flag);
            argv[i + 1].clone()
        };
        assert_eq!(after("-cpu"), "qemu64,+svm");
        assert_eq!(after("-kernel"), "/c/xen/xen-4.17.bin");
        assert_eq!(
            after("-initrd"),
            "/k/vmlinuz console=hvc0 panic=-1 quiet benchvm.lab=qemu-tcg,/c/dom0.cpio"
        );
        assert!(after("-append").starts_with("dom0_mem=1024M,max:1024M console=com1"));
        // The data disk reaches dom0 as a read-only block device.
        let line = argv.join(" ");
        assert!(line.contains(
            "-drive file=/c/data-disks/data-0123.img,format=raw,if=none,id=labdata,readonly=on \
             -device virtio-blk-pci,drive=labdata,serial=benchvm-labdata"
        ));
    }
}
