//! The process environment, read once at start-up and passed around as a value, so
//! tests and commands never reach for globals.

use std::collections::HashMap;
use std::path::PathBuf;

/// Names of the environment variables notation reads.
pub mod vars {
    /// Configuration directory override (notation v1.1+).
    pub const NOTATION_CONFIG: &str = "NOTATION_CONFIG";
    /// Plugin root override (notation v1.1+).
    pub const NOTATION_LIBEXEC: &str = "NOTATION_LIBEXEC";
    /// XDG base directory for configuration.
    pub const XDG_CONFIG_HOME: &str = "XDG_CONFIG_HOME";
    /// Cache directory override (notation v1.3+).
    pub const NOTATION_CACHE: &str = "NOTATION_CACHE";
    /// XDG base directory for caches.
    pub const XDG_CACHE_HOME: &str = "XDG_CACHE_HOME";
    /// Home directory.
    pub const HOME: &str = "HOME";
    /// Docker's config directory (credentials).
    pub const DOCKER_CONFIG: &str = "DOCKER_CONFIG";
    /// Default registry user name (spec §4.1).
    pub const NOTATION_USERNAME: &str = "NOTATION_USERNAME";
    /// Default registry password (spec §4.1).
    pub const NOTATION_PASSWORD: &str = "NOTATION_PASSWORD";
    /// Plugin time-out in seconds.
    pub const NOTATION_PLUGIN_TIMEOUT: &str = "NOTATION_PLUGIN_TIMEOUT";
    /// Extra CA bundle for registry TLS.
    pub const SSL_CERT_FILE: &str = "SSL_CERT_FILE";
    /// Directory of extra CA certificates for registry TLS.
    pub const SSL_CERT_DIR: &str = "SSL_CERT_DIR";
}

/// A snapshot of the environment. Its Debug output names the variables but never
/// shows values (`NOTATION_PASSWORD` lives here).
#[derive(Clone, Default)]
pub struct Env {
    vars: HashMap<String, String>,
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.vars.keys().collect();
        names.sort();
        f.debug_struct("Env")
            .field("vars", &names)
            .finish_non_exhaustive()
    }
}

impl Env {
    /// The current process environment (non-UTF-8 values are skipped).
    pub fn from_process() -> Env {
        Env {
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        }
    }

    /// A variable's value; empty values count as unset.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// Every variable, for a child process's environment.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// A variable as a path.
    pub fn path(&self, name: &str) -> Option<PathBuf> {
        self.get(name).map(PathBuf::from)
    }
}
