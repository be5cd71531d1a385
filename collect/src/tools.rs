//! The check, before anything starts, that every program and file the plan
//! needs is here, with the one apt-get line that installs what is missing.

use std::collections::BTreeSet;
use std::path::Path;

use crate::workload::Requirement;

/// Whether `what` (a program in PATH, or an absolute path) exists.
pub fn present(what: &str) -> bool {
    if what.starts_with('/') {
        return Path::new(what).exists();
    }
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(what).is_file()))
        .unwrap_or(false)
}

/// Fails with one message naming every missing requirement.
pub fn check(requirements: &[Requirement]) -> anyhow::Result<()> {
    let missing: Vec<&Requirement> = requirements.iter().filter(|r| !present(r.what)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = missing
        .iter()
        .map(|r| format!("{} (package {})", r.what, r.package))
        .collect();
    let packages: BTreeSet<&str> = missing.iter().map(|r| r.package).collect();
    let packages: Vec<&str> = packages.into_iter().collect();
    anyhow::bail!(
        "missing: {}\ninstall them with:\n    apt-get install -y {}",
        names.join(", "),
        packages.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_missing_tools_and_their_packages() {
        let reqs = [
            Requirement {
                what: "sh",
                package: "dash",
            },
            Requirement {
                what: "no-such-tool-xyz",
                package: "pkg-a",
            },
            Requirement {
                what: "/no/such/file",
                package: "pkg-b",
            },
        ];
        let err = check(&reqs).expect_err("missing").to_string();
        assert!(err.contains("no-such-tool-xyz (package pkg-a)"), "{err}");
        assert!(err.contains("apt-get install -y pkg-a pkg-b"), "{err}");
        assert!(!err.contains("dash"), "{err}");
    }
}
