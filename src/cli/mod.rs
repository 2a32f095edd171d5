//! The command-line interface: argument parsing, rendering, prompts and exit codes.
pub fn main() -> std::process::ExitCode {
    std::process::ExitCode::SUCCESS
}
