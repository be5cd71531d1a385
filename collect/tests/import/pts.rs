//! Phoronix Test Suite result files: the shapes of published ones.

use std::fs;

use benchvm_format::metrics::{Direction, Status, Unit};

use crate::common::*;

#[test]
fn pts_composite_becomes_rows_per_result_and_sample() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let meta = data("pts-meta.toml");
    let bundle = import("pts", &data("composite.xml"), Some(&meta), tmp.path());
    let b = open_all(&bundle);
    assert_eq!(
        b.file("import/composite.xml"),
        Some(&fs::read(data("composite.xml")).expect("xml")[..])
    );
    let rows = &b.metrics;
    // 4 results x 2 systems: 3 samples each, but fio on KVM (Value only)
    // and nginx (2 samples).
    assert_eq!(rows.len(), 3 + 3 + 3 + 3 + 3 + 1 + 2 + 2);
    let pick = |platform: &str, workload: &str| -> Vec<_> {
        rows.iter()
            .filter(|r| r.platform == platform && r.workload == workload)
            .collect()
    };
    let cpu = pick("native", "sysbench");
    assert_eq!(cpu[0].metric, "test_cpu");
    assert_eq!(
        (cpu[0].unit.clone(), cpu[0].direction),
        (Unit::EVENTS_PER_SECOND, Direction::Higher)
    );
    let values: Vec<_> = cpu.iter().map(|r| (r.repetition, r.value)).collect();
    assert_eq!(
        values,
        [
            (1, Some(21498.31)),
            (2, Some(21540.12)),
            (3, Some(21533.18))
        ]
    );
    let build = pick("kvm", "build-linux-kernel");
    assert_eq!(
        (build[0].metric.as_str(), build[0].unit.as_str()),
        ("build_defconfig", "s")
    );
    let fio = pick("kvm", "fio");
    assert_eq!((fio.len(), fio[0].value), (1, Some(987.0)));
    assert!(rows.iter().all(|r| r.run == "import/composite.xml"));
    // Host facts from the metadata win over the file's.
    let s = summary(&b);
    assert_eq!(s.host, "lab-03");
    assert_eq!(s.microcode.as_deref(), Some("0xa0011d5"));
    rederives(&bundle, 20);
}

/// Merged results of three systems, without metadata: every system is a
/// platform named after it, every scale a unit as written (or canonical),
/// install pseudo-results kept apart, entries without samples kept.
#[test]
fn pts_shapes_of_published_files_import_without_metadata() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (bundles, said) = import_all("pts", &data("pts-shapes.xml"), None, &[], tmp.path());
    assert_eq!(bundles.len(), 1);
    for note in [
        "2 install-time or install-size result(s) kept as workload pts-install",
        "1 LINE_GRAPH result(s) skipped",
        "1 entr(y/ies) without a value kept as failed rows",
    ] {
        assert!(said.contains(note), "{note:?} not in {said}");
    }
    let b = open_all(&bundles[0]);
    assert_eq!(b.manifest.label, "EPYC native vs KVM vs Xen");
    assert_eq!(b.manifest.created, "2026-10-14T19:55:02Z");
    assert_eq!(
        b.manifest.platforms,
        ["bare_metal", "kvm_guest", "xen_pv_guest"]
    );
    assert_eq!(b.manifest.host, "unknown");
    assert!(b.file("import/meta.toml").is_none());
    let unit_of = |workload: &str, metric_start: &str| {
        b.metrics
            .iter()
            .find(|r| r.workload == workload && r.metric.starts_with(metric_start))
            .map(|r| r.unit.as_str().to_owned())
            .unwrap_or_else(|| panic!("{workload} {metric_start}"))
    };
    for (workload, metric, unit) in [
        ("himeno", "poisson", "Mflops"),
        ("stream", "type_triad", "MiB/s"),
        ("mbw", "test_memory", "GB/s"),
        ("phpbench", "php", "Iterations Per Minute"),
        ("jpegxl", "input_png", "Megapixels/sec"),
        ("redis", "test_lpush", "k/s"),
        ("compress-zstd", "compression", "bytes/s"),
        ("schbench", "message", "usec, 99.9th Latency Percentile"),
        ("pgbench", "scaling", "ms"),
        ("build-linux-kernel", "build", "s"),
    ] {
        assert_eq!(unit_of(workload, metric), unit, "{workload}");
    }
    // OpenSSL's sign/s and verify/s share a description: two measures.
    assert_eq!(unit_of("openssl", "algorithm_rsa4096_verify_s"), "verify/s");
    assert_eq!(unit_of("openssl", "algorithm_rsa4096"), "sign/s");
    // Install size: empty identifier, two entries of one system, never a
    // collision: repetitions 1 and 2.
    let size: Vec<_> = b
        .metrics
        .iter()
        .filter(|r| r.platform == "bare_metal" && r.metric.ends_with("_install_size"))
        .map(|r| (r.workload.as_str(), r.repetition, r.unit.as_str(), r.value))
        .collect();
    assert_eq!(
        size,
        [
            ("pts-install", 1, "bytes", Some(1_387_462_656.0)),
            ("pts-install", 2, "bytes", Some(1_387_462_656.0))
        ]
    );
    // An entry with neither samples nor a value is a failed row.
    let failed: Vec<_> = b
        .metrics
        .iter()
        .filter(|r| r.status == Status::Failed)
        .collect();
    assert_eq!(
        (failed.len(), failed[0].platform.as_str()),
        (1, "xen_pv_guest")
    );
    // PTS's System Layer names the hypervisor it saw.
    let accel = |p: &str| {
        b.metrics
            .iter()
            .find(|r| r.platform == p)
            .map(|r| r.accel.clone())
    };
    assert_eq!(accel("bare_metal").as_deref(), Some("none"));
    assert_eq!(accel("kvm_guest").as_deref(), Some("kvm"));
    // Host facts the three systems share; each system's own under its platform.
    let s = summary(&b);
    assert_eq!(
        (s.kernel.as_deref(), s.arch.as_deref()),
        (Some("6.1.0-26-amd64"), Some("x86_64"))
    );
    assert_eq!((s.cpu_model, s.governor), (None, None));
    let kvm = &s.platforms["kvm_guest"];
    assert_eq!(kvm["pts_system"], "KVM Guest");
    assert_eq!(kvm["hypervisor"], "KVM");
    assert_eq!(
        kvm["pts_kernel_extra_details"],
        "Transparent Huge Pages: always"
    );
    rederives(&bundles[0], 88);
}

/// `--split`: one bundle per system with that system's host facts, so
/// the comparability guard compares the systems.
#[test]
fn pts_split_gives_each_system_its_bundle_and_host_facts() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("bundles");
    let (bundles, _) = import_all("pts", &data("pts-shapes.xml"), None, &["--split"], &out);
    assert_eq!(bundles.len(), 3);
    let all: Vec<_> = bundles.iter().map(|p| open_all(p)).collect();
    let bare = all
        .iter()
        .find(|b| b.manifest.platforms == ["bare_metal"])
        .expect("bare metal bundle");
    let s = summary(bare);
    assert_eq!(
        s.cpu_model.as_deref(),
        Some("AMD EPYC 7313P 16-Core @ 3.00GHz")
    );
    assert_eq!(s.cpus, Some(32));
    assert_eq!(s.governor.as_deref(), Some("performance"));
    assert_eq!(s.microcode.as_deref(), Some("0xa0011d5"));
    assert_eq!(s.transparent_hugepage.as_deref(), Some("madvise"));
    assert!(s
        .mitigations
        .as_deref()
        .is_some_and(|m| m.contains("spectre_v2")));
    let kvm = all
        .iter()
        .find(|b| b.manifest.platforms == ["kvm_guest"])
        .expect("kvm bundle");
    assert_eq!((summary(kvm).cpus, summary(kvm).governor), (Some(8), None));
    for b in &bundles {
        let o = analyze(&[os("verify"), os("--rederive"), b.as_os_str()]);
        assert!(o.status.success(), "verify: {}", text(&o));
    }
    let report = tmp.path().join("report");
    let mut args = vec![os("report"), os("--out"), report.as_os_str()];
    args.extend(bundles.iter().map(|b| b.as_os_str()));
    let o = analyze(&args);
    assert!(o.status.success(), "report: {}", text(&o));
    let guard = fs::read_to_string(report.join("comparability.md")).expect("comparability.md");
    for needed in [
        "| governor | performance |",
        "| governor | unknown |",
        "| cpus | 32 |",
        "| cpus | 8 |",
        "| microcode | 0xa0011d5 |",
        "| transparent_hugepage | madvise |",
    ] {
        assert!(guard.contains(needed), "{needed:?} not in\n{guard}");
    }
}

/// `--meta` names platforms and adds host facts; an unmapped system stays a
/// platform of its own.
#[test]
fn pts_metadata_adds_and_overrides() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let meta = write(
        tmp.path(),
        "meta.toml",
        "label = \"EPYC, named\"\ncreated = 2026-10-14\n[source]\ncitation = \"lab-03 PTS run\"\n[host]\nhostname = \"lab-03\"\ngovernor = \"schedutil\"\n[platforms.native]\nhypervisor = \"none\"\naccel = \"none\"\nemulated = false\npts_system = \"Bare Metal\"\n[platforms.kvm]\nhypervisor = \"KVM\"\naccel = \"kvm\"\nemulated = false\npts_system = \"KVM Guest\"\n",
    );
    let bundle = import("pts", &data("pts-shapes.xml"), Some(&meta), tmp.path());
    let b = open_all(&bundle);
    assert_eq!(b.manifest.platforms, ["native", "kvm", "xen_pv_guest"]);
    assert_eq!(
        (b.manifest.host.as_str(), b.manifest.label.as_str()),
        ("lab-03", "EPYC, named")
    );
    let s = summary(&b);
    assert_eq!(s.governor.as_deref(), Some("schedutil"));
    assert_eq!(s.tools["source"], "Phoronix Test Suite v10.8.4");
    assert_eq!(s.platforms["native"]["pts_system"], "Bare Metal");
    rederives(&bundle, 88);
    // With native named, Table 1 normalizes to it.
    let report = tmp.path().join("report");
    let o = analyze(&[
        os("report"),
        os("--out"),
        report.as_os_str(),
        bundle.as_os_str(),
    ]);
    assert!(o.status.success(), "report: {}", text(&o));
    let table = fs::read_to_string(report.join("table1.md")).expect("table1.md");
    assert!(table.contains("poisson_pressure_solver (Mflops"), "{table}");

    let wrong = write(
        tmp.path(),
        "wrong.toml",
        &fs::read_to_string(&meta)
            .expect("meta")
            .replace("\"KVM Guest\"", "\"KVM guest\""),
    );
    let err = refused("pts", &data("pts-shapes.xml"), Some(&wrong));
    assert!(err.contains("key `platforms.kvm.pts_system`"), "{err}");
}

#[test]
fn pts_faults_name_the_element() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let xml = fs::read_to_string(data("composite.xml")).expect("xml");
    let meta = data("pts-meta.toml");
    let line_of = |needle: &str| xml.lines().position(|l| l.contains(needle)).expect(needle) + 1;
    let cases: [(&str, String, String); 4] = [
        (
            "a scale longer than a unit",
            xml.replace("<Scale>MB/s</Scale>", "<Scale>Megabytes Per Second Of Sequential Reads</Scale>"),
            format!("composite.xml line {}, column 5 (<Scale>)", line_of("<Scale>MB/s</Scale>")),
        ),
        (
            "a sample that is not a number",
            xml.replace("21498.31:21540.12", "21498.31:fast"),
            format!("composite.xml line {}, column 9 (<RawString>): sample 2 (\"fast\") is not a number", line_of("21498.31:21540.12")),
        ),
        (
            "a proportion that is neither",
            xml.replacen("<Proportion>HIB</Proportion>", "<Proportion>MIB</Proportion>", 1),
            format!("composite.xml line {}, column 5 (<Proportion>)", line_of("<Proportion>HIB</Proportion>")),
        ),
        ("not PTS", "<Other/>".to_owned(), "not a PTS result file".to_owned()),
    ];
    for (what, text, needed) in cases {
        let source = write(tmp.path(), "composite.xml", &text);
        let err = refused("pts", &source, Some(&meta));
        assert!(err.contains(&needed), "{what}: {needed:?} not in {err}");
    }
}

#[test]
fn the_same_inputs_give_the_same_bytes() {
    let (a, b) = (
        tempfile::tempdir().expect("a"),
        tempfile::tempdir().expect("b"),
    );
    for (format, source, meta) in [
        ("csv", "results.csv", Some("meta.toml")),
        ("pts", "composite.xml", Some("pts-meta.toml")),
        ("pts", "pts-shapes.xml", None),
        ("hyperfine", "hyperfine.json", Some("one-platform.toml")),
        ("fio", "fio-plus.json", Some("one-platform.toml")),
        ("pkb", "pkb-samples.json", Some("one-platform.toml")),
    ] {
        let meta = meta.map(data);
        let one = import(format, &data(source), meta.as_deref(), a.path());
        let two = import(format, &data(source), meta.as_deref(), b.path());
        assert_eq!(one.file_name(), two.file_name());
        assert_eq!(
            fs::read(&one).expect("one"),
            fs::read(&two).expect("two"),
            "{format} import of {source} is not deterministic"
        );
    }
}
