//! An imported bundle (`collect import`) has no plan and no run logs: its
//! raw source and metadata file are kept byte for byte under `import/`, so
//! they are imported again by the same code (`collect::import::derive`)
//! and the metrics table, `env/summary.json`, `import/origin.json` and the
//! manifest's description must all be what they give.

use anyhow::{bail, Context, Result};
use benchvm_format::env::{EnvSummary, SUMMARY_PATH};
use benchvm_format::metrics::{self, MetricRow, Status, METRICS_PATH};
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
    if origin.source != origin.format.source_path() || origin.meta != import::META_PATH {
        bail!(
            "{}: source {} and meta {} are not where an import of that format keeps them ({} and {})",
            import::ORIGIN_PATH,
            origin.source,
            origin.meta,
            origin.format.source_path(),
            import::META_PATH
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
            "{SUMMARY_PATH}: differs from the facts of {}",
            import::META_PATH
        );
    }
    let rows = metrics::parse(file(METRICS_PATH)?)?;
    for (i, (table, raw)) in rows.iter().zip(&derived.rows).enumerate() {
        if table != raw {
            bail!(
                "metrics.ndjson line {} ({}): the table says {}, the source {} gives {}",
                i + 1,
                describe(table),
                claim(table),
                origin.source,
                claim(raw)
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
    Ok(Rederived {
        rows: rows.len(),
        values: rows.iter().filter(|r| r.status == Status::Ok).count(),
        imported: true,
        ..Rederived::default()
    })
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
