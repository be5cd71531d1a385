//! Rules for the path of a bundle entry (SPEC.md, "Entry paths").
//!
//! The rules are deliberately narrow: relative, `/`-separated, ASCII letters,
//! digits and `._-+=@,` only. With that alphabet no two distinct paths can be
//! equal after Unicode normalization, and no path can escape a folder on any
//! operating system. Case-insensitive duplicates are checked per bundle by
//! the reader and the writer.

use crate::error::PathFault;

/// Longest entry path in bytes (the ustar `prefix` + `/` + `name` limit).
pub const MAX_PATH_LEN: usize = 255;
/// Most components in one entry path.
pub const MAX_DEPTH: usize = 16;

/// Checks one entry path against the rules, naming the first one it breaks.
pub fn check(path: &[u8]) -> Result<(), PathFault> {
    if path.is_empty() {
        return Err(PathFault::Empty);
    }
    if path.len() > MAX_PATH_LEN {
        return Err(PathFault::TooLong(path.len()));
    }
    if let Some(&b) = path.iter().find(|&&b| matches!(b, 0 | b'\\' | b':')) {
        return Err(match b {
            0 => PathFault::Nul,
            b'\\' => PathFault::Backslash,
            _ => PathFault::DriveOrColon,
        });
    }
    if path[0] == b'/' {
        return Err(PathFault::Absolute);
    }
    if path.ends_with(b"/") {
        return Err(PathFault::TrailingSlash);
    }
    let mut depth = 0;
    for component in path.split(|&b| b == b'/') {
        depth += 1;
        match component {
            b"" => return Err(PathFault::EmptyComponent),
            b"." | b".." => return Err(PathFault::DotComponent),
            _ => {}
        }
        if let Some(&b) = component.iter().find(|&&b| !allowed(b)) {
            return Err(PathFault::Character(b));
        }
    }
    if depth > MAX_DEPTH {
        return Err(PathFault::TooDeep(depth));
    }
    Ok(())
}

fn allowed(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'+' | b'=' | b'@' | b',')
}

/// The key under which two paths count as the same: ASCII case folded.
pub fn fold(path: &str) -> String {
    path.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_bundle_layout_paths() {
        for p in [
            "manifest.json",
            "metrics.ndjson",
            "env/summary.json",
            "runs/kvm/scalability/n=16/guest-03/console.log",
            "config/guests/kvm-1.qemu-cmdline",
        ] {
            assert_eq!(check(p.as_bytes()), Ok(()), "{p}");
        }
    }

    #[test]
    fn refuses_each_unsafe_form() {
        let cases: &[(&[u8], PathFault)] = &[
            (b"", PathFault::Empty),
            (b"../x", PathFault::DotComponent),
            (b"a/../../x", PathFault::DotComponent),
            (b"/etc/x", PathFault::Absolute),
            (b"a\\b", PathFault::Backslash),
            (b"C:/x", PathFault::DriveOrColon),
            (b"a\0b", PathFault::Nul),
            (b".", PathFault::DotComponent),
            (b"dir/", PathFault::TrailingSlash),
            (b"a//b", PathFault::EmptyComponent),
            (b"a b", PathFault::Character(b' ')),
            ("caf\u{e9}".as_bytes(), PathFault::Character(0xc3)),
        ];
        for (path, fault) in cases {
            assert_eq!(check(path).as_ref(), Err(fault), "{path:?}");
        }
        assert_eq!(check(&[b'a'; 256]), Err(PathFault::TooLong(256)));
        let deep = vec!["d"; 17].join("/");
        assert_eq!(check(deep.as_bytes()), Err(PathFault::TooDeep(17)));
    }
}
