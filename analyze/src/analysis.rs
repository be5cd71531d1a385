//! One analysis over a set of loaded bundles: the filtered frame, its
//! samples, Table 1, the comparisons between platforms, the comparability
//! guard and the warnings. Renderers and figures read from here; nothing
//! here writes files.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use polars::prelude::*;

use crate::compare::{self, Comparison};
use crate::design::Design;
use crate::filter::Filters;
use crate::guard::{self, Difference};
use crate::load::{BundleInfo, LoadedSet, Skipped};
use crate::render::Doc;
use crate::samples::{self, Key, Sample};
use crate::scalability::{self, Scalability};
use crate::scaling::{self, Scaling};
use crate::table1::{self, NoNative, Table1};
use crate::warnings::{self, Warning};

/// Title of the platform comparison table.
pub const PLATFORMS_TITLE: &str = "Platform comparisons (B against A)";
/// Warnings shown in Markdown and LaTeX; CSV and JSON hold them all.
pub const SHOWN_WARNINGS: usize = 200;

/// Everything a report says.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// Bundles that passed verification, in the order given.
    pub bundles: Vec<BundleInfo>,
    /// Indices into `bundles` of those with rows left after filtering.
    pub used: Vec<usize>,
    pub skipped: Vec<Skipped>,
    pub filters: Filters,
    /// The filtered, combined metrics frame (tidy, with lineage).
    pub frame: DataFrame,
    pub samples: BTreeMap<Key, Sample>,
    /// Table 1, or why it could not be built.
    pub table1: std::result::Result<Table1, NoNative>,
    /// Every guest row of the scalability experiment.
    pub scalability: Scalability,
    /// The scalability experiment's curves: slopes and fitted models.
    pub scaling: Scaling,
    pub platforms: Vec<Comparison>,
    pub comparability: Vec<Difference>,
    pub warnings: Vec<Warning>,
}

/// Analyzes `set` after applying `filters`.
pub fn analyze(set: LoadedSet, filters: &Filters) -> Result<Analysis> {
    let frame = filters.apply(set.frame)?;
    let present: BTreeSet<String> = frame
        .column("bundle_id")?
        .str()?
        .unique()?
        .iter()
        .flatten()
        .map(str::to_owned)
        .collect();
    let used: Vec<usize> = (0..set.bundles.len())
        .filter(|&i| present.contains(&set.bundles[i].id))
        .collect();
    let samples = samples::collect(&frame)?;
    let table1 = table1::from_samples(&samples);
    let scalability = scalability::build(&frame)?;
    let scaling = scaling::build(&scalability);
    let platforms = compare::between_platforms(&samples);
    let used_refs: Vec<&BundleInfo> = used.iter().map(|&i| &set.bundles[i]).collect();
    let comparability = guard::check(&used_refs);
    let mut warnings = warnings::collect(&frame, &samples);
    warnings.extend(warnings::busy(&frame, &samples, &used_refs));
    Ok(Analysis {
        bundles: set.bundles,
        used,
        skipped: set.skipped,
        filters: filters.clone(),
        frame,
        samples,
        table1,
        scalability,
        scaling,
        platforms,
        comparability,
        warnings,
    })
}

impl Analysis {
    /// The bundles behind the tables.
    pub fn used_bundles(&self) -> Vec<&BundleInfo> {
        self.used.iter().map(|&i| &self.bundles[i]).collect()
    }

    /// Every table as a document, in report order.
    pub fn docs(&self) -> Vec<Doc> {
        let mut docs = Vec::new();
        if let Ok(t) = &self.table1 {
            let mut doc = t.doc();
            let designs: Vec<&Design> = self.used_bundles().iter().map(|b| &b.design).collect();
            let shown: Vec<&str> = t.rows.iter().map(|r| r.workload.as_str()).collect();
            doc.notes
                .extend(crate::design::disk_notes(&designs, &shown));
            docs.push(doc);
        }
        if !self.scalability.is_empty() {
            docs.push(self.scalability.doc());
            docs.push(self.scalability.summary_doc());
            docs.push(self.scaling.doc());
        }
        docs.push(compare::doc("platforms", PLATFORMS_TITLE, &self.platforms));
        docs.push(guard::doc(&self.used_bundles(), &self.comparability));
        docs.push(warnings::doc(&self.warnings, SHOWN_WARNINGS));
        let used = self.used_bundles();
        if used.iter().any(|b| !b.design.lanes.is_empty()) {
            docs.push(crate::design::stopping_doc(&used));
        }
        if used.iter().any(|b| !b.design.runs.is_empty()) {
            docs.push(crate::design::quiet_doc(&used, SHOWN_WARNINGS));
        }
        docs
    }
}
