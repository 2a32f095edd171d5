//! Which workspace a working directory is in (`SNAPFORM_WORKSPACE`, else the one selected in
//! `.snapform/environment`, else `default`, as Terraform's `TF_WORKSPACE` and
//! `.terraform/environment`), and the `workspace` commands over the configuration's backend
//! (src/state/workspaces.rs says where each backend keeps a workspace's state).

use super::Error;
use super::backend::base_settings_of_dir;
use crate::state::workspaces::{self, DEFAULT};
use std::path::Path;
use std::time::Duration;

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

fn write_selection(dir: &Path, name: &str) -> Result<(), Error> {
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

/// The workspaces of `dir`'s backend, sorted, and the current one.
pub async fn list(dir: &Path) -> Result<(Vec<String>, String), Error> {
    let now = current(dir)?;
    let names = workspaces::list(&base_settings_of_dir(dir)?, &now).await?;
    Ok((names, now))
}

/// Creates workspace `name` and selects it.
pub async fn new(dir: &Path, name: &str) -> Result<(), Error> {
    workspaces::create(&base_settings_of_dir(dir)?, name).await?;
    write_selection(dir, name)
}

/// Selects workspace `name`; one that does not exist is refused, or created with `or_create`.
/// Returns whether it was created.
pub async fn select(dir: &Path, name: &str, or_create: bool) -> Result<bool, Error> {
    workspaces::check_name(name)?;
    let base = base_settings_of_dir(dir)?;
    let mut created = false;
    if !workspaces::exists(&base, name).await? {
        if !or_create {
            return Err(Error::msg(format!(
                "workspace {name:?} does not exist; create it with: snapform workspace new {name}"
            )));
        }
        workspaces::create(&base, name).await?;
        created = true;
    }
    write_selection(dir, name)?;
    Ok(created)
}

/// Deletes workspace `name` (not the current one, not `default`).
pub async fn delete(dir: &Path, name: &str, force: bool, lock: Duration) -> Result<(), Error> {
    if current(dir)? == name {
        return Err(Error::msg(format!(
            "workspace {name:?} is the current workspace; select another first (snapform workspace select default)"
        )));
    }
    workspaces::delete(&base_settings_of_dir(dir)?, name, force, lock).await?;
    Ok(())
}
