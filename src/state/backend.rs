//! The state backends behind one interface: `local` (a file), `pg` (PostgreSQL) and `http` (the
//! REST state protocol). Each holds its lock from `open` until `unlock` or drop, bumps `serial`
//! only when the content changed, and refuses to write a state of another lineage.

use super::codec::check_lineage;
use super::http::{HttpBackend, HttpSettings};
use super::local::LocalBackend;
use super::pg::{Kept, PgBackend, PgSettings};
use super::{Delta, State, StateError};
use std::path::PathBuf;
use std::time::Duration;

/// Where the state lives, as the configuration's `backend` block (or the default) says.
#[derive(Clone, Debug)]
pub enum BackendSettings {
    Local { path: PathBuf },
    Pg(PgSettings),
    Http(HttpSettings),
}

impl BackendSettings {
    /// `local`, `pg` or `http`.
    pub fn kind(&self) -> &'static str {
        match self {
            BackendSettings::Local { .. } => "local",
            BackendSettings::Pg(_) => "pg",
            BackendSettings::Http(_) => "http",
        }
    }
}

/// An open state backend; the lock is held until `unlock` (or drop).
pub enum Backend {
    Local {
        inner: LocalBackend,
        /// Lineage of the stored state, once one was read or written.
        lineage: Option<String>,
    },
    Pg(PgBackend),
    Http(HttpBackend),
}

impl Backend {
    /// Opens the backend and takes its lock, waiting up to `lock_timeout`. `operation` (e.g.
    /// `apply`) is recorded with the lock so a refused run can say who holds it.
    pub async fn open(
        settings: &BackendSettings,
        lock_timeout: Duration,
        operation: &str,
    ) -> Result<Backend, StateError> {
        Self::open_mode(settings, Some(lock_timeout), operation).await
    }

    /// `open`, or with `None` without taking the lock (`-lock=false`).
    pub async fn open_mode(
        settings: &BackendSettings,
        lock_timeout: Option<Duration>,
        operation: &str,
    ) -> Result<Backend, StateError> {
        Ok(match settings {
            BackendSettings::Local { path } => Backend::Local {
                inner: LocalBackend::open_mode(path, lock_timeout)?,
                lineage: None,
            },
            BackendSettings::Pg(s) => {
                Backend::Pg(PgBackend::open(s, lock_timeout, operation).await?)
            }
            BackendSettings::Http(s) => {
                Backend::Http(HttpBackend::open(s, lock_timeout, operation).await?)
            }
        })
    }

    /// Reads the stored state; none stored yet is a new, empty state.
    pub async fn read(&mut self) -> Result<State, StateError> {
        match self {
            Backend::Local { inner, lineage } => {
                let existed = inner.path().exists();
                let s = inner.read()?;
                if existed {
                    *lineage = Some(s.lineage.clone());
                }
                Ok(s)
            }
            Backend::Pg(b) => b.read().await,
            Backend::Http(b) => b.read().await,
        }
    }

    /// Writes `state` if its content changed since the last read or write, bumping `serial`.
    /// A state of another lineage than the stored one is refused.
    pub async fn write(&mut self, state: &mut State) -> Result<(), StateError> {
        self.write_checked(state, true).await
    }

    /// Records a change to `state` that touched only `delta`'s addresses (and the small
    /// parts): an appended log record on the local backend (a line of the `.wal` file) and on
    /// pg (a row of `state_log`), a whole-state write on http, coalesced with the next when it
    /// starts no intent.
    pub async fn write_delta(
        &mut self,
        state: &mut State,
        delta: &Delta,
    ) -> Result<(), StateError> {
        match self {
            Backend::Local { inner, lineage } => {
                check_lineage(lineage.as_deref(), state)?;
                inner.write_delta(state, delta)?;
                if inner.path().exists() {
                    *lineage = Some(state.lineage.clone());
                }
                Ok(())
            }
            Backend::Pg(b) => b.write_delta(state, delta).await,
            Backend::Http(b) => b.write_delta(state, delta).await,
        }
    }

    /// Stores `state` exactly as it is — serial and lineage kept, whatever is stored — for
    /// `init -migrate-state`, which checked the target first.
    pub async fn copy_in(&mut self, state: &State) -> Result<(), StateError> {
        match self {
            Backend::Local { inner, lineage } => {
                inner.copy_in(state)?;
                *lineage = Some(state.lineage.clone());
                Ok(())
            }
            Backend::Pg(b) => b.copy_in(state).await,
            Backend::Http(b) => b.copy_in(state).await,
        }
    }

    /// Like `write`, but replaces a stored state of another lineage (`state push --force`).
    pub async fn replace(&mut self, state: &mut State) -> Result<(), StateError> {
        self.write_checked(state, false).await
    }

    async fn write_checked(&mut self, state: &mut State, check: bool) -> Result<(), StateError> {
        match self {
            Backend::Local { inner, lineage } => {
                if check {
                    check_lineage(lineage.as_deref(), state)?;
                }
                inner.write(state)?;
                if inner.path().exists() {
                    *lineage = Some(state.lineage.clone());
                }
                Ok(())
            }
            Backend::Pg(b) => b.write(state, check).await,
            Backend::Http(b) => b.write(state, check).await,
        }
    }

    /// Releases the lock. Dropping the backend releases it too, but reports nothing.
    pub async fn unlock(self) -> Result<(), StateError> {
        match self {
            Backend::Local { .. } => Ok(()),
            Backend::Pg(b) => b.unlock().await,
            Backend::Http(b) => b.unlock().await,
        }
    }

    /// Where the state is, for messages (never with a password).
    pub fn describe(&self) -> String {
        match self {
            Backend::Local { inner, .. } => inner.path().display().to_string(),
            Backend::Pg(b) => b.describe(),
            Backend::Http(b) => b.describe(),
        }
    }
}

/// Reads the state without taking the lock (`output`, `show`, `state list`).
pub async fn read_unlocked(settings: &BackendSettings) -> Result<State, StateError> {
    match settings {
        BackendSettings::Local { path } => super::local::load(path).map(|(s, _, _)| s),
        BackendSettings::Pg(s) => super::pg::read_unlocked(s).await,
        BackendSettings::Http(s) => super::http::read_unlocked(s).await,
    }
}

/// The serials the backend keeps of the state, oldest first: pg its history (every
/// checkpoint: the end of each apply, each state command) and the current state; local the
/// current state and its `.backup`; http the current one only.
pub async fn kept_serials(settings: &BackendSettings) -> Result<Vec<Kept>, StateError> {
    let current = read_unlocked(settings).await?;
    let mut out = match settings {
        BackendSettings::Local { path } => local_backup(path)?
            .map(|b| Kept {
                serial: b.serial,
                lineage: b.lineage,
                saved: None,
            })
            .into_iter()
            .collect(),
        BackendSettings::Pg(s) => super::pg::history(s).await?,
        BackendSettings::Http(_) => Vec::new(),
    };
    if current.serial > 0 && !out.iter().any(|k| k.serial == current.serial) {
        out.push(Kept {
            serial: current.serial,
            lineage: current.lineage.clone(),
            saved: None,
        });
    }
    out.sort_by_key(|k| k.serial);
    Ok(out)
}

/// The state as it was at `serial`, if the backend keeps it (see `kept_serials`).
pub async fn read_serial(
    settings: &BackendSettings,
    serial: u64,
) -> Result<Option<State>, StateError> {
    let current = read_unlocked(settings).await?;
    if current.serial == serial && serial > 0 {
        return Ok(Some(current));
    }
    match settings {
        BackendSettings::Local { path } => Ok(local_backup(path)?.filter(|b| b.serial == serial)),
        BackendSettings::Pg(s) => super::pg::read_serial(s, serial).await,
        BackendSettings::Http(_) => Ok(None),
    }
}

/// The local state file's `.backup` (the state before the last checkpoint), if any.
fn local_backup(path: &std::path::Path) -> Result<Option<State>, StateError> {
    let mut b = path.as_os_str().to_owned();
    b.push(".backup");
    let b = PathBuf::from(b);
    match std::fs::read_to_string(&b) {
        Ok(text) => {
            let text = super::crypt::open(&text, &format!("state file {}", b.display()))
                .map_err(StateError::Encryption)?;
            super::local::parse(&text, &b).map(Some)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StateError::Io {
            op: "read",
            path: b.display().to_string(),
            source: e,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_backend_refuses_another_lineage() {
        let dir = tempfile::tempdir().unwrap();
        let settings = BackendSettings::Local {
            path: dir.path().join("s.json"),
        };
        let mut b = Backend::open(&settings, Duration::ZERO, "test")
            .await
            .unwrap();
        let mut s = b.read().await.unwrap();
        s.cursors.insert("c".into(), "1".into());
        b.write(&mut s).await.unwrap();
        let mut other = State::new();
        other.cursors.insert("c".into(), "2".into());
        let err = b.write(&mut other).await.unwrap_err();
        assert!(matches!(err, StateError::Lineage { .. }), "{err}");
        b.replace(&mut other).await.unwrap();
        b.unlock().await.unwrap();
        assert_eq!(
            read_unlocked(&settings).await.unwrap().lineage,
            other.lineage
        );
    }
}
