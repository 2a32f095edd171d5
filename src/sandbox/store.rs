//! The sandbox's data (servers, images, schedules, tokens, clock offset) and its persistence.
//!
//! Images and servers are found through an index by id, and the snapshots still being made are
//! kept apart, so a request costs the same with 10 images or 100,000. With `--data DIR` the
//! store is a checkpoint (`sandbox-state.json`, written atomically: temp file + fsync + rename)
//! plus a log (`sandbox-state.log`): each commit appends one JSON line with the images and
//! servers that changed since the last one (and the small parts whole), and syncs it; the
//! checkpoint is rewritten only when the log outgrows it. Opening replays the log; a torn last
//! line (a crash mid-append) is ignored.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::clock;

/// File name of the persisted store inside `--data DIR`.
pub(crate) const STATE_FILE: &str = "sandbox-state.json";
const FORMAT_VERSION: u32 = 1;
/// Deleted images stay visible to `changes-since` this long (REFERENCE §1.7).
const DELETED_RETENTION_DAYS: i64 = 30;

/// An image as the Glance side stores it; the compute view is derived from it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Image {
    pub id: String,
    /// Insertion order; tie-breaker for sorting images created in the same instant.
    pub seq: u64,
    pub region: String,
    /// Owning tenant; `None` = a public base image owned by the provider.
    pub owner: Option<String>,
    pub name: String,
    /// Glance status: `queued`, `saving`, `active`, `killed`, `deleted`, `deactivated`.
    pub status: String,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    /// While `saving`: when the snapshot finishes (status derived lazily from the clock).
    pub ready_at: Option<DateTime<Utc>>,
    /// The snapshot goes to `killed` (compute `ERROR`) instead of `active` when it finishes.
    #[serde(default)]
    pub fail: bool,
    pub fault: Option<String>,
    pub server_id: Option<String>,
    pub min_disk: u64,
    pub min_ram: u64,
    /// Size in bytes once active.
    pub size: u64,
    #[serde(default)]
    pub protected: bool,
    pub visibility: String,
    pub disk_format: String,
    pub container_format: String,
    #[serde(default)]
    pub tags: Vec<String>,
    pub metadata: BTreeMap<String, String>,
    pub checksum: Option<String>,
}

impl Image {
    pub fn is_deleted(&self) -> bool {
        self.status == "deleted"
    }
    /// Compute progress: rises from 25 to 99 while saving, 100 when active (REFERENCE §3.2).
    pub fn progress(&self, now: DateTime<Utc>) -> u64 {
        match self.status.as_str() {
            "active" => 100,
            "queued" => 25,
            "saving" => match self.ready_at {
                Some(ready) if ready > self.created => {
                    let total = (ready - self.created).num_milliseconds().max(1) as f64;
                    let done = (now - self.created).num_milliseconds().max(0) as f64;
                    (25.0 + 74.0 * (done / total).min(1.0)).floor() as u64
                }
                _ => 25,
            },
            _ => 0,
        }
    }
    pub fn visible_to(&self, tenant: &str) -> bool {
        self.owner.as_deref().is_none_or(|o| o == tenant)
    }
}

/// A scheduled-images setting (RAX-SI) plus the state of its emulated worker.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Schedule {
    pub retention: u32,
    /// Upper-case day name for weekly schedules; `None` = daily.
    pub day_of_week: Option<String>,
    pub next_run: DateTime<Utc>,
    pub tenant: String,
    pub user_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Server {
    pub id: String,
    pub region: String,
    pub name: String,
    pub image_id: String,
    pub flavor_id: String,
    pub flavor_ram: u64,
    pub flavor_disk: u64,
    pub flavor_vcpus: u64,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub ipv4: String,
    pub ipv6: String,
    pub private_ipv4: String,
    pub host_id: String,
    pub metadata: BTreeMap<String, String>,
    pub schedule: Option<Schedule>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Token {
    pub id: String,
    pub user: String,
    pub tenant: String,
    /// `APIKEY`, `PASSWORD` (what `RAX-AUTH:authenticatedBy` reports).
    pub method: String,
    /// Wall-clock expiry: advancing the sandbox clock does not log clients out.
    pub expires: DateTime<Utc>,
}

/// Everything that is persisted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Data {
    pub format_version: u32,
    pub clock_offset_ms: i64,
    pub next_seq: u64,
    servers: Vec<Server>,
    images: Vec<Image>,
    pub tokens: Vec<Token>,
    #[serde(skip)]
    ix: Index,
    #[serde(skip)]
    changes: Changes,
}

/// Where each image and server is (by id: the same id may be in several regions), and which
/// images may still be in progress (`saving`/`queued`).
#[derive(Debug, Clone, Default)]
struct Index {
    images: HashMap<String, Vec<usize>>,
    servers: HashMap<String, Vec<usize>>,
    in_progress: BTreeSet<usize>,
}

/// What changed since the last commit, by (region, id).
#[derive(Debug, Clone, Default)]
struct Changes {
    images: BTreeSet<(String, String)>,
    servers: BTreeSet<(String, String)>,
    removed_images: Vec<(String, String)>,
    removed_servers: Vec<(String, String)>,
    /// Everything was replaced: the next commit is a checkpoint.
    all: bool,
}

/// One line of the log: what one commit changed.
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    clock_offset_ms: i64,
    next_seq: u64,
    tokens: Vec<Token>,
    #[serde(default)]
    images: Vec<Image>,
    #[serde(default)]
    servers: Vec<Server>,
    #[serde(default)]
    removed_images: Vec<(String, String)>,
    #[serde(default)]
    removed_servers: Vec<(String, String)>,
}

fn in_progress(i: &Image) -> bool {
    matches!(i.status.as_str(), "saving" | "queued")
}

impl Data {
    pub fn now(&self) -> DateTime<Utc> {
        clock::now_with_offset(self.clock_offset_ms)
    }
    pub fn next_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    /// Rebuilds the index (after loading, or after images or servers were removed).
    fn reindex(&mut self) {
        let mut ix = Index::default();
        for (n, i) in self.images.iter().enumerate() {
            ix.images.entry(i.id.clone()).or_default().push(n);
            if in_progress(i) {
                ix.in_progress.insert(n);
            }
        }
        for (n, s) in self.servers.iter().enumerate() {
            ix.servers.entry(s.id.clone()).or_default().push(n);
        }
        self.ix = ix;
    }

    pub fn servers(&self) -> &[Server] {
        &self.servers
    }
    pub fn images(&self) -> &[Image] {
        &self.images
    }

    fn server_at(&self, region: &str, id: &str) -> Option<usize> {
        self.ix
            .servers
            .get(id)?
            .iter()
            .copied()
            .find(|&n| self.servers[n].region == region)
    }
    pub fn server(&self, region: &str, id: &str) -> Option<&Server> {
        self.server_at(region, id).map(|n| &self.servers[n])
    }
    pub fn server_mut(&mut self, region: &str, id: &str) -> Option<&mut Server> {
        let n = self.server_at(region, id)?;
        self.server_index_mut(n)
    }
    /// The server at position `n` of `servers()`, marked changed.
    pub fn server_index_mut(&mut self, n: usize) -> Option<&mut Server> {
        let s = self.servers.get_mut(n)?;
        self.changes
            .servers
            .insert((s.region.clone(), s.id.clone()));
        Some(s)
    }
    pub fn push_server(&mut self, s: Server) {
        self.ix
            .servers
            .entry(s.id.clone())
            .or_default()
            .push(self.servers.len());
        self.changes
            .servers
            .insert((s.region.clone(), s.id.clone()));
        self.servers.push(s);
    }
    /// Removes the server `id` (any region); false when there is none.
    pub fn remove_server(&mut self, id: &str) -> bool {
        let gone: Vec<(String, String)> = self
            .servers
            .iter()
            .filter(|s| s.id == id)
            .map(|s| (s.region.clone(), s.id.clone()))
            .collect();
        if gone.is_empty() {
            return false;
        }
        self.servers.retain(|s| s.id != id);
        self.changes.removed_servers.extend(gone);
        self.reindex();
        true
    }

    /// The image `id` of `region`, deleted or not, visible to anyone.
    pub fn image_any(&self, region: &str, id: &str) -> Option<&Image> {
        self.ix
            .images
            .get(id)?
            .iter()
            .map(|&n| &self.images[n])
            .find(|i| i.region == region)
    }
    fn live_image_at(&self, region: &str, tenant: &str, id: &str) -> Option<usize> {
        self.ix.images.get(id)?.iter().copied().find(|&n| {
            let i = &self.images[n];
            i.region == region && !i.is_deleted() && i.visible_to(tenant)
        })
    }
    /// A live (not deleted) image of `region` that `tenant` may see.
    pub fn image(&self, region: &str, tenant: &str, id: &str) -> Option<&Image> {
        self.live_image_at(region, tenant, id)
            .map(|n| &self.images[n])
    }
    pub fn image_mut(&mut self, region: &str, tenant: &str, id: &str) -> Option<&mut Image> {
        let n = self.live_image_at(region, tenant, id)?;
        self.image_index_mut(n)
    }
    /// A live image `id` of any region and owner, marked changed.
    pub fn live_image_any_mut(&mut self, id: &str) -> Option<&mut Image> {
        let n = self
            .ix
            .images
            .get(id)?
            .iter()
            .copied()
            .find(|&n| !self.images[n].is_deleted())?;
        self.image_index_mut(n)
    }
    /// The image at position `n` of `images()`, marked changed.
    pub fn image_index_mut(&mut self, n: usize) -> Option<&mut Image> {
        let i = self.images.get_mut(n)?;
        self.changes.images.insert((i.region.clone(), i.id.clone()));
        Some(i)
    }
    pub fn push_image(&mut self, img: Image) {
        let n = self.images.len();
        self.ix.images.entry(img.id.clone()).or_default().push(n);
        if in_progress(&img) {
            self.ix.in_progress.insert(n);
        }
        self.changes
            .images
            .insert((img.region.clone(), img.id.clone()));
        self.images.push(img);
    }

    /// Materialises snapshots whose time has come (`saving` → `active`/`killed`). Returns the
    /// positions of images that became active, in order, so the scheduler can cull after them.
    pub fn settle(&mut self, now: DateTime<Utc>) -> Vec<usize> {
        let mut activated = Vec::new();
        let candidates: Vec<usize> = self.ix.in_progress.iter().copied().collect();
        for n in candidates {
            let img = &self.images[n];
            if !in_progress(img) {
                self.ix.in_progress.remove(&n);
                continue;
            }
            if img.status != "saving" {
                continue;
            }
            let Some(ready) = img.ready_at else { continue };
            if ready > now {
                continue;
            }
            self.ix.in_progress.remove(&n);
            let img = self.image_index_mut(n).expect("indexed");
            img.updated = ready;
            img.ready_at = None;
            if img.fail {
                img.status = "killed".into();
                img.fault.get_or_insert_with(|| {
                    "Image snapshot failed (sandbox fault injection)".into()
                });
                img.size = 0;
            } else {
                img.status = "active".into();
                activated.push(n);
            }
        }
        activated
    }

    /// Drops deleted images older than the `changes-since` window and expired tokens.
    pub fn prune(&mut self, now: DateTime<Utc>) {
        let horizon = now - Duration::days(DELETED_RETENTION_DAYS);
        let old = |i: &Image| i.is_deleted() && i.updated < horizon;
        let gone: Vec<(String, String)> = self
            .images
            .iter()
            .filter(|i| old(i))
            .map(|i| (i.region.clone(), i.id.clone()))
            .collect();
        if !gone.is_empty() {
            self.images.retain(|i| !old(i));
            self.changes.removed_images.extend(gone);
            self.reindex();
        }
        let wall = Utc::now();
        self.tokens.retain(|t| t.expires > wall);
    }

    /// True when the server is making a snapshot (one `saving`; an image left `queued` by a
    /// failed or abandoned snapshot keeps nobody busy).
    pub fn snapshot_in_progress(&self, server_id: &str) -> bool {
        self.ix.in_progress.iter().any(|&n| {
            let i = &self.images[n];
            i.server_id.as_deref() == Some(server_id) && i.status == "saving"
        })
    }

    /// What changed since the last commit, as a log record (and forgets it).
    fn take_record(&mut self) -> Record {
        let ch = std::mem::take(&mut self.changes);
        let image = |(r, id): &(String, String)| self.image_any(r, id).cloned();
        let images = ch.images.iter().filter_map(image).collect();
        let servers = ch
            .servers
            .iter()
            .filter_map(|(r, id)| self.server(r, id).cloned())
            .collect();
        Record {
            clock_offset_ms: self.clock_offset_ms,
            next_seq: self.next_seq,
            tokens: self.tokens.clone(),
            images,
            servers,
            removed_images: ch.removed_images,
            removed_servers: ch.removed_servers,
        }
    }

    /// Replays one log record.
    fn replay(&mut self, r: Record) {
        self.clock_offset_ms = r.clock_offset_ms;
        self.next_seq = r.next_seq;
        self.tokens = r.tokens;
        if !r.removed_images.is_empty() {
            let gone: BTreeSet<(String, String)> = r.removed_images.into_iter().collect();
            self.images
                .retain(|i| !gone.contains(&(i.region.clone(), i.id.clone())));
        }
        if !r.removed_servers.is_empty() {
            let gone: BTreeSet<(String, String)> = r.removed_servers.into_iter().collect();
            self.servers
                .retain(|s| !gone.contains(&(s.region.clone(), s.id.clone())));
        }
        self.reindex();
        for img in r.images {
            let at = self.ix.images.get(&img.id).and_then(|v| {
                v.iter()
                    .copied()
                    .find(|&n| self.images[n].region == img.region)
            });
            match at {
                Some(n) => self.images[n] = img,
                None => self.push_image(img),
            }
        }
        for s in r.servers {
            match self.server_at(&s.region, &s.id) {
                Some(n) => self.servers[n] = s,
                None => self.push_server(s),
            }
        }
        self.reindex();
        self.changes = Changes::default();
    }
}

/// The store: data plus where it lives on disk (if anywhere).
#[derive(Debug)]
pub(crate) struct Store {
    pub data: Data,
    path: Option<PathBuf>,
    log: Option<File>,
    log_bytes: u64,
    checkpoint_bytes: u64,
}

/// File name of the log beside the checkpoint.
const LOG_FILE: &str = "sandbox-state.log";

impl Store {
    /// Loads `DIR/sandbox-state.json` and replays `DIR/sandbox-state.log`, or starts from the
    /// fixtures.
    pub fn open(dir: Option<&Path>, fixtures: impl FnOnce() -> Data) -> anyhow::Result<Store> {
        let Some(dir) = dir else {
            let mut data = fixtures();
            data.reindex();
            data.changes = Changes::default();
            return Ok(Store {
                data,
                path: None,
                log: None,
                log_bytes: 0,
                checkpoint_bytes: 0,
            });
        };
        std::fs::create_dir_all(dir).map_err(|e| {
            anyhow::anyhow!("cannot create sandbox data dir {}: {e}", dir.display())
        })?;
        let path = dir.join(STATE_FILE);
        let mut data = match std::fs::read(&path) {
            Ok(bytes) => {
                let data: Data = serde_json::from_slice(&bytes).map_err(|e| {
                    anyhow::anyhow!("sandbox state {} is not valid: {e}", path.display())
                })?;
                if data.format_version != FORMAT_VERSION {
                    anyhow::bail!(
                        "sandbox state {} has format version {}, expected {}",
                        path.display(),
                        data.format_version,
                        FORMAT_VERSION
                    );
                }
                data
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => fixtures(),
            Err(e) => anyhow::bail!("cannot read sandbox state {}: {e}", path.display()),
        };
        data.reindex();
        let log = dir.join(LOG_FILE);
        match std::fs::read(&log) {
            Ok(bytes) => {
                let mut at = 0;
                for line in bytes.split_inclusive(|b| *b == b'\n') {
                    // A last line without its newline is a torn append: ignored.
                    if line.last() != Some(&b'\n') {
                        break;
                    }
                    let r: Record = serde_json::from_slice(line).map_err(|e| {
                        anyhow::anyhow!(
                            "sandbox log {} is not valid: record at byte {at}: {e}",
                            log.display()
                        )
                    })?;
                    data.replay(r);
                    at += line.len();
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => anyhow::bail!("cannot read sandbox log {}: {e}", log.display()),
        }
        data.changes = Changes::default();
        let mut store = Store {
            data,
            path: Some(path),
            log: None,
            log_bytes: 0,
            checkpoint_bytes: 0,
        };
        store.save()?;
        Ok(store)
    }

    pub fn new_data(servers: Vec<Server>, images: Vec<Image>) -> Data {
        let next_seq = images.iter().map(|i| i.seq).max().unwrap_or(0);
        let mut d = Data {
            format_version: FORMAT_VERSION,
            clock_offset_ms: 0,
            next_seq,
            servers,
            images,
            tokens: Vec::new(),
            ix: Index::default(),
            changes: Changes::default(),
        };
        d.reindex();
        d
    }

    /// A checkpoint: writes the whole store atomically and empties the log; a no-op for an
    /// in-memory sandbox.
    pub fn save(&mut self) -> anyhow::Result<()> {
        self.data.changes = Changes::default();
        let Some(path) = &self.path else {
            return Ok(());
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        let bytes = serde_json::to_vec_pretty(&self.data)?;
        let tmp = dir.join(format!(".{STATE_FILE}.tmp-{}", std::process::id()));
        {
            let mut f = File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, path)?;
        self.log = None;
        match std::fs::remove_file(dir.join(LOG_FILE)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        self.log_bytes = 0;
        self.checkpoint_bytes = bytes.len() as u64;
        Ok(())
    }

    /// Makes what changed since the last commit durable: one appended, synced log line, or a
    /// checkpoint when the log has outgrown the checkpoint (or everything was replaced).
    fn persist(&mut self) -> anyhow::Result<()> {
        let Some(path) = &self.path else {
            self.data.changes = Changes::default();
            return Ok(());
        };
        if self.data.changes.all || self.log_bytes > self.checkpoint_bytes.max(256 << 10) {
            return self.save();
        }
        let log = path.with_file_name(LOG_FILE);
        let mut line = serde_json::to_vec(&self.data.take_record())?;
        line.push(b'\n');
        if self.log.is_none() {
            self.log = Some(OpenOptions::new().create(true).append(true).open(&log)?);
        }
        let f = self.log.as_mut().expect("opened above");
        f.write_all(&line)?;
        f.sync_data()?;
        self.log_bytes += line.len() as u64;
        Ok(())
    }

    /// Persists and logs (rather than fails the request) when the disk write fails.
    pub fn commit(&mut self) {
        if let Err(e) = self.persist() {
            tracing::error!(error = %e, "sandbox: cannot persist state");
        }
    }

    pub fn replace(&mut self, mut data: Data) {
        data.reindex();
        data.changes = Changes {
            all: true,
            ..Changes::default()
        };
        self.data = data;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::fixtures::fleet_data;

    fn open(dir: &Path) -> Store {
        Store::open(Some(dir), || fleet_data(3, 0)).expect("open")
    }

    fn snapshot(data: &Data, n: u64) -> Image {
        let mut img = data.images()[0].clone();
        img.id = format!("00000000-0000-4000-8000-{n:012x}");
        img.name = format!("snap-{n}");
        img.owner = Some("tenant".into());
        img
    }

    #[test]
    fn commits_append_to_the_log_and_reopening_replays_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = open(dir.path());
        let checkpoint = std::fs::read(dir.path().join(STATE_FILE)).unwrap();
        for n in 1..=5 {
            let img = snapshot(&s.data, n);
            s.data.push_image(img);
            s.commit();
        }
        let id = snapshot(&s.data, 3).id;
        s.data.image_mut("DFW", "tenant", &id).unwrap().name = "renamed".into();
        s.commit();
        assert!(s.data.remove_server("5e000000-0000-4000-8000-000000000002"));
        s.commit();
        // The checkpoint was not rewritten; the log holds one line per commit.
        assert_eq!(
            std::fs::read(dir.path().join(STATE_FILE)).unwrap(),
            checkpoint
        );
        let log = std::fs::read_to_string(dir.path().join(LOG_FILE)).unwrap();
        assert_eq!(log.lines().count(), 7);
        let want = serde_json::to_value(&s.data).unwrap();
        drop(s);
        let s = open(dir.path());
        assert_eq!(serde_json::to_value(&s.data).unwrap(), want);
        assert_eq!(s.data.image("DFW", "tenant", &id).unwrap().name, "renamed");
        assert!(
            s.data
                .server("DFW", "5e000000-0000-4000-8000-000000000002")
                .is_none()
        );
        assert!(
            s.data
                .server("DFW", "5e000000-0000-4000-8000-000000000003")
                .is_some()
        );
        // Opening folded the log into a new checkpoint.
        assert!(!dir.path().join(LOG_FILE).exists());
    }

    #[test]
    fn a_torn_last_line_is_ignored_and_a_damaged_line_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = open(dir.path());
        let img = snapshot(&s.data, 1);
        s.data.push_image(img);
        s.commit();
        let img = snapshot(&s.data, 2);
        let second = img.id.clone();
        s.data.push_image(img);
        s.commit();
        drop(s);
        let log = dir.path().join(LOG_FILE);
        let text = std::fs::read(&log).unwrap();
        // Cut the last line in half: a crash mid-append.
        let first_end = text.iter().position(|b| *b == b'\n').unwrap() + 1;
        let torn = &text[..first_end + (text.len() - first_end) / 2];
        std::fs::write(&log, torn).unwrap();
        let s = open(dir.path());
        assert!(s.data.image("DFW", "tenant", &second).is_none());
        assert_eq!(
            s.data
                .images()
                .iter()
                .filter(|i| i.name == "snap-1")
                .count(),
            1
        );
        drop(s);
        std::fs::write(dir.path().join(LOG_FILE), b"{\"not\": \"a record\"}\n").unwrap();
        let e = Store::open(Some(dir.path()), || fleet_data(3, 0)).unwrap_err();
        assert!(e.to_string().contains("record at byte 0"), "{e}");
    }

    #[test]
    fn the_log_is_folded_once_it_outgrows_the_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = open(dir.path());
        for n in 1..=2000 {
            let img = snapshot(&s.data, n);
            s.data.push_image(img);
            s.commit();
        }
        let log = std::fs::metadata(dir.path().join(LOG_FILE)).map_or(0, |m| m.len());
        let checkpoint = std::fs::metadata(dir.path().join(STATE_FILE))
            .unwrap()
            .len();
        assert!(
            log <= checkpoint.max(256 << 10) + 4096,
            "{log} vs {checkpoint}"
        );
        let want = serde_json::to_value(&s.data).unwrap();
        drop(s);
        assert_eq!(serde_json::to_value(&open(dir.path()).data).unwrap(), want);
    }

    #[test]
    fn lookups_and_snapshots_in_progress_follow_the_index() {
        let mut d = fleet_data(2, 0);
        let server = "5e000000-0000-4000-8000-000000000001";
        let mut img = snapshot(&d, 7);
        img.status = "saving".into();
        img.server_id = Some(server.into());
        img.ready_at = Some(d.now());
        let id = img.id.clone();
        d.push_image(img);
        assert!(d.snapshot_in_progress(server));
        let activated = d.settle(d.now());
        assert_eq!(activated.len(), 1);
        assert_eq!(d.images()[activated[0]].id, id);
        assert!(!d.snapshot_in_progress(server));
        assert_eq!(d.image("DFW", "tenant", &id).unwrap().status, "active");
        assert!(d.image("DFW", "someone-else", &id).is_none());
        assert!(d.image("ORD", "tenant", &id).is_none());
        // Deleted long ago: pruned, and the index still finds the rest.
        d.image_mut("DFW", "tenant", &id).unwrap().status = "deleted".into();
        let later = d.now() + Duration::days(DELETED_RETENTION_DAYS + 1);
        d.prune(later);
        assert!(d.image_any("DFW", &id).is_none());
        assert!(d.server("DFW", server).is_some());
        for i in d.images() {
            assert_eq!(d.image_any(&i.region, &i.id).unwrap().id, i.id);
        }
    }
}
