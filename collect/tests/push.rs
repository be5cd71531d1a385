//! `collect push`: bundles into a folder store and into S3 (a real
//! SeaweedFS server the test starts, reached through the AWS_* variables,
//! as a user or a playbook would).

#[path = "../../benchvm-store/tests/suite/util/mod.rs"]
mod util;

use std::path::Path;
use std::process::Command;

use util::{weed::Weed, Spec};

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

fn push(args: &[&str], vars: &[(String, String)]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_collect"))
        .arg("push")
        .args(args)
        .envs(vars.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("spawn collect");
    Run {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn push_to_a_folder_is_idempotent_and_says_so() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let a = util::bundle(
        tmp.path(),
        &Spec {
            label: "run a",
            ..Spec::default()
        },
    );
    util::sign(&a);
    let b = util::bundle(
        tmp.path(),
        &Spec {
            label: "run b",
            seed: 2,
            ..Spec::default()
        },
    );
    let (id_a, id_b) = (util::id_of(&a), util::id_of(&b));
    let store = tmp.path().join("store");
    let run = push(&[s(&a), s(&b), "--to", s(&store)], &[]);
    assert!(run.ok, "{}", run.stderr);
    assert!(
        run.stdout.contains(&format!(
            "id {id_a}; wrote bundle, signature, catalog entry"
        )) && run
            .stdout
            .contains(&format!("id {id_b}; wrote bundle, catalog entry")),
        "{}",
        run.stdout
    );
    for object in [
        format!("bundles/{id_a}.tar.zst"),
        format!("bundles/{id_a}.tar.zst.minisig"),
        format!("catalog/entries/{id_a}.json"),
        format!("bundles/{id_b}.tar.zst"),
        "benchvm-store.json".to_owned(),
    ] {
        assert!(store.join(&object).is_file(), "{object} missing");
    }
    let again = push(&[s(&a), "--to", s(&store)], &[]);
    assert!(again.ok, "{}", again.stderr);
    assert_eq!(
        again.stdout.trim(),
        format!(
            "already in {}: {id_a} (run a), nothing written",
            store.display()
        )
    );
}

#[test]
fn a_damaged_bundle_is_named_and_not_pushed_and_the_others_are() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let good = util::bundle(
        tmp.path(),
        &Spec {
            label: "good",
            ..Spec::default()
        },
    );
    let bad = util::bundle(
        tmp.path(),
        &Spec {
            label: "bad",
            seed: 3,
            log_bytes: 8192,
            ..Spec::default()
        },
    );
    std::fs::write(&bad, util::flipped(std::fs::read(&bad).expect("read"))).expect("damage");
    let store = tmp.path().join("store");
    let run = push(&[s(&bad), s(&good), "--to", s(&store)], &[]);
    assert!(!run.ok);
    assert!(
        run.stderr
            .contains(&format!("not pushed: {}", bad.display()))
            && run.stderr.contains("1 of 2 bundle(s) not pushed"),
        "{}",
        run.stderr
    );
    let stored: Vec<_> = std::fs::read_dir(store.join("bundles"))
        .expect("bundles")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(stored, [format!("{}.tar.zst", util::id_of(&good))]);

    let run = push(
        &[
            s(&good),
            "--to",
            &format!("{}/host=lab-01", store.display()),
        ],
        &[],
    );
    assert!(
        !run.ok && run.stderr.contains("not to a filter"),
        "{}",
        run.stderr
    );
}

#[test]
fn push_to_s3_takes_the_aws_environment() {
    let weed = Weed::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    let a = util::bundle(
        tmp.path(),
        &Spec {
            label: "fleet run",
            ..Spec::default()
        },
    );
    let id = util::id_of(&a);
    let to = "s3://benchvm/fleet/2026";
    let run = push(&[s(&a), "--to", to], &weed.vars());
    assert!(run.ok, "{}", run.stderr);
    assert!(
        run.stdout
            .contains(&format!("-> s3://benchvm/fleet/2026/bundles/{id}.tar.zst")),
        "{}",
        run.stdout
    );
    let again = push(&[s(&a), "--to", to], &weed.vars());
    assert!(again.ok, "{}", again.stderr);
    assert!(again.stdout.contains("nothing written"), "{}", again.stdout);

    let mut wrong = weed.vars();
    for (k, v) in &mut wrong {
        if k == "AWS_SECRET_ACCESS_KEY" {
            *v = "not-the-secret".into();
        }
    }
    let run = push(&[s(&a), "--to", to], &wrong);
    assert!(!run.ok);
    assert!(
        run.stderr.contains("s3://benchvm/fleet/2026"),
        "{}",
        run.stderr
    );
}
