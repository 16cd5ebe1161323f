//! `notation sign` (specs/cmd/sign.md; spec §1.13, §3.7, §4.6, §4.7).
//!
//! Args → [`SignSettings`] (every flag validated, config.json applied) → [`run`]:
//! resolve the key, resolve the artifact, sign through the checked signing path,
//! store blobs, then list the signature manifest in index.json.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use notation_core::local_key::LocalKey;
use notation_core::manifest::{self, ManifestForm};
use notation_core::signer::{SignOptions, Signer, sign_artifact};
use notation_core::{Descriptor, SignatureFormat};

use notation_registry::client::ManifestPush;
use notation_registry::reference::{Reference, Selector as RegistrySelector};
use notation_registry::referrers::add_to_tag_index;
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

/// Validated `notation sign` settings.
pub struct SignSettings {
    /// The artifact.
    pub target: Target,
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
        let key = match (key, id, plugin) {
            (_, Some(id), Some(plugin)) => {
                if id.is_empty() {
                    bail!("missing key id: --id must not be empty");
                }
                KeySelector::OnDemand { plugin, id }
            }
            (key, _, _) => KeySelector::Named(key),
        };
        let raw = match reference.as_slice() {
            [] => bail!(
                "missing reference to the artifact: use `notation sign --help` to see what parameters are required"
            ),
            [one] => one.clone(),
            more => bail!(
                "notation sign takes one reference, but {} were given: {}",
                more.len(),
                more.join(" ")
            ),
        };
        let target = if oci_layout {
            Target::Layout(LayoutRef::parse(&raw)?)
        } else {
            Target::Registry(Reference::parse(&raw)?)
        };
        let deprecation = allow_referrers_api.map(|on| {
            if on {
                "flag '--allow-referrers-api' is deprecated and will be removed in future versions, use '--force-referrers-tag=false' instead."
            } else {
                "flag '--allow-referrers-api' is deprecated and will be removed in future versions."
            }
        });
        Ok(SignSettings {
            target,
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

/// Runs `notation sign`.
pub fn run(args: SignArgs, env: &Env, dirs: &Dirs, printer: &Printer) -> Result<()> {
    let config = ConfigJson::load(&dirs.config_json())?;
    let settings = SignSettings::resolve(args, &config)?;
    if let Some(w) = settings.deprecation {
        printer.warn(w);
    }
    let key = match &settings.key {
        KeySelector::OnDemand { plugin, id } => {
            printer.info(format_args!("using key {id:?} of plugin {plugin:?}"));
            SigningKey::Plugin(Box::new(plugin_signer(
                plugin,
                id,
                settings.plugin_config.clone(),
                &settings,
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
                        plugin, id, merged, &settings, env, dirs, printer,
                    )?))
                }
            }
        }
    };
    let options = SignOptions {
        format: settings.format,
        signing_time: super::now(),
        expiry_seconds: settings.expiry_seconds,
        signing_agent: key.agent(),
    };
    match settings.target {
        Target::Layout(ref layout_ref) => {
            sign_in_layout(layout_ref, &settings, &key, &options, printer)
        }
        Target::Registry(ref reference) => {
            sign_in_registry(reference, &settings, &key, &options, env, &config, printer)
        }
    }
}

const TAG_WARNING: &str = "because tags are mutable and a tag reference can point to a different artifact than the one signed.";

fn sign_target(
    target: &Descriptor,
    signed_ref: &str,
    settings: &SignSettings,
    key: &SigningKey,
    options: &SignOptions,
    printer: &Printer,
) -> Result<notation_core::signer::SignedEnvelope> {
    let payload_target = target
        .clone()
        .with_user_metadata(&settings.user_metadata)
        .context("invalid --user-metadata")?;
    printer.info(format_args!(
        "signing with a {} envelope ({})",
        settings.format.as_str().to_uppercase(),
        settings.format.media_type()
    ));
    sign_artifact(key.signer(), &payload_target, options).map_err(|e| {
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

fn sign_in_layout(
    layout_ref: &LayoutRef,
    settings: &SignSettings,
    key: &SigningKey,
    options: &SignOptions,
    printer: &Printer,
) -> Result<()> {
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
    let signed = sign_target(&target, &signed_ref, settings, key, options, printer)?;
    store_in_layout(&layout, &target, &signed, printer)
        .with_context(|| format!("failed to store the signature of {signed_ref}"))?;
    printer.result(format_args!("Successfully signed {signed_ref}"));
    Ok(())
}

/// Resolves, signs and pushes: envelope blob, then the manifest by digest (the `{}`
/// config blob only if the registry reports it missing), then the referrers index
/// when the registry has no Referrers API. Nothing is indexed before the manifest
/// it names is stored.
fn sign_in_registry(
    reference: &Reference,
    settings: &SignSettings,
    key: &SigningKey,
    options: &SignOptions,
    env: &Env,
    config: &ConfigJson,
    printer: &Printer,
) -> Result<()> {
    let flags = RegistryFlags {
        username: settings.registry.username.clone(),
        password: settings.registry.password.clone(),
        insecure: settings.registry.insecure,
    };
    let client = registry_setup::client(flags, env, config, printer)?;
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
    let signed = sign_target(&target, &signed_ref, settings, key, options, printer)?;
    let info = &signed.content.signer_info;
    let signing_time = info
        .signing_time
        .or(info.authentic_signing_time)
        .context("the envelope has no signing time")?;
    let m = manifest::build(
        ManifestForm::ConfigMediaType,
        signed.format.media_type(),
        &signed.envelope,
        &target,
        &info.certificate_chain,
        signing_time,
        &signed.annotations,
    );
    let push_failed = || format!("failed to push the signature of {signed_ref}");
    repo.push_blob(&signed.envelope).with_context(push_failed)?;
    let digest = m.descriptor.digest.as_str();
    let subject_indexed =
        push_signature_manifest(&repo, &signed.envelope, digest, &m.bytes, printer)
            .with_context(push_failed)?;
    let use_tag_schema = settings.force_referrers_tag
        || (!subject_indexed
            && repo
                .referrers_api(&target.digest, manifest::ARTIFACT_TYPE_SIGNATURE)
                .with_context(push_failed)?
                .is_none());
    if use_tag_schema {
        let update =
            add_to_tag_index(&repo, &target.digest, &m.descriptor).with_context(push_failed)?;
        for w in update.warnings {
            printer.warn(w);
        }
        printer.info(format_args!(
            "recorded the signature in the referrers tag index ({} write(s))",
            update.writes
        ));
    } else {
        printer.info("the registry indexes the signature through the Referrers API");
    }
    printer.debug(format_args!(
        "{} registry requests, {} token requests",
        client.request_count(),
        client.token_fetches()
    ));
    printer.result(format_args!("Successfully signed {signed_ref}"));
    printer.result(format_args!("Pushed the signature to {name}@{digest}"));
    Ok(())
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
    // The created annotation is the envelope's signing time (spec §3.2), which an
    // envelope signer sets itself.
    let info = &signed.content.signer_info;
    let signing_time = info
        .signing_time
        .or(info.authentic_signing_time)
        .context("the envelope has no signing time")?;
    let m = manifest::build(
        ManifestForm::ConfigMediaType,
        signed.format.media_type(),
        &signed.envelope,
        subject,
        &signed.content.signer_info.certificate_chain,
        signing_time,
        &signed.annotations,
    );
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
