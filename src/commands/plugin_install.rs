//! `notation plugin install` (notary-spec.md §1.14): install a plugin from a file or
//! an HTTPS URL, as a single executable, a `.tar.gz` or a `.zip`.
//!
//! Stricter than notation where notation is loose:
//! - archive entries whose path is absolute or has a part that is not a plain name
//!   (`..`, `.`, empty, backslash) are refused, naming the entry, and so are symbolic
//!   and hard links: nothing in an archive can point outside the plugin directory;
//! - the 256 MiB limit covers the source and the uncompressed content; declared sizes
//!   are checked before anything is decompressed, actual sizes while extracting;
//! - the candidate is extracted into a private staging directory beside the plugins
//!   directory and must answer `get-plugin-metadata` with valid metadata naming itself
//!   before it is moved into place with renames, so a failure leaves the plugins
//!   directory as it was and an existing plugin is replaced whole or not at all.

use std::cmp::Ordering;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek as _, SeekFrom};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail};
use plugin_protocol::host::discovery::check_name;
use plugin_protocol::host::{HostError, MAX_OUTPUT, PluginClient, PluginDir, Runner};
use plugin_protocol::wire::{GetMetadataResponse, PluginConfig};

use crate::cli::PluginInstallArgs;
use crate::dirs::Dirs;
use crate::env::Env;
use crate::flags::FlagGroups;
use crate::fsutil::{DirLock, create_private_dir};
use crate::output::Printer;

/// Largest plugin source, and largest total uncompressed content of an archive.
pub const MAX_SOURCE_BYTES: u64 = 256 * 1024 * 1024;
/// How long a download may take, from connecting to the last byte.
pub const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(600);
/// Redirects followed when downloading.
pub const MAX_REDIRECTS: usize = 10;
/// Headroom over [`MAX_SOURCE_BYTES`] for tar headers and padding in a decompressed
/// `.tar.gz` stream: more than this is a bomb of empty entries.
const TAR_OVERHEAD_BYTES: u64 = 16 * 1024 * 1024;
/// Prefix of plugin executable file names.
const PREFIX: &str = "notation-";

fn size_limit_error(what: &str) -> anyhow::Error {
    anyhow!(
        "{what} reached the {} MiB size limit",
        MAX_SOURCE_BYTES / 1024 / 1024
    )
}

/// Where the plugin comes from, after the flag checks.
enum Source {
    File(PathBuf),
    Url(reqwest::Url),
}

/// `notation plugin install`.
pub fn install(args: PluginInstallArgs, dirs: &Dirs, env: &Env, printer: &Printer) -> Result<()> {
    // cobra's order: positional arguments, then flag groups, then the command.
    let location = match args.source.as_slice() {
        [one] => one.clone(),
        [] if args.file => bail!("missing plugin file path"),
        [] if args.url => bail!("missing plugin URL"),
        [] => bail!("missing plugin source location"),
        many => bail!(
            "can only install one plugin at a time, but got [{}]",
            many.join(" ")
        ),
    };
    FlagGroups::default()
        .one_required(&["file", "url"])
        .exclusive(&["file", "url"])
        .check(|f| match f {
            "file" => args.file,
            "url" => args.url,
            _ => false,
        })?;
    let checksum = args.sha256sum.filter(|s| !s.is_empty());
    let source = if args.url {
        if checksum.is_none() {
            bail!("installing from URL requires non-empty SHA256 checksum of the plugin source");
        }
        let url = reqwest::Url::parse(&location).map_err(|e| {
            anyhow!("failed to parse plugin download URL {location} with error: {e}")
        })?;
        if url.scheme() != "https" {
            bail!(
                "failed to download plugin from URL: only the HTTPS scheme is supported, but got {}",
                url.scheme()
            );
        }
        Source::Url(url)
    } else {
        Source::File(PathBuf::from(&location))
    };

    // The executable's file name when the source is not an archive.
    let (mut file, file_name) = match &source {
        Source::File(path) => (open_source_file(path)?, base_name(path)),
        Source::Url(url) => {
            printer.info(format_args!("Downloading plugin from {}", redact(url)));
            let file = download(url, env, printer).map_err(|e| {
                anyhow!(
                    "failed to download plugin from URL {} with error: {e:#}",
                    redact(url)
                )
            })?;
            printer.info("Download completed");
            let name = url
                .path_segments()
                .and_then(|mut s| s.next_back())
                .unwrap_or_default()
                .to_owned();
            (file, name)
        }
    };

    let libexec_existed = dirs.libexec.exists();
    let outcome = install_source(
        &mut file,
        &file_name,
        checksum.as_deref(),
        args.force,
        dirs,
        env,
        printer,
    );
    if outcome.is_err() && !libexec_existed {
        // Created for staging only; remove_dir leaves it if anything else is there.
        let _ = fs::remove_dir(&dirs.libexec);
    }
    let installed = outcome.context("plugin installation failed")?;
    match installed.previous {
        Some(old) => printer.result(format_args!(
            "Successfully updated plugin {} from version {old} to {}",
            installed.name, installed.version
        )),
        None => printer.result(format_args!(
            "Successfully installed plugin {}, version {}",
            installed.name, installed.version
        )),
    }
    Ok(())
}

/// What was installed.
struct Installed {
    name: String,
    version: String,
    /// The version replaced, when a working plugin was there.
    previous: Option<String>,
}

/// Opens a local source: a regular file (symlinks to one are followed, as notation
/// does) within the size limit.
fn open_source_file(path: &Path) -> Result<File> {
    let file = File::open(path)
        .with_context(|| format!("plugin installation failed: cannot open {}", path.display()))?;
    let meta = file
        .metadata()
        .with_context(|| format!("plugin installation failed: cannot read {}", path.display()))?;
    if !meta.is_file() {
        bail!(
            "plugin installation failed: {} is not a valid file",
            path.display()
        );
    }
    if meta.len() > MAX_SOURCE_BYTES {
        return Err(size_limit_error("file size")).context("plugin installation failed");
    }
    Ok(file)
}

fn base_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The URL as shown: its query, which may hold a pre-signed token, is redacted.
fn redact(url: &reqwest::Url) -> String {
    let mut shown = format!("{}://{}{}", url.scheme(), url.authority(), url.path());
    if url.query().is_some() {
        shown.push_str("?<redacted>");
    }
    shown
}

/// Downloads `url` into an anonymous temporary file, within the time-out, the
/// redirect limit (HTTPS only) and the size limit.
fn download(url: &reqwest::Url, env: &Env, printer: &Printer) -> Result<File> {
    let policy = reqwest::redirect::Policy::custom(|attempt| {
        if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error(format!("stopped after {MAX_REDIRECTS} redirects"))
        } else if attempt.url().scheme() != "https" {
            let to = redact(attempt.url());
            attempt.error(format!(
                "refusing a redirect to {to}: only HTTPS is allowed"
            ))
        } else {
            attempt.follow()
        }
    });
    let mut builder = reqwest::blocking::Client::builder()
        .timeout(DOWNLOAD_TIMEOUT)
        .redirect(policy)
        .user_agent(concat!("notation-rs/", env!("CARGO_PKG_VERSION")));
    // The same extra CAs as registry connections (SSL_CERT_FILE, SSL_CERT_DIR).
    for pem in &crate::registry_setup::extra_ca_pems(env)? {
        let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
            anyhow!("cannot read the extra CA certificates (SSL_CERT_FILE/SSL_CERT_DIR): {e}")
        })?;
        builder = builder.tls_certs_merge(certs);
    }
    let client = builder.build().context("cannot set up the HTTP client")?;
    // reqwest's messages name the URL with its query: leave it out.
    let mut resp = client
        .get(url.clone())
        .send()
        .map_err(reqwest::Error::without_url)?;
    printer.debug(format_args!(
        "HTTP GET {} -> {}",
        redact(url),
        resp.status().as_u16()
    ));
    if !resp.status().is_success() {
        bail!("bad HTTP response status {}", resp.status());
    }
    if resp.content_length().is_some_and(|n| n > MAX_SOURCE_BYTES) {
        return Err(size_limit_error("download size"));
    }
    let mut file = tempfile::tempfile().context("cannot create a temporary file")?;
    let copied = io::copy(&mut (&mut resp).take(MAX_SOURCE_BYTES + 1), &mut file)?;
    if copied > MAX_SOURCE_BYTES {
        return Err(size_limit_error("download size"));
    }
    file.seek(SeekFrom::Start(0))?;
    Ok(file)
}

/// Lower-case hex of the SHA-256 of the rest of `file`, which is then rewound.
fn sha256_hex(file: &mut File) -> Result<String> {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file
            .read(&mut buf)
            .context("cannot read the plugin source")?;
        if n == 0 {
            break;
        }
        ctx.update(&buf[..n]);
    }
    file.seek(SeekFrom::Start(0))?;
    Ok(ctx
        .finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// What the first bytes say the source is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Zip,
    TarGz,
    Executable,
}

fn sniff(file: &mut File) -> Result<Kind> {
    let mut head = [0u8; 4];
    let mut n = 0;
    while n < head.len() {
        match file
            .read(&mut head[n..])
            .context("cannot read the plugin source")?
        {
            0 => break,
            k => n += k,
        }
    }
    file.seek(SeekFrom::Start(0))?;
    Ok(match &head[..n] {
        [b'P', b'K', 3, 4] => Kind::Zip,
        [0x1f, 0x8b, ..] => Kind::TarGz,
        _ => Kind::Executable,
    })
}

/// Checks, stages, validates and moves the plugin into place.
fn install_source(
    file: &mut File,
    file_name: &str,
    checksum: Option<&str>,
    force: bool,
    dirs: &Dirs,
    env: &Env,
    printer: &Printer,
) -> Result<Installed> {
    if let Some(expected) = checksum {
        let actual = sha256_hex(file)?;
        if !actual.eq_ignore_ascii_case(expected.trim()) {
            bail!(
                "plugin SHA-256 checksum does not match user input. Expecting {}, but the plugin source has {actual}",
                expected.trim()
            );
        }
        printer.info("The SHA-256 checksum of the plugin source matches");
    }
    let kind = sniff(file)?;
    printer.info(format_args!(
        "Plugin source is {}",
        match kind {
            Kind::Zip => "a zip archive",
            Kind::TarGz => "a gzip-compressed tar archive",
            Kind::Executable => "a single executable file",
        }
    ));

    // Private staging on the same file system as the plugins directory.
    create_private_dir(&dirs.libexec)?;
    let staging = tempfile::Builder::new()
        .prefix(".notation-plugin-install-")
        .tempdir_in(&dirs.libexec)
        .with_context(|| {
            format!(
                "cannot create a staging directory in {}",
                dirs.libexec.display()
            )
        })?;
    let stage_dir = staging.path().join("plugin");
    fs::DirBuilder::new()
        .mode(0o700)
        .create(&stage_dir)
        .with_context(|| format!("cannot create {}", stage_dir.display()))?;
    let mut stage = Stage::new(stage_dir.clone());
    match kind {
        Kind::Zip => extract_zip(file, &mut stage)?,
        Kind::TarGz => extract_tar_gz(file, &mut stage)?,
        Kind::Executable => {
            stage.count_candidate(file_name, true)?;
            if stage.candidates.is_empty() {
                bail!(
                    "invalid plugin executable file name. Plugin file name requires format notation-{{plugin-name}}, but got {file_name:?}"
                );
            }
            stage.write(file_name, file.metadata()?.len(), true, file)?;
        }
    }
    let exe_name = stage.executable()?;
    let name = exe_name[PREFIX.len()..].to_owned();
    check_name(&name)?;
    let staged_exe = stage_dir.join(&exe_name);
    fs::set_permissions(&staged_exe, fs::Permissions::from_mode(0o755))
        .with_context(|| format!("cannot make {} executable", staged_exe.display()))?;
    fsync_dir(&stage_dir)?;

    let runner = Runner {
        timeout: super::sign::plugin_timeout(None, env)?,
        env: crate::plugins::plugin_env(env),
        max_output: MAX_OUTPUT,
    };
    let p = *printer;
    let meta = PluginClient::new(&name, staged_exe, runner.clone())
        .with_trace(Box::new(move |l| p.debug(l)))
        .metadata(&PluginConfig::new())?;
    printer.info(format_args!(
        "Plugin {name} answered get-plugin-metadata with version {}",
        meta.version
    ));

    // Commit under the plugins directory's lock: version check, then renames.
    let plugins = PluginDir::new(&dirs.libexec);
    create_private_dir(plugins.root())?;
    let _lock = DirLock::acquire(plugins.root())?;
    let target = plugins.root().join(&name);
    let previous = match fs::symlink_metadata(&target) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("cannot inspect {}", target.display())),
        Ok(_) => existing_version(&plugins, &name, &meta, force, runner, printer)?,
    };
    let aside = staging.path().join("previous");
    swap_in(&stage_dir, &target, &aside)?;
    fsync_dir(plugins.root())?;
    // Removes the previous version moved aside, if any.
    if let Err(e) = staging.close() {
        printer.warn(format_args!(
            "plugin {name} is installed, but its staging directory could not be removed: {e}"
        ));
    }
    Ok(Installed {
        name,
        version: meta.version,
        previous,
    })
}

/// The version of the plugin installed as `name`, after checking that `new` may
/// replace it. `Ok(None)` when it is broken and `force` is set.
fn existing_version(
    plugins: &PluginDir,
    name: &str,
    new: &GetMetadataResponse,
    force: bool,
    runner: Runner,
    printer: &Printer,
) -> Result<Option<String>> {
    let p = *printer;
    let current = plugins
        .executable(name)
        .map_err(anyhow::Error::from)
        .and_then(|path| {
            Ok(PluginClient::new(name, path, runner)
                .with_trace(Box::new(move |l| p.debug(l)))
                .metadata(&PluginConfig::new())?)
        });
    let current = match current {
        Ok(m) => m,
        // A directory without an executable is no plugin: nothing to compare with.
        Err(e)
            if matches!(
                e.downcast_ref::<HostError>(),
                Some(HostError::NotFound { .. })
            ) =>
        {
            return Ok(None);
        }
        Err(e) if force => {
            printer.info(format_args!(
                "Replacing plugin {name}, whose metadata cannot be read: {e:#}"
            ));
            return Ok(None);
        }
        Err(e) => bail!(
            "failed to get metadata of existing plugin {name}: {e:#}. To replace it, use the \"--force\" option"
        ),
    };
    if !force {
        let order = compare_versions(&new.version, &current.version)
            .context("failed to compare plugin versions")?;
        match order {
            Ordering::Less => bail!(
                "failed to install plugin {name}. The installing plugin version {} is lower than the existing plugin version {}.\nIt is not recommended to install an older version. To force the installation, use the \"--force\" option",
                new.version,
                current.version
            ),
            Ordering::Equal => bail!(
                "plugin {name} with version {} already exists",
                current.version
            ),
            Ordering::Greater => {}
        }
    }
    Ok(Some(current.version))
}

/// Moves `staged` to `target`: an existing `target` is renamed to `aside` first and
/// put back if the new one cannot be moved in. All three are on one file system.
fn swap_in(staged: &Path, target: &Path, aside: &Path) -> Result<()> {
    let had_previous = fs::symlink_metadata(target).is_ok();
    if had_previous {
        fs::rename(target, aside)
            .with_context(|| format!("cannot move the existing {} aside", target.display()))?;
    }
    if let Err(e) = fs::rename(staged, target) {
        if had_previous && let Err(restore) = fs::rename(aside, target) {
            bail!(
                "cannot move the plugin into {}: {e}; and the previous plugin could not be put back from {}: {restore}",
                target.display(),
                aside.display()
            );
        }
        return Err(e).with_context(|| format!("cannot move the plugin into {}", target.display()));
    }
    Ok(())
}

fn fsync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot sync {}", dir.display()))
}

/// The staging directory being filled, with the size budget and the executables
/// (`notation-*` files) seen.
struct Stage {
    dir: PathBuf,
    remaining: u64,
    /// Top-level `notation-*` files and whether the archive marks them executable.
    candidates: Vec<(String, bool)>,
}

impl Stage {
    fn new(dir: PathBuf) -> Stage {
        Stage {
            dir,
            remaining: MAX_SOURCE_BYTES,
            candidates: Vec::new(),
        }
    }

    /// Notes `name` if it is named like a plugin executable; refuses a second
    /// executable one (notation-go counts executables only, so `notation-x.LICENSE`
    /// beside `notation-x` is fine).
    fn count_candidate(&mut self, name: &str, executable: bool) -> Result<()> {
        if name.len() > PREFIX.len() && name.starts_with(PREFIX) {
            self.candidates.push((name.to_owned(), executable));
            let exes: Vec<&str> = self
                .candidates
                .iter()
                .filter(|(_, x)| *x)
                .map(|(n, _)| n.as_str())
                .collect();
            if exes.len() > 1 {
                bail!(
                    "found more than one plugin executable files: {}",
                    exes.join(", ")
                );
            }
        }
        Ok(())
    }

    /// The plugin executable: the one executable candidate, or, when none is marked
    /// executable, the only candidate (notation-go's fallback).
    fn executable(&self) -> Result<String> {
        let exes: Vec<&String> = self
            .candidates
            .iter()
            .filter(|(_, x)| *x)
            .map(|(n, _)| n)
            .collect();
        match (exes.as_slice(), self.candidates.as_slice()) {
            ([one], _) => Ok((*one).clone()),
            ([], [(only, _)]) => Ok(only.clone()),
            ([], []) => bail!(
                "plugin executable file not found in the archive: the archive must hold exactly one top-level file named notation-{{plugin-name}}"
            ),
            ([], many) => bail!(
                "found more than one plugin executable files: {}",
                many.iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            (many, _) => bail!(
                "found more than one plugin executable files: {}",
                many.iter()
                    .map(|n| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// Takes `declared` bytes of the budget, or refuses.
    fn reserve(&mut self, declared: u64) -> Result<()> {
        if declared > self.remaining {
            return Err(size_limit_error("total file size"));
        }
        self.remaining -= declared;
        Ok(())
    }

    /// Writes top-level file `name` (a plain name, checked by the caller) of
    /// `declared` bytes from `data`; more bytes than declared are refused.
    fn write(
        &mut self,
        name: &str,
        declared: u64,
        executable: bool,
        data: &mut dyn Read,
    ) -> Result<()> {
        self.reserve(declared)?;
        let path = self.dir.join(name);
        let mut out = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| match e.kind() {
                io::ErrorKind::AlreadyExists => {
                    anyhow!("the archive has more than one entry named {name:?}")
                }
                _ => anyhow!("cannot write {}: {e}", path.display()),
            })?;
        let copied = io::copy(&mut data.take(declared + 1), &mut out)
            .with_context(|| format!("cannot extract {name:?}"))?;
        if copied > declared {
            bail!(
                "archive entry {name:?} holds more data than its declared size of {declared} bytes"
            );
        }
        // Keep the archive's execute bit (a plugin may ship helper binaries).
        out.set_permissions(fs::Permissions::from_mode(if executable {
            0o755
        } else {
            0o644
        }))
        .and_then(|()| out.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(())
    }
}

/// What an archive entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EntryKind {
    File,
    Dir,
    Symlink,
    HardLink,
    /// Device, fifo, sparse file, ...
    Other,
    /// Metadata that is not a file (a tar global header).
    Ignored,
}

/// Checks an entry: `Ok(Some(name))` for a top-level regular file, `Ok(None)` for an
/// entry to skip, an error naming the entry for a path or a type that is refused.
fn classify(path: &str, kind: EntryKind) -> Result<Option<String>> {
    if kind == EntryKind::Ignored {
        return Ok(None);
    }
    let unsafe_path = |why: &str| {
        anyhow!(
            "archive entry {path:?} is not allowed: {why}; entry paths must be relative and made of plain names"
        )
    };
    if path.is_empty() {
        return Err(unsafe_path("its path is empty"));
    }
    if path.starts_with('/') {
        return Err(unsafe_path("its path is absolute"));
    }
    if path.contains("..") {
        return Err(unsafe_path("its path contains \"..\""));
    }
    if path.contains(['\\', '\0']) {
        return Err(unsafe_path("its path contains a backslash or a NUL"));
    }
    // A directory's name may end with one '/', and one leading "./" (as written by
    // `tar czf x.tgz .`) means the archive's top level.
    let trimmed = match kind {
        EntryKind::Dir => path.strip_suffix('/').unwrap_or(path),
        _ => path,
    };
    if trimmed == "." {
        return Ok(None);
    }
    let trimmed = trimmed.strip_prefix("./").unwrap_or(trimmed);
    let parts: Vec<&str> = trimmed.split('/').collect();
    if parts.iter().any(|p| p.is_empty() || *p == ".") {
        return Err(unsafe_path("its path has an empty or \".\" part"));
    }
    match kind {
        EntryKind::Symlink => {
            bail!("archive entry {path:?} is a symbolic link, which is not allowed")
        }
        EntryKind::HardLink => bail!("archive entry {path:?} is a hard link, which is not allowed"),
        EntryKind::Other => {
            bail!(
                "archive entry {path:?} is not a regular file or a directory, which is not allowed"
            )
        }
        EntryKind::Dir | EntryKind::Ignored => Ok(None),
        EntryKind::File if parts.len() == 1 => Ok(Some(trimmed.to_owned())),
        EntryKind::File => Ok(None),
    }
}

/// A `.zip`: every entry is checked from the central directory (names, types,
/// declared sizes, executables) before anything is decompressed; then the top-level
/// files are extracted, each held to its declared size.
fn extract_zip(file: &mut File, stage: &mut Stage) -> Result<()> {
    let mut zip = zip::ZipArchive::new(&mut *file).context("cannot read the zip archive")?;
    let mut wanted = Vec::new();
    let mut declared_total: u64 = 0;
    for i in 0..zip.len() {
        let entry = zip
            .by_index_raw(i)
            .with_context(|| format!("cannot read entry {i} of the zip archive"))?;
        let path = entry
            .name()
            .with_context(|| format!("cannot read the name of entry {i} of the zip archive"))?
            .into_owned();
        let kind = if entry.is_symlink() {
            EntryKind::Symlink
        } else if entry.is_dir() {
            EntryKind::Dir
        } else {
            match entry.unix_mode().map(|m| m & 0o170_000) {
                None | Some(0) | Some(0o100_000) => EntryKind::File,
                Some(0o040_000) => EntryKind::Dir,
                Some(_) => EntryKind::Other,
            }
        };
        if let Some(name) = classify(&path, kind)? {
            let executable = entry.unix_mode().is_some_and(|m| m & 0o100 != 0);
            stage.count_candidate(&name, executable)?;
            wanted.push((i, name, entry.size(), executable));
        }
        if kind == EntryKind::File {
            declared_total = declared_total.saturating_add(entry.size());
            if declared_total > MAX_SOURCE_BYTES {
                return Err(size_limit_error("total file size"));
            }
        }
    }
    for (i, name, declared, executable) in wanted {
        let mut entry = zip
            .by_index(i)
            .with_context(|| format!("cannot read archive entry {name:?}"))?;
        stage.write(&name, declared, executable, &mut entry)?;
    }
    Ok(())
}

/// A reader that fails once more than `limit` bytes have passed through it.
struct Limited<R> {
    inner: R,
    left: u64,
    exceeded: std::rc::Rc<std::cell::Cell<bool>>,
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            self.exceeded.set(true);
            return Err(io::Error::other("the uncompressed archive is too large"));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// A `.tar.gz`, streamed once: each entry is checked from its header (path, type,
/// declared size against the budget) before its data is read; top-level files are
/// written to the stage as they come.
fn extract_tar_gz(file: &mut File, stage: &mut Stage) -> Result<()> {
    let exceeded = std::rc::Rc::new(std::cell::Cell::new(false));
    let stream = Limited {
        inner: flate2::read::GzDecoder::new(io::BufReader::new(&mut *file)),
        left: MAX_SOURCE_BYTES + TAR_OVERHEAD_BYTES,
        exceeded: exceeded.clone(),
    };
    let too_large = |e: anyhow::Error| {
        if exceeded.get() {
            size_limit_error("total uncompressed archive size")
        } else {
            e
        }
    };
    let mut archive = tar::Archive::new(stream);
    let entries = archive
        .entries()
        .context("cannot read the tar.gz archive")
        .map_err(too_large)?;
    for entry in entries {
        let mut entry = entry
            .context("cannot read the tar.gz archive")
            .map_err(too_large)?;
        let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let kind = match entry.header().entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous => EntryKind::File,
            tar::EntryType::Directory => EntryKind::Dir,
            tar::EntryType::Symlink => EntryKind::Symlink,
            tar::EntryType::Link => EntryKind::HardLink,
            tar::EntryType::XGlobalHeader => EntryKind::Ignored,
            _ => EntryKind::Other,
        };
        let declared = entry.size();
        match classify(&path, kind)? {
            Some(name) => {
                let executable = entry.header().mode().is_ok_and(|m| m & 0o100 != 0);
                stage.count_candidate(&name, executable)?;
                stage
                    .write(&name, declared, executable, &mut entry)
                    .map_err(too_large)?;
            }
            // Skipped files still count: the total uncompressed content is limited.
            None if kind == EntryKind::File => stage.reserve(declared)?,
            None => {}
        }
    }
    Ok(())
}

/// A SemVer 2.0 version: `major.minor.patch[-pre][+build]`.
#[derive(Debug)]
struct Version<'a> {
    core: [u64; 3],
    pre: Vec<&'a str>,
}

fn parse_version(v: &str) -> Result<Version<'_>> {
    let bad = || anyhow!("{v:?} is not a valid semantic version (major.minor.patch)");
    let ident_ok =
        |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let no_leading_zero = |s: &str| s == "0" || !s.starts_with('0');
    let (rest, build) = match v.split_once('+') {
        Some((r, b)) => (r, Some(b)),
        None => (v, None),
    };
    if let Some(b) = build
        && !b.split('.').all(ident_ok)
    {
        return Err(bad());
    }
    let (core, pre) = match rest.split_once('-') {
        Some((c, p)) => (c, p.split('.').collect()),
        None => (rest, Vec::new()),
    };
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() != 3 {
        return Err(bad());
    }
    let mut nums = [0u64; 3];
    for (slot, part) in nums.iter_mut().zip(&parts) {
        if !numeric(part) || !no_leading_zero(part) {
            return Err(bad());
        }
        *slot = part.parse().map_err(|_| bad())?;
    }
    for id in &pre {
        if !ident_ok(id) || (numeric(id) && !no_leading_zero(id)) {
            return Err(bad());
        }
    }
    Ok(Version { core: nums, pre })
}

/// SemVer precedence of `a` against `b`; build metadata is ignored.
fn compare_versions(a: &str, b: &str) -> Result<Ordering> {
    let (a, b) = (parse_version(a)?, parse_version(b)?);
    let ident = |x: &str, y: &str| {
        let num = |s: &str| s.bytes().all(|c| c.is_ascii_digit());
        match (num(x), num(y)) {
            // No leading zeros: a longer number is larger.
            (true, true) => x.len().cmp(&y.len()).then_with(|| x.cmp(y)),
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (false, false) => x.cmp(y),
        }
    };
    Ok(a.core
        .cmp(&b.core)
        .then_with(|| match (a.pre.is_empty(), b.pre.is_empty()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => a
                .pre
                .iter()
                .zip(&b.pre)
                .map(|(x, y)| ident(x, y))
                .find(|o| o.is_ne())
                .unwrap_or_else(|| a.pre.len().cmp(&b.pre.len())),
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semver_precedence() {
        let order = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.1",
            "1.2.0",
            "1.10.0",
            "2.0.0",
        ];
        for w in order.windows(2) {
            assert_eq!(
                compare_versions(w[0], w[1]).unwrap(),
                Ordering::Less,
                "{w:?}"
            );
            assert_eq!(
                compare_versions(w[1], w[0]).unwrap(),
                Ordering::Greater,
                "{w:?}"
            );
        }
        assert_eq!(
            compare_versions("1.0.0+a", "1.0.0+b").unwrap(),
            Ordering::Equal
        );
        for bad in [
            "1.0", "v1.0.0", "01.0.0", "1.0.0-", "1.0.0-01", "1.0.0+", "a.b.c", "",
        ] {
            assert!(parse_version(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn entry_paths() {
        assert_eq!(
            classify("notation-x", EntryKind::File).unwrap().as_deref(),
            Some("notation-x")
        );
        assert_eq!(classify("docs/README", EntryKind::File).unwrap(), None);
        assert_eq!(classify("docs/", EntryKind::Dir).unwrap(), None);
        // `tar czf x.tgz .` writes "./" and "./notation-x".
        assert_eq!(classify("./", EntryKind::Dir).unwrap(), None);
        assert_eq!(
            classify("./notation-x", EntryKind::File)
                .unwrap()
                .as_deref(),
            Some("notation-x")
        );
        for bad in [
            "../evil",
            "a/../b",
            "/etc/passwd",
            "./../x",
            "a/./b",
            "a//b",
            "a\\b",
            "",
            "x..y",
        ] {
            let e = classify(bad, EntryKind::File).unwrap_err().to_string();
            assert!(e.contains(&format!("{bad:?}")), "{e}");
        }
        assert!(
            classify("link", EntryKind::Symlink)
                .unwrap_err()
                .to_string()
                .contains("symbolic link")
        );
        assert!(classify("h", EntryKind::HardLink).is_err());
        assert!(classify("fifo", EntryKind::Other).is_err());
    }
}
