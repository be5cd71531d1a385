//! Disk write and read in the spirit of IOzone: one fio sequential job on a
//! file in the scratch folder.
//!
//! The cache policy is one setting, the same on every platform, so disk
//! numbers measure the disk unless a suite asks otherwise:
//! - `io = "direct"` (the default): fio opens the file with O_DIRECT
//!   (`--direct=1`), past the page cache of the system that runs it; the
//!   guests' scratch disks are opened past the host's page cache too (QEMU
//!   `cache=none`, Xen qdisk `direct-io-safe`) where their folder supports
//!   O_DIRECT, which the platforms record (`scratch_cache`).
//! - `io = "cached"`: buffered I/O through that page cache, on purpose;
//!   the page cache is dropped before each run where allowed (root), and
//!   `setup.log` says whether it was.

use benchvm_format::metrics::{Direction, Unit};
use serde::{Deserialize, Serialize};

use super::{argv, MetricDef, Output, Requirement, StepContext, Steps, Workload};
use crate::parse::fio;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IoDirection {
    Write,
    Read,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiskParams {
    /// `write` or `read` (sequential).
    pub rw: IoDirection,
    /// Record size in KiB (`--bs`).
    pub block_kib: u32,
    /// File size in MiB (`--size`).
    pub file_mib: u32,
    /// The cache policy: `direct` (default) or `cached`.
    #[serde(default)]
    pub io: IoPolicy,
}

/// How a disk workload meets the page cache.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IoPolicy {
    /// O_DIRECT: the page cache is bypassed.
    #[default]
    Direct,
    /// Buffered through the page cache, dropped before each run where
    /// allowed.
    Cached,
}

impl IoPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            IoPolicy::Direct => "direct",
            IoPolicy::Cached => "cached",
        }
    }
}

/// What `setup.log` says when the page cache was dropped before a run.
pub const DROPPED: &str = "benchvm: page cache dropped";
/// What `setup.log` says when it could not be dropped.
pub const NOT_DROPPED: &str = "benchvm: page cache not dropped (not allowed here)";

/// What `run.json` of a disk run records about its cache policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiskRecord {
    pub policy: IoPolicy,
    /// fio's `--direct`.
    pub fio_direct: bool,
    /// `bypassed` (O_DIRECT), `dropped` before the run, `not-dropped`, or
    /// `unknown` (the setup did not get that far).
    pub page_cache: String,
    /// How the platform attaches the scratch disk.
    pub scratch: String,
}

impl DiskParams {
    /// The record of a run of these parameters on `platform` (its facts
    /// say how it attaches scratch disks) whose setup wrote `setup_log`.
    pub fn record(
        &self,
        platform: &str,
        facts: &std::collections::BTreeMap<String, String>,
        setup_log: &str,
    ) -> DiskRecord {
        let page_cache = match self.io {
            IoPolicy::Direct => "bypassed",
            IoPolicy::Cached if setup_log.contains(DROPPED) => "dropped",
            IoPolicy::Cached if setup_log.contains(NOT_DROPPED) => "not-dropped",
            IoPolicy::Cached => "unknown",
        };
        DiskRecord {
            policy: self.io,
            fio_direct: self.io == IoPolicy::Direct,
            page_cache: page_cache.into(),
            scratch: scratch_attachment(platform, facts),
        }
    }
}

/// How `platform` attaches its scratch disk, from its facts.
pub fn scratch_attachment(
    platform: &str,
    facts: &std::collections::BTreeMap<String, String>,
) -> String {
    let mode = facts.get("scratch_cache").map(String::as_str);
    match (platform, mode) {
        ("native", _) => "the host's own file system".into(),
        ("kvm", Some(m)) => format!("virtio-blk raw image, QEMU cache={m}"),
        ("xen", Some("direct-io-safe")) => {
            "qdisk raw image, direct-io-safe (O_DIRECT in dom0)".into()
        }
        ("xen", Some(m)) => format!("qdisk raw image, {m} (dom0's page cache)"),
        ("xen", None) => "qdisk raw image, dom0's page cache (no direct-io-safe)".into(),
        (p, m) => format!("{p} scratch disk, cache {}", m.unwrap_or("unknown")),
    }
}

impl DiskParams {
    fn job(&self) -> &'static str {
        match self.rw {
            IoDirection::Write => "seqwrite",
            IoDirection::Read => "seqread",
        }
    }
}

impl Workload for DiskParams {
    fn requirements(&self) -> Vec<Requirement> {
        vec![Requirement {
            what: "fio",
            package: "fio",
        }]
    }

    fn validate(&self) -> Result<(), (&'static str, String)> {
        if !self.block_kib.is_power_of_two() || self.block_kib > 64 * 1024 {
            return Err((
                "block_kib",
                format!("{} is not a power of two up to 65536", self.block_kib),
            ));
        }
        if self.file_mib == 0 || u64::from(self.file_mib) * 1024 < u64::from(self.block_kib) {
            return Err((
                "file_mib",
                format!(
                    "{} MiB does not hold one {} KiB record",
                    self.file_mib, self.block_kib
                ),
            ));
        }
        Ok(())
    }

    fn steps(&self, ctx: &StepContext) -> Steps {
        let dir = ctx.scratch.join("fio");
        let dir_s = dir.to_string_lossy().into_owned();
        let mut measured = argv(&[
            "fio",
            "--output-format=json",
            "--ioengine=psync",
            "--numjobs=1",
            "--invalidate=1",
        ]);
        measured.extend([
            format!("--name={}", self.job()),
            format!("--directory={dir_s}"),
            format!("--filename={}.dat", self.job()),
            format!(
                "--rw={}",
                if self.rw == IoDirection::Write {
                    "write"
                } else {
                    "read"
                }
            ),
            format!("--bs={}k", self.block_kib),
            format!("--size={}m", self.file_mib),
            format!("--direct={}", u8::from(self.io == IoPolicy::Direct)),
        ]);
        if self.rw == IoDirection::Write {
            // Count the flush to the device, as IOzone's -e does.
            measured.push("--end_fsync=1".into());
        }
        let mut setup = vec![argv(&["rm", "-rf", &dir_s]), argv(&["mkdir", "-p", &dir_s])];
        if self.io == IoPolicy::Cached {
            // Every run starts from the same cache: empty, where allowed.
            setup.push(argv(&[
                "sh",
                "-c",
                &format!(
                    "sync; if echo 3 > /proc/sys/vm/drop_caches 2>/dev/null; then echo '{DROPPED}'; else echo '{NOT_DROPPED}'; fi"
                ),
            ]));
        }
        Steps {
            setup,
            measured,
            cleanup: vec![argv(&["rm", "-rf", &dir_s])],
        }
    }

    fn metrics(&self) -> Vec<MetricDef> {
        vec![MetricDef {
            metric: "bandwidth",
            unit: Unit::MEGABYTES_PER_SECOND,
            direction: Direction::Higher,
        }]
    }

    fn measure(&self, out: &Output<'_>) -> Result<Vec<f64>, String> {
        let report = fio::parse(out.stdout).map_err(|e| e.to_string())?;
        let job = report
            .jobs
            .iter()
            .find(|j| j.name == self.job())
            .ok_or_else(|| format!("fio output has no job {:?}", self.job()))?;
        if job.error != 0 {
            return Err(format!(
                "fio job {} failed with error {}",
                job.name, job.error
            ));
        }
        let dir = match self.rw {
            IoDirection::Write => &job.write,
            IoDirection::Read => &job.read,
        };
        if dir.io_bytes == 0 {
            return Err(format!("fio job {} moved no data", job.name));
        }
        Ok(vec![dir.mb_per_s()])
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use super::*;

    fn params(io: Option<&str>) -> DiskParams {
        let mut text = String::from("rw = \"read\"\nblock_kib = 1024\nfile_mib = 64\n");
        if let Some(io) = io {
            text.push_str(&format!("io = \"{io}\"\n"));
        }
        toml::from_str(&text).expect("params")
    }

    fn ctx() -> StepContext {
        StepContext {
            scratch: PathBuf::from("/s"),
            cpus: 2,
            kernel_source: None,
            agent: None,
        }
    }

    #[test]
    fn direct_io_is_the_default_and_cached_drops_the_page_cache_first() {
        let direct = params(None);
        assert_eq!(direct.io, IoPolicy::Direct);
        let steps = direct.steps(&ctx());
        assert!(steps.measured.contains(&"--direct=1".to_owned()));
        assert_eq!(steps.setup.len(), 2, "no cache to drop");
        let cached = params(Some("cached")).steps(&ctx());
        assert!(cached.measured.contains(&"--direct=0".to_owned()));
        let drop = cached.setup.last().expect("a drop step");
        assert!(drop[2].contains("/proc/sys/vm/drop_caches"), "{drop:?}");
        assert!(toml::from_str::<DiskParams>(
            "rw = \"read\"\nblock_kib = 1\nfile_mib = 1\nio = \"fast\"\n"
        )
        .is_err());
    }

    #[test]
    fn each_run_records_the_policy_as_it_met_it() {
        let kvm = BTreeMap::from([("scratch_cache".to_owned(), "none".to_owned())]);
        let r = params(None).record("kvm", &kvm, "");
        assert_eq!(
            (
                r.policy,
                r.fio_direct,
                r.page_cache.as_str(),
                r.scratch.as_str()
            ),
            (
                IoPolicy::Direct,
                true,
                "bypassed",
                "virtio-blk raw image, QEMU cache=none"
            )
        );
        let cached = params(Some("cached"));
        let log = format!("$ sh -c ...\n{DROPPED}\n");
        assert_eq!(
            cached.record("native", &BTreeMap::new(), &log).page_cache,
            "dropped"
        );
        let log = format!("$ sh -c ...\n{NOT_DROPPED}\n");
        assert_eq!(
            cached.record("native", &BTreeMap::new(), &log).page_cache,
            "not-dropped"
        );
        let xen = BTreeMap::from([("scratch_cache".to_owned(), "direct-io-safe".to_owned())]);
        assert!(cached
            .record("xen", &xen, "")
            .scratch
            .contains("O_DIRECT in dom0"));
    }
}
