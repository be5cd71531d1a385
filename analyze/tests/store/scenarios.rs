//! What a user of a store relies on, run against a folder store and an S3
//! store alike through the `analyze` binary.

use std::path::{Path, PathBuf};
use std::process::Command;

use benchvm_format::Limits;
use benchvm_store::backend::Source;
use benchvm_store::catalog::bundle_key;
use benchvm_store::{push, Store};

use crate::common::{self, summary, KVM_TCG, NATIVE, XEN_PV};

/// A store, how to name it, and where this test keeps its files.
pub struct Env {
    dir: PathBuf,
    /// `STORE` as a user types it.
    pub spec: String,
    vars: Vec<(String, String)>,
    store: Store,
    cache: PathBuf,
}

/// What one run of analyze said.
pub struct Run {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Env {
    pub fn new(tmp: &Path, spec: String, vars: Vec<(String, String)>, store: Store) -> Env {
        std::fs::create_dir_all(tmp.join("bundles")).expect("bundles dir");
        Env {
            dir: tmp.to_path_buf(),
            spec,
            vars,
            store,
            cache: tmp.join("cache"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Runs analyze with the store's environment and this test's cache.
    pub fn analyze(&self, args: &[&str]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_analyze"))
            .args(args)
            .env("BENCHVM_CACHE", &self.cache)
            .env("RUST_LOG", "info")
            .envs(self.vars.iter().map(|(k, v)| (k, v)))
            .output()
            .expect("spawn analyze");
        Run {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// A bundle of native, KVM (TCG) and Xen rows from `host`.
    pub fn bundle(&self, label: &str, host: &str) -> PathBuf {
        let cpu = if host == "lab-02" {
            "Intel Xeon Gold 6338"
        } else {
            "AMD EPYC 7B13"
        };
        let env = summary(host, cpu, "6.1.0-28-amd64", &[NATIVE, KVM_TCG, XEN_PV]);
        common::write_bundle(
            &self.dir.join("bundles"),
            label,
            &env,
            &common::three_platform_rows(),
        )
    }

    /// Pushes a bundle; returns its id.
    pub fn push(&self, path: &Path) -> String {
        push::push(&self.store, path, &Limits::default())
            .expect("push")
            .id
    }

    /// Three bundles pushed: two from lab-01, one from lab-02.
    pub fn three(&self) -> Vec<String> {
        [
            ("run a", "lab-01"),
            ("run b", "lab-01"),
            ("run c", "lab-02"),
        ]
        .iter()
        .map(|(label, host)| self.push(&self.bundle(label, host)))
        .collect()
    }

    /// Replaces bundle `id`'s object with a copy that has one byte flipped.
    pub fn tamper(&self, id: &str) {
        let backend = self.store.backend();
        let key = bundle_key(id);
        let mut bytes = backend.get(&key, u64::MAX).expect("get").expect("object");
        let at = bytes.len() * 3 / 4;
        bytes[at] ^= 0x40;
        backend.delete(&key).expect("delete");
        backend.put_new(&key, Source::Bytes(&bytes)).expect("put");
    }
}

/// The tables a report writes, as text.
fn tables(dir: &Path) -> Vec<(String, String)> {
    [
        "table1.csv",
        "platforms.csv",
        "comparability.csv",
        "warnings.csv",
    ]
    .iter()
    .map(|n| {
        let text = std::fs::read_to_string(dir.join(n)).unwrap_or_else(|e| panic!("{n}: {e}"));
        ((*n).to_owned(), text)
    })
    .collect()
}

fn says(run: &Run, needle: &str) {
    assert!(
        run.stderr.contains(needle) || run.stdout.contains(needle),
        "expected {needle:?} in\n{}\n{}",
        run.stdout,
        run.stderr
    );
}

/// The first report verifies every bundle; after two new ones, the next
/// verifies those two and reads the rest from the local catalog, with the
/// very tables a report without the catalog writes.
pub fn reports_verify_only_the_new_bundles(env: &Env) {
    env.three();
    let first = env.path("r1");
    let run = env.analyze(&["report", &env.spec, "--out", first.to_str().expect("utf-8")]);
    assert!(run.ok, "{}", run.stderr);
    says(
        &run,
        "3 of 3 bundle(s) wanted; 0 from the local catalog, 3 fetched and verified, 0 refused",
    );
    env.push(&env.bundle("run d", "lab-02"));
    env.push(&env.bundle("run e", "lab-01"));
    let second = env.path("r2");
    let run = env.analyze(&[
        "report",
        &env.spec,
        "--out",
        second.to_str().expect("utf-8"),
    ]);
    assert!(run.ok, "{}", run.stderr);
    says(
        &run,
        "5 of 5 bundle(s) wanted; 3 from the local catalog, 2 fetched and verified, 0 refused",
    );
    says(&run, "5 bundle(s) used, 0 skipped");
    let fresh = env.path("r3");
    let run = env.analyze(&[
        "report",
        &env.spec,
        "--no-cache",
        "--out",
        fresh.to_str().expect("utf-8"),
    ]);
    assert!(run.ok, "{}", run.stderr);
    says(&run, "0 from the local catalog, 5 fetched and verified");
    assert_eq!(tables(&second), tables(&fresh));
}

/// A tampered object is skipped and named (by the report, its report.md
/// and verify); everything else is reported; --strict refuses.
pub fn tampered_objects_are_refused_and_named(env: &Env) {
    let ids = env.three();
    env.tamper(&ids[1]);
    let name = format!("bundles/{}.tar.zst", ids[1]);
    let out = env.path("r1");
    let run = env.analyze(&["report", &env.spec, "--out", out.to_str().expect("utf-8")]);
    assert!(run.ok, "{}", run.stderr);
    says(&run, &name);
    says(&run, "2 bundle(s) used, 1 skipped");
    let md = std::fs::read_to_string(out.join("report.md")).expect("report.md");
    assert!(
        md.contains("## Skipped bundles") && md.contains(&name),
        "{md}"
    );

    let run = env.analyze(&[
        "report",
        &env.spec,
        "--strict",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert!(!run.ok);
    says(&run, &name);

    let run = env.analyze(&["verify", &env.spec]);
    assert!(!run.ok);
    assert_eq!(
        run.stdout.matches("\nok    ").count() + usize::from(run.stdout.starts_with("ok ")),
        2,
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("FAIL  ") && run.stdout.contains(&name),
        "{}",
        run.stdout
    );
    says(&run, "1 of 3 bundles failed verification");
}

/// `STORE/host=H`, `STORE/label=L` pick bundles by their catalog entries;
/// `show` lists them.
pub fn filters_select_bundles_and_show_lists_them(env: &Env) {
    let ids = env.three();
    let run = env.analyze(&["show", &format!("{}/host=lab-02", env.spec)]);
    assert!(run.ok, "{}", run.stderr);
    says(&run, "bundles   1 of 3");
    says(&run, &ids[2][..12]);
    assert!(
        run.stdout.contains("run c") && !run.stdout.contains("run a"),
        "{}",
        run.stdout
    );

    let out = env.path("r1");
    let spec = format!("{}/host=lab-01/label=run%20b", env.spec);
    let run = env.analyze(&["report", &spec, "--out", out.to_str().expect("utf-8")]);
    assert!(run.ok, "{}", run.stderr);
    says(&run, "1 of 3 bundle(s) wanted");
    says(&run, "1 bundle(s) used, 0 skipped");
    let run = env.analyze(&["show", &format!("{}/date=2025", env.spec)]);
    says(&run, "bundles   0 of 3");
}

/// The DuckDB query of the README, its folder replaced by `dir`.
fn readme_query(dir: &Path) -> String {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .expect("README.md");
    let start = readme
        .find("```sql\n")
        .expect("a ```sql block in the README")
        + 7;
    let len = readme[start..].find("```").expect("its end");
    readme[start..start + len].replace("fleet-parquet/", &format!("{}/", dir.display()))
}

/// `analyze export` writes platform=/host= folders of Parquet, and the
/// README's DuckDB query reads them back: every ok overall row, with its
/// bundle's lineage.
pub fn export_is_a_hive_dataset_duckdb_queries(env: &Env) {
    env.three();
    let out = env.path("parquet");
    let run = env.analyze(&[
        "export",
        &env.spec,
        "--parquet",
        out.to_str().expect("utf-8"),
    ]);
    assert!(run.ok, "{}", run.stderr);
    for p in ["native", "kvm", "xen"] {
        for h in ["lab-01", "lab-02"] {
            let file = out.join(format!("platform={p}/host={h}/data.parquet"));
            assert!(file.is_file(), "{} missing", file.display());
        }
    }
    let has = Command::new("python3")
        .args(["-c", "import duckdb"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        has,
        "DuckDB's Python package is missing: pip install duckdb"
    );
    let script = "import sys, json, duckdb\n\
                  for row in duckdb.sql(sys.argv[1]).fetchall(): print(json.dumps(row))";
    let q = Command::new("python3")
        .args(["-c", script, &readme_query(&out)])
        .output()
        .expect("python3");
    let stdout = String::from_utf8_lossy(&q.stdout);
    assert!(q.status.success(), "{}", String::from_utf8_lossy(&q.stderr));
    let rows: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("json row"))
        .collect();
    // Expected: per (platform, workload, metric), the ok overall rows of one
    // bundle, times the bundles of each host (lab-01: 2, lab-02: 1).
    let mut expected = std::collections::BTreeMap::new();
    for r in common::three_platform_rows() {
        if r.experiment == "overall" && r.value.is_some() {
            for (host, bundles) in [("lab-01", 2), ("lab-02", 1)] {
                let key = (
                    r.platform.clone(),
                    host.to_owned(),
                    r.workload.clone(),
                    r.metric.clone(),
                );
                let e = expected.entry(key).or_insert((bundles, 0));
                e.1 += bundles;
            }
        }
    }
    assert_eq!(rows.len(), expected.len(), "{stdout}");
    for row in &rows {
        let key = (
            row[0].as_str().unwrap_or_default().to_owned(),
            row[1].as_str().unwrap_or_default().to_owned(),
            row[2].as_str().unwrap_or_default().to_owned(),
            row[3].as_str().unwrap_or_default().to_owned(),
        );
        let (bundles, n) = expected
            .get(&key)
            .unwrap_or_else(|| panic!("unexpected {row}"));
        assert_eq!(
            (row[4].as_i64(), row[5].as_i64()),
            (Some(*bundles), Some(*n)),
            "{row}"
        );
    }
}

/// A local catalog segment that no longer matches its hash is removed,
/// its bundles verified again, and the report is the same.
pub fn a_damaged_local_catalog_is_dropped_and_rebuilt(env: &Env) {
    env.three();
    let first = env.path("r1");
    assert!(
        env.analyze(&["report", &env.spec, "--out", first.to_str().expect("utf-8")])
            .ok
    );
    let segments = env.cache.join("analyze/v1/segments");
    let parquet = std::fs::read_dir(&segments)
        .expect("segments")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|e| e == "parquet"))
        .expect("a segment");
    let mut bytes = std::fs::read(&parquet).expect("read");
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    std::fs::write(&parquet, bytes).expect("damage");
    let second = env.path("r2");
    let run = env.analyze(&[
        "report",
        &env.spec,
        "--out",
        second.to_str().expect("utf-8"),
    ]);
    assert!(run.ok, "{}", run.stderr);
    says(
        &run,
        "does not match its size and sha256; removed, its bundles are verified again",
    );
    says(&run, "0 from the local catalog, 3 fetched and verified");
    assert_eq!(tables(&first), tables(&second));
}

/// Signatures travel with their bundles; verify checks them against the
/// trusted key, and names an unsigned bundle when one is required.
pub fn signed_bundles_verify_against_the_trusted_key(env: &Env) {
    let (secret, public) = benchvm_format::sign::generate_keypair().expect("keys");
    let signed = env.bundle("signed", "lab-01");
    let bundle =
        benchvm_format::read::open(&signed, &Limits::default(), &|_| false).expect("sound");
    let sig = benchvm_format::sign::sign(&bundle.manifest_bytes, "signed", &secret).expect("sign");
    std::fs::write(benchvm_format::sign::signature_path(&signed), sig).expect("write sig");
    let id = env.push(&signed);
    let unsigned = env.push(&env.bundle("unsigned", "lab-02"));
    let key = env.path("fleet.pub");
    std::fs::write(&key, public).expect("key");
    let key = key.to_str().expect("utf-8");
    let run = env.analyze(&[
        "verify",
        "--trusted-key",
        key,
        &format!("{}/id={}", env.spec, &id[..12]),
    ]);
    assert!(run.ok, "{}\n{}", run.stdout, run.stderr);
    says(&run, "signed by key");
    says(&run, &format!("benchvm-bundle id={id}"));
    let run = env.analyze(&["verify", "--trusted-key", key, &env.spec]);
    assert!(!run.ok);
    says(&run, &format!("bundles/{unsigned}.tar.zst"));
    says(&run, "a trusted key was given, so one is required");
}
