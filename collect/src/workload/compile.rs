//! Kernel compile: an out-of-tree build (`make O=...`) of Debian's
//! linux-source-6.1 tree, extracted once into the cache. The tree is
//! configured and prepared once (`crate::kernel_source::prepare_seed`:
//! `make CONFIG` and `make prepare`, untimed); each run copies that build
//! folder into its scratch space and times `make TARGETS` (the kernel when
//! no target is given).

use serde::{Deserialize, Serialize};

use super::{
    argv, path_arg, Asset, MetricDef, Output, Requirement, StepContext, Steps, Workload, WALL_TIME,
};

/// Configurations the build may start from.
const CONFIGS: [&str; 4] = ["tinyconfig", "allnoconfig", "defconfig", "olddefconfig"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompileParams {
    /// The configuration target (`tinyconfig`, `defconfig`...).
    pub config: String,
    /// Make targets to build; empty means the default target (the kernel).
    #[serde(default)]
    pub targets: Vec<String>,
    /// `-j`; 0 means one job per available CPU.
    #[serde(default)]
    pub jobs: u32,
}

impl Workload for CompileParams {
    fn requirements(&self) -> Vec<Requirement> {
        vec![
            Requirement {
                what: "make",
                package: "make",
            },
            Requirement {
                what: "gcc",
                package: "gcc",
            },
            Requirement {
                what: "flex",
                package: "flex",
            },
            Requirement {
                what: "bison",
                package: "bison",
            },
            Requirement {
                what: "bc",
                package: "bc",
            },
            Requirement {
                what: "/usr/include/libelf.h",
                package: "libelf-dev",
            },
            Requirement {
                what: "/usr/include/openssl/ssl.h",
                package: "libssl-dev",
            },
            Requirement {
                what: crate::kernel_source::TARBALL,
                package: "linux-source-6.1",
            },
        ]
    }

    fn assets(&self) -> Vec<Asset> {
        vec![
            Asset::KernelSource,
            Asset::KernelBuildSeed(self.config.clone()),
        ]
    }

    fn validate(&self) -> Result<(), (&'static str, String)> {
        if !CONFIGS.contains(&self.config.as_str()) {
            return Err((
                "config",
                format!("{:?} is not one of {}", self.config, CONFIGS.join(", ")),
            ));
        }
        for t in &self.targets {
            let ok = !t.is_empty()
                && !t.starts_with('-')
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"/_.-".contains(&b));
            if !ok {
                return Err(("targets", format!("{t:?} is not a plain make target")));
            }
        }
        if self.jobs > 1024 {
            return Err(("jobs", format!("{} is over 1024", self.jobs)));
        }
        Ok(())
    }

    fn steps(&self, ctx: &StepContext) -> Steps {
        let src = ctx.kernel_source.clone().unwrap_or_default();
        let build = ctx.scratch.join("kbuild");
        let jobs = if self.jobs == 0 { ctx.cpus } else { self.jobs };
        let make = |extra: &[String]| {
            let mut v = vec![
                "make".to_owned(),
                "-s".to_owned(),
                path_arg("-C", &src),
                path_arg("O=", &build),
            ];
            v.extend_from_slice(extra);
            v
        };
        let mut measured = make(&[format!("-j{jobs}")]);
        measured.extend(self.targets.iter().cloned());
        let seed = crate::kernel_source::seed_dir(&src, &self.config);
        Steps {
            setup: vec![
                argv(&["rm", "-rf", &build.to_string_lossy()]),
                argv(&[
                    "cp",
                    "-a",
                    &seed.to_string_lossy(),
                    &build.to_string_lossy(),
                ]),
            ],
            measured,
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
