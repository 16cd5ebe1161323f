//! Conformance tests that run the built `notation` binary as a user would.
//! Build it first: `cargo build --workspace --bins` (the README's test command does).
//! Each test's doc comment names the rule it checks.
#![allow(clippy::print_stderr)]

mod harness;
mod registry;

mod cases {
    mod batch_sign;
    mod cert;
    mod interop;
    mod key;
    mod login;
    mod pkcs11;
    mod plugin_install;
    mod plugin_manage;
    mod plugin_sign;
    mod referrers_cache;
    mod registry_sign;
    mod sign;
    mod sign_errors;
    mod trust_store;
    mod verify_layout;
    mod verify_registry;
    mod verify_support;
}
