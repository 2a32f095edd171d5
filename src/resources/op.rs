//! What a resource's create / update / delete runs with: one planned change, its arguments as
//! evaluated at apply time, the client, and the apply coordinator's services — a parallelism
//! slot per API call, the state journal (an intent is durable before the mutating call that it
//! announces) and the shared snapshot poller.

use crate::addr::{InstanceAddr, Target};
use crate::provider::{Client, Image, ProviderError};
use crate::state::{Intent, ResourceState};
use crate::value::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// A boxed future, so that the traits can be used as `dyn`.
pub type BoxFut<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// Persists what a running change learns, in the coordinator that owns state.
pub trait Journal: Send + Sync {
    /// Records an intent; returns once it is durable.
    fn intent(&self, intent: Intent) -> BoxFut<'_, Result<(), String>>;
    /// Records a resource (a snapshot still saving, a tainted one) and clears an intent.
    fn record(&self, rs: ResourceState, clear: Option<String>) -> BoxFut<'_, Result<(), String>>;
    /// Clears an intent whose call is known to have had no effect.
    fn clear(&self, intent_id: String) -> BoxFut<'_, ()>;
    /// The object `id` at `address` was deleted; returns once state no longer holds it.
    fn forget(&self, address: InstanceAddr, id: String) -> BoxFut<'_, ()>;
}

/// Waits for a snapshot to settle (the shared poller reports progress meanwhile).
pub trait Waiter: Send + Sync {
    fn wait<'a>(
        &'a self,
        client: &'a Client,
        address: &'a InstanceAddr,
        id: &'a str,
    ) -> BoxFut<'a, Result<Image, String>>;
}

/// What the changes of one apply share beyond state: a lane per key (one snapshot per
/// server at a time — the cloud refuses or races a second one) and the object ids already
/// taken (in state or made by this apply), so a search for what a call made adopts each
/// object once.
#[derive(Default)]
pub struct Shared {
    lanes: std::sync::Mutex<BTreeMap<String, Arc<tokio::sync::Mutex<()>>>>,
    taken: std::sync::Mutex<std::collections::BTreeSet<String>>,
    /// Becomes `true` when the user interrupts the apply: start nothing new, stop waiting.
    stop: Option<tokio::sync::watch::Receiver<bool>>,
    /// When a wait for a snapshot first checks that the cloud is still making it.
    abandon_check: std::time::Duration,
}

impl Shared {
    pub fn new(known_ids: impl IntoIterator<Item = String>) -> Shared {
        Shared {
            lanes: Default::default(),
            taken: std::sync::Mutex::new(known_ids.into_iter().collect()),
            stop: None,
            abandon_check: std::time::Duration::from_secs(60),
        }
    }

    /// When a wait for a snapshot first checks that the cloud is still making it.
    pub fn with_abandon_check(mut self, d: std::time::Duration) -> Shared {
        self.abandon_check = d.max(std::time::Duration::from_millis(100));
        self
    }

    pub fn abandon_check(&self) -> std::time::Duration {
        self.abandon_check
    }

    /// Shares the apply's interrupt signal with every change.
    pub fn with_stop(mut self, stop: Option<tokio::sync::watch::Receiver<bool>>) -> Shared {
        self.stop = stop;
        self
    }

    /// The apply was interrupted: nothing new may start.
    pub fn is_stopped(&self) -> bool {
        self.stop.as_ref().is_some_and(|s| *s.borrow())
    }

    /// Resolves when the apply is interrupted (never, when it cannot be).
    pub async fn stopped(&self) {
        match &self.stop {
            Some(s) => {
                let mut s = s.clone();
                if s.wait_for(|v| *v).await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
            None => std::future::pending::<()>().await,
        }
    }

    /// Waits for the lane `key` and holds it until the guard is dropped.
    pub async fn lane(&self, key: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let m = {
            let mut lanes = self.lanes.lock().unwrap_or_else(|e| e.into_inner());
            lanes.entry(key.to_string()).or_default().clone()
        };
        m.lock_owned().await
    }

    /// Marks `id` taken; `false` when it already was.
    pub fn take(&self, id: &str) -> bool {
        self.taken
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.to_string())
    }

    pub fn is_taken(&self, id: &str) -> bool {
        self.taken
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(id)
    }
}

/// One change being carried out.
pub struct Op {
    pub address: InstanceAddr,
    pub kind: String,
    pub name: String,
    pub provider: String,
    /// Arguments evaluated at apply time (marks removed: these go to the cloud).
    pub args: Map,
    /// The cloud's attributes when the change was planned, through the ownership view.
    pub before: Option<Map>,
    /// What state holds for the address.
    pub prior: Option<ResourceState>,
    /// Metadata keys managed once the change is applied.
    pub managed_keys: Vec<String>,
    pub deps: Vec<Target>,
    pub sensitive_attributes: Vec<String>,
    pub client: Client,
    pub sem: Arc<Semaphore>,
    pub journal: Arc<dyn Journal>,
    pub waiter: Arc<dyn Waiter>,
    pub shared: Arc<Shared>,
}

impl Op {
    /// Runs one API call while holding a parallelism slot.
    pub async fn call<T, F: std::future::Future<Output = Result<T, ProviderError>>>(
        &self,
        f: F,
    ) -> Result<T, String> {
        let _permit = self.sem.acquire().await.map_err(|e| e.to_string())?;
        f.await.map_err(|e| e.to_string())
    }

    /// The state entry for the object `id` with these attributes.
    pub fn state(&self, id: &str, attributes: Map) -> ResourceState {
        ResourceState {
            address: self.address.clone(),
            kind: self.kind.clone(),
            name: self.name.clone(),
            provider: self.provider.clone(),
            id: id.to_string(),
            attributes: known(&attributes),
            managed_keys: self.managed_keys.clone(),
            tainted: false,
            dependencies: self.deps.clone(),
            sensitive_attributes: self.sensitive_attributes.clone(),
        }
    }

    /// The id of the object in state (updates and deletes have one).
    pub fn prior_id(&self) -> Result<String, String> {
        self.prior
            .as_ref()
            .map(|p| p.id.clone())
            .ok_or_else(|| format!("{} has no state to change", self.address))
    }

    pub fn str_arg(&self, k: &str) -> &str {
        self.args.get(k).and_then(Value::as_str).unwrap_or("")
    }

    pub fn map_arg(&self, k: &str) -> BTreeMap<String, String> {
        string_map(&self.args, k)
    }
}

/// The string map at `k` (empty when absent).
pub fn string_map(m: &Map, k: &str) -> BTreeMap<String, String> {
    m.get(k).and_then(Value::to_string_map).unwrap_or_default()
}

/// Attributes as stored in state: everything known.
pub fn known(m: &Map) -> Map {
    m.iter()
        .filter(|(_, v)| !v.contains_unknown())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}
