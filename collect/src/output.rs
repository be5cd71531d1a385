//! Printing for people, shared by `collect` and `analyze`: every command
//! prints through [`outln!`](crate::outln), [`out!`](crate::out) and
//! [`errln!`](crate::errln), never `println!`, which panics when its
//! reader has gone away.
//!
//! - When standard output is a pipe whose reader has gone (`analyze diff A
//!   B | head -1`), the command stops at once, quietly, with exit status
//!   [`CLOSED_PIPE_STATUS`] (141 = 128 + SIGPIPE), the status a shell
//!   reports for a program that SIGPIPE ended: what it had to say was not
//!   all read, so it did not succeed (`set -o pipefail` sees it), and
//!   nothing is printed about it.
//! - Any other failure to write standard output (a full disk behind a
//!   redirection) is said on standard error, exit status 3 (a runtime
//!   failure, [`crate::clikit::FAILURE`]).
//! - Standard error that cannot be written is ignored: there is nowhere
//!   left to say anything.
//!
//! Error chains are printed by [`sentence`]: each cause once.

use std::fmt;
use std::io::{self, Write};

/// Exit status when standard output's reader went away.
pub const CLOSED_PIPE_STATUS: i32 = 141;

/// Prints a line on standard output (see the module doc).
#[macro_export]
macro_rules! outln {
    () => {
        $crate::output::write_out(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::write_out(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// Prints on standard output without a newline (see the module doc).
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::write_out(format_args!($($arg)*))
    };
}

/// Prints a line on standard error; never fails, never panics.
#[macro_export]
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::output::write_err(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// Writes to standard output; a reader that went away ends the process
/// with [`CLOSED_PIPE_STATUS`].
pub fn write_out(args: fmt::Arguments<'_>) {
    let mut out = io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.flush()) {
        drop(out);
        output_failed(&e);
    }
}

/// Writes to standard error, ignoring any failure.
pub fn write_err(args: fmt::Arguments<'_>) {
    let _ = io::stderr().lock().write_fmt(args);
}

fn output_failed(e: &io::Error) -> ! {
    if e.kind() == io::ErrorKind::BrokenPipe {
        std::process::exit(CLOSED_PIPE_STATUS);
    }
    write_err(format_args!("error: writing to standard output: {e}\n"));
    std::process::exit(i32::from(crate::clikit::FAILURE))
}

/// An error and its causes as one line, like `{:#}`, but saying each cause
/// once: a cause whose text the line already holds (a context that quoted
/// its source, such as "writing x: Read-only file system (os error 30)"
/// over the same I/O error) is left out.
pub fn sentence(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if text.is_empty() || line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cause_is_said_once() {
        let io = || io::Error::from_raw_os_error(30);
        let quoted = anyhow::Error::new(io())
            .context(format!("writing /ro/x: {}", io()))
            .context("packing /ro");
        assert_eq!(
            sentence(&quoted),
            "packing /ro: writing /ro/x: Read-only file system (os error 30)"
        );
        let chained = anyhow::Error::new(io()).context("writing /ro/x");
        assert_eq!(
            sentence(&chained),
            "writing /ro/x: Read-only file system (os error 30)"
        );
    }
}
