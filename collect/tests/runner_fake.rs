//! The runner, run folder and metrics pipeline on the fake platform: fast
//! and deterministic, including tool output that cannot be parsed.

use std::path::Path;

use benchvm_format::metrics::{self, Status};
use benchvm_format::{RunMeta, Tool};
use collect::journal::Record;
use collect::platform::fake::Fake;
use collect::platform::Platform;
use collect::runfolder::RunFolder;
use collect::{plan, runner, suite};

const SUITE: &str = r#"
name = "fake"
platforms = ["native"]
[defaults]
repetitions = 2
warmups = 1
deadline_s = 10
[experiments.overall]
workloads = ["cpu", "disk-write"]
[workloads.cpu]
kind = "sysbench-cpu"
max_prime = 2000
events = 2000
threads = 1
[workloads.disk-write]
kind = "fio"
rw = "write"
block_kib = 1024
file_mib = 64
"#;

fn meta() -> RunMeta {
    RunMeta {
        tool: Tool {
            name: "collect".into(),
            version: "0.0.0".into(),
            git_commit: None,
        },
        created: "2026-01-01T00:00:00Z".into(),
        host: "test".into(),
        suite: "fake".into(),
        platforms: vec!["native".into()],
        label: "fake".into(),
    }
}

#[test]
fn parsed_values_become_rows_and_garbage_becomes_a_failed_run_with_its_output_kept() {
    let sysbench = include_str!("../testdata/sysbench_cpu_t1_events.txt");
    let suite = suite::parse(SUITE, Path::new("fake.toml")).expect("suite");
    let plan = plan::build(&suite, &[benchvm_core::registry::PlatformKind::Native]);
    assert_eq!(
        plan.runs.len(),
        6,
        "1 warm-up + 2 repetitions of 2 workloads"
    );

    let tmp = tempfile::tempdir().expect("tempdir");
    let start = Record::Start {
        collect_version: "0.0.0".into(),
        suite_sha256: String::new(),
        suite_path: "fake.toml".into(),
        runs: 6,
    };
    let folder = RunFolder::create(&tmp.path().join("run"), &meta(), &start).expect("folder");
    let fake = Fake::new("native")
        .answer("sysbench", sysbench, Status::Ok, 0.25)
        .answer("fio", "fio: this is not JSON at all\n", Status::Ok, 1.0);
    let mut platforms: Vec<Box<dyn Platform>> = vec![Box::new(fake)];
    let totals = runner::execute(&plan, &mut platforms, None, &folder, &Default::default())
        .expect("execute");
    assert_eq!(
        folder.finalize().expect("metrics table"),
        6,
        "cpu 2 metrics x 2 reps + disk 1 x 2"
    );
    assert_eq!((totals.runs, totals.ok, totals.failed), (6, 3, 3));

    let bytes = std::fs::read(folder.root().join("metrics.ndjson")).expect("metrics");
    let rows = metrics::parse(&bytes).expect("valid table");
    let cpu: Vec<_> = rows.iter().filter(|r| r.workload == "cpu").collect();
    assert_eq!(
        cpu.len(),
        4,
        "two metrics x two repetitions, no warm-up rows"
    );
    let eps = cpu
        .iter()
        .find(|r| r.metric == "events_per_sec")
        .expect("events/s");
    assert_eq!(eps.status, Status::Ok);
    assert!(eps.value.is_some_and(|v| v > 0.0));
    let wall = cpu.iter().find(|r| r.metric == "wall_time").expect("wall");
    assert_eq!(wall.value, Some(0.25));

    let disk: Vec<_> = rows.iter().filter(|r| r.workload == "disk-write").collect();
    assert_eq!(disk.len(), 2);
    assert!(disk
        .iter()
        .all(|r| r.status == Status::Failed && r.value.is_none() && r.metric == "bandwidth"));
    let run = folder.root().join("runs/native/overall/disk-write/rep-01");
    assert_eq!(
        std::fs::read_to_string(run.join("stdout.log")).expect("raw"),
        "fio: this is not JSON at all\n"
    );
    let record = std::fs::read_to_string(run.join("run.json")).expect("run.json");
    assert!(record.contains("output not understood"), "{record}");

    // The folder packs into a bundle that verifies.
    let packed = benchvm_format::rundir::pack(
        folder.root(),
        Some(&tmp.path().join("b.tar.zst")),
        tmp.path(),
    )
    .expect("pack");
    benchvm_format::read::open(&packed.path, &Default::default(), &|_| false).expect("verifies");
}

#[test]
fn suite_errors_name_the_file_and_the_key() {
    let cases = [
        (
            SUITE.replace("max_prime = 2000", "max_prime = 2000\nmax_primes = 3"),
            "workloads.cpu",
            "max_primes",
        ),
        (
            SUITE.replace("repetitions = 2", "repetitions = 0"),
            "defaults.repetitions",
            "outside 1-1000",
        ),
        (
            SUITE.replace("block_kib = 1024", "block_kib = 1000"),
            "workloads.disk-write.block_kib",
            "power of two",
        ),
        (
            SUITE.replace("\"cpu\", \"disk-write\"", "\"cpu\", \"gpu\""),
            "experiments.overall.workloads",
            "\"gpu\"",
        ),
        (
            SUITE.replace("platforms = [\"native\"]", "platforms = [\"vmware\"]"),
            "platforms",
            "unknown platform",
        ),
        (
            SUITE.replace("kind = \"fio\"", "kind = \"iozone\""),
            "workloads.disk-write",
            "iozone",
        ),
        (
            SUITE.replace("deadline_s = 10", "deadline_s = 10\nfrobnicate = true"),
            "line",
            "frobnicate",
        ),
    ];
    for (text, key, reason) in cases {
        let err = suite::parse(&text, Path::new("suites/bad.toml"))
            .expect_err(key)
            .to_string();
        assert!(err.starts_with("suites/bad.toml: "), "{err}");
        assert!(
            err.contains(key) && err.contains(reason),
            "{err} (wanted {key}, {reason})"
        );
    }
}
