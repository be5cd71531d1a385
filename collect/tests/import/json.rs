//! hyperfine, fio and PerfKitBenchmarker output: files the real tools
//! wrote (here, with the commands in the tests), and the tools run anew.

use std::path::Path;
use std::process::Command;

use benchvm_format::metrics::{Direction, Status};

use crate::common::*;

/// Runs a tool this test needs (scripts/install-deps.sh installs it).
fn run(tool: &str, args: &[&str], dir: &Path) {
    let o = Command::new(tool)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{tool}: {e} (apt-get install -y {tool})"));
    assert!(o.status.success(), "{tool}: {}", text(&o));
}

/// Output of hyperfine 1.15 (`hyperfine --runs 3 -P n 1 2 --export-json
/// hyperfine.json 'sleep 0.0{n}'`) and of a failing command kept by `-i`.
#[test]
fn hyperfine_export_json_imports_and_rederives() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let meta = data("one-platform.toml");
    let bundle = import(
        "hyperfine",
        &data("hyperfine.json"),
        Some(&meta),
        tmp.path(),
    );
    let b = open_all(&bundle);
    let rows: Vec<_> = b
        .metrics
        .iter()
        .map(|r| {
            (
                r.workload.as_str(),
                r.metric.as_str(),
                r.unit.as_str(),
                r.repetition,
            )
        })
        .collect();
    assert_eq!(rows.len(), 6);
    assert_eq!(rows[0], ("sleep_0.01", "wall_time", "s", 1));
    assert_eq!(rows[5], ("sleep_0.02", "wall_time", "s", 3));
    assert_eq!(b.metrics[0].value, Some(0.010618356800000003));
    assert!(b
        .metrics
        .iter()
        .all(|r| r.direction == Direction::Lower && r.platform == "native"));
    rederives(&bundle, 6);

    let failing = import(
        "hyperfine",
        &data("hyperfine-failing.json"),
        Some(&meta),
        tmp.path(),
    );
    let b = open_all(&failing);
    assert!(b
        .metrics
        .iter()
        .all(|r| r.status == Status::Failed && r.value.is_none()));
    assert_eq!(b.metrics.len(), 3);

    let err = refused("hyperfine", &data("fio.json"), Some(&meta));
    assert!(
        err.contains("results: missing: not a hyperfine --export-json file"),
        "{err}"
    );
    let err = refused("hyperfine", &data("hyperfine.json"), None);
    assert!(err.contains("--meta <META>"), "{err}");
}

#[test]
fn hyperfine_run_here_imports() {
    let tmp = tempfile::tempdir().expect("tempdir");
    run(
        "hyperfine",
        &[
            "--runs",
            "3",
            "--export-json",
            "h.json",
            "--command-name",
            "noop",
            "true",
        ],
        tmp.path(),
    );
    let bundle = import(
        "hyperfine",
        &tmp.path().join("h.json"),
        Some(&data("one-platform.toml")),
        tmp.path(),
    );
    let b = open_all(&bundle);
    assert_eq!(b.metrics.len(), 3);
    assert!(b.metrics.iter().all(|r| r.workload == "noop"));
    rederives(&bundle, 3);
}

/// Output of fio 3.33: `--output-format=json` of one sequential read job,
/// and `json+` of two random read/write jobs of one name (`--numjobs=2`).
#[test]
fn fio_json_and_json_plus_import_and_rederive() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let meta = data("one-platform.toml");
    let bundle = import("fio", &data("fio.json"), Some(&meta), tmp.path());
    let b = open_all(&bundle);
    let metrics: Vec<_> = b
        .metrics
        .iter()
        .map(|r| (r.metric.as_str(), r.unit.as_str()))
        .collect();
    assert_eq!(
        metrics,
        [
            ("read_bandwidth", "bytes/s"),
            ("read_iops", "IOPS"),
            ("read_lat_mean", "ns"),
            ("read_clat_mean", "ns"),
            ("read_clat_p99", "ns"),
        ]
    );
    assert_eq!(b.metrics[0].value, Some(1_048_576_000.0));
    assert!(b.metrics.iter().all(|r| r.workload == "seqread"));
    rederives(&bundle, 5);

    let plus = import("fio", &data("fio-plus.json"), Some(&meta), tmp.path());
    let b = open_all(&plus);
    let reps: Vec<u32> = b
        .metrics
        .iter()
        .filter(|r| r.metric == "write_iops")
        .map(|r| r.repetition)
        .collect();
    assert_eq!(reps, [1, 2]);
    assert_eq!(b.metrics.len(), 20);
    rederives(&plus, 20);
}

/// fio 2.x: bandwidth in KiB/s (`bw`), latencies in us (`lat`, `clat`),
/// after a note fio printed to the same file.
#[test]
fn fio_2_output_keeps_its_units_and_skips_the_preamble() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let source = write(
        tmp.path(),
        "fio2.json",
        r#"note: both iodepth >= 1 and synchronous I/O engine are selected, queue depth will be capped at 1
{
  "fio version" : "fio-2.2.10",
  "jobs" : [
    {
      "jobname" : "randwrite",
      "groupid" : 0,
      "error" : 0,
      "read" : { "io_bytes" : 0, "bw" : 0, "iops" : 0.0, "runtime" : 0,
        "lat" : { "min" : 0, "max" : 0, "mean" : 0.0, "stddev" : 0.0 } },
      "write" : { "io_bytes" : 262144, "bw" : 5461, "iops" : 1365.33, "runtime" : 48,
        "clat" : { "min" : 301, "max" : 4180, "mean" : 702.41, "stddev" : 310.2,
          "percentile" : { "99.000000" : 2160, "99.900000" : 4192 } },
        "lat" : { "min" : 305, "max" : 4191, "mean" : 709.86, "stddev" : 311.0 } }
    }
  ]
}
"#,
    );
    let bundle = import("fio", &source, Some(&data("one-platform.toml")), tmp.path());
    let b = open_all(&bundle);
    let rows: Vec<_> = b
        .metrics
        .iter()
        .map(|r| (r.metric.as_str(), r.unit.as_str(), r.value))
        .collect();
    assert_eq!(
        rows,
        [
            ("write_bandwidth", "KiB/s", Some(5461.0)),
            ("write_iops", "IOPS", Some(1365.33)),
            ("write_lat_mean", "us", Some(709.86)),
            ("write_clat_mean", "us", Some(702.41)),
            ("write_clat_p99", "us", Some(2160.0)),
        ]
    );
    rederives(&bundle, 5);
}

#[test]
fn fio_run_here_imports() {
    let tmp = tempfile::tempdir().expect("tempdir");
    run(
        "fio",
        &[
            "--name=seqwrite",
            "--rw=write",
            "--size=2m",
            "--bs=64k",
            "--filename=data.bin",
            "--output-format=json+",
            "--output=out.json",
        ],
        tmp.path(),
    );
    let bundle = import(
        "fio",
        &tmp.path().join("out.json"),
        Some(&data("one-platform.toml")),
        tmp.path(),
    );
    let b = open_all(&bundle);
    assert!(b
        .metrics
        .iter()
        .any(|r| r.metric == "write_bandwidth" && r.unit.as_str() == "bytes/s"));
    assert!(b.metrics.iter().all(|r| !r.metric.starts_with("read_")));
    rederives(&bundle, b.metrics.len());
}

/// PerfKitBenchmarker's NDJSON publisher: a run with collapsed labels and
/// a run appended with metadata objects, information samples, a score
/// without a unit.
#[test]
fn pkb_samples_import_and_rederive() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (bundles, said) = import_all(
        "pkb",
        &data("pkb-samples.json"),
        Some(&data("one-platform.toml")),
        &[],
        tmp.path(),
    );
    assert!(
        said.contains("2 information sample(s) (value 0, no unit) skipped"),
        "{said}"
    );
    let b = open_all(&bundles[0]);
    let find = |workload: &str, metric: &str| {
        b.metrics
            .iter()
            .filter(|r| r.workload == workload && r.metric == metric)
            .map(|r| {
                (
                    r.repetition,
                    r.unit.as_str().to_owned(),
                    r.direction,
                    r.value,
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        find("fio", "sequential_read_bandwidth"),
        [
            (1, "KB/s".to_owned(), Direction::Higher, Some(251_234.0)),
            (2, "KB/s".to_owned(), Direction::Higher, Some(249_871.0))
        ]
    );
    assert_eq!(find("fio", "sequential_read_latency")[0].1, "us");
    assert_eq!(
        find("fio", "sequential_read_latency")[0].2,
        Direction::Lower
    );
    assert_eq!(find("fio", "end_to_end_runtime")[1].1, "s");
    assert_eq!(find("coremark", "coremark_score")[0].1, "1");
    let s = summary(&b);
    assert_eq!(
        (s.cpus, s.kernel.as_deref()),
        (Some(4), Some("6.5.0-1014-gcp"))
    );
    assert_eq!(s.platforms["native"]["pkb_machine_type"], "n2-standard-4");
    rederives(&bundles[0], 10);

    let tmp2 = tempfile::tempdir().expect("tempdir");
    let bad = write(
        tmp2.path(),
        "bad.json",
        "{\"test\": \"fio\", \"metric\": \"x\", \"unit\": \"s\"}\n",
    );
    let err = refused("pkb", &bad, Some(&data("one-platform.toml")));
    assert!(
        err.contains("bad.json line 1: `value`: missing or not a number"),
        "{err}"
    );
}
