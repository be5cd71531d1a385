//! `--help` of `collect`, `analyze` and every subcommand (found in each
//! help's `Commands:` list, so a new subcommand gets a snapshot too), kept
//! as `<bin>[-<sub>...].txt`. `BENCHVM_UPDATE_SNAPSHOTS=1` rewrites them and
//! removes the snapshots of commands that are gone.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

const BINS: [&str; 2] = ["collect", "analyze"];

/// Every help text: snapshot file name -> text.
fn help_texts(bin_dir: &Path) -> BTreeMap<String, String> {
    let mut texts = BTreeMap::new();
    for bin in BINS {
        let mut todo = vec![vec![]];
        while let Some(words) = todo.pop() {
            let out = Command::new(bin_dir.join(bin))
                .args(&words)
                .arg("--help")
                .env("COLUMNS", "100")
                // clap shows an env var's value in the help when it is set.
                .env_remove("BENCHVM_CACHE")
                .env_remove("RUST_LOG")
                .output()
                .expect("run --help");
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            assert!(
                out.status.success(),
                "{bin} {words:?} --help: {}",
                out.status
            );
            for sub in subcommands(&text) {
                let mut more = words.clone();
                more.push(sub);
                todo.push(more);
            }
            let name = std::iter::once(bin.to_owned())
                .chain(words.iter().cloned())
                .collect::<Vec<_>>()
                .join("-");
            texts.insert(format!("{name}.txt"), text);
        }
    }
    texts
}

/// The names of clap's `Commands:` list, but `help`.
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| l.trim_end() != "Commands:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("    "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

pub fn check(bin_dir: &Path, snapshots: &Path) {
    let texts = help_texts(bin_dir);
    assert!(texts.len() > BINS.len(), "no subcommand found");
    let update = std::env::var_os("BENCHVM_UPDATE_SNAPSHOTS").is_some();
    let mut stale: Vec<String> = std::fs::read_dir(snapshots)
        .map(|dir| {
            dir.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| !texts.contains_key(name))
                .collect()
        })
        .unwrap_or_default();
    stale.sort();
    if update {
        std::fs::create_dir_all(snapshots).expect("snapshot folder");
        for (name, text) in &texts {
            std::fs::write(snapshots.join(name), text).expect("write snapshot");
        }
        for name in &stale {
            std::fs::remove_file(snapshots.join(name)).expect("remove stale snapshot");
        }
        return;
    }
    let mut differ = Vec::new();
    for (name, text) in &texts {
        match std::fs::read_to_string(snapshots.join(name)) {
            Ok(kept) if &kept == text => {}
            Ok(kept) => differ.push(format!(
                "{name} differs:\n--- kept\n{kept}\n--- now\n{text}"
            )),
            Err(_) => differ.push(format!("{name} has no snapshot:\n{text}")),
        }
    }
    for name in stale {
        differ.push(format!("{name}: no such command any more"));
    }
    assert!(
        differ.is_empty(),
        "{}\n\nBENCHVM_UPDATE_SNAPSHOTS=1 rewrites the help snapshots (review the diff)",
        differ.join("\n\n")
    );
}
