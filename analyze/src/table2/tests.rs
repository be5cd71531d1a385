//! Table 2 on small synthetic sets whose degradations are worked out by
//! hand in the comments.

use super::*;
use crate::isolation::Outcome::{self, Dnr, Failed, Ok as V};

fn iso(column: &str, stressor: &str, rep: u32, guest: u32, outcome: Outcome) -> IsoRow {
    IsoRow {
        column: column.into(),
        workload: "web".into(),
        metric: "good_rate".into(),
        unit: "%".into(),
        direction: "higher".into(),
        stressor: stressor.into(),
        role: if guest == 1 { "stressed" } else { "normal" }.into(),
        repetition: rep,
        guest,
        outcome,
        bundle_id: "b1".into(),
        run: format!("runs/kvm/isolation/web/{stressor}/rep-{rep:02}/guest-{guest}"),
    }
}

/// Three guests (1 stressed, 2 and 3 normal), three repetitions.
/// `values[rep][guest - 1]`.
fn phase(column: &str, stressor: &str, values: [[Outcome; 3]; 3]) -> Vec<IsoRow> {
    let mut out = Vec::new();
    for (rep, guests) in values.iter().enumerate() {
        for (g, o) in guests.iter().enumerate() {
            out.push(iso(column, stressor, rep as u32 + 1, g as u32 + 1, *o));
        }
    }
    out
}

/// Baseline: stressed 100, 98, 96 (mean 98); normal per repetition
/// (99+97)/2 = 98, (96+100)/2 = 98, (95+95)/2 = 95 (mean 97).
fn baseline(column: &str) -> Vec<IsoRow> {
    phase(
        column,
        "none",
        [
            [V(100.0), V(99.0), V(97.0)],
            [V(98.0), V(96.0), V(100.0)],
            [V(96.0), V(95.0), V(95.0)],
        ],
    )
}

/// cpu: stressed 50, 48, 49 (mean 49: 49/98 = 0.5, 50% degradation);
/// normal per repetition 97.03, 96.03, 95.03 (mean 96.03: 1% degradation).
fn cpu(column: &str) -> Vec<IsoRow> {
    phase(
        column,
        "cpu",
        [
            [V(50.0), V(97.53), V(96.53)],
            [V(48.0), V(96.03), V(96.03)],
            [V(49.0), V(95.53), V(94.53)],
        ],
    )
}

fn value(c: &Cell) -> &Degradation {
    match &c.state {
        State::Value(d) => d,
        other => panic!("a value expected, got {other:?}"),
    }
}

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-9, "{a} != {b}");
}

#[test]
fn degradation_by_hand() {
    let rows = [baseline("KVM"), cpu("KVM")].concat();
    let t = from_rows(&rows);
    assert_eq!(t.columns, ["KVM"]);
    assert_eq!(t.rows.len(), 1);
    let [stressed, normal] = &t.rows[0].cells[0];
    let (s, n) = (value(stressed), value(normal));
    close(s.percent, 50.0);
    close(n.percent, 1.0);
    assert_eq!(
        (s.phase.n, s.baseline.n, n.phase.n, n.baseline.n),
        (3, 3, 3, 3)
    );
    assert_eq!((stressed.guests, normal.guests), (1, 2));
    assert_eq!(normal.bundles, ["b1"]);
    // The interval is Fieller's interval of the ratio, mapped: [(1 - hi) ×
    // 100, (1 - lo) × 100], and it holds the estimate.
    let RatioInterval::Bounded(rlo, rhi) = fieller(&s.phase, &s.baseline) else {
        panic!("bounded ratio interval expected");
    };
    let RatioInterval::Bounded(lo, hi) = s.interval else {
        panic!("bounded interval expected");
    };
    close(lo, (1.0 - rhi) * 100.0);
    close(hi, (1.0 - rlo) * 100.0);
    assert!(lo < 50.0 && 50.0 < hi, "[{lo}, {hi}]");
}

#[test]
fn dnr_of_the_stressed_guest_in_any_repetition() {
    let memory = phase(
        "KVM",
        "memory",
        [
            [V(60.0), V(98.0), V(96.0)],
            [Dnr, V(98.0), V(98.0)],
            [V(61.0), V(95.0), V(95.0)],
        ],
    );
    let t = from_rows(&[baseline("KVM"), memory].concat());
    let [stressed, normal] = &t.rows[0].cells[0];
    assert_eq!(stressed.state, State::Dnr);
    assert_eq!(stressed.dnr, 1);
    // Normal guests: 97, 98, 95 against 98, 98, 95: (1 - 96.667/97) × 100.
    close(value(normal).percent, (1.0 - (290.0 / 3.0) / 97.0) * 100.0);
}

#[test]
fn dnr_of_any_normal_guest() {
    let fork = phase(
        "KVM",
        "fork",
        [
            [V(49.0), V(98.0), V(96.0)],
            [V(49.0), V(98.0), V(98.0)],
            [V(49.0), V(95.0), Dnr],
        ],
    );
    let t = from_rows(&[baseline("KVM"), fork].concat());
    let [stressed, normal] = &t.rows[0].cells[0];
    close(value(stressed).percent, 50.0);
    assert_eq!(normal.state, State::Dnr);
}

#[test]
fn missing_or_dnr_baseline_is_not_available() {
    // Xen: no baseline of the stressed guest; the normal baseline has a DNR.
    let mut xen_base: Vec<IsoRow> = baseline("Xen")
        .into_iter()
        .filter(|r| r.guest != 1)
        .collect();
    xen_base[1].outcome = Dnr;
    let t = from_rows(&[xen_base, cpu("Xen")].concat());
    let [stressed, normal] = &t.rows[0].cells[0];
    assert_eq!(stressed.state, State::NotAvailable(Unavailable::NoBaseline));
    assert_eq!(
        normal.state,
        State::NotAvailable(Unavailable::BaselineDnr { dnr: 1 })
    );
    let doc = t.doc();
    assert_eq!(doc.rows[0], ["cpu", "n/a", "n/a"]);
    assert!(doc
        .notes
        .iter()
        .any(|n| n.starts_with("n/a, Xen, Stressed VM, cpu: no baseline")));
}

#[test]
fn baseline_from_another_bundle_is_not_used() {
    let mut cpu_b2 = cpu("KVM");
    for r in &mut cpu_b2 {
        r.bundle_id = "b2".into();
    }
    let t = from_rows(&[baseline("KVM"), cpu_b2].concat());
    for c in &t.rows[0].cells[0] {
        assert_eq!(c.state, State::NotAvailable(Unavailable::NoBaseline));
        assert_eq!(c.bundles, ["b2"]);
    }
}

#[test]
fn better_than_baseline_stays_negative() {
    // Normal guests at 101.85 = 97 × 1.05: -5%; stressed 88.2 = 98 × 0.9: 10%.
    let disk = phase("KVM", "disk", [[V(88.2), V(101.85), V(101.85)]; 3]);
    let t = from_rows(&[baseline("KVM"), disk].concat());
    let [stressed, normal] = &t.rows[0].cells[0];
    close(value(stressed).percent, 10.0);
    close(value(normal).percent, -5.0);
    assert!(t.doc().rows[0][2].starts_with("-5.00 ["));
}

#[test]
fn scaling_every_value_leaves_degradation_unchanged() {
    let rows = [baseline("KVM"), cpu("KVM")].concat();
    let scaled: Vec<IsoRow> = rows
        .iter()
        .cloned()
        .map(|mut r| {
            if let V(v) = r.outcome {
                r.outcome = V(v * 0.37);
            }
            r
        })
        .collect();
    let (a, b) = (from_rows(&rows), from_rows(&scaled));
    for (x, y) in a.rows[0].cells[0].iter().zip(&b.rows[0].cells[0]) {
        let (x, y) = (value(x), value(y));
        close(x.percent, y.percent);
        let (RatioInterval::Bounded(l1, h1), RatioInterval::Bounded(l2, h2)) =
            (x.interval, y.interval)
        else {
            panic!("bounded intervals expected");
        };
        close(l1, l2);
        close(h1, h2);
    }
}

#[test]
fn failed_rows_are_excluded_with_a_warning() {
    let mut rows = [baseline("KVM"), cpu("KVM")].concat();
    // Guest 3 of the cpu phase's first repetition failed: that repetition's
    // normal value is guest 2's alone, 97.53.
    rows.iter_mut()
        .find(|r| r.stressor == "cpu" && r.repetition == 1 && r.guest == 3)
        .expect("row")
        .outcome = Failed;
    let t = from_rows(&rows);
    let normal = &t.rows[0].cells[0][1];
    assert_eq!(normal.failed, 1);
    let mean = (97.53 + 96.03 + 95.03) / 3.0;
    close(value(normal).percent, (1.0 - mean / 97.0) * 100.0);
    assert_eq!(t.warnings.len(), 1);
    assert!(t.warnings[0]
        .contains("1 failed row(s) excluded (runs/kvm/isolation/web/cpu/rep-01/guest-3)"));
}

#[test]
fn rows_follow_the_papers_order_and_columns_pair_up() {
    let net = phase("KVM", "net-send", [[V(90.0), V(97.0), V(97.0)]; 3]);
    let disk = phase("Xen", "disk", [[V(90.0), V(97.0), V(97.0)]; 3]);
    let rows = [net, cpu("KVM"), baseline("KVM"), baseline("Xen"), disk].concat();
    let t = from_rows(&rows);
    let stressors: Vec<&str> = t.rows.iter().map(|r| r.stressor.as_str()).collect();
    assert_eq!(stressors, ["cpu", "disk", "net-send"]);
    let doc = t.doc();
    assert_eq!(
        doc.header,
        [
            "Stressor",
            "KVM: Stressed VM",
            "KVM: Normal VM",
            "Xen: Stressed VM",
            "Xen: Normal VM"
        ]
    );
    // Xen ran no cpu phase: not measured, and no record for it.
    assert_eq!(doc.rows[0][3], "—");
    assert_eq!(doc.records.len(), 2 * 3);
    assert!(doc.records.iter().all(|r| r.len() == doc.fields.len()));
}
