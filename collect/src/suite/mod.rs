//! Suite files (`suites/*.toml`): parsed strictly, then validated into a
//! [`Suite`]. Unknown keys and bad values are errors that name the file and
//! the key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use benchvm_core::registry::PlatformKind;
use serde::{Deserialize, Serialize};

use crate::workload::WorkloadSpec;

mod multi_guest;
mod schedule;

use multi_guest::{isolation, scalability, RawIsolation, RawScalability};
pub use multi_guest::{Isolation, Scalability, MAX_GUESTS, MAX_ISOLATION_GUESTS};
pub use schedule::Schedule;
use schedule::{check_schedule, repetitions};

/// A suite error: which file, which key, what is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{}: {key}: {reason}", file.display())]
pub struct SuiteError {
    pub file: PathBuf,
    pub key: String,
    pub reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuite {
    name: String,
    description: Option<String>,
    platforms: Vec<String>,
    defaults: RawDefaults,
    guest: Option<GuestSize>,
    experiments: RawExperiments,
    workloads: BTreeMap<String, toml::Table>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
    repetitions: toml::Value,
    warmups: u32,
    deadline_s: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExperiments {
    overall: Option<RawOverall>,
    scalability: Option<RawScalability>,
    isolation: Option<RawIsolation>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOverall {
    workloads: Vec<String>,
}

/// Size of every guest of the suite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuestSize {
    pub vcpus: u32,
    pub memory_mib: u32,
    pub scratch_gib: u32,
}

impl Default for GuestSize {
    fn default() -> Self {
        GuestSize {
            vcpus: 2,
            memory_mib: 1024,
            scratch_gib: 4,
        }
    }
}

/// A workload as the suite configures it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkloadEntry {
    pub name: String,
    pub schedule: Schedule,
    pub spec: WorkloadSpec,
}

/// A validated suite.
#[derive(Debug, Clone, Serialize)]
pub struct Suite {
    pub name: String,
    pub description: String,
    pub platforms: Vec<PlatformKind>,
    pub guest: GuestSize,
    /// Workloads of the overall-performance experiment, in suite order.
    pub overall: Vec<WorkloadEntry>,
    pub scalability: Option<Scalability>,
    pub isolation: Option<Isolation>,
    /// The file as given, byte for byte (it goes into the bundle).
    #[serde(skip)]
    pub source: String,
    #[serde(skip)]
    pub path: PathBuf,
}

/// The suites shipped with collect, compiled in (their files are in the
/// repository's `suites/`): a name given to `--suite` is one of these.
pub const BUILTIN: &[(&str, &str)] = &[
    ("smoke", include_str!("../../../suites/smoke.toml")),
    ("quick", include_str!("../../../suites/quick.toml")),
    ("ci", include_str!("../../../suites/ci.toml")),
    ("paper", include_str!("../../../suites/paper.toml")),
    ("lab-smoke", include_str!("../../../suites/lab-smoke.toml")),
    ("lab-multi", include_str!("../../../suites/lab-multi.toml")),
];

/// Where a suite comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SuiteRef {
    /// A suite compiled into collect, by name.
    Builtin(String),
    /// A suite file (an absolute path once resolved).
    File(PathBuf),
}

impl SuiteRef {
    /// `--suite`: a path (it holds a `/` or ends in `.toml`) is a file;
    /// anything else is a name, looked up in `suites_dir` first when one
    /// is given, then among the built-in suites.
    pub fn locate(name_or_path: &str, suites_dir: Option<&Path>) -> Result<SuiteRef, SuiteError> {
        let as_path = Path::new(name_or_path);
        if as_path.extension().is_some() || name_or_path.contains('/') {
            return Ok(SuiteRef::File(as_path.to_path_buf()));
        }
        if let Some(dir) = suites_dir {
            let file = dir.join(format!("{name_or_path}.toml"));
            if file.is_file() {
                return Ok(SuiteRef::File(file));
            }
        }
        if BUILTIN.iter().any(|(n, _)| *n == name_or_path) {
            return Ok(SuiteRef::Builtin(name_or_path.to_owned()));
        }
        let names: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
        Err(SuiteError {
            file: PathBuf::from(name_or_path),
            key: "(suite)".into(),
            reason: format!(
                "no such suite: the built-in ones are {}; a suite file is given by its path (e.g. ./{name_or_path}.toml)",
                names.join(", ")
            ),
        })
    }

    /// The suite's text as it is now.
    pub fn source(&self) -> Result<String, SuiteError> {
        match self {
            SuiteRef::Builtin(name) => BUILTIN
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, text)| (*text).to_owned())
                .ok_or_else(|| SuiteError {
                    file: self.display_path(),
                    key: "(suite)".into(),
                    reason: "this collect has no such built-in suite".into(),
                }),
            SuiteRef::File(path) => read_capped(path),
        }
    }

    /// How messages name the suite: its file, or `<built-in>/NAME.toml`.
    pub fn display_path(&self) -> PathBuf {
        match self {
            SuiteRef::Builtin(name) => PathBuf::from(format!("<built-in>/{name}.toml")),
            SuiteRef::File(path) => path.clone(),
        }
    }
}

fn read_capped(path: &Path) -> Result<String, SuiteError> {
    benchvm_format::input::read_text(path, benchvm_format::input::SUITE_CAP, "suite file").map_err(
        |e| SuiteError {
            file: path.to_path_buf(),
            key: "(file)".into(),
            reason: e.why(),
        },
    )
}

/// Reads and validates a suite.
pub fn load(suite: &SuiteRef) -> Result<Suite, SuiteError> {
    let source = suite.source()?;
    parse(&source, &suite.display_path())
}

/// Validates suite text; `path` is only used in messages.
pub fn parse(source: &str, path: &Path) -> Result<Suite, SuiteError> {
    let err = |key: &str, reason: String| SuiteError {
        file: path.to_path_buf(),
        key: key.into(),
        reason,
    };
    let raw: RawSuite = toml::from_str(source).map_err(|e| {
        let reason = in_words(e.message());
        let key = e
            .span()
            .map(|s| format!("line {}", source[..s.start].lines().count().max(1)))
            .unwrap_or_else(|| "(document)".into());
        err(&key, reason)
    })?;
    if raw.name.is_empty()
        || !raw
            .name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(err("name", "must be 1+ characters of [A-Za-z0-9_-]".into()));
    }
    let platforms = check_platforms(&raw.platforms).map_err(|r| err("platforms", r))?;
    let mut defaults = Schedule {
        repetitions: 1,
        warmups: raw.defaults.warmups,
        deadline_s: raw.defaults.deadline_s,
        adaptive: None,
    };
    repetitions(&raw.defaults.repetitions, &mut defaults)
        .map_err(|(k, r)| err(&format!("defaults.repetitions{k}"), r))?;
    check_schedule(&defaults).map_err(|(k, r)| err(&format!("defaults.{k}"), r))?;
    let guest = raw.guest.unwrap_or_default();
    if !(1..=64).contains(&guest.vcpus)
        || !(128..=1 << 20).contains(&guest.memory_mib)
        || !(1..=1024).contains(&guest.scratch_gib)
    {
        return Err(err(
            "guest",
            "vcpus 1-64, memory_mib 128-1048576, scratch_gib 1-1024".into(),
        ));
    }
    let mut workloads = BTreeMap::new();
    for (name, table) in raw.workloads {
        let key = format!("workloads.{name}");
        let entry = workload_entry(&name, table, defaults)
            .map_err(|(k, r)| err(&format!("{key}{k}"), r))?;
        workloads.insert(name, entry);
    }
    let mut overall = Vec::new();
    if let Some(o) = raw.experiments.overall {
        for name in o.workloads {
            let entry = workloads.get(&name).ok_or_else(|| {
                err(
                    "experiments.overall.workloads",
                    format!("names {name:?}, which [workloads] does not define"),
                )
            })?;
            overall.push(entry.clone());
        }
    }
    let scalability = match raw.experiments.scalability {
        Some(r) => Some(
            scalability(r, &workloads)
                .map_err(|(k, r)| err(&format!("experiments.scalability.{k}"), r))?,
        ),
        None => None,
    };
    if let Some(w) = overall
        .iter()
        .find(|w| matches!(w.spec, WorkloadSpec::Web(_)))
    {
        return Err(err(
            "experiments.overall.workloads",
            format!(
                "{:?} is a web workload: it runs in [experiments.isolation] only",
                w.name
            ),
        ));
    }
    let isolation = match raw.experiments.isolation {
        Some(r) => Some(
            isolation(r, &workloads)
                .map_err(|(k, r)| err(&format!("experiments.isolation.{k}"), r))?,
        ),
        None => None,
    };
    if overall.is_empty() && scalability.is_none() && isolation.is_none() {
        return Err(err("experiments", "the suite runs no workload".into()));
    }
    Ok(Suite {
        name: raw.name,
        description: raw.description.unwrap_or_default(),
        platforms,
        guest,
        overall,
        scalability,
        isolation,
        source: source.to_owned(),
        path: path.to_path_buf(),
    })
}

/// A TOML error message with serde's type names in words: `integer
/// `4294967296`, expected u32` says which numbers fit.
fn in_words(message: &str) -> String {
    [
        (
            "expected u32",
            "expected a whole number from 0 to 4294967295",
        ),
        (
            "expected u64",
            "expected a whole number from 0 to 18446744073709551615",
        ),
        ("expected f64", "expected a number"),
        ("expected usize", "expected a whole number"),
    ]
    .iter()
    .fold(message.to_owned(), |m, (from, to)| m.replace(from, to))
}

/// Checks a platform list against the registry (also used for
/// `--platform`).
pub fn check_platforms(platforms: &[String]) -> Result<Vec<PlatformKind>, String> {
    if platforms.is_empty() {
        return Err("names no platform".into());
    }
    let mut kinds = Vec::with_capacity(platforms.len());
    for p in platforms {
        let kind = PlatformKind::parse(p).ok_or_else(|| {
            format!(
                "unknown platform {p:?} (known: {})",
                PlatformKind::names().join(", ")
            )
        })?;
        if kinds.contains(&kind) {
            return Err(format!("platform {p:?} given twice"));
        }
        kinds.push(kind);
    }
    Ok(kinds)
}

/// Splits a workload table into its schedule overrides and its kind's
/// parameters, each parsed strictly.
fn workload_entry(
    name: &str,
    mut table: toml::Table,
    defaults: Schedule,
) -> Result<WorkloadEntry, (String, String)> {
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_'))
    {
        return Err((String::new(), "workload names are [a-z0-9_-]".into()));
    }
    let mut schedule = defaults;
    if let Some(value) = table.remove("repetitions") {
        repetitions(&value, &mut schedule).map_err(|(k, r)| (format!(".repetitions{k}"), r))?;
    }
    for (key, slot) in [("warmups", 1), ("deadline_s", 2)] {
        if let Some(value) = table.remove(key) {
            let n = value
                .as_integer()
                .and_then(|n| u64::try_from(n).ok())
                .ok_or_else(|| {
                    (
                        format!(".{key}"),
                        "must be a non-negative integer".to_owned(),
                    )
                })?;
            // A count too large for the schedule is reported as given.
            let count = || {
                u32::try_from(n).map_err(|_| (format!(".{key}"), format!("{n} is outside 0-100")))
            };
            match slot {
                1 => schedule.warmups = count()?,
                _ => schedule.deadline_s = n,
            }
        }
    }
    check_schedule(&schedule).map_err(|(k, r)| (format!(".{k}"), r))?;
    let spec: WorkloadSpec = toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| (String::new(), e.message().to_owned()))?;
    spec.validate().map_err(|(k, r)| (format!(".{k}"), r))?;
    Ok(WorkloadEntry {
        name: name.to_owned(),
        schedule,
        spec,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped(name: &str) -> Suite {
        load(&SuiteRef::Builtin(name.into())).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn shipped_suites_carry_the_scalability_experiment_at_their_size() {
        for (name, ns) in [
            ("smoke", &[1, 2][..]),
            ("quick", &[1, 2][..]),
            ("ci", &[1, 2][..]),
            ("paper", &[1, 2, 4, 8, 16, 30][..]),
        ] {
            let s = shipped(name).scalability.expect(name);
            assert_eq!(s.n_guests, ns, "{name}");
            assert_eq!(s.repetitions, 1, "{name}");
            assert!(s.guest_memory_mib.is_some(), "{name}");
        }
    }

    #[test]
    fn shipped_suites_carry_the_isolation_experiment_at_their_size() {
        for (name, guests, reps) in [("smoke", 2, 1), ("quick", 2, 1), ("paper", 4, 3)] {
            let s = shipped(name).isolation.expect(name);
            assert_eq!((s.guests, s.repetitions), (guests, reps), "{name}");
            assert_eq!(
                s.stressors,
                crate::isolation::stressor::Stressor::ALL,
                "{name}"
            );
            assert!(matches!(s.workload.spec, WorkloadSpec::Web(_)), "{name}");
        }
    }

    #[test]
    fn every_built_in_suite_loads_and_the_main_jobs_cover_three_platforms() {
        for (name, _) in BUILTIN {
            let suite = shipped(name);
            assert_eq!(suite.name, *name);
        }
        for name in ["quick", "ci"] {
            let s = shipped(name);
            assert_eq!(s.platforms.len(), 3, "{name}: {:?}", s.platforms);
            assert!(s.isolation.is_some() && s.scalability.is_some(), "{name}");
        }
        let ci = shipped("ci").isolation.expect("ci isolation");
        assert_eq!(ci.stressors.len(), 1);
    }

    #[test]
    fn isolation_errors_name_the_key() {
        let base = r#"
name = "s"
platforms = ["kvm"]
[defaults]
repetitions = 1
warmups = 0
deadline_s = 60
[experiments.isolation]
workload = "w"
guests = 2
[workloads.w]
kind = "web"
rate_per_s = 5.0
duration_s = 10
[workloads.c]
kind = "sysbench-cpu"
max_prime = 100
events = 10
threads = 1
"#;
        assert!(parse(base, Path::new("s.toml")).is_ok());
        for (from, to, key) in [
            ("guests = 2", "guests = 1", "experiments.isolation.guests"),
            (
                "guests = 2",
                "stressors = [\"cpu\", \"gpu\"]",
                "experiments.isolation.stressors",
            ),
            (
                "guests = 2",
                "stressors = [\"cpu\", \"cpu\"]",
                "experiments.isolation.stressors",
            ),
            (
                "guests = 2",
                "stressors = []",
                "experiments.isolation.stressors",
            ),
            (
                "workload = \"w\"",
                "workload = \"c\"",
                "experiments.isolation.workload",
            ),
            (
                "rate_per_s = 5.0",
                "rate_per_s = 0.0",
                "workloads.w.rate_per_s",
            ),
            (
                "duration_s = 10",
                "duration_s = 10\ntime_tolerable_s = 1.0",
                "workloads.w.time_tolerable_s",
            ),
        ] {
            let text = base.replace(from, to);
            let err = parse(&text, Path::new("s.toml")).expect_err(to).to_string();
            assert!(
                err.starts_with("s.toml: ") && err.contains(key),
                "{err} (wanted {key})"
            );
        }
        let overall = format!("{base}[experiments.overall]\nworkloads = [\"w\"]\n");
        let err = parse(&overall, Path::new("s.toml"))
            .expect_err("web in overall")
            .to_string();
        assert!(err.contains("experiments.overall.workloads"), "{err}");
    }

    #[test]
    fn scalability_errors_name_the_key() {
        let base = r#"
name = "s"
platforms = ["kvm"]
[defaults]
repetitions = 1
warmups = 0
deadline_s = 60
[experiments.scalability]
workload = "c"
n_guests = [1, 2]
[workloads.c]
kind = "tools-compile"
tool = "gpio"
"#;
        assert!(parse(base, Path::new("s.toml")).is_ok());
        for (from, to, key) in [
            (
                "n_guests = [1, 2]",
                "n_guests = [2, 1]",
                "experiments.scalability.n_guests",
            ),
            (
                "n_guests = [1, 2]",
                "n_guests = []",
                "experiments.scalability.n_guests",
            ),
            (
                "n_guests = [1, 2]",
                "n_guests = [1, 65]",
                "experiments.scalability.n_guests",
            ),
            (
                "workload = \"c\"",
                "workload = \"d\"",
                "experiments.scalability.workload",
            ),
            (
                "n_guests = [1, 2]",
                "n_guests = [1]\nguest_memory_mib = 64",
                "experiments.scalability.guest_memory_mib",
            ),
            ("n_guests = [1, 2]", "n_guests = [1]\nguests = 3", "line"),
        ] {
            let text = base.replace(from, to);
            let err = parse(&text, Path::new("s.toml")).expect_err(to).to_string();
            assert!(
                err.starts_with("s.toml: ") && err.contains(key),
                "{err} (wanted {key})"
            );
        }
    }
}
