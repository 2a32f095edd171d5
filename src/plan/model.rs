//! The plan's data model: actions, changes, drift and the saved-plan format.

use crate::addr::{InstanceAddr, Target};
use crate::config::Sources;
use crate::value::{Map, Value};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Saved plan file format version.
pub const PLAN_FORMAT_VERSION: u32 = 2;

/// What happens to one resource instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    NoOp,
    Create,
    Update,
    /// Destroy then create.
    Replace,
    Delete,
    /// A data source read at apply time.
    Read,
}

impl Action {
    /// The plan symbol (`+`, `~`, `-/+`, `-`, `<=`).
    pub fn symbol(self) -> &'static str {
        match self {
            Action::NoOp => " ",
            Action::Create => "+",
            Action::Update => "~",
            Action::Replace => "-/+",
            Action::Delete => "-",
            Action::Read => "<=",
        }
    }
}

/// The planned change of one resource (or deferred data source).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Change {
    pub address: InstanceAddr,
    pub kind: String,
    pub name: String,
    pub provider: String,
    pub action: Action,
    /// Attributes as they are now (refreshed), shown through the ownership rule.
    pub before: Option<Arc<Map>>,
    /// Attributes after apply; unknown where only the cloud can tell. A no-op's shares
    /// `before`'s allocation when they are equal (a plan of 10,000 unchanged objects holds one
    /// copy of their attributes, not two).
    pub after: Option<Arc<Map>>,
    /// Attributes whose change forces replacement.
    pub replace_paths: Vec<String>,
    /// Why (tainted, deleted outside snapform, no longer configured, ...).
    pub reason: Option<String>,
    /// Metadata keys managed after this change.
    pub managed_keys: Vec<String>,
    /// Data sources and resources this one reads (blocks, or single instances where a
    /// reference names one).
    pub deps: Vec<Target>,
    /// `each.value` under `for_each`.
    #[serde(default)]
    pub each_value: Option<Value>,
    /// A replacement creates the new object before destroying the old one.
    #[serde(default)]
    pub create_before_destroy: bool,
    /// Attributes whose value is sensitive (shown as `(sensitive value)`; recorded in state).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensitive_attributes: Vec<String>,
}

impl Change {
    /// `count.index` (a number) or `each.key` (a string) of this instance.
    pub fn key(&self) -> Option<&crate::addr::InstanceKey> {
        self.address.key.as_ref()
    }
}

/// A difference between state and the cloud made outside snapform.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Drift {
    pub address: InstanceAddr,
    pub message: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PlannedOutput {
    pub value: Value,
    pub sensitive: bool,
}

/// Everything the planner knows from the cloud.
#[derive(Clone, Debug, Default)]
pub struct Refreshed {
    /// Current attributes of each resource in state; `None` = gone from the cloud.
    pub resources: BTreeMap<InstanceAddr, Option<Map>>,
    /// Results of data sources read so far.
    pub data: BTreeMap<InstanceAddr, Map>,
    /// The cloud offers Image API v2 (rename in place, deactivate).
    pub image_api: bool,
    /// New `changes-since` cursors from this refresh (`State::cursors` keys).
    pub cursors: BTreeMap<String, String>,
    /// Objects read for `import` blocks, by target address (not yet in state).
    pub imports: BTreeMap<InstanceAddr, crate::state::ResourceState>,
    /// Deposed objects (`State::deposed`) that still exist in the cloud.
    pub deposed: Vec<crate::state::ResourceState>,
}

#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Plan the destruction of everything in state.
    pub destroy: bool,
    /// A check without the cloud (`validate`): a `count`/`for_each` that is unknown because
    /// data sources were not read is not an error.
    pub validate_only: bool,
    /// `--target`: plan only these addresses and what they depend on.
    pub targets: Vec<Target>,
    /// `--replace`: replace these instances (every instance of a block) even if nothing changed.
    pub replace: Vec<Target>,
    /// `--refresh-only`: change nothing in the cloud; record what it has.
    pub refresh_only: bool,
    /// A round of data-source reading (with `validate_only`): once some data source must be
    /// read first, this plan is only asked which ones, so the resources it would diff after
    /// that are skipped (valued unknown). The final round plans everything.
    pub data_round: bool,
}

/// A complete plan; also the saved plan file (`plan --out`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: u32,
    /// The state this plan was made against; `apply PLANFILE` refuses any other.
    pub state_lineage: String,
    pub state_serial: u64,
    /// The workspace it was made in (`apply PLANFILE` refuses another); empty in plans made
    /// before workspaces, which were all `default`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub workspace: String,
    pub destroy: bool,
    /// `--refresh-only`: nothing changes in the cloud; apply records the drift in state.
    #[serde(default)]
    pub refresh_only: bool,
    pub variables: BTreeMap<String, Value>,
    /// The configuration the plan was made from, so apply evaluates exactly it.
    pub sources: Sources,
    pub changes: Vec<Change>,
    pub drift: Vec<Drift>,
    pub outputs: BTreeMap<String, PlannedOutput>,
    pub outputs_changed: bool,
    /// Output values recorded in state before this plan (for `+`/`~`/`-` rendering).
    #[serde(default)]
    pub outputs_before: BTreeMap<String, Value>,
    /// Data sources whose arguments are known but which have not been read (refresh reads them).
    #[serde(skip)]
    pub data_requests: BTreeMap<InstanceAddr, Map>,
    /// With `validate_only`: the errors the plan would have if it were final (a `count` or
    /// `for_each` unknown, a destroy that `prevent_destroy` forbids). The caller decides: still
    /// data sources to read, they may go away; none, they are the plan's errors.
    #[serde(skip)]
    pub deferred: Vec<crate::config::Diagnostic>,
    /// Data source results used by this plan.
    pub data: BTreeMap<InstanceAddr, Map>,
    /// `moved` blocks applied: (from, to); apply renames these state entries first.
    #[serde(default)]
    pub moves: Vec<(InstanceAddr, InstanceAddr)>,
    /// Objects adopted by `import` blocks; apply records them in state first.
    #[serde(default)]
    pub imports: BTreeMap<InstanceAddr, crate::state::ResourceState>,
    /// Execution graph: address → addresses that must finish first.
    pub edges: crate::graph::Edges,
    /// The refresh's `changes-since` cursors; apply stores them (`refresh::store_cursors`).
    #[serde(default)]
    pub cursors: BTreeMap<String, String>,
    /// Deposed objects to destroy (left by a replacement that did not finish). Apply forgets
    /// deposed objects of state that are not here: refresh found them gone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deposed: Vec<crate::state::ResourceState>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
}
