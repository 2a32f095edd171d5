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
mod commands;
mod fmt;
mod hclfmt;
mod inspect;
mod progress;
mod redact;
mod render;

use clap::Parser;
use std::process::ExitCode;

/// An error that ends a command: configuration diagnostics or a plain message.
pub use crate::engine::Error as CliError;

/// The error as the user reads it.
fn render_error(e: &CliError) -> String {
    {
        match e {
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
            eprint!("{}", redact::text(&render_error(&e)));
            ExitCode::from(1)
        }
    }
}
