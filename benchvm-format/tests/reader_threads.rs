//! The reader decompresses frame 2 on one thread and checks it on another,
//! handing over chunks of `frame::CHUNK` bytes (issue 9). Entries that span
//! chunks must verify, and a bundle with several faults must be refused for
//! the first one in stream order, as a one-thread reader would.
#![allow(clippy::unwrap_used)]

mod common;

use benchvm_format::frame::CHUNK;
use benchvm_format::read::{self, Limits};
use benchvm_format::BundleError;
use common::*;

/// Bytes that differ from chunk to chunk: `i` and its chunk number mixed.
fn data(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8) ^ ((i / 4093) as u8).wrapping_mul(31) ^ seed)
        .collect()
}

#[test]
fn entries_spanning_chunks_verify_and_are_kept_whole() {
    let big = data(3 * CHUNK + 777, 1);
    let edge = data(CHUNK - 512, 2);
    let files: [(&str, &[u8]); 4] = [
        ("runs/a/stdout.log", &big),
        ("runs/a/stderr.log", b""),
        ("runs/b/stdout.log", &edge),
        ("runs/c/stdout.log", b"tail\n"),
    ];
    let bundle = verify(&valid(&files)).unwrap();
    for (path, bytes) in files {
        assert_eq!(bundle.file(path), Some(bytes), "{path}");
    }

    // Kept or not, every entry is hashed: only the asked-for ones are held.
    let bytes = valid(&files);
    let some = read::read(&bytes[..], bytes.len() as u64, &Limits::default(), &|f| {
        f.path == "runs/b/stdout.log"
    })
    .unwrap();
    assert_eq!(some.kept.keys().collect::<Vec<_>>(), ["runs/b/stdout.log"]);
}

#[test]
fn the_first_fault_in_stream_order_wins() {
    let big = data(2 * CHUNK + 5, 3);
    let listed: [(&str, &[u8]); 2] = [("runs/a.log", &big), ("runs/b.log", b"b\n")];
    let mut frame2 = files_frame(&listed);
    // Fault 1: a byte of the first entry, in its second chunk.
    frame2[BLOCK + CHUNK + 10] ^= 1;
    // Fault 2, further on: the second entry's header is not canonical.
    let second = BLOCK + big.len() + ustar_padding(big.len());
    frame2[second + field::MODE.start + 4] = b'7';
    fix_checksum((&mut frame2[second..second + BLOCK]).try_into().unwrap());
    let err = refused(&with_frame2(&listed, &frame2));
    assert!(
        matches!(&err, BundleError::HashMismatch { entry, .. } if entry == "runs/a.log"),
        "{err:?}"
    );

    // With the first fault repaired, the second one is reported.
    frame2[BLOCK + CHUNK + 10] ^= 1;
    let err = refused(&with_frame2(&listed, &frame2));
    assert!(matches!(&err, BundleError::Header { .. }), "{err:?}");
    assert_names(&err, "runs/b.log");
}

#[test]
fn a_truncated_frame_after_whole_chunks_is_reported_as_truncated() {
    let big = data(4 * CHUNK, 4);
    let bytes = valid(&[("runs/a.log", &big)]);
    let frames = compressed_frames(&bytes);
    let mut cut = frames[0].to_vec();
    cut.extend_from_slice(&frames[1][..frames[1].len() * 3 / 4]);
    let err = refused(&cut);
    assert!(matches!(&err, BundleError::Truncated { .. }), "{err:?}");
}

#[test]
fn many_chunks_of_data_after_the_end_blocks_are_trailing_data() {
    let listed: [(&str, &[u8]); 1] = [("runs/a.log", b"a\n")];
    let mut frame2 = files_frame(&listed);
    frame2.extend_from_slice(&data(3 * CHUNK, 5));
    let err = refused(&with_frame2(&listed, &frame2));
    assert!(matches!(err, BundleError::TrailingData), "{err:?}");
}

fn ustar_padding(len: usize) -> usize {
    benchvm_format::ustar::padding(len as u64)
}
