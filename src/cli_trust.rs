//! Command-line shapes of the trust commands (notary-spec.md §4.9–§4.11): `cert
//! add|list|show|delete`, `policy import|show`, `verify`, `list` and `inspect`.
//! Kept beside cli.rs so that file only gains the enum variants. No type here
//! derives Debug (`--password`).

use clap::{Args, Subcommand};

use crate::cli::LogArgs;

/// Registry flags of the reading commands.
#[derive(Args)]
pub struct RegistryArgs {
    /// Username for registry operations (default from $NOTATION_USERNAME)
    #[arg(short = 'u', long)]
    pub username: Option<String>,
    /// Password for registry operations (default from $NOTATION_PASSWORD)
    #[arg(short = 'p', long)]
    pub password: Option<String>,
    /// Use HTTP protocol while connecting to registries. Should be used only for testing
    #[arg(long = "insecure-registry")]
    pub insecure_registry: bool,
    /// Deprecated: the Referrers API is always tried first
    #[arg(long = "allow-referrers-api", value_name = "bool", num_args = 0..=1, require_equals = true, default_missing_value = "true", hide = true)]
    pub allow_referrers_api: Option<bool>,
}

/// `notation cert add`.
#[derive(Args)]
#[command(override_usage = "notation cert add --type <type> --store <name> [flags] <cert_path>...")]
pub struct CertAddArgs {
    /// Certificate files (PEM or DER; a PEM file may hold several certificates)
    #[arg(value_name = "cert_path")]
    pub paths: Vec<String>,
    /// Trust store type: ca, signingAuthority or tsa
    #[arg(short = 't', long = "type", value_name = "type")]
    pub store_type: Option<String>,
    /// Named store, [a-zA-Z0-9_.-]+
    #[arg(short = 's', long, value_name = "name")]
    pub store: Option<String>,
    /// Logging flags.
    #[command(flatten)]
    pub log: LogArgs,
}

/// `notation cert list`.
#[derive(Args)]
#[command(override_usage = "notation cert list [flags]")]
pub struct CertListArgs {
    /// Only stores of this type: ca, signingAuthority or tsa
    #[arg(short = 't', long = "type", value_name = "type")]
    pub store_type: Option<String>,
    /// Only this named store
    #[arg(short = 's', long, value_name = "name")]
    pub store: Option<String>,
    /// Logging flags.
    #[command(flatten)]
    pub log: LogArgs,
}

/// `notation cert show`.
#[derive(Args)]
#[command(override_usage = "notation cert show --type <type> --store <name> [flags] <cert_file>")]
pub struct CertShowArgs {
    /// The certificate file name in the store
    #[arg(value_name = "cert_file")]
    pub file: Vec<String>,
    /// Trust store type: ca, signingAuthority or tsa
    #[arg(short = 't', long = "type", value_name = "type")]
    pub store_type: Option<String>,
    /// Named store
    #[arg(short = 's', long, value_name = "name")]
    pub store: Option<String>,
    /// Logging flags.
    #[command(flatten)]
    pub log: LogArgs,
}

/// `notation cert delete`.
#[derive(Args)]
#[command(
    override_usage = "notation cert delete --type <type> --store <name> [flags] (--all | <cert_file>)"
)]
pub struct CertDeleteArgs {
    /// The certificate file name in the store
    #[arg(value_name = "cert_file")]
    pub file: Vec<String>,
    /// Trust store type: ca, signingAuthority or tsa
    #[arg(short = 't', long = "type", value_name = "type")]
    pub store_type: Option<String>,
    /// Named store
    #[arg(short = 's', long, value_name = "name")]
    pub store: Option<String>,
    /// Delete the whole named store
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Do not prompt for confirmation
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Logging flags.
    #[command(flatten)]
    pub log: LogArgs,
}

/// `notation policy` subcommands.
#[derive(Subcommand)]
pub enum PolicyCommand {
    /// Import a trust policy from a JSON file (it is validated first)
    Import(PolicyImportArgs),
    /// Show the trust policy in use
    Show(LogArgs),
}

/// `notation policy import`.
#[derive(Args)]
#[command(override_usage = "notation policy import [flags] <file_path>")]
pub struct PolicyImportArgs {
    /// The trust policy file
    #[arg(value_name = "file_path")]
    pub file: Vec<String>,
    /// Replace an existing trust policy without asking
    #[arg(long)]
    pub force: bool,
    /// Logging flags.
    #[command(flatten)]
    pub log: LogArgs,
}

const VERIFY_EXAMPLES: &str = "Examples:

  Verify a signature on an artifact in a registry, referenced by digest:
    notation verify <registry>/<repository>@<digest>

  Verify that the signed user metadata contains a key-value pair:
    notation verify --user-metadata io.wabbit-networks.buildId=123 <registry>/<repository>@<digest>

  Verify an artifact in an OCI image layout, with the trust policy of a registry scope:
    notation verify --oci-layout --scope example.registry.io/hello-world ./hello-world@sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9";

/// `notation verify`.
#[derive(Args)]
#[command(
    override_usage = "notation verify [flags] <reference>",
    long_about = "Verify OCI artifacts\n\nPrerequisite: a trust policy (notation policy import) and trusted certificates (notation cert add).",
    after_help = VERIFY_EXAMPLES
)]
pub struct VerifyArgs {
    /// The artifact: <registry>/<repository>:<tag> or @<digest>, or with --oci-layout <path>:<tag> or <path>@<digest>
    #[arg(value_name = "reference")]
    pub reference: Vec<String>,
    /// {key}={value} pairs that must be in the signed user metadata, repeatable
    #[arg(short = 'm', long = "user-metadata", value_name = "key=value")]
    pub user_metadata: Vec<String>,
    /// {key}={value} pairs passed to verification plugins, repeatable
    #[arg(long = "plugin-config", value_name = "key=value")]
    pub plugin_config: Vec<String>,
    /// Maximum number of signatures to evaluate
    #[arg(long = "max-signatures", default_value_t = crate::commands::reading::DEFAULT_MAX_SIGNATURES,
        value_name = "n", allow_hyphen_values = true)]
    pub max_signatures: i64,
    /// Verify the artifact stored as an OCI image layout
    #[arg(long = "oci-layout")]
    pub oci_layout: bool,
    /// The registry scope (<registry>/<repository>) whose trust policy statement applies, with --oci-layout
    #[arg(long, value_name = "registry/repository")]
    pub scope: Option<String>,
    /// Registry flags.
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Logging flags.
    #[command(flatten)]
    pub log: LogArgs,
}

/// `notation list`.
#[derive(Args)]
#[command(override_usage = "notation list [flags] <reference>")]
pub struct ListArgs {
    /// The artifact: <registry>/<repository>:<tag> or @<digest>, or with --oci-layout <path>:<tag> or <path>@<digest>
    #[arg(value_name = "reference")]
    pub reference: Vec<String>,
    /// Maximum number of signatures to list
    #[arg(long = "max-signatures", default_value_t = crate::commands::reading::DEFAULT_MAX_SIGNATURES,
        value_name = "n", allow_hyphen_values = true)]
    pub max_signatures: i64,
    /// List signatures of an artifact stored as an OCI image layout
    #[arg(long = "oci-layout")]
    pub oci_layout: bool,
    /// Registry flags.
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Logging flags.
    #[command(flatten)]
    pub log: LogArgs,
}

/// `notation inspect`.
#[derive(Args)]
#[command(override_usage = "notation inspect [flags] <reference>")]
pub struct InspectArgs {
    /// The artifact: <registry>/<repository>:<tag> or @<digest>, or with --oci-layout <path>:<tag> or <path>@<digest>
    #[arg(value_name = "reference")]
    pub reference: Vec<String>,
    /// Output format: text or json
    #[arg(short = 'o', long, default_value = "text", value_name = "format")]
    pub output: String,
    /// Maximum number of signatures to inspect
    #[arg(long = "max-signatures", default_value_t = crate::commands::reading::DEFAULT_MAX_SIGNATURES,
        value_name = "n", allow_hyphen_values = true)]
    pub max_signatures: i64,
    /// Inspect signatures of an artifact stored as an OCI image layout
    #[arg(long = "oci-layout")]
    pub oci_layout: bool,
    /// Registry flags.
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Logging flags.
    #[command(flatten)]
    pub log: LogArgs,
}
