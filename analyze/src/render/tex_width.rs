//! Width of text as LaTeX sets it, estimated before it is set, so the
//! LaTeX renderer can choose between one column and the full page width.
//!
//! Widths are Computer Modern Roman's (`cmr10.tfm` advance widths in em),
//! the widest of the fonts the common venue templates use (Times in
//! IEEEtran and Linux Libertine in acmart set the same text narrower), so an
//! estimate that fits holds in both. Characters outside the table count as
//! an em. Kerning and ligatures only narrow text, so they are ignored.
//!
//! The page geometry is that of the two templates the tables are written
//! for: ACM `acmart` `sigconf` (column 241.14pt, text 506.295pt) and
//! IEEEtran `conference` (column 252pt, text 516pt); the narrower of each
//! is the limit.

/// Width of one column in points (acmart sigconf, the narrower of the two).
pub const COLUMN_PT: f64 = 241.14;
/// Width of the text block of a two-column page in points (acmart sigconf).
pub const TEXT_PT: f64 = 506.295;
/// Share of a width an estimate may use: the estimate is not exact.
pub const SAFETY: f64 = 0.95;

/// Advance width of `c` in em of Computer Modern Roman.
fn em(c: char) -> f64 {
    match c {
        ' ' => 0.333,
        '!' | '\'' | ',' | '.' | ':' | ';' | '[' | ']' | '|' | 'i' | 'l' => 0.278,
        '(' | ')' => 0.389,
        '-' => 0.333,
        '"' | '$' | '*' | '/' | '\\' | '^' | '_' | '{' | '}' | '~' | 'a' | 'g' | 'o' => 0.5,
        '0'..='9' => 0.5,
        '#' | '%' | 'm' => 0.833,
        '&' | '+' | '<' | '=' | '>' | '@' | '±' | '×' => 0.778,
        '?' => 0.472,
        'A' | 'H' | 'N' | 'U' | 'V' | 'X' | 'Y' => 0.75,
        'B' => 0.708,
        'C' | 'T' => 0.722,
        'D' => 0.764,
        'E' | 'P' => 0.681,
        'F' => 0.653,
        'G' => 0.785,
        'I' => 0.361,
        'J' => 0.514,
        'K' | 'O' | 'Q' => 0.778,
        'L' => 0.625,
        'M' => 0.917,
        'R' => 0.736,
        'S' => 0.556,
        'W' => 1.028,
        'Z' => 0.611,
        'b' | 'd' | 'h' | 'n' | 'p' | 'u' => 0.556,
        'c' | 'e' | 'z' => 0.444,
        'f' | 'j' => 0.306,
        'k' | 'q' | 'v' | 'x' | 'y' => 0.528,
        'r' => 0.392,
        's' => 0.394,
        't' => 0.389,
        'w' => 0.722,
        '—' => 1.0,
        '–' => 0.5,
        _ => 1.0,
    }
}

/// How much wider than `cmr10` scaled down the design size of `size`
/// points sets text: small sizes use fonts drawn wider for legibility
/// (average advance of `cmr8`, `cmr7`, `cmr6`, `cmr5` over `cmr10`'s, per
/// point of size).
fn design_factor(size: f64) -> f64 {
    if size >= 9.5 {
        1.0
    } else if size >= 7.5 {
        1.06
    } else if size >= 6.5 {
        1.11
    } else if size >= 5.5 {
        1.18
    } else {
        1.33
    }
}

/// Width in points of `text` (unescaped) set at `size` points.
pub fn width(text: &str, size: f64) -> f64 {
    text.chars().map(em).sum::<f64>() * size * design_factor(size)
}

/// Width in points of the widest word of `text` at `size`: a line broken
/// at spaces (and after `/` and `_`, where the escaping allows a break) is
/// never narrower.
pub fn widest_word(text: &str, size: f64) -> f64 {
    text.split([' ', '/', '_'])
        .map(|w| width(w, size) + em('/') * size * design_factor(size))
        .fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_half_an_em() {
        assert!((width("1.000", 10.0) - (4.0 * 5.0 + 2.78)).abs() < 1e-9);
        assert!(width("Native", 5.0) > 19.0, "cmr5 sets it 19.1pt wide");
        assert!(widest_word("a very_long/path", 10.0) >= width("very", 10.0));
    }
}
