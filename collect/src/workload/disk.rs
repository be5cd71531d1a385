//! Disk write and read in the spirit of IOzone: one fio sequential job on a
//! file in the scratch folder.

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
    /// O_DIRECT (`--direct=1`), bypassing the page cache.
    #[serde(default)]
    pub direct: bool,
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
            format!("--direct={}", u8::from(self.direct)),
        ]);
        if self.rw == IoDirection::Write {
            // Count the flush to the device, as IOzone's -e does.
            measured.push("--end_fsync=1".into());
        }
        Steps {
            setup: vec![argv(&["rm", "-rf", &dir_s]), argv(&["mkdir", "-p", &dir_s])],
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
