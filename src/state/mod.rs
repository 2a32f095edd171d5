//! State: what snapform manages — one entry per resource instance, outputs, refresh cursors and
//! the intent journal of in-flight mutations. Versioned JSON with `serial` and `lineage`.

mod backend;
mod codec;
pub mod crypt;
mod http;
mod local;
mod lock_info;
mod log;
mod pg;
mod pg_tls;
pub mod workspaces;

pub use backend::{Backend, BackendSettings, kept_serials, read_serial, read_unlocked};
pub use http::{HttpSettings, force_unlock as http_force_unlock};
pub use local::{LocalBackend, parse as parse_state_file, replay as replay_log};
pub use pg::{Kept, PG_ENV, PgSettings, lock_key as pg_lock_key};

use crate::addr::{InstanceAddr, Target};
use crate::value::{Map, Value};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The state file format version this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct State {
    pub format_version: u32,
    /// Incremented on every write that changes content.
    pub serial: u64,
    /// Fixed when the state is first created; a plan for another lineage is refused.
    pub lineage: String,
    pub snapform_version: String,
    #[serde(default)]
    pub resources: BTreeMap<InstanceAddr, ResourceState>,
    #[serde(default)]
    pub outputs: BTreeMap<String, OutputState>,
    /// Mutations that were started but whose outcome was not recorded yet.
    #[serde(default)]
    pub journal: Vec<Intent>,
    /// Refresh cursors (e.g. the last `changes-since` time per provider).
    #[serde(default)]
    pub cursors: BTreeMap<String, String>,
    /// Objects that an address held before a replacement took their place, not deleted yet
    /// (a `create_before_destroy` in progress, or an interrupted one): the next plan destroys
    /// them. Never forgotten while they exist.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deposed: Vec<ResourceState>,
    /// What each data source read last (by the last apply), for `show`. Never planned from:
    /// every plan reads its data sources again.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub data: BTreeMap<InstanceAddr, crate::value::Map>,
}

impl State {
    pub fn new() -> State {
        State {
            format_version: FORMAT_VERSION,
            serial: 0,
            lineage: uuid::Uuid::new_v4().to_string(),
            snapform_version: env!("CARGO_PKG_VERSION").to_string(),
            resources: BTreeMap::new(),
            outputs: BTreeMap::new(),
            journal: Vec::new(),
            cursors: BTreeMap::new(),
            deposed: Vec::new(),
            data: BTreeMap::new(),
        }
    }

    /// Same content, ignoring serial (used to decide whether a write is needed).
    pub fn same_content(&self, other: &State) -> bool {
        self.resources == other.resources
            && self.outputs == other.outputs
            && self.journal == other.journal
            && self.cursors == other.cursors
            && self.deposed == other.deposed
            && self.data == other.data
            && self.lineage == other.lineage
    }
}

impl State {
    /// Puts `rs` at its address. An object of another id that the address held is deposed
    /// (kept for destruction), not dropped: a replacement recorded before the old object is
    /// deleted must not orphan it.
    pub fn put(&mut self, rs: ResourceState) {
        if let Some(old) = self.resources.get(&rs.address)
            && old.id != rs.id
            && !old.id.is_empty()
            && old.kind == rs.kind
            && !self
                .deposed
                .iter()
                .any(|d| d.id == old.id && d.kind == old.kind)
        {
            self.deposed.push(old.clone());
        }
        self.deposed
            .retain(|d| !(d.id == rs.id && d.kind == rs.kind));
        self.resources.insert(rs.address.clone(), rs);
    }

    /// Forgets the object `id` at `address` (it was deleted): from the address when it still
    /// holds it, and from the deposed objects.
    pub fn forget(&mut self, address: &InstanceAddr, id: &str) {
        if self.resources.get(address).is_some_and(|r| r.id == id) {
            self.resources.remove(address);
        }
        self.deposed
            .retain(|d| !(d.address == *address && d.id == id));
    }

    /// Every object id state knows (current and deposed).
    pub fn known_ids(&self) -> Vec<String> {
        self.resources
            .values()
            .chain(&self.deposed)
            .map(|r| r.id.clone())
            .filter(|id| !id.is_empty())
            .collect()
    }
}

impl Default for State {
    fn default() -> Self {
        State::new()
    }
}

/// What a write changes, for backends that can record only that (the local backend's
/// write-ahead log): the addresses whose entries were put or removed, and the intents started
/// and settled (as many may be in flight as there are servers). Deposed objects, cursors and
/// outputs are small and always written whole.
#[derive(Clone, Debug, Default)]
pub struct Delta {
    pub touched: std::collections::BTreeSet<InstanceAddr>,
    /// The journal's change, when the writer knows it: the intents started and the ids of
    /// those settled. `None`: the backend works it out by comparing journals.
    pub journal: Option<(Vec<Intent>, Vec<String>)>,
}

impl Delta {
    pub fn of(addresses: impl IntoIterator<Item = InstanceAddr>) -> Delta {
        Delta {
            touched: addresses.into_iter().collect(),
            journal: None,
        }
    }
}

/// One managed resource instance.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ResourceState {
    pub address: InstanceAddr,
    pub kind: String,
    pub name: String,
    /// Provider key, e.g. `rackspace` or `rackspace.lon`.
    pub provider: String,
    /// The cloud's id for the object (image id, server id for schedules).
    pub id: String,
    /// Every attribute after the last apply or refresh (all known).
    pub attributes: Map,
    /// Metadata keys this resource manages (DESIGN §4 ownership rule).
    #[serde(default)]
    pub managed_keys: Vec<String>,
    /// The object failed while being created; the next plan replaces it.
    #[serde(default)]
    pub tainted: bool,
    /// Addresses this instance depended on when applied (destroy order).
    #[serde(default)]
    pub dependencies: Vec<Target>,
    /// Attributes whose value is sensitive: stored in clear (state is secret at rest, mode
    /// 0600), shown as `(sensitive value)`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensitive_attributes: Vec<String>,
}

impl ResourceState {
    pub fn attr(&self, name: &str) -> Option<&Value> {
        self.attributes.get(name)
    }

    /// The attributes with their sensitive marks (`name`, or `metadata.tag` for one value of
    /// a map), for showing.
    pub fn shown_attributes(&self) -> Map {
        let mut m = self.attributes.clone();
        for p in &self.sensitive_attributes {
            let (attr, key) = match p.split_once('.') {
                Some((a, k)) => (a, Some(k)),
                None => (p.as_str(), None),
            };
            match (m.get_mut(attr), key) {
                (Some(v), None) => *v = Value::sensitive(std::mem::take(v)),
                (Some(Value::Map(inner)), Some(k)) => {
                    if let Some(v) = inner.get_mut(k) {
                        *v = Value::sensitive(std::mem::take(v));
                    }
                }
                _ => {}
            }
        }
        m
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct OutputState {
    pub value: Value,
    #[serde(default)]
    pub sensitive: bool,
}

/// A mutation journaled before it is sent, so an interrupted run can be reconciled.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Intent {
    pub id: String,
    pub address: InstanceAddr,
    /// e.g. `create_image`.
    pub operation: String,
    /// What is needed to find the object later (server id, image name, ...).
    pub detail: BTreeMap<String, String>,
    /// RFC 3339 time the intent was written.
    pub started: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The holder, then what to do about it (each backend knows whether a dead run's lock
    /// can stay behind).
    #[error("state is locked by another run ({0}); {1}")]
    Locked(String, String),
    #[error("cannot {op} state file {path}: {source}")]
    Io {
        op: &'static str,
        path: String,
        source: std::io::Error,
    },
    #[error("state file {path} is not valid: {message}")]
    Corrupt { path: String, message: String },
    #[error(
        "state file {path} has format version {found}; this snapform reads version {FORMAT_VERSION}"
    )]
    Version { path: String, found: u32 },
    /// A pg or http backend failed; `target` never holds a password.
    #[error("{backend} state backend ({target}): cannot {op}: {message}")]
    Backend {
        backend: &'static str,
        target: String,
        op: &'static str,
        message: String,
    },
    #[error(
        "refusing to write state of lineage {found}: the stored state has lineage {expected}, so it is another state; nothing was written"
    )]
    Lineage { expected: String, found: String },
    /// A workspace operation refused (a bad name, one that exists or does not, not empty).
    #[error("{0}")]
    Workspace(String),
    /// Encryption refused a stored text (a wrong key, clear text where encryption is on).
    #[error("{0}")]
    Encryption(String),
}
