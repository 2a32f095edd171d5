//! Workspaces, as Terraform has them: one configuration, one state per workspace, in every
//! backend.
//!
//! - `local`: `default` is the state file; workspace `W` is `snapform.state.d/W/<file>` beside
//!   it (Terraform's `terraform.tfstate.d`).
//! - `pg`: a row per workspace in the `states` table, keyed by name (`default` is the block's
//!   `workspace` setting, itself `default` unless set).
//! - `http`: the protocol has one state per address, so workspaces need `{workspace}` in the
//!   addresses (`address = "https://…/state/images-{workspace}"`); it is replaced by the name.
//!   The protocol cannot list states: `list` names the workspaces the caller knows of (the
//!   engine remembers those a directory created or selected).

use super::{Backend, BackendSettings, State, StateError};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The workspace every configuration starts in; it cannot be deleted.
pub const DEFAULT: &str = "default";
/// The directory of the local backend's other workspaces, beside the state file.
pub const LOCAL_DIR: &str = "snapform.state.d";
/// What an `http` address holds to serve several workspaces.
pub const HTTP_PLACEHOLDER: &str = "{workspace}";

fn err(m: impl Into<String>) -> StateError {
    StateError::Workspace(m.into())
}

/// Checks a workspace name: letters, digits, `-` and `_` (a path segment and a URL part as
/// they are), at most 90 characters.
pub fn check_name(name: &str) -> Result<(), StateError> {
    let ok = !name.is_empty()
        && name.len() <= 90
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(err(format!(
            "workspace name {name:?}: expected letters, digits, \"-\" and \"_\" only (at most 90)"
        )))
    }
}

fn local_path(default_path: &Path, name: &str) -> PathBuf {
    if name == DEFAULT {
        return default_path.to_path_buf();
    }
    let dir = default_path.parent().unwrap_or(Path::new("."));
    let file = default_path
        .file_name()
        .map(|f| f.to_os_string())
        .unwrap_or_else(|| "snapform.state.json".into());
    dir.join(LOCAL_DIR).join(name).join(file)
}

/// The settings of workspace `name`, from those of the configuration (the default workspace's).
pub fn settings_for(base: &BackendSettings, name: &str) -> Result<BackendSettings, StateError> {
    check_name(name)?;
    Ok(match base {
        BackendSettings::Local { path } => BackendSettings::Local {
            path: local_path(path, name),
        },
        BackendSettings::Pg(p) => {
            let mut p = p.clone();
            if name != DEFAULT {
                p.workspace = name.to_string();
            }
            BackendSettings::Pg(p)
        }
        BackendSettings::Http(h) => {
            if name != DEFAULT && !h.address.contains(HTTP_PLACEHOLDER) {
                return Err(err(format!(
                    "workspace {name:?}: the http backend keeps one state per address; to use workspaces, put {HTTP_PLACEHOLDER} in address (and lock_address, unlock_address), e.g. address = \"https://…/state/images-{HTTP_PLACEHOLDER}\""
                )));
            }
            let mut h = h.clone();
            h.address = h.address.replace(HTTP_PLACEHOLDER, name);
            for a in [&mut h.lock_address, &mut h.unlock_address]
                .into_iter()
                .flatten()
            {
                *a = a.replace(HTTP_PLACEHOLDER, name);
            }
            BackendSettings::Http(h)
        }
    })
}

/// The workspaces that exist (always `default`), sorted. For the http backend, which cannot
/// list, they are `known` (the workspaces this directory selected or created).
pub async fn list(base: &BackendSettings, known: &[String]) -> Result<Vec<String>, StateError> {
    let mut names = vec![DEFAULT.to_string()];
    match base {
        BackendSettings::Local { path } => {
            let dir = path.parent().unwrap_or(Path::new(".")).join(LOCAL_DIR);
            if let Ok(entries) = std::fs::read_dir(&dir) {
                for e in entries.flatten() {
                    let n = e.file_name().to_string_lossy().to_string();
                    if e.path().is_dir() && check_name(&n).is_ok() {
                        names.push(n);
                    }
                }
            }
        }
        BackendSettings::Pg(p) => {
            let default_row = p.workspace.clone();
            for n in super::pg::workspace_names(p).await? {
                if n != default_row {
                    names.push(n);
                }
            }
        }
        BackendSettings::Http(_) => names.extend(known.iter().cloned()),
    }
    names.sort();
    names.dedup();
    Ok(names)
}

/// Whether workspace `name` exists.
pub async fn exists(base: &BackendSettings, name: &str) -> Result<bool, StateError> {
    if name == DEFAULT {
        return Ok(true);
    }
    match base {
        BackendSettings::Http(_) => {
            // Any address may hold a state; a missing one is a new, empty workspace.
            settings_for(base, name)?;
            Ok(true)
        }
        _ => Ok(list(base, &[]).await?.iter().any(|n| n == name)),
    }
}

/// Creates workspace `name` (an empty state); refuses one that exists.
pub async fn create(base: &BackendSettings, name: &str) -> Result<(), StateError> {
    let s = settings_for(base, name)?;
    if name == DEFAULT || (!matches!(base, BackendSettings::Http(_)) && exists(base, name).await?) {
        return Err(err(format!("workspace {name:?} already exists")));
    }
    match &s {
        BackendSettings::Local { path } => {
            let dir = path.parent().expect("a workspace path has a directory");
            std::fs::create_dir_all(dir).map_err(|e| StateError::Io {
                op: "create",
                path: dir.display().to_string(),
                source: e,
            })?;
        }
        BackendSettings::Pg(p) => {
            if !super::pg::create_workspace(p).await? {
                return Err(err(format!("workspace {name:?} already exists")));
            }
        }
        BackendSettings::Http(_) => {
            // The state appears with the first write.
        }
    }
    Ok(())
}

/// Deletes workspace `name` and its state, holding its lock (up to `lock_timeout`). A state
/// that still records resources is refused unless `force` (they would be forgotten, not
/// destroyed).
pub async fn delete(
    base: &BackendSettings,
    name: &str,
    force: bool,
    lock_timeout: Duration,
) -> Result<(), StateError> {
    if name == DEFAULT {
        return Err(err("the default workspace cannot be deleted"));
    }
    if !exists(base, name).await? {
        return Err(err(format!("workspace {name:?} does not exist")));
    }
    let s = settings_for(base, name)?;
    let mut b = Backend::open(&s, lock_timeout, "workspace-delete").await?;
    let state: State = b.read().await?;
    if !state.resources.is_empty() && !force {
        let n = state.resources.len();
        b.unlock().await?;
        return Err(err(format!(
            "workspace {name:?} is not empty: its state records {n} resource instance(s); destroy them first (snapform destroy in that workspace), or delete with -force to forget them (the cloud objects stay)"
        )));
    }
    match (&mut b, &s) {
        (Backend::Local { .. }, BackendSettings::Local { path }) => {
            let dir = path.parent().expect("a workspace path has a directory");
            b.unlock().await?;
            std::fs::remove_dir_all(dir).map_err(|e| StateError::Io {
                op: "remove",
                path: dir.display().to_string(),
                source: e,
            })?;
        }
        (Backend::Pg(p), _) => {
            p.delete_workspace().await?;
            b.unlock().await?;
        }
        (Backend::Http(h), _) => {
            h.delete_state().await?;
            b.unlock().await?;
        }
        _ => unreachable!("the backend opened from these settings"),
    }
    Ok(())
}
