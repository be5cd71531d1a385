//! Every chart kind on synthetic data, DNR cases included: the SVG's text
//! elements against a snapshot (`tests/snapshots/figures/<name>.txt`;
//! `BENCHVM_UPDATE_SNAPSHOTS=1` rewrites them), the DNR marks where the
//! input has DNR and nowhere a bar for them, and a PNG that decodes to the
//! figure's size with ink on a white page.

use std::path::PathBuf;

use analyze::figures::{
    self, heat_table, table1, BandPoint, BandSeries, Bar, BarGroup, BarSeries, Figure, FigureError,
    FitLine, GroupedBars, GuestBars, GuestOutcome, GuestRun, HeatCell, HeatTable, LineBand, Slot,
};
use analyze::stats::ratio::Refusal;
use analyze::stats::{fieller, RatioInterval, Summary};
use analyze::table1::{Cell, Entry, Row, Score, Table1};
use plotters::coord::Shift;
use plotters::prelude::*;

#[path = "figures/pdf.rs"]
mod pdf;

/// Stroke and fill colors the figures use for DNR (see `figures::style`).
const DNR_RED: &str = "#C8102E";
const DNR_FILL: &str = "#333333";

fn snapshot(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots/figures")
        .join(format!("{name}.txt"));
    if std::env::var_os("BENCHVM_UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, actual).expect("write snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{} missing: run with BENCHVM_UPDATE_SNAPSHOTS=1",
            path.display()
        )
    });
    assert_eq!(
        expected,
        actual,
        "{name}: text elements differ from {} (BENCHVM_UPDATE_SNAPSHOTS=1 to accept)",
        path.display()
    );
}

/// The text of every `<text>` element, in document order, unescaped.
fn texts(svg: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = svg;
    while let Some(i) = rest.find("<text") {
        rest = &rest[i..];
        let open_end = rest.find('>').expect("tag end") + 1;
        let close = rest.find("</text>").expect("closing tag");
        let inner = rest[open_end..close].trim();
        out.push(
            inner
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&"),
        );
        rest = &rest[close..];
    }
    out
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

/// Renders both formats and checks what every figure must hold; returns
/// the SVG and the decoded PNG.
fn render(name: &str, fig: &impl Figure) -> (String, image::RgbImage) {
    let svg = figures::svg(fig).expect("svg");
    assert!(svg.starts_with("<svg"), "{name}");
    assert_eq!(
        svg,
        figures::svg(fig).expect("svg"),
        "{name}: SVG is deterministic"
    );
    assert!(
        svg.contains("font-family=\"DejaVu Sans, sans-serif\""),
        "{name}"
    );
    snapshot(name, &(texts(&svg).join("\n") + "\n"));

    let png = figures::png(fig).expect("png");
    assert_eq!(
        png,
        figures::png(fig).expect("png"),
        "{name}: PNG is deterministic"
    );
    let img = image::load_from_memory_with_format(&png, image::ImageFormat::Png)
        .expect("PNG decodes")
        .to_rgb8();
    assert_eq!(img.dimensions(), fig.size(), "{name}");
    let corner = img.get_pixel(1, 1).0;
    assert_eq!(corner, [255, 255, 255], "{name}: white background");
    let ink = img.pixels().filter(|p| p.0 != [255, 255, 255]).count();
    let share = ink as f64 / (img.width() * img.height()) as f64;
    assert!(
        share > 0.02 && share < 0.6,
        "{name}: {share:.3} of the pixels are ink"
    );
    if std::env::var_os("BENCHVM_KEEP_FIGURES").is_some() {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("figures");
        figures::write(fig, &dir, name).expect("write");
        eprintln!("{name}: {}", dir.display());
    }
    (svg, img)
}

fn has_color(img: &image::RgbImage, hex: &str) -> bool {
    let v = u32::from_str_radix(hex.trim_start_matches('#'), 16).expect("hex");
    let rgb = [(v >> 16) as u8, (v >> 8) as u8, v as u8];
    img.pixels().any(|p| p.0 == rgb)
}

fn measured(summary: Summary, score: Score) -> Entry {
    Entry::Measured(Cell {
        summary,
        score,
        failed: 0,
        dnr: 0,
    })
}

fn native(values: &[f64]) -> Entry {
    measured(Summary::of(values).expect("summary"), Score::Native)
}

fn cell(base: &[f64], values: &[f64], lower: bool) -> Entry {
    let b = Summary::of(base).expect("summary");
    let s = Summary::of(values).expect("summary");
    let (score, interval) = if lower {
        (b.mean / s.mean, fieller(&b, &s))
    } else {
        (s.mean / b.mean, fieller(&s, &b))
    };
    measured(s, Score::Ratio { score, interval })
}

fn sample_table1() -> Table1 {
    let cpu = [1000.0, 1010.0, 990.0, 1005.0, 995.0];
    let compile = [300.0, 305.0, 298.0];
    let row = |workload: &str, metric: &str, unit: &str, direction: &str, cells| Row {
        workload: workload.into(),
        metric: metric.into(),
        unit: unit.into(),
        direction: direction.into(),
        cells,
    };
    Table1 {
        columns: vec!["Native".into(), "KVM (TCG)".into(), "Xen (PV)".into()],
        rows: vec![
            row(
                "cpu",
                "events_per_sec",
                "events/s",
                "higher",
                vec![
                    native(&cpu),
                    cell(&cpu, &[950.0, 960.0, 940.0, 955.0, 945.0], false),
                    cell(&cpu, &[990.0, 1000.0, 985.0, 995.0, 990.0], false),
                ],
            ),
            row(
                "kernel-compile",
                "wall_time",
                "s",
                "lower",
                vec![
                    native(&compile),
                    cell(&compile, &[400.0, 500.0, 450.0], true),
                    Entry::NotMeasured,
                ],
            ),
            row(
                "disk-write",
                "bandwidth",
                "MB/s",
                "higher",
                vec![
                    native(&[100.0, 104.0, 98.0]),
                    measured(
                        Summary::of(&[80.0]).expect("summary"),
                        Score::Ratio {
                            score: 0.79,
                            interval: RatioInterval::TooFew,
                        },
                    ),
                    measured(
                        Summary::of(&[80.0, 5.0]).expect("summary"),
                        Score::Ratio {
                            score: 0.42,
                            interval: RatioInterval::Unbounded,
                        },
                    ),
                ],
            ),
            row(
                "errors",
                "count",
                "count",
                "lower",
                vec![
                    native(&[1.0, 1.1, 0.9]),
                    measured(
                        Summary::of(&[0.0, 0.0, 0.0]).expect("summary"),
                        Score::Refused(Refusal::ZeroMean {
                            which: "KVM (TCG)".into(),
                        }),
                    ),
                    Entry::NoOkValue { failed: 2, dnr: 0 },
                ],
            ),
        ],
        dropped: Vec::new(),
    }
}

#[test]
fn table1_as_grouped_bars() {
    let t = sample_table1();
    let bars = table1::bars(&t);
    assert_eq!(
        bars.series.iter().map(|s| s.color).collect::<Vec<_>>(),
        [0, 1, 2]
    );
    let native = bars.groups[0].bars[0].bar().expect("native bar");
    assert_eq!(native.value, 1.0);
    let (lo, hi) = native.interval.expect("native's own t-interval");
    assert!(lo < 1.0 && 1.0 < hi);
    // Lower is better: the whisker is inverted like the score.
    let kvm = bars.groups[1].bars[1].bar().expect("kvm bar");
    let (lo, hi) = kvm.interval.expect("fieller");
    assert!(lo < kvm.value && kvm.value < hi && kvm.value < 1.0);
    assert_eq!(bars.groups[1].bars[2], Slot::Empty("not measured".into()));
    assert_eq!(
        bars.groups[2].bars[1].bar().map(|b| b.text.as_str()),
        Some("0.790 (n=1, no interval)")
    );
    assert_eq!(
        bars.groups[2].bars[2].bar().map(|b| b.text.as_str()),
        Some("0.420 (interval unbounded)")
    );
    // A score that cannot be given is said, never drawn as a bar of 0.
    assert_eq!(
        bars.groups[3].bars[1],
        Slot::Empty("n/a: KVM (TCG) mean is 0".into())
    );
    assert_eq!(
        bars.groups[3].bars[2],
        Slot::Empty("no ok value (2 failed, 0 DNR)".into())
    );

    let (svg, img) = render("table1", &bars);
    let t = texts(&svg);
    for label in [
        "cpu",
        "kernel-compile",
        "disk-write",
        "Native",
        "KVM (TCG)",
        "Xen (PV)",
        "native = 1.0",
        "not measured",
        "n/a: KVM (TCG) mean is 0",
        "no ok value (2 failed, 0 DNR)",
        "0.950",
    ] {
        assert!(t.iter().any(|s| s == label), "{label} missing in {t:?}");
    }
    assert!(t.iter().any(|s| s == "wall_time (s), lower is better"));
    // A bar per present cell plus a legend swatch per series.
    assert_eq!(count(&svg, "fill=\"#D55E00\""), 3 + 1);
    assert!(has_color(&img, "#0072B2") && has_color(&img, "#009E73"));
}

fn sample_heat() -> HeatTable {
    use HeatCell::{Dnr, Missing, Value as V};
    HeatTable {
        title: "Table 2. Performance isolation".into(),
        caption: "Cells: % degradation of the good-response rate against the no-stress baseline; higher is worse.".into(),
        rows: heat_table::STRESSORS.iter().map(|s| s.to_string()).collect(),
        columns: heat_table::table2_columns(&["KVM".into(), "Xen".into()]),
        cells: vec![
            vec![V(0.0), V(0.0), V(0.2), V(0.0)],
            vec![Dnr, V(0.0), V(100.0), V(2.3)],
            vec![V(0.0), V(0.0), V(0.0), V(0.0)],
            vec![V(2.3), V(0.5), V(12.5), V(-1.5)],
            vec![V(52.4), V(0.0), V(67.7), Missing],
            vec![V(1.4), Dnr, V(40.0), V(-20.0)],
        ],
        unit: "%".into(),
        saturate_at: 100.0,
    }
}

#[test]
fn table2_as_heat_table() {
    let heat = sample_heat();
    let (svg, img) = render("table2", &heat);
    let t = texts(&svg);
    for label in heat_table::STRESSORS
        .iter()
        .chain(&["KVM", "Xen", "stressed", "normal", "52.4%", "-20.0%", "—"])
    {
        assert!(t.iter().any(|s| s == label), "{label} missing in {t:?}");
    }
    // Each DNR cell says DNR, and no cell shows a number for it.
    assert_eq!(t.iter().filter(|s| *s == "DNR").count(), 2);
    assert_eq!(t.iter().filter(|s| *s == "0.0%").count(), 9);
    assert!(has_color(&img, DNR_FILL), "dark DNR cells in the PNG");
    // Negative is blue, high degradation dark red: the two ends differ.
    assert_ne!(heat.color(-20.0), heat.color(100.0));
    assert_ne!(heat.color(0.0), heat.color(50.0));
}

#[test]
fn heat_table_without_dnr_or_missing_has_no_such_marks_but_a_legend() {
    let mut heat = sample_heat();
    for row in &mut heat.cells {
        for c in row.iter_mut() {
            if !matches!(c, HeatCell::Value(_)) {
                *c = HeatCell::Value(5.0);
            }
        }
    }
    let svg = figures::svg(&heat).expect("svg");
    let t = texts(&svg);
    assert!(!t.iter().any(|s| s == "DNR" || s == "—"));
    assert!(t.iter().any(|s| s.starts_with("DNR: did not return")));
    assert!(!t.iter().any(|s| s.contains("no data")));
}

fn sample_guests() -> GuestBars {
    let runs = [1u32, 2, 4, 8, 16, 30]
        .iter()
        .map(|&n| GuestRun {
            n_guests: n,
            guests: (0..n)
                .map(|i| match (n, i) {
                    (16, i) if i % 5 == 2 => GuestOutcome::Dnr,
                    (30, i) if i % 3 == 0 => GuestOutcome::Dnr,
                    (8, 7) => GuestOutcome::Failed,
                    _ => {
                        GuestOutcome::Value(300.0 * n as f64 * (1.0 + 0.05 * ((i * 7 % 5) as f64)))
                    }
                })
                .collect(),
        })
        .collect();
    GuestBars {
        title: "Figure 1. KVM: compile time of each guest".into(),
        value_label: "compile time (s)".into(),
        runs,
        y_max: None,
        color: 1,
    }
}

#[test]
fn scalability_guest_bars_mark_dnr_guests() {
    let fig = sample_guests();
    let (svg, img) = render("guest_bars", &fig);
    let t = texts(&svg);
    for label in [
        "N = 1",
        "N = 30",
        "3 DNR",
        "10 DNR",
        "1 failed",
        "compile time (s)",
    ] {
        assert!(t.iter().any(|s| s == label), "{label} missing in {t:?}");
    }
    let (dnr, failed, done) =
        fig.runs
            .iter()
            .flat_map(|r| &r.guests)
            .fold((0, 0, 0), |(d, f, v), g| match g {
                GuestOutcome::Dnr => (d + 1, f, v),
                GuestOutcome::Failed => (d, f + 1, v),
                GuestOutcome::Value(_) => (d, f, v + 1),
            });
    assert_eq!((dnr, failed), (13, 1));
    // Two strokes per red X: one per DNR guest and one in the legend.
    assert_eq!(count(&svg, &format!("stroke=\"{DNR_RED}\"")), 2 * (dnr + 1));
    // One bar per completed guest plus the legend swatch: no bar for DNR.
    assert_eq!(count(&svg, "fill=\"#D55E00\""), done + 1);
    assert!(has_color(&img, DNR_RED), "red X in the PNG");
}

#[test]
fn guest_bars_without_dnr_still_explain_the_mark() {
    let mut fig = sample_guests();
    fig.runs.truncate(3);
    let svg = figures::svg(&fig).expect("svg");
    let t = texts(&svg);
    assert!(t.iter().any(|s| s.starts_with("DNR: guest crashed")));
    assert!(!t.iter().any(|s| s.ends_with(" DNR")));
    assert_eq!(count(&svg, &format!("stroke=\"{DNR_RED}\"")), 2);
}

fn sample_lines() -> LineBand {
    let ns = [1u32, 2, 4, 8, 16, 30];
    let times = |base: f64, n: u32, spread: usize| -> Vec<f64> {
        (0..n as usize)
            .map(|i| base * n as f64 * (1.0 + 0.04 * ((i * 7 % spread) as f64)))
            .collect()
    };
    let kvm = ns
        .iter()
        .map(|&n| match n {
            30 => BandPoint::from_values(30.0, &[], 30),
            16 => BandPoint::from_values(16.0, &times(300.0, 12, 5), 4),
            n => BandPoint::from_values(n as f64, &times(300.0, n, 5), 0),
        })
        .collect();
    let xen = ns
        .iter()
        .map(|&n| BandPoint::from_values(n as f64, &times(280.0, n, 4), 0))
        .collect();
    LineBand {
        title: "Scalability: mean compile time against N".into(),
        x_label: "guests started at once (N)".into(),
        y_label: "mean compile time (s)".into(),
        band_label: "95% t-interval of the mean".into(),
        series: vec![
            BandSeries {
                name: "KVM".into(),
                color: 1,
                points: kvm,
            },
            BandSeries {
                name: "Xen".into(),
                color: 2,
                points: xen,
            },
        ],
        fits: vec![FitLine {
            name: "Xen: USL fit, 95% band".into(),
            color: 2,
            points: (1..=30)
                .map(|n| {
                    let m = 280.0 * f64::from(n);
                    (f64::from(n), m, m * 0.95, m * 1.05)
                })
                .collect(),
        }],
    }
}

#[test]
fn scalability_mean_with_band_and_dnr() {
    let fig = sample_lines();
    let p = &fig.series[0].points;
    assert_eq!((p[0].n, p[0].interval), (1, None), "one value: no interval");
    let (lo, hi) = p[2].interval.expect("n = 4");
    let m = p[2].mean.expect("mean");
    assert!(lo < m && m < hi);
    assert_eq!((p[5].mean, p[5].dnr), (None, 30));
    let (svg, img) = render("line_band", &fig);
    let t = texts(&svg);
    for label in [
        "KVM",
        "Xen",
        "95% t-interval of the mean",
        "4 DNR",
        "KVM: all 30 DNR",
        "guests started at once (N)",
        "mean compile time (s)",
    ] {
        assert!(t.iter().any(|s| s == label), "{label} missing in {t:?}");
    }
    // The all-DNR point is an X (and a legend X), never a point at 0.
    assert_eq!(count(&svg, &format!("stroke=\"{DNR_RED}\"")), 4);
    assert!(has_color(&img, DNR_RED));
}

#[test]
fn bad_input_is_an_error_not_a_wrong_figure() {
    let mut heat = sample_heat();
    heat.cells[2].pop();
    assert!(matches!(figures::svg(&heat), Err(FigureError::Input(m)) if m.contains("cpu")));
    let bars = GroupedBars {
        title: "t".into(),
        value_label: "v".into(),
        series: vec![BarSeries {
            name: "a".into(),
            color: 0,
        }],
        groups: vec![BarGroup {
            label: "g".into(),
            detail: None,
            bars: vec![Slot::Bar(Bar {
                value: f64::NAN,
                interval: None,
                text: "x".into(),
            })],
        }],
        reference: None,
        interval_label: None,
    };
    assert!(matches!(figures::png(&bars), Err(FigureError::Input(_))));
    let mut guests = sample_guests();
    guests.runs[0].guests[0] = GuestOutcome::Value(-1.0);
    assert!(matches!(figures::svg(&guests), Err(FigureError::Input(_))));
}

#[test]
fn write_puts_svg_and_png_side_by_side() {
    let dir = tempfile::tempdir().expect("tempdir");
    let svg = figures::write(
        &table1::bars(&sample_table1()),
        &dir.path().join("figures"),
        "table1",
    )
    .expect("write");
    let on_disk = std::fs::read_to_string(dir.path().join("figures/table1.svg")).expect("svg");
    assert_eq!(svg, on_disk);
    let png = std::fs::read(dir.path().join("figures/table1.png")).expect("png");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
}

/// A figure with one label rotated by 270°, as an axis caption would be.
struct Rotated;

impl Figure for Rotated {
    fn size(&self) -> (u32, u32) {
        (200, 300)
    }
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), FigureError> {
        let style = TextStyle::from((FontFamily::Name("DejaVu Sans, sans-serif"), 24).into_font())
            .transform(FontTransform::Rotate270);
        area.draw(&Text::new("compile time (s)", (100, 250), style))?;
        Ok(())
    }
}

/// plotters' ab_glyph path was reported to draw rotated text horizontally
/// in PNGs; the figures avoid rotated text, and their PNG text path honors
/// rotation anyway: the ink of a 270° label is tall and narrow.
#[test]
fn rotated_text_is_rotated_in_png() {
    let png = figures::png(&Rotated).expect("png");
    let img = image::load_from_memory(&png).expect("decode").to_rgb8();
    let ink: Vec<(u32, u32)> = img
        .enumerate_pixels()
        .filter(|(_, _, p)| p.0[0] < 128)
        .map(|(x, y, _)| (x, y))
        .collect();
    assert!(!ink.is_empty());
    let (x0, x1) = (ink.iter().map(|p| p.0).min(), ink.iter().map(|p| p.0).max());
    let (y0, y1) = (ink.iter().map(|p| p.1).min(), ink.iter().map(|p| p.1).max());
    let (w, h) = (
        x1.unwrap_or(0) - x0.unwrap_or(0),
        y1.unwrap_or(0) - y0.unwrap_or(0),
    );
    assert!(h > 4 * w, "ink box {w}x{h} is not vertical");
    // SVG keeps it as a rotate() transform.
    assert!(figures::svg(&Rotated).expect("svg").contains("rotate(270"));
}

#[test]
fn scalability_axis_has_ticks_at_the_measured_n_only() {
    let (svg, _) = render("line_band_ticks", &sample_lines());
    let t = texts(&svg);
    assert!(!t.iter().any(|s| s == "0.5" || s == "1.5"), "{t:?}");
    for n in ["1", "2", "4"] {
        assert!(t.iter().any(|s| s == n), "tick {n} missing in {t:?}");
    }
    // The fitted curve is drawn, dashed, with its legend entry.
    assert!(t.iter().any(|s| s == "Xen: USL fit, 95% band"), "{t:?}");
}
