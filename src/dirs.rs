//! Where notation keeps its files (spec §4.2): `$NOTATION_CONFIG`, else
//! `$XDG_CONFIG_HOME/notation`, else `~/.config/notation`; plugins under
//! `$NOTATION_LIBEXEC` (default: the config directory); the cache under
//! `$NOTATION_CACHE`, else `$XDG_CACHE_HOME/notation`, else `~/.cache/notation`.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use crate::env::{Env, vars};

/// The resolved directories.
#[derive(Debug, Clone)]
pub struct Dirs {
    /// `{NOTATION_CONFIG}`.
    pub config: PathBuf,
    /// `{NOTATION_LIBEXEC}`.
    pub libexec: PathBuf,
    /// `{NOTATION_CACHE}`; `None` when no home directory says where it is (the
    /// cache is an optimisation, so nothing is cached then).
    pub cache: Option<PathBuf>,
}

impl Dirs {
    /// Resolves the directories from the environment.
    pub fn from_env(env: &Env) -> Result<Dirs> {
        let config = if let Some(p) = env.path(vars::NOTATION_CONFIG) {
            p
        } else if let Some(p) = env.path(vars::XDG_CONFIG_HOME) {
            p.join("notation")
        } else if let Some(home) = env.path(vars::HOME) {
            home.join(".config").join("notation")
        } else {
            bail!(
                "cannot find the notation configuration directory: set NOTATION_CONFIG, XDG_CONFIG_HOME or HOME"
            );
        };
        let libexec = env
            .path(vars::NOTATION_LIBEXEC)
            .unwrap_or_else(|| config.clone());
        // Absolute, so plugins get an absolute argv[0] (notary-spec.md §1.2) and a
        // later change of directory cannot change what a path means.
        let absolute = |p: PathBuf| std::path::absolute(&p).unwrap_or(p);
        let cache = env
            .path(vars::NOTATION_CACHE)
            .or_else(|| Some(env.path(vars::XDG_CACHE_HOME)?.join("notation")))
            .or_else(|| Some(env.path(vars::HOME)?.join(".cache").join("notation")));
        Ok(Dirs {
            config: absolute(config),
            libexec: absolute(libexec),
            cache: cache.map(absolute),
        })
    }

    /// `signingkeys.json`.
    pub fn signing_keys(&self) -> PathBuf {
        self.config.join("signingkeys.json")
    }

    /// `config.json`.
    pub fn config_json(&self) -> PathBuf {
        self.config.join("config.json")
    }

    /// `localkeys/`, where `cert generate-test` writes keys.
    pub fn local_keys(&self) -> PathBuf {
        self.config.join("localkeys")
    }

    /// `truststore/x509/<type>/<store>/`.
    pub fn trust_store(&self, store_type: &str, store: &str) -> PathBuf {
        self.config
            .join("truststore")
            .join("x509")
            .join(store_type)
            .join(store)
    }

    /// The config directory as a path.
    pub fn config_dir(&self) -> &Path {
        &self.config
    }
}
