//! Editing state by hand (`state rm|mv|pull|push`) and `force-unlock`. Every operation holds
//! the state lock of the configured backend (local: atomic, previous copy kept as `.backup`)
//! and bumps the serial; none of them calls the cloud. They return notes for the user.

use super::Error as CliError;
use super::workspace::STATE_FILE;
use crate::addr::{InstanceAddr, Target};
use crate::state::{Backend, FORMAT_VERSION, State};
use std::fs::{OpenOptions, TryLockError};
use std::path::Path;
use std::time::Duration;

/// A `--lock-timeout` value: `0`, or a duration such as `30s` or `2m`.
pub fn lock_timeout(s: &str) -> Result<Duration, CliError> {
    if s == "0" || s == "0s" {
        return Ok(Duration::ZERO);
    }
    crate::resources::parse_duration(s)
        .map(Duration::from_secs)
        .ok_or_else(|| {
            CliError::msg(format!(
                "--lock-timeout: expected a duration like 10s or 2m, found \"{s}\""
            ))
        })
}

/// Opens the configured backend (the local file without a `backend` block) and takes its lock.
async fn open(dir: &Path, timeout: Duration, op: &str) -> Result<(Backend, State), CliError> {
    let settings = super::backend::settings_of_dir(dir)?;
    let mut backend = super::backend::open_settings(&settings, timeout, op).await?;
    let state = backend.read().await?;
    Ok((backend, state))
}

/// Forgets these instances (all or nothing); the objects stay in the cloud.
pub async fn rm(dir: &Path, addresses: &[String], lock: Duration) -> Result<Vec<String>, CliError> {
    let mut notes = Vec::new();
    let parsed: Vec<InstanceAddr> = addresses
        .iter()
        .map(|a| parse_address(a))
        .collect::<Result<_, _>>()?;
    let (mut backend, mut state) = open(dir, lock, "state-rm").await?;
    // All or nothing: check every address before forgetting any.
    let missing: Vec<String> = parsed
        .iter()
        .filter(|a| !state.resources.contains_key(*a))
        .map(ToString::to_string)
        .collect();
    if !missing.is_empty() {
        return Err(CliError::msg(format!(
            "state rm: expected addresses in state, found none for {}; state has: {}. Nothing was removed.",
            missing.join(", "),
            listing(&state)
        )));
    }
    let mut gone = Vec::new();
    for a in &parsed {
        if let Some(rs) = state.resources.remove(a) {
            gone.push(rs);
        }
    }
    backend.write(&mut state).await?;
    backend.unlock().await?;
    for rs in gone {
        notes.push(format!(
            "Removed {} (id {}) from state; the object itself is still in the cloud.",
            rs.address, rs.id
        ));
    }
    notes.push(format!("State serial is now {}.", state.serial));
    Ok(notes)
}

/// Renames a state entry (and what refers to it).
pub async fn mv(dir: &Path, from: &str, to: &str, lock: Duration) -> Result<Vec<String>, CliError> {
    let mut notes = Vec::new();
    let from_addr = parse_address(from)?;
    let to_addr = parse_address(to)?;
    let (kind, name) = (to_addr.block.kind.clone(), to_addr.block.name.clone());
    let (mut backend, mut state) = open(dir, lock, "state-mv").await?;
    let Some(mut rs) = state.resources.remove(&from_addr) else {
        return Err(CliError::msg(format!(
            "state mv: expected {from} in state, found no such resource; state has: {}",
            listing(&state)
        )));
    };
    if rs.kind != kind {
        return Err(CliError::msg(format!(
            "state mv: {from} is a \"{}\" resource and cannot become a \"{kind}\" one; expected {to} to have type {}",
            rs.kind, rs.kind
        )));
    }
    if state.resources.contains_key(&to_addr) {
        return Err(CliError::msg(format!(
            "state mv: {to} is already in state; remove it first (state rm {to}) or pick another name"
        )));
    }
    rs.address = to_addr.clone();
    rs.name = name;
    state.resources.insert(to_addr.clone(), rs);
    for other in state.resources.values_mut() {
        for d in &mut other.dependencies {
            let moved = match d {
                Target::Block(b) => from_addr.key.is_none() && *b == from_addr.block,
                Target::Instance(i) => *i == from_addr,
            };
            if moved {
                *d = match &to_addr.key {
                    None => Target::Block(to_addr.block.clone()),
                    Some(_) => Target::Instance(to_addr.clone()),
                };
            }
        }
    }
    for intent in &mut state.journal {
        if intent.address == from_addr {
            intent.address = to_addr.clone();
        }
    }
    backend.write(&mut state).await?;
    backend.unlock().await?;
    notes.push(format!(
        "Moved {from} to {to}; state serial is now {}.",
        state.serial
    ));
    Ok(notes)
}

/// A resource instance address (`TYPE.NAME`, `TYPE.NAME[0]`, `TYPE.NAME["key"]`) with a known
/// resource type.
fn parse_address(addr: &str) -> Result<InstanceAddr, CliError> {
    let bad = || {
        CliError::msg(format!(
            "expected a resource address TYPE.NAME (or TYPE.NAME[0], TYPE.NAME[\"key\"]) with TYPE one of {}, found \"{addr}\"",
            crate::resources::resource_kinds().join(", ")
        ))
    };
    let parsed: InstanceAddr = addr.parse().map_err(|_| bad())?;
    if parsed.block.data || crate::resources::resource(&parsed.block.kind).is_none() {
        return Err(bad());
    }
    Ok(parsed)
}

fn listing(state: &State) -> String {
    if state.resources.is_empty() {
        "nothing".to_string()
    } else {
        state
            .resources
            .keys()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The stored state as JSON; `Err` notes when there is none yet.
pub async fn pull(dir: &Path, lock: Duration) -> Result<Result<String, Vec<String>>, CliError> {
    let mut notes = Vec::new();
    let (backend, state) = open(dir, lock, "state-pull").await?;
    backend.unlock().await?;
    // Every stored state has a serial of at least 1.
    if state.serial == 0 {
        notes.push(format!(
            "No state yet: nothing has been applied in {}.",
            dir.display()
        ));
        return Ok(Err(notes));
    }
    let text = serde_json::to_string_pretty(&state)
        .map_err(|e| CliError::msg(format!("cannot encode the state: {e}")))?;
    Ok(Ok(text))
}

/// The serials the backend keeps of this workspace's state (`state list-serials`).
pub async fn list_serials(dir: &Path) -> Result<Vec<crate::state::Kept>, CliError> {
    let s = super::backend::settings_of_dir(dir)?;
    Ok(crate::state::kept_serials(&s).await?)
}

/// The state as it was at `serial` (`state pull -serial N`), as JSON.
pub async fn pull_serial(dir: &Path, serial: u64) -> Result<String, CliError> {
    let s = super::backend::settings_of_dir(dir)?;
    match crate::state::read_serial(&s, serial).await? {
        Some(state) => serde_json::to_string_pretty(&state)
            .map_err(|e| CliError::msg(format!("cannot encode the state: {e}"))),
        None => {
            let kept = crate::state::kept_serials(&s).await?;
            let list: Vec<String> = kept.iter().map(|k| k.serial.to_string()).collect();
            Err(CliError::msg(format!(
                "state pull: serial {serial} is not kept by the {} backend (kept: {}); the pg backend keeps every checkpoint (the end of each apply, each state command), the local backend the current state and its .backup, http the current one",
                s.kind(),
                if list.is_empty() {
                    "none".to_string()
                } else {
                    list.join(", ")
                }
            )))
        }
    }
}

/// Replaces the stored state with `file` (same lineage and no older serial, unless `force`).
pub async fn push(
    dir: &Path,
    file: &Path,
    force: bool,
    lock: Duration,
) -> Result<Vec<String>, CliError> {
    let mut notes = Vec::new();
    let text = std::fs::read_to_string(file)
        .map_err(|e| CliError::msg(format!("cannot read {}: {e}", file.display())))?;
    let mut pushed: State = serde_json::from_str(&text).map_err(|e| {
        CliError::msg(format!(
            "{} is not a snapform state file: {e}",
            file.display()
        ))
    })?;
    if pushed.format_version != FORMAT_VERSION {
        return Err(CliError::msg(format!(
            "{} has state format version {}; expected {FORMAT_VERSION}",
            file.display(),
            pushed.format_version
        )));
    }
    let (mut backend, current) = open(dir, lock, "state-push").await?;
    let exists = current.serial > 0;
    if exists && !force {
        if pushed.lineage != current.lineage {
            return Err(CliError::msg(format!(
                "state push: {} has lineage {}, expected the current state's lineage {}: it is another state. Use --force to replace it anyway.",
                file.display(),
                pushed.lineage,
                current.lineage
            )));
        }
        if pushed.serial < current.serial {
            return Err(CliError::msg(format!(
                "state push: {} has serial {}, older than the current serial {}; pushing it would lose changes. Use --force to replace it anyway.",
                file.display(),
                pushed.serial,
                current.serial
            )));
        }
    }
    if exists && current.same_content(&pushed) {
        notes.push("The state already has this content; nothing was written.".to_string());
        return Ok(notes);
    }
    // The written state is newer than both the current and the pushed one.
    pushed.serial = pushed.serial.max(current.serial);
    // Lineage was checked above (or --force given): replace whatever lineage is stored.
    backend.replace(&mut pushed).await?;
    backend.unlock().await?;
    notes.push(format!(
        "Replaced the state with {}; state serial is now {}.",
        file.display(),
        pushed.serial
    ));
    Ok(notes)
}

/// The local lock is an OS file lock on `snapform.state.json.lock`, released by the OS when its
/// holder exits: a free lock needs no unlocking, and a held one belongs to a live process.
pub async fn force_unlock(dir: &Path, id: Option<&str>) -> Result<Vec<String>, CliError> {
    let mut notes = Vec::new();
    match super::backend::settings_of_dir(dir)? {
        crate::state::BackendSettings::Http(h) => {
            let Some(id) = id else {
                return Err(CliError::msg(
                    "force-unlock: expected the lock id (the ID a refused run printed), found none",
                ));
            };
            crate::state::http_force_unlock(&h, id).await?;
            notes.push(format!("Released lock {id} on the http state server."));
            return Ok(notes);
        }
        crate::state::BackendSettings::Pg(_) => {
            notes.push(
                "The pg backend locks with a session advisory lock, which PostgreSQL releases when \
                 the connection holding it ends: a dead run leaves no lock behind, and a live one \
                 is never broken. A refused run names the holder (pid, application, address)."
                    .to_string(),
            );
            return Ok(notes);
        }
        _ => {}
    }
    let path = dir.join(format!("{STATE_FILE}.lock"));
    let id_note = match id {
        Some(id) => format!(" (the lock id \"{id}\" is not needed: local locks have no ids)"),
        None => String::new(),
    };
    let file = match OpenOptions::new().read(true).write(true).open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            notes.push(format!(
                "The state is not locked{id_note}: there is no lock file."
            ));
            return Ok(notes);
        }
        Err(e) => {
            return Err(CliError::msg(format!(
                "cannot open {}: {e}",
                path.display()
            )));
        }
    };
    match file.try_lock() {
        Ok(()) => {
            notes.push(format!(
                "The state is not locked{id_note}. The local backend locks with an OS file lock that \
                 is released when the process holding it ends, so a stale lock cannot exist; \
                 nothing to unlock."
            ));
            Ok(notes)
        }
        Err(TryLockError::WouldBlock) => {
            let who = std::fs::read_to_string(&path).unwrap_or_default();
            Err(CliError::msg(format!(
                "the state is locked by a running process ({}){id_note}. The lock goes away when \
                 that process ends; stop it if it is stuck. A lock held by a live process is never \
                 broken, because two runs writing the state at once would corrupt it.",
                if who.trim().is_empty() {
                    "holder unknown"
                } else {
                    who.trim()
                }
            )))
        }
        Err(TryLockError::Error(e)) => Err(CliError::msg(format!(
            "cannot test the lock {}: {e}",
            path.display()
        ))),
    }
}
