//! The host side: find plugins, run them safely, and use them as signers.

pub mod client;
pub mod discovery;
pub mod error;
pub mod runner;
pub mod signer;

pub use client::PluginClient;
pub use discovery::PluginDir;
pub use error::HostError;
pub use runner::{MAX_OUTPUT, Runner};
pub use signer::{Mode, PluginSigner};
