//! `analyze verify`: check bundles and report each one.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use benchvm_format::input;
use benchvm_format::metrics::Status;

use crate::load::{load, LoadOptions};

/// Checks beyond the hashes.
#[derive(Debug, Clone, Default)]
pub struct Checks {
    /// Re-derive the metrics table from the raw tool output.
    pub rederive: bool,
    /// A minisign public key (file text) whose signature each bundle must carry.
    pub trusted_key: Option<String>,
    /// Print one JSON object per bundle (JSON lines) instead of text.
    pub json: bool,
}

/// The signature and re-derivation checks of one verified bundle.
fn extra(
    path: &std::path::Path,
    loaded: &crate::load::Loaded,
    checks: &Checks,
    options: &LoadOptions,
) -> anyhow::Result<Vec<String>> {
    let mut lines = Vec::new();
    if let Some(key) = &checks.trusted_key {
        let sig_path = benchvm_format::sign::signature_path(path);
        let sig = input::read_text(&sig_path, input::SIGNATURE_CAP, "minisign signature").map_err(
            |e| -> anyhow::Error {
                if e.is_not_found() {
                    benchvm_format::sign::SignError::Missing(sig_path.clone()).into()
                } else {
                    e.into()
                }
            },
        )?;
        let signed = benchvm_format::sign::verify(&loaded.bundle.manifest_bytes, &sig, key)
            .map_err(|e| anyhow::anyhow!("{}: {e}", sig_path.display()))?;
        lines.push(format!(
            "signed by key {} ({})",
            signed.key_id, signed.trusted_comment
        ));
    }
    if checks.rederive {
        let done = crate::rederive::check(path, &options.limits)?;
        lines.push(done.describe());
    }
    Ok(lines)
}

pub fn run(paths: &[PathBuf], options: &LoadOptions, checks: &Checks) -> anyhow::Result<ExitCode> {
    let (mut failed, mut total) = (0, 0);
    for path in paths {
        if benchvm_store::location::is_store(path) {
            let (f, t) = crate::store::commands::verify(path, options, checks)?;
            failed += f;
            total += t;
            continue;
        }
        total += 1;
        if !check(&path.display().to_string(), path, options, checks, &|_| {
            Ok(Vec::new())
        }) {
            failed += 1;
        }
    }
    if failed > 0 {
        collect::errln!("{failed} of {total} bundles failed verification");
        return Ok(ExitCode::from(collect::clikit::NEGATIVE));
    }
    Ok(ExitCode::SUCCESS)
}

/// Checks of a verified bundle beyond [`Checks`], each giving lines to
/// print.
pub type More<'a> = &'a dyn Fn(&crate::load::Loaded) -> anyhow::Result<Vec<String>>;

/// Verifies the bundle file at `path`, runs `more` on it, and prints the
/// outcome under the name `shown`; true when it is sound.
pub fn check(
    shown: &str,
    path: &Path,
    options: &LoadOptions,
    checks: &Checks,
    more: More<'_>,
) -> bool {
    let checked = load(path, options)
        .map_err(anyhow::Error::from)
        .and_then(|loaded| {
            let mut lines = more(&loaded)?;
            lines.extend(extra(path, &loaded, checks, options)?);
            Ok((loaded, lines))
        });
    match checked {
        Ok((loaded, lines)) => {
            print_sound(shown, &loaded, &lines, checks.json);
            true
        }
        Err(err) => {
            print_failed(shown, &collect::output::sentence(&err), checks.json);
            false
        }
    }
}

/// Prints a sound bundle: text, or one line of JSON with `json`.
fn print_sound(shown: &str, loaded: &crate::load::Loaded, lines: &[String], json: bool) {
    let count = |s: Status| loaded.rows.iter().filter(|r| r.status == s).count();
    let content: u64 = loaded.bundle.manifest.files.iter().map(|f| f.size).sum();
    let files = loaded.bundle.manifest.files.len() + 1;
    let (ok, failed, dnr) = (count(Status::Ok), count(Status::Failed), count(Status::Dnr));
    if json {
        let v = serde_json::json!({
            "bundle": shown,
            "ok": true,
            "id": loaded.bundle.id.hex(),
            "files": files,
            "content_bytes": content,
            "metric_rows": loaded.rows.len(),
            "rows_by_status": {"ok": ok, "failed": failed, "dnr": dnr},
            "checks": lines,
        });
        collect::outln!("{v}");
        return;
    }
    collect::outln!(
        "ok    {shown}\n      id {}\n      {files} files, {content} bytes of content, {} metric rows (ok {ok}, failed {failed}, dnr {dnr})",
        loaded.bundle.id,
        loaded.rows.len(),
    );
    for line in lines {
        collect::outln!("      {line}");
    }
}

/// Prints a bundle that failed and why: text, or one line of JSON with
/// `json`.
pub fn print_failed(shown: &str, reason: &str, json: bool) {
    if json {
        let v = serde_json::json!({"bundle": shown, "ok": false, "error": reason});
        collect::outln!("{v}");
    } else {
        collect::outln!("FAIL  {shown}\n      {reason}");
    }
}
