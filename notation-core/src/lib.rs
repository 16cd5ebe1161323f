//! # notation-core
//!
//! The vocabulary of the Notary Project signature specification, with no process
//! or network I/O:
//!
//! | module | what | spec |
//! |---|---|---|
//! | [`algorithm`] | key specs, hashes, signing algorithms, JWS/COSE `alg` | §1.4, §2.6 |
//! | [`descriptor`] | OCI descriptors and digests, user metadata rules | §2.1 |
//! | [`payload`] | the Notary payload | §2.1 |
//! | [`envelope`] | JWS and COSE envelopes: build, parse, verify | §2.2–§2.4 |
//! | [`cert`], [`chain`] | certificates and the signing chain rules | §2.7 |
//! | [`signer`] | raw and envelope signers, the checked signing path | §1.9, §1.10 |
//! | [`local_key`] | the built-in file key | §4.4 |
//! | [`manifest`] | the signature manifest and its annotations | §3.1, §3.2 |
//! | [`signature_manifest`] | reading signature manifests of both forms | §3.1 |
//! | [`trust_store`] | trust store types, named stores, certificate rules | §4.10 |
//! | [`dn`] | distinguished names of trusted identities | §4.10 |
//! | [`policy`] | the trust policy document, levels and overrides | §4.10 |
//! | [`verify`] | the verification engine | §4.10 |
//!
//! "spec" refers to `shared/reference/notary-spec.md`, which cites the Notary
//! Project specification and notation's behaviour.

pub mod algorithm;
pub mod cert;
pub mod chain;
pub mod crypto;
pub mod descriptor;
pub mod dn;
pub mod envelope;
pub mod error;
mod gojson;
pub mod hex;
pub mod local_key;
pub mod manifest;
pub mod payload;
pub mod policy;
pub mod signature_manifest;
pub mod signer;
pub mod timefmt;
pub mod trust_store;
pub mod verify;

pub use algorithm::{HashAlgorithm, KeySpec, SignatureAlgorithm};
pub use descriptor::{Descriptor, Digest};
pub use envelope::SignatureFormat;
pub use error::{Error, Result};
