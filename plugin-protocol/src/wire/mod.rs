//! Wire types of the plugin contract: pure serde data, no I/O.

pub mod base64;
pub mod capability;
pub mod error;
pub mod messages;

pub use base64::Base64Bytes;
pub use capability::Capability;
pub use error::{ErrorCode, PluginError};
pub use messages::*;

/// The commands a signing plugin answers (`argv[1]`).
pub mod command {
    /// `get-plugin-metadata`.
    pub const GET_PLUGIN_METADATA: &str = "get-plugin-metadata";
    /// `describe-key`.
    pub const DESCRIBE_KEY: &str = "describe-key";
    /// `generate-signature`.
    pub const GENERATE_SIGNATURE: &str = "generate-signature";
    /// `generate-envelope`.
    pub const GENERATE_ENVELOPE: &str = "generate-envelope";
}
