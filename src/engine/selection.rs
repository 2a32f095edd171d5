//! Which workspace a working directory is in: `SNAPFORM_WORKSPACE`, else the one selected in
//! `.snapform/environment`, else `default` (as Terraform's `TF_WORKSPACE` and
//! `.terraform/environment`).

use super::Error;
use crate::state::workspaces::{self, DEFAULT};
use std::path::Path;

/// The environment variable that chooses the workspace, over the selected one.
pub const ENV: &str = "SNAPFORM_WORKSPACE";

fn selection_file(dir: &Path) -> std::path::PathBuf {
    dir.join(".snapform").join("environment")
}

/// The current workspace of `dir`.
pub fn current(dir: &Path) -> Result<String, Error> {
    if let Some(v) = std::env::var(ENV).ok().filter(|v| !v.is_empty()) {
        workspaces::check_name(&v).map_err(|e| Error::msg(format!("{ENV}: {e}")))?;
        return Ok(v);
    }
    let file = selection_file(dir);
    match std::fs::read_to_string(&file) {
        Ok(t) => {
            let name = t.trim().to_string();
            workspaces::check_name(&name)
                .map_err(|e| Error::msg(format!("{}: {e}", file.display())))?;
            Ok(name)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(DEFAULT.into()),
        Err(e) => Err(Error::msg(format!("cannot read {}: {e}", file.display()))),
    }
}

pub(super) fn write_selection(dir: &Path, name: &str) -> Result<(), Error> {
    if let Some(v) = std::env::var(ENV).ok().filter(|v| !v.is_empty())
        && v != name
    {
        return Err(Error::msg(format!(
            "{ENV} is set to {v:?}, which overrides the selected workspace; unset it to select {name:?}"
        )));
    }
    let file = selection_file(dir);
    let parent = file.parent().expect("has a parent");
    std::fs::create_dir_all(parent)
        .map_err(|e| Error::msg(format!("cannot create {}: {e}", parent.display())))?;
    std::fs::write(&file, format!("{name}\n"))
        .map_err(|e| Error::msg(format!("cannot write {}: {e}", file.display())))
}

fn known_file(dir: &Path) -> std::path::PathBuf {
    dir.join(".snapform").join("workspaces")
}

/// The workspaces this directory created, selected or copied (what `workspace list` shows for
/// a backend that cannot list, as http), and the current one.
pub fn known(dir: &Path) -> Result<Vec<String>, Error> {
    let mut names: Vec<String> = std::fs::read_to_string(known_file(dir))
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|n| workspaces::check_name(n).is_ok())
        .map(str::to_string)
        .collect();
    names.push(current(dir)?);
    names.sort();
    names.dedup();
    Ok(names)
}

/// Adds (or with `forget`, removes) `name` in the known workspaces.
pub fn remember(dir: &Path, name: &str, forget: bool) -> Result<(), Error> {
    let file = known_file(dir);
    let mut names: Vec<String> = std::fs::read_to_string(&file)
        .unwrap_or_default()
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|n| !n.is_empty() && n != name)
        .collect();
    if !forget {
        names.push(name.to_string());
    }
    names.sort();
    if let Some(parent) = file.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    std::fs::write(
        &file,
        names.iter().map(|n| format!("{n}\n")).collect::<String>(),
    )
    .map_err(|e| Error::msg(format!("cannot write {}: {e}", file.display())))
}
