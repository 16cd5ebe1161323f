//! One module per command. Each turns its clap args into validated settings, then
//! does the work with a [`Printer`]; none prints directly.

pub mod cert;
pub mod inspect;
pub mod key;
pub mod list;
pub mod login;
pub mod plugin;
pub mod plugin_install;
pub mod policy;
pub mod reading;
pub mod sign;
pub mod truststore;
pub mod verify;

use anyhow::{Result, bail};

use crate::cli::LogArgs;
use crate::output::{Printer, Verbosity};

/// The printer for a command's logging flags.
pub fn printer(log: LogArgs) -> Printer {
    Printer::new(if log.debug {
        Verbosity::Debug
    } else if log.verbose {
        Verbosity::Verbose
    } else {
        Verbosity::Quiet
    })
}

/// Exactly one positional argument, with cobra's message otherwise.
pub fn exactly_one(args: &[String]) -> Result<&str> {
    match args {
        [one] => Ok(one),
        _ => bail!("accepts 1 arg(s), received {}", args.len()),
    }
}

/// The current time in whole Unix seconds (the spec truncates signing times).
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
