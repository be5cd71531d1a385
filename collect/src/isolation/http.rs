//! The HTTP/1.1 exchange of one request: a new connection, the request,
//! and the response read until it is complete, the connection ends, or the
//! deadline passes. Only what [`super::client`] classifies is kept: the
//! status, the body length, and whether the body is complete.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use super::client::FailReason;

/// Largest response head the client accepts.
const MAX_HEAD: usize = 64 * 1024;

/// A response as far as it was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// Body bytes received.
    pub body_len: u64,
    /// Whether the body reached its announced length (or the connection
    /// closed cleanly when no length was announced).
    pub complete: bool,
}

/// A `GET` on its own connection (`Connection: close`).
pub fn request_bytes(path: &str, addr: SocketAddr) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: benchvm-isolation\r\n\
         Accept: */*\r\nConnection: close\r\n\r\n"
    )
    .into_bytes()
}

fn io_reason(e: &io::Error) -> FailReason {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => FailReason::Timeout,
        _ => FailReason::Io,
    }
}

/// Time left until `deadline`, or a timeout failure.
fn left(deadline: Instant) -> Result<Duration, FailReason> {
    let d = deadline.saturating_duration_since(Instant::now());
    if d.is_zero() {
        Err(FailReason::Timeout)
    } else {
        Ok(d)
    }
}

/// Sends one request on a new connection and reads the response until it
/// is complete, the connection ends, or `deadline` passes. The body is
/// counted, not kept.
pub fn fetch(addr: SocketAddr, request: &[u8], deadline: Instant) -> Result<Response, FailReason> {
    let mut stream = TcpStream::connect_timeout(&addr, left(deadline)?).map_err(|e| {
        if io_reason(&e) == FailReason::Timeout {
            FailReason::Timeout
        } else {
            FailReason::Connect
        }
    })?;
    let _ = stream.set_nodelay(true);
    stream
        .set_write_timeout(Some(left(deadline)?))
        .map_err(|e| io_reason(&e))?;
    stream.write_all(request).map_err(|e| io_reason(&e))?;

    let mut buf = vec![0u8; 64 * 1024];
    let mut head_bytes: Vec<u8> = Vec::new();
    let mut head: Option<Head> = None;
    let mut body_len: u64 = 0;
    loop {
        if let Some(h) = &head {
            if h.content_length.is_some_and(|n| body_len >= n) {
                break;
            }
        }
        stream
            .set_read_timeout(Some(left(deadline)?))
            .map_err(|e| io_reason(&e))?;
        let n = match stream.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_reason(&e)),
        };
        if n == 0 {
            break;
        }
        match &head {
            Some(_) => body_len += n as u64,
            None => {
                head_bytes.extend_from_slice(&buf[..n]);
                if let Some(end) = find_head_end(&head_bytes) {
                    let h = parse_head(&head_bytes[..end])?;
                    body_len = (head_bytes.len() - end) as u64;
                    head = Some(h);
                    head_bytes = Vec::new();
                } else if head_bytes.len() > MAX_HEAD {
                    return Err(FailReason::Malformed);
                }
            }
        }
    }
    let Some(h) = head else {
        // Closed before a full head: nothing usable came back.
        return Err(if head_bytes.is_empty() {
            FailReason::Io
        } else {
            FailReason::Malformed
        });
    };
    let complete = match h.content_length {
        Some(n) => body_len >= n,
        None => true,
    };
    Ok(Response {
        status: h.status,
        body_len,
        complete,
    })
}

/// The parts of a response head the client uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub status: u16,
    pub content_length: Option<u64>,
}

/// Index just past the blank line that ends the head.
fn find_head_end(bytes: &[u8]) -> Option<usize> {
    bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
}

/// Parses a status line and headers (without the body). Chunked bodies
/// are refused: nginx serves static files with a Content-Length.
pub fn parse_head(head: &[u8]) -> Result<Head, FailReason> {
    let text = std::str::from_utf8(head).map_err(|_| FailReason::Malformed)?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().ok_or(FailReason::Malformed)?;
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(FailReason::Malformed);
    }
    let code = parts.next().unwrap_or_default();
    if code.len() != 3 {
        return Err(FailReason::Malformed);
    }
    let status: u16 = code.parse().map_err(|_| FailReason::Malformed)?;
    let mut content_length = None;
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':').ok_or(FailReason::Malformed)?;
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("content-length") {
            let n: u64 = value.parse().map_err(|_| FailReason::Malformed)?;
            if content_length.is_some_and(|m| m != n) {
                return Err(FailReason::Malformed);
            }
            content_length = Some(n);
        } else if name.eq_ignore_ascii_case("transfer-encoding")
            && !value.eq_ignore_ascii_case("identity")
        {
            return Err(FailReason::Malformed);
        }
    }
    Ok(Head {
        status,
        content_length,
    })
}
