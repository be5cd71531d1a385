//! The kernel modules a guest's initramfs carries: the closure of the
//! wanted modules over `modules.dep` (hard dependencies) and
//! `modules.softdep` (`pre:` soft dependencies, resolved through
//! `modules.alias`, as modprobe does), ordered so that every module comes
//! after everything it needs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Modules the guests need: the 9p host root, its overlay, virtio disks and
/// console, ext4 for the scratch disk, virtio-net for isolation guests,
/// and the Xen front ends (9p, disks, network) so a Xen domU can use the
/// same initramfs.
pub const GUEST_MODULES: &[&str] = &[
    "virtio_pci",
    "virtio_blk",
    "virtio_console",
    "virtio_net",
    "9p",
    "9pnet_virtio",
    "overlay",
    "ext4",
    "9pnet_xen",
    "xen-blkfront",
    "xen-netfront",
];

#[derive(Debug, thiserror::Error)]
pub enum ModuleError {
    #[error("reading {}: {error}", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error(
        "module {name} is neither in {dir}/modules.dep nor built in (modules.builtin); \
         is depmod done (depmod -b ROOT VERSION)?"
    )]
    Missing { name: String, dir: String },
    #[error("modules.dep has a dependency cycle through {0}")]
    Cycle(String),
}

/// What `modules.dep`, `modules.softdep`, `modules.alias` and
/// `modules.builtin` say.
#[derive(Debug, Clone, Default)]
pub struct ModuleIndex {
    /// Module name -> (path relative to the modules folder, hard deps).
    modules: BTreeMap<String, (String, Vec<String>)>,
    /// Module name -> soft `pre:` dependencies (names or aliases).
    softdeps: BTreeMap<String, Vec<String>>,
    /// Alias -> module names.
    aliases: BTreeMap<String, Vec<String>>,
    builtin: BTreeSet<String>,
    dir: String,
}

/// `kernel/fs/9p/9p.ko.xz` -> `9p`; dashes become underscores, as the
/// kernel names modules.
pub fn module_name(path: &str) -> String {
    let file = path.rsplit('/').next().unwrap_or(path);
    let stem = file.split(".ko").next().unwrap_or(file);
    stem.replace('-', "_")
}

impl ModuleIndex {
    /// Reads the index files of a modules folder (`.../lib/modules/VER`).
    pub fn load(dir: &Path) -> Result<Self, ModuleError> {
        let read = |name: &str, required: bool| -> Result<String, ModuleError> {
            let path = dir.join(name);
            match std::fs::read_to_string(&path) {
                Ok(s) => Ok(s),
                Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
                    Ok(String::new())
                }
                Err(error) => Err(ModuleError::Read { path, error }),
            }
        };
        let mut index = Self::parse(
            &read("modules.dep", true)?,
            &read("modules.softdep", false)?,
            &read("modules.alias", false)?,
            &read("modules.builtin", false)?,
        );
        index.dir = dir.display().to_string();
        Ok(index)
    }

    /// Parses the text of the index files.
    pub fn parse(dep: &str, softdep: &str, alias: &str, builtin: &str) -> Self {
        let mut index = ModuleIndex::default();
        for line in dep.lines() {
            let Some((path, deps)) = line.split_once(':') else {
                continue;
            };
            let deps = deps.split_whitespace().map(module_name).collect();
            index
                .modules
                .insert(module_name(path), (path.trim().to_owned(), deps));
        }
        for line in softdep.lines() {
            let mut words = line.split_whitespace();
            if words.next() != Some("softdep") {
                continue;
            }
            let Some(module) = words.next() else { continue };
            let mut pre = true;
            let mut list = Vec::new();
            for w in words {
                match w {
                    "pre:" => pre = true,
                    "post:" => pre = false,
                    name if pre => list.push(name.to_owned()),
                    _ => {}
                }
            }
            index
                .softdeps
                .entry(module.replace('-', "_"))
                .or_default()
                .extend(list);
        }
        for line in alias.lines() {
            let mut words = line.split_whitespace();
            if let (Some("alias"), Some(a), Some(m)) = (words.next(), words.next(), words.next()) {
                index
                    .aliases
                    .entry(a.to_owned())
                    .or_default()
                    .push(m.replace('-', "_"));
            }
        }
        index.builtin = builtin.lines().map(module_name).collect();
        index
    }

    /// Paths (relative to the modules folder) of the closure of `wanted`,
    /// every module after its dependencies. Built-in modules are skipped;
    /// soft dependencies that resolve to nothing are ignored.
    pub fn closure(&self, wanted: &[&str]) -> Result<Vec<String>, ModuleError> {
        let mut order = Vec::new();
        let mut done = BTreeSet::new();
        let mut active = BTreeSet::new();
        for w in wanted {
            let name = w.replace('-', "_");
            if !self.modules.contains_key(&name) && !self.builtin.contains(&name) {
                return Err(ModuleError::Missing {
                    name,
                    dir: self.dir.clone(),
                });
            }
            self.visit(&name, &mut done, &mut active, &mut order)?;
        }
        Ok(order)
    }

    fn visit(
        &self,
        name: &str,
        done: &mut BTreeSet<String>,
        active: &mut BTreeSet<String>,
        order: &mut Vec<String>,
    ) -> Result<(), ModuleError> {
        if done.contains(name) {
            return Ok(());
        }
        let Some((path, deps)) = self.modules.get(name) else {
            return Ok(()); // built in (checked by the caller for wanted ones)
        };
        if !active.insert(name.to_owned()) {
            return Err(ModuleError::Cycle(name.to_owned()));
        }
        for soft in self.softdeps.get(name).into_iter().flatten() {
            for m in self.resolve(soft) {
                if !active.contains(&m) {
                    self.visit(&m, done, active, order)?;
                }
            }
        }
        for dep in deps {
            self.visit(dep, done, active, order)?;
        }
        active.remove(name);
        done.insert(name.to_owned());
        order.push(path.clone());
        Ok(())
    }

    /// A soft dependency's modules: itself if it is a module, else the
    /// modules its alias names.
    fn resolve(&self, name: &str) -> Vec<String> {
        let plain = name.replace('-', "_");
        if self.modules.contains_key(&plain) {
            return vec![plain];
        }
        let mut found: Vec<String> = self
            .aliases
            .get(name)
            .into_iter()
            .flatten()
            .filter(|m| self.modules.contains_key(*m))
            .cloned()
            .collect();
        found.dedup();
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEP: &str = "\
kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko kernel/fs/fscache/fscache.ko kernel/fs/netfs/netfs.ko
kernel/net/9p/9pnet.ko:
kernel/fs/fscache/fscache.ko: kernel/fs/netfs/netfs.ko
kernel/fs/netfs/netfs.ko:
kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/mbcache.ko kernel/fs/jbd2/jbd2.ko
kernel/lib/crc16.ko:
kernel/fs/mbcache.ko:
kernel/fs/jbd2/jbd2.ko:
kernel/arch/x86/crypto/crc32c-intel.ko:
kernel/crypto/crc32c_generic.ko:
kernel/drivers/block/xen-blkfront.ko.xz:
";
    const SOFTDEP: &str =
        "# comment\nsoftdep ext4 pre: crypto-crc32c\nsoftdep jbd2 pre: crypto-crc32c\n";
    const ALIAS: &str =
        "alias crypto-crc32c crc32c_intel\nalias crypto-crc32c crc32c_generic\nalias fs-9p 9p\n";

    fn position(order: &[String], name: &str) -> usize {
        order
            .iter()
            .position(|p| module_name(p) == name)
            .unwrap_or_else(|| panic!("{name} not in {order:?}"))
    }

    #[test]
    fn dependencies_come_first() {
        let index = ModuleIndex::parse(DEP, SOFTDEP, ALIAS, "");
        let order = index.closure(&["9p", "ext4"]).expect("closure");
        assert_eq!(order.len(), 10, "{order:?}");
        for (module, dep) in [
            ("9p", "9pnet"),
            ("9p", "fscache"),
            ("9p", "netfs"),
            ("fscache", "netfs"),
            ("ext4", "jbd2"),
            ("ext4", "crc16"),
            ("ext4", "crc32c_intel"),
            ("ext4", "crc32c_generic"),
            ("jbd2", "crc32c_generic"),
        ] {
            assert!(
                position(&order, dep) < position(&order, module),
                "{dep} must load before {module}: {order:?}"
            );
        }
        let unique: BTreeSet<&String> = order.iter().collect();
        assert_eq!(unique.len(), order.len(), "each module once");
    }

    #[test]
    fn names_normalize_dashes_and_compression() {
        assert_eq!(
            module_name("kernel/drivers/block/xen-blkfront.ko.xz"),
            "xen_blkfront"
        );
        assert_eq!(module_name("kernel/fs/9p/9p.ko"), "9p");
        let index = ModuleIndex::parse(DEP, "", "", "");
        let order = index.closure(&["xen-blkfront"]).expect("closure");
        assert_eq!(order, ["kernel/drivers/block/xen-blkfront.ko.xz"]);
    }

    #[test]
    fn builtin_is_skipped_and_unknown_is_an_error() {
        let index = ModuleIndex::parse(DEP, "", "", "kernel/fs/overlayfs/overlay.ko\n");
        assert!(index.closure(&["overlay"]).expect("builtin").is_empty());
        let err = index.closure(&["no_such_mod"]).expect_err("missing");
        assert!(err.to_string().contains("no_such_mod"), "{err}");
    }

    #[test]
    fn cycles_are_reported() {
        let index = ModuleIndex::parse("a.ko: b.ko\nb.ko: a.ko\n", "", "", "");
        assert!(matches!(index.closure(&["a"]), Err(ModuleError::Cycle(_))));
    }

    /// The closure over the real modules.dep of the fetched guest kernel,
    /// when `collect fetch` has run.
    #[test]
    fn real_modules_dep_closure() {
        let Ok(found) = crate::cache::default_dir()
            .map_err(|e| e.to_string())
            .and_then(|c| crate::guest::kernel::find(None, &c).map_err(|e| e.to_string()))
        else {
            eprintln!("skipped: no guest kernel (run collect fetch guest-kernel)");
            return;
        };
        let index = ModuleIndex::load(&found.modules).expect("modules index");
        let order = index.closure(GUEST_MODULES).expect("closure");
        for (module, dep) in [
            ("9p", "9pnet"),
            ("9pnet_virtio", "virtio_ring"),
            ("virtio_pci", "virtio"),
            ("ext4", "jbd2"),
        ] {
            assert!(
                position(&order, dep) < position(&order, module),
                "{order:?}"
            );
        }
        for path in &order {
            assert!(found.modules.join(path).is_file(), "{path}");
        }
    }
}
