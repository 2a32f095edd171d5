//! The local state backend: `snapform.state.json` (mode 0600), a lock held for the whole run,
//! atomic writes (temp file + fsync + rename) and the previous copy kept as `.backup`.
//!
//! During an apply, what changes is appended to a write-ahead log beside it,
//! `snapform.state.json.wal`: one JSON line per group of changes (the resources put or removed,
//! and the small parts — journal, deposed objects, cursors, outputs — whole), each made durable
//! with one `fdatasync` before the changes it records are acknowledged. The full file is a
//! checkpoint, written at the end of the apply (and every [`CHECKPOINT_EVERY`] records); the log
//! is emptied after it. Reading replays the log's records newer than the checkpoint, in order;
//! a torn last line (a run killed mid-append) is ignored and cut off, never read as corrupt
//! state. So an apply's writes cost in proportion to what changed, not to the size of state.

use super::log::Record;
use super::{Delta, FORMAT_VERSION, State, StateError};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Log records after which the next write may be a full checkpoint: when the log has also
/// grown to the size of the last checkpoint (so a checkpoint, which costs the size of state,
/// comes once per as many bytes of log, and costs each record a constant however large the
/// state; replaying the log on read costs at most about as much as reading the state).
pub const CHECKPOINT_EVERY: u64 = 2000;

/// The log beside a state file.
pub fn wal_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".wal");
    PathBuf::from(p)
}

/// Reads the state at `path` and replays its log: the state as of the last durable record.
/// Also returns the byte length of the log's good prefix (a torn tail is not part of it) and
/// how many records were replayed.
pub fn load(path: &Path) -> Result<(State, u64, u64), StateError> {
    let mut state = match std::fs::read_to_string(path) {
        Ok(t) => {
            let t = super::crypt::open(&t, &format!("state file {}", path.display()))
                .map_err(StateError::Encryption)?;
            parse(&t, path)?
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => State::new(),
        Err(source) => {
            return Err(StateError::Io {
                op: "read",
                path: path.display().to_string(),
                source,
            });
        }
    };
    let wal = wal_path(path);
    let bytes = match std::fs::read(&wal) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((state, 0, 0)),
        Err(source) => {
            return Err(StateError::Io {
                op: "read",
                path: wal.display().to_string(),
                source,
            });
        }
    };
    let (good, replayed) = replay(&mut state, &bytes, &wal.display().to_string())?;
    Ok((state, good, replayed))
}

/// Replays the log `bytes` onto `state` (the checkpoint): each complete line newer than it, in
/// order. Returns the length of the good prefix (a torn last line is not part of it) and the
/// number of records replayed. A complete line that does not parse is corruption, reported
/// with its byte offset in `name`. Never panics, whatever the bytes (fuzzed:
/// fuzz/fuzz_targets/wal_replay.rs).
pub fn replay(state: &mut State, bytes: &[u8], name: &str) -> Result<(u64, u64), StateError> {
    let mut good = 0usize;
    let mut replayed = 0;
    let mut rest = bytes;
    while let Some(nl) = rest.iter().position(|b| *b == b'\n') {
        let line = &rest[..nl];
        let opened = match std::str::from_utf8(line) {
            Ok(text) => match super::crypt::open(text, &format!("state log {name}")) {
                Ok(t) => Some(t.into_owned()),
                Err(m) => return Err(StateError::Encryption(m)),
            },
            Err(_) => None,
        };
        let parsed = match &opened {
            Some(t) => serde_json::from_str(t),
            None => serde_json::from_slice(line),
        };
        let record: Record = match parsed {
            Ok(r) => r,
            // A complete line that does not parse is damage, not a torn append.
            Err(e) => {
                return Err(StateError::Corrupt {
                    path: name.to_string(),
                    message: format!("record at byte {good}: {e}"),
                });
            }
        };
        good += nl + 1;
        rest = &rest[nl + 1..];
        // Records of another lineage, or already in the checkpoint, are skipped.
        if record.lineage != state.lineage && state.serial > 0 {
            continue;
        }
        if record.serial <= state.serial {
            continue;
        }
        record.apply_to(state);
        replayed += 1;
    }
    // Whatever follows the last newline is a torn append: ignored.
    Ok((good as u64, replayed))
}

/// An open, locked local state file. The lock is released on drop.
#[derive(Debug)]
pub struct LocalBackend {
    path: PathBuf,
    /// `None` when opened without the lock (`-lock=false`).
    lock: Option<File>,
    last_written: Option<State>,
    /// `read` returned a state that `last_written` does not hold yet: it is loaded again from
    /// disk on the first write (a reader that never writes, such as `plan`, never pays for a
    /// copy of a large state).
    unloaded: bool,
    /// The open log and the records in it since the last checkpoint.
    wal: Option<File>,
    wal_records: u64,
    /// Bytes appended to the log since the last checkpoint, and the size of that checkpoint.
    wal_bytes: u64,
    checkpoint_bytes: u64,
}

impl LocalBackend {
    /// Locks the state at `path` (waiting up to `lock_timeout`) and returns the backend.
    pub fn open(path: &Path, lock_timeout: Duration) -> Result<LocalBackend, StateError> {
        Self::open_mode(path, Some(lock_timeout))
    }

    /// `open`, or with `None` without taking the lock (`-lock=false`: the caller vouches that
    /// no other run writes this state).
    pub fn open_mode(path: &Path, lock: Option<Duration>) -> Result<LocalBackend, StateError> {
        let Some(lock_timeout) = lock else {
            return Ok(LocalBackend {
                path: path.to_path_buf(),
                lock: None,
                last_written: None,
                unloaded: false,
                wal: None,
                wal_records: 0,
                wal_bytes: 0,
                checkpoint_bytes: 0,
            });
        };
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
                        return Err(StateError::Locked(
                            who.trim().to_string(),
                            "the lock is released when that run ends, even if it is killed: \
                             wait for it, or retry with -lock-timeout=DURATION"
                                .into(),
                        ));
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
            lock: Some(lock),
            last_written: None,
            unloaded: false,
            wal: None,
            wal_records: 0,
            wal_bytes: 0,
            checkpoint_bytes: 0,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for LocalBackend {
    /// Clears the holder note before the OS lock goes with the file: a free lock names no one.
    fn drop(&mut self) {
        if let Some(l) = &self.lock {
            let _ = l.set_len(0);
        }
    }
}

impl LocalBackend {
    /// Reads the state (replaying the log); a missing file is a new, empty state. A torn last
    /// record is cut off the log, so that what is appended next starts on a line of its own.
    pub fn read(&mut self) -> Result<State, StateError> {
        let (state, good, replayed) = load(&self.path)?;
        let wal = wal_path(&self.path);
        if let Ok(meta) = std::fs::metadata(&wal)
            && meta.len() > good
        {
            let f = OpenOptions::new()
                .write(true)
                .open(&wal)
                .map_err(|e| self.io("open", &wal, e))?;
            f.set_len(good).map_err(|e| self.io("truncate", &wal, e))?;
            f.sync_data().map_err(|e| self.io("sync", &wal, e))?;
        }
        self.wal_records = replayed;
        self.wal_bytes = good;
        self.checkpoint_bytes = std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0);
        self.last_written = None;
        self.unloaded = good > 0 || self.path.exists();
        Ok(state)
    }

    /// What was last read or written, loading it when `read` deferred that.
    fn materialize(&mut self) -> Result<(), StateError> {
        if self.unloaded {
            self.last_written = Some(load(&self.path)?.0);
            self.unloaded = false;
        }
        Ok(())
    }

    fn io(&self, op: &'static str, path: &Path, source: std::io::Error) -> StateError {
        StateError::Io {
            op,
            path: path.display().to_string(),
            source,
        }
    }

    /// Writes the state atomically if its content changed, bumping `serial` — a checkpoint:
    /// the log is emptied after it.
    pub fn write(&mut self, state: &mut State) -> Result<(), StateError> {
        self.materialize()?;
        if let Some(prev) = &self.last_written
            && prev.same_content(state)
            && self.wal_records == 0
            && !super::crypt::read_clear_text()
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
        if !self
            .last_written
            .as_ref()
            .is_some_and(|prev| prev.same_content(state))
        {
            state.serial += 1;
        }
        let text = self.write_checkpoint(state)?;
        if super::crypt::read_clear_text() {
            // Encrypting a state written in clear: the backup still holds the clear text.
            let mut b = self.path.as_os_str().to_owned();
            b.push(".backup");
            let _ = std::fs::remove_file(PathBuf::from(b));
        }
        // The checkpoint holds everything the log did.
        self.checkpointed(text.len(), state)
    }

    /// Writes `state` whole (sealed when encryption is on) over the state file, atomically;
    /// returns the text written.
    fn write_checkpoint(&self, state: &State) -> Result<String, StateError> {
        let text = serde_json::to_string_pretty(state).map_err(|e| StateError::Corrupt {
            path: self.path.display().to_string(),
            message: e.to_string(),
        })?;
        let text = super::crypt::seal(&text).map_err(StateError::Encryption)?;
        write_atomic(&self.path, text.as_bytes())?;
        Ok(text)
    }

    /// After a checkpoint of `state` (`len` bytes) was written: the log is removed and
    /// counted empty.
    fn checkpointed(&mut self, len: usize, state: &State) -> Result<(), StateError> {
        self.wal = None;
        let wal = wal_path(&self.path);
        match std::fs::remove_file(&wal) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(self.io("remove", &wal, e)),
        }
        self.wal_records = 0;
        self.wal_bytes = 0;
        self.checkpoint_bytes = len as u64;
        self.last_written = Some(state.clone());
        Ok(())
    }

    /// Stores `state` exactly as it is, serial and lineage included (`init -migrate-state`):
    /// a checkpoint, the log emptied.
    pub fn copy_in(&mut self, state: &State) -> Result<(), StateError> {
        if let Some(dir) = self.path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| self.io("create", dir, e))?;
        }
        let text = self.write_checkpoint(state)?;
        self.unloaded = false;
        self.checkpointed(text.len(), state)
    }

    /// Records what changed since the last write (`delta` names the resources touched; the
    /// journal, deposed objects, cursors and outputs go whole) as one log record, durable when
    /// this returns; bumps `serial`. Costs in proportion to the change, not to the state.
    pub fn write_delta(&mut self, state: &mut State, delta: &Delta) -> Result<(), StateError> {
        self.materialize()?;
        let Some(prev) = self.last_written.as_mut() else {
            return self.write(state);
        };
        if !self.path.exists()
            || (self.wal_records >= CHECKPOINT_EVERY && self.wal_bytes >= self.checkpoint_bytes)
        {
            return self.write(state);
        }
        let Some(mut record) = Record::between(prev, state, delta) else {
            return Ok(());
        };
        state.serial += 1;
        record.serial = state.serial;
        let line = serde_json::to_string(&record).map_err(|e| StateError::Corrupt {
            path: self.path.display().to_string(),
            message: e.to_string(),
        })?;
        let mut line = super::crypt::seal(&line)
            .map_err(StateError::Encryption)?
            .into_bytes();
        line.push(b'\n');
        let wal = wal_path(&self.path);
        if self.wal.is_none() {
            let mut opts = OpenOptions::new();
            opts.create(true).append(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            self.wal = Some(opts.open(&wal).map_err(|e| StateError::Io {
                op: "open",
                path: wal.display().to_string(),
                source: e,
            })?);
        }
        let f = self.wal.as_mut().expect("opened above");
        crash_failpoint(f, &line);
        f.write_all(&line).map_err(|e| StateError::Io {
            op: "append to",
            path: wal.display().to_string(),
            source: e,
        })?;
        f.sync_data().map_err(|e| StateError::Io {
            op: "sync",
            path: wal.display().to_string(),
            source: e,
        })?;
        self.wal_records += 1;
        self.wal_bytes += line.len() as u64;
        // What is now durable, without copying the whole state.
        record.apply_to(prev);
        Ok(())
    }
}

/// The crash tests' failpoint (tests/cli_kill.rs): with `SNAPFORM_CRASH_AT_COMMIT=N` this
/// process SIGKILLs itself in its Nth group commit, after writing the first half of the log
/// line (a torn tail); with `N:unsynced`, after the whole line and before `fdatasync`. Unset, it
/// costs one environment lookup per process.
fn crash_failpoint(f: &mut File, line: &[u8]) {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static AT: OnceLock<Option<(u64, bool)>> = OnceLock::new();
    static SEEN: AtomicU64 = AtomicU64::new(0);
    let Some((n, unsynced)) = *AT.get_or_init(|| {
        let v = std::env::var("SNAPFORM_CRASH_AT_COMMIT").ok()?;
        let (n, how) = v.split_once(':').unwrap_or((&v, "torn"));
        Some((n.parse().ok()?, how == "unsynced"))
    }) else {
        return;
    };
    if SEEN.fetch_add(1, Ordering::SeqCst) + 1 != n {
        return;
    }
    let cut = if unsynced { line.len() } else { line.len() / 2 };
    let _ = f.write_all(&line[..cut]);
    // SAFETY: kill(2) on this process; it does not return.
    unsafe {
        libc::kill(libc::getpid(), libc::SIGKILL);
    }
}

pub fn lock_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".lock");
    PathBuf::from(p)
}

/// The text of a state file as a state (format version checked first). Never panics,
/// whatever the text (fuzzed: fuzz/fuzz_targets/state_read.rs).
pub fn parse(text: &str, path: &Path) -> Result<State, StateError> {
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

/// Writes `bytes` to `path` atomically: a temp file in the same directory + fsync + rename; the
/// old file becomes `<path>.backup`.
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
    use crate::state::{Delta, ResourceState};

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

    fn rs(addr: &str, id: &str) -> ResourceState {
        ResourceState {
            address: addr.parse().unwrap(),
            kind: "image".into(),
            name: "x".into(),
            provider: "rackspace".into(),
            id: id.into(),
            attributes: Default::default(),
            managed_keys: vec![],
            tainted: false,
            dependencies: vec![],
            sensitive_attributes: vec![],
        }
    }

    fn intent(id: &str) -> crate::state::Intent {
        crate::state::Intent {
            id: id.into(),
            address: "image.a".parse().unwrap(),
            operation: "create_image".into(),
            detail: Default::default(),
            started: "2026-01-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn the_journal_is_logged_as_what_started_and_what_settled() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("snapform.state.json");
        let mut b = LocalBackend::open(&p, Duration::ZERO).unwrap();
        let mut s = b.read().unwrap();
        s.put(rs("image.z", "0"));
        b.write(&mut s).unwrap();
        // Three intents start (the writer says so), then one settles, one starts and settles
        // within a group (recorded neither way), and one settles without being named (the
        // backend compares journals).
        for id in ["i1", "i2", "i3"] {
            s.journal.push(intent(id));
        }
        let started: Vec<_> = s.journal.clone();
        b.write_delta(
            &mut s,
            &Delta {
                touched: Default::default(),
                journal: Some((started, vec![])),
            },
        )
        .unwrap();
        s.journal.retain(|i| i.id != "i1");
        b.write_delta(
            &mut s,
            &Delta {
                touched: Default::default(),
                journal: Some((vec![intent("i4")], vec!["i1".into(), "i4".into()])),
            },
        )
        .unwrap();
        s.journal.retain(|i| i.id != "i2");
        b.write_delta(&mut s, &Delta::default()).unwrap();
        let log = std::fs::read_to_string(wal_path(&p)).unwrap();
        assert_eq!(log.lines().count(), 3, "{log}");
        assert!(
            !log.contains("i4"),
            "started and settled in one group: {log}"
        );
        assert!(
            !log.contains("\"journal\":"),
            "never the whole journal: {log}"
        );
        let (read, _, replayed) = load(&p).unwrap();
        assert_eq!(replayed, 3);
        assert_eq!(read.journal, s.journal);
        assert_eq!(
            read.journal
                .iter()
                .map(|i| i.id.as_str())
                .collect::<Vec<_>>(),
            vec!["i3"]
        );
    }

    #[test]
    fn the_log_is_replayed_torn_tails_are_cut_and_a_checkpoint_empties_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("snapform.state.json");
        let mut b = LocalBackend::open(&p, Duration::ZERO).unwrap();
        let mut s = b.read().unwrap();
        s.put(rs("image.a", "1"));
        b.write(&mut s).unwrap();
        let checkpoint = std::fs::read_to_string(&p).unwrap();
        // Two delta records: b added, a changed, then a removed.
        s.put(rs("image.b", "2"));
        let mut a = rs("image.a", "1");
        a.tainted = true;
        s.put(a);
        b.write_delta(
            &mut s,
            &Delta::of(["image.a".parse().unwrap(), "image.b".parse().unwrap()]),
        )
        .unwrap();
        s.resources.remove(&"image.a".parse().unwrap());
        s.journal.clear();
        b.write_delta(&mut s, &Delta::of(["image.a".parse().unwrap()]))
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            checkpoint,
            "checkpoint untouched"
        );
        assert_eq!(s.serial, 3);
        // An unchanged delta writes nothing.
        b.write_delta(&mut s, &Delta::of(["image.b".parse().unwrap()]))
            .unwrap();
        assert_eq!(s.serial, 3);
        drop(b);
        let (read, _, replayed) = load(&p).unwrap();
        assert_eq!(read, s);
        assert_eq!(replayed, 2);

        // A torn append (no newline) is ignored, then cut off by the next writer.
        let wal = wal_path(&p);
        let good = std::fs::metadata(&wal).unwrap().len();
        let mut f = OpenOptions::new().append(true).open(&wal).unwrap();
        f.write_all(b"{\"lineage\": \"x\", \"ser").unwrap();
        drop(f);
        assert_eq!(load(&p).unwrap().0, s);
        let mut b = LocalBackend::open(&p, Duration::ZERO).unwrap();
        let mut s2 = b.read().unwrap();
        assert_eq!(std::fs::metadata(&wal).unwrap().len(), good);
        s2.put(rs("image.c", "3"));
        b.write_delta(&mut s2, &Delta::of(["image.c".parse().unwrap()]))
            .unwrap();
        drop(b);
        assert_eq!(load(&p).unwrap().0, s2);

        // A checkpoint holds everything, and the log goes.
        let mut b = LocalBackend::open(&p, Duration::ZERO).unwrap();
        let mut s3 = b.read().unwrap();
        b.write(&mut s3).unwrap();
        assert!(!wal.exists());
        assert_eq!(s3.serial, s2.serial, "nothing new: no new serial");
        drop(b);
        assert_eq!(load(&p).unwrap().0, s2);
    }

    #[test]
    fn a_damaged_record_before_the_end_is_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("snapform.state.json");
        let mut b = LocalBackend::open(&p, Duration::ZERO).unwrap();
        let mut s = b.read().unwrap();
        s.put(rs("image.a", "1"));
        b.write(&mut s).unwrap();
        s.put(rs("image.b", "2"));
        b.write_delta(&mut s, &Delta::of(["image.b".parse().unwrap()]))
            .unwrap();
        drop(b);
        let wal = wal_path(&p);
        let mut text = std::fs::read(&wal).unwrap();
        text.splice(0..0, b"{not json}\n".iter().copied());
        std::fs::write(&wal, text).unwrap();
        assert!(matches!(load(&p), Err(StateError::Corrupt { .. })));
    }

    #[test]
    fn second_open_is_refused_while_locked() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.json");
        let _a = LocalBackend::open(&p, Duration::ZERO).unwrap();
        let err = LocalBackend::open(&p, Duration::from_millis(200)).unwrap_err();
        assert!(matches!(err, StateError::Locked(..)), "{err}");
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
