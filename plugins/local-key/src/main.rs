//! `notation-local-key`: the reference RAW plugin. All logic is in the library.

fn main() -> std::process::ExitCode {
    plugin_protocol::plugin::main(&notation_local_key::LocalKeyPlugin)
}
