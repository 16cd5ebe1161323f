//! `notation plugin list|uninstall|check` (notary-spec.md §1.14). `check` runs a
//! plugin through the contract and reports every violation in plain words, for
//! plugin authors.

use std::collections::BTreeMap;
use std::io::BufRead as _;

use anyhow::{Result, bail};
use notation_core::signer::{SignOptions, sign_artifact};
use notation_core::{Descriptor, SignatureFormat};
use plugin_protocol::host::{MAX_OUTPUT, Mode, PluginClient, PluginDir, PluginSigner, Runner};
use plugin_protocol::wire::{Capability, PluginConfig};

use super::{exactly_one, now};
use crate::cli::{PluginCheckArgs, PluginUninstallArgs};
use crate::dirs::Dirs;
use crate::env::Env;
use crate::flags::parse_key_values;
use crate::output::Printer;

/// A client for an installed plugin with the default time-out.
pub fn client(dirs: &Dirs, env: &Env, name: &str, printer: &Printer) -> Result<PluginClient> {
    let path = PluginDir::new(&dirs.libexec).executable(name)?;
    let runner = Runner {
        timeout: super::sign::plugin_timeout(None, env)?,
        env: crate::plugins::plugin_env(env),
        max_output: MAX_OUTPUT,
    };
    let p = *printer;
    Ok(PluginClient::new(name, path, runner).with_trace(Box::new(move |l| p.debug(l))))
}

/// Capabilities as notation prints them (a Go slice).
fn capabilities(caps: &[Capability]) -> String {
    format!(
        "[{}]",
        caps.iter()
            .map(Capability::as_str)
            .collect::<Vec<_>>()
            .join(" ")
    )
}

/// `notation plugin list`.
pub fn list(dirs: &Dirs, env: &Env, printer: &Printer) -> Result<()> {
    let mut rows =
        vec![["NAME", "DESCRIPTION", "VERSION", "CAPABILITIES", "ERROR"].map(String::from)];
    for name in PluginDir::new(&dirs.libexec).names() {
        let row = match client(dirs, env, &name, printer)
            .and_then(|c| Ok(c.metadata(&PluginConfig::new())?))
        {
            Ok(m) => [
                name,
                m.description,
                m.version,
                capabilities(&m.capabilities),
                "<nil>".into(),
            ],
            Err(e) => [
                name,
                String::new(),
                String::new(),
                String::new(),
                format!("{e:#}"),
            ],
        };
        rows.push(row);
    }
    for line in crate::table::render(&rows) {
        printer.result(line);
    }
    Ok(())
}

/// `notation plugin uninstall`.
pub fn uninstall(args: PluginUninstallArgs, dirs: &Dirs, printer: &Printer) -> Result<()> {
    let name = exactly_one(&args.name)?.to_owned();
    let pdir = PluginDir::new(&dirs.libexec);
    let path = pdir.expected_path(&name)?;
    let dir = path
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    match std::fs::symlink_metadata(&dir) {
        Ok(m) if m.is_dir() => {}
        _ => bail!(
            "unable to find plugin {name}: to view a list of installed plugins, use \"notation plugin list\""
        ),
    }
    if !args.yes {
        printer.prompt(format_args!(
            "Are you sure you want to uninstall plugin {name:?}? [y/N] "
        ));
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes" | "Yes") {
            printer.result("Operation cancelled.");
            return Ok(());
        }
    }
    std::fs::remove_dir_all(&dir)
        .map_err(|e| anyhow::anyhow!("failed to uninstall plugin {name}: {e}"))?;
    printer.result(format_args!("Successfully uninstalled plugin {name}"));
    Ok(())
}

/// `notation plugin check`: metadata, describe-key, signatures in JWS and COSE, and
/// an ENVELOPE round trip where offered, each through the host's full checks.
pub fn check(args: PluginCheckArgs, dirs: &Dirs, env: &Env, printer: &Printer) -> Result<()> {
    let name = exactly_one(&args.name)?.to_owned();
    let config = parse_key_values("plugin-config", &args.plugin_config)?;
    let mut failures = 0;
    let mut report = |label: &str, outcome: Result<String>| match outcome {
        Ok(detail) => printer.result(format_args!("PASS  {label}: {detail}")),
        Err(e) => {
            failures += 1;
            printer.result(format_args!("FAIL  {label}: {e:#}"));
        }
    };
    let meta = client(dirs, env, &name, printer).and_then(|c| Ok(c.metadata(&config)?));
    let meta = match meta {
        Ok(m) => {
            report(
                "get-plugin-metadata",
                Ok(format!(
                    "{} {}, {}",
                    m.name,
                    m.version,
                    capabilities(&m.capabilities)
                )),
            );
            m
        }
        Err(e) => {
            report("get-plugin-metadata", Err(e));
            bail!("plugin {name} failed the contract check: 1 problem (see above)");
        }
    };
    let target = Descriptor::of(
        "application/vnd.oci.image.manifest.v1+json",
        b"{\"schemaVersion\":2}",
    )
    .with_user_metadata(&BTreeMap::from([(
        "io.example.check".to_owned(),
        "1".to_owned(),
    )]))?;
    let modes = [
        (Mode::Raw, Capability::SignatureGeneratorRaw),
        (Mode::Envelope, Capability::SignatureGeneratorEnvelope),
    ];
    for (mode, cap) in modes.into_iter().filter(|(_, c)| meta.has(c)) {
        let signer = client(dirs, env, &name, printer)
            .and_then(|c| Ok(PluginSigner::new(c, &args.id, config.clone())?.with_mode(mode)?));
        let signer = match signer {
            Ok(s) => s,
            Err(e) => {
                report(cap.as_str(), Err(e));
                continue;
            }
        };
        if mode == Mode::Raw {
            use notation_core::signer::RawSigner as _;
            report(
                "describe-key",
                signer
                    .key_spec()
                    .map(|k| format!("key spec {k}"))
                    .map_err(Into::into),
            );
        }
        for format in [SignatureFormat::Jws, SignatureFormat::Cose] {
            let options = SignOptions {
                format,
                signing_time: now(),
                expiry_seconds: Some(3600),
                signing_agent: super::sign::SIGNING_AGENT.into(),
            };
            let outcome = sign_artifact(signer.signer(), &target, &options)
                .map(|s| {
                    format!(
                        "{} envelope verified, {}",
                        format.as_str().to_uppercase(),
                        s.content.signer_info.algorithm
                    )
                })
                .map_err(Into::into);
            report(&format!("{} {}", cap.as_str(), format.as_str()), outcome);
        }
    }
    if failures > 0 {
        bail!("plugin {name} failed the contract check: {failures} problem(s) (see above)");
    }
    printer.result(format_args!("plugin {name} follows the contract"));
    Ok(())
}
