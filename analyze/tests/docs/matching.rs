//! Expected text as the docs write it: a line `...` (indented or not)
//! stands for any number of lines (none included), `[..]` inside a line for any text on that
//! line. Everything else must be equal.

/// Whether `actual` matches `expected`, line by line.
pub fn lines_match(expected: &[&str], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((first, rest)) if first.trim() == "..." => {
            (0..=actual.len()).any(|skip| lines_match(rest, &actual[skip..]))
        }
        Some((first, rest)) => match actual.split_first() {
            Some((line, more)) => line_matches(first, line) && lines_match(rest, more),
            None => false,
        },
    }
}

/// Whether one line matches its pattern (`[..]`: any text).
pub fn line_matches(pattern: &str, line: &str) -> bool {
    let mut pieces = pattern.split("[..]");
    let first = pieces.next().unwrap_or("");
    let Some(mut rest) = line.strip_prefix(first) else {
        return false;
    };
    let pieces: Vec<&str> = pieces.collect();
    let Some((last, middle)) = pieces.split_last() else {
        return rest.is_empty();
    };
    for piece in middle {
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

/// The wildcards match what they say and nothing more.
pub fn self_test() {
    assert!(line_matches("bundle [..].tar.zst", "bundle a-1234.tar.zst"));
    assert!(!line_matches("bundle [..].tar.zst", "bundle a.tar"));
    assert!(line_matches("a[..]b[..]c", "a-b-c"));
    assert!(!line_matches("abc", "abcd"));
    assert!(lines_match(&["a", "...", "d"], &["a", "b", "c", "d"]));
    assert!(lines_match(&["a", "...", "d"], &["a", "d"]));
    assert!(!lines_match(&["a", "...", "d"], &["a", "b"]));
    assert!(!lines_match(&["a"], &["a", "b"]));
}
