//! An imported bundle (`collect import`) has no plan and no run logs: its
//! raw source and metadata file are kept byte for byte under `import/`, so
//! they are imported again by the same code (`collect::import::derive`)
//! and the metrics table, `env/summary.json`, `import/origin.json` and the
//! manifest's description must all be what they give.

use anyhow::{bail, Context, Result};
use benchvm_format::env::{EnvSummary, SUMMARY_PATH};
use benchvm_format::metrics::{self, MetricRow};
use benchvm_format::Bundle;
use collect::import::{self, Origin};

use super::rows::describe;
use super::Rederived;

/// Whether `bundle` was made by `collect import`.
pub fn is_imported(bundle: &Bundle) -> bool {
    bundle.manifest.tool.name == import::meta::IMPORTER
        || bundle.file(import::ORIGIN_PATH).is_some()
}

/// Imports the bundle's kept source again and compares; returns how many
/// ok values were checked.
pub fn check(bundle: &Bundle) -> Result<Rederived> {
    let file = |path: &str| {
        bundle
            .file(path)
            .with_context(|| format!("the imported bundle has no {path} to re-derive from"))
    };
    let origin: Origin = serde_json::from_slice(file(import::ORIGIN_PATH)?)
        .with_context(|| format!("parsing {}", import::ORIGIN_PATH))?;
    if origin.source != origin.format.source_path()
        || origin
            .meta
            .as_deref()
            .is_some_and(|m| m != import::META_PATH)
    {
        bail!(
            "{}: source {} and meta {:?} are not where an import of that format keeps them ({} and {})",
            import::ORIGIN_PATH,
            origin.source,
            origin.meta,
            origin.format.source_path(),
            import::META_PATH
        );
    }
    let meta = match &origin.meta {
        Some(path) => Some((import::META_PATH, file(path)?)),
        None => None,
    };
    let mut source = file(&origin.source)?;
    // The importer's rows are held against the table as they are made.
    let mut compare = Compare {
        table: &bundle.metrics,
        next: 0,
        source: &origin.source,
    };
    let input = import::Input {
        format: origin.format,
        source_name: &origin.source,
        source: &mut source,
        meta,
        system: origin.system.as_deref(),
    };
    let derived = match import::derive(input, &mut compare) {
        Ok(d) => d,
        Err(import::ImportError::Output { reason }) => bail!("{reason}"),
        Err(e) => return Err(e).context("the source kept in the bundle does not import"),
    };
    if derived.origin != origin {
        bail!(
            "{}: differs from what {} and the source give",
            import::ORIGIN_PATH,
            import::META_PATH
        );
    }
    let (mut told, given) = (bundle.manifest.meta(), derived.run_meta);
    if told.tool.name != given.tool.name {
        bail!(
            "manifest.json: made by {}, but an imported bundle is made by {}",
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
            "{SUMMARY_PATH}: differs from the facts of {} and the source",
            import::META_PATH
        );
    }
    if bundle.metrics.len() != derived.written.rows {
        bail!(
            "metrics.ndjson has {} rows, the source {} gives {}",
            bundle.metrics.len(),
            origin.source,
            derived.written.rows
        );
    }
    Ok(Rederived {
        rows: derived.written.rows,
        values: derived.written.ok,
        imported: true,
        ..Rederived::default()
    })
}

/// The bundle's table, row by row, against the rows the importer makes.
struct Compare<'a> {
    table: &'a [MetricRow],
    next: usize,
    source: &'a str,
}

impl import::RowOut for Compare<'_> {
    fn put(&mut self, raw: &MetricRow) -> Result<(), String> {
        let i = self.next;
        self.next += 1;
        match self.table.get(i) {
            Some(table) if table == raw => Ok(()),
            Some(table) => Err(format!(
                "metrics.ndjson line {} ({}): the table says {}, the source {} gives {}",
                i + 1,
                describe(table),
                claim(table),
                self.source,
                claim(raw)
            )),
            None => Err(format!(
                "metrics.ndjson has {} rows, the source {} gives more: {}",
                self.table.len(),
                self.source,
                claim(raw)
            )),
        }
    }
}

/// Every field of a row, in words.
fn claim(r: &MetricRow) -> String {
    format!(
        "{} (accel {}, emulated {}) {} {} {} in {}, {} is better, rep {}, guest {}, n_guests {}, stressor {}, role {}, {} {}",
        r.platform,
        r.accel,
        r.emulated,
        r.experiment,
        r.workload,
        r.metric,
        r.unit.as_str(),
        match r.direction {
            metrics::Direction::Higher => "higher",
            metrics::Direction::Lower => "lower",
        },
        r.repetition,
        r.guest.map_or("none".to_owned(), |g| g.to_string()),
        r.n_guests.map_or("none".to_owned(), |n| n.to_string()),
        r.stressor.as_deref().unwrap_or("none"),
        match r.role {
            Some(metrics::Role::Stressed) => "stressed",
            Some(metrics::Role::Normal) => "normal",
            None => "none",
        },
        super::runs::status_name(r.status),
        r.value.map_or("null".to_owned(), |v| v.to_string()),
    )
}
