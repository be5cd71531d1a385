//! One collector per run folder: an exclusive `flock` on `.lock`, taken
//! without waiting, so a second collector fails at once with a clear
//! message. The lock dies with the process, so a killed collector never
//! leaves a stale lock behind.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use anyhow::{bail, Context, Result};
use nix::fcntl::{Flock, FlockArg};

/// Name of the lock file inside a run folder.
pub const LOCK: &str = ".lock";

/// The held lock; released when dropped.
#[derive(Debug)]
pub struct RunLock {
    _lock: Flock<File>,
}

/// Takes the run folder's lock or fails naming the holder.
pub fn acquire(run_dir: &Path) -> Result<RunLock> {
    let path = run_dir.join(LOCK);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    let mut lock = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(lock) => lock,
        Err((mut file, _)) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            bail!(
                "{} is in use by another collector (pid {}); wait for it or stop it",
                run_dir.display(),
                holder.trim()
            );
        }
    };
    lock.set_len(0)?;
    lock.seek(SeekFrom::Start(0))?;
    write!(lock, "{}", std::process::id())?;
    lock.sync_all()?;
    Ok(RunLock { _lock: lock })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_fails_at_once_and_names_the_holder() {
        let dir = tempfile::tempdir().expect("tempdir");
        let held = acquire(dir.path()).expect("first");
        let err = acquire(dir.path()).expect_err("second").to_string();
        assert!(err.contains("in use by another collector"), "{err}");
        assert!(err.contains(&std::process::id().to_string()), "{err}");
        drop(held);
        acquire(dir.path()).expect("free again");
    }
}
