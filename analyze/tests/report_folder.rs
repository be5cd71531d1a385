//! `analyze report --out DIR` owns DIR: a second report replaces the first
//! whole (nothing of an earlier analysis is left beside it), and a folder
//! that holds other files is refused and left as it is.

mod forge;

use std::path::Path;
use std::process::Command;

use forge::*;

fn report(bundle: &Path, out: &Path) -> (Option<i32>, String) {
    let o = Command::new(bin("analyze"))
        .arg("report")
        .arg(bundle)
        .arg("--out")
        .arg(out)
        .output()
        .expect("analyze report");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.code(), text)
}

#[test]
fn a_report_folder_never_mixes_two_reports() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let scalability = pack(&kvm_scalability_run(&tmp.path().join("scal")));
    let native = pack(&native_copy(&tmp.path().join("native")));
    let reports = tmp.path().join("reports");
    std::fs::create_dir(&reports).expect("mkdir");
    let out = reports.join("r");

    let (code, text) = report(&scalability, &out);
    assert_eq!(code, Some(0), "{text}");
    assert!(out.join("scalability.md").exists(), "{text}");
    let (code, text) = report(&native, &out);
    assert_eq!(code, Some(0), "{text}");
    assert!(out.join("table1.md").exists(), "{text}");
    for stale in [
        "scalability.md",
        "scalability.csv",
        "figures/scalability-mean.svg",
    ] {
        assert!(
            !out.join(stale).exists(),
            "{stale} of the first report is left"
        );
    }
    assert!(out.join(".benchvm-report").exists());
    let names: Vec<String> = std::fs::read_dir(&reports)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["r"], "staging or old folders left beside it");

    // A folder of someone's own files is not a report folder.
    let thesis = tmp.path().join("thesis");
    std::fs::create_dir(&thesis).expect("mkdir");
    std::fs::write(thesis.join("chapter1.tex"), "mine").expect("write");
    let (code, text) = report(&native, &thesis);
    assert_eq!(code, Some(3), "{text}");
    assert!(
        text.contains("holds files and is not a report folder (no .benchvm-report in it): refusing to replace it"),
        "{text}"
    );
    let left: Vec<_> = std::fs::read_dir(&thesis).expect("list").collect();
    assert_eq!(left.len(), 1);
    assert_eq!(
        std::fs::read(thesis.join("chapter1.tex")).expect("kept"),
        b"mine"
    );
}
