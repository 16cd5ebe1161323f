//! # plugin-protocol
//!
//! The Notary Project plugin contract (notary-spec.md §1) in one crate:
//!
//! | module | what |
//! |---|---|
//! | [`wire`] | requests, responses, capabilities and errors as pure serde data |
//! | [`plugin`] | the SDK: implement [`plugin::SignPlugin`], call [`plugin::main`] |
//! | [`host`] | discovery, the process runner (caps, time-out, kill), the typed client, and [`host::PluginSigner`] |
//!
//! See README.md beside this crate for the contract with an annotated request and
//! response for every command.

pub mod host;
pub mod plugin;
pub mod wire;
