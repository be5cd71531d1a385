//! Helpers shared by the tests that boot real guests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use collect::guest;

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn cache() -> PathBuf {
    std::env::var_os("BENCHVM_CACHE")
        .map(PathBuf::from)
        .map(|p| {
            if p.is_absolute() {
                p
            } else {
                workspace().join(p)
            }
        })
        .unwrap_or_else(|| workspace().join(".cache"))
}

/// Whether guests can boot here; prints why not.
pub fn can_boot(test: &str) -> bool {
    report_missing(test, guest_missing())
}

/// What guests still need here, if anything.
pub fn guest_missing() -> Option<String> {
    if !collect::tools::present(guest::qemu::QEMU) {
        Some("qemu-system-x86_64 (apt-get install -y qemu-system-x86)".to_owned())
    } else if !Path::new(guest::initramfs::BUSYBOX).exists() {
        Some("busybox (apt-get install -y busybox-static)".to_owned())
    } else if let Err(e) = guest::kernel::find(None, &cache()) {
        Some(e.to_string())
    } else {
        None
    }
}

/// Prints why a test is skipped; true when nothing is missing.
pub fn report_missing(test: &str, missing: Option<String>) -> bool {
    if let Some(m) = &missing {
        eprintln!("SKIPPED {test}: missing {m}");
    }
    missing.is_none()
}

/// Processes whose ancestry includes `root`, with their names.
pub fn descendants(root: u32) -> Vec<(u32, String)> {
    let mut parent = BTreeMap::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid ...
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = stat[open + 1..close].to_owned();
        let mut rest = stat[close + 1..].split_whitespace();
        let state = rest.next().unwrap_or("");
        let ppid: u32 = rest.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        if state != "Z" {
            parent.insert(pid, (ppid, comm));
        }
    }
    let mut found = Vec::new();
    for (&pid, (_, comm)) in &parent {
        let mut p = pid;
        for _ in 0..64 {
            match parent.get(&p) {
                Some((pp, _)) if *pp == root => {
                    found.push((pid, comm.clone()));
                    break;
                }
                Some((pp, _)) if *pp > 1 => p = *pp,
                _ => break,
            }
        }
    }
    found
}

pub fn qemu_descendants(root: u32) -> Vec<u32> {
    descendants(root)
        .into_iter()
        .filter(|(_, comm)| comm.starts_with("qemu-system"))
        .map(|(pid, _)| pid)
        .collect()
}
