//! Tools compile: one of the small user-space programs that ship in the
//! Linux tree (`tools/<tool>`), built out of tree (`make O=...`) from the
//! same extracted linux-source-6.1 as the kernel compile. A real compile
//! of a real project (gcc, make, the kernel's uapi headers), without the
//! Kconfig step that makes even a `tinyconfig` kernel build minutes long
//! under TCG; the smoke scalability experiment uses it.
//!
//! Sizes natively on a busy 2-core host: `spi` 4 objects (two programs)
//! in ~0.35 s, `gpio` 10 objects in ~0.5-1 s, `iio` 8 in ~1.3 s, `objtool`
//! 26 (with libsubcmd) in ~5 s.

use serde::{Deserialize, Serialize};

use super::{
    argv, path_arg, Asset, MetricDef, Output, Requirement, StepContext, Steps, Workload, WALL_TIME,
};

/// Folders of `tools/` that build with `make O=...` and need nothing the
/// kernel compile does not already require.
const TOOLS: [&str; 4] = ["spi", "gpio", "iio", "objtool"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolsCompileParams {
    /// The folder under `tools/`.
    pub tool: String,
    /// `-j`; 0 means one job per available CPU.
    #[serde(default)]
    pub jobs: u32,
}

impl Workload for ToolsCompileParams {
    fn requirements(&self) -> Vec<Requirement> {
        let mut r = vec![
            Requirement {
                what: "make",
                package: "make",
            },
            Requirement {
                what: "gcc",
                package: "gcc",
            },
            Requirement {
                what: crate::kernel_source::TARBALL,
                package: "linux-source-6.1",
            },
        ];
        if self.tool == "objtool" {
            r.push(Requirement {
                what: "/usr/include/libelf.h",
                package: "libelf-dev",
            });
        }
        r
    }

    fn assets(&self) -> Vec<Asset> {
        vec![Asset::KernelSource]
    }

    fn validate(&self) -> Result<(), (&'static str, String)> {
        if !TOOLS.contains(&self.tool.as_str()) {
            return Err((
                "tool",
                format!("{:?} is not one of {}", self.tool, TOOLS.join(", ")),
            ));
        }
        if self.jobs > 1024 {
            return Err(("jobs", format!("{} is over 1024", self.jobs)));
        }
        Ok(())
    }

    fn steps(&self, ctx: &StepContext) -> Steps {
        let src = ctx
            .kernel_source
            .clone()
            .unwrap_or_default()
            .join("tools")
            .join(&self.tool);
        let build = ctx.scratch.join("tbuild");
        let jobs = if self.jobs == 0 { ctx.cpus } else { self.jobs };
        // tools/ Makefiles want O= to end in a slash.
        let out = format!("O={}/", build.display());
        Steps {
            setup: vec![
                argv(&["rm", "-rf", &build.to_string_lossy()]),
                argv(&["mkdir", "-p", &build.to_string_lossy()]),
            ],
            measured: vec![
                "make".to_owned(),
                "-s".to_owned(),
                path_arg("-C", &src),
                out,
                format!("-j{}", jobs.max(1)),
            ],
            cleanup: vec![argv(&["rm", "-rf", &build.to_string_lossy()])],
        }
    }

    fn metrics(&self) -> Vec<MetricDef> {
        vec![WALL_TIME]
    }

    fn measure(&self, out: &Output<'_>) -> Result<Vec<f64>, String> {
        Ok(vec![out.wall_s])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn builds_out_of_tree_and_refuses_unknown_tools() {
        let p = ToolsCompileParams {
            tool: "gpio".into(),
            jobs: 0,
        };
        let steps = p.steps(&StepContext {
            scratch: PathBuf::from("/s"),
            cpus: 2,
            kernel_source: Some(PathBuf::from("/k")),
            agent: None,
        });
        assert_eq!(
            steps.measured,
            ["make", "-s", "-C/k/tools/gpio", "O=/s/tbuild/", "-j2"]
        );
        let bad = ToolsCompileParams {
            tool: "perf".into(),
            jobs: 0,
        };
        assert_eq!(bad.validate().map_err(|e| e.0), Err("tool"));
    }
}
