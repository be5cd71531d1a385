//! A platform that runs nothing: it answers each run with canned output
//! chosen by the measured program's name. It exists for fast, deterministic
//! tests of the runner, the run folder, the metrics pipeline and
//! `analyze verify --rederive`; the real platforms have end-to-end tests of
//! their own.
//!
//! Named `kvm` or `xen`, it leaves the raw files the real platform leaves
//! about its guests, in the same form: each run's `boot.json` (with the
//! QEMU command line, or the domU's xl.cfg), `console.log` with the
//! agent's markers (and `xl.cfg` for xen), and, when it records into a run
//! folder ([`Fake::recording`]), the generated configs under
//! `config/<platform>/` (`guest-NNN.cmdline`, `guest-NNN.cfg`, and for xen
//! `xl-info.txt` and `dom0-cmdline.txt`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use benchvm_format::metrics::Status;
use serde_json::json;

use super::kvm::qemu::{Accel, QemuCommand};
use super::xen::config::{XenGuestType, XlConfig};
use super::xen::host::LAB_FLAG;
use super::{guest_dir, ParallelRequest, Platform, RunOutcome, RunRequest};
use crate::guest::console;
use crate::quiet;
use crate::workload::{StepContext, Steps};

/// What the fake answers for one program.
#[derive(Debug, Clone)]
pub struct Canned {
    pub stdout: String,
    pub status: Status,
    pub wall_s: f64,
}

#[derive(Debug)]
pub struct Fake {
    pub name: &'static str,
    pub accel: String,
    pub emulated: bool,
    /// Program name (`sysbench`, `fio`, `make`) -> answer.
    pub answers: BTreeMap<String, Canned>,
    /// Program name -> wall times its answers take in turn (cycling),
    /// instead of its answer's own.
    pub walls: BTreeMap<String, Vec<f64>>,
    /// Every measured command, in order.
    pub seen: Vec<Vec<String>>,
    /// Guests (1-based) that do not return in every scalability run.
    pub dnr_guests: Vec<u32>,
    /// xen: `benchvm.lab=` of dom0's command line (an emulated Xen host).
    pub lab: Option<String>,
    /// The `quiet.json` every measured step leaves (see [`Fake::quiet`]).
    pub evidence: quiet::Evidence,
    /// The run folder whose `config/<platform>/` receives generated configs.
    record: Option<PathBuf>,
    /// Guests started so far.
    guests: u32,
}

impl Fake {
    /// A fake platform. `kvm` runs as a machine without KVM does (accel
    /// `tcg`, emulated); `xen` as PV domUs on a real Xen host (`xen-pv`);
    /// any other name on the host (`none`).
    pub fn new(name: &'static str) -> Self {
        let (accel, emulated) = match name {
            "kvm" => ("tcg", true),
            "xen" => ("xen-pv", false),
            _ => ("none", false),
        };
        Fake {
            name,
            accel: accel.into(),
            emulated,
            answers: BTreeMap::new(),
            walls: BTreeMap::new(),
            seen: Vec::new(),
            dnr_guests: Vec::new(),
            lab: None,
            evidence: quiet_evidence(0, 0),
            record: None,
            guests: 0,
        }
    }

    /// kvm: runs its guests under `accel` (QEMU's `-accel`).
    pub fn qemu_accel(mut self, accel: Accel) -> Self {
        self.accel = accel.name().into();
        self.emulated = accel == Accel::Tcg;
        self
    }

    /// xen: the Xen host itself runs under emulation (`collect lab xen`).
    pub fn lab(mut self, kind: &str) -> Self {
        self.lab = Some(kind.into());
        self.emulated = true;
        self
    }

    /// Records generated configs into the run folder at `root`, as the
    /// real platform does; for xen also `xl info` and dom0's command line.
    pub fn recording(mut self, root: &Path) -> anyhow::Result<Self> {
        self.record = Some(root.to_path_buf());
        if self.name == "xen" {
            let cmdline = match &self.lab {
                Some(kind) => format!("console=hvc0 quiet {LAB_FLAG}={kind}\n"),
                None => "console=hvc0 quiet\n".to_owned(),
            };
            self.config("dom0-cmdline.txt", &cmdline)?;
            self.config("xl-info.txt", XL_INFO)?;
        }
        Ok(self)
    }

    /// Every measured step leaves this quiet evidence: `steal` and
    /// `others` ticks of 2000 (10 s on 2 CPUs) went to steal and to other
    /// processes.
    pub fn quiet(mut self, steal: u64, others: u64) -> Self {
        self.evidence = quiet_evidence(steal, others);
        self
    }

    /// Makes guest `guest` of every scalability run crash (dnr).
    pub fn crash_guest(mut self, guest: u32) -> Self {
        self.dnr_guests.push(guest);
        self
    }

    /// The measured runs of `program` take these wall times in turn.
    pub fn wall_times(mut self, program: &str, walls: &[f64]) -> Self {
        self.walls.insert(program.into(), walls.to_vec());
        self
    }

    pub fn answer(mut self, program: &str, stdout: &str, status: Status, wall_s: f64) -> Self {
        self.answers.insert(
            program.into(),
            Canned {
                stdout: stdout.into(),
                status,
                wall_s,
            },
        );
        self
    }

    fn is_guest_platform(&self) -> bool {
        matches!(self.name, "kvm" | "xen")
    }

    fn config(&self, name: &str, text: &str) -> anyhow::Result<()> {
        if let Some(root) = &self.record {
            let dir = root.join("config").join(self.name);
            std::fs::create_dir_all(&dir)?;
            std::fs::write(dir.join(name), text)?;
        }
        Ok(())
    }

    /// Writes what a real guest of this platform leaves in `dir`: its
    /// console, `boot.json` and generated config. `failure`: why the
    /// guest ended early.
    fn guest_files(&mut self, dir: &Path, run: &str, failure: Option<&str>) -> anyhow::Result<()> {
        self.guests += 1;
        let tag = format!("guest-{:03}", self.guests);
        let mut text = format!("{} 1.000 {tag}-boot-id\n", console::READY);
        match failure {
            None => text.push_str(&format!(
                "{} 0\n{} 0 ok\n{}\n",
                console::BEGIN,
                console::END,
                console::DONE
            )),
            Some(why) => text.push_str(&format!("{} 0\n{why}\n", console::BEGIN)),
        }
        std::fs::write(dir.join("console.log"), text)?;
        let boot = if self.name == "kvm" {
            let accel = if self.accel == "kvm" {
                Accel::Kvm
            } else {
                Accel::Tcg
            };
            let line = QemuCommand::new(
                accel,
                Path::new("/fake/vmlinuz"),
                Path::new("/fake/initramfs.cpio"),
            )
            .host_root()
            .line();
            self.config(&format!("{tag}.cmdline"), &format!("{line}\n"))?;
            json!({
                "guest": tag, "accel": accel.name(), "boot_to_ready_s": 1.0,
                "ready_uptime_s": 1.0, "runs": [run], "position": 0,
                "qemu_ended": if failure.is_some() { "exit status 0" } else { "powered off" },
                "failure": failure, "command_line": line, "boot_id": format!("{tag}-boot-id"),
            })
        } else {
            let domain = format!("benchvm-fake-{:03}", self.guests);
            let cfg = XlConfig::new(
                &domain,
                XenGuestType::Pv,
                PathBuf::from("/fake/vmlinuz"),
                PathBuf::from("/fake/initramfs.cpio"),
            )
            .render();
            self.config(&format!("{tag}.cfg"), &cfg)?;
            std::fs::write(dir.join("xl.cfg"), &cfg)?;
            json!({
                "guest": tag, "domain": domain, "accel": self.accel,
                "boot_to_ready_s": 1.0, "ready_uptime_s": 1.0, "runs": [run],
                "position": 0, "domain_ended": "shutdown", "failure": failure,
                "config": cfg,
            })
        };
        std::fs::write(dir.join("boot.json"), serde_json::to_vec_pretty(&boot)?)?;
        Ok(())
    }
}

/// `xl info` of a Xen host, as the fake's xen platform records it.
const XL_INFO: &str = "host                   : fake\nrelease                : 6.1.0\nxen_major              : 4\nxen_minor              : 17\nxen_version            : 4.17.5\nxen_caps               : xen-3.0-x86_64 hvm-3.0-x86_64\nvirt_caps              : pv hvm\n";

impl Platform for Fake {
    fn name(&self) -> &'static str {
        self.name
    }

    fn accel(&self) -> String {
        self.accel.clone()
    }

    fn emulated(&self) -> bool {
        self.emulated
    }

    fn guests(&self) -> Option<u32> {
        self.is_guest_platform().then_some(1)
    }

    fn facts(&self) -> BTreeMap<String, String> {
        let mut facts = BTreeMap::from([
            ("accel".into(), self.accel.clone()),
            ("fake".into(), "true".into()),
        ]);
        if self.name == "xen" {
            facts.insert(
                "lab".into(),
                self.lab.clone().unwrap_or_else(|| "none".into()),
            );
        }
        facts
    }

    fn context(&self) -> StepContext {
        StepContext {
            scratch: PathBuf::from("/nonexistent/scratch"),
            cpus: 2,
            kernel_source: None,
            agent: None,
        }
    }

    fn execute(
        &mut self,
        steps: &Steps,
        dir: &Path,
        _deadline: Duration,
    ) -> anyhow::Result<RunOutcome> {
        self.answer_run(steps, dir, &dir.display().to_string())
    }

    fn execute_all(
        &mut self,
        runs: &[RunRequest<'_>],
        done: &mut dyn FnMut(usize, RunOutcome) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        for (i, run) in runs.iter().enumerate() {
            let outcome = self.answer_run(run.steps, run.dir, &run.name)?;
            done(i, outcome)?;
        }
        Ok(())
    }

    fn execute_parallel(&mut self, run: &ParallelRequest<'_>) -> anyhow::Result<Vec<RunOutcome>> {
        let mut out = Vec::new();
        for guest in 1..=run.n_guests {
            let dir = guest_dir(run.dir, guest);
            let name = format!("{}/guest-{guest}", run.name);
            std::fs::create_dir_all(&dir)?;
            if self.dnr_guests.contains(&guest) {
                self.guest_files(
                    &dir,
                    &name,
                    Some("Kernel panic - not syncing: sysrq triggered crash"),
                )?;
                out.push(RunOutcome {
                    status: Status::Dnr,
                    wall_s: None,
                    reason: Some(format!("fake guest {guest} crashed")),
                    exit_code: None,
                });
            } else {
                out.push(self.answer_run(run.steps, &dir, &name)?);
            }
        }
        Ok(out)
    }
}

impl Fake {
    /// Answers one run (`name`: its folder in the bundle) in `dir`.
    fn answer_run(&mut self, steps: &Steps, dir: &Path, name: &str) -> anyhow::Result<RunOutcome> {
        self.seen.push(steps.measured.clone());
        let program = steps.measured.first().cloned().unwrap_or_default();
        let mut canned = self.answers.get(&program).cloned().unwrap_or(Canned {
            stdout: String::new(),
            status: Status::Failed,
            wall_s: 0.0,
        });
        if let Some(walls) = self.walls.get(&program).filter(|w| !w.is_empty()) {
            let turn = self
                .seen
                .iter()
                .filter(|m| m.first() == Some(&program))
                .count();
            canned.wall_s = walls[(turn - 1) % walls.len()];
        }
        std::fs::write(dir.join("stdout.log"), &canned.stdout)?;
        std::fs::write(dir.join("stderr.log"), "")?;
        std::fs::write(
            dir.join(quiet::FILE),
            serde_json::to_vec_pretty(&self.evidence)?,
        )?;
        if self.is_guest_platform() {
            self.guest_files(dir, name, None)?;
        }
        Ok(match canned.status {
            Status::Ok => RunOutcome {
                status: Status::Ok,
                wall_s: Some(canned.wall_s),
                reason: None,
                exit_code: Some(0),
            },
            other => RunOutcome {
                status: other,
                wall_s: None,
                reason: Some(format!("fake {program}: {}", status_name(other))),
                exit_code: None,
            },
        })
    }
}

/// 10 s of a measured step on 2 CPUs (2000 ticks): the step used 10 s of
/// CPU, `steal` ticks were stolen, other processes used `others`.
pub fn quiet_evidence(steal: u64, others: u64) -> quiet::Evidence {
    let snap = |uptime_s: f64, cpu: quiet::CpuTimes, children_cpu_s: f64| quiet::Snapshot {
        uptime_s,
        loadavg: [0.25, 0.2, 0.1],
        runnable: 1,
        tasks: 120,
        cpu,
        cpus: 2,
        freq_mhz: vec![2400.0, 2400.0],
        freq_source: "cpuinfo".into(),
        governor: None,
        self_cpu_s: 0.5,
        children_cpu_s,
    };
    let before = quiet::CpuTimes {
        user: 5000,
        idle: 20000,
        ..quiet::CpuTimes::default()
    };
    let after = quiet::CpuTimes {
        user: 5000 + 1000 + others,
        idle: 20000 + 1000 - others - steal,
        steal,
        ..quiet::CpuTimes::default()
    };
    quiet::Evidence {
        scope: quiet::Scope::Step,
        before: snap(100.0, before, 2.0),
        after: snap(110.0, after, 12.0),
    }
}

fn status_name(status: Status) -> &'static str {
    match status {
        Status::Ok => "ok",
        Status::Failed => "failed",
        Status::Dnr => "dnr",
    }
}
