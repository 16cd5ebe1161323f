//! `notation`: sign artifacts with the Notary Project's formats.
//!
//! main parses the command line, reads the environment once, dispatches to one
//! command function, and turns any error into one `Error:` line and exit code 1.

mod artifact;
mod cli;
mod cli_trust;
mod commands;
mod config_json;
mod dirs;
mod duration;
mod env;
mod flags;
mod fsutil;
mod inspect_view;
mod layout;
mod layout_ref;
mod output;
mod plugins;
mod referrers_cache;
mod registry_setup;
mod signing_keys;
mod table;
mod test_cert;
mod tree;
mod trust_policy;
mod trust_store;

use std::process::ExitCode;

use anyhow::Result;
use clap::Parser as _;
use clap::error::{ContextKind, ContextValue, ErrorKind};

use cli::{CertCommand, Cli, Command, KeyCommand, PluginCommand};
use cli_trust::PolicyCommand;
use output::Printer;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            Printer::help(e.render());
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            Printer::error(&anyhow::anyhow!(clap_message(&e)));
            return ExitCode::FAILURE;
        }
    };
    match run(cli, &env::Env::from_process()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            Printer::error(&e);
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli, env: &env::Env) -> Result<()> {
    let dirs = dirs::Dirs::from_env(env)?;
    match cli.command {
        Command::Sign(args) => {
            let p = commands::printer(args.log);
            commands::sign::run(args, env, &dirs, &p)
        }
        Command::Key { command } => match command {
            KeyCommand::Add(args) => {
                let p = commands::printer(args.log);
                commands::key::add(args, &dirs, &p)
            }
            KeyCommand::List(log) => commands::key::list(&dirs, &commands::printer(log)),
            KeyCommand::Update(args) => {
                let p = commands::printer(args.log);
                commands::key::update(args, &dirs, &p)
            }
            KeyCommand::Delete(args) => {
                let p = commands::printer(args.log);
                commands::key::delete(args, &dirs, &p)
            }
        },
        Command::Cert { command } => match command {
            CertCommand::GenerateTest(args) => {
                let p = commands::printer(args.log);
                commands::cert::generate_test(args, &dirs, &p)
            }
            CertCommand::Add(args) => {
                let p = commands::printer(args.log);
                commands::truststore::add(args, &dirs, &p)
            }
            CertCommand::List(args) => {
                let p = commands::printer(args.log);
                commands::truststore::list(args, &dirs, &p)
            }
            CertCommand::Show(args) => {
                let p = commands::printer(args.log);
                commands::truststore::show(args, &dirs, &p)
            }
            CertCommand::Delete(args) => {
                let p = commands::printer(args.log);
                commands::truststore::delete(args, &dirs, &p)
            }
        },
        Command::Plugin { command } => match command {
            PluginCommand::Install(args) => {
                let p = commands::printer(args.log);
                commands::plugin_install::install(args, &dirs, env, &p)
            }
            PluginCommand::List(log) => commands::plugin::list(&dirs, env, &commands::printer(log)),
            PluginCommand::Uninstall(args) => {
                let p = commands::printer(args.log);
                commands::plugin::uninstall(args, &dirs, &p)
            }
            PluginCommand::Check(args) => {
                let p = commands::printer(args.log);
                commands::plugin::check(args, &dirs, env, &p)
            }
        },
        Command::Verify(args) => {
            let p = commands::printer(args.log);
            commands::verify::run(args, env, &dirs, &p)
        }
        Command::List(args) => {
            let p = commands::printer(args.log);
            commands::list::run(args, env, &dirs, &p)
        }
        Command::Inspect(args) => {
            let p = commands::printer(args.log);
            commands::inspect::run(args, env, &dirs, &p)
        }
        Command::Policy { command } => match command {
            PolicyCommand::Import(args) => {
                let p = commands::printer(args.log);
                commands::policy::import(args, &dirs, &p)
            }
            PolicyCommand::Show(log) => commands::policy::show(&dirs, &commands::printer(log)),
        },
        Command::Login(args) => {
            let p = commands::printer(args.log);
            commands::login::login(args, env, &dirs, &p)
        }
        Command::Logout(args) => {
            let p = commands::printer(args.log);
            commands::login::logout(args, env, &dirs, &p)
        }
        Command::Version(log) => {
            let p = commands::printer(log);
            p.result("Notation - a tool to sign and verify artifacts.\n");
            p.result(format_args!("Version:     {}", env!("CARGO_PKG_VERSION")));
            p.result(format_args!(
                "Signing agent: {}",
                commands::sign::SIGNING_AGENT
            ));
            Ok(())
        }
    }
}

/// A clap parse error as one line, in cobra's words where notation users know them.
fn clap_message(e: &clap::Error) -> String {
    let arg = || match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(s)) => s.clone(),
        _ => String::new(),
    };
    let value = || match e.get(ContextKind::InvalidValue) {
        Some(ContextValue::String(s)) => s.clone(),
        _ => String::new(),
    };
    match e.kind() {
        ErrorKind::UnknownArgument => {
            let a = arg();
            if a.starts_with("--") || !a.starts_with('-') {
                format!("unknown flag: {a}")
            } else {
                format!(
                    "unknown shorthand flag: {:?} in {a}",
                    a.trim_start_matches('-')
                )
            }
        }
        ErrorKind::InvalidSubcommand => format!("unknown command {:?} for \"notation\"", value()),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            format!("invalid argument {:?} for {:?} flag", value(), arg())
        }
        ErrorKind::NoEquals => format!("flag {} takes its value as {}=<value>", arg(), arg()),
        ErrorKind::MissingSubcommand | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            "missing command: run 'notation --help' to see the commands".into()
        }
        _ => {
            let text = e.render().to_string();
            let first = text.lines().next().unwrap_or("invalid arguments");
            first.trim_start_matches("error: ").to_owned()
        }
    }
}
