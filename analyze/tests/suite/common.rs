//! Synthetic bundles for tests and the benchmark generator: real bundles
//! written with `benchvm_format::write`, holding made-up but fixed values.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use benchvm_format::env::{EnvSummary, SUMMARY_PATH};
use benchvm_format::metrics::{to_ndjson, Direction, MetricRow, Status, Unit, METRICS_PATH};
use benchvm_format::write::{plan, Content, Source};
use benchvm_format::{RunMeta, Tool};

/// How a platform ran: (platform, accel, emulated).
pub type Platform = (&'static str, &'static str, bool);

pub const NATIVE: Platform = ("native", "none", false);
/// KVM's place taken by QEMU TCG (software emulation).
pub const KVM_TCG: Platform = ("kvm", "tcg", true);
/// Xen PV on a Xen host that itself runs under QEMU.
pub const XEN_PV: Platform = ("xen", "xen-pv", true);

/// One measured value of the `overall` experiment.
pub fn row(
    p: Platform,
    workload: &str,
    metric: &str,
    unit: Unit,
    rep: u32,
    value: Option<f64>,
) -> MetricRow {
    let direction = if unit.is_duration() {
        Direction::Lower
    } else {
        Direction::Higher
    };
    let guest = (p.0 != "native").then_some(1);
    MetricRow {
        platform: p.0.into(),
        accel: p.1.into(),
        emulated: p.2,
        experiment: "overall".into(),
        workload: workload.into(),
        metric: metric.into(),
        unit,
        direction,
        repetition: rep,
        guest,
        n_guests: guest,
        stressor: None,
        role: None,
        status: if value.is_some() {
            Status::Ok
        } else {
            Status::Failed
        },
        value,
        run: format!("runs/{}/overall/{workload}/rep-{rep:02}", p.0),
    }
}

/// Rows of one (platform, workload, metric), one per value (`None`: failed).
pub fn rows(
    p: Platform,
    workload: &str,
    metric: &str,
    unit: Unit,
    values: &[Option<f64>],
) -> Vec<MetricRow> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| row(p, workload, metric, unit.clone(), i as u32 + 1, *v))
        .collect()
}

/// A host's environment summary.
pub fn summary(host: &str, cpu: &str, kernel: &str, platforms: &[Platform]) -> EnvSummary {
    let mut s = EnvSummary {
        host: host.into(),
        kernel: Some(kernel.into()),
        os: Some("Debian GNU/Linux 12 (bookworm)".into()),
        arch: Some("x86_64".into()),
        cpu_model: Some(cpu.into()),
        cpus: Some(2),
        smt: Some("notsupported".into()),
        microcode: Some("0x1000065".into()),
        governor: None,
        mem_total_kib: Some(24_000_000),
        numa_nodes: Some(1),
        collect_version: "0.1.0".into(),
        ..EnvSummary::default()
    };
    s.tools.insert("sysbench".into(), "sysbench 1.0.20".into());
    for p in platforms {
        let mut facts = BTreeMap::from([("accel".to_owned(), p.1.to_owned())]);
        match p.0 {
            "kvm" => {
                facts.insert("qemu_version".into(), "QEMU emulator version 7.2.15".into());
            }
            "xen" => {
                facts.insert("xen_version".into(), "4.17.5".into());
            }
            _ => {}
        }
        s.platforms.insert(p.0.into(), facts);
    }
    s
}

/// Writes a bundle into `dir` and returns its path.
pub fn write_bundle(dir: &Path, label: &str, summary: &EnvSummary, rows: &[MetricRow]) -> PathBuf {
    write_bundle_with(dir, label, summary, rows, Vec::new())
}

/// Writes a bundle holding `extra` entries too (run logs...).
pub fn write_bundle_with(
    dir: &Path,
    label: &str,
    summary: &EnvSummary,
    rows: &[MetricRow],
    extra: Vec<Source>,
) -> PathBuf {
    let mut platforms: Vec<String> = Vec::new();
    for r in rows {
        if !platforms.contains(&r.platform) {
            platforms.push(r.platform.clone());
        }
    }
    let meta = RunMeta {
        tool: Tool {
            name: "collect".into(),
            version: "0.1.0".into(),
            git_commit: None,
        },
        created: "2026-11-25T18:00:00Z".into(),
        host: summary.host.clone(),
        suite: "synthetic".into(),
        platforms,
        label: label.into(),
    };
    let summary_json = serde_json::to_vec_pretty(summary).expect("summary json");
    let uname = format!(
        "Linux {} {} x86_64\n",
        summary.host,
        summary.kernel.as_deref().unwrap_or_default()
    );
    let mut sources = extra;
    sources.extend([
        Source {
            path: METRICS_PATH.into(),
            content: Content::Bytes(to_ndjson(rows)),
        },
        Source {
            path: SUMMARY_PATH.into(),
            content: Content::Bytes(summary_json),
        },
        Source {
            path: "env/uname.txt".into(),
            content: Content::Bytes(uname.into_bytes()),
        },
    ]);
    let planned = plan(meta, sources).expect("plan");
    let path = dir.join(benchvm_format::manifest::file_name(label, &planned.id));
    let file = std::fs::File::create(&path).expect("create bundle");
    planned
        .write(std::io::BufWriter::new(file))
        .expect("write bundle");
    path
}

/// The fixed three-platform data of the snapshot tests: native, KVM under
/// TCG, Xen PV on an emulated host; four workloads, five repetitions, with
/// one failed run, one outlier, one noisy sample and one tiny sample.
pub fn three_platform_rows() -> Vec<MetricRow> {
    let ok = |v: &[f64]| v.iter().map(|&x| Some(x)).collect::<Vec<_>>();
    let mut out = Vec::new();
    out.extend(rows(
        NATIVE,
        "cpu",
        "events_per_sec",
        Unit::EVENTS_PER_SECOND,
        &ok(&[1000.0, 1010.0, 990.0, 1005.0, 995.0]),
    ));
    out.extend(rows(
        KVM_TCG,
        "cpu",
        "events_per_sec",
        Unit::EVENTS_PER_SECOND,
        &ok(&[101.0, 99.0, 100.5, 99.5, 100.0]),
    ));
    out.extend(rows(
        XEN_PV,
        "cpu",
        "events_per_sec",
        Unit::EVENTS_PER_SECOND,
        &ok(&[950.0, 962.0, 941.0, 955.0, 947.0]),
    ));
    out.extend(rows(
        NATIVE,
        "kernel-compile",
        "wall_time",
        Unit::SECONDS,
        &ok(&[60.0, 61.0, 59.5, 60.5, 60.2]),
    ));
    // 95 s is an outlier (MAD rule).
    out.extend(rows(
        KVM_TCG,
        "kernel-compile",
        "wall_time",
        Unit::SECONDS,
        &ok(&[600.0, 604.0, 598.0, 602.0, 950.0]),
    ));
    out.extend(rows(
        XEN_PV,
        "kernel-compile",
        "wall_time",
        Unit::SECONDS,
        &ok(&[63.0, 64.0, 62.5, 63.4, 63.1]),
    ));
    out.extend(rows(
        NATIVE,
        "disk-write",
        "bandwidth",
        Unit::MEGABYTES_PER_SECOND,
        &ok(&[500.0, 505.0, 495.0, 502.0, 498.0]),
    ));
    // Noisy: CV well above 5%.
    out.extend(rows(
        KVM_TCG,
        "disk-write",
        "bandwidth",
        Unit::MEGABYTES_PER_SECOND,
        &ok(&[80.0, 120.0, 95.0, 60.0, 110.0]),
    ));
    out.extend(rows(
        XEN_PV,
        "disk-write",
        "bandwidth",
        Unit::MEGABYTES_PER_SECOND,
        &ok(&[470.0, 480.0, 465.0, 475.0, 472.0]),
    ));
    out.extend(rows(
        NATIVE,
        "disk-read",
        "bandwidth",
        Unit::MEGABYTES_PER_SECOND,
        &ok(&[900.0, 910.0, 905.0, 895.0, 902.0]),
    ));
    // Two values only.
    out.extend(rows(
        KVM_TCG,
        "disk-read",
        "bandwidth",
        Unit::MEGABYTES_PER_SECOND,
        &ok(&[150.0, 155.0]),
    ));
    // One failed run.
    out.extend(rows(
        XEN_PV,
        "disk-read",
        "bandwidth",
        Unit::MEGABYTES_PER_SECOND,
        &[Some(850.0), Some(860.0), None, Some(845.0), Some(855.0)],
    ));
    out
}

/// Deterministic pseudo-random numbers (SplitMix64) for generated data.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}
