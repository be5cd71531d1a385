//! `analyze verify --rederive`: the metrics table is re-derived from the raw
//! tool output inside the bundle and must match it row by row. A bundle
//! whose table was edited and re-hashed into a new, self-consistent bundle
//! passes every hash check; it does not pass this one.
//!
//! Method: `config/plan.json` names each run's workload and parameters;
//! for every run with `ok` rows, the run's `stdout.log` is parsed again by
//! the same parser collect used (the `collect` library), with the wall time
//! recorded in its `run.json`, and each value must equal the table's
//! exactly (both are the same f64 written in shortest round-trip form).
//!
//! An isolation run's `good_rate` is measured on the host, not parsed
//! from the guest: each guest folder keeps the load client's report
//! (`load.json`), and the value must be its good share recomputed from the
//! counts (`collect::isolation::client::share_pct`); an ok row needs a
//! report in which the guest answered.
//!
//! An imported bundle (`collect import`) has no plan and no run logs: its
//! raw source and metadata file are kept byte for byte under `import/`, so
//! they are imported again by the same code (`collect::import::derive`)
//! and the metrics table, `env/summary.json`, `import/origin.json` and the
//! manifest's description must all be what they give.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use benchvm_format::env::{EnvSummary, SUMMARY_PATH};
use benchvm_format::metrics::{self, MetricRow, Status, METRICS_PATH};
use benchvm_format::{read, Bundle, Limits};
use collect::import::{self, Origin};
use collect::isolation::client::{share_pct, LoadReport};
use collect::plan::{Phase, Plan, PlannedRun};
use collect::workload::Output;
use serde::Deserialize;

const PLAN: &str = "config/plan.json";

/// The part of a run's `run.json` needed here.
#[derive(Debug, Deserialize)]
struct RunFile {
    outcome: RunOutcomeFile,
}

#[derive(Debug, Deserialize)]
struct RunOutcomeFile {
    status: Status,
    wall_s: Option<f64>,
}

fn wanted(path: &str) -> bool {
    path == METRICS_PATH
        || path == PLAN
        || path == SUMMARY_PATH
        || path.starts_with("import/")
        || (path.starts_with("runs/")
            && (path.ends_with("/stdout.log")
                || path.ends_with("/run.json")
                || path.ends_with("/load.json")))
}

/// Re-derives every ok value; returns how many values were checked.
pub fn check(path: &Path, limits: &Limits) -> Result<usize> {
    let bundle = read::open(path, limits, &|f| wanted(&f.path))?;
    if bundle.manifest.tool.name == import::meta::IMPORTER
        || bundle.file(import::ORIGIN_PATH).is_some()
    {
        return check_import(&bundle);
    }
    let plan: Plan = serde_json::from_slice(
        bundle
            .file(PLAN)
            .context("the bundle has no config/plan.json to re-derive from")?,
    )
    .context("parsing config/plan.json")?;
    let rows = metrics::parse(bundle.file(METRICS_PATH).unwrap_or_default())?;
    let mut by_run: BTreeMap<&str, Vec<(usize, &MetricRow)>> = BTreeMap::new();
    for (i, row) in rows.iter().enumerate() {
        by_run
            .entry(row.run.as_str())
            .or_default()
            .push((i + 1, row));
    }
    let mut checked = 0;
    for run in &plan.runs {
        let Phase::Rep(repetition) = run.phase else {
            continue;
        };
        // A scalability run keeps each guest's logs (and rows) in a
        // folder of its own.
        let folders: Vec<String> = match run.n_guests {
            None => vec![run.folder()],
            Some(n) => (1..=n).map(|g| run.guest_folder(g)).collect(),
        };
        for folder in folders {
            let table = by_run.remove(folder.as_str()).unwrap_or_default();
            checked += match run.stressor {
                Some(_) => check_isolation_guest(&bundle, &folder, repetition, &table)?,
                None => check_run(&bundle, run, &folder, repetition, &table)?,
            };
        }
    }
    if let Some((folder, table)) = by_run.into_iter().next() {
        bail!(
            "metrics.ndjson line {}: run {folder} is not in the plan",
            table[0].0
        );
    }
    Ok(checked)
}

/// Re-derives the `good_rate` row of one isolation guest from its
/// `load.json`; returns how many values were checked.
fn check_isolation_guest(
    bundle: &Bundle,
    folder: &str,
    repetition: u32,
    table: &[(usize, &MetricRow)],
) -> Result<usize> {
    let Some((line, row)) = table.iter().find(|(_, r)| r.status == Status::Ok) else {
        return Ok(0);
    };
    let load: LoadReport = serde_json::from_slice(
        bundle
            .file(&format!("{folder}/load.json"))
            .with_context(|| {
                format!("metrics.ndjson line {line}: {folder} is ok but has no load.json")
            })?,
    )
    .with_context(|| format!("{folder}/load.json"))?;
    if load.good + load.tolerable + load.failed != load.scheduled || load.good + load.tolerable == 0
    {
        bail!(
            "{folder}/load.json: counts do not add up or the guest answered nothing, yet metrics.ndjson line {line} is ok"
        );
    }
    let value = share_pct(load.good, load.scheduled);
    if row.repetition != repetition || row.value != Some(value) {
        bail!(
            "metrics.ndjson line {line}: {}: the table says {}, the load report of {folder} gives {value}",
            describe(row),
            row.value.map_or("null".to_owned(), |v| v.to_string()),
        );
    }
    Ok(1)
}

/// Re-derives the values of one run folder against its table rows;
/// returns how many were checked.
fn check_run(
    bundle: &benchvm_format::read::Bundle,
    run: &PlannedRun,
    folder: &str,
    repetition: u32,
    table: &[(usize, &MetricRow)],
) -> Result<usize> {
    let record: Option<RunFile> = bundle
        .file(&format!("{folder}/run.json"))
        .map(serde_json::from_slice)
        .transpose()
        .with_context(|| format!("{folder}/run.json"))?;
    let mut checked = 0;
    let Some(record) = record else {
        if !table.is_empty() {
            bail!(
                "metrics.ndjson line {}: run {folder} has no raw logs in the bundle",
                table[0].0
            );
        }
        return Ok(0);
    };
    let workload = run.workload.spec.workload();
    let defs = workload.metrics();
    if record.outcome.status != Status::Ok {
        if let Some((line, row)) = table.iter().find(|(_, r)| r.status == Status::Ok) {
            bail!(
                "metrics.ndjson line {line}: {} of {folder} is ok, but the run ended {:?}",
                row.metric,
                record.outcome.status
            );
        }
        return Ok(0);
    }
    let stdout = bundle
        .file(&format!("{folder}/stdout.log"))
        .map(String::from_utf8_lossy)
        .unwrap_or_default();
    let values = workload
        .measure(&Output {
            stdout: &stdout,
            wall_s: record.outcome.wall_s.unwrap_or(0.0),
        })
        .map_err(|e| anyhow::anyhow!("{folder}: raw output does not parse: {e}"))?;
    for (def, value) in defs.iter().zip(&values) {
        let Some((line, row)) = table.iter().find(|(_, r)| r.metric == def.metric) else {
            bail!(
                "{folder}: the raw output gives {} = {value}, but metrics.ndjson has no such row",
                def.metric
            );
        };
        if row.repetition != repetition || row.value != Some(*value) || row.status != Status::Ok {
            bail!(
                "metrics.ndjson line {line}: {} {} rep {}: the table says {}, the raw output of {folder} gives {value}",
                row.workload,
                row.metric,
                row.repetition,
                row.value.map_or("null".to_owned(), |v| v.to_string()),
            );
        }
        checked += 1;
    }
    Ok(checked)
}

/// Imports the bundle's kept source again and compares; returns how many
/// ok values were checked.
fn check_import(bundle: &Bundle) -> Result<usize> {
    let file = |path: &str| {
        bundle
            .file(path)
            .with_context(|| format!("the imported bundle has no {path} to re-derive from"))
    };
    let origin: Origin = serde_json::from_slice(file(import::ORIGIN_PATH)?)
        .with_context(|| format!("parsing {}", import::ORIGIN_PATH))?;
    if origin.source != origin.format.source_path() || origin.meta != import::META_PATH {
        bail!(
            "{}: source {} and meta {} are not where a {:?} import keeps them",
            import::ORIGIN_PATH,
            origin.source,
            origin.meta,
            origin.format
        );
    }
    let derived = import::derive(
        origin.format,
        (&origin.source, file(&origin.source)?),
        (import::META_PATH, file(import::META_PATH)?),
    )
    .context("the source kept in the bundle does not import")?;
    if derived.origin != origin {
        bail!(
            "{}: differs from what {} gives",
            import::ORIGIN_PATH,
            import::META_PATH
        );
    }
    let (mut told, given) = (bundle.manifest.meta(), derived.run_meta);
    if told.tool.name != given.tool.name {
        bail!(
            "manifest.json: tool {:?}, but an imported bundle is made by {:?}",
            told.tool.name,
            given.tool.name
        );
    }
    // The importer's version is the bundle's own; the rest comes from the inputs.
    told.tool = given.tool.clone();
    if told != given {
        bail!(
            "manifest.json: label, host, created, suite or platforms differ from what {} and the source give",
            import::META_PATH
        );
    }
    let mut summary: EnvSummary =
        serde_json::from_slice(file(SUMMARY_PATH)?).context("parsing env/summary.json")?;
    summary.collect_version = derived.summary.collect_version.clone();
    summary.collect_commit = derived.summary.collect_commit.clone();
    if summary != derived.summary {
        bail!(
            "{SUMMARY_PATH}: differs from the facts of {}",
            import::META_PATH
        );
    }
    let rows = metrics::parse(file(METRICS_PATH)?)?;
    for (i, (table, raw)) in rows.iter().zip(&derived.rows).enumerate() {
        if table != raw {
            bail!(
                "metrics.ndjson line {}: the table says {}, the source {} gives {}",
                i + 1,
                describe(table),
                origin.source,
                describe(raw)
            );
        }
    }
    if rows.len() != derived.rows.len() {
        bail!(
            "metrics.ndjson has {} rows, the source {} gives {}",
            rows.len(),
            origin.source,
            derived.rows.len()
        );
    }
    Ok(rows.iter().filter(|r| r.status == Status::Ok).count())
}

/// One row, for a person comparing two.
fn describe(r: &MetricRow) -> String {
    let value = r.value.map_or("null".to_owned(), |v| v.to_string());
    format!(
        "{} ({}, emulated {}) {} {} {} rep {} guest {:?}/{:?} {:?}: {value} {} ({:?} is better)",
        r.platform,
        r.accel,
        r.emulated,
        r.experiment,
        r.workload,
        r.metric,
        r.repetition,
        r.guest,
        r.n_guests,
        r.status,
        r.unit.as_str(),
        r.direction,
    )
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use benchvm_format::write::{plan, Content, Source};
    use collect::import::{import_files, Format};

    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../collect/tests/data/import")
            .join(name)
    }

    /// Rewrites `bundle` into `dest` with entry `path` edited and every
    /// hash recomputed.
    fn forge(bundle: &Path, path: &str, edit: impl Fn(&str) -> String, dest: &Path) {
        let b = read::open(bundle, &Limits::default(), &|_| true).expect("verifies");
        let sources = b
            .kept
            .iter()
            .map(|(p, bytes)| {
                let text = String::from_utf8_lossy(bytes);
                let bytes = if p == path {
                    edit(&text).into_bytes()
                } else {
                    bytes.clone()
                };
                Source {
                    path: p.clone(),
                    content: Content::Bytes(bytes),
                }
            })
            .collect();
        let planned = plan(b.manifest.meta(), sources).expect("plan");
        let file = std::fs::File::create(dest).expect("create");
        planned.write(std::io::BufWriter::new(file)).expect("write");
    }

    /// The entry edited, the edit, what the refusal must say.
    type Forgery = (&'static str, fn(&str) -> String, &'static str);

    #[test]
    fn imported_bundles_are_imported_again() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let pts = import_files(
            Format::Pts,
            &fixture("composite.xml"),
            &fixture("pts-meta.toml"),
            tmp.path(),
        )
        .expect("pts import");
        assert_eq!(check(&pts.path, &Limits::default()).expect("sound"), 20);

        let csv = import_files(
            Format::Csv,
            &fixture("results.csv"),
            &fixture("meta.toml"),
            tmp.path(),
        )
        .expect("csv import");
        assert_eq!(check(&csv.path, &Limits::default()).expect("sound"), 11);
        let forged = tmp.path().join("forged.tar.zst");
        let cases: [Forgery; 4] = [
            (
                METRICS_PATH,
                |t| t.replacen("\"kvm\",\"accel\":\"kvm\"", "\"kvm\",\"accel\":\"tcg\"", 1),
                "metrics.ndjson line 4",
            ),
            (
                import::ORIGIN_PATH,
                |t| t.replace("Lab notebook 7", "Lab notebook 8"),
                "import/origin.json: differs",
            ),
            (
                "import/source.csv",
                |t| t.replace("1602.5", "1702.5"),
                "metrics.ndjson line 4",
            ),
            (
                "import/meta.toml",
                |t| t.replace("cores = 32", "cores = 64"),
                "env/summary.json: differs",
            ),
        ];
        for (entry, edit, needed) in cases {
            forge(&csv.path, entry, edit, &forged);
            let err = format!("{:#}", check(&forged, &Limits::default()).expect_err(entry));
            assert!(err.contains(needed), "{entry}: {needed:?} not in {err}");
        }
    }
}
