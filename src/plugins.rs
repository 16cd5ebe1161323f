//! What the CLI hands to plugin processes.

use std::ffi::OsString;

use crate::env::{Env, vars};

/// The environment a plugin runs with: ours, minus registry credentials (a plugin
/// signs; it has no business with the registry password).
pub fn plugin_env(env: &Env) -> Vec<(OsString, OsString)> {
    env.iter()
        .filter(|(k, _)| *k != vars::NOTATION_USERNAME && *k != vars::NOTATION_PASSWORD)
        .map(|(k, v)| (k.into(), v.into()))
        .collect()
}
