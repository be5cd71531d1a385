//! Hostile bundles, tar layer: unsafe paths, entries that are not regular
//! files, the classic link chains, duplicates, forged header fields and the
//! entry caps (shared/reliability.md, part A, items 1-6). Every bundle here
//! is crafted by the test itself, around a valid manifest, so that the only
//! fault is the one under test.
#![allow(clippy::unwrap_used)]

mod common;

use benchvm_format::error::{HeaderFault, PackError, PathFault};
use benchvm_format::read::Limits;
use benchvm_format::write::{self, Content, Source};
use benchvm_format::BundleError;
use common::*;

/// The error for a frame 2 holding `records` then the end marker, under a
/// manifest listing `listed`.
fn refused_frame2(listed: &[(&str, &[u8])], records: &[Vec<u8>]) -> BundleError {
    let mut frame2 = records.concat();
    frame2.extend_from_slice(&END);
    refused(&with_frame2(listed, &frame2))
}

/// A regular-file header for any path bytes: the writer's own layout when the
/// path fits it, else the raw bytes in the `name` field.
fn any_header(path: &[u8], size: u64) -> [u8; BLOCK] {
    match std::str::from_utf8(path) {
        Ok(p) if !p.is_empty() && benchvm_format::ustar::header(p, size).is_ok() => header(p, size),
        _ => raw_header(path, b'0', size),
    }
}

/// An entry whose path is `path` must be refused with `fault`, naming it.
#[track_caller]
fn assert_path_refused(path: &[u8], fault: PathFault) {
    let err = refused_frame2(&[], &[record(&any_header(path, 3), b"abc")]);
    let shown = String::from_utf8_lossy(path).into_owned();
    match &err {
        BundleError::Path { entry, fault: f } => {
            assert_eq!(entry, &shown);
            assert_eq!(f, &fault);
        }
        other => panic!("{shown:?}: expected BundleError::Path({fault:?}), got {other:?}"),
    }
    assert_names(&err, &format!("{shown:?}"));
}

#[test]
fn path_parent_dir() {
    assert_path_refused(b"../x", PathFault::DotComponent);
}

#[test]
fn path_parent_dir_after_a_folder() {
    assert_path_refused(b"a/../../x", PathFault::DotComponent);
}

#[test]
fn path_absolute() {
    assert_path_refused(b"/etc/x", PathFault::Absolute);
}

#[test]
fn path_backslash() {
    assert_path_refused(b"runs\\..\\x", PathFault::Backslash);
}

#[test]
fn path_drive_prefix() {
    assert_path_refused(b"C:/x", PathFault::DriveOrColon);
}

#[test]
fn path_with_nul() {
    // The bytes after the NUL must not be silently dropped: `ok.txt\0../x`
    // is not `ok.txt`.
    assert_path_refused(b"ok.txt\0../x", PathFault::Nul);
}

#[test]
fn path_empty() {
    assert_path_refused(b"", PathFault::Empty);
}

#[test]
fn path_dot() {
    assert_path_refused(b".", PathFault::DotComponent);
}

#[test]
fn path_trailing_slash_on_a_file() {
    assert_path_refused(b"runs/", PathFault::TrailingSlash);
}

#[test]
fn path_over_255_bytes() {
    // 155 bytes of prefix, `/`, 100 bytes of name: the longest ustar path.
    let path = format!("{}/{}", "p".repeat(155), "n".repeat(100));
    assert_eq!(path.len(), 256);
    assert_path_refused(path.as_bytes(), PathFault::TooLong(256));
}

#[test]
fn path_nested_17_deep() {
    let path = vec!["d"; 17].join("/");
    assert_path_refused(path.as_bytes(), PathFault::TooDeep(17));
}

#[test]
fn path_non_ascii_nfd() {
    // `e` + U+0301 COMBINING ACUTE ACCENT: the decomposed form of `é`.
    assert_path_refused("cafe\u{301}.txt".as_bytes(), PathFault::Character(0xcc));
}

#[test]
fn paths_equal_after_unicode_normalization() {
    // NFC then NFD of the same name: refused at the first, whatever its form,
    // so no normalization question can arise.
    let nfc = "caf\u{e9}.txt";
    let nfd = "cafe\u{301}.txt";
    let err = refused_frame2(
        &[],
        &[
            record(&any_header(nfc.as_bytes(), 1), b"1"),
            record(&any_header(nfd.as_bytes(), 1), b"2"),
        ],
    );
    assert!(
        matches!(&err, BundleError::Path { entry, fault: PathFault::Character(0xc3) } if entry == nfc),
        "{err:?}"
    );
    assert_names(&err, &format!("{nfc:?}"));
}

#[test]
fn manifest_refuses_the_same_unsafe_paths() {
    for path in [
        "../x",
        "/etc/x",
        "a\\b",
        "C:/x",
        "a\0b",
        "",
        ".",
        "dir/",
        "caf\u{e9}",
    ] {
        let mut manifest = manifest(&[]);
        manifest.files.push(entry(path, b"abc"));
        let err = refused(&two_frames(&manifest_frame(&manifest.to_bytes()), &END));
        assert!(
            matches!(&err, BundleError::Manifest(benchvm_format::ManifestError::Invalid(m)) if m.contains("unsafe path")),
            "{path:?}: {err:?}"
        );
        assert_names(&err, &format!("{path:?}"));
    }
}

// ---- entries that are not regular files ---------------------------------

/// A header of type `typeflag` named `name`, optionally with a link target.
fn typed(name: &str, typeflag: u8, linkname: &str) -> [u8; BLOCK] {
    let mut block = raw_header(name.as_bytes(), typeflag, 0);
    set(&mut block, field::LINKNAME, linkname.as_bytes());
    block
}

/// The error for `block` (with `data`) as the only entry of frame 2 must be a
/// NotRegular header
/// fault whose description holds `kind`, naming the entry.
#[track_caller]
fn assert_not_regular(name: &str, block: [u8; BLOCK], data: &[u8], kind: &str) -> BundleError {
    let err = refused_frame2(&[], &[record(&block, data)]);
    match &err {
        BundleError::Header {
            entry,
            fault: HeaderFault::NotRegular(what),
        } => {
            assert!(what.contains(kind), "{what:?} lacks {kind:?}");
            assert!(
                entry.contains(&format!("{name:?}")),
                "{entry:?} lacks {name:?}"
            );
        }
        other => panic!("{name}: expected NotRegular({kind}), got {other:?}"),
    }
    assert_names(&err, &format!("{name:?}"));
    err
}

#[test]
fn symlink() {
    assert_not_regular(
        "evil-link",
        typed("evil-link", b'2', "/etc/shadow"),
        b"",
        "symbolic link",
    );
}

#[test]
fn hard_link() {
    assert_not_regular(
        "evil-hard",
        typed("evil-hard", b'1', "/etc/shadow"),
        b"",
        "hard link",
    );
}

#[test]
fn character_device() {
    let mut block = typed("dev-null", b'3', "");
    set(&mut block, 329..337, b"0000001\0");
    set(&mut block, 337..345, b"0000003\0");
    assert_not_regular("dev-null", block, b"", "character device");
}

#[test]
fn block_device() {
    let mut block = typed("dev-sda", b'4', "");
    set(&mut block, 329..337, b"0000010\0");
    assert_not_regular("dev-sda", block, b"", "block device");
}

#[test]
fn fifo() {
    assert_not_regular("a-pipe", typed("a-pipe", b'6', ""), b"", "FIFO");
}

#[test]
fn directory() {
    assert_not_regular("runs/", typed("runs/", b'5', ""), b"", "directory");
}

#[test]
fn contiguous_file() {
    assert_not_regular(
        "contig.bin",
        raw_header(b"contig.bin", b'7', 3),
        b"abc",
        "contiguous",
    );
}

#[test]
fn gnu_sparse_file() {
    assert_not_regular(
        "sparse.img",
        raw_header(b"sparse.img", b'S', 0),
        b"",
        "GNU sparse",
    );
}

#[test]
fn gnu_sparse_file_with_gnu_magic() {
    // What `tar --sparse` really writes: the old GNU magic, not ustar.
    let mut block = raw_header(b"sparse.img", b'S', 0);
    set(&mut block, 257..265, b"ustar  \0");
    let err = refused_frame2(&[("sparse.img", b"")], &[block.to_vec()]);
    assert!(
        matches!(&err, BundleError::Header { entry, fault: HeaderFault::NotUstar } if entry.contains("sparse.img")),
        "{err:?}"
    );
    assert_names(&err, "\"sparse.img\"");
}

#[test]
fn pax_extended_header() {
    let data = b"20 path=../../evil\n";
    let block = raw_header(b"PaxHeaders.0/data.bin", b'x', data.len() as u64);
    assert_not_regular("PaxHeaders.0/data.bin", block, data, "PAX extended header");
}

#[test]
fn pax_global_header() {
    let data = b"18 uname=rooty\n";
    let block = raw_header(b"pax_global_header", b'g', data.len() as u64);
    assert_not_regular("pax_global_header", block, data, "PAX global header");
}

#[test]
fn gnu_long_name() {
    let long = format!("{}\0", "l/".repeat(80));
    let block = raw_header(b"././@LongLink", b'L', long.len() as u64);
    assert_not_regular("././@LongLink", block, long.as_bytes(), "GNU long name");
}

#[test]
fn unknown_typeflag() {
    // tar-rs reads unknown types as regular files; the reader must not.
    assert_not_regular(
        "zeta.bin",
        raw_header(b"zeta.bin", b'Z', 3),
        b"abc",
        "unknown type",
    );
}

#[test]
fn typeflag_nul() {
    // Pre-POSIX tar's regular file: not what the writer makes.
    assert_not_regular(
        "old.txt",
        raw_header(b"old.txt", 0, 3),
        b"abc",
        "typeflag NUL",
    );
}

#[test]
fn pax_size_disagreeing_with_ustar_size() {
    // RUSTSEC-2026-0068: a reader that honours the PAX `size` and one that
    // honours the ustar size see different archives. The reader refuses
    // the PAX header itself, so only one reading exists.
    let pax = b"16 size=1048576\n";
    assert_eq!(pax.len(), 16);
    let block = raw_header(b"PaxHeaders.0/data.bin", b'x', pax.len() as u64);
    let err = refused_frame2(
        &[("data.bin", b"hello")],
        &[record(&block, pax), file("data.bin", b"hello")],
    );
    assert!(
        matches!(&err, BundleError::Header { entry, fault: HeaderFault::NotRegular(k) }
            if entry.contains("PaxHeaders.0/data.bin") && k.contains("PAX")),
        "{err:?}"
    );
    assert_names(&err, "\"PaxHeaders.0/data.bin\"");
}

// ---- link chains (regression tests) --------------------------------------

/// Runs a link-chain bundle and checks nothing appeared at `target`.
#[track_caller]
fn assert_chain_refused(
    listed: &[(&str, &[u8])],
    records: &[Vec<u8>],
    link: &str,
    target: &std::path::Path,
) {
    let err = refused_frame2(listed, records);
    match &err {
        BundleError::Header {
            entry,
            fault: HeaderFault::NotRegular(_),
        } => assert!(entry.contains(&format!("{link:?}")), "{entry}"),
        other => panic!("expected the link {link} refused, got {other:?}"),
    }
    assert_names(&err, &format!("{link:?}"));
    assert!(!target.exists(), "{} was created", target.display());
}

#[test]
fn chain_symlink_then_file_through_it() {
    // tar-rs #129: symlink `a -> /tmp/x`, then file `a` written through it.
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("x");
    let records = [
        typed("a", b'2', target.to_str().unwrap()).to_vec(),
        file("a", b"pwned"),
    ];
    assert_chain_refused(&[("a", b"pwned")], &records, "a", &target);
}

#[test]
fn chain_symlink_to_parent_then_file_below_it() {
    // RUSTSEC-2021-0080: symlink `s -> ..`, then `s/x/f`.
    let tmp = tempfile::tempdir().unwrap();
    let records = [typed("s", b'2', "..").to_vec(), file("s/x/f", b"pwned")];
    assert_chain_refused(&[("s/x/f", b"pwned")], &records, "s", &tmp.path().join("x"));
}

#[test]
fn chain_symlink_then_directory_of_the_same_name() {
    // CVE-2026-33056: symlink `d -> /out`, then directory `d` (whose mode a
    // naive extractor applies to the link target), then a file inside.
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let records = [
        typed("d", b'2', out.to_str().unwrap()).to_vec(),
        typed("d/", b'5', "").to_vec(),
        file("d/f", b"pwned"),
    ];
    assert_chain_refused(&[("d/f", b"pwned")], &records, "d", &out);
}

// ---- duplicates and order -----------------------------------------------

#[test]
fn same_path_twice() {
    let err = refused_frame2(
        &[("runs/dup.log", b"one")],
        &[file("runs/dup.log", b"one"), file("runs/dup.log", b"two")],
    );
    assert!(
        matches!(&err, BundleError::Duplicate { entry } if entry == "runs/dup.log"),
        "{err:?}"
    );
    assert_names(&err, "entry runs/dup.log");
}

#[test]
fn paths_equal_after_ascii_case_folding() {
    let files: &[(&str, &[u8])] = &[("Report.txt", b"upper"), ("report.txt", b"lower")];
    let err = refused(&valid(files));
    assert!(
        matches!(&err, BundleError::CaseDuplicate { entry, other } if entry == "report.txt" && other == "Report.txt"),
        "{err:?}"
    );
    assert_names(&err, "entry report.txt");
    assert_names(&err, "Report.txt");
}

#[test]
fn writer_refuses_paths_equal_after_case_folding() {
    let sources = ["Report.txt", "report.txt"].map(|p| Source {
        path: p.into(),
        content: Content::Bytes(b"x".to_vec()),
    });
    let err = write::plan(meta(), sources.to_vec()).unwrap_err();
    assert!(
        matches!(&err, PackError::CaseDuplicate { path, .. } if path == "report.txt"),
        "{err:?}"
    );
    assert_names(&err, "report.txt");
}

#[test]
fn entry_out_of_order() {
    let err = refused_frame2(
        &[("b.txt", b"b")],
        &[file("b.txt", b"b"), file("a.txt", b"a")],
    );
    assert!(
        matches!(&err, BundleError::OutOfOrder { entry, previous } if entry == "a.txt" && previous == "b.txt"),
        "{err:?}"
    );
    assert_names(&err, "entry a.txt");
}

// ---- forged header fields -----------------------------------------------

#[track_caller]
fn assert_header_fault(name: &str, block: [u8; BLOCK], fault: HeaderFault) {
    let err = refused_frame2(&[(name, b"abc")], &[record(&block, b"abc")]);
    match &err {
        BundleError::Header { entry, fault: f } => {
            assert_eq!(f, &fault);
            assert!(entry.contains(&format!("{name:?}")), "{entry}");
        }
        other => panic!("expected {fault:?}, got {other:?}"),
    }
    assert_names(&err, &format!("{name:?}"));
}

#[test]
fn bad_header_checksum() {
    let mut block = header("sums.txt", 3);
    block[field::MODE.start + 4] = b'7'; // 0000644 -> 0000744, checksum kept
    assert_header_fault("sums.txt", block, HeaderFault::Checksum);
}

#[test]
fn non_octal_size() {
    let mut block = header("size.txt", 3);
    set(&mut block, field::SIZE, b"0000000000x\0");
    assert_header_fault("size.txt", block, HeaderFault::NotOctal("size"));
}

#[test]
fn base256_size() {
    // GNU base-256: high bit set, then a big-endian number (here 3).
    let mut block = header("b256.txt", 3);
    let mut size = [0u8; 12];
    size[0] = 0x80;
    size[11] = 3;
    set(&mut block, field::SIZE, &size);
    assert_header_fault("b256.txt", block, HeaderFault::NotOctal("size"));
}

#[test]
fn non_octal_mtime() {
    let mut block = header("time.txt", 3);
    set(&mut block, field::MTIME, b"-0000000001\0");
    assert_header_fault("time.txt", block, HeaderFault::NotOctal("mtime"));
}

#[test]
fn link_name_on_a_regular_file() {
    let mut block = header("linked.txt", 3);
    set(&mut block, field::LINKNAME, b"/etc/passwd");
    assert_header_fault("linked.txt", block, HeaderFault::LinkName);
}

#[test]
fn not_ustar_magic() {
    // A V7 header: no magic at all.
    let mut block = header("v7.txt", 3);
    set(&mut block, field::MAGIC, b"");
    set(&mut block, field::VERSION, b"");
    assert_header_fault("v7.txt", block, HeaderFault::NotUstar);
}

// ---- caps on entries ----------------------------------------------------

fn numbered(n: usize) -> Vec<(String, Vec<u8>)> {
    (0..n)
        .map(|i| (format!("f{i:02}"), vec![b'x'; i]))
        .collect()
}

fn as_refs(files: &[(String, Vec<u8>)]) -> Vec<(&str, &[u8])> {
    files
        .iter()
        .map(|(p, d)| (p.as_str(), d.as_slice()))
        .collect()
}

#[test]
fn too_many_entries_in_the_manifest() {
    // 10 files + the manifest is 11 entries, over a cap of 10.
    let limits = Limits {
        max_entries: 10,
        ..Limits::default()
    };
    let files = numbered(10);
    let bytes = valid(&as_refs(&files));
    let err = refused_with(&bytes, &limits);
    assert!(
        matches!(err, BundleError::TooManyEntries { cap: 10 }),
        "{err:?}"
    );
    assert_names(&err, "the cap is 10");
    // One file fewer is within the cap.
    let files = numbered(9);
    verify_with(&valid(&as_refs(&files)), &limits).unwrap();
}

#[test]
fn too_many_entries_in_the_archive() {
    // The manifest lists 9 files (within the cap); the archive goes on.
    let limits = Limits {
        max_entries: 10,
        ..Limits::default()
    };
    let files = numbered(12);
    let files = as_refs(&files);
    let bytes = craft(&files[..9], &files);
    let err = refused_with(&bytes, &limits);
    assert!(
        matches!(err, BundleError::TooManyEntries { cap: 10 }),
        "{err:?}"
    );
    assert_names(&err, "the cap is 10");
}

#[test]
fn valid_but_non_canonical_header_fields() {
    // Each header is well-formed ustar, yet not what the writer produces: one
    // bundle id must stand for one byte sequence.
    let cases: [(std::ops::Range<usize>, &[u8]); 4] = [
        (field::MODE, b"0000755\0"),
        (field::MTIME, b"00000000001\0"),
        (field::UID, b"0001750\0"),
        (257 + 8..257 + 8 + 4, b"root"), // uname
    ];
    for (range, value) in cases {
        let mut block = header("canon.txt", 3);
        set(&mut block, range, value);
        fix_checksum(&mut block);
        assert_header_fault("canon.txt", block, HeaderFault::NotCanonical);
    }
}
