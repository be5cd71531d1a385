//! fio's `--output-format=json` and `json+` (fio 2.x and 3.x): a document
//! with one entry per job in `jobs` (or `client_stats`, when fio ran as a
//! client of fio servers). Text fio printed before the document (`note:
//! ...` lines when stderr went to the same file) is skipped. Each job
//! gives, for each direction (`read`, `write`, `trim`) that moved data,
//! these rows of the `overall` experiment (mapping in `collect/IMPORT.md`):
//!
//! | metric | from | unit | better |
//! |---|---|---|---|
//! | `<dir>_bandwidth` | `bw_bytes` (fio 3), else `bw` | `bytes/s`, else `KiB/s` | higher |
//! | `<dir>_iops` | `iops` | `IOPS` | higher |
//! | `<dir>_lat_mean` | `lat_ns.mean`, else `lat.mean` | `ns`, else `us` | lower |
//! | `<dir>_clat_mean` | `clat_ns.mean`, else `clat.mean` | `ns`, else `us` | lower |
//! | `<dir>_clat_p99` | `clat_ns.percentile["99.000000"]` | `ns`, else `us` | lower |
//!
//! The workload is the `jobname`; jobs of one name (`numjobs` without
//! `group_reporting`) are repetitions 1, 2, ... in file order. A job whose
//! `error` is not 0 gives `failed` rows. `json+`'s latency `bins` are not
//! imported. No value is converted.

use std::collections::HashMap;

use benchvm_format::metrics::{Direction, MetricRow, Status, Unit};
use serde_json::Value;

use super::error::ImportError;
use super::meta::ImportMeta;
use super::names::slug;
use super::table::Table;
use super::{json_error, single_platform, utf8, Described};

/// Experiment of every fio row.
pub const EXPERIMENT: &str = "overall";
/// Directions fio reports, in its order.
pub const DIRECTIONS: [&str; 3] = ["read", "write", "trim"];

/// Parses fio JSON bytes of `file` into `table`.
pub fn parse(
    file: &str,
    bytes: &[u8],
    meta: (&str, &ImportMeta),
    run: &str,
    table: &mut Table,
) -> Result<Described, ImportError> {
    let (platform, facts) = single_platform(meta)?;
    let text = utf8(file, bytes)?;
    // The document starts at the first line that opens an object.
    let start = text
        .match_indices('{')
        .map(|(i, _)| i)
        .find(|&i| i == 0 || text.as_bytes()[i - 1] == b'\n')
        .ok_or_else(|| ImportError::file(file, "no JSON document (fio --output-format=json)"))?;
    let doc = serde_json::Deserializer::from_str(&text[start..])
        .into_iter::<Value>()
        .next()
        .unwrap_or(Ok(Value::Null))
        .map_err(|e| {
            let skipped = text[..start].matches('\n').count();
            let mut err = json_error(file, &e);
            if let ImportError::At { at, .. } = &mut err {
                at.line += skipped;
            }
            err
        })?;
    let fail = |path: &str, why: String| ImportError::file(file, format!("{path}: {why}"));
    let (key, jobs) = ["jobs", "client_stats"]
        .iter()
        .find_map(|k| doc.get(*k).and_then(Value::as_array).map(|j| (*k, j)))
        .ok_or_else(|| fail("jobs", "missing: not fio JSON output".into()))?;
    let mut seen: HashMap<String, u32> = HashMap::new();
    let mut position = 0;
    for (i, job) in jobs.iter().enumerate() {
        let at = format!("{key}[{i}]");
        let name = job
            .get("jobname")
            .and_then(Value::as_str)
            .ok_or_else(|| fail(&format!("{at}.jobname"), "missing or not a string".into()))?;
        // fio's client mode adds an "All clients" sum of the others.
        if key == "client_stats" && name == "All clients" {
            continue;
        }
        let workload = Some(slug(name))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "job".into());
        let repetition = {
            let n = seen.entry(workload.clone()).or_insert(0);
            *n += 1;
            *n
        };
        let failed = job.get("error").and_then(Value::as_i64).unwrap_or(0) != 0;
        for dir in DIRECTIONS {
            let Some(stats) = job.get(dir) else { continue };
            let moved = stats.get("io_bytes").and_then(Value::as_f64).unwrap_or(0.0)
                + stats
                    .get("total_ios")
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0);
            if moved <= 0.0 && !failed {
                continue;
            }
            for (metric, value, unit, direction) in measures(stats) {
                let Some(value) = value else { continue };
                let path = format!("{at}.{dir}");
                let row = MetricRow {
                    platform: platform.clone(),
                    accel: facts.accel.clone(),
                    emulated: facts.emulated,
                    experiment: EXPERIMENT.into(),
                    workload: workload.clone(),
                    metric: format!("{dir}_{metric}"),
                    unit,
                    direction,
                    repetition,
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
    }
    let tool = doc
        .get("fio version")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(Described {
        tool,
        ..Described::default()
    })
}

/// One direction's measures: (metric, value, unit, direction); a value fio
/// did not write is `None`.
fn measures(stats: &Value) -> Vec<(&'static str, Option<f64>, Unit, Direction)> {
    let num = |v: Option<&Value>| v.and_then(Value::as_f64);
    let unit = |u: &str| Unit::normalise(u).unwrap_or(Unit::BYTES);
    let (bw, bw_unit) = match num(stats.get("bw_bytes")) {
        Some(b) => (Some(b), unit("bytes/s")),
        None => (num(stats.get("bw")), unit("KiB/s")),
    };
    // fio 3 reports latencies in ns (`lat_ns`), fio 2 in us (`lat`).
    let (lat, clat, lat_unit) = match (stats.get("lat_ns"), stats.get("clat_ns")) {
        (None, None) => (stats.get("lat"), stats.get("clat"), unit("us")),
        (l, c) => (l, c, unit("ns")),
    };
    let counted = |v: Option<&Value>| {
        v.filter(|s| s.get("N").and_then(Value::as_u64) != Some(0))
            .and_then(|s| num(s.get("mean")))
    };
    let p99 = clat
        .and_then(|c| c.get("percentile"))
        .and_then(|p| num(p.get("99.000000")));
    vec![
        ("bandwidth", bw, bw_unit, Direction::Higher),
        (
            "iops",
            num(stats.get("iops")),
            unit("IOPS"),
            Direction::Higher,
        ),
        ("lat_mean", counted(lat), lat_unit.clone(), Direction::Lower),
        (
            "clat_mean",
            counted(clat),
            lat_unit.clone(),
            Direction::Lower,
        ),
        ("clat_p99", p99, lat_unit, Direction::Lower),
    ]
}
