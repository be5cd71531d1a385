//! Workloads: each a real tool, its command lines and the parser that turns
//! its output into metrics. One workload kind per file.

mod compile;
mod cpu;
mod disk;
mod tools_compile;
mod web;

use std::path::{Path, PathBuf};

use benchvm_format::metrics::{Direction, Unit};
use serde::{Deserialize, Serialize};

pub use compile::CompileParams;
pub use cpu::CpuParams;
pub use disk::{scratch_attachment, DiskParams, DiskRecord, IoPolicy};
pub use tools_compile::ToolsCompileParams;
pub use web::WebParams;

/// A workload kind and its parameters, as a suite gives them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum WorkloadSpec {
    SysbenchCpu(CpuParams),
    KernelCompile(CompileParams),
    Fio(DiskParams),
    ToolsCompile(ToolsCompileParams),
    Web(WebParams),
}

impl WorkloadSpec {
    pub fn workload(&self) -> &dyn Workload {
        match self {
            WorkloadSpec::SysbenchCpu(p) => p,
            WorkloadSpec::KernelCompile(p) => p,
            WorkloadSpec::Fio(p) => p,
            WorkloadSpec::ToolsCompile(p) => p,
            WorkloadSpec::Web(p) => p,
        }
    }

    /// Checks parameter values; returns the offending key and why.
    pub fn validate(&self) -> Result<(), (String, String)> {
        self.workload()
            .validate()
            .map_err(|(k, r)| (k.to_owned(), r))
    }
}

/// Something a workload needs on the host besides its tools.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Asset {
    /// The extracted Linux source tree (see `kernel_source`).
    KernelSource,
    /// A build folder of that tree configured with this config target and
    /// prepared (`kernel_source::prepare_seed`).
    KernelBuildSeed(String),
}

/// A program or file a workload needs, and the Debian package that has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requirement {
    /// A program name looked up in PATH, or an absolute file path.
    pub what: &'static str,
    pub package: &'static str,
}

/// Where and with what a workload's commands run.
#[derive(Debug, Clone)]
pub struct StepContext {
    /// A folder the workload may fill and empty (on a guest: its scratch disk).
    pub scratch: PathBuf,
    /// CPUs available to the workload (host CPUs natively, vCPUs in a guest).
    pub cpus: u32,
    /// The extracted kernel tree, when the workload asked for it.
    pub kernel_source: Option<PathBuf>,
    /// The collect binary guests run (`guest-agent`, `guest-phase`);
    /// `None` when workloads run on the host.
    pub agent: Option<PathBuf>,
}

/// Commands of one run. Each is an argv run in the scratch folder; only
/// `measured` is timed and parsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Steps {
    pub setup: Vec<Vec<String>>,
    pub measured: Vec<String>,
    pub cleanup: Vec<Vec<String>>,
}

/// A metric a workload reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricDef {
    pub metric: &'static str,
    pub unit: Unit,
    pub direction: Direction,
}

/// Wall time of the measured command, reported by most workloads.
pub const WALL_TIME: MetricDef = MetricDef {
    metric: "wall_time",
    unit: Unit::SECONDS,
    direction: Direction::Lower,
};

/// What the measured command left behind.
#[derive(Debug, Clone)]
pub struct Output<'a> {
    pub stdout: &'a str,
    /// Wall time of the measured command, from a monotonic clock.
    pub wall_s: f64,
}

/// A benchmark workload.
pub trait Workload: std::fmt::Debug {
    /// Programs and files the workload needs.
    fn requirements(&self) -> Vec<Requirement>;
    /// Host-side things to prepare once, before any run.
    fn assets(&self) -> Vec<Asset> {
        Vec::new()
    }
    /// Checks parameter values.
    fn validate(&self) -> Result<(), (&'static str, String)>;
    /// The commands of one run.
    fn steps(&self, ctx: &StepContext) -> Steps;
    /// The metrics every repetition reports, in order.
    fn metrics(&self) -> Vec<MetricDef>;
    /// Parses the measured command's output into one value per metric, in
    /// the order of [`Workload::metrics`]. An error means the run failed.
    fn measure(&self, out: &Output<'_>) -> Result<Vec<f64>, String>;
}

pub(crate) fn argv(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| (*s).to_owned()).collect()
}

pub(crate) fn path_arg(prefix: &str, path: &Path) -> String {
    format!("{prefix}{}", path.display())
}
