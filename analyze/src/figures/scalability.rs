//! The scalability experiment as figures: per platform, each guest's value
//! per N ([`GuestBars`], the paper's Figures 1 and 2), and the mean against
//! N with its 95% interval, one line per platform ([`LineBand`]).

use super::assign_colors;
use super::guest_bars::{GuestBars, GuestOutcome, GuestRun};
use super::line_band::{BandPoint, BandSeries, FitLine, LineBand};
use crate::scalability::{GuestStatus, Scalability};
use crate::scaling::Scaling;
use crate::stats::usl::Model;

/// Caption of the per-guest figures in the HTML report.
pub const BARS_CAPTION: &str =
    "Figure: each guest's result per N, one figure per platform (figures/scalability-<platform>.svg, .png).";
/// Caption of the mean figure.
pub const BAND_CAPTION: &str =
    "Figure: mean against N, one line per platform, 95% interval band (figures/scalability-mean.svg, .png).";
/// How to read them.
pub const NOTES: &[&str] = &[
    "Bars: one per guest, grouped by N (and repetition when there are several). A red X marks a guest that did not return (DNR): it has no bar, never a bar of 0.",
    "Line: mean over the guests that completed; band: 95% Student-t interval of that mean; \"k DNR\" beside a point counts the guests that did not return.",
    "Dashed: the fitted Universal Scalability Law (Gunther 2007) per platform with its 95% confidence band (see the scaling table); the N axis has ticks at the measured N.",
];

/// The metric the figures show: compile workloads report wall time.
pub const METRIC: &str = "wall_time";

/// One per-guest bar figure per platform column: (file stem, figure).
pub fn guest_bars(s: &Scalability) -> Vec<(String, GuestBars)> {
    let columns = s.columns();
    let colors = assign_colors(&columns);
    let y_max = s
        .rows
        .iter()
        .filter(|r| r.metric == METRIC)
        .filter_map(|r| r.value)
        .fold(0.0f64, f64::max)
        * 1.1;
    let mut out = Vec::new();
    for (column, color) in columns.iter().zip(colors) {
        let rows: Vec<_> = s
            .rows
            .iter()
            .filter(|r| &r.column == column && r.metric == METRIC)
            .collect();
        let Some(first) = rows.first() else {
            continue;
        };
        let mut runs: Vec<GuestRun> = Vec::new();
        let mut key = None;
        for r in &rows {
            if key != Some((r.n_guests, r.repetition)) {
                key = Some((r.n_guests, r.repetition));
                runs.push(GuestRun {
                    n_guests: r.n_guests,
                    guests: Vec::new(),
                });
            }
            let run = runs.last_mut().expect("pushed above");
            // Guests are numbered from 1; a gap (a missing row) is failed.
            while run.guests.len() + 1 < r.guest as usize {
                run.guests.push(GuestOutcome::Failed);
            }
            run.guests.push(match (r.status, r.value) {
                (GuestStatus::Ok, Some(v)) => GuestOutcome::Value(v),
                (GuestStatus::Dnr, _) => GuestOutcome::Dnr,
                _ => GuestOutcome::Failed,
            });
        }
        out.push((
            format!("scalability-{}", slug(column)),
            GuestBars {
                title: format!(
                    "{column}: {} of each guest, N guests at once",
                    first.workload
                ),
                value_label: format!("{} ({})", first.metric, first.unit),
                runs,
                y_max: (y_max > 0.0).then_some(y_max),
                color,
            },
        ));
    }
    out
}

/// Points at which a fitted curve is drawn between the first and last N.
const FIT_STEPS: usize = 48;

/// Mean against N, one line per platform column, with each platform's
/// fitted model from `scaling` dashed over it; `None` without data.
pub fn mean_band(s: &Scalability, scaling: &Scaling) -> Option<LineBand> {
    let columns = s.columns();
    let colors = assign_colors(&columns);
    let points = s.points();
    let series: Vec<BandSeries> = columns
        .iter()
        .zip(colors)
        .map(|(column, color)| BandSeries {
            name: column.clone(),
            color,
            points: points
                .iter()
                .filter(|p| &p.column == column && p.metric == METRIC)
                .map(|p| BandPoint::from_values(f64::from(p.n_guests), &p.values, p.dnr))
                .collect(),
        })
        .filter(|s| !s.points.is_empty())
        .collect();
    let unit = points.iter().find(|p| p.metric == METRIC)?.unit.clone();
    let fits = scaling
        .curves
        .iter()
        .filter(|c| c.metric == METRIC)
        .filter_map(|c| {
            let model = c.model.as_ref()?;
            let color = columns.iter().position(|x| x == &c.column)?;
            let (lo, hi) = (f64::from(*c.ns.first()?), f64::from(*c.ns.last()?));
            let points = (0..=FIT_STEPS)
                .map(|i| {
                    let n = lo + (hi - lo) * i as f64 / FIT_STEPS as f64;
                    let (m, a, b) = model.at(n);
                    (n, m, a, b)
                })
                .collect();
            let which = match model.model {
                Model::Usl => "USL fit",
                Model::Contention => "USL fit (kappa = 0)",
            };
            Some(FitLine {
                name: format!("{}: {which}, 95% band", c.column),
                color: assign_colors(&columns)[color],
                points,
            })
        })
        .collect();
    Some(LineBand {
        title: "Scalability: mean per guest against N".into(),
        x_label: "guests started at once (N)".into(),
        y_label: format!("mean {METRIC} ({unit})"),
        band_label: "95% t-interval of the mean".into(),
        series,
        fits,
    })
}

/// A column label as a file name part: `KVM (TCG)` -> `kvm-tcg`.
pub fn slug(label: &str) -> String {
    let mut out = String::new();
    for c in label.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}
