//! The trust store on disk (spec §4.10): `{NOTATION_CONFIG}/truststore/x509/<type>/
//! <store>/<files>`, type `ca`, `signingAuthority` or `tsa`. Every regular file in a
//! named store is read as PEM or DER certificates. As in notation, a store that is
//! missing, empty, a symlink, or holds a sub-directory, a symlink or a certificate
//! that breaks the store rules is an error rather than silently skipped.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use notation_core::cert::Certificate;
use notation_core::policy::Statement;
use notation_core::trust_store::{StoreRef, StoreType, check_store_certificate};
use notation_core::verify::TrustAnchors;

use crate::dirs::Dirs;
use crate::fsutil;

/// A certificate file of a named store.
pub struct StoreFile {
    /// The certificates in it, in file order.
    pub certs: Vec<Certificate>,
}

/// The `truststore/x509` directory.
pub struct TrustStore {
    root: PathBuf,
}

/// True for a plain file name: no path separator, not `.` or `..`, no control
/// characters.
pub fn plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains('/')
        && !name.chars().any(char::is_control)
}

/// Parses a certificate file for a store of `store_type`: at least one
/// certificate, each one allowed in such a store.
pub fn read_certificates(path: &Path, store_type: StoreType) -> Result<Vec<Certificate>> {
    let bytes = fsutil::read_regular(path)?
        .with_context(|| format!("{} does not exist", path.display()))?;
    let certs = Certificate::parse_pem_or_der(&bytes)
        .with_context(|| format!("cannot read certificates from {}", path.display()))?;
    for c in &certs {
        check_store_certificate(store_type, c)
            .map_err(|e| anyhow::anyhow!("{e} (file {})", path.display()))?;
    }
    Ok(certs)
}

impl TrustStore {
    /// The trust store of the configuration directory.
    pub fn new(dirs: &Dirs) -> TrustStore {
        TrustStore {
            root: dirs.config.join("truststore").join("x509"),
        }
    }

    /// The directory of a named store.
    pub fn dir(&self, store_type: StoreType, name: &str) -> PathBuf {
        self.root.join(store_type.as_str()).join(name)
    }

    /// The files of a named store, read and checked. `Ok(None)` when the store
    /// does not exist.
    pub fn files(&self, store_type: StoreType, name: &str) -> Result<Option<Vec<StoreFile>>> {
        let dir = self.dir(store_type, name);
        match std::fs::symlink_metadata(&dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
            Ok(m) if !m.is_dir() => bail!(
                "the trust store {name:?} of type \"{store_type}\" at {} is not a regular directory (symlinks are not supported)",
                dir.display()
            ),
            Ok(_) => {}
        }
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .with_context(|| format!("cannot read {}", dir.display()))?
            .collect::<std::io::Result<_>>()
            .with_context(|| format!("cannot read {}", dir.display()))?;
        entries.sort_by_key(|e| e.file_name());
        let mut files = Vec::new();
        for e in entries {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with(".notation-tmp-") {
                continue;
            }
            let path = e.path();
            let meta = std::fs::symlink_metadata(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            if !meta.is_file() {
                bail!(
                    "{:?} is not a regular file (directories or symlinks are not supported in a trust store)",
                    path.display().to_string()
                );
            }
            let certs = read_certificates(&path, store_type)?;
            files.push(StoreFile { certs });
        }
        Ok(Some(files))
    }

    /// The certificates of a named store used by a trust policy: it must exist and
    /// hold at least one certificate.
    pub fn load(&self, r: &StoreRef) -> Result<Vec<Certificate>> {
        let files = self.files(r.store_type, &r.name)?.with_context(|| {
            format!(
                "the trust store {:?} of type {:?} does not exist; add certificates with 'notation cert add --type {} --store {} <cert_path>'",
                r.name, r.store_type.as_str(), r.store_type, r.name
            )
        })?;
        let certs: Vec<Certificate> = files.into_iter().flat_map(|f| f.certs).collect();
        if certs.is_empty() {
            bail!(
                "no x509 certificates were found in trust store {:?} of type {:?}",
                r.name,
                r.store_type.as_str()
            );
        }
        Ok(certs)
    }

    /// The certificates of every store a statement names.
    pub fn anchors(&self, statement: &Statement) -> Result<TrustAnchors> {
        let mut anchors = TrustAnchors::default();
        for r in &statement.trust_stores {
            let certs = self.load(r).with_context(|| {
                format!("trust policy statement {:?} names {r}", statement.name)
            })?;
            anchors.add(r.store_type, certs);
        }
        Ok(anchors)
    }

    /// Named stores, optionally of one type and/or one name: `(type, name)`, sorted.
    pub fn stores(
        &self,
        type_filter: Option<StoreType>,
        name_filter: Option<&str>,
    ) -> Result<Vec<(StoreType, String)>> {
        let mut out = Vec::new();
        for t in StoreType::ALL {
            if type_filter.is_some_and(|f| f != t) {
                continue;
            }
            let dir = self.root.join(t.as_str());
            let entries = match std::fs::read_dir(&dir) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                other => other.with_context(|| format!("cannot read {}", dir.display()))?,
            };
            let mut names: Vec<String> = entries
                .filter_map(|e| e.ok())
                .filter(|e| e.file_type().is_ok_and(|ft| ft.is_dir()))
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| name_filter.is_none_or(|f| f == n))
                .collect();
            names.sort();
            out.extend(names.into_iter().map(|n| (t, n)));
        }
        Ok(out)
    }
}
