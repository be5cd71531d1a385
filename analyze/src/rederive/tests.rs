use std::path::PathBuf;

use benchvm_format::metrics::METRICS_PATH;
use benchvm_format::write::{plan, Content, Source};
use collect::import::{self, import_files, Format, Options};

use super::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../collect/tests/data/import")
        .join(name)
}

/// Rewrites `bundle` into `dest` with entry `path` edited and every
/// hash recomputed.
fn forge(bundle: &Path, path: &str, edit: impl Fn(&str) -> String, dest: &Path) {
    let b = read::open(bundle, &Limits::default(), &|_| true).expect("verifies");
    let sources = b
        .kept
        .iter()
        .map(|(p, bytes)| {
            let text = String::from_utf8_lossy(bytes);
            let bytes = if p == path {
                edit(&text).into_bytes()
            } else {
                bytes.clone()
            };
            Source {
                path: p.clone(),
                content: Content::Bytes(bytes),
            }
        })
        .collect();
    let planned = plan(b.manifest.meta(), sources).expect("plan");
    let file = std::fs::File::create(dest).expect("create");
    planned.write(std::io::BufWriter::new(file)).expect("write");
}

/// The entry edited, the edit, what the refusal must say.
type Forgery = (&'static str, fn(&str) -> String, &'static str);

#[test]
fn imported_bundles_are_imported_again() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let one = |format, source: &str, meta: &str| {
        let mut all = import_files(
            format,
            &fixture(source),
            Some(&fixture(meta)),
            tmp.path(),
            Options::default(),
        )
        .expect("import");
        all.remove(0).packed
    };
    let pts = one(Format::Pts, "composite.xml", "pts-meta.toml");
    let done = check(&pts.path, &Limits::default()).expect("sound");
    assert_eq!((done.imported, done.values), (true, 20));

    let csv = one(Format::Csv, "results.csv", "meta.toml");
    let done = check(&csv.path, &Limits::default()).expect("sound");
    assert_eq!((done.imported, done.values), (true, 11));
    let forged = tmp.path().join("forged.tar.zst");
    let cases: [Forgery; 4] = [
        (
            METRICS_PATH,
            |t| t.replacen("\"kvm\",\"accel\":\"kvm\"", "\"kvm\",\"accel\":\"tcg\"", 1),
            "metrics.ndjson line 4",
        ),
        (
            import::ORIGIN_PATH,
            |t| t.replace("Lab notebook 7", "Lab notebook 8"),
            "import/origin.json: differs",
        ),
        (
            "import/source.csv",
            |t| t.replace("1602.5", "1702.5"),
            "metrics.ndjson line 4",
        ),
        (
            "import/meta.toml",
            |t| t.replace("cores = 32", "cores = 64"),
            "env/summary.json: differs",
        ),
    ];
    for (entry, edit, needed) in cases {
        forge(&csv.path, entry, edit, &forged);
        let err = format!("{:#}", check(&forged, &Limits::default()).expect_err(entry));
        assert!(err.contains(needed), "{entry}: {needed:?} not in {err}");
    }
}
