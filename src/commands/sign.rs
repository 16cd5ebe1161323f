//! `notation sign` (specs/cmd/sign.md; spec §1.13, §3.7, §4.6, §4.7).
//!
//! Args → [`SignSettings`] (every flag validated, config.json applied) → [`run`]:
//! resolve the key, resolve the artifact, sign through the checked signing path,
//! store blobs, then list the signature manifest in index.json.
//!
//! Several references are signed in one call, `--max-concurrency` at a time, with
//! one key (one get-plugin-metadata, one describe-key) and one registry client
//! (connections, tokens, what each registry supports). Each reference gets the
//! lines it would get alone, or its own `Error:` line; the exit code is 1 if any
//! failed. A reference waiting to confirm its tag-index write does not hold a
//! worker: the workers sign other references meanwhile.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use notation_core::local_key::LocalKey;
use notation_core::manifest::{self, ManifestForm};
use notation_core::signer::{SignOptions, Signer, sign_artifact};
use notation_core::{Descriptor, SignatureFormat};

use notation_registry::client::{Client, ManifestPush, Repository};
use notation_registry::reference::{Reference, Selector as RegistrySelector};
use notation_registry::referrers::{Step, TagIndexUpdate};
use notation_registry::secret::Secret;
use plugin_protocol::host::{MAX_OUTPUT, Mode, PluginClient, PluginDir, PluginSigner, Runner};

use crate::cli::SignArgs;
use crate::config_json::ConfigJson;
use crate::dirs::Dirs;
use crate::duration::parse_go_duration;
use crate::env::Env;
use crate::flags::{FlagGroups, parse_key_values};
use crate::fsutil;
use crate::layout::Layout;
use crate::layout_ref::{LayoutRef, Selector};
use crate::output::Printer;
use crate::referrers_cache::ReferrersCache;
use crate::registry_setup::{self, RegistryFlags};
use crate::signing_keys::{KeySource, SigningKeys};

/// The key that signs: a local key, or a plugin's key. Both sign through the same
/// checked path (`sign_artifact`).
pub enum SigningKey {
    /// Key and certificate files.
    Local(LocalKey),
    /// A key held by a plugin.
    Plugin(Box<PluginSigner>),
}

impl SigningKey {
    fn signer(&self) -> Signer<'_> {
        match self {
            SigningKey::Local(k) => Signer::Raw(k),
            SigningKey::Plugin(p) => p.signer(),
        }
    }

    /// The signing agent: ours, plus `<plugin>/<version>` for RAW plugin signatures
    /// (an ENVELOPE plugin writes its own).
    fn agent(&self) -> String {
        match self {
            SigningKey::Plugin(p) => format!("{SIGNING_AGENT} {}", p.agent()),
            SigningKey::Local(_) => SIGNING_AGENT.to_owned(),
        }
    }
}

/// Default plugin time-out (5 minutes).
pub const DEFAULT_PLUGIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

fn parse_timeout(raw: &str, flag: &str) -> Result<std::time::Duration> {
    let nanos = parse_go_duration(raw)
        .map_err(|e| anyhow::anyhow!("invalid argument {raw:?} for {flag:?} flag: {e}"))?;
    if nanos <= 0 {
        bail!("{flag} must be a positive duration, for example 30s or 5m");
    }
    Ok(std::time::Duration::from_nanos(u64::try_from(nanos)?))
}

/// The plugin time-out: `--plugin-timeout`, else `NOTATION_PLUGIN_TIMEOUT` (seconds),
/// else 5 minutes.
pub fn plugin_timeout(flag: Option<std::time::Duration>, env: &Env) -> Result<std::time::Duration> {
    if let Some(t) = flag {
        return Ok(t);
    }
    match env.get(crate::env::vars::NOTATION_PLUGIN_TIMEOUT) {
        None => Ok(DEFAULT_PLUGIN_TIMEOUT),
        Some(v) => match v.parse::<u64>() {
            Ok(s) if s > 0 => Ok(std::time::Duration::from_secs(s)),
            _ => bail!(
                "NOTATION_PLUGIN_TIMEOUT must be a whole number of seconds greater than 0, not {v:?}"
            ),
        },
    }
}

/// Finds, checks and starts talking to a signing plugin.
fn plugin_signer(
    name: &str,
    key_id: &str,
    config: BTreeMap<String, String>,
    settings: &SignSettings,
    env: &Env,
    dirs: &Dirs,
    printer: &Printer,
) -> Result<PluginSigner> {
    let path = PluginDir::new(&dirs.libexec).executable(name)?;
    let runner = Runner {
        timeout: plugin_timeout(settings.plugin_timeout, env)?,
        env: crate::plugins::plugin_env(env),
        max_output: MAX_OUTPUT,
    };
    let p = *printer;
    let client =
        PluginClient::new(name, path, runner).with_trace(Box::new(move |line| p.debug(line)));
    let signer = PluginSigner::new(client, key_id, config)?;
    printer.info(format_args!(
        "plugin {name} {} signs with {}",
        signer.metadata().version,
        match signer.mode() {
            Mode::Raw => "SIGNATURE_GENERATOR.RAW",
            Mode::Envelope => "SIGNATURE_GENERATOR.ENVELOPE",
        }
    ));
    Ok(signer)
}

/// Recorded as `io.cncf.notary.signingAgent`.
pub const SIGNING_AGENT: &str = concat!("notation-rs/", env!("CARGO_PKG_VERSION"));

/// Which key signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySelector {
    /// `--key <name>`, or the default key when `None`.
    Named(Option<String>),
    /// `--plugin <p> --id <id>`.
    OnDemand {
        /// Plugin name.
        plugin: String,
        /// Key id.
        id: String,
    },
}

/// Where the artifact is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// In an OCI image layout.
    Layout(LayoutRef),
    /// In a registry.
    Registry(Reference),
}

/// Default `--max-concurrency`: how many references one call signs at once.
pub const DEFAULT_MAX_CONCURRENCY: usize = 4;

/// The largest `--max-concurrency`.
pub const MAX_CONCURRENCY: usize = 256;

fn parse_max_concurrency(raw: &str) -> Result<usize> {
    match raw.parse::<usize>() {
        Ok(n) if (1..=MAX_CONCURRENCY).contains(&n) => Ok(n),
        _ => bail!(
            "--max-concurrency must be a whole number from 1 to {MAX_CONCURRENCY}, not {raw:?}"
        ),
    }
}

/// One reference of the command line: as given, and the artifact it names or why
/// it names none.
pub type TargetArg = (String, Result<Target>);

/// Validated `notation sign` settings.
pub struct SignSettings {
    /// The artifacts, in command-line order. With a single reference, a malformed
    /// one is an error of [`SignSettings::resolve`] itself; with several, it is that
    /// reference's failure, and the others are still signed.
    pub targets: Vec<TargetArg>,
    /// `--max-concurrency`.
    pub max_concurrency: usize,
    /// The key.
    pub key: KeySelector,
    /// Envelope format.
    pub format: SignatureFormat,
    /// Expiry after the signing time, seconds.
    pub expiry_seconds: Option<u64>,
    /// `--user-metadata` pairs.
    pub user_metadata: BTreeMap<String, String>,
    /// `--plugin-config` pairs (merged over a stored key's config).
    pub plugin_config: BTreeMap<String, String>,
    /// `--plugin-timeout`, if given.
    pub plugin_timeout: Option<std::time::Duration>,
    /// Registry flags (credentials, plain HTTP).
    pub registry: RegistryFlags,
    /// `--force-referrers-tag`: always keep the tag-schema index.
    pub force_referrers_tag: bool,
    /// Deprecation warning for `--allow-referrers-api`, if it was given.
    pub deprecation: Option<&'static str>,
}

fn parse_expiry(raw: &str) -> Result<Option<u64>> {
    let nanos = parse_go_duration(raw)
        .map_err(|e| anyhow::anyhow!("invalid argument {raw:?} for \"-e, --expiry\" flag: {e}"))?;
    if nanos < 0 {
        bail!("expiry duration cannot be a negative value");
    }
    if nanos % 1_000_000_000 != 0 {
        bail!("expiry duration supports minimum granularity of seconds");
    }
    let secs = u64::try_from(nanos / 1_000_000_000)?;
    Ok((secs > 0).then_some(secs))
}

impl SignSettings {
    /// Validates the flags in notation's order: flag groups, then values, then the
    /// reference.
    pub fn resolve(args: SignArgs, config: &ConfigJson) -> Result<SignSettings> {
        let SignArgs {
            reference,
            max_concurrency,
            key,
            id,
            plugin,
            plugin_config,
            signature_format,
            expiry,
            user_metadata,
            oci_layout,
            username,
            password,
            insecure_registry,
            force_referrers_tag,
            allow_referrers_api,
            plugin_timeout,
            log: _,
        } = args;
        FlagGroups::default()
            .required_together(&["id", "plugin"])
            .exclusive(&["key", "id"])
            .exclusive(&["key", "plugin"])
            .exclusive(&["oci-layout", "force-referrers-tag", "allow-referrers-api"])
            .check(|f| match f {
                "key" => key.is_some(),
                "id" => id.is_some(),
                "plugin" => plugin.is_some(),
                "oci-layout" => oci_layout,
                "force-referrers-tag" => force_referrers_tag.is_some(),
                "allow-referrers-api" => allow_referrers_api.is_some(),
                _ => false,
            })?;
        let format_name = signature_format
            .or_else(|| config.signature_format.clone())
            .unwrap_or_else(|| "jws".into());
        let format: SignatureFormat = format_name.to_lowercase().parse().map_err(|_| {
            anyhow::anyhow!(
                "signature format {format_name:?} not supported. Supported signature envelope formats are \"jws\" and \"cose\""
            )
        })?;
        let expiry_seconds = match expiry {
            Some(e) => parse_expiry(&e)?,
            None => None,
        };
        let user_metadata = parse_key_values("user-metadata", &user_metadata)?;
        let plugin_config = parse_key_values("plugin-config", &plugin_config)?;
        let plugin_timeout = plugin_timeout
            .map(|t| parse_timeout(&t, "--plugin-timeout"))
            .transpose()?;
        let max_concurrency = max_concurrency
            .map(|n| parse_max_concurrency(&n))
            .transpose()?
            .unwrap_or(DEFAULT_MAX_CONCURRENCY);
        let key = match (key, id, plugin) {
            (_, Some(id), Some(plugin)) => {
                if id.is_empty() {
                    bail!("missing key id: --id must not be empty");
                }
                KeySelector::OnDemand { plugin, id }
            }
            (key, _, _) => KeySelector::Named(key),
        };
        let parse = |raw: &str| -> Result<Target> {
            Ok(if oci_layout {
                Target::Layout(LayoutRef::parse(raw)?)
            } else {
                Target::Registry(Reference::parse(raw)?)
            })
        };
        let targets: Vec<TargetArg> = match reference.as_slice() {
            [] => bail!(
                "missing reference to the artifact: use `notation sign --help` to see what parameters are required"
            ),
            [one] => vec![(one.clone(), Ok(parse(one)?))],
            more => more.iter().map(|raw| (raw.clone(), parse(raw))).collect(),
        };
        let deprecation = allow_referrers_api.map(|on| {
            if on {
                "flag '--allow-referrers-api' is deprecated and will be removed in future versions, use '--force-referrers-tag=false' instead."
            } else {
                "flag '--allow-referrers-api' is deprecated and will be removed in future versions."
            }
        });
        Ok(SignSettings {
            targets,
            max_concurrency,
            key,
            format,
            expiry_seconds,
            user_metadata,
            plugin_config,
            plugin_timeout,
            registry: RegistryFlags {
                username,
                password: password.map(Secret::new),
                insecure: insecure_registry,
            },
            force_referrers_tag: force_referrers_tag.unwrap_or(false),
            deprecation,
        })
    }
}

fn load_local_key(
    name: &str,
    key_path: &str,
    cert_path: &str,
    printer: &Printer,
) -> Result<LocalKey> {
    let read = |path: &str, what: &str| -> Result<Vec<u8>> {
        fsutil::read_regular(Path::new(path))?.with_context(|| {
            format!("the {what} file {path} of signing key {name} does not exist; re-add the key with 'notation key add' or 'notation cert generate-test'")
        })
    };
    let key_pem = read(key_path, "private key")?;
    let cert_pem = read(cert_path, "certificate")?;
    printer.debug(format_args!(
        "read key file {key_path} and certificate file {cert_path}"
    ));
    LocalKey::from_pem(&key_pem, &cert_pem)
        .with_context(|| format!("cannot load signing key {name}"))
}

/// Loads the key the settings name (for a plugin: finds it and runs
/// get-plugin-metadata, once for the whole call).
fn load_key(
    settings: &SignSettings,
    env: &Env,
    dirs: &Dirs,
    printer: &Printer,
) -> Result<SigningKey> {
    Ok(match &settings.key {
        KeySelector::OnDemand { plugin, id } => {
            printer.info(format_args!("using key {id:?} of plugin {plugin:?}"));
            SigningKey::Plugin(Box::new(plugin_signer(
                plugin,
                id,
                settings.plugin_config.clone(),
                settings,
                env,
                dirs,
                printer,
            )?))
        }
        KeySelector::Named(name) => {
            let keys = SigningKeys::load(&dirs.signing_keys())?;
            let suite = keys.resolve(name.as_deref())?;
            match suite.source()? {
                KeySource::Local {
                    key_path,
                    cert_path,
                } => {
                    printer.info(format_args!(
                        "using local signing key {} ({key_path})",
                        suite.name
                    ));
                    SigningKey::Local(load_local_key(&suite.name, key_path, cert_path, printer)?)
                }
                KeySource::Plugin { plugin, id, config } => {
                    printer.info(format_args!(
                        "using signing key {} (key {id:?} of plugin {plugin:?})",
                        suite.name
                    ));
                    // The command line wins over the stored configuration.
                    let mut merged = config.clone();
                    merged.extend(settings.plugin_config.clone());
                    SigningKey::Plugin(Box::new(plugin_signer(
                        plugin, id, merged, settings, env, dirs, printer,
                    )?))
                }
            }
        }
    })
}

/// Runs `notation sign`.
pub fn run(args: SignArgs, env: &Env, dirs: &Dirs, printer: &Printer) -> Result<()> {
    let config = ConfigJson::load(&dirs.config_json())?;
    let settings = SignSettings::resolve(args, &config)?;
    if let Some(w) = settings.deprecation {
        printer.warn(w);
    }
    let key = load_key(&settings, env, dirs, printer)?;
    let options = SignOptions {
        format: settings.format,
        signing_time: super::now(),
        expiry_seconds: settings.expiry_seconds,
        signing_agent: key.agent(),
    };
    let to_registry = settings
        .targets
        .iter()
        .any(|(_, t)| matches!(t, Ok(Target::Registry(_))));
    let client = if to_registry {
        let flags = RegistryFlags {
            username: settings.registry.username.clone(),
            password: settings.registry.password.clone(),
            insecure: settings.registry.insecure,
        };
        Some(registry_setup::client(flags, env, &config, printer)?)
    } else {
        None
    };
    let cache = dirs
        .cache
        .as_deref()
        .map(|d| ReferrersCache::new(d, super::now()));
    if let (Some(client), Some(cache)) = (&client, &cache)
        && !settings.force_referrers_tag
    {
        recall_referrers_api(client, cache, &settings, printer);
    }
    let job = Job {
        settings: &settings,
        key: &key,
        options: &options,
        client: client.as_ref(),
        printer: *printer,
    };
    let outcome = if settings.targets.len() == 1 {
        // One reference: its error is the command's one `Error:` line.
        let result = Mutex::new(None);
        job.sign_all(1, &|_, outcome| {
            *result.lock().unwrap_or_else(|e| e.into_inner()) = Some(outcome);
        });
        match result.into_inner().unwrap_or_else(|e| e.into_inner()) {
            Some(Ok(lines)) => {
                printer.results(&lines);
                Ok(())
            }
            Some(Err(e)) => Err(e),
            None => Err(anyhow::anyhow!("the reference was not signed")),
        }
    } else {
        let failed = AtomicUsize::new(0);
        job.sign_all(settings.max_concurrency, &|i, outcome| match outcome {
            Ok(lines) => printer.results(&lines),
            Err(e) => {
                failed.fetch_add(1, Ordering::Relaxed);
                // Every error line names its reference.
                let raw = &settings.targets[i].0;
                let e = if format!("{e:#}").contains(raw.as_str()) {
                    e
                } else {
                    e.context(format!("failed to sign {raw}"))
                };
                Printer::error(&e);
            }
        });
        match failed.into_inner() {
            0 => Ok(()),
            n => Err(anyhow::anyhow!(
                "{n} of {} references could not be signed (see the errors above); the others were signed",
                settings.targets.len()
            )),
        }
    };
    if let (Some(client), Some(cache)) = (&client, &cache) {
        remember_referrers_api(client, cache, printer);
    }
    if let Some(client) = &client {
        printer.debug(format_args!(
            "{} registry requests, {} token requests",
            client.request_count(),
            client.token_fetches()
        ));
    }
    outcome
}

/// Tells the client which registries of this call an earlier run found to have no
/// Referrers API, so that it does not probe them again (see [`ReferrersCache`]).
fn recall_referrers_api(
    client: &Client,
    cache: &ReferrersCache,
    settings: &SignSettings,
    printer: &Printer,
) {
    let registries: BTreeSet<&str> = settings
        .targets
        .iter()
        .filter_map(|(_, t)| match t {
            Ok(Target::Registry(r)) => Some(r.registry.as_str()),
            _ => None,
        })
        .collect();
    for registry in registries {
        match cache.no_api_since(registry) {
            Ok(Some(checked_at)) => {
                printer.debug(format_args!(
                    "{registry} had no Referrers API when probed {}s ago (remembered in {}); not probing it again",
                    super::now().saturating_sub(checked_at),
                    cache.dir().display()
                ));
                client.assume_no_referrers_api(registry);
            }
            Ok(None) => {}
            Err(e) => printer.debug(format_args!("ignoring the cache: {e:#}")),
        }
    }
}

/// Keeps what this call's probes found for later runs, and drops entries that a
/// push's `OCI-Subject` header contradicted.
fn remember_referrers_api(client: &Client, cache: &ReferrersCache, printer: &Printer) {
    for (registry, supported, probed) in client.referrers_api_findings() {
        let done = match (supported, probed) {
            (false, true) => cache.remember_no_api(&registry),
            (true, _) => cache.forget(&registry),
            (false, false) => Ok(()),
        };
        if let Err(e) = done {
            printer.debug(format_args!("cannot update the cache: {e:#}"));
        }
    }
}

const TAG_WARNING: &str = "because tags are mutable and a tag reference can point to a different artifact than the one signed.";

/// What signing one reference has come to.
enum Progress<'a> {
    /// Finished: the result lines to print.
    Done(Vec<String>),
    /// Recording the signature in the referrers tag index: paused until `due`.
    Paused(Box<Paused<'a>>),
}

/// A signature pushed to a registry whose tag-index update is paused before its
/// confirming read.
struct Paused<'a> {
    due: Instant,
    repo: Repository<'a>,
    update: TagIndexUpdate,
    signed_ref: String,
    lines: Vec<String>,
}

/// Work left for the workers of [`Job::sign_all`].
struct Queue<'a> {
    /// The next reference to start.
    next: usize,
    /// Paused tag-index updates, with their reference's position.
    paused: Vec<(usize, Box<Paused<'a>>)>,
}

/// What to do next, for a worker.
enum Task<'a> {
    Start(usize),
    Resume(usize, Box<Paused<'a>>),
}

/// Everything every reference of one call shares.
struct Job<'a> {
    settings: &'a SignSettings,
    key: &'a SigningKey,
    options: &'a SignOptions,
    client: Option<&'a Client>,
    printer: Printer,
}

impl<'a> Job<'a> {
    /// Signs every target with `workers` threads (this one included) and hands each
    /// reference's outcome to `report` as it finishes. Workers prefer resuming a
    /// paused tag-index update whose pause is over to starting a new reference.
    fn sign_all(&self, workers: usize, report: &(dyn Fn(usize, Result<Vec<String>>) + Sync)) {
        let targets = &self.settings.targets;
        let queue = Mutex::new(Queue {
            next: 0,
            paused: Vec::new(),
        });
        let wake = Condvar::new();
        let next_task = || -> Option<Task<'a>> {
            let mut q = queue.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                let now = Instant::now();
                if let Some(pos) = q.paused.iter().position(|(_, p)| p.due <= now) {
                    let (i, p) = q.paused.swap_remove(pos);
                    return Some(Task::Resume(i, p));
                }
                if q.next < targets.len() {
                    q.next += 1;
                    return Some(Task::Start(q.next - 1));
                }
                let due = q.paused.iter().map(|(_, p)| p.due).min()?;
                q = wake
                    .wait_timeout(q, due.saturating_duration_since(now))
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
        };
        let work = || {
            while let Some(task) = next_task() {
                let (i, outcome) = match task {
                    Task::Start(i) => (
                        i,
                        match &targets[i].1 {
                            Ok(target) => self.start(target),
                            Err(e) => Err(anyhow::anyhow!("{e:#}")),
                        },
                    ),
                    Task::Resume(i, p) => (i, self.advance(*p)),
                };
                match outcome {
                    Ok(Progress::Paused(p)) => {
                        queue
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .paused
                            .push((i, p));
                        wake.notify_one();
                    }
                    Ok(Progress::Done(lines)) => report(i, Ok(lines)),
                    Err(e) => report(i, Err(e)),
                }
            }
        };
        let workers = workers.clamp(1, targets.len().max(1));
        std::thread::scope(|s| {
            for _ in 1..workers {
                s.spawn(work);
            }
            work();
        });
    }

    fn start(&self, target: &Target) -> Result<Progress<'a>> {
        match target {
            Target::Layout(layout_ref) => self.sign_in_layout(layout_ref).map(Progress::Done),
            Target::Registry(reference) => self.sign_in_registry(reference),
        }
    }

    fn sign_target(
        &self,
        target: &Descriptor,
        signed_ref: &str,
    ) -> Result<notation_core::signer::SignedEnvelope> {
        let (settings, key, printer) = (self.settings, self.key, &self.printer);
        let payload_target = target
            .clone()
            .with_user_metadata(&settings.user_metadata)
            .context("invalid --user-metadata")?;
        printer.info(format_args!(
            "signing with a {} envelope ({})",
            settings.format.as_str().to_uppercase(),
            settings.format.media_type()
        ));
        sign_artifact(key.signer(), &payload_target, self.options).map_err(|e| {
            let context = match key {
                SigningKey::Local(_) => format!("failed to sign {signed_ref}"),
                // A plugin error names its command itself; a check of ours on what the
                // plugin answered names the command that answered it.
                SigningKey::Plugin(p) if matches!(e, notation_core::Error::Signer(_)) => {
                    format!(
                        "failed to sign {signed_ref} with plugin {:?}",
                        p.metadata().name
                    )
                }
                SigningKey::Plugin(p) => format!(
                    "failed to sign {signed_ref} with plugin {:?} ({})",
                    p.metadata().name,
                    match p.mode() {
                        Mode::Raw => "generate-signature",
                        Mode::Envelope => "generate-envelope",
                    }
                ),
            };
            anyhow::Error::new(e).context(context)
        })
    }

    fn sign_in_layout(&self, layout_ref: &LayoutRef) -> Result<Vec<String>> {
        let printer = &self.printer;
        let layout = Layout::open(Path::new(&layout_ref.path))?;
        let target = layout.resolve(&layout_ref.selector)?;
        if let Selector::Tag(tag) = &layout_ref.selector {
            printer.warn(format_args!(
                "Always sign the artifact using digest(@sha256:...) rather than a tag(:{tag}) {TAG_WARNING}"
            ));
        }
        printer.info(format_args!(
            "resolved {} to {} ({}, {} bytes)",
            layout_ref.path, target.digest, target.media_type, target.size
        ));
        let signed_ref = format!("{}@{}", layout_ref.path, target.digest);
        let signed = self.sign_target(&target, &signed_ref)?;
        store_in_layout(&layout, &target, &signed, printer)
            .with_context(|| format!("failed to store the signature of {signed_ref}"))?;
        Ok(vec![format!("Successfully signed {signed_ref}")])
    }

    /// Resolves, signs and pushes: envelope blob, then the manifest by digest (the
    /// `{}` config blob only if the registry reports it missing), then the referrers
    /// index when the registry has no Referrers API. Nothing is indexed before the
    /// manifest it names is stored.
    fn sign_in_registry(&self, reference: &Reference) -> Result<Progress<'a>> {
        let (settings, printer) = (self.settings, &self.printer);
        let client = self
            .client
            .context("internal error: no registry client for a registry reference")?;
        let repo = client.repository(&reference.registry, &reference.repository, true);
        let target = repo.resolve(reference.selector_str())?;
        if let RegistrySelector::Tag(tag) = &reference.selector {
            printer.warn(format_args!(
                "Always sign the artifact using digest(@sha256:...) rather than a tag(:{tag}) {TAG_WARNING}"
            ));
        }
        let name = reference.name();
        let signed_ref = format!("{name}@{}", target.digest);
        printer.info(format_args!(
            "resolved {reference} to {} ({}, {} bytes)",
            target.digest, target.media_type, target.size
        ));
        let signed = self.sign_target(&target, &signed_ref)?;
        let m = signature_manifest(&signed, &target)?;
        let push_failed = || format!("failed to push the signature of {signed_ref}");
        repo.push_blob(&signed.envelope).with_context(push_failed)?;
        let digest = m.descriptor.digest.as_str();
        let subject_indexed =
            push_signature_manifest(&repo, &signed.envelope, digest, &m.bytes, printer)
                .with_context(push_failed)?;
        let lines = vec![
            format!("Successfully signed {signed_ref}"),
            format!("Pushed the signature to {name}@{digest}"),
        ];
        // The Referrers API is probed once per registry per call, and only when the
        // push was not answered with OCI-Subject.
        let use_tag_schema = settings.force_referrers_tag
            || (!subject_indexed
                && !repo
                    .has_referrers_api(&target.digest)
                    .with_context(push_failed)?);
        if !use_tag_schema {
            printer.info("the registry indexes the signature through the Referrers API");
            return Ok(Progress::Done(lines));
        }
        self.advance(Paused {
            due: Instant::now(),
            update: TagIndexUpdate::new(&target.digest, &m.descriptor),
            repo,
            signed_ref,
            lines,
        })
    }

    /// Takes a tag-index update one step further: to its next pause, or to the end.
    fn advance(&self, mut p: Paused<'a>) -> Result<Progress<'a>> {
        let step = p
            .update
            .step(&p.repo)
            .with_context(|| format!("failed to push the signature of {}", p.signed_ref))?;
        match step {
            Step::Wait(pause) => {
                p.due = Instant::now() + pause;
                Ok(Progress::Paused(Box::new(p)))
            }
            Step::Done(update) => {
                for w in update.warnings {
                    self.printer.warn(w);
                }
                self.printer.info(format_args!(
                    "recorded the signature in the referrers tag index ({} write(s))",
                    update.writes
                ));
                Ok(Progress::Done(p.lines))
            }
        }
    }
}

/// The signature manifest (form A, notation 1.x's) of `signed` for `subject`, the
/// same for registries and layouts. Its created annotation is the envelope's signing
/// time (spec §3.2), which an envelope signer sets itself.
fn signature_manifest(
    signed: &notation_core::signer::SignedEnvelope,
    subject: &Descriptor,
) -> Result<manifest::SignatureManifest> {
    let info = &signed.content.signer_info;
    let signing_time = info
        .signing_time
        .or(info.authentic_signing_time)
        .context("the envelope has no signing time")?;
    Ok(manifest::build(
        ManifestForm::ConfigMediaType,
        signed.format.media_type(),
        &signed.envelope,
        subject,
        &info.certificate_chain,
        signing_time,
        &signed.annotations,
    ))
}

/// Pushes the manifest by digest. The `{}` config blob is uploaded only when the
/// registry reports a blob missing; because distribution 2.8 can briefly report a
/// blob that concurrent signers are uploading as missing, that is retried a few
/// times (re-uploading both blobs, which are content-addressed). Returns whether the
/// registry indexed the subject itself (`OCI-Subject`).
fn push_signature_manifest(
    repo: &notation_registry::client::Repository<'_>,
    envelope: &[u8],
    digest: &str,
    bytes: &[u8],
    printer: &Printer,
) -> Result<bool> {
    const ATTEMPTS: u32 = 4;
    for attempt in 1..=ATTEMPTS {
        match repo.push_manifest(digest, manifest::MEDIA_TYPE_IMAGE_MANIFEST, bytes)? {
            ManifestPush::Pushed { subject_indexed } => return Ok(subject_indexed),
            ManifestPush::BlobUnknown if attempt < ATTEMPTS => {
                printer.debug(
                    "the registry reports a blob of the signature manifest missing; uploading it",
                );
                repo.push_blob(manifest::EMPTY_CONFIG)?;
                if attempt > 1 {
                    repo.push_blob(envelope)?;
                    std::thread::sleep(std::time::Duration::from_millis(50 * u64::from(attempt)));
                }
            }
            ManifestPush::BlobUnknown => break,
        }
    }
    bail!(
        "the registry still reports a blob of the signature manifest as missing after {ATTEMPTS} attempts"
    )
}

/// Stores the envelope, config and manifest blobs, then lists the manifest in
/// index.json: the index never points at a blob that is not there.
fn store_in_layout(
    layout: &Layout,
    subject: &Descriptor,
    signed: &notation_core::signer::SignedEnvelope,
    printer: &Printer,
) -> Result<()> {
    let m = signature_manifest(signed, subject)?;
    // The envelope and manifest are unique to this signature; if listing fails they are
    // removed again. The `{}` config blob is shared with other signatures and stays.
    let mut own = Vec::new();
    let stored = (|| -> Result<()> {
        own.extend(layout.put_blob(&signed.envelope, printer)?);
        layout.put_blob(manifest::EMPTY_CONFIG, printer)?;
        own.extend(layout.put_blob(&m.bytes, printer)?);
        layout.add_to_index(&m.descriptor, printer)
    })();
    if let Err(e) = stored {
        for path in &own {
            let _ = std::fs::remove_file(path);
        }
        return Err(e);
    }
    printer.info(format_args!(
        "stored signature manifest {} in the OCI layout",
        m.descriptor.digest
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_rules() {
        assert_eq!(parse_expiry("3h20m").unwrap(), Some(12_000));
        assert_eq!(parse_expiry("0s").unwrap(), None);
        assert_eq!(
            parse_expiry("2d").unwrap_err().to_string(),
            "invalid argument \"2d\" for \"-e, --expiry\" flag: time: unknown unit \"d\" in duration \"2d\""
        );
        assert_eq!(
            parse_expiry("-1h").unwrap_err().to_string(),
            "expiry duration cannot be a negative value"
        );
        assert_eq!(
            parse_expiry("1500ms").unwrap_err().to_string(),
            "expiry duration supports minimum granularity of seconds"
        );
    }
}
