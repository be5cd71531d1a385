//! Running collect and analyze, reading what they wrote.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use benchvm_format::write::{plan, Content, Source};
use benchvm_format::{read, EnvSummary, Limits};

pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/import")
        .join(name)
}

pub fn collect(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_collect"))
        .args(args)
        .output()
        .expect("run collect")
}

pub fn analyze(args: &[&std::ffi::OsStr]) -> Output {
    let bin = Path::new(env!("CARGO_BIN_EXE_collect")).with_file_name("analyze");
    assert!(
        bin.exists(),
        "{} is not built: cargo build -p analyze (or cargo test --workspace)",
        bin.display()
    );
    Command::new(bin).args(args).output().expect("run analyze")
}

pub fn os<S: AsRef<std::ffi::OsStr> + ?Sized>(s: &S) -> &std::ffi::OsStr {
    s.as_ref()
}

pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `collect import FORMAT SOURCE [--meta META] EXTRA... --out OUT`; the
/// bundles' paths and collect's output.
pub fn import_all(
    format: &str,
    source: &Path,
    meta: Option<&Path>,
    extra: &[&str],
    out: &Path,
) -> (Vec<PathBuf>, String) {
    let mut args = vec![os("import"), os(format), source.as_os_str()];
    if let Some(m) = meta {
        args.extend([os("--meta"), m.as_os_str()]);
    }
    args.extend(extra.iter().map(os));
    args.extend([os("--out"), out.as_os_str()]);
    let o = collect(&args);
    assert!(o.status.success(), "collect import: {}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let bundles: Vec<PathBuf> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("bundle "))
        .map(|l| PathBuf::from(l.trim()))
        .collect();
    assert!(!bundles.is_empty(), "no bundle line in {stdout}");
    (bundles, text(&o))
}

/// Imports one bundle; returns its path.
pub fn import(format: &str, source: &Path, meta: Option<&Path>, out: &Path) -> PathBuf {
    let (mut all, _) = import_all(format, source, meta, &[], out);
    assert_eq!(all.len(), 1);
    all.remove(0)
}

/// Imports and expects a refusal that writes nothing; returns the error.
pub fn refused(format: &str, source: &Path, meta: Option<&Path>) -> String {
    let out = tempfile::tempdir().expect("tempdir");
    let mut args = vec![os("import"), os(format), source.as_os_str()];
    if let Some(m) = meta {
        args.extend([os("--meta"), m.as_os_str()]);
    }
    args.extend([os("--out"), out.path().as_os_str()]);
    let o = collect(&args);
    assert!(!o.status.success(), "accepted: {}", text(&o));
    let written = fs::read_dir(out.path()).map_or(0, |d| d.count());
    assert_eq!(written, 0, "a refused import left files behind");
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn open_all(bundle: &Path) -> read::Bundle {
    read::open(bundle, &Limits::default(), &|_| true).expect("bundle verifies")
}

pub fn summary(b: &read::Bundle) -> EnvSummary {
    serde_json::from_slice(b.file("env/summary.json").expect("summary")).expect("summary json")
}

/// `analyze verify --rederive` passes and checked `ok` values.
pub fn rederives(bundle: &Path, ok: usize) {
    let o = analyze(&[os("verify"), os("--rederive"), bundle.as_os_str()]);
    assert!(o.status.success(), "verify: {}", text(&o));
    let needed = format!("re-derived {ok} values");
    assert!(text(&o).contains(&needed), "{needed:?} not in {}", text(&o));
}

/// Writes `text` as `name` in `dir`; returns its path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, text).expect("write fixture");
    path
}

/// A new, self-consistent bundle made of `bundle`'s entries with entry
/// `path` edited: every hash recomputed, so only `--rederive` can tell.
pub fn forge(bundle: &Path, path: &str, edit: impl Fn(&str) -> String, dest: &Path) {
    let b = open_all(bundle);
    let sources: Vec<Source> = b
        .kept
        .iter()
        .map(|(p, bytes)| {
            let bytes = if p == path {
                let text = String::from_utf8(bytes.clone()).expect("utf8");
                let edited = edit(&text);
                assert_ne!(edited, text, "the edit of {path} changed nothing");
                edited.into_bytes()
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
    let file = fs::File::create(dest).expect("create");
    planned.write(std::io::BufWriter::new(file)).expect("write");
}
