//! The `workspace` commands over the configuration's backend (src/state/workspaces.rs says
//! where each backend keeps a workspace's state; `selection.rs` which one is current).

use super::Error;
use super::backend::base_settings_of_dir;
pub use super::selection::{ENV, current};
use super::selection::{known, remember, write_selection};
use crate::state::workspaces;
use std::path::Path;
use std::time::Duration;

/// The workspaces of `dir`'s backend, sorted, and the current one.
pub async fn list(dir: &Path) -> Result<(Vec<String>, String), Error> {
    let now = current(dir)?;
    let names = workspaces::list(&base_settings_of_dir(dir)?, &known(dir)?).await?;
    Ok((names, now))
}

/// Creates workspace `name` and selects it.
pub async fn new(dir: &Path, name: &str) -> Result<(), Error> {
    workspaces::create(&base_settings_of_dir(dir)?, name).await?;
    remember(dir, name, false)?;
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
    remember(dir, name, false)?;
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
    remember(dir, name, true)
}
