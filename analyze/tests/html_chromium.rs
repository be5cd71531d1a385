//! The HTML report in a real browser: headless Chromium (Debian package
//! `chromium`) loads the file, dumps the DOM it built and takes a
//! screenshot; the DOM must hold the table cells and one `<svg>` per figure
//! with its labels, and the screenshot must show the figures' colors.
//!
//! Two pages: one built from every chart kind with the library, and the
//! `report.html` that `analyze report` writes over three synthetic bundles
//! (with `figures/table1.svg` and `.png` beside it).
//!
//! The browser part skips, saying so, only when no Chromium is installed
//! (`scripts/install-deps.sh` installs it; CI runs it).

#[path = "suite/common.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use analyze::figures::{
    self, heat_table, BandPoint, BandSeries, GuestBars, GuestOutcome, GuestRun, HeatCell,
    HeatTable, LineBand,
};
use analyze::render::html::{self, Block, Section, Table};
use analyze::stats::{fieller, Summary};
use analyze::table1::{Cell, Entry, Row, Score, Table1};

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|p| p.is_file())
}

/// Runs Chromium headless on `url` with `args`, killing it after `limit`.
fn run_chromium(bin: &Path, profile: &Path, args: &[String], url: &str, limit: Duration) -> String {
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let deadline = Instant::now() + limit;
    let mut stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut s).map(|_| s)
    });
    loop {
        match child.try_wait().expect("wait") {
            Some(status) => {
                assert!(status.success(), "chromium {args:?}: {status}");
                break;
            }
            None if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("chromium {args:?} did not finish in {limit:?}");
            }
            None => std::thread::sleep(Duration::from_millis(100)),
        }
    }
    reader.join().expect("reader").expect("utf-8 stdout")
}

fn table1() -> Table1 {
    let base = [1000.0, 1010.0, 990.0, 1005.0];
    let cell = |v: &[f64], native: bool| {
        let (a, b) = (Summary::of(v).expect("a"), Summary::of(&base).expect("b"));
        Entry::Measured(Cell {
            score: if native {
                Score::Native
            } else {
                Score::Ratio {
                    score: a.mean / b.mean,
                    interval: fieller(&a, &b),
                }
            },
            summary: a,
            failed: 0,
            dnr: 0,
        })
    };
    Table1 {
        columns: vec!["Native".into(), "KVM (TCG)".into()],
        rows: vec![Row {
            workload: "cpu".into(),
            metric: "events_per_sec".into(),
            unit: "events/s".into(),
            direction: "higher".into(),
            cells: vec![
                cell(&base, true),
                cell(&[940.0, 950.0, 960.0, 950.0], false),
            ],
        }],
        dropped: Vec::new(),
    }
}

/// Sections as a report would have them: a table, then every chart kind.
fn sections() -> Vec<Section> {
    let t = table1();
    let table = Table {
        caption: "Table 1. Overall performance normalized to native".into(),
        header: vec!["Workload".into(), "Native".into(), "KVM (TCG)".into()],
        numeric: vec![false, true, true],
        rows: vec![vec![
            "cpu".into(),
            "1.000 (mean 1002.5)".into(),
            "0.948 [0.93, 0.96] n=4".into(),
        ]],
        notes: vec!["Fieller's interval (Fieller 1954).".into()],
    };
    let heat = HeatTable {
        title: "Table 2. Performance isolation".into(),
        caption: "% degradation of the good-response rate".into(),
        rows: heat_table::STRESSORS
            .iter()
            .map(|s| s.to_string())
            .collect(),
        columns: heat_table::table2_columns(&["KVM".into(), "Xen".into()]),
        cells: (0..6)
            .map(|r| {
                (0..4)
                    .map(|c| {
                        if r == 1 && c == 0 {
                            HeatCell::Dnr
                        } else {
                            HeatCell::Value((r * 10 + c) as f64)
                        }
                    })
                    .collect()
            })
            .collect(),
        unit: "%".into(),
        saturate_at: 100.0,
    };
    let guests = GuestBars {
        title: "Figure 1. KVM: compile time of each guest".into(),
        value_label: "compile time (s)".into(),
        runs: [1u32, 2, 4]
            .iter()
            .map(|&n| GuestRun {
                n_guests: n,
                guests: (0..n)
                    .map(|i| {
                        if n == 4 && i == 1 {
                            GuestOutcome::Dnr
                        } else {
                            GuestOutcome::Value(100.0 * n as f64)
                        }
                    })
                    .collect(),
            })
            .collect(),
        y_max: None,
        color: 1,
    };
    let lines = LineBand {
        title: "Mean compile time against N".into(),
        x_label: "guests started at once (N)".into(),
        y_label: "mean compile time (s)".into(),
        band_label: "95% t-interval of the mean".into(),
        series: vec![BandSeries {
            name: "KVM".into(),
            color: 1,
            points: [1.0, 2.0, 4.0]
                .iter()
                .map(|&n| BandPoint::from_values(n, &[100.0 * n, 104.0 * n, 98.0 * n], 0))
                .collect(),
        }],
        fits: Vec::new(),
    };
    let figure = |svg: Result<String, figures::FigureError>, caption: &str| Block::Figure {
        svg: svg.expect("svg"),
        caption: caption.into(),
    };
    vec![
        Section {
            title: "Table 1".into(),
            blocks: vec![
                Block::Table(table),
                figure(figures::svg(&figures::table1::bars(&t)), "Table 1 as bars"),
            ],
        },
        Section {
            title: "Isolation and scalability".into(),
            blocks: vec![
                figure(figures::svg(&heat), "Table 2 as a heat table"),
                figure(figures::svg(&guests), "Per-guest compile times"),
                figure(figures::svg(&lines), "Mean compile time"),
                Block::Notes(vec!["DNR: did not return.".into()]),
            ],
        },
    ]
}

#[test]
fn chromium_shows_the_tables_and_figures() {
    let Some(bin) = chromium() else {
        println!("skipping: chromium is not installed (apt-get install chromium)");
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("report.html");
    std::fs::write(&page, html::report("benchvm report", &sections())).expect("write");
    let url = format!("file://{}", page.display());
    let limit = Duration::from_secs(120);

    let dom = run_chromium(
        &bin,
        &dir.path().join("p1"),
        &["--dump-dom".into()],
        &url,
        limit,
    );
    assert!(dom.contains("<table>") && dom.contains("</table>"), "{dom}");
    for cell in [
        "<td>cpu</td>",
        "<td class=\"num\">0.948 [0.93, 0.96] n=4</td>",
        "<th class=\"num\">KVM (TCG)</th>",
    ] {
        assert!(dom.contains(cell), "{cell} not in the DOM");
    }
    assert_eq!(dom.matches("<svg").count(), 4, "one svg per figure");
    assert_eq!(dom.matches("<figcaption>").count(), 4);
    for label in [
        "native = 1.0",
        "net-receive",
        "DNR",
        "N = 4",
        "1 DNR",
        "95% t-interval of the mean",
    ] {
        assert!(dom.contains(label), "{label} not in the DOM");
    }
    assert!(!dom.contains("Figure omitted"));

    let shot = dir.path().join("shot.png");
    let img = screenshot(&bin, &dir.path().join("p2"), &url, &shot);
    // The figures' bar colors (Native blue, KVM vermillion) are on screen.
    for rgb in [[0x00, 0x72, 0xB2], [0xD5, 0x5E, 0x00]] {
        let n = img.pixels().filter(|p| p.0 == rgb).count();
        assert!(n > 500, "{rgb:?}: {n} pixels");
    }
    if std::env::var_os("BENCHVM_KEEP_FIGURES").is_some() {
        let keep = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("chromium-report.png");
        std::fs::copy(&shot, &keep).expect("keep");
        eprintln!("screenshot: {}", keep.display());
    }
}

/// A 1200x2000 screenshot of `url`, checked not to be blank.
fn screenshot(bin: &Path, profile: &Path, url: &str, out: &Path) -> image::RgbImage {
    run_chromium(
        bin,
        profile,
        &[
            format!("--screenshot={}", out.display()),
            "--window-size=1200,2000".into(),
        ],
        url,
        Duration::from_secs(120),
    );
    let img = image::open(out).expect("screenshot decodes").to_rgb8();
    assert_eq!(img.dimensions(), (1200, 2000));
    let ink = img.pixels().filter(|p| p.0 != [255, 255, 255]).count();
    assert!(
        ink > (1200 * 2000) / 50,
        "screenshot nearly blank: {ink} non-white pixels"
    );
    img
}

#[test]
fn analyze_report_writes_figures_and_a_self_contained_html_report() {
    use common::{summary, three_platform_rows, write_bundle, KVM_TCG, NATIVE, XEN_PV};
    let tmp = tempfile::tempdir().expect("tempdir");
    let all = three_platform_rows();
    let bundles: Vec<PathBuf> = [NATIVE, KVM_TCG, XEN_PV]
        .iter()
        .map(|p| {
            let rows: Vec<_> = all.iter().filter(|r| r.platform == p.0).cloned().collect();
            let env = summary("lab-01", "AMD EPYC 7B13", "6.1.0-28-amd64", &[*p]);
            write_bundle(tmp.path(), &format!("synthetic {}", p.0), &env, &rows)
        })
        .collect();
    let out_dir = tmp.path().join("report");
    let out = Command::new(env!("CARGO_BIN_EXE_analyze"))
        .arg("report")
        .arg("--out")
        .arg(&out_dir)
        .args(&bundles)
        .output()
        .expect("spawn analyze");
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let svg = std::fs::read_to_string(out_dir.join("figures/table1.svg")).expect("table1.svg");
    assert!(svg.starts_with("<svg") && svg.contains("native = 1.0"));
    let png = image::open(out_dir.join("figures/table1.png")).expect("table1.png decodes");
    assert!(png.width() >= 800);
    let page = out_dir.join("report.html");
    let html = std::fs::read_to_string(&page).expect("report.html");
    for external in ["<script", "<link", "src=", "url(", "@import", "https://"] {
        assert!(!html.contains(external), "report.html holds {external}");
    }
    assert_eq!(
        html.matches("<svg").count(),
        1,
        "the Table 1 figure, inline"
    );
    let table1 = html
        .find("Table 1. Overall performance")
        .expect("Table 1 section");
    let figure = html.find("<svg").expect("svg");
    assert!(table1 < figure, "the figure follows its table");
    for needed in [
        "<td>cpu</td>",
        "<td>kernel-compile</td>",
        "Xen (PV, emulated host)",
        "Methods",
        "Fieller",
    ] {
        assert!(html.contains(needed), "report.html lacks {needed}");
    }

    let Some(bin) = chromium() else {
        println!(
            "skipping the browser check: chromium is not installed (apt-get install chromium)"
        );
        return;
    };
    let url = format!("file://{}", page.display());
    let limit = Duration::from_secs(120);
    let dom = run_chromium(
        &bin,
        &tmp.path().join("p1"),
        &["--dump-dom".into()],
        &url,
        limit,
    );
    assert!(
        dom.matches("<table>").count() >= 3,
        "bundles, Table 1, comparisons..."
    );
    for needed in [
        "<td>cpu</td>",
        "<td>disk-write</td>",
        "native = 1.0",
        "<figcaption>",
    ] {
        assert!(dom.contains(needed), "{needed} not in the DOM");
    }
    assert_eq!(dom.matches("<svg").count(), 1);
    let shot = tmp.path().join("shot.png");
    let img = screenshot(&bin, &tmp.path().join("p2"), &url, &shot);
    let blue = img.pixels().filter(|p| p.0 == [0x00, 0x72, 0xB2]).count();
    assert!(blue > 500, "native's bars on screen: {blue} pixels");
    if std::env::var_os("BENCHVM_KEEP_FIGURES").is_some() {
        let keep = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("chromium-analyze-report.png");
        std::fs::copy(&shot, &keep).expect("keep");
        eprintln!("screenshot: {}", keep.display());
    }
}
