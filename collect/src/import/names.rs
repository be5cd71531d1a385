//! Metrics-table names (SPEC.md §7: 1-64 characters of `[a-z0-9_.-]`)
//! made of the free text sources use.

/// The metrics table's rule for names.
pub fn is_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-'))
}

/// A name made of free text: lower case, every run of other characters
/// than `[a-z0-9.]` one `-` when it is only dashes, else one `_`; none at
/// either end; 64 characters at most. Empty when nothing is left.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    for c in text.to_lowercase().chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' {
            if !run.is_empty() && !out.is_empty() {
                out.push(if run.chars().all(|d| d == '-') {
                    '-'
                } else {
                    '_'
                });
            }
            run.clear();
            out.push(c);
        } else {
            run.push(c);
        }
    }
    let cut = out.get(..64).unwrap_or(&out);
    cut.trim_end_matches(['_', '-']).to_owned()
}

/// `base` joined to `suffix` with `_`, cut so the whole is a name.
pub fn with_suffix(base: &str, suffix: &str) -> String {
    let keep = 64usize.saturating_sub(suffix.len() + 1);
    let head = base.get(..keep.min(base.len())).unwrap_or(base);
    let head = head.trim_end_matches(['_', '-']);
    if head.is_empty() {
        suffix.chars().take(64).collect()
    } else {
        format!("{head}_{suffix}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_free_text() {
        assert_eq!(slug("Test: CPU"), "test_cpu");
        assert_eq!(
            slug("Type: Sequential Read - Engine: IO_uring - Block Size: 1MB"),
            "type_sequential_read_engine_io_uring_block_size_1mb"
        );
        assert_eq!(slug("--x--y z"), "x-y_z");
        assert_eq!(slug(&"x".repeat(100)).len(), 64);
        assert_eq!(slug("  ::  "), "");
        assert!(is_name(&with_suffix(&"a".repeat(64), "install_size")));
        assert_eq!(with_suffix("fio", "2"), "fio_2");
    }
}
