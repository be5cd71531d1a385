//! Helpers of the store tests: small real bundles, and a real S3 server.

#![allow(dead_code)]

pub mod weed;

use std::path::{Path, PathBuf};

use benchvm_format::env::SUMMARY_PATH;
use benchvm_format::metrics::{to_ndjson, Direction, MetricRow, Status, Unit, METRICS_PATH};
use benchvm_format::write::{plan, Content, Source};
use benchvm_format::{RunMeta, Tool};

/// What a test bundle says about itself.
#[derive(Debug, Clone)]
pub struct Spec<'a> {
    pub label: &'a str,
    pub host: &'a str,
    pub suite: &'a str,
    pub created: &'a str,
    /// Makes bundles of equal facts differ.
    pub seed: u64,
    /// Bytes of incompressible log beside the metrics.
    pub log_bytes: usize,
}

impl Default for Spec<'_> {
    fn default() -> Self {
        Spec {
            label: "store test",
            host: "lab-01",
            suite: "quick",
            created: "2026-11-25T18:00:00Z",
            seed: 1,
            log_bytes: 0,
        }
    }
}

/// Pseudo-random bytes (xorshift64*), deterministic per seed.
pub fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

/// Writes a valid bundle into `dir` and returns its path.
pub fn bundle(dir: &Path, spec: &Spec<'_>) -> PathBuf {
    let rows: Vec<MetricRow> = (1..=3)
        .map(|rep| MetricRow {
            platform: "native".into(),
            accel: "none".into(),
            emulated: false,
            experiment: "overall".into(),
            workload: "cpu".into(),
            metric: "events_per_sec".into(),
            unit: Unit::EVENTS_PER_SECOND,
            direction: Direction::Higher,
            repetition: rep,
            guest: None,
            n_guests: None,
            stressor: None,
            role: None,
            status: Status::Ok,
            value: Some(1000.0 + spec.seed as f64 + f64::from(rep)),
            run: format!("runs/native/overall/cpu/rep-{rep:02}"),
        })
        .collect();
    let meta = RunMeta {
        tool: Tool {
            name: "collect".into(),
            version: "0.1.0".into(),
            git_commit: None,
        },
        created: spec.created.into(),
        host: spec.host.into(),
        suite: spec.suite.into(),
        platforms: vec!["native".into()],
        label: spec.label.into(),
    };
    let summary = format!("{{\"host\":\"{}\",\"cpus\":2}}", spec.host);
    let mut sources = vec![
        Source {
            path: METRICS_PATH.into(),
            content: Content::Bytes(to_ndjson(&rows)),
        },
        Source {
            path: SUMMARY_PATH.into(),
            content: Content::Bytes(summary.into_bytes()),
        },
    ];
    if spec.log_bytes > 0 {
        sources.push(Source {
            path: "runs/native/overall/cpu/rep-01/stdout.log".into(),
            content: Content::Bytes(noise(spec.seed, spec.log_bytes)),
        });
    }
    let planned = plan(meta, sources).expect("plan");
    let path = dir.join(benchvm_format::manifest::file_name(spec.label, &planned.id));
    planned.write_file(&path).expect("write bundle");
    path
}

/// The id of the bundle at `path`.
pub fn id_of(path: &Path) -> String {
    benchvm_format::read::open(path, &Default::default(), &|_| false)
        .expect("sound bundle")
        .id
        .hex()
}

/// Signs the bundle at `path` with a new key; returns the public key text.
pub fn sign(path: &Path) -> String {
    let (secret, public) = benchvm_format::sign::generate_keypair().expect("keys");
    let bundle = benchvm_format::read::open(path, &Default::default(), &|_| false).expect("sound");
    let sig = benchvm_format::sign::sign(&bundle.manifest_bytes, &bundle.manifest.label, &secret)
        .expect("sign");
    std::fs::write(benchvm_format::sign::signature_path(path), sig).expect("write signature");
    public
}

/// `bytes` with one byte flipped in the middle of its second half (inside
/// frame 2, the bulk of a bundle).
pub fn flipped(mut bytes: Vec<u8>) -> Vec<u8> {
    let at = bytes.len() * 3 / 4;
    bytes[at] ^= 0x40;
    bytes
}
