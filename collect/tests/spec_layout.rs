//! SPEC.md §6 is the layout of real bundles: its table is parsed from
//! SPEC.md itself, and every path of these bundles' listings must match one
//! of its rows, so the test fails when the spec or the writers drift.
//!
//! - `fuzz/corpus/bundle_reader/smoke.tar.zst`: a real `collect run
//!   --suite smoke --platform native` bundle (env capture included);
//! - a run on the fake platform named native, kvm and xen (overall and
//!   scalability, generated configs recorded), packed here;
//! - `collect import` of the CSV and PTS examples;
//! - any bundles named in `BENCHVM_LAYOUT_BUNDLES` (space-separated), e.g.
//!   the bundles of a `scripts/quick.sh` run, whose guests and isolation
//!   phases a test cannot boot.

use std::path::{Path, PathBuf};
use std::process::Command;

use benchvm_core::registry::PlatformKind;
use benchvm_format::metrics::Status;
use benchvm_format::{RunMeta, Tool};
use collect::journal::Record;
use collect::platform::fake::Fake;
use collect::platform::Platform;
use collect::runfolder::RunFolder;
use collect::{plan, runner, suite};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The path patterns of §6's table (first column), braces expanded.
fn spec_patterns() -> Vec<String> {
    let spec =
        std::fs::read_to_string(workspace().join("benchvm-format/SPEC.md")).expect("SPEC.md");
    let start = spec.find("\n## 6. Layout").expect("§6");
    let end = start + spec[start..].find("\n### 6.1").expect("§6.1");
    let mut patterns = Vec::new();
    for line in spec[start..end].lines().filter(|l| l.starts_with("| `")) {
        let cell = line
            .split(" | ")
            .next()
            .expect("cell")
            .trim_start_matches("| ");
        for span in cell.split(", ") {
            let span = span.trim_matches('`');
            assert!(!span.contains('`'), "§6: one path per code span: {cell}");
            patterns.extend(expand(span));
        }
    }
    assert!(patterns.len() > 30, "§6's table not found: {patterns:?}");
    patterns
}

/// `a{b,c}d` -> `abd`, `acd` (nested braces are not used).
fn expand(pattern: &str) -> Vec<String> {
    let Some(open) = pattern.find('{') else {
        return vec![pattern.to_owned()];
    };
    let close = open + pattern[open..].find('}').expect("closing brace");
    pattern[open + 1..close]
        .split(',')
        .flat_map(|alt| {
            expand(&format!(
                "{}{alt}{}",
                &pattern[..open],
                &pattern[close + 1..]
            ))
        })
        .collect()
}

/// Whether `path` matches `pattern`, component by component; placeholders
/// match within one component: `<k>`, `<N>`, `<i>`, `<NNN>` digits,
/// `<rep>` `warmup-<k>` or `rep-<k>`, `<probe>` `kvm` or `tcg`, any other
/// one or more characters.
fn matches(pattern: &str, path: &str) -> bool {
    let (pat, parts): (Vec<&str>, Vec<&str>) =
        (pattern.split('/').collect(), path.split('/').collect());
    pat.len() == parts.len() && pat.iter().zip(&parts).all(|(p, s)| component(p, s))
}

fn component(pattern: &str, text: &str) -> bool {
    let Some(open) = pattern.find('<') else {
        return pattern == text;
    };
    let close = open + pattern[open..].find('>').expect("closing >");
    let (before, name, after) = (
        &pattern[..open],
        &pattern[open + 1..close],
        &pattern[close + 1..],
    );
    let Some(rest) = text.strip_prefix(before) else {
        return false;
    };
    (1..=rest.len()).any(|n| {
        let (value, tail) = rest.split_at(n);
        let fits = match name {
            "k" | "N" | "i" => value.bytes().all(|b| b.is_ascii_digit()),
            "NNN" => value.len() == 3 && value.bytes().all(|b| b.is_ascii_digit()),
            "rep" => ["warmup-", "rep-"].iter().any(|p| {
                value
                    .strip_prefix(p)
                    .is_some_and(|k| !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()))
            }),
            "probe" => value == "kvm" || value == "tcg",
            _ => true,
        };
        fits && component(after, tail)
    })
}

/// Every path of a bundle, `manifest.json` first.
fn listing(bundle: &Path) -> Vec<String> {
    let read = benchvm_format::read::open(bundle, &Default::default(), &|_| false)
        .unwrap_or_else(|e| panic!("{}: {e}", bundle.display()));
    std::iter::once("manifest.json".to_owned())
        .chain(read.manifest.files.iter().map(|f| f.path.clone()))
        .collect()
}

const SUITE: &str = r#"
name = "layout"
platforms = ["native", "kvm", "xen"]
[defaults]
repetitions = 2
warmups = 1
deadline_s = 60
[experiments.overall]
workloads = ["cpu"]
[experiments.scalability]
workload = "compile"
n_guests = [1, 2]
[workloads.cpu]
kind = "sysbench-cpu"
max_prime = 2000
events = 2000
threads = 1
[workloads.compile]
kind = "tools-compile"
tool = "gpio"
"#;

/// A run on the fake platform as native, kvm and xen, packed into `out`.
fn fake_bundle(out: &Path) -> PathBuf {
    let suite = suite::parse(SUITE, Path::new("layout.toml")).expect("suite");
    let kinds = [PlatformKind::Native, PlatformKind::Kvm, PlatformKind::Xen];
    let plan = plan::build(&suite, &kinds);
    let meta = RunMeta {
        tool: Tool {
            name: "collect".into(),
            version: "0.0.0".into(),
            git_commit: None,
        },
        created: "2026-01-01T00:00:00Z".into(),
        host: "test".into(),
        suite: "layout".into(),
        platforms: vec!["native".into(), "kvm".into(), "xen".into()],
        label: "layout".into(),
    };
    let start = Record::Start {
        collect_version: "0.0.0".into(),
        suite_sha256: String::new(),
        suite_path: "layout.toml".into(),
        runs: plan.runs.len(),
    };
    let folder = RunFolder::create(&out.join("run"), &meta, &start).expect("folder");
    folder
        .write_file(
            "config/plan.json",
            &serde_json::to_vec_pretty(&plan).expect("plan"),
        )
        .expect("plan");
    folder
        .write_file("config/suite.toml", SUITE.as_bytes())
        .expect("suite");
    let sysbench = include_str!("../testdata/sysbench_cpu_t1_events.txt");
    let mut summary = benchvm_format::EnvSummary::default();
    let mut platforms: Vec<Box<dyn Platform>> = Vec::new();
    for name in ["native", "kvm", "xen"] {
        let fake = Fake::new(name)
            .recording(folder.root())
            .expect("recording")
            .answer("sysbench", sysbench, Status::Ok, 0.25)
            .answer("make", "", Status::Ok, 12.5);
        summary.platforms.insert(name.into(), fake.facts());
        platforms.push(Box::new(fake));
    }
    let summary = serde_json::to_vec_pretty(&summary).expect("summary");
    folder
        .write_file(benchvm_format::env::SUMMARY_PATH, &summary)
        .expect("summary");
    runner::execute(&plan, &mut platforms, None, &folder, &Default::default()).expect("execute");
    folder.finalize().expect("metrics");
    let root = folder.root().to_path_buf();
    drop(folder);
    benchvm_format::rundir::pack(&root, Some(&out.join("layout.tar.zst")), out)
        .expect("pack")
        .path
}

/// `collect import` of one of IMPORT.md's examples, into `out`.
fn imported(format: &str, source: &str, meta: &str, out: &Path) -> PathBuf {
    let data = workspace().join("collect/tests/data/import");
    let result = Command::new(env!("CARGO_BIN_EXE_collect"))
        .args(["import", format])
        .arg(data.join(source))
        .arg("--meta")
        .arg(data.join(meta))
        .arg("--out")
        .arg(out)
        .output()
        .expect("collect import");
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let dir = std::fs::read_dir(out).expect("out");
    let bundles: Vec<PathBuf> = dir.map(|e| e.expect("entry").path()).collect();
    assert_eq!(bundles.len(), 1, "{bundles:?}");
    bundles.into_iter().next().expect("bundle")
}

#[test]
fn every_path_of_real_bundles_is_in_spec_section_6() {
    let patterns = spec_patterns();
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut bundles = vec![
        workspace().join("fuzz/corpus/bundle_reader/smoke.tar.zst"),
        fake_bundle(tmp.path()),
    ];
    for (i, (format, source, meta)) in [
        ("csv", "results.csv", "meta.toml"),
        ("pts", "composite.xml", "pts-meta.toml"),
    ]
    .into_iter()
    .enumerate()
    {
        let out = tmp.path().join(format!("import-{i}"));
        bundles.push(imported(format, source, meta, &out));
    }
    if let Some(more) = std::env::var_os("BENCHVM_LAYOUT_BUNDLES") {
        bundles.extend(more.to_string_lossy().split_whitespace().map(PathBuf::from));
    }
    let mut used = vec![false; patterns.len()];
    let mut outside = Vec::new();
    for bundle in &bundles {
        for path in listing(bundle) {
            let hits: Vec<usize> = (0..patterns.len())
                .filter(|&k| matches(&patterns[k], &path))
                .collect();
            if hits.is_empty() {
                outside.push(format!("{}: {path}", bundle.display()));
            }
            for k in hits {
                used[k] = true;
            }
        }
    }
    assert!(
        outside.is_empty(),
        "paths SPEC.md §6 does not list:\n{}",
        outside.join("\n")
    );
    // The fake run reaches the guest platforms' rows, not only native's.
    for must in [
        "config/xen/guest-<NNN>.cfg",
        "runs/<platform>/overall/<workload>/stopping.json",
        "import/origin.json",
    ] {
        let k = patterns
            .iter()
            .position(|p| p == must)
            .expect("a row of §6");
        assert!(used[k], "no bundle here has {must}");
    }
    let unused: Vec<&String> = patterns
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|(p, _)| p)
        .collect();
    eprintln!(
        "§6 rows no bundle of this run has ({}):\n{unused:#?}",
        unused.len()
    );
}

#[test]
fn the_layout_matcher_reads_the_placeholders_as_spec_section_6_defines_them() {
    assert!(matches(
        "runs/<platform>/overall/<workload>/<rep>/run.json",
        "runs/kvm/overall/cpu/warmup-01/run.json"
    ));
    assert!(!matches(
        "runs/<platform>/overall/<workload>/<rep>/run.json",
        "runs/kvm/overall/cpu/try-01/run.json"
    ));
    assert!(matches(
        "runs/kvm/scalability/<workload>/n=<N>/<rep>/guest-<i>/qemu.log",
        "runs/kvm/scalability/c/n=2/rep-01/guest-2/qemu.log"
    ));
    assert!(!matches(
        "config/kvm/guest-<NNN>.cmdline",
        "config/kvm/guest-01.cmdline"
    ));
    assert!(matches(
        "config/kvm/probe-<probe>-qemu.log",
        "config/kvm/probe-tcg-qemu.log"
    ));
    assert!(!matches("env/summary.json", "env/summary.json/x"));
    assert_eq!(expand("a/{b,c}.log"), ["a/b.log", "a/c.log"]);
}
