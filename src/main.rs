//! The `snapform` binary: a thin entry point that hands over to the CLI layer.
fn main() -> std::process::ExitCode {
    snapform::cli::main()
}
