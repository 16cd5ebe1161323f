//! The only module that writes to the terminal. Results go to stdout; warnings,
//! progress (`-v`), debug detail (`-d`) and errors go to stderr. Nothing printed here
//! may carry a secret: callers pass descriptions, never key material or passwords.

use std::fmt::Display;
use std::io::Write as _;

/// Writes a line, ignoring write errors: a reader that went away (a closed pipe)
/// must not turn a finished command into a panic; the work is already done.
/// Control characters are replaced: text from plugins and registries must not be
/// able to drive the terminal (escape sequences) or forge extra lines.
fn line(mut w: impl std::io::Write, text: impl Display) {
    let _ = writeln!(w, "{}", sanitize(&text.to_string()));
}

/// Replaces control characters (except tab) with U+FFFD.
pub fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() && c != '\t' {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect()
}

/// How much to say on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Verbosity {
    /// Results, warnings and errors only.
    #[default]
    Quiet,
    /// Also what is happening (`-v`).
    Verbose,
    /// Also every file, HTTP and plugin exchange (`-d`).
    Debug,
}

/// Prints for a command.
#[derive(Debug, Clone, Copy, Default)]
pub struct Printer {
    verbosity: Verbosity,
}

impl Printer {
    /// A printer at `verbosity`.
    pub fn new(verbosity: Verbosity) -> Printer {
        Printer { verbosity }
    }

    /// A result line on stdout.
    pub fn result(&self, text: impl Display) {
        line(std::io::stdout().lock(), text);
    }

    /// A question on stderr, without a newline (the answer comes from stdin).
    pub fn prompt(&self, text: impl Display) {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "{text}");
        let _ = err.flush();
    }

    /// A `Warning:` line on stderr.
    pub fn warn(&self, msg: impl Display) {
        line(std::io::stderr().lock(), format_args!("Warning: {msg}"));
    }

    /// Progress, shown with `-v` or `-d`.
    pub fn info(&self, msg: impl Display) {
        if self.verbosity >= Verbosity::Verbose {
            line(std::io::stderr().lock(), format_args!("[info] {msg}"));
        }
    }

    /// Detail, shown with `-d`.
    pub fn debug(&self, msg: impl Display) {
        if self.verbosity >= Verbosity::Debug {
            line(std::io::stderr().lock(), format_args!("[debug] {msg}"));
        }
    }

    /// Help or version text as clap renders it.
    pub fn help(text: impl Display) {
        let _ = write!(std::io::stdout().lock(), "{text}");
    }

    /// The one `Error:` line of a failed command. Newlines in causes are folded so the
    /// error stays on one line.
    pub fn error(err: &anyhow::Error) {
        let msg = format!("{err:#}").replace(['\n', '\r'], " ");
        line(std::io::stderr().lock(), format_args!("Error: {msg}"));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn control_characters_are_neutralised() {
        assert_eq!(
            super::sanitize("a\u{1b}[31mred\tx\u{7}"),
            "a\u{fffd}[31mred\tx\u{fffd}"
        );
    }
}
