//! The local state backend: `snapform.state.json` (mode 0600), a lock held for the whole run,
//! atomic writes (temp file + fsync + rename) and the previous copy kept as `.backup`.

use super::{FORMAT_VERSION, State, StateError};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// An open, locked local state file. The lock is released on drop.
#[derive(Debug)]
pub struct LocalBackend {
    path: PathBuf,
    _lock: File,
    last_written: Option<State>,
}

impl LocalBackend {
    /// Locks the state at `path` (waiting up to `lock_timeout`) and returns the backend.
    pub fn open(path: &Path, lock_timeout: Duration) -> Result<LocalBackend, StateError> {
        let lock_path = lock_path(path);
        let io = |op, source| StateError::Io {
            op,
            path: lock_path.display().to_string(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| io("create directory for", e))?;
        }
        let mut lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&lock_path)
            .map_err(|e| io("open lock", e))?;
        let deadline = Instant::now() + lock_timeout;
        loop {
            match lock.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) => {
                    if Instant::now() >= deadline {
                        let who = std::fs::read_to_string(&lock_path).unwrap_or_default();
                        return Err(StateError::Locked(who.trim().to_string()));
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(io("lock", e)),
            }
        }
        // Record who holds the lock, for the "locked by" message.
        let info = format!(
            "pid {} since {}",
            std::process::id(),
            chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ")
        );
        let _ = lock.set_len(0);
        let _ = lock.write_all(info.as_bytes());
        let _ = lock.flush();
        Ok(LocalBackend {
            path: path.to_path_buf(),
            _lock: lock,
            last_written: None,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the state; a missing file is a new, empty state.
    pub fn read(&mut self) -> Result<State, StateError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(State::new()),
            Err(source) => {
                return Err(StateError::Io {
                    op: "read",
                    path: self.path.display().to_string(),
                    source,
                });
            }
        };
        let state = parse(&text, &self.path)?;
        self.last_written = Some(state.clone());
        Ok(state)
    }

    /// Writes the state atomically if its content changed, bumping `serial`.
    pub fn write(&mut self, state: &mut State) -> Result<(), StateError> {
        if let Some(prev) = &self.last_written
            && prev.same_content(state)
        {
            return Ok(());
        }
        let empty = state.resources.is_empty()
            && state.journal.is_empty()
            && state.outputs.is_empty()
            && state.cursors.is_empty();
        if self.last_written.is_none() && empty && !self.path.exists() {
            // Nothing to record yet; do not create an empty state file.
            return Ok(());
        }
        state.serial += 1;
        let text = serde_json::to_string_pretty(state).map_err(|e| StateError::Corrupt {
            path: self.path.display().to_string(),
            message: e.to_string(),
        })?;
        write_atomic(&self.path, text.as_bytes())?;
        self.last_written = Some(state.clone());
        Ok(())
    }
}

pub fn lock_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".lock");
    PathBuf::from(p)
}

fn parse(text: &str, path: &Path) -> Result<State, StateError> {
    #[derive(serde::Deserialize)]
    struct Header {
        format_version: u32,
    }
    let h: Header = serde_json::from_str(text).map_err(|e| StateError::Corrupt {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    if h.format_version != FORMAT_VERSION {
        return Err(StateError::Version {
            path: path.display().to_string(),
            found: h.format_version,
        });
    }
    serde_json::from_str(text).map_err(|e| StateError::Corrupt {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

/// temp file in the same directory + fsync + rename; the old file becomes `<path>.backup`.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    let io = |op, source| StateError::Io {
        op,
        path: path.display().to_string(),
        source,
    };
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    {
        let mut opts = OpenOptions::new();
        opts.create(true).write(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp).map_err(|e| io("write", e))?;
        f.write_all(bytes).map_err(|e| io("write", e))?;
        f.sync_all().map_err(|e| io("sync", e))?;
    }
    if path.exists() {
        let mut backup = path.as_os_str().to_owned();
        backup.push(".backup");
        std::fs::copy(path, PathBuf::from(backup)).map_err(|e| io("back up", e))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| io("replace", e))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(d) = File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_read_round_trip_bumps_serial_and_keeps_backup() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("snapform.state.json");
        let mut b = LocalBackend::open(&p, Duration::ZERO).unwrap();
        let mut s = b.read().unwrap();
        s.cursors.insert("x".into(), "1".into());
        b.write(&mut s).unwrap();
        assert_eq!(s.serial, 1);
        b.write(&mut s).unwrap();
        assert_eq!(s.serial, 1, "unchanged content is not rewritten");
        s.cursors.insert("x".into(), "2".into());
        b.write(&mut s).unwrap();
        assert_eq!(s.serial, 2);
        assert!(dir.path().join("snapform.state.json.backup").exists());
        drop(b);
        let mut b = LocalBackend::open(&p, Duration::ZERO).unwrap();
        assert_eq!(b.read().unwrap(), s);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn second_open_is_refused_while_locked() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.json");
        let _a = LocalBackend::open(&p, Duration::ZERO).unwrap();
        let err = LocalBackend::open(&p, Duration::from_millis(200)).unwrap_err();
        assert!(matches!(err, StateError::Locked(_)), "{err}");
    }

    #[test]
    fn corrupt_state_is_reported_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.json");
        std::fs::write(&p, "{not json").unwrap();
        let mut b = LocalBackend::open(&p, Duration::ZERO).unwrap();
        assert!(matches!(b.read(), Err(StateError::Corrupt { .. })));
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "{not json");
    }
}
