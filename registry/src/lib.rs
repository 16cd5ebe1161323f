//! # notation-registry
//!
//! The OCI distribution client behind `notation sign <registry>/<repo>@<digest>`:
//!
//! | module | what | spec |
//! |---|---|---|
//! | [`reference`] | `<registry>/<repository>[:<tag>\|@<digest>]` | notary-spec.md §3.6 |
//! | [`credentials`] | -u/-p, env, docker and notation config, credential helpers, login storage | §4.3 |
//! | [`http`] | transport: scheme, time-outs, retries | §3.3 |
//! | [`auth`] | challenges, tokens (basic and identity-token grants) | |
//! | [`client`] | resolve, push blobs and manifests, Referrers API, delete | §3.3, §3.4 |
//! | [`referrers`] | the referrers tag schema, race-safe | §3.4 |
//! | [`discover`] | finding and reading signatures: Referrers API (paged), tag schema | §3.4 |
//! | [`secret`] | redacted secrets | |
//! | [`error`] | typed errors | |
//!
//! Plain data and blocking I/O; nothing here prints.

pub mod auth;
pub mod client;
pub mod credentials;
pub mod discover;
pub mod error;
pub mod http;
pub mod reference;
pub mod referrers;
pub mod secret;

pub use error::{RegistryError, Result};
