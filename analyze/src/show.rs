//! `analyze show`: what one bundle holds, for a person.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use benchvm_format::metrics::{MetricRow, Status};
use serde::Serialize;

use crate::design::{order_meaning, Design};
use crate::load::{load, LoadOptions};

/// Runs of one platform, accelerator and experiment, by status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RunCount {
    pub platform: String,
    pub accel: String,
    pub experiment: String,
    pub ok: usize,
    pub failed: usize,
    pub dnr: usize,
}

/// The runs of `rows` by status: a run is a run folder (`run`; a guest's
/// own folder in scalability and isolation), counted once whatever its
/// number of metric rows, under its worst status (dnr, then failed).
pub fn run_counts(rows: &[MetricRow]) -> Vec<RunCount> {
    let rank = |s: Status| match s {
        Status::Ok => 0,
        Status::Failed => 1,
        Status::Dnr => 2,
    };
    let mut runs: BTreeMap<(&str, &str, &str, &str), Status> = BTreeMap::new();
    for row in rows {
        let key = (
            row.platform.as_str(),
            row.accel.as_str(),
            row.experiment.as_str(),
            row.run.as_str(),
        );
        let worst = runs.entry(key).or_insert(row.status);
        if rank(row.status) > rank(*worst) {
            *worst = row.status;
        }
    }
    let mut counts: BTreeMap<(&str, &str, &str), RunCount> = BTreeMap::new();
    for ((platform, accel, experiment, _), status) in runs {
        let c = counts
            .entry((platform, accel, experiment))
            .or_insert_with(|| RunCount {
                platform: platform.to_owned(),
                accel: accel.to_owned(),
                experiment: experiment.to_owned(),
                ..Default::default()
            });
        match status {
            Status::Ok => c.ok += 1,
            Status::Failed => c.failed += 1,
            Status::Dnr => c.dnr += 1,
        }
    }
    counts.into_values().collect()
}

/// Prints what the bundle at `path` holds: text, or with `json` one JSON
/// object (README.md, "Machine-readable output").
pub fn run(path: &Path, options: &LoadOptions, json: bool) -> anyhow::Result<ExitCode> {
    let loaded =
        load(path, options).with_context(|| format!("{} failed verification", path.display()))?;
    let m = &loaded.bundle.manifest;
    let s = &loaded.summary;
    let counts = run_counts(&loaded.rows);
    if json {
        let v = serde_json::json!({
            "bundle": path.display().to_string(),
            "id": loaded.bundle.id.hex(),
            "label": m.label,
            "host": m.host,
            "created": m.created,
            "suite": m.suite,
            "platforms": m.platforms,
            "tool": m.tool,
            "metric_rows": loaded.rows.len(),
            "runs": counts,
            "environment": s,
        });
        collect::outln!("{v}");
        return Ok(ExitCode::SUCCESS);
    }
    collect::outln!("bundle    {}", path.display());
    collect::outln!("id        {}", loaded.bundle.id);
    collect::outln!("label     {}", m.label);
    collect::outln!("host      {}", m.host);
    collect::outln!("created   {}", m.created);
    collect::outln!("suite     {}", m.suite);
    collect::outln!("platforms {}", m.platforms.join(", "));
    let commit = m.tool.git_commit.as_deref().unwrap_or("unknown commit");
    collect::outln!("tool      {} {} ({commit})", m.tool.name, m.tool.version);
    collect::outln!();
    collect::outln!(
        "runs by status (run folders; {} metric rows):",
        loaded.rows.len()
    );
    collect::outln!(
        "  {:<10} {:<8} {:<12} {:>6} {:>6} {:>6}",
        "platform",
        "accel",
        "experiment",
        "ok",
        "failed",
        "dnr"
    );
    for c in &counts {
        collect::outln!(
            "  {:<10} {:<8} {:<12} {:>6} {:>6} {:>6}",
            c.platform,
            c.accel,
            c.experiment,
            c.ok,
            c.failed,
            c.dnr
        );
    }
    show_design(&loaded.design);
    collect::outln!();
    collect::outln!("environment:");
    let facts = [
        (
            "cpu",
            format!(
                "{} ({} CPUs)",
                known(s.cpu_model.clone()),
                known(s.cpus.map(|n| n.to_string()))
            ),
        ),
        (
            "memory",
            known(s.mem_total_kib.map(|k| format!("{} MiB", k / 1024))),
        ),
        ("kernel", known(s.kernel.clone())),
        ("os", known(s.os.clone())),
        (
            "governor",
            s.governor.clone().unwrap_or_else(|| "none".into()),
        ),
        ("smt", s.smt.clone().unwrap_or_else(|| "unknown".into())),
        (
            "microcode",
            s.microcode.clone().unwrap_or_else(|| "unknown".into()),
        ),
        (
            "host is a VM",
            s.host_virtualization.clone().unwrap_or_else(|| "no".into()),
        ),
    ];
    for (name, value) in facts {
        collect::outln!("  {name:<13} {value}");
    }
    for (tool, version) in &s.tools {
        collect::outln!("  {:<13} {version}", format!("tool {tool}"));
    }
    for (platform, facts) in &s.platforms {
        collect::outln!("  platform {platform}:");
        for (k, v) in facts {
            collect::outln!("    {k:<18} {v}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A fact, or "unknown" when the bundle's source did not state it.
fn known(fact: Option<String>) -> String {
    fact.unwrap_or_else(|| "unknown".into())
}

/// The order, why each lane stopped, and each run's quiet figures.
fn show_design(d: &Design) {
    collect::outln!();
    let order = match (d.planned, d.order) {
        (true, Some(o)) => format!("{} ({})", o.describe(), order_meaning(&o)),
        (true, None) => "blocked (not recorded in the plan)".to_owned(),
        (false, _) => "not recorded".to_owned(),
    };
    collect::outln!("order     {order}");
    if !d.lanes.is_empty() {
        collect::outln!("stopping:");
        for l in &d.lanes {
            collect::outln!(
                "  {:<10} {:<16} {:<8} {}",
                l.platform,
                l.workload,
                l.stopped.as_str(),
                l.why()
            );
        }
    }
    if d.runs.is_empty() {
        return;
    }
    let busy = d.busy().count();
    collect::outln!(
        "host quiet: {} runs with evidence, {busy} measured on a busy host",
        d.runs.len()
    );
    collect::outln!(
        "  {:<44} {:>13} {:>7} {:>8} {:>8} {:>7} {:>6}  verdict",
        "run",
        "load 1 min",
        "steal%",
        "iowait%",
        "others%",
        "MHz",
        "host%"
    );
    let pct = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.1}"));
    for r in &d.runs {
        let step = r.step.as_ref();
        collect::outln!(
            "  {:<44} {:>13} {:>7} {:>8} {:>8} {:>7} {:>6}  {}",
            r.run,
            step.map_or("-".into(), |f| format!(
                "{:.2}->{:.2}",
                f.load1_before, f.load1_after
            )),
            pct(step.and_then(|f| f.steal_pct)),
            pct(step.and_then(|f| f.iowait_pct)),
            pct(step.and_then(|f| f.others_pct)),
            step.and_then(|f| f.freq_mhz_after)
                .map_or("-".into(), |m| format!("{m:.0}")),
            pct(r.host.as_ref().and_then(|f| f.steal_pct)),
            if r.busy.is_empty() {
                "quiet".to_owned()
            } else {
                format!("busy: {}", r.busy.join("; "))
            }
        );
    }
}
