//! Host-side errors. Every message names the plugin and, where one ran, the command.

use std::path::PathBuf;
use std::time::Duration;

use crate::wire::PluginError;

/// What went wrong finding, running or believing a plugin.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    /// A name that could point outside the plugin directory.
    #[error(
        "invalid plugin name {0:?}: a plugin name cannot be empty or contain a path separator or \"..\""
    )]
    InvalidName(String),
    /// No executable where the plugin should be.
    #[error("plugin {name:?} is not installed: plugin executable file is either not found or inaccessible: {}", path.display())]
    NotFound {
        /// Plugin name.
        name: String,
        /// Expected path.
        path: PathBuf,
    },
    /// The executable is a symlink (the spec says MUST NOT be followed).
    #[error("plugin {name:?}: {} is a symlink, which is not allowed; install the plugin with 'notation plugin install'", path.display())]
    Symlink {
        /// Plugin name.
        name: String,
        /// Its path.
        path: PathBuf,
    },
    /// Not a regular, executable file.
    #[error("plugin {name:?} executable {} is not a regular executable file", path.display())]
    NotExecutable {
        /// Plugin name.
        name: String,
        /// Its path.
        path: PathBuf,
    },
    /// The process could not be started.
    #[error("plugin {name:?} {command} failed: cannot start {}: {source}", path.display())]
    Spawn {
        /// Plugin name.
        name: String,
        /// Command.
        command: String,
        /// Executable.
        path: PathBuf,
        /// OS error.
        #[source]
        source: std::io::Error,
    },
    /// The plugin ran past the time-out and was killed.
    #[error("plugin {name:?} {command} failed: no answer within {}s, so it was killed; raise --plugin-timeout (or NOTATION_PLUGIN_TIMEOUT) if the plugin needs longer", after.as_secs_f64())]
    Timeout {
        /// Plugin name.
        name: String,
        /// Command.
        command: String,
        /// The time-out.
        after: Duration,
    },
    /// The plugin wrote more than the cap.
    #[error(
        "plugin {name:?} {command} failed: it wrote more than {limit} bytes to {stream}, so it was killed"
    )]
    OutputTooLarge {
        /// Plugin name.
        name: String,
        /// Command.
        command: String,
        /// stdout or stderr.
        stream: &'static str,
        /// The cap.
        limit: usize,
    },
    /// Non-zero exit without a usable error JSON.
    #[error("plugin {name:?} {command} failed: {detail}")]
    Failed {
        /// Plugin name.
        name: String,
        /// Command.
        command: String,
        /// Exit status and stderr excerpt.
        detail: String,
    },
    /// The plugin reported an error (its JSON on stderr).
    #[error("plugin {name:?} {command} failed: {error}")]
    Plugin {
        /// Plugin name.
        name: String,
        /// Command.
        command: String,
        /// The plugin's error (boxed: it is the large variant).
        error: Box<PluginError>,
    },
    /// Exit 0 with a response that does not parse.
    #[error("plugin {name:?} {command} returned a malformed response: {reason}")]
    Malformed {
        /// Plugin name.
        name: String,
        /// Command.
        command: String,
        /// Why.
        reason: String,
    },
    /// get-plugin-metadata answered something the contract does not allow.
    #[error("metadata validation failed for plugin {name:?}: {reason}")]
    Metadata {
        /// Plugin name.
        name: String,
        /// Why.
        reason: String,
    },
    /// A response field that does not match the request or the contract.
    #[error("plugin {name:?} {command}: {what}")]
    Mismatch {
        /// Plugin name.
        name: String,
        /// Command.
        command: String,
        /// What is wrong.
        what: String,
    },
}
