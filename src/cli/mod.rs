//! The command-line interface: argument parsing, running commands, rendering and exit codes.
//!
//! Architecture Invariant: only this layer prints or exits. Data (plans, outputs) goes to
//! stdout; progress, prompts and errors go to stderr.

/// Writes data to stdout; a closed pipe (`snapform show | head`) ends the program quietly.
macro_rules! outln {
    () => { $crate::cli::write_stdout("\n") };
    ($($t:tt)*) => { $crate::cli::write_stdout(&format!("{}\n", format_args!($($t)*))) };
}
macro_rules! outp {
    ($($t:tt)*) => { $crate::cli::write_stdout(&format!($($t)*)) };
}

mod args;
mod backend;
mod commands;
mod connect;
mod fmt;
mod hclfmt;
mod import;
mod inspect;
mod planning;
mod progress;
mod redact;
mod render;
mod state_cmd;
mod workspace;

use crate::config::{Diagnostic, Sources};
use clap::Parser;
use std::process::ExitCode;

/// An error that ends a command: configuration diagnostics or a plain message.
#[derive(Debug)]
pub enum CliError {
    Diagnostics(Sources, Vec<Diagnostic>),
    Message(String),
}

impl CliError {
    pub fn msg(m: impl Into<String>) -> CliError {
        CliError::Message(m.into())
    }

    fn render(&self) -> String {
        match self {
            CliError::Diagnostics(sources, diags) => {
                let mut out = String::new();
                for d in diags {
                    out.push_str(&d.render(sources));
                    out.push('\n');
                }
                let n = diags.iter().filter(|d| d.is_error()).count();
                out.push_str(&format!(
                    "{n} error{} in the configuration; nothing was changed in the cloud or in state.\n",
                    if n == 1 { "" } else { "s" }
                ));
                out
            }
            CliError::Message(m) => format!("error: {m}\n"),
        }
    }
}

impl From<crate::state::StateError> for CliError {
    fn from(e: crate::state::StateError) -> Self {
        CliError::Message(e.to_string())
    }
}

impl From<crate::refresh::RefreshError> for CliError {
    fn from(e: crate::refresh::RefreshError) -> Self {
        CliError::Message(e.to_string())
    }
}

pub(crate) fn write_stdout(s: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(s.as_bytes()).and_then(|_| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to stdout: {e}");
        std::process::exit(1);
    }
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = args::Cli::parse();
    if std::env::var_os("SNAPFORM_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_env("SNAPFORM_LOG"))
            .with_writer(|| redact::Stderr)
            .try_init();
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match rt.block_on(commands::run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprint!("{}", redact::text(&e.render()));
            ExitCode::from(1)
        }
    }
}
