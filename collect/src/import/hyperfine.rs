//! hyperfine's `--export-json` (hyperfine 1.x): `{"results": [...]}`, one
//! result per command, each with the wall time of every timed run in
//! `times` (seconds) and its exit status in `exit_codes`. Each run becomes
//! a row of the `overall` experiment (mapping in `collect/IMPORT.md`):
//!
//! - platform: the metadata's one platform;
//! - workload: the `command` (its `--command-name` when one was given) made
//!   a name; two commands that give one name get `_2`, `_3`, ... in file
//!   order; `parameters` (`--parameter-scan`) are in the command already;
//! - metric `wall_time`, unit `s`, direction `lower`, repetition = the
//!   run's place in `times`;
//! - a run whose exit code is not 0 (kept by `--ignore-failure`) is a
//!   `failed` row without a value.
//!
//! hyperfine's summaries (`mean`, `stddev`, `median`, `user`, `system`,
//! `min`, `max`) are not imported: they are computed from `times`, which
//! are. Errors name the JSON path (`results[1].times[2]`).

use std::collections::HashSet;

use benchvm_format::metrics::{Direction, MetricRow, Status, Unit};
use serde_json::Value;

use super::error::ImportError;
use super::meta::ImportMeta;
use super::names::{slug, with_suffix};
use super::table::Table;
use super::{json_error, single_platform, utf8, Described};

/// Experiment and metric of every hyperfine row.
pub const EXPERIMENT: &str = "overall";
pub const METRIC: &str = "wall_time";

/// Parses hyperfine JSON bytes of `file` into `table`.
pub fn parse(
    file: &str,
    bytes: &[u8],
    meta: (&str, &ImportMeta),
    run: &str,
    table: &mut Table,
) -> Result<Described, ImportError> {
    let (platform, facts) = single_platform(meta)?;
    let text = utf8(file, bytes)?;
    let doc: Value = serde_json::from_str(text).map_err(|e| json_error(file, &e))?;
    let fail = |path: &str, why: String| ImportError::file(file, format!("{path}: {why}"));
    let results = doc
        .get("results")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            fail(
                "results",
                "missing: not a hyperfine --export-json file".into(),
            )
        })?;
    let mut names = HashSet::new();
    let mut position = 0;
    for (i, result) in results.iter().enumerate() {
        let at = format!("results[{i}]");
        let command = result
            .get("command")
            .and_then(Value::as_str)
            .ok_or_else(|| fail(&format!("{at}.command"), "missing or not a string".into()))?;
        let base = Some(slug(command))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "command".into());
        let mut workload = base.clone();
        let mut n = 2;
        while !names.insert(workload.clone()) {
            workload = with_suffix(&base, &n.to_string());
            n += 1;
        }
        let times = result
            .get("times")
            .and_then(Value::as_array)
            .ok_or_else(|| fail(&format!("{at}.times"), "missing or not a list".into()))?;
        let codes = result.get("exit_codes").and_then(Value::as_array);
        for (k, time) in times.iter().enumerate() {
            let path = format!("{at}.times[{k}]");
            let value = time
                .as_f64()
                .ok_or_else(|| fail(&path, format!("{time} is not a number")))?;
            let code = codes.and_then(|c| c.get(k)).and_then(Value::as_i64);
            let failed = code.is_some_and(|c| c != 0);
            let row = MetricRow {
                platform: platform.clone(),
                accel: facts.accel.clone(),
                emulated: facts.emulated,
                experiment: EXPERIMENT.into(),
                workload: workload.clone(),
                metric: METRIC.into(),
                unit: Unit::SECONDS,
                direction: Direction::Lower,
                repetition: u32::try_from(k + 1).unwrap_or(u32::MAX),
                guest: None,
                n_guests: None,
                stressor: None,
                role: None,
                status: if failed { Status::Failed } else { Status::Ok },
                value: (!failed).then_some(value),
                run: run.to_owned(),
            };
            row.validate().map_err(|why| fail(&path, why))?;
            position += 1;
            table.push(row, position)?;
        }
    }
    Ok(Described::default())
}
