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
mod graph_html;
mod hclfmt;
mod inspect;
mod progress;
mod redact;
mod render;
mod tfjson;

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

/// Terraform's spelling of flags (`-var x=1`, `-out=F`, `-refresh=false`) rewritten to clap's
/// (`--var`, `--out=F`): an argument of one dash and a name of two or more characters that is
/// a long flag somewhere in the command tree. Values of flags (`--var -x` is a value), a lone
/// `-` (stdin) and everything after `--` are left alone.
pub fn normalize_args(args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    use clap::CommandFactory;
    fn walk(cmd: &clap::Command, out: &mut std::collections::HashMap<String, bool>) {
        for a in cmd.get_arguments() {
            if let Some(l) = a.get_long() {
                let takes = a.get_action().takes_values();
                let e = out.entry(l.to_string()).or_insert(false);
                *e |= takes;
            }
        }
        for c in cmd.get_subcommands() {
            walk(c, out);
        }
    }
    let mut longs = std::collections::HashMap::new();
    walk(&args::Cli::command(), &mut longs);
    longs.insert("help".into(), false);
    longs.insert("version".into(), false);
    let mut out = Vec::with_capacity(args.len());
    let mut value_next = false;
    let mut rest = false;
    for (i, a) in args.into_iter().enumerate() {
        let Some(s) = a.to_str().filter(|_| i > 0 && !rest && !value_next) else {
            value_next = false;
            out.push(a);
            continue;
        };
        if s == "--" {
            rest = true;
            out.push(a);
            continue;
        }
        let (dashed, body) = if let Some(b) = s.strip_prefix("--") {
            (true, b)
        } else if let Some(b) = s.strip_prefix('-') {
            (false, b)
        } else {
            out.push(a);
            continue;
        };
        let (name, has_value) = match body.split_once('=') {
            Some((n, _)) => (n, true),
            None => (body, false),
        };
        match longs.get(name) {
            Some(takes) if dashed || name.len() >= 2 => {
                value_next = *takes && !has_value;
                if dashed {
                    out.push(a);
                } else {
                    out.push(format!("-{s}").into());
                }
            }
            _ => out.push(a),
        }
    }
    out
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    // Usage errors exit 1 (as Terraform's do): 2 means "changes present" under
    // --detailed-exitcode, and a misspelt flag must never read as that.
    let cli = match args::Cli::try_parse_from(normalize_args(std::env::args_os().collect())) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(1),
            };
        }
    };
    if std::env::var_os("SNAPFORM_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_env("SNAPFORM_LOG"))
            .with_writer(|| redact::Stderr)
            .try_init();
    } else {
        // By default: warnings, and each retry of a cloud call (what failed, the attempt, the
        // wait), so a slow or failing cloud is never silence. Plain lines, no timestamps.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "warn,snapform::provider::http=info",
            ))
            .without_time()
            .with_target(false)
            .with_ansi(
                std::io::IsTerminal::is_terminal(&std::io::stderr())
                    && !cli.no_color
                    && std::env::var_os("NO_COLOR").is_none(),
            )
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
