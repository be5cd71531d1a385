//! The isolation experiment's stressors (SPEC.md §7, `stressor`): their
//! names in the metrics table, in the paper's Table 2 order, and the
//! spellings a source may use for them (the paper's own row names among
//! them). Collect runs them, importers accept their spellings, and analyze
//! draws Table 2's rows from this one list.

/// The baseline phase, without a stressor.
pub const BASELINE: &str = "none";

/// The stressors' names in the metrics table, in the paper's Table 2 order.
pub const STRESSORS: [&str; 6] = ["memory", "fork", "cpu", "disk", "net-receive", "net-send"];

/// Every accepted spelling (compared without regard to ASCII case, runs
/// of spaces, `_` and `-` counted as one space) and the name it stands
/// for. The paper's Table 2 calls its rows Memory, Fork, CPU, Disk,
/// Network receiver and Network sender.
pub const SPELLINGS: &[(&str, &str)] = &[
    ("none", BASELINE),
    ("baseline", BASELINE),
    ("memory", "memory"),
    ("fork", "fork"),
    ("cpu", "cpu"),
    ("disk", "disk"),
    ("net receive", "net-receive"),
    ("network receiver", "net-receive"),
    ("net send", "net-send"),
    ("network sender", "net-send"),
];

/// The metrics table's name for a stressor spelt `text`, `None` when it
/// is no stressor's spelling.
pub fn canonical(text: &str) -> Option<&'static str> {
    let key = fold(text);
    SPELLINGS
        .iter()
        .find(|(spelling, _)| *spelling == key)
        .map(|(_, name)| *name)
}

/// Lower case, `_` and `-` as spaces, runs of spaces as one, trimmed.
fn fold(text: &str) -> String {
    let lower = text.to_ascii_lowercase().replace(['_', '-'], " ");
    lower.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_papers_row_names_are_spellings() {
        let paper = [
            ("Memory", "memory"),
            ("Fork", "fork"),
            ("CPU", "cpu"),
            ("Disk", "disk"),
            ("Network receiver", "net-receive"),
            ("Network sender", "net-send"),
        ];
        for (row, name) in paper {
            assert_eq!(canonical(row), Some(name), "{row}");
        }
        for name in STRESSORS.iter().chain([&BASELINE]) {
            assert_eq!(canonical(name), Some(*name));
        }
        assert_eq!(canonical("  network_RECEIVER "), Some("net-receive"));
        assert_eq!(canonical("noise"), None);
        assert_eq!(canonical(""), None);
    }
}
