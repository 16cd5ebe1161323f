//! Where plugins live (notary-spec.md §1.1): `<libexec>/plugins/<name>/notation-<name>`.
//! The executable must be a regular file, not a symlink (the spec's MUST NOT; notation
//! follows symlinks), and executable.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use super::error::HostError;

/// The plugin directory.
#[derive(Debug, Clone)]
pub struct PluginDir {
    root: PathBuf,
}

/// Refuses names that could leave the plugin directory.
pub fn check_name(name: &str) -> Result<(), HostError> {
    if name.is_empty() || name.contains(['/', '\\', '\0']) || name.contains("..") || name == "." {
        return Err(HostError::InvalidName(name.to_owned()));
    }
    Ok(())
}

impl PluginDir {
    /// `<libexec>/plugins`.
    pub fn new(libexec: &Path) -> PluginDir {
        PluginDir {
            root: libexec.join("plugins"),
        }
    }

    /// The plugins directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the executable of `name` is expected.
    pub fn expected_path(&self, name: &str) -> Result<PathBuf, HostError> {
        check_name(name)?;
        Ok(self.root.join(name).join(format!("notation-{name}")))
    }

    /// The executable of `name`, checked: regular file, not a symlink, executable.
    pub fn executable(&self, name: &str) -> Result<PathBuf, HostError> {
        let path = self.expected_path(name)?;
        // The plugin's own directory must be a real directory too: a symlinked one
        // would run a binary from a place `plugin list` does not show.
        let dir = self.root.join(name);
        if std::fs::symlink_metadata(&dir).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(HostError::Symlink {
                name: name.to_owned(),
                path: dir,
            });
        }
        let meta = std::fs::symlink_metadata(&path).map_err(|_| HostError::NotFound {
            name: name.to_owned(),
            path: path.clone(),
        })?;
        if meta.file_type().is_symlink() {
            return Err(HostError::Symlink {
                name: name.to_owned(),
                path,
            });
        }
        if !meta.is_file() || meta.permissions().mode() & 0o111 == 0 {
            return Err(HostError::NotExecutable {
                name: name.to_owned(),
                path,
            });
        }
        Ok(path)
    }

    /// Names of the plugin directories (real directories only), sorted.
    pub fn names(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| check_name(n).is_ok())
            .collect();
        names.sort();
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_paths() {
        for bad in ["", "..", "a/b", "../x", "a\\b", "."] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        let d = PluginDir::new(Path::new("/lib"));
        assert_eq!(
            d.expected_path("acme").unwrap(),
            Path::new("/lib/plugins/acme/notation-acme")
        );
    }

    #[test]
    fn executable_checks() {
        let dir = tempdir();
        let d = PluginDir::new(&dir);
        let p = dir.join("plugins/a");
        std::fs::create_dir_all(&p).unwrap();
        assert!(matches!(d.executable("a"), Err(HostError::NotFound { .. })));
        std::fs::write(p.join("notation-a"), "#!/bin/sh\n").unwrap();
        assert!(matches!(
            d.executable("a"),
            Err(HostError::NotExecutable { .. })
        ));
        std::fs::set_permissions(p.join("notation-a"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
        assert!(d.executable("a").is_ok());
        std::fs::create_dir_all(dir.join("plugins/b")).unwrap();
        std::os::unix::fs::symlink(p.join("notation-a"), dir.join("plugins/b/notation-b")).unwrap();
        assert!(matches!(d.executable("b"), Err(HostError::Symlink { .. })));
        assert_eq!(d.names(), vec!["a", "b"]);
        std::os::unix::fs::symlink(dir.join("plugins/a"), dir.join("plugins/c")).unwrap();
        std::fs::rename(
            dir.join("plugins/a/notation-a"),
            dir.join("plugins/a/notation-c"),
        )
        .unwrap();
        assert!(
            matches!(d.executable("c"), Err(HostError::Symlink { .. })),
            "symlinked plugin directory"
        );
        assert_eq!(
            d.names(),
            vec!["a", "b"],
            "a symlinked directory is not listed"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn tempdir() -> PathBuf {
        let p = std::env::temp_dir().join(format!("plugin-dir-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        p
    }
}
