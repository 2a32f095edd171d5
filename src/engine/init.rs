//! `snapform init`: prepares `.snapform/`, records the backend the configuration declares
//! (`backend.rs`: `.snapform/backend.json`), and when that backend changed since the last
//! `init`, copies the state of every workspace to the new one (`-migrate-state`, as Terraform),
//! keeping lineage and serial, or accepts the new backend as it is (`-reconfigure`).

use super::Error;
use super::backend::{Declared, record, recorded};
use super::workspace::STATE_FILE;
use crate::config;
use crate::state::Backend;
use crate::state::workspaces::{self, DEFAULT};
use std::path::Path;
use std::time::Duration;

/// The `init` flags.
#[derive(Clone, Debug, Default)]
pub struct InitOptions {
    pub migrate_state: bool,
    pub reconfigure: bool,
    /// Overwrite a state of another lineage (or a newer serial) in the new backend.
    pub force_copy: bool,
    pub lock_timeout: Duration,
}

/// Runs `init` in `dir`; returns what to tell the user.
pub async fn init(dir: &Path, o: &InitOptions) -> Result<Vec<String>, Error> {
    std::fs::create_dir_all(dir.join(".snapform"))
        .map_err(|e| Error::msg(format!("cannot create .snapform: {e}")))?;
    let sources = super::read_sources(dir)?;
    let files = sources.files.len();
    let (cfg, _) = config::load(sources);
    let now = Declared::of(&cfg)?;
    // Before any init recorded a backend, a local state file means the state was local.
    let was = match recorded(dir)? {
        Some(d) => Some(d),
        None if now.kind != "local" && dir.join(STATE_FILE).exists() => Some(Declared {
            kind: "local".into(),
            values: Default::default(),
        }),
        None => None,
    };
    let mut notes = Vec::new();
    if let Some(was) = was.filter(|w| *w != now) {
        if o.migrate_state {
            // Both backends are read and written with the configuration's keys (a migration
            // of an encrypted state stays encrypted).
            super::backend::use_encryption(&cfg)?;
            migrate(dir, &was, &now, o, &mut notes).await?;
        } else if o.reconfigure {
            notes.push(format!(
                "The backend is now {}; the state in {} was not copied and is left as it is.",
                now.describe(),
                was.describe()
            ));
        } else {
            return Err(Error::msg(format!(
                "the backend changed (from {} to {}): snapform init -migrate-state copies the state of every workspace to the new backend; snapform init -reconfigure uses the new backend as it is",
                was.describe(),
                now.describe()
            )));
        }
    }
    record(dir, &now)?;
    notes.push(format!(
        "snapform initialized in {} ({files} configuration file{}, backend {}).",
        dir.display(),
        if files == 1 { "" } else { "s" },
        now.describe()
    ));
    Ok(notes)
}

async fn migrate(
    dir: &Path,
    from: &Declared,
    to: &Declared,
    o: &InitOptions,
    notes: &mut Vec<String>,
) -> Result<(), Error> {
    let (old_base, new_base) = (from.settings(dir)?, to.settings(dir)?);
    let known = super::selection::known(dir)?;
    for w in workspaces::list(&old_base, &known).await? {
        super::selection::remember(dir, &w, false)?;
        let old = workspaces::settings_for(&old_base, &w)?;
        let new = workspaces::settings_for(&new_base, &w)?;
        let mut src = Backend::open(&old, o.lock_timeout, "init").await?;
        let state = src.read().await?;
        if state.serial == 0 && state.resources.is_empty() {
            src.unlock().await?;
            if w != DEFAULT && !workspaces::exists(&new_base, &w).await? {
                workspaces::create(&new_base, &w).await?;
            }
            notes.push(format!(
                "Workspace \"{w}\" has no state yet: nothing to copy."
            ));
            continue;
        }
        let mut dst = Backend::open(&new, o.lock_timeout, "init").await?;
        let there = dst.read().await?;
        let refuse = if there.serial == 0 || o.force_copy {
            None
        } else if there.lineage != state.lineage {
            Some(format!(
                "the new backend already holds another state there (lineage {}, serial {})",
                there.lineage, there.serial
            ))
        } else if there.serial > state.serial {
            Some(format!(
                "the new backend holds a newer serial of the same state ({} > {})",
                there.serial, state.serial
            ))
        } else {
            None
        };
        if let Some(why) = refuse {
            dst.unlock().await?;
            src.unlock().await?;
            return Err(Error::msg(format!(
                "cannot copy workspace \"{w}\": {why}; nothing was copied for it. snapform init -migrate-state -force-copy overwrites it"
            )));
        }
        dst.copy_in(&state).await?;
        dst.unlock().await?;
        src.unlock().await?;
        notes.push(format!(
            "Copied workspace \"{w}\" to the new backend: lineage {}, serial {}.",
            state.lineage, state.serial
        ));
    }
    notes.push(format!(
        "The state in {} was left as it was; once the new backend works, remove it yourself.",
        from.describe()
    ));
    Ok(())
}
