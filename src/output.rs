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

/// Replaces control characters (except tab) with U+FFFD, and the value of any
/// `pin-value=` attribute (a PKCS#11 URI carrying a PIN, RFC 7512) with `<redacted>`:
/// key ids are echoed in progress, debug and error lines.
pub fn sanitize(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| {
            if c.is_control() && c != '\t' {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect();
    redact_pin_values(&clean)
}

/// `pin-value=<anything up to & ; quotes or whitespace>` → `pin-value=<redacted>`,
/// case-insensitively.
pub fn redact_pin_values(text: &str) -> String {
    const KEY: &str = "pin-value=";
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while let Some(pos) = lower[i..].find(KEY) {
        let start = i + pos + KEY.len();
        out.push_str(&text[i..start]);
        out.push_str("<redacted>");
        i = text[start..]
            .find(|c: char| matches!(c, '&' | ';' | '"' | '\'' | '\\') || c.is_whitespace())
            .map_or(text.len(), |e| start + e);
    }
    out.push_str(&text[i..]);
    out
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

    /// Result lines on stdout, together: lines of concurrent work do not interleave.
    pub fn results(&self, lines: &[String]) {
        let mut out = std::io::stdout().lock();
        for text in lines {
            line(&mut out, text);
        }
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
    fn pins_in_uris_are_redacted() {
        assert_eq!(
            super::sanitize(
                "key \"pkcs11:token=t;object=o?module-path=/m.so&PIN-VALUE=1234&x=y\" failed"
            ),
            "key \"pkcs11:token=t;object=o?module-path=/m.so&PIN-VALUE=<redacted>&x=y\" failed"
        );
        assert_eq!(
            super::redact_pin_values("pin-value=secret"),
            "pin-value=<redacted>"
        );
        assert_eq!(super::redact_pin_values("no pin here"), "no pin here");
    }

    #[test]
    fn control_characters_are_neutralised() {
        assert_eq!(
            super::sanitize("a\u{1b}[31mred\tx\u{7}"),
            "a\u{fffd}[31mred\tx\u{fffd}"
        );
    }
}
