//! `snapform fmt [--check] [--diff] [FILES...]`: rewrites configuration files in the canonical
//! layout (see `hclfmt.rs` for the rules). Changed file names go to stdout (and, with `--diff`,
//! a unified diff); `--check` changes nothing and exits 3 when some file would change; a file
//! that does not parse is reported with `file:line:column` and left untouched (exit 1).

use super::args::FmtArgs;
use super::{CliError, hclfmt};
use crate::config::{Diagnostic, SourceFile, Sources};
use std::path::{Path, PathBuf};

/// Exit code of `fmt --check` when a file is not formatted (Terraform's).
pub const CHECK_FAILED: u8 = 3;

pub fn run(dir: &Path, a: FmtArgs) -> Result<u8, CliError> {
    if a.files.iter().any(|f| f.as_os_str() == "-") {
        return stdin(&a);
    }
    let files = targets(dir, &a.files, a.recursive)?;
    let mut failed = false;
    let mut changed = 0usize;
    for (path, shown) in &files {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CliError::msg(format!("cannot read {}: {e}", path.display())))?;
        let formatted = match hclfmt::format(&text) {
            Ok(f) => f,
            Err(reason) => {
                eprint!("{}", problem(shown, &text, &reason));
                eprintln!("{shown} was left unchanged.");
                failed = true;
                continue;
            }
        };
        if formatted == text {
            continue;
        }
        changed += 1;
        outln!("{shown}");
        if a.diff {
            outp!("{}", unified_diff(shown, &text, &formatted));
        }
        if !a.check {
            write_keeping_mode(path, &formatted)?;
        }
    }
    if failed {
        return Ok(1);
    }
    if a.check && changed > 0 {
        eprintln!(
            "{changed} file{} not in the canonical format; run snapform fmt to fix {}.",
            if changed == 1 { " is" } else { "s are" },
            if changed == 1 { "it" } else { "them" }
        );
        return Ok(CHECK_FAILED);
    }
    Ok(0)
}

/// `fmt -`: the configuration on stdin, formatted on stdout (with `--check`, only the exit
/// code; with `--diff`, the diff).
fn stdin(a: &FmtArgs) -> Result<u8, CliError> {
    use std::io::Read;
    if a.files.len() != 1 {
        return Err(CliError::msg(
            "fmt: \"-\" (standard input) cannot be combined with other files",
        ));
    }
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| CliError::msg(format!("fmt: cannot read standard input: {e}")))?;
    let formatted = match hclfmt::format(&text) {
        Ok(f) => f,
        Err(reason) => {
            eprint!("{}", problem("<stdin>", &text, &reason));
            return Ok(1);
        }
    };
    if a.diff {
        if formatted != text {
            outp!("{}", unified_diff("<stdin>", &text, &formatted));
        }
    } else if !a.check {
        outp!("{formatted}");
    }
    Ok(if a.check && formatted != text {
        CHECK_FAILED
    } else {
        0
    })
}

/// The files to format: the given ones (a directory stands for its configuration files), or
/// every `*.snap.hcl` and `*.snapvars.hcl` in the working directory; with `recursive`, in
/// subdirectories too (hidden ones skipped). Paths are shown as given.
fn targets(
    dir: &Path,
    given: &[PathBuf],
    recursive: bool,
) -> Result<Vec<(PathBuf, String)>, CliError> {
    if given.is_empty() {
        return config_files(dir, None, recursive);
    }
    let mut out = Vec::new();
    for g in given {
        let path = if g.is_absolute() {
            g.clone()
        } else {
            dir.join(g)
        };
        if path.is_dir() {
            out.extend(config_files(&path, Some(g), recursive)?);
        } else if path.is_file() {
            out.push((path, g.display().to_string()));
        } else {
            return Err(CliError::msg(format!(
                "fmt: expected a file or directory, found nothing at {}",
                path.display()
            )));
        }
    }
    Ok(out)
}

fn config_files(
    dir: &Path,
    shown: Option<&PathBuf>,
    recursive: bool,
) -> Result<Vec<(PathBuf, String)>, CliError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| CliError::msg(format!("cannot read directory {}: {e}", dir.display())))?;
    let paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    let mut out: Vec<(PathBuf, String)> = Vec::new();
    if recursive {
        for p in &paths {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            if p.is_dir() && !name.starts_with('.') {
                let sub = match shown {
                    Some(d) => d.join(&name),
                    None => PathBuf::from(&name),
                };
                out.extend(config_files(p, Some(&sub), true)?);
            }
        }
    }
    out.extend(
        paths
            .into_iter()
            .filter(|p| {
                p.is_file()
                    && p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.ends_with(".snap.hcl") || n.ends_with(".snapvars.hcl"))
            })
            .map(|p| {
                let name = p
                    .file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_default();
                let shown = match shown {
                    Some(d) => d.join(&name).display().to_string(),
                    None => name,
                };
                (p, shown)
            }),
    );
    // A directory without configuration files has nothing to format: not an error
    // (as `terraform fmt` in an empty directory).
    out.sort();
    Ok(out)
}

/// A syntax error as `error: file:line:col: message` with the line and a caret.
fn problem(shown: &str, text: &str, reason: &str) -> String {
    match hcl::edit::parser::parse_body(text) {
        Err(e) => {
            let sources = Sources::new(vec![SourceFile {
                path: shown.to_string(),
                text: text.to_string(),
            }]);
            let off = e.location().offset().min(text.len().saturating_sub(1));
            let msg = e.message().lines().next().unwrap_or("syntax error").trim();
            Diagnostic::at(0, off..off + 1, format!("syntax error: {msg}")).render(&sources)
        }
        Ok(_) => format!("error: {shown}: {reason}\n"),
    }
}

fn unified_diff(shown: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(
            &format!("a/{}", shown.trim_start_matches('/')),
            &format!("b/{}", shown.trim_start_matches('/')),
        )
        .to_string()
}

/// Replaces the file through a temporary file in the same directory, keeping its permissions.
fn write_keeping_mode(path: &Path, text: &str) -> Result<(), CliError> {
    let err = |e: std::io::Error| CliError::msg(format!("cannot write {}: {e}", path.display()));
    let perms = std::fs::metadata(path).map_err(err)?.permissions();
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".fmt{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, text).map_err(err)?;
    std::fs::set_permissions(&tmp, perms).map_err(err)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        err(e)
    })
}
