//! PerfKitBenchmarker samples as its newline-delimited JSON publisher
//! writes them (`--json_path`, also with `--json_write_mode=ab`, which
//! appends run after run): one sample per line, with `test` (the
//! benchmark), `metric`, `value`, `unit`, `timestamp`, `run_uri` and
//! `sample_uri`, and the sample's metadata either as an object (`metadata`,
//! with `--collapse_labels=false`) or collapsed into one string (`labels`:
//! `|key:value|,|key:value|`, the default). Each sample becomes a row of
//! the `overall` experiment (mapping in `collect/IMPORT.md`):
//!
//! - platform: the metadata's one platform; workload: `test`; metric:
//!   `metric` made a name; unit: `unit`, as written or in its canonical
//!   spelling (an empty unit, a dimensionless score, is `1`);
//! - direction: PKB does not record one: `lower` for durations (by unit)
//!   and for metrics named after a latency, time or runtime, else `higher`;
//! - repetition: samples of one test and metric count 1, 2, ... in file
//!   order (runs appended one after another, or one run's samples that
//!   differ only in metadata);
//! - PKB's information samples (value 0, no unit: `lscpu`, `proccpu`, ...)
//!   are skipped and counted.
//!
//! Host facts come from metadata keys every sample agrees on: `num_cpus`,
//! `kernel_release`, `os_info`; `machine_type`, `cloud`, `zone` and
//! `image` go to the platform's facts. The file is read line by line.

use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;

use benchvm_format::metrics::{Direction, MetricRow, Status, Unit};
use serde_json::Value;

use super::error::{ImportError, Location};
use super::meta::ImportMeta;
use super::names::slug;
use super::table::Table;
use super::{single_platform, Described};

/// Experiment of every PKB row.
pub const EXPERIMENT: &str = "overall";
/// Unit of a sample PKB wrote without one (a dimensionless score).
pub const NO_UNIT: &str = "1";
/// Metadata keys that give host facts.
const HOST_KEYS: [&str; 3] = ["num_cpus", "kernel_release", "os_info"];
/// Metadata keys kept as the platform's facts (`pkb_<key>`).
const PLATFORM_KEYS: [&str; 5] = [
    "machine_type",
    "cloud",
    "zone",
    "image",
    "perfkitbenchmarker_version",
];

/// Parses PKB samples from `input` (`file` names it) into `table`.
pub fn parse(
    file: &str,
    input: &mut dyn BufRead,
    meta: (&str, &ImportMeta),
    run: &str,
    table: &mut Table,
) -> Result<Described, ImportError> {
    let (platform, facts) = single_platform(meta)?;
    let mut repetitions: HashMap<(String, String), u32> = HashMap::new();
    let mut agreed: BTreeMap<&'static str, Option<String>> = BTreeMap::new();
    let mut info = 0usize;
    let mut line = 0usize;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = input
            .read_until(b'\n', &mut buf)
            .map_err(|e| ImportError::file(file, format!("reading: {e}")))?;
        if n == 0 {
            break;
        }
        line += 1;
        let at = |column: Option<(usize, String)>| Location {
            file: file.to_owned(),
            line,
            column,
        };
        let text = std::str::from_utf8(&buf)
            .map_err(|_| ImportError::at(at(None), "not valid UTF-8"))?
            .trim();
        if text.is_empty() {
            continue;
        }
        let sample: Value = serde_json::from_str(text).map_err(|e| {
            ImportError::at(
                at(Some((e.column(), String::new()))),
                format!("not a JSON sample: {e}"),
            )
        })?;
        let field = |name: &str| sample.get(name);
        let fail = |name: &str, why: &str| ImportError::at(at(None), format!("`{name}`: {why}"));
        let test = field("test")
            .and_then(Value::as_str)
            .ok_or_else(|| fail("test", "missing or not a string"))?;
        let metric = field("metric")
            .and_then(Value::as_str)
            .ok_or_else(|| fail("metric", "missing or not a string"))?;
        let value = field("value")
            .and_then(Value::as_f64)
            .ok_or_else(|| fail("value", "missing or not a number"))?;
        let unit_text = field("unit")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim();
        let metadata = metadata_of(&sample);
        if unit_text.is_empty() && value == 0.0 {
            info += 1;
            continue;
        }
        for key in HOST_KEYS.iter().chain(&PLATFORM_KEYS) {
            let v = metadata.get(*key).cloned();
            agreed
                .entry(key)
                .and_modify(|seen| {
                    if *seen != v {
                        *seen = None;
                    }
                })
                .or_insert(v);
        }
        let unit = Unit::normalise(if unit_text.is_empty() {
            NO_UNIT
        } else {
            unit_text
        })
        .map_err(|e| fail("unit", &e.to_string()))?;
        let (workload, metric_name) = (slug(test), slug(metric));
        if workload.is_empty() || metric_name.is_empty() {
            return Err(fail(
                "metric",
                &format!("no name can be made of test {test:?} and metric {metric:?}"),
            ));
        }
        let repetition = repetitions
            .entry((workload.clone(), metric_name.clone()))
            .or_insert(0);
        *repetition += 1;
        let row = MetricRow {
            platform: platform.clone(),
            accel: facts.accel.clone(),
            emulated: facts.emulated,
            experiment: EXPERIMENT.into(),
            direction: direction(metric, &unit),
            unit,
            workload,
            metric: metric_name,
            repetition: *repetition,
            guest: None,
            n_guests: None,
            stressor: None,
            role: None,
            status: Status::Ok,
            value: Some(value),
            run: run.to_owned(),
        };
        table.push(row, line)?;
    }
    let mut summary = benchvm_format::EnvSummary::default();
    let get = |k: &str| agreed.get(k).cloned().flatten();
    summary.cpus = get("num_cpus")
        .and_then(|n| n.parse().ok())
        .filter(|n| *n > 0);
    summary.kernel = get("kernel_release");
    summary.os = get("os_info");
    let platform_facts: BTreeMap<String, String> = PLATFORM_KEYS
        .iter()
        .filter_map(|k| get(k).map(|v| (format!("pkb_{k}"), v)))
        .collect();
    summary.platforms.insert(platform, platform_facts);
    let notes = if info > 0 {
        vec![format!(
            "{info} information sample(s) (value 0, no unit) skipped"
        )]
    } else {
        Vec::new()
    };
    Ok(Described {
        tool: Some("PerfKitBenchmarker".into()),
        summary,
        notes,
        ..Described::default()
    })
}

/// The sample's metadata as text: the `metadata` object, or the
/// collapsed `labels` string `|key:value|,|key:value|`.
fn metadata_of(sample: &Value) -> BTreeMap<String, String> {
    if let Some(map) = sample.get("metadata").and_then(Value::as_object) {
        return map
            .iter()
            .map(|(k, v)| {
                let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                (k.clone(), text)
            })
            .collect();
    }
    let labels = sample
        .get("labels")
        .and_then(Value::as_str)
        .unwrap_or_default();
    labels
        .split("|,|")
        .filter_map(|pair| {
            let pair = pair.trim_matches('|');
            pair.split_once(':')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
        })
        .collect()
}

/// PKB does not say which way is better: durations and latencies are
/// better lower, everything else higher.
pub fn direction(metric: &str, unit: &Unit) -> Direction {
    let m = metric.to_ascii_lowercase();
    let timed = ["latency", "time", "runtime", "duration"]
        .iter()
        .any(|w| m.contains(w));
    if unit.is_duration() || timed {
        Direction::Lower
    } else {
        Direction::Higher
    }
}
