//! The zstd layer of the reader: exact frame boundaries, window checks made
//! before any allocation, a cap on decoded bytes, and the hand-over of
//! decoded bytes from the thread that decompresses to the one that checks.

use std::io::{self, BufRead, Read};
use std::sync::mpsc::{Receiver, Sender, SyncSender};

use crate::error::BundleError;

/// zstd frame magic number (RFC 8878, section 3.1.1), little-endian.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];
/// Longest zstd frame header: magic, descriptor, window, dictionary id, size.
const MAX_FRAME_HEADER: usize = 4 + 1 + 1 + 4 + 8;

/// A buffered reader that can look ahead a given number of bytes.
#[derive(Debug)]
pub struct PeekReader<R> {
    inner: R,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
}

impl<R: Read> PeekReader<R> {
    pub fn new(inner: R, capacity: usize) -> Self {
        PeekReader {
            inner,
            buf: vec![0; capacity.max(MAX_FRAME_HEADER)],
            pos: 0,
            end: 0,
        }
    }

    /// Up to `n` bytes ahead, fewer only at end of input.
    pub fn peek(&mut self, n: usize) -> io::Result<&[u8]> {
        if self.end - self.pos < n {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
            while self.end < n {
                let read = self.inner.read(&mut self.buf[self.end..])?;
                if read == 0 {
                    break;
                }
                self.end += read;
            }
        }
        let stop = self.end.min(self.pos + n);
        Ok(&self.buf[self.pos..stop])
    }

    /// Counts the bytes left, reading at most `cap` of them.
    pub fn remaining(&mut self, cap: u64) -> io::Result<usize> {
        let mut count = (self.end - self.pos) as u64;
        self.pos = self.end;
        let mut scratch = [0u8; 8192];
        while count < cap {
            let n = self.inner.read(&mut scratch)?;
            if n == 0 {
                break;
            }
            count += n as u64;
        }
        Ok(usize::try_from(count).unwrap_or(usize::MAX))
    }
}

impl<R: Read> Read for PeekReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for PeekReader<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos == self.end {
            self.pos = 0;
            self.end = self.inner.read(&mut self.buf)?;
        }
        Ok(&self.buf[self.pos..self.end])
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.end);
    }
}

/// Reads the next frame's header and refuses, before decoding, a frame that
/// is not a plain zstd frame or that declares a window over `2^max_log`.
pub fn check_header<R: Read>(
    input: &mut PeekReader<R>,
    frame: u8,
    max_log: u32,
) -> Result<(), BundleError> {
    let head = input.peek(MAX_FRAME_HEADER)?;
    let fail = |reason: &str| BundleError::Frame {
        frame,
        reason: reason.to_owned(),
    };
    if head.is_empty() {
        return Err(BundleError::Truncated {
            what: format!("zstd frame {frame} is missing"),
        });
    }
    if head.len() < 6 {
        return Err(fail("truncated frame header"));
    }
    if head[..4] != ZSTD_MAGIC {
        if head[0] & 0xF0 == 0x50 && head[1..4] == [0x2A, 0x4D, 0x18] {
            return Err(fail("skippable frame where a data frame belongs"));
        }
        return Err(fail("not a zstd frame (bad magic number)"));
    }
    let descriptor = head[4];
    if descriptor & 0x08 != 0 {
        return Err(fail("reserved bit set in frame header"));
    }
    if descriptor & 0x03 != 0 {
        return Err(fail("frame needs a dictionary; bundles use none"));
    }
    let single_segment = descriptor & 0x20 != 0;
    let log = if single_segment {
        // The window is the frame content size (RFC 8878, 3.1.1.1.2).
        let size_bytes = match descriptor >> 6 {
            0 => 1,
            1 => 2,
            2 => 4,
            _ => 8,
        };
        let field = head
            .get(5..5 + size_bytes)
            .ok_or_else(|| fail("truncated frame header"))?;
        let mut size = field
            .iter()
            .rev()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        if size_bytes == 2 {
            size += 256;
        }
        64 - size.saturating_sub(1).leading_zeros()
    } else {
        let window = head[5];
        let exponent = u32::from(window >> 3);
        let mantissa = window & 7;
        10 + exponent + u32::from(mantissa != 0)
    };
    if log > max_log {
        return Err(BundleError::Window {
            frame,
            log,
            max_log,
        });
    }
    Ok(())
}

/// Counts decoded bytes and fails once more than `limit` arrive.
#[derive(Debug)]
pub struct Limited<R> {
    pub inner: R,
    pub read: u64,
    pub limit: u64,
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(out)?;
        self.read += n as u64;
        if self.read > self.limit {
            return Err(io::Error::other(LimitExceeded(self.limit)));
        }
        Ok(n)
    }
}

/// Size of the chunks [`pump`] hands over: a few zstd blocks (128 KiB
/// each), so each hand-over costs little per byte, and small enough that
/// [`PIPELINE_DEPTH`] of them stay in the shared L3 cache.
pub const CHUNK: usize = 512 * 1024;
/// Chunks queued between the two threads: enough to absorb the jitter of
/// either side. Memory in flight is at most `(PIPELINE_DEPTH + 2) * CHUNK`.
pub const PIPELINE_DEPTH: usize = 4;

/// What [`pump`] sends: decoded bytes, or the error that ends the stream.
pub type Chunk = io::Result<Vec<u8>>;

/// Reads all of `decoder` (one frame) and sends it in chunks of [`CHUNK`]
/// bytes to `full`, reusing the buffers that come back on `empty`. More
/// than `limit` decoded bytes end the stream with [`LimitExceeded`], after
/// the first `limit` bytes; an error of `decoder` ends it too, after the
/// bytes decoded before it. Returns when the frame ends, on error, or as
/// soon as the receiving side hangs up.
pub fn pump(
    mut decoder: impl Read,
    limit: u64,
    full: &SyncSender<Chunk>,
    empty: &Receiver<Vec<u8>>,
) {
    let mut total = 0u64;
    loop {
        // At most PIPELINE_DEPTH + 2 buffers ever exist: one here, the
        // queue's, and one being read.
        let mut buf = empty.try_recv().unwrap_or_default();
        buf.resize(CHUNK, 0);
        let mut filled = 0;
        let mut failure = None;
        while filled < buf.len() {
            match decoder.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        let ended = filled < buf.len();
        if total + filled as u64 > limit {
            filled = usize::try_from(limit - total).unwrap_or(0);
            failure = Some(io::Error::other(LimitExceeded(limit)));
        }
        total += filled as u64;
        if filled > 0 {
            buf.truncate(filled);
            if full.send(Ok(buf)).is_err() {
                return;
            }
        }
        if let Some(e) = failure {
            let _ = full.send(Err(e));
            return;
        }
        if ended {
            return;
        }
    }
}

/// The receiving end of [`pump`]: its chunks as one byte stream. The
/// buffers go back to the pump once read.
#[derive(Debug)]
pub struct ChunkReader {
    full: Receiver<Chunk>,
    empty: Sender<Vec<u8>>,
    current: Vec<u8>,
    pos: usize,
    done: bool,
}

impl ChunkReader {
    pub fn new(full: Receiver<Chunk>, empty: Sender<Vec<u8>>) -> Self {
        ChunkReader {
            full,
            empty,
            current: Vec::new(),
            pos: 0,
            done: false,
        }
    }
}

impl Read for ChunkReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for ChunkReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.pos == self.current.len() && !self.done {
            match self.full.recv() {
                Ok(Ok(next)) => {
                    let used = std::mem::replace(&mut self.current, next);
                    self.pos = 0;
                    if used.capacity() > 0 {
                        // The pump may be gone already; then it is freed.
                        let _ = self.empty.send(used);
                    }
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Err(_) => self.done = true,
            }
        }
        Ok(&self.current[self.pos..])
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.current.len());
    }
}

/// The error [`Limited`] and [`pump`] raise, recognised by the reader.
#[derive(Debug)]
pub struct LimitExceeded(pub u64);

impl std::fmt::Display for LimitExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "decoded data over {} bytes", self.0)
    }
}

impl std::error::Error for LimitExceeded {}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(bytes: &[u8]) -> Result<(), BundleError> {
        check_header(&mut PeekReader::new(bytes, 64), 1, 27)
    }

    #[test]
    fn accepts_ordinary_frame() {
        let frame = zstd::encode_all(&b"hello"[..], 3).expect("encode");
        assert!(check(&frame).is_ok());
    }

    #[test]
    fn refuses_huge_window_before_decoding() {
        // Descriptor 0x00 (no single segment), window byte exponent 20 -> 2^30.
        let frame = [0x28, 0xB5, 0x2F, 0xFD, 0x00, 20 << 3, 0, 0, 0];
        assert!(matches!(
            check(&frame),
            Err(BundleError::Window { log: 30, .. })
        ));
    }

    #[test]
    fn peek_reads_across_refills() {
        let data: Vec<u8> = (0..100u8).collect();
        let mut r = PeekReader::new(&data[..], 32);
        let mut first = [0u8; 30];
        r.read_exact(&mut first).expect("read");
        assert_eq!(r.peek(10).expect("peek"), &data[30..40]);
        assert_eq!(r.remaining(1000).expect("rest"), 70);
    }
}
