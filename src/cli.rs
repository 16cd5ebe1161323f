//! Command-line definitions (clap). Only shapes live here; meaning is given in each
//! command's settings. Flag names, short forms and help follow notation's reference
//! pages (specs/cmd/*.md). No type here derives Debug: `--password` must never be
//! printable by accident.

use clap::{Args, Parser, Subcommand};

use crate::cli_trust::{
    CertAddArgs, CertDeleteArgs, CertListArgs, CertShowArgs, InspectArgs, ListArgs, PolicyCommand,
    VerifyArgs,
};

/// Notation - a tool to sign and verify artifacts.
#[derive(Parser)]
#[command(
    name = "notation",
    about = "Notation - a tool to sign and verify artifacts",
    version,
    disable_help_subcommand = true
)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Logging flags shared by every command.
#[derive(Args, Clone, Copy)]
pub struct LogArgs {
    /// Debug mode: also log every file, HTTP and plugin exchange (never secrets)
    #[arg(short = 'd', long)]
    pub debug: bool,
    /// Verbose mode: say what is happening
    #[arg(short = 'v', long)]
    pub verbose: bool,
}

/// Top-level commands.
#[derive(Subcommand)]
pub enum Command {
    /// Sign artifacts
    Sign(SignArgs),
    /// Manage keys used for signing
    Key {
        /// Key command.
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Manage certificates in trust store
    #[command(alias = "certificate")]
    Cert {
        /// Certificate command.
        #[command(subcommand)]
        command: CertCommand,
    },
    /// Manage plugins
    Plugin {
        /// Plugin command.
        #[command(subcommand)]
        command: PluginCommand,
    },
    /// Verify OCI artifacts
    Verify(VerifyArgs),
    /// List signatures of the signed artifact
    #[command(alias = "ls")]
    List(ListArgs),
    /// Inspect all signatures associated with the signed artifact
    Inspect(InspectArgs),
    /// Manage trust policy configuration
    Policy {
        /// Policy command.
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Log in to a registry
    Login(LoginArgs),
    /// Log out from a registry
    Logout(LogoutArgs),
    /// Show the notation version information
    Version(LogArgs),
}

/// `notation login`.
#[derive(Args)]
#[command(override_usage = "notation login [flags] <server>")]
pub struct LoginArgs {
    /// The registry, host[:port]
    #[arg(value_name = "server")]
    pub registry: Vec<String>,
    /// Username for the registry (empty with a password: the password is an identity token)
    #[arg(short = 'u', long)]
    pub username: Option<String>,
    /// Password for the registry (prefer --password-stdin)
    #[arg(short = 'p', long)]
    pub password: Option<String>,
    /// Take the password from stdin
    #[arg(long = "password-stdin")]
    pub password_stdin: bool,
    /// Use HTTP protocol while connecting to registries. Should be used only for testing
    #[arg(long = "insecure-registry")]
    pub insecure_registry: bool,
    /// Logging flags.
    #[command(flatten)]
    pub log: LogArgs,
}

/// `notation logout`.
#[derive(Args)]
#[command(override_usage = "notation logout [flags] <server>")]
pub struct LogoutArgs {
    /// The registry, host[:port]
    #[arg(value_name = "server")]
    pub registry: Vec<String>,
    /// Logging flags.
    #[command(flatten)]
    pub log: LogArgs,
}

const SIGN_EXAMPLES: &str = "Examples:

  Sign an artifact in an OCI image layout, referenced by digest, with the default key:
    notation sign --oci-layout ./hello-world@sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9

  Sign an artifact in an OCI image layout, referenced by tag (resolved to a digest first):
    notation sign --oci-layout ./hello-world:v1

  Sign with the COSE envelope format instead of JWS:
    notation sign --signature-format cose --oci-layout ./hello-world:v1

  Sign with a named local key:
    notation sign --key <key_name> --oci-layout ./hello-world:v1

  Sign and set an expiry of 24 hours:
    notation sign --expiry 24h --oci-layout ./hello-world:v1

  Sign and add user metadata to the signed payload:
    notation sign --user-metadata io.wabbit-networks.buildId=123 --oci-layout ./hello-world:v1

  Sign an artifact in a registry (default key, JWS):
    notation sign <registry>/<repository>@<digest>

  Sign with an on-demand remote key from a plugin:
    notation sign --plugin <plugin_name> --id <remote_key_id> <registry>/<repository>@<digest>

  Sign several artifacts in one call, eight at a time:
    notation sign --max-concurrency 8 <registry>/<repository>@<digest> <registry>/<repository>@<digest> ...";

/// `notation sign` flags (specs/cmd/sign.md).
#[derive(Args)]
#[command(
    override_usage = "notation sign [flags] <reference>...",
    long_about = "Sign artifacts\n\nPrerequisite: a signing key configured with 'notation key add' or 'notation cert generate-test --default'.",
    after_help = SIGN_EXAMPLES
)]
pub struct SignArgs {
    /// The artifacts to sign: <registry>/<repository>:<tag> or @<digest>, or with --oci-layout <path>:<tag> or <path>@<digest>; several are signed concurrently
    #[arg(value_name = "reference")]
    pub reference: Vec<String>,
    /// How many references to sign at once when several are given (1 to 256)
    #[arg(long = "max-concurrency", value_name = "n")]
    pub max_concurrency: Option<String>,
    /// Signing key name, for a key previously added to notation's key list; mutually exclusive with --id and --plugin
    #[arg(short = 'k', long)]
    pub key: Option<String>,
    /// Key id (required if --plugin is set); mutually exclusive with --key
    #[arg(long)]
    pub id: Option<String>,
    /// Signing plugin name (required if --id is set); mutually exclusive with --key
    #[arg(long)]
    pub plugin: Option<String>,
    /// {key}={value} pairs passed as is to the plugin, repeatable
    #[arg(long = "plugin-config", value_name = "key=value")]
    pub plugin_config: Vec<String>,
    /// Signature envelope format, options: "jws", "cose" (default "jws", or config.json signatureFormat)
    #[arg(long = "signature-format", value_name = "format")]
    pub signature_format: Option<String>,
    /// Optional expiry that provides a "best by use" time for the artifact, in Go duration syntax, e.g. 24h, 90m, 3h20m
    #[arg(short = 'e', long, value_name = "duration", allow_hyphen_values = true)]
    pub expiry: Option<String>,
    /// {key}={value} pairs added to the signed payload's annotations, repeatable
    #[arg(short = 'm', long = "user-metadata", value_name = "key=value")]
    pub user_metadata: Vec<String>,
    /// Sign the artifact stored as an OCI image layout
    #[arg(long = "oci-layout")]
    pub oci_layout: bool,
    /// Username for registry operations (default from $NOTATION_USERNAME)
    #[arg(short = 'u', long)]
    pub username: Option<String>,
    /// Password for registry operations (default from $NOTATION_PASSWORD)
    #[arg(short = 'p', long)]
    pub password: Option<String>,
    /// Use HTTP protocol while connecting to registries. Should be used only for testing
    #[arg(long = "insecure-registry")]
    pub insecure_registry: bool,
    /// Force to store signatures using the referrers tag schema
    #[arg(long = "force-referrers-tag", value_name = "bool", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub force_referrers_tag: Option<bool>,
    /// Deprecated: use --force-referrers-tag=false
    #[arg(long = "allow-referrers-api", value_name = "bool", num_args = 0..=1, require_equals = true, default_missing_value = "true", hide = true)]
    pub allow_referrers_api: Option<bool>,
    /// How long a plugin may take per command (Go duration, default 5m; or NOTATION_PLUGIN_TIMEOUT in seconds)
    #[arg(long = "plugin-timeout", value_name = "duration")]
    pub plugin_timeout: Option<String>,
    /// Logging flags.
    #[command(flatten)]
    pub log: LogArgs,
}

/// `notation key` subcommands.
#[derive(Subcommand)]
pub enum KeyCommand {
    /// Add a signing key to the key list
    Add(KeyAddArgs),
    /// List the keys in the key list
    #[command(alias = "ls")]
    List(LogArgs),
    /// Update a signing key
    #[command(alias = "set")]
    Update(KeyUpdateArgs),
    /// Remove keys from the key list (the key files are left in place)
    #[command(alias = "rm", alias = "remove")]
    Delete(KeyDeleteArgs),
}

/// `notation key add`.
#[derive(Args)]
#[command(
    override_usage = "notation key add --key-file <pem> --cert-file <pem> [--default] <name>\n       notation key add --plugin <plugin> --id <key_id> [--plugin-config k=v]... [--default] <name>"
)]
pub struct KeyAddArgs {
    /// Name of the key
    #[arg(value_name = "name")]
    pub name: Vec<String>,
    /// Private key PEM file (PKCS#8, SEC1 EC or PKCS#1 RSA) of a local key
    #[arg(long = "key-file", value_name = "path")]
    pub key_file: Option<String>,
    /// Certificate chain PEM file, leaf first, of a local key
    #[arg(long = "cert-file", value_name = "path")]
    pub cert_file: Option<String>,
    /// Signing plugin name of a remote key
    #[arg(long)]
    pub plugin: Option<String>,
    /// Key id of a remote key
    #[arg(long)]
    pub id: Option<String>,
    /// {key}={value} pairs passed to the plugin, repeatable
    #[arg(long = "plugin-config", value_name = "key=value")]
    pub plugin_config: Vec<String>,
    /// Mark as the default signing key
    #[arg(long)]
    pub default: bool,
    /// Logging flags.
    #[command(flatten)]
    pub log: LogArgs,
}

/// `notation key update`.
#[derive(Args)]
pub struct KeyUpdateArgs {
    /// Name of the key
    #[arg(value_name = "name")]
    pub name: Vec<String>,
    /// Mark as the default signing key
    #[arg(long)]
    pub default: bool,
    /// Logging flags.
    #[command(flatten)]
    pub log: LogArgs,
}

/// `notation key delete`.
#[derive(Args)]
pub struct KeyDeleteArgs {
    /// Names of the keys
    #[arg(value_name = "name")]
    pub names: Vec<String>,
    /// Logging flags.
    #[command(flatten)]
    pub log: LogArgs,
}

/// `notation cert` subcommands.
#[derive(Subcommand)]
pub enum CertCommand {
    /// Generate a test RSA key and a corresponding self-signed certificate
    GenerateTest(GenerateTestArgs),
    /// Add certificates to the trust store
    Add(CertAddArgs),
    /// List certificates in the trust store
    #[command(alias = "ls")]
    List(CertListArgs),
    /// Show certificate details given trust store type, named store, and certificate file name
    Show(CertShowArgs),
    /// Delete certificates from the trust store
    #[command(alias = "rm")]
    Delete(CertDeleteArgs),
}

/// `notation cert generate-test`.
#[derive(Args)]
#[command(override_usage = "notation cert generate-test [flags] <common_name>")]
pub struct GenerateTestArgs {
    /// Common name of the certificate, also the key and trust store name
    #[arg(value_name = "common_name")]
    pub name: Vec<String>,
    /// RSA key bits
    #[arg(short = 'b', long, default_value_t = 2048)]
    pub bits: u32,
    /// Mark as the default signing key
    #[arg(long)]
    pub default: bool,
    /// Logging flags.
    #[command(flatten)]
    pub log: LogArgs,
}

/// `notation plugin` subcommands.
#[derive(Subcommand)]
pub enum PluginCommand {
    /// Install a plugin
    #[command(alias = "add")]
    Install(PluginInstallArgs),
    /// List installed plugins
    #[command(alias = "ls")]
    List(LogArgs),
    /// Uninstall a plugin
    #[command(alias = "rm", alias = "remove")]
    Uninstall(PluginUninstallArgs),
    /// Run a plugin through the plugin contract and report every violation
    Check(PluginCheckArgs),
}

const PLUGIN_INSTALL_EXAMPLES: &str = "Examples:

  Install a plugin from a .tar.gz or .zip archive, or from a single plugin executable file:
    notation plugin install --file wabbit-plugin-v1.0.tar.gz
    notation plugin install --file notation-wabbit-plugin

  Install a plugin from a file, checking its SHA-256 checksum:
    notation plugin install --file wabbit-plugin-v1.0.zip --sha256sum 113062a462674a0e35cb5cad75a0bb2ea16e9537025531c0fd705018fcdbc17e

  Install an older version over a newer one, or replace a broken plugin:
    notation plugin install --file wabbit-plugin-v1.0.zip --force

  Install a plugin from an HTTPS URL (the SHA-256 checksum is required):
    notation plugin install --url https://wabbit-networks.com/installer/linux/amd64/wabbit-plugin-v1.0.tar.gz --sha256sum f8a75d9234db90069d9eb5660e5374820edf36d710bd063f4ef81e7063d3810b";

/// `notation plugin install` (notary-spec.md §1.14). As in notation, `--file` and
/// `--url` are switches naming the kind of `<plugin_source>`.
#[derive(Args)]
#[command(
    override_usage = "notation plugin install [flags] <--file|--url> <plugin_source>",
    after_help = PLUGIN_INSTALL_EXAMPLES
)]
pub struct PluginInstallArgs {
    /// The plugin source: a file path with --file, an HTTPS URL with --url
    #[arg(value_name = "plugin_source")]
    pub source: Vec<String>,
    /// Install plugin from a file on file system
    #[arg(long)]
    pub file: bool,
    /// Install plugin from an HTTPS URL. The plugin download timeout is 10m0s
    #[arg(long)]
    pub url: bool,
    /// Must match SHA256 of the plugin source, required when "--url" flag is set
    #[arg(long, value_name = "string")]
    pub sha256sum: Option<String>,
    /// Force the installation of the plugin (replace a newer, equal or broken one)
    #[arg(long)]
    pub force: bool,
    /// Logging flags.
    #[command(flatten)]
    pub log: LogArgs,
}

/// `notation plugin uninstall`.
#[derive(Args)]
#[command(override_usage = "notation plugin uninstall [flags] <plugin_name>")]
pub struct PluginUninstallArgs {
    /// Plugin name
    #[arg(value_name = "plugin_name")]
    pub name: Vec<String>,
    /// Do not prompt for confirmation
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Logging flags.
    #[command(flatten)]
    pub log: LogArgs,
}

/// `notation plugin check`.
#[derive(Args)]
#[command(override_usage = "notation plugin check [flags] --id <key_id> <plugin_name>")]
pub struct PluginCheckArgs {
    /// Plugin name
    #[arg(value_name = "plugin_name")]
    pub name: Vec<String>,
    /// Key id to sign with
    #[arg(long, required = true)]
    pub id: String,
    /// {key}={value} pairs passed to the plugin, repeatable
    #[arg(long = "plugin-config", value_name = "key=value")]
    pub plugin_config: Vec<String>,
    /// Logging flags.
    #[command(flatten)]
    pub log: LogArgs,
}
