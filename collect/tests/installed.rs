//! collect as an installed tool: run from a folder that is not the source
//! tree, with no `suites/` beside it, it finds its built-in suites, keeps
//! its cache in the user's cache folder and writes bundles relative to
//! where it runs.

use std::path::Path;
use std::process::Command;

fn collect(cwd: &Path, home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_collect"));
    cmd.current_dir(cwd)
        .env_remove("BENCHVM_CACHE")
        .env_remove("XDG_CACHE_HOME")
        .env("HOME", home);
    cmd
}

#[test]
fn a_built_in_suite_runs_from_any_folder_with_the_cache_under_home() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cwd = dir.path().join("somewhere");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&cwd).expect("cwd");
    std::fs::create_dir_all(&home).expect("home");
    // lab-smoke is one tiny sysbench run: natively, seconds.
    let out = collect(&cwd, &home)
        .args(["run", "--suite", "lab-smoke", "--platform", "native"])
        .output()
        .expect("collect run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "stdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bundle = stdout
        .lines()
        .find_map(|l| l.strip_prefix("bundle "))
        .expect("a bundle line");
    let bundle = Path::new(bundle.trim());
    assert!(
        bundle.starts_with(cwd.canonicalize().expect("cwd")),
        "{} is not under the folder collect ran in",
        bundle.display()
    );
    assert!(bundle.parent().is_some_and(|p| p.ends_with("bundles")));
    assert!(
        home.join(".cache/benchvm").is_dir(),
        "the cache folder was not made under HOME"
    );
    assert!(
        !cwd.join(".cache").exists(),
        "a cache was made in the working folder"
    );

    // A name that is no built-in suite and no file says which exist.
    let out = collect(&cwd, &home)
        .args(["run", "--suite", "nope", "--platform", "native"])
        .output()
        .expect("collect run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains(
            "no such suite: the built-in ones are smoke, quick, ci, paper, lab-smoke, lab-multi"
        ),
        "{stderr}"
    );
}
