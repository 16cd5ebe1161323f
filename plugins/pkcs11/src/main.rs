//! `notation-pkcs11`: signs with keys in PKCS#11 tokens. All logic is in the library.

fn main() -> std::process::ExitCode {
    plugin_protocol::plugin::main(&notation_pkcs11::Pkcs11Plugin)
}
