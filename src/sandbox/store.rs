//! The sandbox's data (servers, images, schedules, tokens, clock offset) and its persistence:
//! one JSON file written atomically (temp file + fsync + rename) after every mutation.

use std::collections::BTreeMap;
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
    pub servers: Vec<Server>,
    pub images: Vec<Image>,
    pub tokens: Vec<Token>,
}

impl Data {
    pub fn now(&self) -> DateTime<Utc> {
        clock::now_with_offset(self.clock_offset_ms)
    }
    pub fn next_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }
    pub fn server(&self, region: &str, id: &str) -> Option<&Server> {
        self.servers
            .iter()
            .find(|s| s.id == id && s.region == region)
    }
    pub fn server_mut(&mut self, region: &str, id: &str) -> Option<&mut Server> {
        self.servers
            .iter_mut()
            .find(|s| s.id == id && s.region == region)
    }
    /// A live (not deleted) image of `region` that `tenant` may see.
    pub fn image(&self, region: &str, tenant: &str, id: &str) -> Option<&Image> {
        self.images
            .iter()
            .find(|i| i.id == id && i.region == region && !i.is_deleted() && i.visible_to(tenant))
    }
    pub fn image_mut(&mut self, region: &str, tenant: &str, id: &str) -> Option<&mut Image> {
        self.images
            .iter_mut()
            .find(|i| i.id == id && i.region == region && !i.is_deleted() && i.visible_to(tenant))
    }

    /// Materialises snapshots whose time has come (`saving` → `active`/`killed`). Returns the
    /// ids of images that became active, in order, so the scheduler can cull after them.
    pub fn settle(&mut self, now: DateTime<Utc>) -> Vec<String> {
        let mut activated = Vec::new();
        for img in self.images.iter_mut() {
            if img.status != "saving" {
                continue;
            }
            let Some(ready) = img.ready_at else { continue };
            if ready > now {
                continue;
            }
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
                activated.push(img.id.clone());
            }
        }
        activated
    }

    /// Drops deleted images older than the `changes-since` window and expired tokens.
    pub fn prune(&mut self, now: DateTime<Utc>) {
        let horizon = now - Duration::days(DELETED_RETENTION_DAYS);
        self.images
            .retain(|i| !(i.is_deleted() && i.updated < horizon));
        let wall = Utc::now();
        self.tokens.retain(|t| t.expires > wall);
    }

    /// True when the server has a snapshot still in progress.
    pub fn snapshot_in_progress(&self, server_id: &str) -> bool {
        self.images.iter().any(|i| {
            i.server_id.as_deref() == Some(server_id)
                && matches!(i.status.as_str(), "saving" | "queued")
        })
    }
}

/// The store: data plus where it lives on disk (if anywhere).
#[derive(Debug)]
pub(crate) struct Store {
    pub data: Data,
    path: Option<PathBuf>,
}

impl Store {
    /// Loads `DIR/sandbox-state.json`, or starts from the fixtures.
    pub fn open(dir: Option<&Path>, fixtures: impl FnOnce() -> Data) -> anyhow::Result<Store> {
        let Some(dir) = dir else {
            return Ok(Store {
                data: fixtures(),
                path: None,
            });
        };
        std::fs::create_dir_all(dir).map_err(|e| {
            anyhow::anyhow!("cannot create sandbox data dir {}: {e}", dir.display())
        })?;
        let path = dir.join(STATE_FILE);
        let data = match std::fs::read(&path) {
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
        let store = Store {
            data,
            path: Some(path),
        };
        store.save()?;
        Ok(store)
    }

    pub fn new_data(servers: Vec<Server>, images: Vec<Image>) -> Data {
        let next_seq = images.iter().map(|i| i.seq).max().unwrap_or(0);
        Data {
            format_version: FORMAT_VERSION,
            clock_offset_ms: 0,
            next_seq,
            servers,
            images,
            tokens: Vec::new(),
        }
    }

    /// Writes the store atomically; a no-op for an in-memory sandbox.
    pub fn save(&self) -> anyhow::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        let bytes = serde_json::to_vec_pretty(&self.data)?;
        let tmp = dir.join(format!(".{STATE_FILE}.tmp-{}", std::process::id()));
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, path)?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Saves and logs (rather than fails the request) when the disk write fails.
    pub fn commit(&self) {
        if let Err(e) = self.save() {
            tracing::error!(error = %e, "sandbox: cannot persist state");
        }
    }

    pub fn replace(&mut self, data: Data) {
        self.data = data;
    }
}
