//! `analyze show`: what one bundle holds, for a person.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use benchvm_format::metrics::Status;

use crate::load::{load, LoadOptions};

pub fn run(path: &Path, options: &LoadOptions) -> anyhow::Result<ExitCode> {
    let loaded =
        load(path, options).with_context(|| format!("{} failed verification", path.display()))?;
    let m = &loaded.bundle.manifest;
    let s = &loaded.summary;
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
    collect::outln!("runs by status (metric rows):");
    let mut counts: BTreeMap<(String, String, String), [usize; 3]> = BTreeMap::new();
    for row in &loaded.rows {
        let key = (
            row.platform.clone(),
            row.accel.clone(),
            row.experiment.clone(),
        );
        let slot = match row.status {
            Status::Ok => 0,
            Status::Failed => 1,
            Status::Dnr => 2,
        };
        counts.entry(key).or_default()[slot] += 1;
    }
    collect::outln!(
        "  {:<10} {:<8} {:<12} {:>6} {:>6} {:>6}",
        "platform",
        "accel",
        "experiment",
        "ok",
        "failed",
        "dnr"
    );
    for ((platform, accel, experiment), [ok, failed, dnr]) in &counts {
        collect::outln!(
            "  {platform:<10} {accel:<8} {experiment:<12} {ok:>6} {failed:>6} {dnr:>6}"
        );
    }
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
